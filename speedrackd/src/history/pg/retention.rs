//! What retention reads and deletes: this node's runs only, since their output files are on
//! this node's disk and its own quota counts them. Which runs to keep is `crate::retention`'s;
//! removing the files is the caller's, once the rows are gone.

use deadpool_postgres::Object;
use tokio_postgres::IsolationLevel;

use super::worker::JobResult;
use super::{PgStore, count, instant, run_status, task_name};
use crate::config::TaskName;
use crate::history::HistoryError;
use crate::retention::RunMeta;
use crate::run::RunId;

/// Rows `oldest_over_quota` reads per query: it stops as soon as the excess is covered.
const QUOTA_PAGE: i64 = 1000;

impl PgStore {
    /// This node's runs of each task, newest first past the newest `unread`, as of one
    /// snapshot.
    pub(super) fn run_metas(
        &self,
        tasks: &[(TaskName, u32)],
    ) -> Result<Vec<(TaskName, Vec<RunMeta>)>, HistoryError> {
        let node = self.node.clone();
        let tasks = tasks.to_vec();
        self.worker
            .call("read runs for retention", move |mut client| async move {
                let tx = client
                    .build_transaction()
                    .isolation_level(IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start()
                    .await?;
                let stmt = tx
                    .prepare_cached(
                        "SELECT id, status, started_at_us FROM runs
                         WHERE task = $1 AND node = $2 ORDER BY id DESC OFFSET $3",
                    )
                    .await?;
                let mut metas = Vec::with_capacity(tasks.len());
                for (task, unread) in tasks {
                    let rows = tx
                        .query(&stmt, &[&task.as_str(), &node, &i64::from(unread)])
                        .await?;
                    let mut runs = Vec::with_capacity(rows.len());
                    for row in rows {
                        runs.push(RunMeta {
                            id: RunId(row.try_get(0)?),
                            status: run_status(row.try_get(1)?)?,
                            started_at: instant(row.try_get(2)?),
                        });
                    }
                    metas.push((task, runs));
                }
                tx.commit().await?;
                Ok(metas)
            })
    }

    /// This node's oldest finished runs whose output must go to bring its output under
    /// `quota` bytes.
    pub(super) fn oldest_over_quota(
        &self,
        quota: u64,
    ) -> Result<Vec<(TaskName, RunId)>, HistoryError> {
        let node = self.node.clone();
        self.worker
            .call("choose runs over the quota", move |client| async move {
                let total: i64 = client
                    .query_one(
                        "SELECT COALESCE(SUM(output_bytes), 0)::BIGINT FROM task_totals
                         WHERE node = $1",
                        &[&node],
                    )
                    .await?
                    .try_get(0)?;
                let excess = count(total).saturating_sub(quota);
                oldest_covering(&client, &node, excess).await
            })
    }

    /// Forgets this node's runs (never a running one, never another node's); their stored
    /// output goes with them.
    pub(super) fn delete_runs(&self, runs: &[(TaskName, RunId)]) -> Result<(), HistoryError> {
        let node = self.node.clone();
        let ids: Vec<i64> = runs.iter().map(|(_, run)| run.0).collect();
        self.worker.call("delete runs", move |client| async move {
            client
                .execute(
                    "DELETE FROM runs WHERE id = ANY($1) AND node = $2 AND status != 'running'",
                    &[&ids, &node],
                )
                .await?;
            Ok(())
        })
    }
}

/// This node's finished runs, oldest first, until their output adds up to `excess` bytes.
async fn oldest_covering(
    client: &Object,
    node: &str,
    mut excess: u64,
) -> JobResult<Vec<(TaskName, RunId)>> {
    let stmt = client
        .prepare_cached(
            "SELECT task, id, stdout_bytes + stderr_bytes - output_dropped_bytes FROM runs
             WHERE node = $1 AND id > $2 AND status != 'running' ORDER BY id LIMIT $3",
        )
        .await?;
    let mut out = Vec::new();
    let mut after = 0_i64;
    while excess > 0 {
        let rows = client.query(&stmt, &[&node, &after, &QUOTA_PAGE]).await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get(1)?;
        for row in &rows {
            if excess == 0 {
                break;
            }
            out.push((task_name(row.try_get(0)?)?, RunId(row.try_get(1)?)));
            excess = excess.saturating_sub(count(row.try_get(2)?));
        }
    }
    Ok(out)
}
