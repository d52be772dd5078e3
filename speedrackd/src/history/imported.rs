//! Runs imported from another scheduler's records (Speedrack 0.6.1's job directory): written
//! finished, in batches of one transaction, each under the key of where it came from so that no
//! import adds it twice, even after retention deleted it.
//!
//! A run's output arrives staged in a directory of the data dir and is moved into the run's own
//! directory only once its row is committed, so an output directory never exists without its
//! run (the daemon's own invariant). A crash between the commit and the move leaves the staged
//! directory recorded; `settle_imports` finishes the move when the import resumes. Reading the
//! old records and deciding each run's status are the import's (`crate::import`), not this file's.

use std::collections::HashSet;
use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};

use super::{HistoryError, SqliteStore, output, split_exit, to_sql_count};
use crate::config::TaskName;
use crate::run::{RunEnd, RunId};

/// A finished run copied from elsewhere, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRun {
    /// Where it came from, unique among imports (`TASK_DIR/STAMP` for Speedrack 0.6.1).
    pub source: String,
    pub task: TaskName,
    pub started_at: DateTime<Utc>,
    /// What it executed, as YAML.
    pub definition: String,
    pub end: RunEnd,
    /// A directory, relative to the data dir, holding its `stdout` and `stderr` files, moved
    /// into the run's own directory once it is recorded; `None` when it has no output.
    pub staged: Option<PathBuf>,
}

