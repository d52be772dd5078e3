//! Watching one run's process from start to end, beside the loop: a task per run, on the
//! loop's thread (`thread.rs`), awaits the exit (or a kill request), judges the outcome by the
//! task's failure rules, and reports the end to the loop, and before it, when the run lasts,
//! where its processes are for a crash recovery. The loop never waits on a child itself.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use crate::clock::Clock;
use crate::config::{Settings, TaskDef, TaskName};
use crate::exec::{self, Lasting, Launch, Outcome, Started};
use crate::history::ProcessGroup;
use crate::run::{Kill, RunEnd, RunId, RunStatus, as_stored};
use crate::verdict::{Evidence, FailureRules, judge};

/// How long a run's command must have run before its process group is recorded for a crash
/// recovery (see `exec::Lasting`). Shorter than anything a person would notice running.
pub const RECORD_GROUP_AFTER: Duration = Duration::from_secs(1);

/// What a supervisor tells the loop, in the order it happens.
#[derive(Debug)]
pub enum Report {
    /// The run still runs after [`RECORD_GROUP_AFTER`]: where its processes are.
    Lasting(ProcessGroup),
    Ended(Finished),
}

/// A run whose process ended, with its end ready to record.
#[derive(Debug)]
pub struct Finished {
    pub run: RunId,
    pub task: TaskName,
    pub end: RunEnd,
}

/// Hands a started process to its own supervisor task; returns the sender that asks it to
/// terminate the run (with why, and who asks): once, as only the first ask counts.
pub fn supervise(
    run: RunId,
    task: TaskName,
    started: Started,
    launch: Launch,
    rules: FailureRules,
    clock: Arc<dyn Clock>,
    reports: mpsc::UnboundedSender<Report>,
) -> oneshot::Sender<Kill> {
    let (kill, kills) = oneshot::channel();
    tokio::spawn(async move {
        let pgid = started.process_group;
        let lasting = Lasting {
            after: RECORD_GROUP_AFTER,
            tell: |start_ticks| {
                let group = ProcessGroup {
                    run,
                    pgid,
                    start_ticks,
                };
                let _ = reports.send(Report::Lasting(group));
            },
        };
        let outcome = exec::supervise(started, &launch, kills, lasting).await;
        let end = end_of(&outcome, &launch, &rules, as_stored(clock.now()));
        // The loop is gone only during shutdown, when nobody is left to record this.
        let _ = reports.send(Report::Ended(Finished { run, task, end }));
    });
    kill
}

pub fn failure_rules(def: &TaskDef, settings: &Settings) -> FailureRules {
    FailureRules {
        by_retcode: def.fail_by_retcode.unwrap_or(settings.fail_by_retcode),
        by_stderr: def.fail_by_stderr.unwrap_or(settings.fail_by_stderr),
        ok_exit_codes: def.ok_exit_codes.clone(),
        fail_on_exit_codes: def.fail_on_exit_codes.clone(),
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
        kill_cause: outcome.kill_cause,
        replaced_by: None,
        usage: outcome.usage,
        output_dropped_bytes: outcome.stdout.dropped + outcome.stderr.dropped,
        finished_at: now,
        status,
    }
}
