//! What history holds per task, across the cluster: task names, run counts, the metrics'
//! summaries, failure streaks, and suspension (which holds for every node).
//!
//! Read-only. Counts come from `task_totals`, which triggers keep per task and node (see
//! `migrations.rs`), summed here over the nodes.

use std::collections::HashMap;

use super::worker::JobResult;
use super::{PgStore, count, instant, run_status};
use crate::config::TaskName;
use crate::history::{HistoryError, TaskSummary};

/// Runs and kept output bytes per task, summed over the nodes.
const TOTALS: &str = "SELECT task, SUM(runs)::BIGINT AS runs,
        SUM(output_bytes)::BIGINT AS output_bytes
    FROM task_totals GROUP BY task";

impl PgStore {
    pub(super) fn count_runs(&self, task: &TaskName) -> Result<u64, HistoryError> {
        let task = task.as_str().to_owned();
        self.worker.call("count runs", move |client| async move {
            let stmt = client
                .prepare_cached(
                    "SELECT COALESCE(SUM(runs), 0)::BIGINT FROM task_totals WHERE task = $1",
                )
                .await?;
            Ok(count(client.query_one(&stmt, &[&task]).await?.try_get(0)?))
        })
    }

    /// Every task with history, sorted by bytes as SQLite sorts them, whatever the
    /// database's collation.
    pub(super) fn task_names(&self) -> Result<Vec<TaskName>, HistoryError> {
        self.worker.call("list tasks", move |client| async move {
            let rows = client
                .query(
                    "SELECT task FROM task_totals GROUP BY task ORDER BY task COLLATE \"C\"",
                    &[],
                )
                .await?;
            let mut names = Vec::with_capacity(rows.len());
            for row in rows {
                names.extend(TaskName::parse_normalised(row.try_get(0)?));
            }
            Ok(names)
        })
    }

    /// Every task with history and its totals, its last success and failure and how its
    /// newest finished run ended (one index lookup each).
    pub(super) fn task_summaries(&self) -> Result<Vec<TaskSummary>, HistoryError> {
        let sql = format!(
            "SELECT totals.task, totals.runs, totals.output_bytes,
                (SELECT MAX(finished_at_us) FROM runs
                 WHERE runs.task = totals.task AND runs.status = 'success'),
                (SELECT MAX(finished_at_us) FROM runs
                 WHERE runs.task = totals.task
                   AND runs.status IN ('failure', 'execution_error', 'interrupted')),
                (SELECT status FROM runs
                 WHERE runs.task = totals.task AND runs.status != 'running'
                 ORDER BY runs.id DESC LIMIT 1)
             FROM ({TOTALS}) AS totals ORDER BY totals.task COLLATE \"C\""
        );
        self.worker
            .call("summarise tasks", move |client| async move {
                let rows = client.query(&sql, &[]).await?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let last_status: Option<String> = row.try_get(5)?;
                    let Some(task) = TaskName::parse_normalised(row.try_get(0)?) else {
                        continue;
                    };
                    out.push(TaskSummary {
                        task,
                        runs: count(row.try_get(1)?),
                        output_bytes: count(row.try_get(2)?),
                        last_success: row.try_get::<_, Option<i64>>(3)?.map(instant),
                        last_failure: row.try_get::<_, Option<i64>>(4)?.map(instant),
                        last_status: last_status.as_deref().map(run_status).transpose()?,
                    });
                }
                Ok(out)
            })
    }

    /// For every task with history, how many runs did not succeed since its last success, in
    /// the order runs finished (as the runtime counts them).
    pub(super) fn failure_streaks(&self) -> Result<HashMap<TaskName, u32>, HistoryError> {
        self.worker
            .call("read failure streaks", move |client| async move {
                let rows = client
                    .query(
                        "SELECT tasks.task,
                            (SELECT COUNT(*) FROM runs
                             WHERE runs.task = tasks.task
                               AND runs.status IN ('failure', 'execution_error', 'interrupted')
                               AND runs.finished_at_us > COALESCE(
                                   (SELECT MAX(finished_at_us) FROM runs AS ok
                                    WHERE ok.task = tasks.task AND ok.status = 'success'), -1))
                         FROM (SELECT DISTINCT task FROM task_totals) AS tasks",
                        &[],
                    )
                    .await?;
                let mut out = HashMap::new();
                for row in rows {
                    if let Some(task) = TaskName::parse_normalised(row.try_get(0)?) {
                        let streak: i64 = row.try_get(1)?;
                        out.insert(task, u32::try_from(streak).unwrap_or(u32::MAX));
                    }
                }
                Ok(out)
            })
    }

    /// Suspended or not, for every task ever suspended or resumed on any node.
    pub(super) fn suspension_states(&self) -> Result<HashMap<TaskName, bool>, HistoryError> {
        self.worker
            .call("read suspensions", move |client| async move {
                let rows = client
                    .query("SELECT task, suspended FROM task_state", &[])
                    .await?;
                let mut out = HashMap::new();
                for row in rows {
                    if let Some(task) = TaskName::parse_normalised(row.try_get(0)?) {
                        out.insert(task, row.try_get(1)?);
                    }
                }
                JobResult::Ok(out)
            })
    }
}
