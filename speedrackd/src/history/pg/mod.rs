//! The history backend several nodes share: `PgStore`, the `Store` interface on PostgreSQL.
//!
//! Each node has its own `PgStore` on the same database. Every fire's run row is written
//! against the unique key `runs_one_per_fire`, so a fire another node recorded first is refused
//! (`None`) and runs once in the cluster. Rows are shared or a node's own by concern: writes,
//! fire bookkeeping, retention and crash recovery touch only this node's runs (its output files
//! are on its own disk); reads of runs, totals and suspension cover the whole cluster. Ended
//! runs' output is copied into the database so that any node can show it.
//!
//! The files here hold the queries by concern (`writes.rs`, `fires.rs`, `lost.rs`, `reads.rs`,
//! `totals.rs`, `retention.rs`, `output.rs`) and the schema (`migrations.rs`); `worker.rs`
//! runs them. Heartbeats, leases and
//! placement are the cluster module's: it uses this store's pool and runtime.

mod fires;
mod lost;
mod migrations;
pub mod news;
mod output;
mod reads;
mod retention;
mod store;
mod totals;
mod worker;
mod writes;

#[cfg(test)]
mod figures;
#[cfg(test)]
pub(crate) mod tests;

use std::path::{Path, PathBuf};

use tokio_postgres::Row;

pub use migrations::SCHEMA_VERSION;
use worker::{JobResult, Worker};

use super::{HistoryError, RUN_COLUMNS};
use crate::config::{NodeName, TaskName};
use crate::postgres::PgTarget;
use crate::run::{Exit, KillCause, RunEnd, RunId, RunRecord, RunStatus, Trigger, Usage};

/// Connections one node keeps to the database at most: the runtime loop's writes, a few
/// readers (API, pruner, event feed) and the cluster module's heartbeats.
const POOL_SIZE: usize = 8;

/// One node's view of a history in PostgreSQL.
pub struct PgStore {
    worker: Worker,
    node: String,
    data_dir: PathBuf,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("node", &self.node)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects as `node`, whose run output lives under `data_dir`, and brings the schema up
    /// to date (once, whichever nodes start together).
    pub fn connect(
        target: &PgTarget,
        node: &NodeName,
        data_dir: &Path,
    ) -> Result<PgStore, HistoryError> {
        let worker = Worker::start(|| target.pool(POOL_SIZE), target.shown())?;
        let url = target.shown().to_owned();
        worker.call("prepare the schema", move |client| async move {
            migrations::migrate(client, &url).await
        })?;
        Ok(PgStore {
            worker,
            node: node.as_str().to_owned(),
            data_dir: data_dir.to_path_buf(),
        })
    }

    /// The store's connection pool, for the cluster module's own queries.
    pub fn pool(&self) -> &deadpool_postgres::Pool {
        self.worker.pool()
    }
}

/// The columns `read_run` reads, in its order: SQLite's, then the node.
fn run_columns() -> String {
    format!("{RUN_COLUMNS}, node")
}

/// How many columns `run_columns` names: a query that reads more after them starts there.
const RUN_WIDTH: usize = 24;

/// `run_columns` with an empty definition, for lists.
fn brief_run_columns() -> String {
    run_columns().replace(", definition,", ", '' AS definition,")
}

fn read_run(row: &Row) -> JobResult<RunRecord> {
    let task: String = row.try_get(1)?;
    let trigger: String = row.try_get(2)?;
    let requested_by: String = row.try_get(3)?;
    let exit_code: Option<i32> = row.try_get(7)?;
    let signal: Option<i32> = row.try_get(8)?;
    let status = run_status(&row.try_get::<_, String>(9)?)?;
    let finished_at: Option<i64> = row.try_get(6)?;
    let end = match (status, finished_at) {
        (RunStatus::Running, _) | (_, None) => None,
        (status, Some(finished_at)) => Some(RunEnd {
            finished_at: instant(finished_at),
            exit: exit_code.map(Exit::Code).or(signal.map(Exit::Signal)),
            status,
            stdout_bytes: count(row.try_get(10)?),
            stderr_bytes: count(row.try_get(11)?),
            op_error: row.try_get(12)?,
            reason: row.try_get(13)?,
            killed_by: row.try_get(14)?,
            usage: Usage {
                max_rss_bytes: count(row.try_get(16)?),
                cpu_user: std::time::Duration::from_micros(count(row.try_get(17)?)),
                cpu_system: std::time::Duration::from_micros(count(row.try_get(18)?)),
            },
            output_dropped_bytes: count(row.try_get(19)?),
            kill_cause: KillCause::parse(&row.try_get::<_, String>(21)?),
            replaced_by: row.try_get::<_, Option<i64>>(22)?.map(RunId),
        }),
    };
    Ok(RunRecord {
        id: RunId(row.try_get(0)?),
        task: task_name(&task)?,
        trigger: match trigger.as_str() {
            "manual" => Trigger::Manual { by: requested_by },
            "imported" => Trigger::Imported,
            _ => Trigger::Schedule,
        },
        scheduled_at: instant(row.try_get(4)?),
        started_at: instant(row.try_get(5)?),
        definition: row.try_get(15)?,
        notification_error: row.try_get(20)?,
        node: row.try_get(23)?,
        end,
    })
}

fn run_status(text: &str) -> JobResult<RunStatus> {
    RunStatus::parse(text).ok_or_else(|| bad_value(format!("run status {text:?}")))
}

fn task_name(text: &str) -> JobResult<TaskName> {
    TaskName::parse_normalised(text).ok_or_else(|| bad_value(format!("task name {text:?}")))
}

fn bad_value(what: String) -> worker::JobError {
    HistoryError::PgBadValue { what }.into()
}

/// The trigger's column and who asked, as `runs` keeps them.
fn trigger_columns(trigger: &Trigger) -> (&'static str, String) {
    match trigger {
        Trigger::Schedule => ("schedule", String::new()),
        Trigger::Manual { by } => ("manual", by.clone()),
        Trigger::Imported => ("imported", String::new()),
    }
}

fn split_exit(exit: Option<Exit>) -> (Option<i32>, Option<i32>) {
    match exit {
        Some(Exit::Code(code)) => (Some(code), None),
        Some(Exit::Signal(signal)) => (None, Some(signal)),
        None => (None, None),
    }
}

fn micros(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// BIGINT is signed; byte counts never reach 2^63.
fn to_count(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn count(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

fn instant(micros: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default()
}
