//! `Store` on PostgreSQL: each method is `PgStore`'s own, in the file of its concern; this file
//! only dispatches. Importing another scheduler's history is not offered here: it works on a
//! SQLite data dir (`speedrackd import-history`).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};

use super::PgStore;
use crate::config::TaskName;
use crate::history::output::Stream;
use crate::history::{
    HistoryError, ImportedRun, LostRun, MissedPlan, NewRun, Orphan, ProcessGroup, RunFilter,
    SpanCount, Store, TaskHead, TaskSummary,
};
use crate::retention::RunMeta;
use crate::run::{RunEnd, RunId, RunRecord};

impl Store for PgStore {
    fn data_dir(&self) -> &Path {
        &self.data_dir
    }
    fn node(&self) -> &str {
        &self.node
    }
    fn record_starts(
        &self,
        last_fires: &[(TaskName, DateTime<Utc>)],
        owed: &[(TaskName, DateTime<Utc>)],
        runs: &[NewRun<'_>],
    ) -> Result<Vec<Option<RunId>>, HistoryError> {
        PgStore::record_starts(self, last_fires, owed, runs)
    }
    fn set_process_groups(&self, groups: &[ProcessGroup]) -> Result<(), HistoryError> {
        PgStore::set_process_groups(self, groups)
    }
    fn finish_runs(&self, ends: &[(RunId, &RunEnd)]) -> Result<(), HistoryError> {
        PgStore::finish_runs(self, ends)
    }
    fn set_notification_error(&self, run: RunId, text: &str) -> Result<(), HistoryError> {
        PgStore::set_notification_error(self, run, text)
    }
    fn set_replaced_by(&self, runs: &[RunId], by: RunId) -> Result<(), HistoryError> {
        PgStore::set_replaced_by(self, runs, by)
    }
    fn close_interrupted(&self, now: DateTime<Utc>) -> Result<Vec<Orphan>, HistoryError> {
        PgStore::close_interrupted(self, now)
    }
    fn record_lost(
        &self,
        last_fires: &[(TaskName, DateTime<Utc>)],
        owed: &[(TaskName, DateTime<Utc>)],
        runs: &[LostRun],
    ) -> Result<Vec<Option<RunId>>, HistoryError> {
        PgStore::record_lost(self, last_fires, owed, runs)
    }
    fn settle_missed(&self, plans: &[MissedPlan]) -> Result<(), HistoryError> {
        PgStore::settle_missed(self, plans)
    }
    fn delete_runs(&self, runs: &[(TaskName, RunId)]) -> Result<(), HistoryError> {
        PgStore::delete_runs(self, runs)
    }
    fn set_suspended(&self, task: &TaskName, suspended: bool) -> Result<(), HistoryError> {
        PgStore::set_suspended(self, task, suspended)
    }
    /// PostgreSQL bounds its own write-ahead log (`max_wal_size`) and vacuums by itself.
    fn checkpoint(&self) -> Result<(), HistoryError> {
        Ok(())
    }
    fn get_run(&self, run: RunId) -> Result<Option<RunRecord>, HistoryError> {
        PgStore::get_run(self, run)
    }
    fn list_runs(
        &self,
        task: &TaskName,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError> {
        PgStore::list_runs(self, task, before, limit)
    }
    fn list_runs_brief(
        &self,
        task: &TaskName,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError> {
        PgStore::list_matching(self, task, &RunFilter::default(), before, limit)
    }
    fn count_runs(&self, task: &TaskName) -> Result<u64, HistoryError> {
        PgStore::count_runs(self, task)
    }
    fn task_heads(&self, tasks: &[TaskName], recent: usize) -> Result<Vec<TaskHead>, HistoryError> {
        PgStore::task_heads(self, tasks, recent)
    }
    fn list_matching(
        &self,
        task: &TaskName,
        filter: &RunFilter,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError> {
        PgStore::list_matching(self, task, filter, before, limit)
    }
    fn count_matching(&self, task: &TaskName, filter: &RunFilter) -> Result<u64, HistoryError> {
        PgStore::count_matching(self, task, filter)
    }
    fn count_by_span(
        &self,
        task: &TaskName,
        from: DateTime<Utc>,
        span: chrono::TimeDelta,
        spans: usize,
    ) -> Result<Vec<SpanCount>, HistoryError> {
        PgStore::count_by_span(self, task, from, span, spans)
    }
    fn run_metas(
        &self,
        tasks: &[(TaskName, u32)],
    ) -> Result<Vec<(TaskName, Vec<RunMeta>)>, HistoryError> {
        PgStore::run_metas(self, tasks)
    }
    fn oldest_over_quota(&self, quota: u64) -> Result<Vec<(TaskName, RunId)>, HistoryError> {
        PgStore::oldest_over_quota(self, quota)
    }
    fn task_names(&self) -> Result<Vec<TaskName>, HistoryError> {
        PgStore::task_names(self)
    }
    fn task_summaries(&self) -> Result<Vec<TaskSummary>, HistoryError> {
        PgStore::task_summaries(self)
    }
    fn suspension_states(&self) -> Result<HashMap<TaskName, bool>, HistoryError> {
        PgStore::suspension_states(self)
    }
    fn fires_claimed(
        &self,
        fires: &[(TaskName, DateTime<Utc>)],
    ) -> Result<Vec<bool>, HistoryError> {
        PgStore::fires_claimed(self, fires)
    }
    fn last_fires(&self) -> Result<HashMap<TaskName, DateTime<Utc>>, HistoryError> {
        PgStore::last_fires(self)
    }
    fn owed_fires(&self) -> Result<HashMap<TaskName, Vec<DateTime<Utc>>>, HistoryError> {
        PgStore::owed_fires(self)
    }
    fn failure_streaks(&self) -> Result<HashMap<TaskName, u32>, HistoryError> {
        PgStore::failure_streaks(self)
    }
    fn import_runs(&self, _runs: &[ImportedRun]) -> Result<Vec<RunId>, HistoryError> {
        Err(HistoryError::SqliteOnly {
            what: "import-history",
        })
    }
    fn settle_imports(&self) -> Result<usize, HistoryError> {
        Err(HistoryError::SqliteOnly {
            what: "import-history",
        })
    }
    fn imported_sources(&self, _group: &str) -> Result<HashSet<String>, HistoryError> {
        Err(HistoryError::SqliteOnly {
            what: "import-history",
        })
    }
    fn stored_output(&self, run: RunId, stream: Stream) -> Result<Option<Vec<u8>>, HistoryError> {
        PgStore::stored_output(self, run, stream)
    }
}
