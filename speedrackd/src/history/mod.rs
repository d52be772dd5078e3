//! Run history: the `Store` interface (`store.rs`), its embedded SQLite backend (this file and
//! the files named for each concern), and one directory of output files per run (`output.rs`).
//!
//! This module stores and answers questions; it does not decide what to keep (retention rules
//! are pure functions elsewhere) and never runs anything. Calls are short and synchronous: the
//! one writer's under a mutex, reads on read-only connections of their own (`readers.rs`), so
//! WAL lets them proceed while the writer writes.

mod filter;
mod imported;
mod listing;
mod lost;
mod migrations;
pub mod output;
pub mod output_search;
mod owed;
pub mod pg;
mod readers;
mod run_writes;
mod store;
mod summary;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

pub use filter::{RunFilter, TriggerKind};
pub use imported::ImportedRun;
pub use listing::{SpanCount, TaskHead};
pub use lost::LostRun;
pub use migrations::MigrateError;
pub use owed::MissedPlan;
use readers::{Reader, Readers};
pub use store::Store;
pub use summary::TaskSummary;

use crate::config::TaskName;
use crate::retention::RunMeta;
use crate::run::{Exit, KillCause, RunEnd, RunId, RunRecord, RunStatus, Trigger, Usage};

/// Bytes the write-ahead log file keeps once SQLite starts it over after a checkpoint.
const WAL_SIZE_LIMIT: i64 = 64 << 20;

/// File name of the database inside the data dir.
pub const DATABASE_FILE: &str = "history.sqlite3";

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot open the history database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "cannot make the history database {} readable by its owner alone: {source}; it holds \
         every task's definition, env values included (chmod 600 it, as the user speedrackd \
         runs as)",
        path.display()
    )]
    Private {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot prepare the history database {}: {source}", path.display())]
    Migrate {
        path: PathBuf,
        #[source]
        source: MigrateError,
    },
    #[error("history database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot open a read-only connection to the history database: {0}")]
    Read(#[source] rusqlite::Error),
    #[error("cannot place run output in {}: {source}", path.display())]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot {doing} in the PostgreSQL history: {}", causes(source))]
    Postgres {
        doing: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error(
        "cannot reach PostgreSQL at {url} to {doing}: {}; check that the server is up and accepts this node (the settings' store, store_password_file, store_ca_file)",
        causes(source)
    )]
    PgConnect {
        url: String,
        doing: &'static str,
        #[source]
        source: deadpool_postgres::PoolError,
    },
    #[error(
        "the PostgreSQL history at {url} has schema version {found}, newer than this speedrackd knows ({known}); run the cluster's newer speedrackd on this node"
    )]
    PgTooNew {
        url: String,
        found: usize,
        known: usize,
    },
    #[error(
        "PostgreSQL did not {doing} within {}s; check the database server's load and the network to it",
        limit.as_secs()
    )]
    PgTimeout {
        doing: &'static str,
        limit: Duration,
    },
    #[error("the PostgreSQL history's worker stopped before it could {doing}")]
    PgStopped { doing: &'static str },
    #[error("cannot start the PostgreSQL history's worker threads: {0}")]
    PgRuntime(#[source] std::io::Error),
    #[error(
        "the PostgreSQL history holds a {what}, which this speedrackd does not know; was it written by a newer version?"
    )]
    PgBadValue { what: String },
    #[error(
        "{what} works on a SQLite data dir, not on a PostgreSQL history; run it on a single node's data dir"
    )]
    SqliteOnly { what: &'static str },
}

/// An error and every error under it, as one line: PostgreSQL's own message ("relation ...
/// does not exist") is the client error's source, and its display alone says "db error".
fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}

/// A run to record as started.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    pub task: &'a TaskName,
    pub trigger: &'a Trigger,
    pub scheduled_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    /// The task definition the run executes, as YAML.
    pub definition: &'a str,
    /// The run settles an owed fire of its instant (a queued or caught-up scheduled fire).
    pub pays_owed: bool,
    /// Which scheduled fires it may not share with another run in a history several nodes
    /// share; a single node's history has no one to share with and ignores it.
    pub claim: Claim,
}

/// How many runs one scheduled instant of a task gets when several nodes fire it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// One in the whole cluster: the first node to record it runs it (`run_on: any` or a list).
    Cluster,
    /// One per node (`run_on: all`, a host's own chores).
    PerNode,
    /// Not a scheduled fire (run-now): never refused.
    None,
}