impl SqliteStore {
    /// The sources already imported under `group` (those whose key starts with `GROUP/`).
    pub(super) fn imported_sources(&self, group: &str) -> Result<HashSet<String>, HistoryError> {
        let conn = self.reader()?;
        // A range on the key, so the primary key's index answers: `0` follows `/`.
        let mut stmt = conn.prepare_cached(
            "SELECT source FROM imported_runs WHERE source >= ?1 || '/' AND source < ?1 || '0'",
        )?;
        let rows = stmt.query_map(params![group], |row| row.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records `runs` finished, with their sources, all or none; then moves each staged output
    /// directory into place. Returns the runs' ids in order. A source imported before makes the
    /// whole batch fail (the caller skips those with `imported_sources`).
    pub(super) fn import_runs(&self, runs: &[ImportedRun]) -> Result<Vec<RunId>, HistoryError> {
        let ids = {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            let ids = runs
                .iter()
                .map(|run| insert_imported(&tx, run))
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit()?;
            ids
        };
        let mut placed = Vec::new();
        for (run, id) in runs.iter().zip(&ids) {
            if let Some(staged) = &run.staged {
                self.place(staged, &run.task, *id)?;
                placed.push(run.source.as_str());
            }
        }
        self.clear_staged(&placed)?;
        Ok(ids)
    }

    /// Finishes the moves a crash interrupted: every recorded staged directory still there goes
    /// to its run (or away, when its run is gone). Returns how many were settled.
    pub(super) fn settle_imports(&self) -> Result<usize, HistoryError> {
        let pending: Vec<(String, i64, String, Option<String>)> = {
            let conn = self.reader()?;
            let mut stmt = conn.prepare(
                "SELECT imported_runs.source, imported_runs.run_id, imported_runs.staged, runs.task
                 FROM imported_runs LEFT JOIN runs ON runs.id = imported_runs.run_id
                 WHERE imported_runs.staged IS NOT NULL",
            )?;
            stmt.query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?
            .collect::<Result<_, _>>()?
        };
        for (_, id, staged, task) in &pending {
            let staged = Path::new(staged);
            let from = self.data_dir.join(staged);
            match task.as_deref().and_then(TaskName::parse_normalised) {
                Some(task) if from.exists() => self.place(staged, &task, RunId(*id))?,
                _ => remove_dir(&from)?,
            }
        }
        let sources: Vec<&str> = pending.iter().map(|(source, ..)| source.as_str()).collect();
        self.clear_staged(&sources)?;
        Ok(pending.len())
    }

    /// Moves a staged output directory to be the run's own.
    fn place(&self, staged: &Path, task: &TaskName, run: RunId) -> Result<(), HistoryError> {
        let target = output::run_dir(&self.data_dir, task, run);
        let failed = |source| HistoryError::Output {
            path: target.clone(),
            source,
        };
        if let Some(parent) = target.parent() {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(failed)?;
        }
        // Only a move that was cut short can have left a directory of this id: ids are new.
        remove_dir(&target)?;
        std::fs::rename(self.data_dir.join(staged), &target).map_err(failed)
    }

    fn clear_staged(&self, sources: &[&str]) -> Result<(), HistoryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("UPDATE imported_runs SET staged = NULL WHERE source = ?1")?;
            for source in sources {
                stmt.execute(params![source])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

fn insert_imported(tx: &Transaction<'_>, run: &ImportedRun) -> Result<RunId, HistoryError> {
    let (exit_code, signal) = split_exit(run.end.exit);
    let id = tx
        .prepare_cached(
            "INSERT INTO runs (task, trigger, scheduled_at_us, started_at_us, finished_at_us,
                 exit_code, signal, status, stdout_bytes, stderr_bytes, op_error, reason,
                 definition, output_dropped_bytes)
             VALUES (?1, 'imported', ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .insert(params![
            run.task.as_str(),
            run.started_at.timestamp_micros(),
            run.end.finished_at.timestamp_micros(),
            exit_code,
            signal,
            run.end.status.as_str(),
            to_sql_count(run.end.stdout_bytes),
            to_sql_count(run.end.stderr_bytes),
            run.end.op_error,
            run.end.reason,
            run.definition,
            to_sql_count(run.end.output_dropped_bytes),
        ])?;
    let staged = run
        .staged
        .as_ref()
        .map(|path| path.to_string_lossy().into_owned());
    tx.prepare_cached("INSERT INTO imported_runs (source, run_id, staged) VALUES (?1, ?2, ?3)")?
        .execute(params![run.source, id, staged])?;
    Ok(RunId(id))
}

fn remove_dir(dir: &Path) -> Result<(), HistoryError> {
    match std::fs::remove_dir_all(dir) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(HistoryError::Output {
            path: dir.to_path_buf(),
            source: error,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::history::output::{Stream, stream_path};
    use crate::run::{Exit, RunStatus, Trigger};

    fn imported(source: &str, task: &TaskName, staged: Option<&str>) -> ImportedRun {
        let at = Utc
            .timestamp_opt(1_300_000_000, 0)
            .single()
            .expect("instant");
        ImportedRun {
            source: source.to_owned(),
            task: task.clone(),
            started_at: at,
            definition: "command: date\n".to_owned(),
            end: RunEnd {
                finished_at: at + chrono::TimeDelta::seconds(3),
                exit: Some(Exit::Code(2)),
                status: RunStatus::Failure,
                stdout_bytes: 5,
                reason: "exit status 2".to_owned(),
                ..RunEnd::default()
            },
            staged: staged.map(PathBuf::from),
        }
    }

    fn stage(data_dir: &Path, name: &str, stdout: &str) {
        let dir = data_dir.join(name);
        std::fs::create_dir_all(&dir).expect("staging dir");
        std::fs::write(dir.join("stdout"), stdout).expect("staged stdout");
    }

    #[test]
    fn imports_finished_runs_with_their_output_and_remembers_their_sources() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = SqliteStore::open(dir.path()).expect("open");
        let task = TaskName::normalise("backup").expect("name");
        stage(dir.path(), "staging/1", "hello");
        let runs = [
            imported("backup/2011-03-13_06:46:40", &task, Some("staging/1")),
            imported("backup/2011-03-13_07:46:40", &task, None),
        ];
        let ids = history.import_runs(&runs).expect("import");
        let run = history.get_run(ids[0]).expect("read").expect("exists");
        assert_eq!(run.trigger, Trigger::Imported);
        assert_eq!(run.status(), RunStatus::Failure);
        assert_eq!(
            run.end.as_ref().map(|end| end.reason.as_str()),
            Some("exit status 2")
        );
        assert_eq!(run.definition, "command: date\n");
        let stdout = stream_path(dir.path(), &task, ids[0], Stream::Stdout);
        assert_eq!(std::fs::read_to_string(stdout).expect("moved"), "hello");
        assert!(!dir.path().join("staging/1").exists());
        assert_eq!(history.imported_sources("backup").expect("read").len(), 2);
        assert!(history.imported_sources("backu").expect("read").is_empty());
        assert!(
            history.import_runs(&runs[1..]).is_err(),
            "a source is imported once"
        );
        assert_eq!(history.count_runs(&task).expect("count"), 2);
    }

    #[test]
    fn settling_moves_what_a_crash_left_staged() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = SqliteStore::open(dir.path()).expect("open");
        let task = TaskName::normalise("backup").expect("name");
        // As a crash leaves it: the row and the staged directory, not yet moved.
        let id = {
            let mut conn = history.conn();
            let tx = conn.transaction().expect("tx");
            let id = insert_imported(&tx, &imported("backup/x", &task, Some("staging/7")))
                .expect("insert");
            tx.commit().expect("commit");
            id
        };
        stage(dir.path(), "staging/7", "late");
        assert_eq!(history.settle_imports().expect("settle"), 1);
        let stdout = stream_path(dir.path(), &task, id, Stream::Stdout);
        assert_eq!(std::fs::read_to_string(stdout).expect("moved"), "late");
        assert_eq!(history.settle_imports().expect("settle again"), 0);
    }
}
