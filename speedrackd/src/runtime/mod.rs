//! The one async loop that owns the daemon's mutable state.
//!
//! It sleeps until the scheduler's next deadline and `select!`s on that, on commands from RPC
//! handlers, on runs that finished, and on shutdown. There is no polling tick: with nothing due
//! and nothing happening, it does not wake up. Decisions are delegated to pure modules
//! (scheduler, verdict, reload); this file only wires them to I/O.

mod command;
mod launch;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use nix::sys::signal::Signal;
use tokio::sync::{broadcast, mpsc};

pub use command::{Command, ControlError, LiveState, Snapshot};
use launch::{Finished, InFlight, apply_end, launch};

use crate::clock::Clock;
use crate::config::{Settings, TaskDef, TaskName, TaskSet};
use crate::events::{Event, Stamped};
use crate::exec;
use crate::history::History;
use crate::reload::{ReloadDiff, diff};
use crate::run::{RunId, RunRecord, Trigger};
use crate::scheduler::{Fire, Scheduler};

/// The loop's state.
pub struct Runtime {
    clock: Arc<dyn Clock>,
    settings: Settings,
    tasks: Arc<TaskSet>,
    scheduler: Scheduler,
    /// Explicit suspend/resume decisions, persisted; they win over the file's `suspended`.
    suspension: HashMap<TaskName, bool>,
    history: Arc<History>,
    in_flight: HashMap<RunId, InFlight>,
    runs_since_start: HashMap<TaskName, u64>,
    events: broadcast::Sender<Stamped>,
    finished_tx: mpsc::UnboundedSender<Finished>,
    finished_rx: mpsc::UnboundedReceiver<Finished>,
    started_at: DateTime<Utc>,
    last_reload_at: Option<DateTime<Utc>>,
}

impl Runtime {
    /// Builds the runtime and schedules every valid task from `now`. `suspension` holds the
    /// persisted suspend/resume decisions.
    pub fn new(
        clock: Arc<dyn Clock>,
        settings: Settings,
        tasks: TaskSet,
        suspension: HashMap<TaskName, bool>,
        history: Arc<History>,
        events: broadcast::Sender<Stamped>,
    ) -> Runtime {
        let now = clock.now();
        let mut scheduler = Scheduler::default();
        for def in tasks.valid() {
            scheduler.add(
                def.name.clone(),
                def.schedule.clone(),
                now,
                is_suspended(&suspension, def),
            );
        }
        let (finished_tx, finished_rx) = mpsc::unbounded_channel();
        Runtime {
            clock,
            settings,
            tasks: Arc::new(tasks),
            scheduler,
            suspension,
            history,
            in_flight: HashMap::new(),
            runs_since_start: HashMap::new(),
            events,
            finished_tx,
            finished_rx,
            started_at: now,
            last_reload_at: None,
        }
    }

