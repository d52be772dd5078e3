//! Runs as pages and lists read them, from every node: one run, a task's runs newest first
//! (all, or those a `RunFilter` passes), their counts, and per-span counts by outcome.
//!
//! Read-only and cluster-wide. The filter's SQL is `history::filter`'s, renumbered for
//! PostgreSQL's `$n`; totals and summaries are `totals.rs`'s.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use tokio_postgres::types::ToSql;

use super::worker::JobResult;
use super::{PgStore, RUN_WIDTH, brief_run_columns, read_run, run_columns};
use crate::config::TaskName;
use crate::history::{HistoryError, RunFilter, SpanCount, TaskHead};
use crate::run::{RunId, RunRecord};

/// Finished runs of task $1 by span of `$4` µs from `$2` until `$3` (index
/// `runs_by_task_start`).
const SPAN_COUNTS: &str = "SELECT (started_at_us - $2) / $4,
        COUNT(*) FILTER (WHERE status = 'success'), COUNT(*) FILTER (WHERE status != 'success')
    FROM runs
    WHERE task = $1 AND started_at_us >= $2 AND started_at_us < $3 AND status != 'running'
    GROUP BY 1";

type Param = Box<dyn ToSql + Send + Sync>;

/// `filter`'s clauses with `$n` placeholders from `$first`, and their parameters.
fn filter_sql(filter: &RunFilter, first: usize) -> (String, Vec<Param>) {
    let (clauses, values) = filter.sql(first);
    let params = values
        .into_iter()
        .map(|value| -> Param {
            match value {
                Value::Integer(number) => Box::new(number),
                Value::Text(text) => Box::new(text),
                Value::Real(number) => Box::new(number),
                Value::Blob(bytes) => Box::new(bytes),
                Value::Null => Box::new(None::<String>),
            }
        })
        .collect();
    (clauses.replace('?', "$"), params)
}

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|param| param.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

impl PgStore {
    /// Each task's count and newest `recent` runs (at least one), in one round trip: a task
    /// list of a hundred tasks would otherwise cost two hundred.
    pub(super) fn task_heads(
        &self,
        tasks: &[TaskName],
        recent: usize,
    ) -> Result<Vec<TaskHead>, HistoryError> {
        let names: Vec<String> = tasks.iter().map(|task| task.as_str().to_owned()).collect();
        let limit = i64::try_from(recent.max(1)).unwrap_or(i64::MAX);
        // The lateral's columns come first, as `read_run` reads them; a task without runs
        // gives one row of NULLs there.
        let sql = format!(
            "SELECT r.*, t.ord,
                    (SELECT COALESCE(SUM(runs), 0)::BIGINT FROM task_totals
                     WHERE task_totals.task = t.task)
             FROM unnest($1::text[]) WITH ORDINALITY AS t(task, ord)
             LEFT JOIN LATERAL (SELECT {} FROM runs WHERE runs.task = t.task
                                ORDER BY id DESC LIMIT $2) r ON true
             ORDER BY t.ord, r.id DESC",
            brief_run_columns()
        );
        let width = tasks.len();
        self.worker
            .call("read the tasks' newest runs", move |client| async move {
                let stmt = client.prepare_cached(&sql).await?;
                let mut heads = vec![TaskHead::default(); width];
                for row in client.query(&stmt, &[&names, &limit]).await? {
                    let ord: i64 = row.try_get(RUN_WIDTH)?;
                    let Some(head) = usize::try_from(ord - 1)
                        .ok()
                        .and_then(|at| heads.get_mut(at))
                    else {
                        continue;
                    };
                    head.runs = u64::try_from(row.try_get::<_, i64>(RUN_WIDTH + 1)?).unwrap_or(0);
                    if row.try_get::<_, Option<i64>>(0)?.is_some() {
                        head.recent.push(read_run(&row)?);
                    }
                }
                Ok(heads)
            })
    }

    pub(super) fn get_run(&self, run: RunId) -> Result<Option<RunRecord>, HistoryError> {
        let sql = format!("SELECT {} FROM runs WHERE id = $1", run_columns());
        self.worker.call("read a run", move |client| async move {
            let stmt = client.prepare_cached(&sql).await?;
            client
                .query_opt(&stmt, &[&run.0])
                .await?
                .map(|row| read_run(&row))
                .transpose()
        })
    }

    pub(super) fn list_runs(
        &self,
        task: &TaskName,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError> {
        self.runs_of(run_columns(), task, &RunFilter::default(), before, limit)
    }

    pub(super) fn list_matching(
        &self,
        task: &TaskName,
        filter: &RunFilter,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError> {
        self.runs_of(brief_run_columns(), task, filter, before, limit)
    }

    pub(super) fn count_matching(
        &self,
        task: &TaskName,
        filter: &RunFilter,
    ) -> Result<u64, HistoryError> {
        if filter.is_empty() {
            return self.count_runs(task);
        }
        let (clauses, mut params) = filter_sql(filter, 2);
        params.insert(0, Box::new(task.as_str().to_owned()));
        let sql = format!("SELECT COUNT(*) FROM runs WHERE task = $1{clauses}");
        self.worker.call("count runs", move |client| async move {
            let stmt = client.prepare_cached(&sql).await?;
            let count: i64 = client.query_one(&stmt, &refs(&params)).await?.try_get(0)?;
            Ok(u64::try_from(count).unwrap_or(0))
        })
    }

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
        let task = task.as_str().to_owned();
        self.worker
            .call("count runs by span", move |client| async move {
                let stmt = client.prepare_cached(SPAN_COUNTS).await?;
                let rows = client
                    .query(&stmt, &[&task, &start, &end, &span_us])
                    .await?;
                let mut counts = vec![SpanCount::default(); spans];
                for row in rows {
                    let index: i64 = row.try_get(0)?;
                    if let Some(count) = usize::try_from(index).ok().and_then(|i| counts.get_mut(i))
                    {
                        count.succeeded =
                            u32::try_from(row.try_get::<_, i64>(1)?).unwrap_or(u32::MAX);
                        count.failed = u32::try_from(row.try_get::<_, i64>(2)?).unwrap_or(u32::MAX);
                    }
                }
                Ok(counts)
            })
    }

    /// `columns` of a task's runs that `filter` passes, newest first, older than `before`.
    fn runs_of(
        &self,
        columns: String,
        task: &TaskName,
        filter: &RunFilter,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError> {
        let (clauses, filter_params) = filter_sql(filter, 4);
        let sql = format!(
            "SELECT {columns} FROM runs WHERE task = $1 AND id < $2{clauses} \
             ORDER BY id DESC LIMIT $3"
        );
        let mut params: Vec<Param> = vec![
            Box::new(task.as_str().to_owned()),
            Box::new(before.map_or(i64::MAX, |id| id.0)),
            Box::new(i64::try_from(limit).unwrap_or(i64::MAX)),
        ];
        params.extend(filter_params);
        self.worker.call("list runs", move |client| async move {
            let stmt = client.prepare_cached(&sql).await?;
            let rows = client.query(&stmt, &refs(&params)).await?;
            rows.iter().map(read_run).collect::<JobResult<_>>()
        })
    }
}
