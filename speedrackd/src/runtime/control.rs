//! Requests from RPC handlers: snapshots, run-now, kill, suspend/resume, upcoming fires, and
//! switching to a reloaded configuration.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Runtime;
use super::command::{Command, ControlError, RunNowOutcome, Snapshot};
use super::start::{Fires, StartRequest};
use crate::config::{Settings, TaskDef, TaskName, TaskSet};
use crate::events::Event;
use crate::overlap::{Decision, decide};
use crate::reload::{ReloadDiff, changed_settings, diff};
use crate::run::{Kill, KillCause, RunId, Trigger};

impl Runtime {
    pub(super) fn handle(&mut self, command: Command) {
        match command {
            Command::Snapshot { reply } => {
                let _ = reply.send(self.snapshot());
            }
            Command::RunNow { task, by, reply } => {
                let _ = reply.send(self.run_now(&task, by));
            }
            Command::Kill {
                task,
                run,
                by,
                reply,
            } => {
                let _ = reply.send(self.kill(&task, run, &by));
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
            Command::Sweep => self.sweep(),
            Command::OthersRan { tasks } => self.others_ran(tasks),
            Command::Reload {
                settings,
                tasks,
                reply,
            } => {
                let _ = reply.send(self.switch_config(*settings, tasks));
            }
        }
    }

    /// Announces the rows of the tasks in this node's file that other nodes' runs changed.
    fn others_ran(&self, tasks: Option<Vec<TaskName>>) {
        let tasks: Vec<TaskName> = match tasks {
            Some(tasks) => tasks
                .into_iter()
                .filter(|task| self.task_index.contains_key(task))
                .collect(),
            None => self.tasks.valid().map(|def| def.name.clone()).collect(),
        };
        for task in &tasks {
            self.task_changed(task);
        }
    }

    fn snapshot(&self) -> Snapshot {
        let live = self
            .tasks
            .valid()
            .map(|def| (def.name.clone(), self.live_state(def)))
            .collect();
        Snapshot {
            taken_at: self.clock.now(),
            started_at: self.started_at,
            last_reload_at: self.last_reload_at,
            settings: Arc::new(self.settings.clone()),
            tasks: Arc::clone(&self.tasks),
            live,
            pending_history_writes: self.writes.len(),
        }
    }

    fn schedulable(&self, task: &TaskName) -> Result<Arc<TaskDef>, ControlError> {
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

    /// A manual run, in addition to the schedule (the next fire does not move). It follows the
    /// task's overlap policy, except that `skip` refuses with an error instead of dropping it
    /// silently; suspended tasks still run.
    fn run_now(&mut self, task: &TaskName, by: String) -> Result<RunNowOutcome, ControlError> {
        let def = self.schedulable(task)?;
        let running = self.running_of(task);
        let queued = self
            .states
            .get(task)
            .is_some_and(|state| !state.queued.is_empty());
        let now = self.clock.now();
        let trigger = Trigger::Manual { by };
        match decide(def.overlap, running.len(), queued) {
            Decision::Skip => Err(ControlError::AlreadyRunning {
                task: task.clone(),
                run: running.first().copied().unwrap_or(RunId(0)),
            }),
            Decision::Start => {
                let request = StartRequest {
                    def,
                    trigger,
                    due: now,
                    pays_owed: false,
                    replaces: Vec::new(),
                };
                let mut started = self.start_runs(Fires::default(), vec![request])?;
                let record = started
                    .pop()
                    .ok_or_else(|| ControlError::NotRunning(task.clone()))?;
                Ok(RunNowOutcome::Started(Box::new(record)))
            }
            decision @ (Decision::Queue | Decision::ReplaceThenStart) => {
                let replaces = if decision == Decision::ReplaceThenStart {
                    let kill = Kill {
                        cause: KillCause::Replaced,
                        by: "a manual run (overlap: replace)".to_owned(),
                    };
                    self.kill_runs(task, &kill)
                } else {
                    Vec::new()
                };
                self.enqueue(task, trigger, now, replaces);
                Ok(RunNowOutcome::Queued { behind: running })
            }
        }
    }

    /// Ends a task's running runs, or the one of them named; a task removed by a reload may
    /// still have some.
    fn kill(
        &mut self,
        task: &TaskName,
        run: Option<RunId>,
        by: &str,
    ) -> Result<Vec<RunId>, ControlError> {
        let kill = Kill {
            cause: KillCause::User,
            by: by.to_owned(),
        };
        if let Some(run) = run {
            return match self.kill_run(task, run, &kill) {
                true => Ok(vec![run]),
                false => Err(ControlError::RunNotRunning {
                    task: task.clone(),
                    run,
                }),
            };
        }
        let killed = self.kill_runs(task, &kill);
        if !killed.is_empty() {
            return Ok(killed);
        }
        self.schedulable(task)?;
        Err(ControlError::NotRunning(task.clone()))
    }

    fn set_suspended(&mut self, task: &TaskName, suspended: bool) -> Result<(), ControlError> {
        self.schedulable(task)?;
        self.history.set_suspended(task, suspended)?;
        self.scheduler
            .set_suspended(task, suspended, self.clock.now());
        self.state_mut(task).suspended = Some(suspended);
        tracing::info!(task = %task, suspended, "task suspension changed");
        self.task_changed(task);
        Ok(())
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

    /// Switches to a new, already validated configuration. Unchanged schedules keep their next
    /// fire and phase; running runs are left alone and finish under their old definition.
    fn switch_config(&mut self, settings: Settings, tasks: TaskSet) -> ReloadDiff {
        let now = self.clock.now();
        let mut result = diff(&self.tasks, &tasks);
        (result.settings_changed, result.settings_at_next_start) =
            changed_settings(&self.settings, &settings);
        for name in &result.removed {
            self.scheduler.remove(name);
            // Runs still in flight keep their task's state until they end (`finish.rs`).
            if let Some(state) = self.states.get_mut(name) {
                state.queued.clear();
                if state.running.is_empty() {
                    self.states.remove(name);
                }
            }
        }
        for def in tasks.valid() {
            if self.scheduler.schedule_of(&def.name) != Some(&def.schedule) {
                let suspended = self.is_suspended(def);
                self.scheduler
                    .add(def.name.clone(), def.schedule.clone(), now, now, suspended);
            }
        }
        self.settings = settings;
        self.set_tasks(tasks);
        self.last_reload_at = Some(now);
        // The one line a reload logs, whatever asked for it (SIGHUP or the Reload call).
        tracing::info!("configuration reloaded: {}", result.summary());
        self.emit(Event::ConfigReloaded(result.clone()));
        result
    }
}
