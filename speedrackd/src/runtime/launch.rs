//! Starting one run: the history row first, then the process, then a watcher task that waits
//! for it and reports how it ended. The loop never waits on a child itself.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::config::{Settings, TaskDef, TaskName};
use crate::exec::{self, Launch};
use crate::history::output::{Stream, stream_path};
use crate::history::{History, HistoryError};
use crate::run::{RunEnd, RunId, RunRecord, RunStatus, Trigger};
use crate::verdict::{FailureRules, judge};

/// A run whose process ended (or never started), with its end ready to record.
#[derive(Debug)]
pub struct Finished {
    pub run: RunId,
    pub task: TaskName,
    pub end: RunEnd,
}

/// A run in flight.
#[derive(Debug, Clone)]
pub struct InFlight {
    pub task: TaskName,
    pub process_group: i32,
}

/// Records and starts a run. `Ok((record, None))` means the row exists but the process could not
/// start; the record then already carries the execution error.
pub fn launch(
    def: &TaskDef,
    settings: &Settings,
    trigger: Trigger,
    due: DateTime<Utc>,
    history: &History,
    clock: &Arc<dyn Clock>,
    finished: &mpsc::UnboundedSender<Finished>,
) -> Result<(RunRecord, Option<InFlight>), HistoryError> {
    let started_at = clock.now();
    let run = history.insert_run(&def.name, &trigger, due, started_at)?;
    let launch = Launch {
        command: def.command.clone(),
        stdout: stream_path(history.data_dir(), &def.name, run, Stream::Stdout),
        stderr: stream_path(history.data_dir(), &def.name, run, Stream::Stderr),
    };
    let mut record = RunRecord {
        id: run,
        task: def.name.clone(),
        trigger,
        scheduled_at: due,
        started_at,
        finished_at: None,
        exit: None,
        status: RunStatus::Running,
        stdout_bytes: 0,
        stderr_bytes: 0,
        op_error: String::new(),
        reason: String::new(),
    };
    let mut started = match exec::start(&launch) {
        Ok(started) => started,
        Err(error) => {
            let end = RunEnd {
                finished_at: clock.now(),
                exit: None,
                status: RunStatus::ExecutionError,
                stdout_bytes: 0,
                stderr_bytes: 0,
                op_error: error.to_string(),
                reason: String::new(),
            };
            history.finish_run(run, &end)?;
            apply_end(&mut record, end);
            return Ok((record, None));
        }
    };
    history.set_process_group(run, started.process_group)?;
    let rules = FailureRules {
        by_retcode: def.fail_by_retcode.unwrap_or(settings.fail_by_retcode),
        by_stderr: def.fail_by_stderr.unwrap_or(settings.fail_by_stderr),
    };
    let (clock, finished, task) = (Arc::clone(clock), finished.clone(), def.name.clone());
    tokio::spawn(async move {
        let exit = exec::wait(&mut started.child).await;
        let end = end_of(exit, &launch, rules, clock.now());
        // The loop is gone only during shutdown, when nobody is left to record this.
        let _ = finished.send(Finished { run, task, end });
    });
    let in_flight = InFlight {
        task: def.name.clone(),
        process_group: started.process_group,
    };
    Ok((record, Some(in_flight)))
}

fn end_of(
    exit: std::io::Result<crate::run::Exit>,
    launch: &Launch,
    rules: FailureRules,
    now: DateTime<Utc>,
) -> RunEnd {
    let stdout_bytes = exec::output_size(&launch.stdout);
    let stderr_bytes = exec::output_size(&launch.stderr);
    let (exit, status, reason, op_error) = match exit {
        Ok(exit) => {
            let (status, reason) = judge(rules, exit, stderr_bytes);
            (Some(exit), status, reason, String::new())
        }
        Err(error) => (
            None,
            RunStatus::ExecutionError,
            String::new(),
            format!("lost track of the process: {error}"),
        ),
    };
    RunEnd {
        finished_at: now,
        exit,
        status,
        stdout_bytes,
        stderr_bytes,
        op_error,
        reason,
    }
}

/// Folds a recorded end into a run record.
pub fn apply_end(record: &mut RunRecord, end: RunEnd) {
    record.finished_at = Some(end.finished_at);
    record.exit = end.exit;
    record.status = end.status;
    record.stdout_bytes = end.stdout_bytes;
    record.stderr_bytes = end.stderr_bytes;
    record.op_error = end.op_error;
    record.reason = end.reason;
}
