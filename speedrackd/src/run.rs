//! What a run is, as the daemon's modules share it: ids, triggers, outcomes and the record kept
//! in history. Plain data; storing, executing and showing runs happen elsewhere.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};

use crate::config::TaskName;

/// A run's id: unique for the life of the history database, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a run started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    /// Asked for through the API, by this user.
    Manual {
        by: String,
    },
    /// Copied from another scheduler's records (`speedrackd import-history`); it never ran here.
    Imported,
}

/// What a run's processes used: from the run's cgroup when it has one, else CPU from `wait4`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Peak memory of all the run's processes (its cgroup's `memory.peak`); 0 when not measured
    /// (no cgroup with the memory controller: wait4's figure would be the daemon's own).
    pub max_rss_bytes: u64,
    pub cpu_user: Duration,
    pub cpu_system: Duration,
}

/// How the process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunStatus {
    #[default]
    Running,
    Success,
    Failure,
    /// speedrack could not start or track the command.
    ExecutionError,
    /// The daemon stopped while the run was in flight.
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Success => "success",
            RunStatus::Failure => "failure",
            RunStatus::ExecutionError => "execution_error",
            RunStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(text: &str) -> Option<RunStatus> {
        [
            RunStatus::Running,
            RunStatus::Success,
            RunStatus::Failure,
            RunStatus::ExecutionError,
            RunStatus::Interrupted,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// Why a run was ended before its command ended by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillCause {
    /// A Kill request.
    User,
    /// The task's timeout.
    Timeout,
    /// A newer run of the task replaced it (overlap: replace).
    Replaced,
    /// The daemon stopped and the run outlived the shutdown grace.
    Shutdown,
}

impl KillCause {
    pub fn as_str(self) -> &'static str {
        match self {
            KillCause::User => "user",
            KillCause::Timeout => "timeout",
            KillCause::Replaced => "replaced",
            KillCause::Shutdown => "shutdown",
        }
    }

    pub fn parse(text: &str) -> Option<KillCause> {
        [
            KillCause::User,
            KillCause::Timeout,
            KillCause::Replaced,
            KillCause::Shutdown,
        ]
        .into_iter()
        .find(|cause| cause.as_str() == text)
    }
}

/// A request to end a run early: why, and who or what in words (`alice`, `shutdown`,
/// `a manual run (overlap: replace)`), as `RunEnd::killed_by` keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kill {
    pub cause: KillCause,
    pub by: String,
}

/// A run as history keeps it, through its whole life: what is known when it starts, and its
/// end once it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub id: RunId,
    pub task: TaskName,
    pub trigger: Trigger,
    pub scheduled_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    /// The task definition the run executed, as YAML.
    pub definition: String,
    /// Why notifying about the run failed; empty when it did not.
    pub notification_error: String,
    /// The node that ran it, in a history several nodes share; empty in a single node's.
    pub node: String,
    /// `None` while the run is in flight.
    pub end: Option<RunEnd>,
}

/// `at` as history keeps instants (whole microseconds), so that a record announced from memory
/// and the same record read back later agree to the last digit.
pub fn as_stored(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

#[cfg(test)]
impl RunRecord {
    /// Run `id` of `task`, fired by its schedule at `at` and started then, not ended: where
    /// unit tests start.
    pub fn scheduled(id: i64, task: &str, at: DateTime<Utc>) -> RunRecord {
        RunRecord {
            id: RunId(id),
            task: TaskName::normalise(task).expect("a valid task name"),
            trigger: Trigger::Schedule,
            scheduled_at: at,
            started_at: at,
            definition: String::new(),
            notification_error: String::new(),
            node: String::new(),
            end: None,
        }
    }
}

impl RunRecord {
    /// `Running` until the run has an end.
    pub fn status(&self) -> RunStatus {
        self.end
            .as_ref()
            .map_or(RunStatus::Running, |end| end.status)
    }

    pub fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.end.as_ref().map(|end| end.finished_at)
    }

    /// Why speedrack could not run or track it; empty when nothing went wrong (or still running).
    pub fn op_error(&self) -> &str {
        self.end.as_ref().map_or("", |end| end.op_error.as_str())
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunEnd {
    pub finished_at: DateTime<Utc>,
    pub exit: Option<Exit>,
    pub status: RunStatus,
    pub stdout_bytes: u64,
    pub stderr_bytes: u64,
    /// What went wrong in speedrack's own handling (spawning, tracking, capturing).
    pub op_error: String,
    /// Why the run counts as failed, in words; empty for a success.
    pub reason: String,
    /// Who or what ended the run early; empty when it ended by itself.
    pub killed_by: String,
    /// Why it was ended early; `None` when it ended by itself.
    pub kill_cause: Option<KillCause>,
    /// The run that replaced this one (`KillCause::Replaced`), once that one started.
    pub replaced_by: Option<RunId>,
    pub usage: Usage,
    pub output_dropped_bytes: u64,
}

impl RunEnd {
    /// An end that says only when and how it ended, e.g. a process that never started.
    pub fn bare(finished_at: DateTime<Utc>, status: RunStatus, op_error: String) -> RunEnd {
        RunEnd {
            finished_at,
            status,
            op_error,
            ..RunEnd::default()
        }
    }
}
