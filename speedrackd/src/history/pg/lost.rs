//! Fires whose runs the database refused when they were due, written later as execution
//! errors (`history::lost` for SQLite). A scheduled one is claimed for the cluster like a
//! start, and skipped when another node recorded its fire, or this node did for itself.

use chrono::{DateTime, Utc};

use super::PgStore;
use super::fires::{self, stamps};
use super::trigger_columns;
use crate::config::TaskName;
use crate::history::{HistoryError, LostRun};
use crate::run::{RunId, Trigger};

/// A lost run, ended, unless its fire is recorded: claimed by the cluster (`$2` = ''), or by
/// this node for itself (`run_on: all`), which `LostRun` cannot tell apart from the first.
const INSERT_LOST: &str = "INSERT INTO runs (node, claim, task, trigger, requested_by,
        scheduled_at_us, started_at_us, finished_at_us, status, op_error, definition)
    SELECT $1::TEXT, $2::TEXT, $3::TEXT, $4::TEXT, $5::TEXT, $6::BIGINT, $7::BIGINT,
        $7::BIGINT, 'execution_error', $8::TEXT, $9::TEXT
    WHERE $2::TEXT IS NULL OR NOT EXISTS (
        SELECT 1 FROM runs WHERE task = $3::TEXT AND scheduled_at_us = $6::BIGINT
            AND claim = $1::TEXT)
    ON CONFLICT (task, scheduled_at_us, claim) WHERE claim IS NOT NULL DO NOTHING
    RETURNING id";

impl PgStore {
    /// Records lost fires as finished execution errors with their batch's last and owed
    /// fires, in one transaction; `None` for a fire recorded already. A lost scheduled fire
    /// pays its owed row: it is settled, not to be run.
    pub(super) fn record_lost(
        &self,
        last_fires: &[(TaskName, DateTime<Utc>)],
        owed: &[(TaskName, DateTime<Utc>)],
        runs: &[LostRun],
    ) -> Result<Vec<Option<RunId>>, HistoryError> {
        let node = self.node.clone();
        let (last_fires, owed) = (stamps(last_fires), stamps(owed));
        let runs = runs.to_vec();
        self.worker
            .call("record lost fires", move |mut client| async move {
                let tx = client.transaction().await?;
                fires::insert_owed(&tx, &node, &owed).await?;
                fires::set_last_fires(&tx, &node, &last_fires).await?;
                let stmt = tx.prepare_cached(INSERT_LOST).await?;
                let mut ids = Vec::with_capacity(runs.len());
                for run in &runs {
                    let scheduled = run.trigger == Trigger::Schedule;
                    let task = run.task.as_str();
                    let due = run.due.timestamp_micros();
                    if scheduled {
                        fires::pay_owed(&tx, &node, task, due).await?;
                    }
                    let (trigger, requested_by) = trigger_columns(&run.trigger);
                    let claim = scheduled.then(String::new);
                    let row = tx
                        .query_opt(
                            &stmt,
                            &[
                                &node,
                                &claim,
                                &task,
                                &trigger,
                                &requested_by,
                                &due,
                                &run.at.timestamp_micros(),
                                &run.reason,
                                &run.definition,
                            ],
                        )
                        .await?;
                    ids.push(row.map(|row| row.try_get(0).map(RunId)).transpose()?);
                }
                tx.commit().await?;
                Ok(ids)
            })
    }
}
