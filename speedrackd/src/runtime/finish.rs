//! Runs ending: what the loop does when a supervisor reports an end (one write, then telling
//! the notifier, the watchers and retention from what the loop already holds), ending runs
//! early, and the shutdown drain.

use std::sync::Arc;
use std::time::Duration;

use super::Runtime;
use super::supervise::{Finished, Report};
use super::task_state::TaskState;
use crate::config::TaskName;
use crate::events::Event;
use crate::history::ProcessGroup;
use crate::run::{Kill, KillCause, RunEnd, RunId, RunRecord, RunStatus};

/// Reports taken in one go at most (ends recorded in one write). A due fire waits behind the write, so it stays short:
/// 64 ends take well under a millisecond.
const FINISH_BATCH: usize = 64;

/// How long killed runs get to be reaped at shutdown beyond the kill grace.
const REAP_WAIT: Duration = Duration::from_secs(5);

impl Runtime {
    /// Records what supervisors reported, `first` and every other report that has arrived by
    /// now (up to `FINISH_BATCH` ends): the process groups of lasting runs in one write, the
    /// ends in another, then lets what waited for each end go on. No read of history: each
    /// run's record and its task's failure streak are in the task's state.
    pub(super) fn record_finished(&mut self, first: Report) {
        // Sized once: grown report by report, the list was reallocated up to six times.
        let mut ended = Vec::with_capacity((self.finished_rx.len() + 1).min(FINISH_BATCH));
        let mut groups = Vec::new();
        let mut next = Some(first);
        while let Some(report) = next.take() {
            match report {
                Report::Lasting(group) => groups.push(group),
                Report::Ended(finished) => self.take_ended(finished, &mut ended),
            }
            if ended.len() + groups.len() < FINISH_BATCH {
                next = self.finished_rx.try_recv().ok();
            }
        }
        self.store_groups(&groups);
        let recorded = self.record_ends(&ended);
        let tasks: Vec<TaskName> = ended
            .iter()
            .map(|(record, _)| record.task.clone())
            .collect();
        for (record, end) in ended {
            self.after_end(record, end, recorded);
        }
        for task in tasks {
            self.start_queued(&task);
            self.forget_if_removed(&task);
        }
    }

    /// Takes an ended run out of its task's state, into `ended`.
    fn take_ended(&mut self, finished: Finished, ended: &mut Vec<(RunRecord, RunEnd)>) {
        let Finished { run, task, end } = finished;
        match self
            .states
            .get_mut(&task)
            .and_then(|state| state.end_run(run))
        {
            Some(in_flight) => ended.push((in_flight.record, end)),
            None => {
                tracing::error!(task = %task, run = %run, "a run ended that the loop was not tracking");
            }
        }
    }

    /// Records where lasting runs' processes are, for a crash recovery. A recovery can still
    /// find them by their environment, so a failure here is logged, not fatal to the runs.
    fn store_groups(&self, groups: &[ProcessGroup]) {
        if groups.is_empty() {
            return;
        }
        if let Err(error) = self.history.set_process_groups(groups) {
            tracing::error!(
                runs = groups.len(),
                "cannot record the process groups of runs: {error}"
            );
        }
    }

    /// Drops the state of a task a reload removed once its last run has ended.
    fn forget_if_removed(&mut self, task: &TaskName) {
        let idle = self
            .states
            .get(task)
            .is_some_and(|state| state.running.is_empty() && state.queued.is_empty());
        if idle && self.def(task).is_none() {
            self.states.remove(task);
        }
    }

    /// Everything a run's end sets off. `RunFinished` says history holds the end: an end the
    /// database refused is announced when its retried write lands (`records.rs`).
    pub(super) fn after_end(&mut self, mut record: RunRecord, end: RunEnd, recorded: bool) {
        let task = record.task.clone();
        let duration = end.finished_at - record.started_at;
        self.metrics.run_finished(&task, end.status, duration);
        log_finished(&task, record.id, &end, duration.num_milliseconds());
        let status = end.status;
        record.end = Some(end);
        // Removed tasks (a reload while they ran) notify no one.
        // The set is shared so that notifying may borrow the notifier mutably.
        let tasks = Arc::clone(&self.tasks);
        let state = self.state_mut(&task);
        let failures_before = state.failure_streak;
        state.count_end(status);
        if let Some(def) = super::valid_def(&tasks, &self.task_index, &task) {
            self.notifier
                .run_finished(&self.settings, def, &record, failures_before);
        }
        if recorded {
            self.emit(Event::RunFinished(record));
        }
        self.request_prune(&task);
        self.task_changed(&task);
    }

