//! Per-task totals over all of history, for the metrics scrape.
//!
//! Read-only and aggregate: it answers how much history holds, when each task last succeeded
//! and failed, and how its newest finished run ended; single runs are read by the queries in
//! `mod.rs`.

use chrono::{DateTime, Utc};

use super::{HistoryError, SqliteStore, bad_value, from_sql_count, instant};
use crate::config::TaskName;
use crate::run::RunStatus;

/// What history holds of one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSummary {
    pub task: TaskName,
    /// Runs kept, finished or not.
    pub runs: u64,
    /// Output (stdout and stderr) of those runs, in bytes.
    pub output_bytes: u64,
    /// When the last successful run finished.
    pub last_success: Option<DateTime<Utc>>,
    /// When the last run that did not succeed finished.
    pub last_failure: Option<DateTime<Utc>>,
    /// How the newest finished run ended.
    pub last_status: Option<RunStatus>,
}

/// Each task's totals and, by index (`runs_last_success`, `runs_last_failure`), its last
/// success and failure; the failure condition is written as the index's, or SQLite would not
/// use it.
const SUMMARIES: &str = "SELECT totals.task, totals.runs, totals.output_bytes,
                    (SELECT MAX(finished_at_us) FROM runs
                     WHERE runs.task = totals.task AND runs.status = 'success'),
                    (SELECT MAX(finished_at_us) FROM runs
                     WHERE runs.task = totals.task
                       AND (runs.status = 'failure' OR runs.status = 'execution_error'
                            OR runs.status = 'interrupted')),
                    (SELECT status FROM runs
                     WHERE runs.task = totals.task AND runs.status != 'running'
                     ORDER BY runs.id DESC LIMIT 1)
             FROM task_totals AS totals ORDER BY totals.task";

impl SqliteStore {
    /// Every task that has history, with its totals: the trigger-kept totals, and one index
    /// lookup per task for each of its last success, its last failure and its newest end.
    pub(super) fn task_summaries(&self) -> Result<Vec<TaskSummary>, HistoryError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(SUMMARIES)?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, Option<i64>>(3)?,
                row.get::<_, Option<i64>>(4)?,
                row.get::<_, Option<String>>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (task, runs, bytes, last_success, last_failure, last_status) = row?;
            let last_status = match last_status {
                Some(text) => Some(
                    RunStatus::parse(&text)
                        .ok_or_else(|| bad_value(5, format!("run status {text:?}")))?,
                ),
                None => None,
            };
            if let Some(task) = TaskName::parse_normalised(&task) {
                out.push(TaskSummary {
                    task,
                    runs: from_sql_count(runs),
                    output_bytes: from_sql_count(bytes),
                    last_success: last_success.map(instant),
                    last_failure: last_failure.map(instant),
                    last_status,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::SUMMARIES;

    #[test]
    fn last_success_and_failure_are_read_by_their_indexes() {
        let plan: Vec<String> =
            super::super::tests_sqlite::explain("EXPLAIN QUERY PLAN", SUMMARIES, [], 3);
        for index in ["runs_last_success (task=?)", "runs_last_failure (task=?)"] {
            assert!(
                plan.iter().any(|step| step.ends_with(index)),
                "{index}: {plan:?}"
            );
        }
    }
}
