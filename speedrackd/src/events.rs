//! What the daemon announces to watchers (the WatchEvents stream, later the web page).
//!
//! Events are facts after the fact: the history already holds what they describe. A watcher
//! that falls behind loses events, never the daemon's time.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::{TaskEntry, TaskName, TaskSet};
use crate::reload::ReloadDiff;
use crate::run::RunRecord;
use crate::runtime::LiveState;

#[derive(Debug, Clone)]
pub enum Event {
    RunStarted(RunRecord),
    RunFinished(RunRecord),
    /// Suspended, resumed, rescheduled, or its status changed some other way.
    TaskChanged(TaskChange),
    ConfigReloaded(ReloadDiff),
}

/// A task whose row changed, with what the loop knows of it, so that a watcher builds the row
/// without asking the loop again.
#[derive(Debug, Clone)]
pub struct TaskChange {
    pub task: TaskName,
    /// The configuration in effect; shared, never copied per event.
    pub tasks: Arc<TaskSet>,
    /// Where the task is in `tasks.entries`; `None` when the file no longer defines it (only
    /// history knows it).
    pub index: Option<usize>,
    /// What only the running daemon knows; `None` when the task is not schedulable.
    pub live: Option<LiveState>,
    /// How many of its newest runs the row shows (`Settings::row_runs`): read with the row,
    /// once for every watcher, so that no client asks for them row by row.
    pub recent_runs: usize,
}

impl TaskChange {
    /// The task's entry in the file, valid or broken.
    pub fn entry(&self) -> Option<&TaskEntry> {
        self.tasks.entries.get(self.index?)
    }
}

/// An event and when it happened.
#[derive(Debug, Clone)]
pub struct Stamped {
    pub at: DateTime<Utc>,
    pub event: Event,
}

/// Where the runtime loop's events go. It is called on the loop's thread, for each run's start
/// and end, so it hands the event on and returns: it never waits for a watcher.
pub trait Announce: Send + Sync {
    fn announce(&self, stamped: Stamped);
}

/// The runtime's tests watch its events on a plain channel.
#[cfg(test)]
impl Announce for tokio::sync::broadcast::Sender<Stamped> {
    fn announce(&self, stamped: Stamped) {
        // No watcher is not an error.
        let _ = self.send(stamped);
    }
}

/// A channel for the runtime's tests to watch.
#[cfg(test)]
pub fn channel() -> tokio::sync::broadcast::Sender<Stamped> {
    tokio::sync::broadcast::channel(1024).0
}
