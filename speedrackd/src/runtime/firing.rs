//! Firing, starting and finishing runs: overlap policies, queued and missed fires, and the
//! shutdown drain.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::launch::{Finished, Prepared, Request, apply_end, complete, prepare, prepare_all};
use super::pending_writes::Write;
use super::{ControlError, Pending, Runtime, valid_def};
use crate::config::{OnMissed, TaskDef, TaskName};
use crate::events::Event;
use crate::exec::{self, Launch};
use crate::history::{MissedPlan, ProcessGroup};
use crate::overlap::{Decision, decide};
use crate::run::{RunRecord, RunStatus, Trigger};
use crate::scheduler::{Fire, MAX_MISSED, fires_between};

/// What the overlap policy made of a fire.
enum Admission {
    Start,
    /// Queued behind the running run (maybe after killing it): owed until it starts.
    Queued,
    Skipped,
}

/// How long killed runs get to be reaped at shutdown beyond the kill grace.
const REAP_WAIT: Duration = Duration::from_secs(5);

impl Runtime {
    pub(super) fn fire_due(&mut self) {
        let now = self.clock.now();
        let fires = self.scheduler.due(now);
        let last_fires: Vec<(TaskName, DateTime<Utc>)> = fires
            .iter()
            .map(|fire| (fire.task.clone(), fire.due))
            .collect();
        let mut batch = Vec::new();
        // Fires passed now but queued rather than started, recorded with the last fires.
        let mut owed = Vec::new();
        for Fire { task, due, missed } in fires {
            let Some(def) = self.def(&task).cloned() else {
                continue;
            };
            if !missed.is_empty() {
                tracing::warn!(task = %task, missed = missed.len(), "fires were missed (the clock jumped or the machine stalled)");
            }
            if def.on_missed == OnMissed::RunAll {
                for at in missed {
                    self.enqueue(
                        &task,
                        Pending {
                            trigger: Trigger::Schedule,
                            due: at,
                        },
                    );
                    owed.push((task.clone(), at));
                }
            }
            match self.admit(&def, Trigger::Schedule, due) {
                Admission::Start => batch.push((def, due)),
                Admission::Queued => owed.push((task, due)),
                Admission::Skipped => {}
            }
        }
        self.start_batch(&last_fires, &owed, &batch);
    }

