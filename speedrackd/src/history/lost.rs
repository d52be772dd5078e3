//! Fires whose runs the database refused to record when they were due (a full disk, mostly):
//! they never started, and are written later, once the database accepts writes again, as
//! execution errors saying why. Retrying is the runtime's; this module only writes.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Claim, HistoryError, NewRun, SqliteStore, insert, owed, run_writes};
use crate::config::TaskName;
use crate::run::{RunEnd, RunId, RunRecord, RunStatus, Trigger, as_stored};

/// A fire that could not be recorded, so its run never started.
#[derive(Debug, Clone, PartialEq)]
pub struct LostRun {
    pub task: TaskName,
    pub trigger: Trigger,
    pub due: DateTime<Utc>,
    /// When it should have started.
    pub at: DateTime<Utc>,
    pub definition: String,
    /// Why it was not recorded, for the run's `op_error`.
    pub reason: String,
}

impl LostRun {
    /// The run as `record_lost` writes it under `id`.
    pub fn record(&self, id: RunId) -> RunRecord {
        RunRecord {
            id,
            task: self.task.clone(),
            trigger: self.trigger.clone(),
            scheduled_at: as_stored(self.due),
            started_at: as_stored(self.at),
            definition: self.definition.clone(),
            notification_error: String::new(),
            node: String::new(),
            end: Some(RunEnd::bare(
                as_stored(self.at),
                RunStatus::ExecutionError,
                self.reason.clone(),
            )),
        }
    }
}

impl SqliteStore {
    /// Records lost fires as finished execution errors, with the last fires and the owed fires
    /// of their batch, in one transaction. A lost scheduled fire pays its owed row: it is
    /// settled, not to be run.
    pub(super) fn record_lost(
        &self,
        last_fires: &[(TaskName, DateTime<Utc>)],
        owed: &[(TaskName, DateTime<Utc>)],
        runs: &[LostRun],
    ) -> Result<Vec<RunId>, HistoryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        owed::insert_owed(&tx, owed)?;
        owed::set_last_fires(&tx, last_fires)?;
        let mut ids = Vec::with_capacity(runs.len());
        let mut insert_run = tx.prepare_cached(run_writes::INSERT)?;
        for run in runs {
            if run.trigger == Trigger::Schedule {
                owed::pay_owed(&tx, &run.task, run.due)?;
            }
            let id = insert(
                &mut insert_run,
                &NewRun {
                    task: &run.task,
                    trigger: &run.trigger,
                    scheduled_at: run.due,
                    started_at: run.at,
                    definition: &run.definition,
                    // Paid above, whatever its trigger says.
                    pays_owed: false,
                    claim: Claim::None,
                },
            )?;
            tx.prepare_cached(
                "UPDATE runs SET status = 'execution_error', finished_at_us = ?1, op_error = ?2
                 WHERE id = ?3",
            )?
            .execute(params![run.at.timestamp_micros(), run.reason, id.0])?;
            ids.push(id);
        }
        drop(insert_run);
        tx.commit()?;
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::history::tests::{Subject, conformance};
    use crate::run::RunStatus;

    conformance!(
        a_lost_fire_is_an_execution_error_with_its_reason,
        fires_queued_behind_a_lost_batch_stay_owed
    );

    fn a_lost_fire_is_an_execution_error_with_its_reason(subject: &Subject) {
        let history = subject.open();
        let task = TaskName::normalise("a").expect("name");
        let at = Utc
            .timestamp_opt(1_800_000_000, 0)
            .single()
            .expect("instant");
        let lost = LostRun {
            task: task.clone(),
            trigger: Trigger::Schedule,
            due: at,
            at,
            definition: "name: a\n".into(),
            reason: "not started: disk full".into(),
        };
        let ids = history
            .record_lost(&[(task.clone(), at)], &[], &[lost])
            .expect("record");
        let run = history
            .get_run(ids[0].expect("recorded"))
            .expect("read")
            .expect("exists");
        assert_eq!(run.status(), RunStatus::ExecutionError);
        assert_eq!(run.op_error(), "not started: disk full");
        assert_eq!(run.finished_at(), Some(at));
        assert_eq!(history.last_fires().expect("read").get(&task), Some(&at));
    }

    fn fires_queued_behind_a_lost_batch_stay_owed(subject: &Subject) {
        let history = subject.open();
        let task = TaskName::normalise("a").expect("name");
        let at = |secs| Utc.timestamp_opt(secs, 0).single().expect("instant");
        history
            .record_lost(
                &[(task.clone(), at(1_800_000_002))],
                &[(task.clone(), at(1_800_000_001))],
                &[],
            )
            .expect("record");
        assert_eq!(
            history.owed_fires().expect("read").get(&task),
            Some(&vec![at(1_800_000_001)]),
            "the queued fire survives the last fire moving past it"
        );
    }
}
