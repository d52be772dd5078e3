//! Starting one run: the history row first, then the process, then a supervisor task that
//! waits for it, judges it and reports its end. The loop never waits on a child itself.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::config::{Settings, TaskDef, TaskName};
use crate::exec::environment::{RunFacts, run_environment};
use crate::exec::{self, Invocation, Launch, Outcome};
use crate::history::output::{Stream, stream_path};
use crate::history::{History, HistoryError, NewRun};
use crate::run::{RunEnd, RunId, RunRecord, RunStatus, Trigger, Usage};
use crate::verdict::{Evidence, FailureRules, judge};

/// A run whose process ended (or never started), with its end ready to record.
#[derive(Debug)]
pub struct Finished {
    pub run: RunId,
    pub task: TaskName,
    pub end: RunEnd,
}

/// A run in flight, and the way to end it early.
#[derive(Debug, Clone)]
pub struct InFlight {
    pub task: TaskName,
    pub started_at: DateTime<Utc>,
    /// Send who asks, and the run is terminated like a timeout.
    pub kill: mpsc::UnboundedSender<String>,
}

/// What to start.
pub struct Request<'a> {
    pub def: &'a TaskDef,
    pub settings: &'a Settings,
    pub trigger: Trigger,
    pub due: DateTime<Utc>,
}

/// Records and starts a run. `Ok((record, None))` means the row exists but the process could not
/// start; the record then already carries the execution error.
pub fn launch(
    request: Request<'_>,
    history: &History,
    clock: &Arc<dyn Clock>,
    finished: &mpsc::UnboundedSender<Finished>,
) -> Result<(RunRecord, Option<InFlight>), HistoryError> {
    let Request {
        def,
        settings,
        trigger,
        due,
    } = request;
    let started_at = clock.now();
    let new_run = NewRun {
        task: &def.name,
        trigger: &trigger,
        scheduled_at: due,
        started_at,
        definition: &def.definition,
    };
    let run = history.insert_run(&new_run)?;
    let mut record = RunRecord::started(
        run,
        def.name.clone(),
        trigger,
        due,
        started_at,
        def.definition.clone(),
    );
    let launch = launch_of(def, settings, &record, history);
    let started = match exec::start(&launch) {
        Ok(started) => started,
        Err(message) => {
            let end = RunEnd {
                op_error: message,
                ..blank_end(clock.now(), RunStatus::ExecutionError)
            };
            history.finish_run(run, &end)?;
            apply_end(&mut record, end);
            return Ok((record, None));
        }
    };
    history.set_process_group(run, started.process_group, started.start_ticks)?;
    let (kill, kills) = mpsc::unbounded_channel();
    let in_flight = InFlight {
        task: def.name.clone(),
        started_at,
        kill,
    };
    let rules = failure_rules(def, settings);
    let (clock, finished, task) = (Arc::clone(clock), finished.clone(), def.name.clone());
    tokio::spawn(async move {
        let outcome = exec::supervise(started, &launch, kills).await;
        let end = end_of(&outcome, &launch, &rules, clock.now());
        // The loop is gone only during shutdown, when nobody is left to record this.
        let _ = finished.send(Finished { run, task, end });
    });
    Ok((record, Some(in_flight)))
}

fn launch_of(def: &TaskDef, settings: &Settings, record: &RunRecord, history: &History) -> Launch {
    let trigger = match record.trigger {
        Trigger::Schedule => "schedule",
        Trigger::Manual { .. } => "manual",
    };
    let data_dir = history.data_dir().display().to_string();
    let facts = RunFacts {
        task: def.name.as_str(),
        run_id: record.id.0,
        trigger,
        scheduled_at: record
            .scheduled_at
            .to_rfc3339_opts(SecondsFormat::Secs, true),
        data_dir: &data_dir,
    };
    let shell = settings.shell.display().to_string();
    let env = run_environment(|name| std::env::var(name).ok(), &shell, &facts, &def.env);
    Launch {
        invocation: Invocation {
            shell: settings.shell.clone(),
            command: def.command.clone(),
            sudo: def.sudo.clone(),
            working_dir: def.working_dir.clone(),
            env,
        },
        stdout: stream_path(history.data_dir(), &def.name, record.id, Stream::Stdout),
        stderr: stream_path(history.data_dir(), &def.name, record.id, Stream::Stderr),
        timeout: def.timeout,
        kill_grace: settings.kill_grace,
        output_max_bytes: def.output_max_bytes.unwrap_or(settings.output_max_bytes),
        pattern: def
            .fail_if_output_matches
            .as_ref()
            .map(|pattern| pattern.0.clone()),
    }
}

fn failure_rules(def: &TaskDef, settings: &Settings) -> FailureRules {
    FailureRules {
        by_retcode: def.fail_by_retcode.unwrap_or(settings.fail_by_retcode),
        by_stderr: def.fail_by_stderr.unwrap_or(settings.fail_by_stderr),
        ok_exit_codes: def.ok_exit_codes.clone(),
        fail_on_exit_codes: def.fail_on_exit_codes.clone(),
    }
}

fn blank_end(finished_at: DateTime<Utc>, status: RunStatus) -> RunEnd {
    RunEnd {
        finished_at,
        exit: None,
        status,
        stdout_bytes: 0,
        stderr_bytes: 0,
        op_error: String::new(),
        reason: String::new(),
        killed_by: String::new(),
        usage: Usage::default(),
        output_dropped_bytes: 0,
    }
}

fn end_of(outcome: &Outcome, launch: &Launch, rules: &FailureRules, now: DateTime<Utc>) -> RunEnd {
    let mut notes = outcome.notes.clone();
    let (status, reason) = match (outcome.exit, exec::sudo_refusal(launch, outcome.exit)) {
        (None, _) => (RunStatus::ExecutionError, String::new()),
        (Some(_), Some(refusal)) => {
            notes.push(refusal);
            (RunStatus::ExecutionError, String::new())
        }
        (Some(exit), None) => {
            let matched = outcome
                .stdout
                .matched
                .as_deref()
                .or(outcome.stderr.matched.as_deref());
            let evidence = Evidence {
                exit,
                stderr_bytes: outcome.stderr.written,
                killed_by: outcome.killed_by.as_deref(),
                matched_line: matched,
            };
            judge(rules, &evidence)
        }
    };
    RunEnd {
        exit: outcome.exit,
        stdout_bytes: outcome.stdout.written,
        stderr_bytes: outcome.stderr.written,
        op_error: notes.join("\n"),
        reason,
        killed_by: outcome.killed_by.clone().unwrap_or_default(),
        usage: outcome.usage,
        output_dropped_bytes: outcome.stdout.dropped + outcome.stderr.dropped,
        ..blank_end(now, status)
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
    record.killed_by = end.killed_by;
    record.usage = end.usage;
    record.output_dropped_bytes = end.output_dropped_bytes;
}
