//! Fires: what is due now, what was missed while the daemon was down, and what each task's
//! overlap policy makes of a fire while it runs. Every fire that starts goes through
//! `start_runs`.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Runtime;
use super::start::{Fires, StartRequest};
use super::task_state::Queued;
use crate::cluster::Placement;
use crate::config::{OnMissed, TaskDef, TaskName};
use crate::history::MissedPlan;
use crate::overlap::{Decision, decide};
use crate::run::{Kill, KillCause, RunId, Trigger};
use crate::scheduler::{Fire, MAX_MISSED, fires_between};

/// What the overlap policy made of a fire.
pub(super) enum Admission {
    Start,
    /// Queued behind the running run (maybe after killing it): owed until it starts.
    Queued,
    Skipped,
}

impl Runtime {
    /// Starts every fire due now, and records the ones queued, in one go.
    pub(super) fn fire_due(&mut self) {
        let now = self.clock.now();
        let due = self.scheduler.due(now);
        let mut fires = Fires::default();
        let mut requests = Vec::new();
        for Fire { task, due, missed } in due {
            fires.last.push((task.clone(), due));
            let Some(def) = self.def(&task).cloned() else {
                continue;
            };
            let placement = self.placement(&def, due);
            if placement == Placement::Elsewhere {
                continue;
            }
            if !missed.is_empty() {
                tracing::warn!(task = %task, missed = missed.len(), "fires were missed (the clock jumped or the machine stalled)");
            }
            if def.on_missed == OnMissed::RunAll {
                for at in missed {
                    self.enqueue(&task, Trigger::Schedule, at, Vec::new());
                    fires.owed.push((task.clone(), at));
                }
            }
            // A yielded fire waits for its claim; the fires it missed are this node's still.
            if placement == Placement::Backup && self.backups.keep(task.clone(), due) {
                continue;
            }
            self.admit_fire(def, due, &mut fires, &mut requests);
        }
        let firing: Vec<TaskName> = fires.last.iter().map(|(task, _)| task.clone()).collect();
        // A refusal is recorded and retried by `start_runs`; nothing else to do here.
        let _ = self.start_runs(fires, requests);
        // A fire queued while nothing of its task runs (behind missed fires, say) starts now.
        for task in firing {
            self.start_queued(&task);
        }
    }

    /// A scheduled fire of `def` due at `due`, as its overlap policy takes it: a run to start
    /// into `requests`, a fire owed (queued) into `fires`, or nothing (skipped).
    pub(super) fn admit_fire(
        &mut self,
        def: Arc<TaskDef>,
        due: DateTime<Utc>,
        fires: &mut Fires,
        requests: &mut Vec<StartRequest>,
    ) {
        match self.admit(&def, Trigger::Schedule, due) {
            Admission::Start => requests.push(StartRequest {
                def,
                trigger: Trigger::Schedule,
                due,
                pays_owed: false,
                replaces: Vec::new(),
            }),
            Admission::Queued => fires.owed.push((def.name.clone(), due)),
            Admission::Skipped => {}
        }
    }

    /// Queues the fires a task missed: those still owed from before the stop and those between
    /// its last fire and `now`, as its `on_missed` and missed deadline say. Returns what to
    /// persist before any of them starts (see `Store::settle_missed`), or nothing when there
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
        if !self.may_run_here(def) {
            return Some(MissedPlan {
                task: def.name.clone(),
                decided_until: passed.last().copied(),
                owed: Vec::new(),
            });
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
            self.enqueue(&def.name, Trigger::Schedule, *due, Vec::new());
        }
        Some(MissedPlan {
            task: def.name.clone(),
            decided_until,
            owed: make_up,
        })
    }

    /// Queues a fire; `replaces` are the runs killed to make way for it.
    pub(super) fn enqueue(
        &mut self,
        task: &TaskName,
        trigger: Trigger,
        due: DateTime<Utc>,
        replaces: Vec<RunId>,
    ) {
        self.state_mut(task).queued.push_back(Queued {
            trigger,
            due,
            replaces,
        });
    }

    /// Applies the task's overlap policy to one fire: start it now, or it was skipped, queued,
    /// or queued behind the kill of the running run.
    pub(super) fn admit(
        &mut self,
        def: &TaskDef,
        trigger: Trigger,
        due: DateTime<Utc>,
    ) -> Admission {
        let (running, queued) = self.states.get(&def.name).map_or((0, false), |state| {
            (state.running.len(), !state.queued.is_empty())
        });
        match decide(def.overlap, running, queued) {
            Decision::Start => Admission::Start,
            Decision::Skip => {
                let state = self.state_mut(&def.name);
                state.skipped_fires += 1;
                let first = state.running.keys().next().copied();
                tracing::info!(task = %def.name, run = ?first, "skipped a fire: the task is still running");
                Admission::Skipped
            }
            Decision::Queue => {
                self.enqueue(&def.name, trigger, due, Vec::new());
                Admission::Queued
            }
            Decision::ReplaceThenStart => {
                let kill = Kill {
                    cause: KillCause::Replaced,
                    by: format!(
                        "a newer fire (overlap: replace, due {})",
                        due.format("%H:%M:%S")
                    ),
                };
                let replaces = self.kill_runs(&def.name, &kill);
                self.enqueue(&def.name, trigger, due, replaces);
                Admission::Queued
            }
        }
    }

    /// Starts the task's queued fires, oldest first, until one of them is running or none is
    /// left: a queued fire whose process could not start (or whose record the database
    /// refused) must not leave the rest waiting for an end that never comes.
    pub(super) fn start_queued(&mut self, task: &TaskName) {
        loop {
            let Some(state) = self.states.get_mut(task) else {
                return;
            };
            if !state.running.is_empty() {
                return;
            }
            let Some(next) = state.queued.pop_front() else {
                return;
            };
            let Some(def) = self.def(task).cloned() else {
                // Removed by a reload: its queued fires go with it.
                self.state_mut(task).queued.clear();
                return;
            };
            let pays_owed = next.trigger == Trigger::Schedule;
            let request = StartRequest {
                def,
                trigger: next.trigger,
                due: next.due,
                pays_owed,
                replaces: next.replaces,
            };
            // A refusal is recorded and retried by `start_runs`.
            let _ = self.start_runs(Fires::default(), vec![request]);
        }
    }

    /// Starts every task's first queued fire where nothing of it runs (used at start).
    pub(super) fn start_queued_all(&mut self) {
        let tasks: Vec<TaskName> = self
            .states
            .iter()
            .filter(|(_, state)| !state.queued.is_empty())
            .map(|(task, _)| task.clone())
            .collect();
        for task in tasks {
            self.start_queued(&task);
        }
    }
}