/// Where a running run's processes are: its group, and when the group's leader started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessGroup {
    pub run: RunId,
    pub pgid: i32,
    /// Identifies the leader across a daemon restart (a reused pid has another start time).
    pub start_ticks: Option<u64>,
}

/// A run a dead daemon left `running`, and what identifies its process group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    pub run: RunId,
    pub task: TaskName,
    pub process_group: Option<i32>,
    pub start_ticks: Option<u64>,
}

/// The embedded history backend: one SQLite database in WAL mode, one writer connection
/// (the runtime loop's, under a mutex only for the recovery that precedes it) and a pool of
/// read-only connections for everyone else.
#[derive(Debug)]
pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Readers,
    data_dir: PathBuf,
}

const RUN_COLUMNS: &str = "id, task, trigger, requested_by, scheduled_at_us, started_at_us, finished_at_us, \
     exit_code, signal, status, stdout_bytes, stderr_bytes, op_error, reason, killed_by, definition, \
     max_rss_bytes, cpu_user_us, cpu_system_us, output_dropped_bytes, notification_error, kill_cause, \
     replaced_by";

/// Makes the database file (and the logs SQLite keeps beside it, which it creates with the
/// file's mode) readable by its owner alone, whatever the data dir's mode and the umask: rows
/// hold each run's task definition, `env` values included.
fn keep_private(path: &Path) -> Result<(), HistoryError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let private = |path: &Path, source| HistoryError::Private {
        path: path.to_path_buf(),
        source,
    };
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|source| private(path, source))?;
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let file = PathBuf::from(file);
        let mode = match std::fs::metadata(&file) {
            Ok(metadata) => metadata.permissions().mode(),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(private(&file, source)),
        };
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .map_err(|source| private(&file, source))?;
        }
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir` and migrates it.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, HistoryError> {
        let path = data_dir.join(DATABASE_FILE);
        let open_error = |source| HistoryError::Open {
            path: path.clone(),
            source,
        };
        keep_private(&path)?;
        let mut conn = Connection::open(&path).map_err(open_error)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_error)?;
        // NORMAL in WAL mode survives a daemon crash; only an OS crash can lose the last commits.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_error)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_error)?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
            .map_err(open_error)?;
        migrations::migrate(&mut conn).map_err(|source| HistoryError::Migrate {
            path: path.clone(),
            source,
        })?;
        Ok(SqliteStore {
            writer: Mutex::new(conn),
            readers: Readers::new(&path),
            data_dir: data_dir.to_path_buf(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (each call is one
        // statement or one transaction), so a poisoned lock is still safe to use.
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn reader(&self) -> Result<Reader<'_>, HistoryError> {
        self.readers.get().map_err(HistoryError::Read)
    }

    /// Records what starts runs, in one transaction: each firing task's last fire instant (for
    /// phases and missed fires), the fires queued instead of started (owed, see `owed.rs`), and
    /// a row for each run, before its process exists. A run that settles an owed fire deletes
    /// it in the same transaction, so that fire never runs twice, whenever the daemon dies.
    /// Returns the runs' ids in order (never `None`: one node claims every fire). Each commit rewrites the same table and index pages, so
    /// one commit per run was most of a batch's cost.
    pub(super) fn record_starts(
        &self,
        last_fires: &[(TaskName, DateTime<Utc>)],
        owed: &[(TaskName, DateTime<Utc>)],
        runs: &[NewRun<'_>],
    ) -> Result<Vec<Option<RunId>>, HistoryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        owed::set_last_fires(&tx, last_fires)?;
        owed::insert_owed(&tx, owed)?;
        let mut ids = Vec::with_capacity(runs.len());
        {
            // Fetched from the cache once per batch, as in `owed::set_last_fires`.
            let mut insert_run = tx.prepare_cached(run_writes::INSERT)?;
            for run in runs {
                if run.pays_owed {
                    owed::pay_owed(&tx, run.task, run.scheduled_at)?;
                }
                ids.push(Some(insert(&mut insert_run, run)?));
            }
        }
        tx.commit()?;
        Ok(ids)
    }

    /// Remembers the process group of running runs and when each leader started, so that a
    /// restarted daemon can kill what a crash left behind, and only that.
    pub(super) fn set_process_groups(&self, groups: &[ProcessGroup]) -> Result<(), HistoryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx
                .prepare_cached("UPDATE runs SET pgid = ?1, pgid_start_ticks = ?2 WHERE id = ?3")?;
            for group in groups {
                let ticks = group
                    .start_ticks
                    .and_then(|ticks| i64::try_from(ticks).ok());
                stmt.execute(params![group.pgid, ticks, group.run.0])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records how runs ended, in one transaction: ends arrive in bursts when many runs share
    /// a second, and a commit per end was most of their cost.
    pub(super) fn finish_runs(&self, ends: &[(RunId, &RunEnd)]) -> Result<(), HistoryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(run_writes::FINISH)?;
            for (run, end) in ends {
                let (exit_code, signal) = split_exit(end.exit);
                stmt.execute(params![
                    end.finished_at.timestamp_micros(),
                    exit_code,
                    signal,
                    end.status.as_str(),
                    to_sql_count(end.stdout_bytes),
                    to_sql_count(end.stderr_bytes),
                    end.op_error,
                    end.reason,
                    end.killed_by,
                    to_sql_count(end.usage.max_rss_bytes),
                    micros(end.usage.cpu_user),
                    micros(end.usage.cpu_system),
                    to_sql_count(end.output_dropped_bytes),
                    end.kill_cause.map_or("", KillCause::as_str),
                    run.0
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records that notifying about a run failed, and why.
    pub(super) fn set_notification_error(
        &self,
        run: RunId,
        text: &str,
    ) -> Result<(), HistoryError> {
        self.conn().execute(
            "UPDATE runs SET notification_error = ?1 WHERE id = ?2",
            params![text, run.0],
        )?;
        Ok(())
    }

    /// Records which run replaced `runs` (killed for it, overlap: replace).
    pub(super) fn set_replaced_by(&self, runs: &[RunId], by: RunId) -> Result<(), HistoryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached("UPDATE runs SET replaced_by = ?1 WHERE id = ?2")?;
            for run in runs {
                stmt.execute(params![by.0, run.0])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Closes runs left `running` by a daemon that died, and returns their process groups.
    pub(super) fn close_interrupted(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<Orphan>, HistoryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let orphans = {
            let mut stmt = tx.prepare(
                "SELECT id, pgid, pgid_start_ticks, task FROM runs WHERE status = 'running'",
            )?;
            stmt.query_map([], |row| {
                let ticks: Option<i64> = row.get(2)?;
                Ok(Orphan {
                    run: RunId(row.get(0)?),
                    task: {
                        let task: String = row.get(3)?;
                        TaskName::parse_normalised(&task)
                            .ok_or_else(|| bad_value(3, format!("task name {task:?}")))?
                    },
                    process_group: row.get(1)?,
                    start_ticks: ticks.and_then(|ticks| u64::try_from(ticks).ok()),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?
        };
        tx.execute(
            "UPDATE runs SET status = 'interrupted', finished_at_us = ?1,
                 op_error = 'speedrackd stopped while this run was in flight; its end is unknown'
             WHERE status = 'running'",
            params![now.timestamp_micros()],
        )?;
        tx.commit()?;
        Ok(orphans)
    }

    pub(super) fn get_run(&self, run: RunId) -> Result<Option<RunRecord>, HistoryError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1");
        Ok(self
            .reader()?
            .query_row(&sql, params![run.0], read_run)
            .optional()?)
    }

    /// Runs of a task, newest first, older than `before` when given.
    pub(super) fn list_runs(
        &self,
        task: &TaskName,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError> {
        self.runs_of(RUN_COLUMNS, task, &RunFilter::default(), before, limit)
    }

    pub(super) fn count_runs(&self, task: &TaskName) -> Result<u64, HistoryError> {
        // Cached: ListTasks counts every task's runs, a thousand times per call.
        let count: Option<i64> = self
            .reader()?
            .prepare_cached("SELECT runs FROM task_totals WHERE task = ?1")?
            .query_row(params![task.as_str()], |row| row.get(0))
            .optional()?;
        Ok(count.map_or(0, from_sql_count))
    }

    /// What retention needs of every run of each task, newest first, read in one transaction:
    /// the pruner asks for a burst's tasks together.
    pub(super) fn run_metas(
        &self,
        tasks: &[(TaskName, u32)],
    ) -> Result<Vec<(TaskName, Vec<RunMeta>)>, HistoryError> {
        let conn = self.reader()?;
        let snapshot = conn.unchecked_transaction()?;
        let mut stmt = snapshot.prepare_cached(
            "SELECT id, status, started_at_us FROM runs WHERE task = ?1
             ORDER BY id DESC LIMIT -1 OFFSET ?2",
        )?;
        let mut metas = Vec::with_capacity(tasks.len());
        for (task, unread) in tasks {
            let rows = stmt.query_map(params![task.as_str(), unread], |row| {
                let status: String = row.get(1)?;
                Ok(RunMeta {
                    id: RunId(row.get(0)?),
                    status: RunStatus::parse(&status)
                        .ok_or_else(|| bad_value(1, format!("run status {status:?}")))?,
                    started_at: instant(row.get(2)?),
                })
            })?;
            metas.push((task.clone(), rows.collect::<Result<_, _>>()?));
        }
        Ok(metas)
    }

    /// Finished runs, oldest first, with their output size, while their sizes add up to more
    /// than `quota` bytes: the ones to prune to get under it.
    pub(super) fn oldest_over_quota(
        &self,
        quota: u64,
    ) -> Result<Vec<(TaskName, RunId)>, HistoryError> {
        let conn = self.reader()?;
        let total: i64 = conn.query_row(
            "SELECT COALESCE(SUM(output_bytes), 0) FROM task_totals",
            [],
            |row| row.get(0),
        )?;
        let mut excess = from_sql_count(total).saturating_sub(quota);
        let mut stmt = conn.prepare_cached(
            "SELECT task, id, stdout_bytes + stderr_bytes - output_dropped_bytes
             FROM runs WHERE status != 'running' ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while excess > 0 {
            let Some(row) = rows.next()? else { break };
            let (task, id, bytes): (String, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
            if let Some(task) = TaskName::parse_normalised(&task) {
                out.push((task, RunId(id)));
            }
            excess = excess.saturating_sub(from_sql_count(bytes));
        }
        Ok(out)
    }

    /// Forgets runs' rows (never a running one's). Their output directories are the caller's
    /// to remove (`output::remove_run_dirs`), once the rows are gone.
    pub(super) fn delete_runs(&self, runs: &[(TaskName, RunId)]) -> Result<(), HistoryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(run_writes::DELETE)?;
            for (_, run) in runs {
                stmt.execute(params![run.0])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// For every task with history, how many runs did not succeed since its last success:
    /// the failure streaks the runtime keeps from then on without reading history. In the order
    /// runs finished, as the runtime counts them: overlapping runs end out of their start order.
    /// The failure condition is the failure index's, written the same way so that it is used.
    pub(super) fn failure_streaks(&self) -> Result<HashMap<TaskName, u32>, HistoryError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare(
            "SELECT totals.task,
                    (SELECT COUNT(*) FROM runs
                     WHERE runs.task = totals.task
                       AND (status = 'failure' OR status = 'execution_error'
                            OR status = 'interrupted')
                       AND runs.finished_at_us > COALESCE(
                           (SELECT MAX(finished_at_us) FROM runs AS ok
                            WHERE ok.task = totals.task AND ok.status = 'success'), -1))
             FROM task_totals AS totals",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (name, streak) = row?;
            if let Some(name) = TaskName::parse_normalised(&name) {
                out.insert(name, u32::try_from(streak).unwrap_or(u32::MAX));
            }
        }
        Ok(out)
    }

    /// Copies the write-ahead log into the database without waiting for anyone (PASSIVE): the
    /// writer is the runtime loop, which must not wait behind readers. The log file itself is
    /// cut back to `WAL_SIZE_LIMIT` whenever SQLite starts it over.
    pub(super) fn checkpoint(&self) -> Result<(), HistoryError> {
        self.conn()
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Every task name that has history, sorted.
    pub(super) fn task_names(&self) -> Result<Vec<TaskName>, HistoryError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached("SELECT task FROM task_totals ORDER BY task")?;
        let names = stmt.query_map([], |row| row.get::<_, String>(0))?;
        let mut out = Vec::new();
        for name in names {
            out.extend(TaskName::parse_normalised(&name?));
        }
        Ok(out)
    }

    /// Suspended or not, for every task that was ever suspended or resumed explicitly.
    pub(super) fn suspension_states(&self) -> Result<HashMap<TaskName, bool>, HistoryError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached("SELECT task, suspended FROM task_state")?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, bool>(1)?))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (name, suspended) = row?;
            if let Some(name) = TaskName::parse_normalised(&name) {
                out.insert(name, suspended);
            }
        }
        Ok(out)
    }

    /// The last scheduled fire of every task that ever fired.
    pub(super) fn last_fires(&self) -> Result<HashMap<TaskName, DateTime<Utc>>, HistoryError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached("SELECT task, last_fire_us FROM task_fires")?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (name, micros) = row?;
            if let Some(name) = TaskName::parse_normalised(&name) {
                out.insert(name, instant(micros));
            }
        }
        Ok(out)
    }

    pub(super) fn set_suspended(
        &self,
        task: &TaskName,
        suspended: bool,
    ) -> Result<(), HistoryError> {
        self.conn().execute(
            "INSERT INTO task_state (task, suspended) VALUES (?1, ?2)
             ON CONFLICT (task) DO UPDATE SET suspended = excluded.suspended",
            params![task.as_str(), suspended],
        )?;
        Ok(())
    }
}

/// Inserts a run's row with `stmt`, [`run_writes::INSERT`] prepared.
fn insert(stmt: &mut rusqlite::Statement<'_>, run: &NewRun<'_>) -> rusqlite::Result<RunId> {
    let (trigger_text, requested_by) = match run.trigger {
        Trigger::Schedule => ("schedule", ""),
        Trigger::Manual { by } => ("manual", by.as_str()),
        Trigger::Imported => ("imported", ""),
    };
    stmt.insert(params![
        run.task.as_str(),
        trigger_text,
        requested_by,
        run.scheduled_at.timestamp_micros(),
        run.started_at.timestamp_micros(),
        run.definition,
    ])
    .map(RunId)
}

fn split_exit(exit: Option<Exit>) -> (Option<i32>, Option<i32>) {
    match exit {
        Some(Exit::Code(code)) => (Some(code), None),
        Some(Exit::Signal(signal)) => (None, Some(signal)),
        None => (None, None),
    }
}

fn read_run(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    let task: String = row.get(1)?;
    let trigger: String = row.get(2)?;
    let requested_by: String = row.get(3)?;
    let exit_code: Option<i32> = row.get(7)?;
    let signal: Option<i32> = row.get(8)?;
    let status: String = row.get(9)?;
    let status =
        RunStatus::parse(&status).ok_or_else(|| bad_value(9, format!("run status {status:?}")))?;
    let finished_at: Option<i64> = row.get(6)?;
    let end = match (status, finished_at) {
        (RunStatus::Running, _) | (_, None) => None,
        (status, Some(finished_at)) => Some(RunEnd {
            finished_at: instant(finished_at),
            exit: exit_code.map(Exit::Code).or(signal.map(Exit::Signal)),
            status,
            stdout_bytes: from_sql_count(row.get(10)?),
            stderr_bytes: from_sql_count(row.get(11)?),
            op_error: row.get(12)?,
            reason: row.get(13)?,
            killed_by: row.get(14)?,
            usage: Usage {
                max_rss_bytes: from_sql_count(row.get(16)?),
                cpu_user: Duration::from_micros(from_sql_count(row.get(17)?)),
                cpu_system: Duration::from_micros(from_sql_count(row.get(18)?)),
            },
            output_dropped_bytes: from_sql_count(row.get(19)?),
            kill_cause: KillCause::parse(&row.get::<_, String>(21)?),
            replaced_by: row.get::<_, Option<i64>>(22)?.map(RunId),
        }),
    };
    Ok(RunRecord {
        id: RunId(row.get(0)?),
        task: TaskName::parse_normalised(&task)
            .ok_or_else(|| bad_value(1, format!("task name {task:?}")))?,
        trigger: match trigger.as_str() {
            "manual" => Trigger::Manual { by: requested_by },
            "imported" => Trigger::Imported,
            _ => Trigger::Schedule,
        },
        scheduled_at: instant(row.get(4)?),
        started_at: instant(row.get(5)?),
        definition: row.get(15)?,
        notification_error: row.get(20)?,
        node: String::new(),
        end,
    })
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// SQLite integers are signed; byte counts never reach 2^63.
fn to_sql_count(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn from_sql_count(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

fn instant(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

fn bad_value(column: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        format!("unknown {what}").into(),
    )
}

#[cfg(test)]
mod filter_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_beyond_runs;
#[cfg(test)]
mod tests_sqlite;
