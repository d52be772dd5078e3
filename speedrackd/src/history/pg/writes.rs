//! What the runtime loop writes about this node's runs: starts (each scheduled fire claimed
//! against the cluster), process groups, ends with their output, links and notes, crash
//! recovery, and suspension (the one cluster-wide write: suspension holds for every node).
//!
//! Every statement on runs names this node: a node never ends, links or closes another node's
//! runs (taking over a dead node's runs is the cluster module's).

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use tokio_postgres::Statement;

use super::fires::{self, stamps};
use super::news;
use super::worker::JobResult;
use super::{PgStore, count, micros, output, split_exit, task_name, to_count, trigger_columns};
use crate::config::TaskName;
use crate::history::{Claim, HistoryError, NewRun, Orphan, ProcessGroup};
use crate::run::{KillCause, RunEnd, RunId};

/// A run to start, owned for a query job.
struct Start {
    task: String,
    trigger: &'static str,
    requested_by: String,
    scheduled_at: i64,
    started_at: i64,
    definition: String,
    pays_owed: bool,
    /// `runs.claim`: NULL, '' (the cluster's) or this node's name.
    claim: Option<String>,
}

impl Start {
    fn of(run: &NewRun<'_>, node: &str) -> Start {
        let (trigger, requested_by) = trigger_columns(run.trigger);
        Start {
            task: run.task.as_str().to_owned(),
            trigger,
            requested_by,
            scheduled_at: run.scheduled_at.timestamp_micros(),
            started_at: run.started_at.timestamp_micros(),
            definition: run.definition.to_owned(),
            pays_owed: run.pays_owed,
            claim: claim_column(run.claim, node),
        }
    }

    /// The unique key it is claimed under.
    fn key(&self) -> (&str, i64, Option<&str>) {
        (&self.task, self.scheduled_at, self.claim.as_deref())
    }
}

fn claim_column(claim: Claim, node: &str) -> Option<String> {
    match claim {
        Claim::None => None,
        Claim::Cluster => Some(String::new()),
        Claim::PerNode => Some(node.to_owned()),
    }
}

/// Inserts a running run unless its fire is claimed already; its id, or `None`.
const INSERT_RUN: &str = "INSERT INTO runs (id, node, claim, task, trigger, requested_by,
        scheduled_at_us, started_at_us, status, definition)
    VALUES (COALESCE($1, nextval('runs_id_seq')), $2, $3, $4, $5, $6, $7, $8, 'running', $9)
    ON CONFLICT (task, scheduled_at_us, claim) WHERE claim IS NOT NULL DO NOTHING
    RETURNING id";

const FINISH_RUN: &str = "UPDATE runs SET finished_at_us = $1, exit_code = $2, signal = $3,
        status = $4, stdout_bytes = $5, stderr_bytes = $6, op_error = $7, reason = $8,
        killed_by = $9, max_rss_bytes = $10, cpu_user_us = $11, cpu_system_us = $12,
        output_dropped_bytes = $13, kill_cause = $14
    WHERE id = $15 AND node = $16 AND status = 'running'
    RETURNING task";

