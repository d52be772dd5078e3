//! Runs as lists show them: every column but the task definition, which only the page of one
//! run needs (`SqliteStore::get_run` reads it).
//!
//! Read-only. Pages of runs are cut by the RPC layer; this only reads rows in order, those a
//! `RunFilter` passes, and counts them (in all, or per span of start time), and gives a task
//! list the count and newest runs of each of its tasks (`TaskHead`).

use chrono::{DateTime, Utc};
use rusqlite::params_from_iter;
use rusqlite::types::Value;

use super::filter::RunFilter;
use super::{HistoryError, RUN_COLUMNS, SqliteStore, read_run};
use crate::config::TaskName;
use crate::run::{RunId, RunRecord};

/// Finished runs of task ?1 by span of `?4` µs from `?2` until `?3`: one `GROUP BY` over the
/// task's runs in the range (index `runs_by_task_start`), not a read of each.
const SPAN_COUNTS: &str =
    "SELECT (started_at_us - ?2) / ?4, SUM(status = 'success'), SUM(status != 'success')
     FROM runs
     WHERE task = ?1 AND started_at_us >= ?2 AND started_at_us < ?3 AND status != 'running'
     GROUP BY 1";

/// Finished runs started in one span: how many succeeded and how many did not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpanCount {
    pub succeeded: u32,
    pub failed: u32,
}

/// What a task list shows of one task's history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskHead {
    /// Runs kept, finished or not.
    pub runs: u64,
    /// Its newest runs, newest first, without their definitions.
    pub recent: Vec<RunRecord>,
}

impl SqliteStore {
    /// Each task's count and newest `recent` runs (at least one): a query or two per task,
    /// each an index lookup in the same file.
    pub(super) fn task_heads(
        &self,
        tasks: &[TaskName],
        recent: usize,
    ) -> Result<Vec<TaskHead>, HistoryError> {
        tasks
            .iter()
            .map(|task| {
                Ok(TaskHead {
                    runs: self.count_runs(task)?,
                    recent: self.list_runs_brief(task, None, recent.max(1))?,
                })
            })
            .collect()
    }

    /// Runs of a task, newest first, older than `before` when given, each with an empty
    /// `definition`: a definition is a few KiB of YAML per run, and a list of a thousand
    /// tasks' recent runs would read (and send) it a hundred thousand times.
    pub(super) fn list_runs_brief(
        &self,
        task: &TaskName,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError> {
        self.list_matching(task, &RunFilter::default(), before, limit)
    }

    /// As `list_runs_brief`, only the runs `filter` passes.
    pub(super) fn list_matching(
        &self,
        task: &TaskName,
        filter: &RunFilter,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError> {
        let columns = RUN_COLUMNS.replace(", definition,", ", '' AS definition,");
        self.runs_of(&columns, task, filter, before, limit)
    }

    /// How many runs of a task `filter` passes.
    pub(super) fn count_matching(
        &self,
        task: &TaskName,
        filter: &RunFilter,
    ) -> Result<u64, HistoryError> {
        if filter.is_empty() {
            return self.count_runs(task);
        }
        let (clauses, mut values) = filter.sql(2);
        values.insert(0, Value::Text(task.as_str().to_owned()));
        let sql = format!("SELECT COUNT(*) FROM runs WHERE task = ?1{clauses}");
        let count: i64 = self
            .reader()?
            .prepare_cached(&sql)?
            .query_row(params_from_iter(values), |row| row.get(0))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// A task's finished runs by outcome, in `spans` consecutive spans of `span` from `from`,
    /// by start time.
    pub(super) fn count_by_span(
        &self,
        task: &TaskName,
        from: DateTime<Utc>,
        span: chrono::TimeDelta,
        spans: usize,
    ) -> Result<Vec<SpanCount>, HistoryError> {
        let span_us = span.num_microseconds().unwrap_or(i64::MAX).max(1);
        let start = from.timestamp_micros();
        let end = start.saturating_add(span_us.saturating_mul(i64::try_from(spans).unwrap_or(0)));
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(SPAN_COUNTS)?;
        let rows = stmt.query_map(
            rusqlite::params![task.as_str(), start, end, span_us],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            },
        )?;
        let mut counts = vec![SpanCount::default(); spans];
        for row in rows {
            let (index, succeeded, failed) = row?;
            if let Some(count) = usize::try_from(index).ok().and_then(|i| counts.get_mut(i)) {
                count.succeeded = u32::try_from(succeeded).unwrap_or(u32::MAX);
                count.failed = u32::try_from(failed).unwrap_or(u32::MAX);
            }
        }
        Ok(counts)
    }

    /// `columns` of a task's runs that `filter` passes, newest first, older than `before` when
    /// given.
    pub(super) fn runs_of(
        &self,
        columns: &str,
        task: &TaskName,
        filter: &RunFilter,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError> {
        let (clauses, filter_values) = filter.sql(4);
        let sql = format!(
            "SELECT {columns} FROM runs WHERE task = ?1 AND id < ?2{clauses} \
             ORDER BY id DESC LIMIT ?3"
        );
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(&sql)?;
        let before = before.map_or(i64::MAX, |id| id.0);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut values = vec![
            Value::Text(task.as_str().to_owned()),
            Value::Integer(before),
            Value::Integer(limit),
        ];
        values.extend(filter_values);
        let runs = stmt.query_map(params_from_iter(values), read_run)?;
        Ok(runs.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::history::NewRun;
    use crate::history::tests::{Subject, conformance};
    use crate::run::Trigger;

    conformance!(brief_runs_leave_the_definition_out_and_keep_the_rest);

    #[test]
    fn counts_by_start_time_read_only_the_range_of_the_task() {
        let plan: Vec<String> = super::super::tests_sqlite::explain(
            "EXPLAIN QUERY PLAN",
            SPAN_COUNTS,
            rusqlite::params!["t", 0, 1, 1],
            3,
        );
        assert!(
            plan.iter().any(|step| step
                .contains("runs_by_task_start (task=? AND started_at_us>? AND started_at_us<?)")),
            "{plan:?}"
        );
    }

    fn brief_runs_leave_the_definition_out_and_keep_the_rest(subject: &Subject) {
        let history = subject.open();
        let task = TaskName::parse_normalised("brief").expect("a valid name");
        let now = Utc
            .timestamp_opt(1_800_000_000, 0)
            .single()
            .expect("valid instant");
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(
                history
                    .insert_run(&NewRun {
                        task: &task,
                        trigger: &Trigger::Manual { by: "ann".into() },
                        scheduled_at: now,
                        started_at: now,
                        definition: "command: echo hi\n",
                        pays_owed: false,
                        claim: crate::history::Claim::None,
                    })
                    .expect("insert"),
            );
        }
        let brief = history
            .list_runs_brief(&task, Some(ids[2]), 10)
            .expect("list");
        let full = history.list_runs(&task, Some(ids[2]), 10).expect("list");
        assert_eq!(brief.len(), 2);
        for (brief, full) in brief.iter().zip(&full) {
            assert_eq!(full.definition, "command: echo hi\n");
            let without = RunRecord {
                definition: String::new(),
                ..full.clone()
            };
            assert_eq!(brief, &without);
        }
    }
}
