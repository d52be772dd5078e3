//! Requests that RPC handlers send to the runtime loop, each with a reply channel, and what
//! they get back. The loop owns all mutable state; this is the only way to ask it something.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use crate::config::{Settings, TaskName, TaskSet};
use crate::history::HistoryError;
use crate::reload::ReloadDiff;
use crate::run::{RunId, RunRecord};

pub enum Command {
    Snapshot {
        reply: oneshot::Sender<Snapshot>,
    },
    RunNow {
        task: TaskName,
        by: String,
        reply: oneshot::Sender<Result<RunNowOutcome, ControlError>>,
    },
    Kill {
        task: TaskName,
        /// Only this run of the task; every running one when `None`.
        run: Option<RunId>,
        by: String,
        reply: oneshot::Sender<Result<Vec<RunId>, ControlError>>,
    },
    SetSuspended {
        task: TaskName,
        suspended: bool,
        reply: oneshot::Sender<Result<(), ControlError>>,
    },
    NextFires {
        task: TaskName,
        count: usize,
        reply: oneshot::Sender<Result<Vec<DateTime<Utc>>, ControlError>>,
    },
    /// Prune every task's history by age and the global quota, and checkpoint the WAL.
    Sweep,
    /// Other nodes started or ended runs of these tasks (`None`: of any task): their rows
    /// changed for this node's watchers too.
    OthersRan {
        tasks: Option<Vec<TaskName>>,
    },
    /// Switch to a reloaded configuration, already validated.
    Reload {
        settings: Box<Settings>,
        tasks: TaskSet,
        reply: oneshot::Sender<ReloadDiff>,
    },
}

/// The runtime's view of the tasks at one instant.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// When the loop took it, by its clock.
    pub taken_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    pub last_reload_at: Option<DateTime<Utc>>,
    /// The settings in effect (the last ones loaded).
    pub settings: Arc<Settings>,
    pub tasks: Arc<TaskSet>,
    pub live: HashMap<TaskName, LiveState>,
    /// History writes the database refused, waiting for a retry.
    pub pending_history_writes: usize,
}

/// What only the running daemon knows about a task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveState {
    pub next_fire: Option<DateTime<Utc>>,
    pub suspended: bool,
    pub running: Vec<RunId>,
    pub runs_since_start: u64,
    /// Scheduled fires dropped since start because the task was still running.
    pub skipped_fires: u64,
}

/// What a run-now did.
#[derive(Debug, Clone)]
pub enum RunNowOutcome {
    Started(Box<RunRecord>),
    /// The task is running and its overlap policy queues: it starts when these runs end.
    Queued {
        behind: Vec<RunId>,
    },
}

/// Why a control request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("no task named {0:?} (see speedrackctl tasks)")]
    UnknownTask(String),
    #[error("task {task} has conf errors and cannot run; fix the tasks file and reload")]
    ConfError { task: String },
    #[error("task {task} is already running (run {run}); it does not overlap itself")]
    AlreadyRunning { task: TaskName, run: RunId },
    #[error("task {0} is not running")]
    NotRunning(TaskName),
    #[error("run {run} of task {task} is not running (it has ended); nothing was killed")]
    RunNotRunning { task: TaskName, run: RunId },
    #[error(transparent)]
    History(#[from] HistoryError),
}
