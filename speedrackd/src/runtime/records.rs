//! Writing to history when the database may refuse (a full disk): a refused write is logged
//! and kept in `pending_writes` to be retried from the loop; a fire that could not be recorded
//! never starts (a run row exists before its process) and is recorded later as an execution
//! error saying why.
//!
//! It does not decide when a run ends or a fire is due; the loop does, and calls here.

use chrono::{DateTime, Utc};

use super::Runtime;
use super::pending_writes::{Landed, Write};
use crate::config::{TaskDef, TaskSet};
use crate::events::Event;
use crate::history::{LostRun, MissedPlan};
use crate::run::{RunEnd, RunId, RunRecord, Trigger};

impl Runtime {
    /// Records how runs ended, in one write, or keeps each end for a retry when the database
    /// refuses it. Returns whether the write landed.
    pub(super) fn record_ends(&mut self, ended: &[(RunRecord, RunEnd)]) -> bool {
        if ended.is_empty() {
            return true;
        }
        let ends: Vec<(RunId, &RunEnd)> =
            ended.iter().map(|(record, end)| (record.id, end)).collect();
        let Err(error) = self.history.finish_runs(&ends) else {
            return true;
        };
        for (record, end) in ended {
            tracing::error!(task = %record.task, run = %record.id, "cannot record the end of a run, will retry: {error}");
            let mut record = record.clone();
            record.end = Some(end.clone());
            self.queue_write(Write::Finish(Box::new(record)));
        }
        false
    }

    /// A fire that could not be recorded, as it will be written once the database accepts it.
    pub(super) fn lost_run(
        &self,
        def: &TaskDef,
        trigger: Trigger,
        due: DateTime<Utc>,
        error: &str,
    ) -> LostRun {
        let at = self.clock.now();
        tracing::error!(task = %def.name, due = %due, "a fire could not be recorded and did not start: {error}");
        LostRun {
            task: def.name.clone(),
            trigger,
            due,
            at,
            definition: def.definition.clone(),
            reason: format!(
                "not started: the fire due {} could not be recorded ({error}); recorded once the history database accepted writes again",
                due.format("%Y-%m-%d %H:%M:%S UTC")
            ),
        }
    }

    /// Catch-up fires whose decision the database refused at start do not start (after a
    /// crash they would run again); they are recorded as execution errors saying why, with
    /// the decided last fires, once the database accepts writes.
    pub(super) fn lose_catch_up(&mut self, tasks: &TaskSet, plans: &[MissedPlan], error: &str) {
        let mut last_fires = Vec::new();
        let mut runs = Vec::new();
        for plan in plans {
            if let Some(state) = self.states.get_mut(&plan.task) {
                state.queued.clear();
            }
            if let Some(until) = plan.decided_until {
                last_fires.push((plan.task.clone(), until));
            }
            if let Some(def) = tasks.valid().find(|def| def.name == plan.task) {
                for due in &plan.owed {
                    runs.push(self.lost_run(def, Trigger::Schedule, *due, error));
                }
            }
        }
        self.queue_write(Write::Lost {
            last_fires,
            owed: Vec::new(),
            runs,
        });
    }

    pub(super) fn queue_write(&mut self, write: Write) {
        if let Err(dropped) = self.writes.push(write, tokio::time::Instant::now()) {
            tracing::error!(
                capacity = super::pending_writes::CAPACITY,
                "too many history writes refused; dropping one: {dropped:?}"
            );
        }
        self.metrics.pending_history_writes(self.writes.len());
    }

    /// Replays refused writes; what lands now is announced like a fresh end.
    pub(super) fn retry_writes(&mut self) {
        let (landed, error) = self
            .writes
            .retry(self.history.as_ref(), tokio::time::Instant::now());
        if let Some(error) = error {
            tracing::warn!(
                pending = self.writes.len(),
                "history still refuses writes: {error}"
            );
        }
        if !landed.is_empty() {
            tracing::info!(
                written = landed.len(),
                pending = self.writes.len(),
                "history accepts writes again; recorded what it had refused"
            );
        }
        for write in landed {
            self.announce(write);
        }
        self.metrics.pending_history_writes(self.writes.len());
    }

    fn announce(&mut self, landed: Landed) {
        let runs = match landed {
            Landed::Finish(record) => {
                tracing::info!(task = %record.task, run = %record.id, "recorded the end of a run the database had refused");
                vec![*record]
            }
            Landed::Lost(runs) => {
                for record in &runs {
                    tracing::error!(task = %record.task, run = %record.id, "recorded a fire that could not start: {}", record.op_error());
                }
                runs
            }
        };
        for record in runs {
            let task = record.task.clone();
            self.emit(Event::RunFinished(record));
            self.task_changed(&task);
        }
    }

    /// One last try at shutdown; what is still refused is lost, and the runs it concerned are
    /// closed as interrupted at the next start.
    pub(super) fn flush_writes_at_exit(&mut self) {
        if self.writes.len() == 0 {
            return;
        }
        self.retry_writes();
        if self.writes.len() > 0 {
            tracing::error!(
                pending = self.writes.len(),
                "history still refuses writes at exit; their runs will show as interrupted"
            );
        }
    }
}
