//! The history interface: everything the daemon asks of a history backend, and nothing about
//! how it is kept. `SqliteStore` (this module's parent) is the embedded backend; `PgStore`
//! (`pg/`) the one several nodes share. Both pass the same tests (`tests.rs` runs them
//! through `&dyn Store` against each).
//!
//! Writes come from one writer, the runtime loop (and recovery before it starts). Reads come
//! from anywhere (API handlers, the pruner, the event feed) and must not wait for the writer:
//! a backend serves them from connections of their own.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};

use super::output::Stream;
use super::{
    HistoryError, ImportedRun, LostRun, MissedPlan, NewRun, Orphan, ProcessGroup, RunFilter,
    SpanCount, SqliteStore, TaskHead, TaskSummary,
};
use crate::config::TaskName;
use crate::retention::RunMeta;
use crate::run::{RunEnd, RunId, RunRecord};

pub trait Store: Send + Sync {
    /// The directory on this machine under which runs' output files live
    /// (`output::run_dir`); the store keeps their sizes, not their bytes.
    fn data_dir(&self) -> &Path;
    /// The node whose runs this store records, in a history several nodes share; empty for a
    /// single node's.
    fn node(&self) -> &str;

    // Writes, from the runtime loop.

    /// Records, in one transaction, each firing task's last fire, the fires queued instead of
    /// started (owed), and a `running` row per run; a run with `pays_owed` deletes the owed
    /// fire of its instant in the same transaction. Returns the runs' ids in order; `None` for
    /// a scheduled fire another node recorded first (see `Claim`): that run must not start.
    fn record_starts(
        &self,
        last_fires: &[(TaskName, DateTime<Utc>)],
        owed: &[(TaskName, DateTime<Utc>)],
        runs: &[NewRun<'_>],
    ) -> Result<Vec<Option<RunId>>, HistoryError>;
    /// Remembers where running runs' processes are, for crash recovery.
    fn set_process_groups(&self, groups: &[ProcessGroup]) -> Result<(), HistoryError>;
    /// Records how runs ended, all or none.
    fn finish_runs(&self, ends: &[(RunId, &RunEnd)]) -> Result<(), HistoryError>;
    fn finish_run(&self, run: RunId, end: &RunEnd) -> Result<(), HistoryError> {
        self.finish_runs(&[(run, end)])
    }
    fn set_notification_error(&self, run: RunId, text: &str) -> Result<(), HistoryError>;
    /// Records which run replaced `runs`, which were killed for it (overlap: replace).
    fn set_replaced_by(&self, runs: &[RunId], by: RunId) -> Result<(), HistoryError>;
    /// Closes the runs a dead daemon left `running` as interrupted; returns their groups.
    fn close_interrupted(&self, now: DateTime<Utc>) -> Result<Vec<Orphan>, HistoryError>;
    /// Records fires that could not be recorded when due as ended execution errors. Returns
    /// their ids in order; `None` for a scheduled fire another node recorded.
    fn record_lost(
        &self,
        last_fires: &[(TaskName, DateTime<Utc>)],
        owed: &[(TaskName, DateTime<Utc>)],
        runs: &[LostRun],
    ) -> Result<Vec<Option<RunId>>, HistoryError>;
    /// Persists the start's decisions about missed fires before any of them starts.
    fn settle_missed(&self, plans: &[MissedPlan]) -> Result<(), HistoryError>;
    /// Forgets finished runs' rows; running ones are never deleted.
    fn delete_runs(&self, runs: &[(TaskName, RunId)]) -> Result<(), HistoryError>;
    fn set_suspended(&self, task: &TaskName, suspended: bool) -> Result<(), HistoryError>;
    /// Keeps the backend's own logs bounded (SQLite: the write-ahead log).
    fn checkpoint(&self) -> Result<(), HistoryError>;
    /// Records runs imported from another scheduler, finished, with their sources, all or none,
    /// and moves their staged output into place (`imported.rs`). Not the runtime loop's: only
    /// `speedrackd import-history`, on a data dir no daemon holds.
    fn import_runs(&self, runs: &[ImportedRun]) -> Result<Vec<RunId>, HistoryError>;
    /// Finishes moving staged output that an interrupted import left; returns how many.
    fn settle_imports(&self) -> Result<usize, HistoryError>;

    // Reads, from anywhere.

    fn get_run(&self, run: RunId) -> Result<Option<RunRecord>, HistoryError>;
    /// A task's runs, newest first, older than `before` when given.
    fn list_runs(
        &self,
        task: &TaskName,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError>;
    /// As `list_runs`, with every `definition` left empty.
    fn list_runs_brief(
        &self,
        task: &TaskName,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError>;
    fn count_runs(&self, task: &TaskName) -> Result<u64, HistoryError>;
    /// For each of `tasks`, in order: its runs kept and its newest `recent` runs (at least the
    /// newest), briefly. What a task list shows, in one read where the backend is remote.
    fn task_heads(&self, tasks: &[TaskName], recent: usize) -> Result<Vec<TaskHead>, HistoryError>;
    /// As `list_runs_brief`, only the runs `filter` passes.
    fn list_matching(
        &self,
        task: &TaskName,
        filter: &RunFilter,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError>;
    /// How many runs of a task `filter` passes.
    fn count_matching(&self, task: &TaskName, filter: &RunFilter) -> Result<u64, HistoryError>;
    /// Finished runs by outcome per span of start time: `spans` spans of `span` from `from`.
    fn count_by_span(
        &self,
        task: &TaskName,
        from: DateTime<Utc>,
        span: chrono::TimeDelta,
        spans: usize,
    ) -> Result<Vec<SpanCount>, HistoryError>;
    /// What retention needs of each task's runs, newest first, past the newest runs that it
    /// keeps unread (the count given with the task), as of one instant.
    fn run_metas(
        &self,
        tasks: &[(TaskName, u32)],
    ) -> Result<Vec<(TaskName, Vec<RunMeta>)>, HistoryError>;
    /// The oldest finished runs to forget to bring all output under `quota` bytes.
    fn oldest_over_quota(&self, quota: u64) -> Result<Vec<(TaskName, RunId)>, HistoryError>;
    /// Every task with history, sorted.
    fn task_names(&self) -> Result<Vec<TaskName>, HistoryError>;
    fn task_summaries(&self) -> Result<Vec<TaskSummary>, HistoryError>;
    fn suspension_states(&self) -> Result<HashMap<TaskName, bool>, HistoryError>;
    /// Which of `fires` (task, instant) a node already recorded as the cluster's one run of
    /// it. A single node's history holds no other node's claims: none.
    fn fires_claimed(&self, fires: &[(TaskName, DateTime<Utc>)])
    -> Result<Vec<bool>, HistoryError>;
    fn last_fires(&self) -> Result<HashMap<TaskName, DateTime<Utc>>, HistoryError>;
    fn owed_fires(&self) -> Result<HashMap<TaskName, Vec<DateTime<Utc>>>, HistoryError>;
    /// Runs that did not succeed since each task's last success.
    fn failure_streaks(&self) -> Result<HashMap<TaskName, u32>, HistoryError>;
    /// The sources already imported under `group` (keys `GROUP/...`).
    fn imported_sources(&self, group: &str) -> Result<HashSet<String>, HistoryError>;
    /// A stream of an ended run as the history itself keeps it, for a node that does not have
    /// the run's files: empty when it printed nothing, `None` for a run still running or
    /// unknown, and always `None` from a backend that keeps output only in files (SQLite).
    fn stored_output(&self, run: RunId, stream: Stream) -> Result<Option<Vec<u8>>, HistoryError>;
}

/// Each method is `SqliteStore`'s own, in the file of its concern.
impl Store for SqliteStore {
    fn data_dir(&self) -> &Path {
        SqliteStore::data_dir(self)
    }
    fn node(&self) -> &str {
        ""
    }
    fn record_starts(
        &self,
        last_fires: &[(TaskName, DateTime<Utc>)],
        owed: &[(TaskName, DateTime<Utc>)],
        runs: &[NewRun<'_>],
    ) -> Result<Vec<Option<RunId>>, HistoryError> {
        SqliteStore::record_starts(self, last_fires, owed, runs)
    }
    fn set_process_groups(&self, groups: &[ProcessGroup]) -> Result<(), HistoryError> {
        SqliteStore::set_process_groups(self, groups)
    }
    fn finish_runs(&self, ends: &[(RunId, &RunEnd)]) -> Result<(), HistoryError> {
        SqliteStore::finish_runs(self, ends)
    }
    fn set_notification_error(&self, run: RunId, text: &str) -> Result<(), HistoryError> {
        SqliteStore::set_notification_error(self, run, text)
    }
    fn set_replaced_by(&self, runs: &[RunId], by: RunId) -> Result<(), HistoryError> {
        SqliteStore::set_replaced_by(self, runs, by)
    }
    fn close_interrupted(&self, now: DateTime<Utc>) -> Result<Vec<Orphan>, HistoryError> {
        SqliteStore::close_interrupted(self, now)
    }
    fn record_lost(
        &self,
        last_fires: &[(TaskName, DateTime<Utc>)],
        owed: &[(TaskName, DateTime<Utc>)],
        runs: &[LostRun],
    ) -> Result<Vec<Option<RunId>>, HistoryError> {
        let ids = SqliteStore::record_lost(self, last_fires, owed, runs)?;
        Ok(ids.into_iter().map(Some).collect())
    }
    fn settle_missed(&self, plans: &[MissedPlan]) -> Result<(), HistoryError> {
        SqliteStore::settle_missed(self, plans)
    }
    fn delete_runs(&self, runs: &[(TaskName, RunId)]) -> Result<(), HistoryError> {
        SqliteStore::delete_runs(self, runs)
    }
    fn set_suspended(&self, task: &TaskName, suspended: bool) -> Result<(), HistoryError> {
        SqliteStore::set_suspended(self, task, suspended)
    }
    fn checkpoint(&self) -> Result<(), HistoryError> {
        SqliteStore::checkpoint(self)
    }
    fn get_run(&self, run: RunId) -> Result<Option<RunRecord>, HistoryError> {
        SqliteStore::get_run(self, run)
    }
    fn list_runs(
        &self,
        task: &TaskName,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError> {
        SqliteStore::list_runs(self, task, before, limit)
    }
    fn list_runs_brief(
        &self,
        task: &TaskName,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError> {
        SqliteStore::list_runs_brief(self, task, before, limit)
    }
    fn count_runs(&self, task: &TaskName) -> Result<u64, HistoryError> {
        SqliteStore::count_runs(self, task)
    }
    fn task_heads(&self, tasks: &[TaskName], recent: usize) -> Result<Vec<TaskHead>, HistoryError> {
        SqliteStore::task_heads(self, tasks, recent)
    }
    fn list_matching(
        &self,
        task: &TaskName,
        filter: &RunFilter,
        before: Option<RunId>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, HistoryError> {
        SqliteStore::list_matching(self, task, filter, before, limit)
    }
    fn count_matching(&self, task: &TaskName, filter: &RunFilter) -> Result<u64, HistoryError> {
        SqliteStore::count_matching(self, task, filter)
    }
    fn count_by_span(
        &self,
        task: &TaskName,
        from: DateTime<Utc>,
        span: chrono::TimeDelta,
        spans: usize,
    ) -> Result<Vec<SpanCount>, HistoryError> {
        SqliteStore::count_by_span(self, task, from, span, spans)
    }
    fn run_metas(
        &self,
        tasks: &[(TaskName, u32)],
    ) -> Result<Vec<(TaskName, Vec<RunMeta>)>, HistoryError> {
        SqliteStore::run_metas(self, tasks)
    }
    fn oldest_over_quota(&self, quota: u64) -> Result<Vec<(TaskName, RunId)>, HistoryError> {
        SqliteStore::oldest_over_quota(self, quota)
    }
    fn task_names(&self) -> Result<Vec<TaskName>, HistoryError> {
        SqliteStore::task_names(self)
    }
    fn task_summaries(&self) -> Result<Vec<TaskSummary>, HistoryError> {
        SqliteStore::task_summaries(self)
    }
    fn suspension_states(&self) -> Result<HashMap<TaskName, bool>, HistoryError> {
        SqliteStore::suspension_states(self)
    }
    fn fires_claimed(
        &self,
        fires: &[(TaskName, DateTime<Utc>)],
    ) -> Result<Vec<bool>, HistoryError> {
        Ok(vec![false; fires.len()])
    }
    fn last_fires(&self) -> Result<HashMap<TaskName, DateTime<Utc>>, HistoryError> {
        SqliteStore::last_fires(self)
    }
    fn owed_fires(&self) -> Result<HashMap<TaskName, Vec<DateTime<Utc>>>, HistoryError> {
        SqliteStore::owed_fires(self)
    }
    fn failure_streaks(&self) -> Result<HashMap<TaskName, u32>, HistoryError> {
        SqliteStore::failure_streaks(self)
    }
    fn import_runs(&self, runs: &[ImportedRun]) -> Result<Vec<RunId>, HistoryError> {
        SqliteStore::import_runs(self, runs)
    }
    fn settle_imports(&self) -> Result<usize, HistoryError> {
        SqliteStore::settle_imports(self)
    }
    fn imported_sources(&self, group: &str) -> Result<HashSet<String>, HistoryError> {
        SqliteStore::imported_sources(self, group)
    }
    fn stored_output(&self, _run: RunId, _stream: Stream) -> Result<Option<Vec<u8>>, HistoryError> {
        Ok(None)
    }
}
