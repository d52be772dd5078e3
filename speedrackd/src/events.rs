//! What the daemon announces to watchers (the WatchEvents stream, later the web page).
//!
//! Events are facts after the fact: the history already holds what they describe. A watcher
//! that falls behind loses events, never the daemon's time.

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use crate::config::TaskName;
use crate::reload::ReloadDiff;
use crate::run::RunRecord;

#[derive(Debug, Clone)]
pub enum Event {
    RunStarted(RunRecord),
    RunFinished(RunRecord),
    /// Suspended, resumed, rescheduled, or its status changed some other way.
    TaskChanged(TaskName),
    ConfigReloaded(ReloadDiff),
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
