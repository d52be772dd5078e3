//! Run history: a SQLite database (WAL) under the data dir, plus one directory of output files
//! per run.
//!
//! This module stores and answers questions; it does not decide what to keep (retention rules
//! are pure functions elsewhere) and never runs anything. Calls are short and synchronous, made
//! under one mutex: SQLite serialises writers anyway, and WAL lets readers proceed.

mod listing;
mod lost;
mod migrations;
pub mod output;
mod owed;
mod summary;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

pub use lost::LostRun;
pub use migrations::MigrateError;
pub use owed::MissedPlan;
pub use summary::TaskSummary;

use crate::config::TaskName;
use crate::retention::RunMeta;
use crate::run::{Exit, RunEnd, RunId, RunRecord, RunStatus, Trigger, Usage};

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
    #[error("cannot prepare the history database {}: {source}", path.display())]
    Migrate {
        path: PathBuf,
        #[source]
        source: MigrateError,
    },
    #[error("history database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
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

/// The history store.
#[derive(Debug)]
pub struct History {
    conn: Mutex<Connection>,
    data_dir: PathBuf,
}

const RUN_COLUMNS: &str = "id, task, trigger, requested_by, scheduled_at_us, started_at_us, finished_at_us, \
     exit_code, signal, status, stdout_bytes, stderr_bytes, op_error, reason, killed_by, definition, \
     max_rss_bytes, cpu_user_us, cpu_system_us, output_dropped_bytes, notification_error";

