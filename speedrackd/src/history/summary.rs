//! Per-task totals over all of history, for the metrics scrape.
//!
//! Read-only and aggregate: it answers how much history holds and when each task last
//! succeeded; single runs are read by the queries in `mod.rs`.

use chrono::{DateTime, Utc};

use super::{HistoryError, SqliteStore, from_sql_count, instant};
use crate::config::TaskName;

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
}

impl SqliteStore {
    /// Every task that has history, with its totals: the trigger-kept totals, and one index
    /// lookup per task for its last success.
    pub(super) fn task_summaries(&self) -> Result<Vec<TaskSummary>, HistoryError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(
            "SELECT totals.task, totals.runs, totals.output_bytes,
                    (SELECT MAX(finished_at_us) FROM runs
                     WHERE runs.task = totals.task AND runs.status = 'success')
             FROM task_totals AS totals ORDER BY totals.task",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, Option<i64>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (task, runs, bytes, last_success) = row?;
            if let Some(task) = TaskName::parse_normalised(&task) {
                out.push(TaskSummary {
                    task,
                    runs: from_sql_count(runs),
                    output_bytes: from_sql_count(bytes),
                    last_success: last_success.map(instant),
                });
            }
        }
        Ok(out)
    }
}
