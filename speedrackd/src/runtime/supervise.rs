//! Watching one run's process from start to end, off the loop: a task per run awaits the
//! exit (or a kill request), judges the outcome by the task's failure rules, and reports the
//! end to the loop. The loop never waits on a child itself.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::config::{Settings, TaskDef, TaskName};
use crate::exec::{self, Launch, Outcome, Started};
use crate::run::{Kill, RunEnd, RunId, RunStatus, as_stored};
use crate::verdict::{Evidence, FailureRules, judge};

/// A run whose process ended, with its end ready to record.
#[derive(Debug)]
pub struct Finished {
    pub run: RunId,
    pub task: TaskName,
    pub end: RunEnd,
}

/// Hands a started process to its own supervisor task; returns the sender that asks it to
/// terminate the run (with why, and who asks).
pub fn supervise(
    run: RunId,
    task: TaskName,
    started: Started,
    launch: Launch,
    rules: FailureRules,
    clock: Arc<dyn Clock>,
    finished: mpsc::UnboundedSender<Finished>,
) -> mpsc::UnboundedSender<Kill> {
    let (kill, kills) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let outcome = exec::supervise(started, &launch, kills).await;
        let end = end_of(&outcome, &launch, &rules, as_stored(clock.now()));
        // The loop is gone only during shutdown, when nobody is left to record this.
        let _ = finished.send(Finished { run, task, end });
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