impl PgStore {
    /// Records last fires, owed fires and runs in one transaction. A scheduled fire another
    /// node recorded first gets `None`: a second insert of a key waits for the first
    /// transaction and then does nothing.
    pub(super) fn record_starts(
        &self,
        last_fires: &[(TaskName, DateTime<Utc>)],
        owed: &[(TaskName, DateTime<Utc>)],
        runs: &[NewRun<'_>],
    ) -> Result<Vec<Option<RunId>>, HistoryError> {
        let node = self.node.clone();
        let (last_fires, owed) = (stamps(last_fires), stamps(owed));
        let starts: Vec<Start> = runs.iter().map(|run| Start::of(run, &node)).collect();
        self.worker
            .call("record run starts", move |mut client| async move {
                let tx = client.transaction().await?;
                fires::set_last_fires(&tx, &node, &last_fires).await?;
                fires::insert_owed(&tx, &node, &owed).await?;
                let claimed = insert_starts(&tx, &node, &starts).await?;
                let started: Vec<&str> = starts
                    .iter()
                    .zip(&claimed)
                    .filter(|(_, id)| id.is_some())
                    .map(|(start, _)| start.task.as_str())
                    .collect();
                news::send(&tx, &node, &started).await?;
                tx.commit().await?;
                Ok(claimed)
            })
    }

    /// Remembers where running runs' processes are, for crash recovery.
    pub(super) fn set_process_groups(&self, groups: &[ProcessGroup]) -> Result<(), HistoryError> {
        let node = self.node.clone();
        let groups: Vec<(i64, i32, Option<i64>)> = groups
            .iter()
            .map(|group| {
                let ticks = group.start_ticks.and_then(|t| i64::try_from(t).ok());
                (group.run.0, group.pgid, ticks)
            })
            .collect();
        self.worker
            .call("record process groups", move |mut client| async move {
                let tx = client.transaction().await?;
                let stmt = tx
                    .prepare_cached(
                        "UPDATE runs SET pgid = $1, pgid_start_ticks = $2
                         WHERE id = $3 AND node = $4",
                    )
                    .await?;
                for (run, pgid, ticks) in &groups {
                    tx.execute(&stmt, &[pgid, ticks, run, &node]).await?;
                }
                tx.commit().await?;
                Ok(())
            })
    }

    /// Records how runs ended and copies their output into the database, all or none. A run
    /// no longer running (closed as interrupted when this node was taken for dead) keeps the
    /// end it was given.
    pub(super) fn finish_runs(&self, ends: &[(RunId, &RunEnd)]) -> Result<(), HistoryError> {
        let node = self.node.clone();
        let data_dir = self.data_dir.clone();
        let ends: Vec<(RunId, RunEnd)> =
            ends.iter().map(|(id, end)| (*id, (*end).clone())).collect();
        self.worker
            .call("record run ends", move |mut client| async move {
                let tx = client.transaction().await?;
                let stmt = tx.prepare_cached(FINISH_RUN).await?;
                let mut ended = Vec::with_capacity(ends.len());
                for (run, end) in &ends {
                    if let Some(task) = finish(&tx, &stmt, &node, *run, end).await? {
                        ended.push((*run, task));
                    }
                }
                output::store(&tx, &data_dir, &ended).await?;
                let tasks: Vec<&str> = ended.iter().map(|(_, task)| task.as_str()).collect();
                news::send(&tx, &node, &tasks).await?;
                tx.commit().await?;
                Ok(())
            })
    }

    pub(super) fn set_notification_error(
        &self,
        run: RunId,
        text: &str,
    ) -> Result<(), HistoryError> {
        let (node, text) = (self.node.clone(), text.to_owned());
        self.worker
            .call("record a notification error", move |client| async move {
                client
                    .execute(
                        "UPDATE runs SET notification_error = $1 WHERE id = $2 AND node = $3",
                        &[&text, &run.0, &node],
                    )
                    .await?;
                Ok(())
            })
    }

    /// Records which run replaced `runs` (killed for it, overlap: replace).
    pub(super) fn set_replaced_by(&self, runs: &[RunId], by: RunId) -> Result<(), HistoryError> {
        let node = self.node.clone();
        let runs: Vec<i64> = runs.iter().map(|run| run.0).collect();
        self.worker.call(
            "record which run replaced others",
            move |client| async move {
                client
                    .execute(
                        "UPDATE runs SET replaced_by = $1 WHERE id = ANY($2) AND node = $3",
                        &[&by.0, &runs, &node],
                    )
                    .await?;
                Ok(())
            },
        )
    }

    /// Closes the runs this node left `running` when it died (never another node's), copies
    /// what output they left, and returns their process groups.
    pub(super) fn close_interrupted(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<Orphan>, HistoryError> {
        let node = self.node.clone();
        let data_dir = self.data_dir.clone();
        self.worker
            .call("close runs interrupted by a stop", move |mut client| async move {
                let tx = client.transaction().await?;
                let rows = tx
                    .query(
                        "UPDATE runs SET status = 'interrupted', finished_at_us = $1,
                             op_error = 'speedrackd stopped while this run was in flight; its end is unknown'
                         WHERE node = $2 AND status = 'running'
                         RETURNING id, pgid, pgid_start_ticks, task",
                        &[&now.timestamp_micros(), &node],
                    )
                    .await?;
                let mut orphans = Vec::with_capacity(rows.len());
                for row in rows {
                    orphans.push(Orphan {
                        run: RunId(row.try_get(0)?),
                        process_group: row.try_get(1)?,
                        start_ticks: row.try_get::<_, Option<i64>>(2)?.map(count),
                        task: task_name(row.try_get(3)?)?,
                    });
                }
                orphans.sort_by_key(|orphan| orphan.run);
                let ended: Vec<_> = orphans.iter().map(|o| (o.run, o.task.clone())).collect();
                output::store(&tx, &data_dir, &ended).await?;
                tx.commit().await?;
                Ok(orphans)
            })
    }

    pub(super) fn set_suspended(
        &self,
        task: &TaskName,
        suspended: bool,
    ) -> Result<(), HistoryError> {
        let task = task.as_str().to_owned();
        self.worker
            .call("record a suspension", move |client| async move {
                client
                    .execute(
                        "INSERT INTO task_state (task, suspended) VALUES ($1, $2)
                         ON CONFLICT (task) DO UPDATE SET suspended = EXCLUDED.suspended",
                        &[&task, &suspended],
                    )
                    .await?;
                Ok(())
            })
    }
}

/// Records one run's end; its task, or `None` when it is not this node's running run.
async fn finish(
    tx: &Transaction<'_>,
    stmt: &Statement,
    node: &str,
    run: RunId,
    end: &RunEnd,
) -> JobResult<Option<TaskName>> {
    let (exit_code, signal) = split_exit(end.exit);
    let row = tx
        .query_opt(
            stmt,
            &[
                &end.finished_at.timestamp_micros(),
                &exit_code,
                &signal,
                &end.status.as_str(),
                &to_count(end.stdout_bytes),
                &to_count(end.stderr_bytes),
                &end.op_error,
                &end.reason,
                &end.killed_by,
                &to_count(end.usage.max_rss_bytes),
                &micros(end.usage.cpu_user),
                &micros(end.usage.cpu_system),
                &to_count(end.output_dropped_bytes),
                &end.kill_cause.map_or("", KillCause::as_str),
                &run.0,
                &node,
            ],
        )
        .await?;
    row.map(|row| task_name(row.try_get(0)?)).transpose()
}

/// Inserts the runs, paying their owed fires, in the order of their keys: two nodes recording
/// the same fires then wait for each other in one order, never in a cycle. Ids are taken in
/// the batch's order first, so they still grow along the batch.
async fn insert_starts(
    tx: &Transaction<'_>,
    node: &str,
    starts: &[Start],
) -> JobResult<Vec<Option<RunId>>> {
    let ids = new_ids(tx, starts.len()).await?;
    let stmt = tx.prepare_cached(INSERT_RUN).await?;
    let mut order: Vec<usize> = (0..starts.len()).collect();
    order.sort_by(|&a, &b| starts[a].key().cmp(&starts[b].key()));
    let mut claimed = vec![None; starts.len()];
    for index in order {
        let start = &starts[index];
        if start.pays_owed {
            fires::pay_owed(tx, node, &start.task, start.scheduled_at).await?;
        }
        let row = tx
            .query_opt(
                &stmt,
                &[
                    &ids.get(index).copied().flatten(),
                    &node,
                    &start.claim,
                    &start.task,
                    &start.trigger,
                    &start.requested_by,
                    &start.scheduled_at,
                    &start.started_at,
                    &start.definition,
                ],
            )
            .await?;
        claimed[index] = row.map(|row| row.try_get(0).map(RunId)).transpose()?;
    }
    Ok(claimed)
}

/// `count` new run ids in ascending order, when there is more than one to keep in order.
async fn new_ids(tx: &Transaction<'_>, count: usize) -> JobResult<Vec<Option<i64>>> {
    if count < 2 {
        return Ok(vec![None; count]);
    }
    let wanted = i32::try_from(count).unwrap_or(i32::MAX);
    let rows = tx
        .query(
            "SELECT nextval('runs_id_seq') FROM generate_series(1, $1)",
            &[&wanted],
        )
        .await?;
    let mut ids = rows
        .iter()
        .map(|row| row.try_get::<_, i64>(0))
        .collect::<Result<Vec<_>, _>>()?;
    ids.sort_unstable();
    Ok(ids.into_iter().map(Some).collect())
}
