//! What the daemon announces to watchers (the WatchEvents stream, later the web page).
//!
//! Events are facts after the fact: the history already holds what they describe. A watcher
//! that falls behind loses events, never the daemon's time.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

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

/// How many events a slow watcher may lag behind before it misses some.
const CAPACITY: usize = 1024;

pub fn channel() -> broadcast::Sender<Stamped> {
    broadcast::channel(CAPACITY).0
}
