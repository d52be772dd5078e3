//! Starting runs: the history row first (`prepare`), then the process (`exec::spawn`, for a
//! batch from several threads), then a supervisor task that waits for it, judges it and reports
//! its end (`complete`). The loop never waits on a child itself.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::config::{Settings, TaskDef, TaskName};
use crate::exec::environment::{RunFacts, run_environment};
use crate::exec::{self, Invocation, Launch, Outcome};
use crate::history::output::{Stream, stream_path};
use crate::history::{History, HistoryError, NewRun, ProcessGroup};
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
    /// For history, so a restarted daemon can find what a crash left behind.
    pub group: ProcessGroup,
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

/// A run recorded in history whose process is not started yet.
pub struct Prepared {
    record: RunRecord,
    launch: Launch,
    rules: FailureRules,
}

impl Prepared {
    pub fn launch(&self) -> &Launch {
        &self.launch
    }
}

/// Records a run as started, before its process exists.
pub fn prepare(
    request: Request<'_>,
    history: &History,
    clock: &Arc<dyn Clock>,
) -> Result<Prepared, HistoryError> {
    let started_at = clock.now();
    let run = history.insert_run(&new_run(&request, started_at))?;
    Ok(prepared(&request, run, started_at, history))
}

/// Records fires due together, those of them queued, and the runs they start, in one
/// transaction.
pub fn prepare_all(
    last_fires: &[(TaskName, DateTime<Utc>)],
    owed: &[(TaskName, DateTime<Utc>)],
    requests: &[Request<'_>],
    history: &History,
    clock: &Arc<dyn Clock>,
) -> Result<Vec<Prepared>, HistoryError> {
    let started_at = clock.now();
    let new_runs: Vec<NewRun<'_>> = requests
        .iter()
        .map(|request| new_run(request, started_at))
        .collect();
    let runs = history.record_fires(last_fires, owed, &new_runs)?;
    Ok(requests
        .iter()
        .zip(runs)
        .map(|(request, run)| prepared(request, run, started_at, history))
        .collect())
}

fn new_run<'a>(request: &'a Request<'_>, started_at: DateTime<Utc>) -> NewRun<'a> {
    NewRun {
        task: &request.def.name,
        trigger: &request.trigger,
        scheduled_at: request.due,
        started_at,
        definition: &request.def.definition,
    }
}

fn prepared(
    request: &Request<'_>,
    run: RunId,
    started_at: DateTime<Utc>,
    history: &History,
) -> Prepared {
    let Request {
        def,
        settings,
        trigger,
        due,
    } = request;
    let record = RunRecord::started(
        run,
        def.name.clone(),
        trigger.clone(),
        *due,
        started_at,
        def.definition.clone(),
    );
    Prepared {
        launch: launch_of(def, settings, &record, history),
        rules: failure_rules(def, settings),
        record,
    }
}

/// Hands a prepared run's process (see `exec::spawn`) to a supervisor task that waits for it,
/// judges it and reports its end. `(record, Err(end))` means the process could not start: the
/// record already carries the execution error, and the caller records `end`. The caller stores
/// the run's process group.
pub fn complete(
    prepared: Prepared,
    process: Result<exec::Process, String>,
    clock: &Arc<dyn Clock>,
    finished: &mpsc::UnboundedSender<Finished>,
) -> (RunRecord, Result<InFlight, RunEnd>) {
    let Prepared {
        mut record,
        launch,
        rules,
    } = prepared;
    let run = record.id;
    let started = match process.and_then(exec::watch) {
        Ok(started) => started,
        Err(message) => {
            let end = RunEnd {
                op_error: message,
                ..blank_end(clock.now(), RunStatus::ExecutionError)
            };
            apply_end(&mut record, end.clone());
            return (record, Err(end));
        }
    };
    let (kill, kills) = mpsc::unbounded_channel();
    let in_flight = InFlight {
        task: record.task.clone(),
        started_at: record.started_at,
        group: ProcessGroup {
            run,
            pgid: started.process_group,
            start_ticks: started.start_ticks,
        },
        kill,
    };
    let (clock, finished, task) = (Arc::clone(clock), finished.clone(), record.task.clone());
    tokio::spawn(async move {
        let outcome = exec::supervise(started, &launch, kills).await;
        let end = end_of(&outcome, &launch, &rules, clock.now());
        // The loop is gone only during shutdown, when nobody is left to record this.
        let _ = finished.send(Finished { run, task, end });
    });
    (record, Ok(in_flight))
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
        live: Some(exec::LiveOutput::shared()),
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
        stdout_bytes: outcome.stdout.kept(),
        stderr_bytes: outcome.stderr.kept(),
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
