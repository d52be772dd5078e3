//! Runs as lists show them: every column but the task definition, which only the page of one
//! run needs (`SqliteStore::get_run` reads it).
//!
//! Read-only. Pages of runs are cut by the RPC layer; this only reads rows in order.

use rusqlite::params;

use super::{HistoryError, RUN_COLUMNS, SqliteStore, read_run};
use crate::config::TaskName;
use crate::run::{RunId, RunRecord};

impl SqliteStore {
    /// Runs of a task, newest first, older than `before` when given, each with an empty
    /// `definition`: a definition is a few KiB of YAML per run, and a list of a thousand
    /// tasks' recent runs would read (and send) it a hundred thousand times.
    pub(super) fn list_runs_brief(
        &self,
        task: &TaskName,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError> {
        let columns = RUN_COLUMNS.replace(", definition,", ", '' AS definition,");
        self.runs_of(&columns, task, before, limit)
    }

    /// `columns` of a task's runs, newest first, older than `before` when given.
    pub(super) fn runs_of(
        &self,
        columns: &str,
        task: &TaskName,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError> {
        let sql = format!(
            "SELECT {columns} FROM runs WHERE task = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3"
        );
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(&sql)?;
        let before = before.map_or(i64::MAX, |id| id.0);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let runs = stmt.query_map(params![task.as_str(), before, limit], read_run)?;
        Ok(runs.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::history::NewRun;
    use crate::run::Trigger;

    #[test]
    fn brief_runs_leave_the_definition_out_and_keep_the_rest() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = super::super::tests::open_store(dir.path());
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
