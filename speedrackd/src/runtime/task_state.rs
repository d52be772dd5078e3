//! What the loop keeps per task, in one place: its runs in flight, the fires waiting for them,
//! an explicit suspend or resume, and the counts a task's row shows. The loop owns it; nothing
//! here does I/O.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use crate::notify::failure_streak;
use crate::run::{Kill, RunId, RunRecord, RunStatus, Trigger};

/// A run in flight, and the way to end it early.
#[derive(Debug)]
pub struct InFlight {
    /// The run as recorded when it started; it gets its end when the supervisor reports it.
    pub record: RunRecord,
    /// Send why and who asks, and the run is terminated like a timeout; taken by the first
    /// ask, as later ones would change nothing.
    pub kill: Option<oneshot::Sender<Kill>>,
}

/// A fire waiting for its task's running run to end (overlap `queue` or `replace`), or a
/// catch-up fire waiting for its turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub trigger: Trigger,
    pub due: DateTime<Utc>,
    /// The runs killed to make way for it (overlap: replace), which learn its id once it starts.
    pub replaces: Vec<RunId>,
}

#[derive(Debug, Default)]
pub struct TaskState {
    pub running: BTreeMap<RunId, InFlight>,
    pub queued: VecDeque<Queued>,
    /// Suspended or resumed through the API; wins over the file's `suspended`.
    pub suspended: Option<bool>,
    pub runs_since_start: u64,
    /// Scheduled fires dropped since start because the task was still running.
    pub skipped_fires: u64,
    /// Runs that did not succeed, from the newest back to the last success: what the notifier
    /// weighs, kept here so that no run's end needs a read of history.
    pub failure_streak: u32,
}

impl TaskState {
    pub fn running_ids(&self) -> Vec<RunId> {
        self.running.keys().copied().collect()
    }

    /// Takes an ended run out of the state. A map emptied by removals keeps its node (a few KB
    /// for runs this size), which 10 000 tasks each kept after their first run: an empty one
    /// holds nothing.
    pub fn end_run(&mut self, run: RunId) -> Option<InFlight> {
        let ended = self.running.remove(&run);
        if self.running.is_empty() {
            self.running = BTreeMap::new();
        }
        ended
    }

    /// Counts a finished run into the failure streak.
    pub fn count_end(&mut self, status: RunStatus) {
        self.failure_streak = failure_streak(self.failure_streak, status);
    }
}