    /// Runs until `shutdown` completes, then stops firing and lets running tasks finish for the
    /// shutdown grace before killing their process groups.
    pub async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            let deadline = self.scheduler.next_wakeup().map(|at| self.instant_of(at));
            tokio::select! {
                () = sleep_until_opt(deadline) => self.fire_due(),
                Some(command) = commands.recv() => self.handle(command),
                Some(finished) = self.finished_rx.recv() => self.record_finished(finished),
                () = &mut shutdown => break,
            }
        }
        self.drain().await;
    }

    /// Converts a wall-clock deadline into tokio's monotonic time, now.
    fn instant_of(&self, at: DateTime<Utc>) -> tokio::time::Instant {
        let wait = (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO);
        tokio::time::Instant::now() + wait
    }

    fn fire_due(&mut self) {
        let now = self.clock.now();
        for Fire { task, due } in self.scheduler.due(now) {
            if let Some(running) = self.running_of(&task).first() {
                tracing::info!(task = %task, run = %running, "skipped a fire: the task is still running");
                continue;
            }
            let Some(def) = self.def(&task).cloned() else {
                continue;
            };
            if let Err(error) = self.start(&def, Trigger::Schedule, due) {
                tracing::error!(task = %task, "cannot record a run: {error}");
            }
        }
    }

    fn def(&self, task: &TaskName) -> Option<&TaskDef> {
        self.tasks.valid().find(|def| &def.name == task)
    }

    fn running_of(&self, task: &TaskName) -> Vec<RunId> {
        let mut runs: Vec<RunId> = self
            .in_flight
            .iter()
            .filter(|(_, run)| &run.task == task)
            .map(|(id, _)| *id)
            .collect();
        runs.sort();
        runs
    }

    fn start(
        &mut self,
        def: &TaskDef,
        trigger: Trigger,
        due: DateTime<Utc>,
    ) -> Result<RunRecord, ControlError> {
        let (record, in_flight) = launch(
            def,
            &self.settings,
            trigger,
            due,
            &self.history,
            &self.clock,
            &self.finished_tx,
        )?;
        *self.runs_since_start.entry(def.name.clone()).or_default() += 1;
        match in_flight {
            Some(in_flight) => {
                tracing::info!(task = %def.name, run = %record.id, lateness_ms = (record.started_at - due).num_milliseconds(), "run started");
                self.in_flight.insert(record.id, in_flight);
                self.emit(Event::RunStarted(record.clone()));
            }
            None => {
                tracing::warn!(task = %def.name, run = %record.id, "run could not start: {}", record.op_error);
                self.emit(Event::RunStarted(record.clone()));
                self.emit(Event::RunFinished(record.clone()));
            }
        }
        self.emit(Event::TaskChanged(def.name.clone()));
        Ok(record)
    }

    fn record_finished(&mut self, finished: Finished) {
        self.in_flight.remove(&finished.run);
        if let Err(error) = self.history.finish_run(finished.run, &finished.end) {
            tracing::error!(task = %finished.task, run = %finished.run, "cannot record the end of a run: {error}");
        }
        let duration_ms = match self.history.get_run(finished.run) {
            Ok(Some(mut record)) => {
                apply_end(&mut record, finished.end);
                let duration = record
                    .finished_at
                    .map(|end| (end - record.started_at).num_milliseconds());
                self.emit(Event::RunFinished(record));
                duration
            }
            Ok(None) | Err(_) => None,
        };
        tracing::info!(task = %finished.task, run = %finished.run, duration_ms, "run finished");
        self.emit(Event::TaskChanged(finished.task));
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Snapshot { reply } => {
                let _ = reply.send(self.snapshot());
            }
            Command::RunNow { task, by, reply } => {
                let _ = reply.send(self.run_now(&task, by));
            }
            Command::SetSuspended {
                task,
                suspended,
                reply,
            } => {
                let _ = reply.send(self.set_suspended(&task, suspended));
            }
            Command::NextFires { task, count, reply } => {
                let _ = reply.send(self.next_fires(&task, count));
            }
            Command::Apply {
                settings,
                tasks,
                reply,
            } => {
                let _ = reply.send(self.apply(*settings, tasks));
            }
        }
    }

    fn snapshot(&self) -> Snapshot {
        let live = self
            .tasks
            .valid()
            .map(|def| {
                let state = LiveState {
                    next_fire: self.scheduler.next_fire(&def.name),
                    suspended: is_suspended(&self.suspension, def),
                    running: self.running_of(&def.name),
                    runs_since_start: self.runs_since_start.get(&def.name).copied().unwrap_or(0),
                };
                (def.name.clone(), state)
            })
            .collect();
        Snapshot {
            started_at: self.started_at,
            last_reload_at: self.last_reload_at,
            tasks: Arc::clone(&self.tasks),
            live,
        }
    }

    fn schedulable(&self, task: &TaskName) -> Result<TaskDef, ControlError> {
        if let Some(def) = self.def(task) {
            return Ok(def.clone());
        }
        if self
            .tasks
            .broken()
            .any(|broken| broken.name.as_ref() == Some(task))
        {
            return Err(ControlError::ConfError {
                task: task.to_string(),
            });
        }
        Err(ControlError::UnknownTask(task.to_string()))
    }

    fn run_now(&mut self, task: &TaskName, by: String) -> Result<RunRecord, ControlError> {
        let def = self.schedulable(task)?;
        if let Some(run) = self.running_of(task).first() {
            return Err(ControlError::AlreadyRunning {
                task: task.clone(),
                run: *run,
            });
        }
        let now = self.clock.now();
        self.start(&def, Trigger::Manual { by }, now)
    }

    fn next_fires(
        &self,
        task: &TaskName,
        count: usize,
    ) -> Result<Vec<DateTime<Utc>>, ControlError> {
        self.schedulable(task)?;
        let fires = self.scheduler.upcoming(task, self.clock.now(), count);
        fires.ok_or_else(|| ControlError::UnknownTask(task.to_string()))
    }

    fn set_suspended(&mut self, task: &TaskName, suspended: bool) -> Result<(), ControlError> {
        self.schedulable(task)?;
        self.history.set_suspended(task, suspended)?;
        self.scheduler
            .set_suspended(task, suspended, self.clock.now());
        self.suspension.insert(task.clone(), suspended);
        tracing::info!(task = %task, suspended, "task suspension changed");
        self.emit(Event::TaskChanged(task.clone()));
        Ok(())
    }

    /// Switches to a new, already validated configuration. Unchanged schedules keep their next
    /// fire and phase; running runs are left alone and finish under their old definition.
    fn apply(&mut self, settings: Settings, tasks: TaskSet) -> ReloadDiff {
        let now = self.clock.now();
        let result = diff(&self.tasks, &tasks);
        for name in &result.removed {
            self.scheduler.remove(name);
        }
        for def in tasks.valid() {
            if self.scheduler.schedule_of(&def.name) != Some(&def.schedule) {
                let suspended = is_suspended(&self.suspension, def);
                self.scheduler
                    .add(def.name.clone(), def.schedule.clone(), now, suspended);
            }
        }
        self.settings = settings;
        self.tasks = Arc::new(tasks);
        self.last_reload_at = Some(now);
        tracing::info!(
            added = result.added.len(),
            removed = result.removed.len(),
            changed = result.changed.len(),
            conf_errors = result.conf_errors.len(),
            "configuration reloaded"
        );
        self.emit(Event::ConfigReloaded(result.clone()));
        result
    }

    /// Lets running tasks finish for the shutdown grace, then kills what is left.
    async fn drain(&mut self) {
        let grace = self.settings.shutdown_grace;
        if !self.in_flight.is_empty() {
            tracing::info!(
                running = self.in_flight.len(),
                ?grace,
                "waiting for running tasks before exiting"
            );
        }
        let deadline = tokio::time::Instant::now() + grace;
        while !self.in_flight.is_empty() {
            match tokio::time::timeout_at(deadline, self.finished_rx.recv()).await {
                Ok(Some(finished)) => self.record_finished(finished),
                Ok(None) => return,
                Err(_) => break,
            }
        }
        for (run, in_flight) in &self.in_flight {
            tracing::warn!(task = %in_flight.task, run = %run, "killing a run still going after the shutdown grace");
            if let Err(error) = exec::signal_group(in_flight.process_group, Signal::SIGKILL) {
                tracing::error!(task = %in_flight.task, run = %run, "cannot kill process group: {error}");
            }
        }
        // A killed group is reaped within milliseconds; whatever is not is closed as
        // interrupted at the next start.
        let reap_deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !self.in_flight.is_empty() {
            match tokio::time::timeout_at(reap_deadline, self.finished_rx.recv()).await {
                Ok(Some(mut finished)) => {
                    finished.end.op_error =
                        format!("killed by speedrackd shutdown after a grace of {grace:?}");
                    self.record_finished(finished);
                }
                Ok(None) | Err(_) => return,
            }
        }
    }

    fn emit(&self, event: Event) {
        // No watcher is not an error.
        let _ = self.events.send(Stamped {
            at: self.clock.now(),
            event,
        });
    }
}

/// A task is suspended when someone said so, else when the file starts it suspended.
fn is_suspended(suspension: &HashMap<TaskName, bool>, def: &TaskDef) -> bool {
    suspension.get(&def.name).copied().unwrap_or(def.suspended)
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
