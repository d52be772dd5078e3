//! This node's fire bookkeeping: each task's last fire and the fires it owes (passed, not
//! started), as `history::owed` keeps them for SQLite, with the node in every key. Nodes keep
//! their own: a node that takes over another's fires is the cluster module's business.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;

use super::worker::JobResult;
use super::{PgStore, instant};
use crate::config::TaskName;
use crate::history::{HistoryError, MissedPlan};

/// Fires by task name and instant, owned, for a query job.
pub(super) type Stamps = Vec<(String, i64)>;

pub(super) fn stamps(fires: &[(TaskName, DateTime<Utc>)]) -> Stamps {
    fires
        .iter()
        .map(|(task, at)| (task.as_str().to_owned(), at.timestamp_micros()))
        .collect()
}

/// Moves tasks' last fires forward (never back: a late owed fire must not rewind the phase).
pub(super) async fn set_last_fires(
    tx: &Transaction<'_>,
    node: &str,
    fires: &Stamps,
) -> JobResult<()> {
    if fires.is_empty() {
        return Ok(());
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO task_fires AS fires (node, task, last_fire_us) VALUES ($1, $2, $3)
             ON CONFLICT (node, task)
             DO UPDATE SET last_fire_us = GREATEST(fires.last_fire_us, EXCLUDED.last_fire_us)",
        )
        .await?;
    for (task, at) in fires {
        tx.execute(&stmt, &[&node, task, at]).await?;
    }
    Ok(())
}

/// Records fires as owed (a fire already owed stays one row).
pub(super) async fn insert_owed(tx: &Transaction<'_>, node: &str, owed: &Stamps) -> JobResult<()> {
    if owed.is_empty() {
        return Ok(());
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO owed_fires (node, task, due_us) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .await?;
    for (task, due) in owed {
        tx.execute(&stmt, &[&node, task, due]).await?;
    }
    Ok(())
}

/// The owed fire a starting scheduled run pays, if it was one.
pub(super) async fn pay_owed(
    tx: &Transaction<'_>,
    node: &str,
    task: &str,
    due: i64,
) -> JobResult<()> {
    let stmt = tx
        .prepare_cached("DELETE FROM owed_fires WHERE node = $1 AND task = $2 AND due_us = $3")
        .await?;
    tx.execute(&stmt, &[&node, &task, &due]).await?;
    Ok(())
}

impl PgStore {
    /// Persists the start's decisions about missed fires, in one transaction.
    pub(super) fn settle_missed(&self, plans: &[MissedPlan]) -> Result<(), HistoryError> {
        let node = self.node.clone();
        let plans: Vec<(String, Option<i64>, Vec<i64>)> = plans
            .iter()
            .map(|plan| {
                (
                    plan.task.as_str().to_owned(),
                    plan.decided_until.map(|at| at.timestamp_micros()),
                    plan.owed.iter().map(DateTime::timestamp_micros).collect(),
                )
            })
            .collect();
        self.worker
            .call("record missed fires", move |mut client| async move {
                let tx = client.transaction().await?;
                for (task, until, owed) in &plans {
                    tx.execute(
                        "DELETE FROM owed_fires WHERE node = $1 AND task = $2",
                        &[&node, task],
                    )
                    .await?;
                    let owed: Stamps = owed.iter().map(|due| (task.clone(), *due)).collect();
                    insert_owed(&tx, &node, &owed).await?;
                    if let Some(until) = until {
                        set_last_fires(&tx, &node, &vec![(task.clone(), *until)]).await?;
                    }
                }
                tx.commit().await?;
                Ok(())
            })
    }

    /// Which of `fires` some node already recorded as the cluster's one run of it.
    pub(super) fn fires_claimed(
        &self,
        fires: &[(TaskName, DateTime<Utc>)],
    ) -> Result<Vec<bool>, HistoryError> {
        let (tasks, instants): (Vec<String>, Vec<i64>) = stamps(fires).into_iter().unzip();
        self.worker
            .call("read which fires are claimed", move |client| async move {
                let rows = client
                    .query(
                        "SELECT EXISTS (SELECT 1 FROM runs WHERE runs.task = f.task
                                            AND runs.scheduled_at_us = f.at
                                            AND runs.claim = '')
                         FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS f(task, at, ord)
                         ORDER BY f.ord",
                        &[&tasks, &instants],
                    )
                    .await?;
                rows.iter()
                    .map(|row| Ok(row.try_get(0)?))
                    .collect::<JobResult<Vec<bool>>>()
            })
    }

    /// This node's last scheduled fire of every task that fired on it.
    pub(super) fn last_fires(&self) -> Result<HashMap<TaskName, DateTime<Utc>>, HistoryError> {
        let node = self.node.clone();
        self.worker
            .call("read the last fires", move |client| async move {
                let rows = client
                    .query(
                        "SELECT task, last_fire_us FROM task_fires WHERE node = $1",
                        &[&node],
                    )
                    .await?;
                let mut out = HashMap::new();
                for row in rows {
                    if let Some(task) = TaskName::parse_normalised(row.try_get(0)?) {
                        out.insert(task, instant(row.try_get(1)?));
                    }
                }
                Ok(out)
            })
    }

    /// Every fire this node owes, per task, oldest first.
    pub(super) fn owed_fires(&self) -> Result<HashMap<TaskName, Vec<DateTime<Utc>>>, HistoryError> {
        let node = self.node.clone();
        self.worker
            .call("read the owed fires", move |client| async move {
                let rows = client
                    .query(
                        "SELECT task, due_us FROM owed_fires WHERE node = $1 ORDER BY due_us",
                        &[&node],
                    )
                    .await?;
                let mut out: HashMap<TaskName, Vec<DateTime<Utc>>> = HashMap::new();
                for row in rows {
                    if let Some(task) = TaskName::parse_normalised(row.try_get(0)?) {
                        out.entry(task).or_default().push(instant(row.try_get(1)?));
                    }
                }
                Ok(out)
            })
    }
}
