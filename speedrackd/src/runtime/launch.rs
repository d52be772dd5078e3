//! What a run's process is given: the command, its shell, environment, output files, limits
//! and output pattern, all from the task's definition and the settings. Pure: no process is
//! started here.

use std::path::Path;

use crate::config::{Settings, TaskDef};
use crate::exec::environment::{RunFacts, daemon_var, run_environment};
use crate::exec::{Invocation, Launch, LiveOutput};
use crate::history::output::{Stream, stream_path};
use crate::run::{RunRecord, Trigger};

/// The process to start for a run that was just recorded.
pub fn launch_of(
    def: &TaskDef,
    settings: &Settings,
    record: &RunRecord,
    data_dir: &Path,
    live: &LiveOutput,
) -> Launch {
    let trigger = match record.trigger {
        Trigger::Schedule => "schedule",
        Trigger::Manual { .. } => "manual",
        Trigger::Imported => "imported",
    };
    let data_dir_text = data_dir.to_string_lossy();
    let facts = RunFacts {
        task: def.name.as_str(),
        run_id: record.id.0,
        trigger,
        scheduled_at: record.scheduled_at,
        data_dir: &data_dir_text,
    };
    let shell = settings.shell.to_string_lossy();
    let env = run_environment(daemon_var, &shell, &facts, &def.env);
    Launch {
        invocation: Invocation {
            shell: settings.shell.clone(),
            command: def.command.clone(),
            sudo: def.sudo.clone(),
            working_dir: def.working_dir.clone(),
            env,
        },
        stdout: stream_path(data_dir, &def.name, record.id, Stream::Stdout),
        stderr: stream_path(data_dir, &def.name, record.id, Stream::Stderr),
        timeout: def.timeout,
        kill_grace: settings.kill_grace,
        output_max_bytes: def.output_max_bytes.unwrap_or(settings.output_max_bytes),
        pattern: def
            .fail_if_output_matches
            .as_ref()
            .map(|pattern| pattern.0.clone()),
        live: Some(live.clone()),
    }
}