    /// Ends every run of a task early; returns the ids of the runs asked to stop.
    pub(super) fn kill_runs(&mut self, task: &TaskName, kill: &Kill) -> Vec<RunId> {
        let running = self
            .states
            .get(task)
            .map(TaskState::running_ids)
            .unwrap_or_default();
        for run in &running {
            self.kill_run(task, *run, kill);
        }
        running
    }

    /// Ends one running run of a task early; whether it was running.
    pub(super) fn kill_run(&mut self, task: &TaskName, run: RunId, kill: &Kill) -> bool {
        let Some(in_flight) = self
            .states
            .get_mut(task)
            .and_then(|state| state.running.get_mut(&run))
        else {
            return false;
        };
        let (by, cause) = (kill.by.as_str(), kill.cause.as_str());
        match in_flight.kill.take() {
            // A send fails only when the supervisor already finished; nothing to kill then.
            Some(sender) => {
                tracing::info!(task = %task, run = %run, by, cause, "terminating a run");
                let _ = sender.send(kill.clone());
            }
            None => {
                tracing::info!(task = %task, run = %run, by, cause, "asked to terminate a run already being terminated");
            }
        }
        true
    }

    /// After another node took this node's lease over, ends the runs it closed as interrupted:
    /// they are no longer this node's, and their ends will not be recorded over the closing.
    /// Runs started since are not in history as closed and go on. A run whose state cannot be
    /// read is ended too: a needless kill is recorded as one, a run left going is not.
    pub(super) fn end_disowned_runs(&mut self) {
        let running: Vec<(TaskName, RunId)> = self
            .states
            .iter()
            .flat_map(|(task, state)| {
                state
                    .running_ids()
                    .into_iter()
                    .map(|run| (task.clone(), run))
            })
            .collect();
        let disowned = Kill {
            cause: KillCause::Shutdown,
            by: "speedrackd, whose lease another node took over".to_owned(),
        };
        for (task, run) in running {
            match self.history.get_run(run) {
                Ok(Some(record)) if record.end.is_some() => {
                    self.kill_run(&task, run, &disowned);
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(
                        task = %task,
                        run = %run,
                        "cannot read whether another node closed this run; ending it: {error}"
                    );
                    self.kill_run(&task, run, &disowned);
                }
            }
        }
    }

    fn running_total(&self) -> usize {
        self.states.values().map(|state| state.running.len()).sum()
    }

    /// Lets running tasks finish for the shutdown grace, then ends what is left as a kill would,
    /// recorded as killed by shutdown.
    pub(super) async fn drain(&mut self) {
        self.clear_queues();
        let grace = self.settings.shutdown_grace;
        let running = self.running_total();
        if running > 0 {
            tracing::info!(running, ?grace, "waiting for running tasks before exiting");
        }
        self.wait_for_runs(grace).await;
        let tasks: Vec<TaskName> = self
            .states
            .iter()
            .filter(|(_, state)| !state.running.is_empty())
            .map(|(task, _)| task.clone())
            .collect();
        for task in tasks {
            let shutdown = Kill {
                cause: KillCause::Shutdown,
                by: "shutdown".to_owned(),
            };
            self.kill_runs(&task, &shutdown);
        }
        // Terminated runs end within the kill grace; whatever does not is closed as interrupted
        // at the next start.
        self.wait_for_runs(self.settings.kill_grace.saturating_add(REAP_WAIT))
            .await;
        self.flush_writes_at_exit();
    }

    fn clear_queues(&mut self) {
        for state in self.states.values_mut() {
            state.queued.clear();
        }
    }

    async fn wait_for_runs(&mut self, limit: Duration) {
        let deadline = tokio::time::Instant::now().checked_add(limit);
        while self.running_total() > 0 {
            let finished = self.finished_rx.recv();
            let finished = match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, finished).await,
                None => Ok(finished.await),
            };
            match finished {
                Ok(Some(finished)) => {
                    // Nothing new starts while shutting down.
                    self.clear_queues();
                    self.record_finished(finished);
                }
                Ok(None) | Err(_) => return,
            }
        }
    }
}

/// Failures at WARN and execution errors at ERROR, so `journalctl -p warning` lists them.
fn log_finished(task: &TaskName, run: RunId, end: &crate::run::RunEnd, duration_ms: i64) {
    let status = end.status.as_str();
    let why = end.op_error.as_str();
    match end.status {
        RunStatus::Failure => {
            let reason = end.reason.as_str();
            tracing::warn!(task = %task, run = %run, status, duration_ms, reason, "run failed");
        }
        RunStatus::ExecutionError => {
            tracing::error!(task = %task, run = %run, status, duration_ms, why, "run ended in an execution error");
        }
        _ => tracing::info!(task = %task, run = %run, status, duration_ms, "run finished"),
    }
}