impl History {
    /// Opens (creating if needed) the database in `data_dir` and migrates it.
    pub fn open(data_dir: &Path) -> Result<History, HistoryError> {
        let path = data_dir.join(DATABASE_FILE);
        let open_error = |source| HistoryError::Open {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open(&path).map_err(open_error)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_error)?;
        // NORMAL in WAL mode survives a daemon crash; only an OS crash can lose the last commits.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_error)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_error)?;
        migrations::migrate(&mut conn).map_err(|source| HistoryError::Migrate {
            path: path.clone(),
            source,
        })?;
        Ok(History {
            conn: Mutex::new(conn),
            data_dir: data_dir.to_path_buf(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (each call is one
        // statement or one transaction), so a poisoned lock is still safe to use.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records fires due together, in one transaction: each task's last fire instant (for
    /// phases and missed fires), the fires that were queued instead of started (owed, see
    /// `owed.rs`), and a row for each run they start, before its process exists.
    /// Returns the runs' ids in order. Each commit rewrites the same table and index pages, so
    /// one commit per fire was most of a batch's cost.
    pub fn record_fires(
        &self,
        last_fires: &[(TaskName, DateTime<Utc>)],
        owed: &[(TaskName, DateTime<Utc>)],
        runs: &[NewRun<'_>],
    ) -> Result<Vec<RunId>, HistoryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for (task, at) in last_fires {
            owed::set_last_fire(&tx, task, *at)?;
        }
        owed::insert_owed(&tx, owed)?;
        let ids = runs
            .iter()
            .map(|run| insert(&tx, run))
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit()?;
        Ok(ids)
    }

    /// Records one run as started, before its process exists, and returns its id. A scheduled
    /// run pays the owed fire of its instant in the same transaction, so that fire never runs
    /// twice, whenever the daemon dies.
    pub fn insert_run(&self, run: &NewRun<'_>) -> Result<RunId, HistoryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if *run.trigger == Trigger::Schedule {
            owed::pay_owed(&tx, run.task, run.scheduled_at)?;
        }
        let id = insert(&tx, run)?;
        tx.commit()?;
        Ok(id)
    }

    /// Remembers the process group of running runs and when each leader started, so that a
    /// restarted daemon can kill what a crash left behind, and only that.
    pub fn set_process_groups(&self, groups: &[ProcessGroup]) -> Result<(), HistoryError> {
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

    /// Records how a run ended.
    pub fn finish_run(&self, run: RunId, end: &RunEnd) -> Result<(), HistoryError> {
        let (exit_code, signal) = split_exit(end.exit);
        self.conn().execute(
            "UPDATE runs SET finished_at_us = ?1, exit_code = ?2, signal = ?3, status = ?4,
                 stdout_bytes = ?5, stderr_bytes = ?6, op_error = ?7, reason = ?8, killed_by = ?9,
                 max_rss_bytes = ?10, cpu_user_us = ?11, cpu_system_us = ?12, output_dropped_bytes = ?13
             WHERE id = ?14",
            params![
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
                run.0
            ],
        )?;
        Ok(())
    }

    /// Records that notifying about a run failed, and why.
    pub fn set_notification_error(&self, run: RunId, text: &str) -> Result<(), HistoryError> {
        self.conn().execute(
            "UPDATE runs SET notification_error = ?1 WHERE id = ?2",
            params![text, run.0],
        )?;
        Ok(())
    }

    /// Closes runs left `running` by a daemon that died, and returns their process groups.
    pub fn close_interrupted(&self, now: DateTime<Utc>) -> Result<Vec<Orphan>, HistoryError> {
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

    pub fn get_run(&self, run: RunId) -> Result<Option<RunRecord>, HistoryError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1");
        Ok(self
            .conn()
            .query_row(&sql, params![run.0], read_run)
            .optional()?)
    }

    /// Runs of a task, newest first, older than `before` when given.
    pub fn list_runs(
        &self,
        task: &TaskName,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError> {
        self.runs_of(RUN_COLUMNS, task, before, limit)
    }

    pub fn count_runs(&self, task: &TaskName) -> Result<u64, HistoryError> {
        // Cached: ListTasks counts every task's runs, a thousand times per call.
        let count: Option<i64> = self
            .conn()
            .prepare_cached("SELECT runs FROM task_totals WHERE task = ?1")?
            .query_row(params![task.as_str()], |row| row.get(0))
            .optional()?;
        Ok(count.map_or(0, from_sql_count))
    }

    /// What retention needs of every run of a task, newest first.
    pub fn run_metas(&self, task: &TaskName) -> Result<Vec<RunMeta>, HistoryError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, status, started_at_us FROM runs WHERE task = ?1 ORDER BY id DESC",
        )?;
        let rows = stmt.query_map(params![task.as_str()], |row| {
            let status: String = row.get(1)?;
            Ok(RunMeta {
                id: RunId(row.get(0)?),
                status: RunStatus::parse(&status)
                    .ok_or_else(|| bad_value(1, format!("run status {status:?}")))?,
                started_at: instant(row.get(2)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Finished runs, oldest first, with their output size, while their sizes add up to more
    /// than `quota` bytes: the ones to prune to get under it.
    pub fn oldest_over_quota(&self, quota: u64) -> Result<Vec<(TaskName, RunId)>, HistoryError> {
        let conn = self.conn();
        let total: i64 = conn.query_row(
            "SELECT COALESCE(SUM(output_bytes), 0) FROM task_totals",
            [],
            |row| row.get(0),
        )?;
        let mut excess = from_sql_count(total).saturating_sub(quota);
        let mut stmt = conn.prepare_cached(
            "SELECT task, id, stdout_bytes + stderr_bytes FROM runs WHERE status != 'running' ORDER BY id",
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

    /// Forgets runs: their rows, then their output directories.
    pub fn delete_runs(&self, runs: &[(TaskName, RunId)]) -> Result<(), HistoryError> {
        {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            {
                let mut stmt =
                    tx.prepare_cached("DELETE FROM runs WHERE id = ?1 AND status != 'running'")?;
                for (_, run) in runs {
                    stmt.execute(params![run.0])?;
                }
            }
            tx.commit()?;
        }
        for (task, run) in runs {
            let dir = output::run_dir(&self.data_dir, task, *run);
            if let Err(error) = std::fs::remove_dir_all(&dir)
                && error.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(dir = %dir.display(), "cannot remove the output of a pruned run: {error}");
            }
        }
        Ok(())
    }

    /// Moves the write-ahead log into the database file, so it does not grow without bound.
    pub fn checkpoint(&self) -> Result<(), HistoryError> {
        self.conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Every task name that has history, sorted.
    pub fn task_names(&self) -> Result<Vec<TaskName>, HistoryError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT task FROM task_totals ORDER BY task")?;
        let names = stmt.query_map([], |row| row.get::<_, String>(0))?;
        let mut out = Vec::new();
        for name in names {
            out.extend(TaskName::parse_normalised(&name?));
        }
        Ok(out)
    }

    /// Suspended or not, for every task that was ever suspended or resumed explicitly.
    pub fn suspension_states(&self) -> Result<HashMap<TaskName, bool>, HistoryError> {
        let conn = self.conn();
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
    pub fn last_fires(&self) -> Result<HashMap<TaskName, DateTime<Utc>>, HistoryError> {
        let conn = self.conn();
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

    pub fn set_suspended(&self, task: &TaskName, suspended: bool) -> Result<(), HistoryError> {
        self.conn().execute(
            "INSERT INTO task_state (task, suspended) VALUES (?1, ?2)
             ON CONFLICT (task) DO UPDATE SET suspended = excluded.suspended",
            params![task.as_str(), suspended],
        )?;
        Ok(())
    }
}

fn insert(conn: &Connection, run: &NewRun<'_>) -> rusqlite::Result<RunId> {
    let (trigger_text, requested_by) = match run.trigger {
        Trigger::Schedule => ("schedule", ""),
        Trigger::Manual { by } => ("manual", by.as_str()),
    };
    let mut stmt = conn.prepare_cached(
        "INSERT INTO runs (task, trigger, requested_by, scheduled_at_us, started_at_us, status, definition)
         VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6)",
    )?;
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
    Ok(RunRecord {
        id: RunId(row.get(0)?),
        task: TaskName::parse_normalised(&task)
            .ok_or_else(|| bad_value(1, format!("task name {task:?}")))?,
        trigger: match trigger.as_str() {
            "manual" => Trigger::Manual { by: requested_by },
            _ => Trigger::Schedule,
        },
        scheduled_at: instant(row.get(4)?),
        started_at: instant(row.get(5)?),
        finished_at: row.get::<_, Option<i64>>(6)?.map(instant),
        exit: exit_code.map(Exit::Code).or(signal.map(Exit::Signal)),
        status: RunStatus::parse(&status)
            .ok_or_else(|| bad_value(9, format!("run status {status:?}")))?,
        stdout_bytes: from_sql_count(row.get(10)?),
        stderr_bytes: from_sql_count(row.get(11)?),
        op_error: row.get(12)?,
        reason: row.get(13)?,
        killed_by: row.get(14)?,
        definition: row.get(15)?,
        usage: Usage {
            max_rss_bytes: from_sql_count(row.get(16)?),
            cpu_user: Duration::from_micros(from_sql_count(row.get(17)?)),
            cpu_system: Duration::from_micros(from_sql_count(row.get(18)?)),
        },
        output_dropped_bytes: from_sql_count(row.get(19)?),
        notification_error: row.get(20)?,
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
mod tests;