    /// Queues the fires a task missed: those still owed from before the stop and those between
    /// its last fire and `now`, as its `on_missed` and missed deadline say. Returns what to
    /// persist before any of them starts (see `History::settle_missed`), or nothing when there
    /// is nothing to decide.
    pub(super) fn catch_up(
        &mut self,
        def: &TaskDef,
        last_fire: Option<DateTime<Utc>>,
        owed: Vec<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<MissedPlan> {
        let passed = match last_fire {
            Some(last) => match def.schedule.next_after(last, last) {
                Some(first) => fires_between(&def.schedule, last, first, now),
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        if owed.is_empty() && passed.is_empty() {
            return None;
        }
        let decided_until = passed.last().copied();
        let mut missed: Vec<DateTime<Utc>> = owed.into_iter().chain(passed).collect();
        missed.sort();
        missed.dedup();
        let excess = missed.len().saturating_sub(MAX_MISSED);
        missed.drain(..excess);
        let deadline = def.missed_deadline.or(self.settings.missed_deadline);
        missed.retain(|at| {
            deadline.is_none_or(|deadline| {
                now - *at <= chrono::Duration::from_std(deadline).unwrap_or(chrono::Duration::MAX)
            })
        });
        let make_up: Vec<DateTime<Utc>> = match def.on_missed {
            OnMissed::Skip => Vec::new(),
            OnMissed::RunOnce => missed.last().copied().into_iter().collect(),
            OnMissed::RunAll => missed.clone(),
        };
        if !missed.is_empty() {
            tracing::info!(task = %def.name, missed = missed.len(), making_up = make_up.len(), "fires were missed while speedrackd was down");
        }
        for due in &make_up {
            self.enqueue(
                &def.name,
                Pending {
                    trigger: Trigger::Schedule,
                    due: *due,
                },
            );
        }
        Some(MissedPlan {
            task: def.name.clone(),
            decided_until,
            owed: make_up,
        })
    }

    fn enqueue(&mut self, task: &TaskName, pending: Pending) {
        self.pending
            .entry(task.clone())
            .or_default()
            .push_back(pending);
    }

    /// Starts every task's first pending fire where nothing of it runs (used at start).
    pub(super) fn start_pending_all(&mut self) {
        let tasks: Vec<TaskName> = self.pending.keys().cloned().collect();
        for task in tasks {
            self.start_pending(&task);
        }
    }

    /// Applies the task's overlap policy to one fire: start it now, or it was skipped, queued,
    /// or queued behind the kill of the running run.
    fn admit(&mut self, def: &TaskDef, trigger: Trigger, due: DateTime<Utc>) -> Admission {
        let running = self.running_of(&def.name);
        let queued = self
            .pending
            .get(&def.name)
            .is_some_and(|queue| !queue.is_empty());
        match decide(def.overlap, running.len(), queued) {
            Decision::Start => Admission::Start,
            Decision::Skip => {
                *self.skipped_fires.entry(def.name.clone()).or_default() += 1;
                tracing::info!(task = %def.name, run = ?running.first(), "skipped a fire: the task is still running");
                Admission::Skipped
            }
            Decision::Queue => {
                self.enqueue(&def.name, Pending { trigger, due });
                Admission::Queued
            }
            Decision::ReplaceThenStart => {
                let by = format!(
                    "a newer fire (overlap: replace, due {})",
                    due.format("%H:%M:%S")
                );
                self.kill_runs(&def.name, &by);
                self.enqueue(&def.name, Pending { trigger, due });
                Admission::Queued
            }
        }
    }

    /// Starts a queued fire; one the database refuses to record is kept to be recorded as an
    /// execution error once it accepts writes again.
    fn start_logged(&mut self, def: &TaskDef, trigger: Trigger, due: DateTime<Utc>) {
        if let Err(error) = self.start(def, trigger.clone(), due) {
            let lost = self.lost_run(def, trigger, due, &error.to_string());
            self.queue_write(Write::Lost {
                last_fires: Vec::new(),
                owed: Vec::new(),
                runs: vec![lost],
            });
        }
    }

    pub(super) fn start(
        &mut self,
        def: &TaskDef,
        trigger: Trigger,
        due: DateTime<Utc>,
    ) -> Result<RunRecord, ControlError> {
        let prepared = prepare(self.request(def, trigger, due), &self.history, &self.clock)?;
        let process = exec::spawn(prepared.launch());
        let (record, group) = self.started(def, due, prepared, process);
        if let Some(group) = group {
            self.store_groups(&[group]);
        }
        Ok(record)
    }

    /// Starts fires due together: the fires and every run's row first, then all their
    /// processes at once.
    fn start_batch(
        &mut self,
        last_fires: &[(TaskName, DateTime<Utc>)],
        owed: &[(TaskName, DateTime<Utc>)],
        batch: &[(TaskDef, DateTime<Utc>)],
    ) {
        if last_fires.is_empty() {
            return;
        }
        let requests: Vec<Request<'_>> = batch
            .iter()
            .map(|(def, due)| self.request(def, Trigger::Schedule, *due))
            .collect();
        let prepared = match prepare_all(last_fires, owed, &requests, &self.history, &self.clock) {
            Ok(prepared) => prepared,
            Err(error) => {
                let reason = error.to_string();
                let runs = batch
                    .iter()
                    .map(|(def, due)| self.lost_run(def, Trigger::Schedule, *due, &reason))
                    .collect();
                self.queue_write(Write::Lost {
                    last_fires: last_fires.to_vec(),
                    owed: owed.to_vec(),
                    runs,
                });
                return;
            }
        };
        let launches: Vec<&Launch> = prepared.iter().map(Prepared::launch).collect();
        let spawning = std::time::Instant::now();
        let processes = exec::spawn_all(&launches);
        tracing::debug!(
            fires = batch.len(),
            spawn_ms = spawning.elapsed().as_secs_f64() * 1e3,
            "started the processes of fires due together"
        );
        let mut groups = Vec::with_capacity(batch.len());
        for (((def, due), run), process) in batch.iter().zip(prepared).zip(processes) {
            let (_, group) = self.started(def, *due, run, process);
            groups.extend(group);
        }
        self.store_groups(&groups);
    }

    /// A crash recovery can still find the runs' processes by their environment, so a failure
    /// here is logged, not fatal to the runs.
    fn store_groups(&self, groups: &[ProcessGroup]) {
        if let Err(error) = self.history.set_process_groups(groups) {
            tracing::error!(
                runs = groups.len(),
                "cannot record the process groups of runs: {error}"
            );
        }
    }

    fn request<'a>(
        &'a self,
        def: &'a TaskDef,
        trigger: Trigger,
        due: DateTime<Utc>,
    ) -> Request<'a> {
        Request {
            def,
            settings: &self.settings,
            trigger,
            due,
        }
    }

    /// Supervises a run whose process was started (or failed to), and tells everyone. Returns
    /// the run's process group, for the caller to store.
    fn started(
        &mut self,
        def: &TaskDef,
        due: DateTime<Utc>,
        prepared: Prepared,
        process: Result<exec::Process, exec::StartError>,
    ) -> (RunRecord, Option<ProcessGroup>) {
        let (record, in_flight) = complete(prepared, process, &self.clock, &self.finished_tx);
        let in_flight = match in_flight {
            Ok(in_flight) => Some(in_flight),
            Err(end) => {
                self.finish_or_queue(record.id, &def.name, end);
                None
            }
        };
        *self.runs_since_start.entry(def.name.clone()).or_default() += 1;
        // Only a scheduled run has a due instant to be late for.
        let lateness = (record.trigger == Trigger::Schedule).then(|| record.started_at - due);
        self.metrics.run_started(&def.name, lateness);
        let group = in_flight.as_ref().map(|in_flight| in_flight.group);
        match in_flight {
            Some(in_flight) => {
                let lateness_ms = (record.started_at - due).num_milliseconds();
                tracing::info!(task = %def.name, run = %record.id, lateness_ms, "run started");
                self.in_flight.insert(record.id, in_flight);
                self.emit(Event::RunStarted(record.clone()));
            }
            None => {
                tracing::error!(task = %def.name, run = %record.id, "run could not start: {}", record.op_error);
                // It ended here, without a supervisor to report it to `record_finished`.
                let ended = record.finished_at.unwrap_or(record.started_at);
                self.metrics
                    .run_finished(&def.name, record.status, ended - record.started_at);
                self.emit(Event::RunStarted(record.clone()));
                self.emit(Event::RunFinished(record.clone()));
            }
        }
        self.emit(Event::TaskChanged(def.name.clone()));
        (record, group)
    }

    /// Ends every run of a task early; returns how many were asked to stop.
    pub(super) fn kill_runs(&mut self, task: &TaskName, by: &str) -> Vec<crate::run::RunId> {
        let runs = self.running_of(task);
        for run in &runs {
            if let Some(in_flight) = self.in_flight.get(run) {
                tracing::info!(task = %task, run = %run, by, "terminating a run");
                // A send fails only when the supervisor already finished; nothing to kill then.
                let _ = in_flight.kill.send(by.to_owned());
            }
        }
        runs
    }

    pub(super) fn record_finished(&mut self, finished: Finished) {
        if let Some(run) = self.in_flight.remove(&finished.run) {
            let duration = finished.end.finished_at - run.started_at;
            self.metrics
                .run_finished(&finished.task, finished.end.status, duration);
        }
        self.finish_or_queue(finished.run, &finished.task, finished.end.clone());
        let duration_ms = match self.history.get_run(finished.run) {
            Ok(Some(mut record)) => {
                apply_end(&mut record, finished.end.clone());
                // Removed tasks (a reload while they ran) notify no one.
                // The set is shared so that notifying may borrow the notifier mutably.
                let tasks = Arc::clone(&self.tasks);
                if let Some(def) = valid_def(&tasks, &self.task_index, &record.task) {
                    // The streak over the last `after_failures` runs: all the rules look at.
                    let window = def.notify_after_failures;
                    let window = window.unwrap_or(self.settings.notify.after_failures).max(1);
                    match self
                        .history
                        .list_runs(&record.task, Some(record.id), window as usize)
                    {
                        Ok(previous) => {
                            let streak = previous.iter().rev().fold(0, |streak, earlier| {
                                crate::notify::failure_streak(streak, earlier.status)
                            });
                            self.notifier
                                .run_finished(&self.settings, def, &record, streak);
                        }
                        Err(error) => {
                            tracing::error!(task = %record.task, "cannot read history to decide on notifying: {error}")
                        }
                    }
                }
                let duration = record
                    .finished_at
                    .map(|end| (end - record.started_at).num_milliseconds());
                self.emit(Event::RunFinished(record));
                duration
            }
            Ok(None) | Err(_) => None,
        };
        log_finished(&finished, duration_ms);
        self.prune(&finished.task);
        self.start_pending(&finished.task);
        self.emit(Event::TaskChanged(finished.task));
    }

    /// Starts the next queued fire of a task once nothing of it runs.
    fn start_pending(&mut self, task: &TaskName) {
        if !self.running_of(task).is_empty() {
            return;
        }
        let Some(next) = self.pending.get_mut(task).and_then(VecDeque::pop_front) else {
            return;
        };
        if self.pending.get(task).is_some_and(VecDeque::is_empty) {
            self.pending.remove(task);
        }
        match self.def(task).cloned() {
            Some(def) => {
                self.start_logged(&def, next.trigger, next.due);
            }
            None => {
                self.pending.remove(task);
            }
        }
    }

    /// Lets running tasks finish for the shutdown grace, then ends what is left as a kill would,
    /// recorded as killed by shutdown.
    pub(super) async fn drain(&mut self) {
        self.pending.clear();
        let grace = self.settings.shutdown_grace;
        if !self.in_flight.is_empty() {
            tracing::info!(
                running = self.in_flight.len(),
                ?grace,
                "waiting for running tasks before exiting"
            );
        }
        self.wait_for_runs(grace).await;
        let tasks: Vec<TaskName> = self
            .in_flight
            .values()
            .map(|run| run.task.clone())
            .collect();
        for task in tasks {
            self.kill_runs(&task, "shutdown");
        }
        // Terminated runs end within the kill grace; whatever does not is closed as interrupted
        // at the next start.
        self.wait_for_runs(self.settings.kill_grace.saturating_add(REAP_WAIT))
            .await;
        self.flush_writes_at_exit();
    }

    async fn wait_for_runs(&mut self, limit: Duration) {
        let deadline = tokio::time::Instant::now().checked_add(limit);
        while !self.in_flight.is_empty() {
            let finished = self.finished_rx.recv();
            let finished = match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, finished).await,
                None => Ok(finished.await),
            };
            match finished {
                Ok(Some(finished)) => {
                    // Nothing new starts while shutting down.
                    self.pending.clear();
                    self.record_finished(finished);
                }
                Ok(None) | Err(_) => return,
            }
        }
    }
}

/// Failures at WARN and execution errors at ERROR, so `journalctl -p warning` lists them.
fn log_finished(finished: &Finished, duration_ms: Option<i64>) {
    let (task, run) = (&finished.task, finished.run);
    let status = finished.end.status.as_str();
    let why = finished.end.op_error.as_str();
    match finished.end.status {
        RunStatus::Failure => {
            let reason = finished.end.reason.as_str();
            tracing::warn!(task = %task, run = %run, status, duration_ms, reason, "run failed");
        }
        RunStatus::ExecutionError => {
            tracing::error!(task = %task, run = %run, status, duration_ms, why, "run ended in an execution error");
        }
        _ => tracing::info!(task = %task, run = %run, status, duration_ms, "run finished"),
    }
}
