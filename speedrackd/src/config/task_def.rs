//! A schedulable task, as validated from the tasks file, and the small enums of its options.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::cluster_settings::NodeName;
use super::task_name::TaskName;
use crate::schedule::Schedule;

/// A task that can be scheduled. Two definitions are equal when every option is: a reload
/// reschedules a task only when its schedule changed.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDef {
    /// The key history and output are filed under.
    pub name: TaskName,
    /// The name as the file writes it: what people see.
    pub written_name: String,
    pub description: String,
    pub command: String,
    pub schedule: Schedule,
    /// The schedule as the file writes it (`every 21s`, `0 5 * * *`, `{second: 5}`).
    pub schedule_text: String,
    /// Who gets mail about this task (besides the global list).
    pub email: Vec<String>,
    /// Mail after every run.
    pub spam: bool,
    /// Mail after every failed run.
    pub spam_fail: bool,
    /// Runs to keep in history; `None` means the settings' default.
    pub max_keep: Option<u32>,
    /// Failed runs kept even when successes would flush them.
    pub retain_failures: Option<u32>,
    /// Per-task override of the settings' `fail_by_retcode`.
    pub fail_by_retcode: Option<bool>,
    /// Per-task override of the settings' `fail_by_stderr`.
    pub fail_by_stderr: Option<bool>,
    /// Run as this user through `sudo -n -u USER`.
    pub sudo: Option<String>,
    pub timeout: Option<Duration>,
    pub working_dir: Option<PathBuf>,
    pub env: BTreeMap<String, String>,
    pub overlap: Overlap,
    pub on_missed: OnMissed,
    /// Whether the task starts suspended the first time the daemon sees it.
    pub suspended: bool,
    /// Exit codes that count as success / failure whatever `fail_by_retcode` says.
    pub ok_exit_codes: Vec<i32>,
    pub fail_on_exit_codes: Vec<i32>,
    /// A line of stdout or stderr matching this fails the run.
    pub fail_if_output_matches: Option<OutputPattern>,
    /// Per-task override of the settings' `output_max_bytes`.
    pub output_max_bytes: Option<u64>,
    /// Per-task override of the settings' `missed_deadline`.
    pub missed_deadline: Option<Duration>,
    /// Webhook URLs for this task, besides the settings' `notify.webhooks`.
    pub webhooks: Vec<String>,
    /// Per-task overrides of `notify.after_failures` and `notify.min_interval`.
    pub notify_after_failures: Option<u32>,
    pub notify_min_interval: Option<Duration>,
    /// Which nodes of a cluster run its scheduled fires.
    pub run_on: RunOn,
    /// The task as the file writes it, in YAML: what a run records as its definition.
    pub definition: String,
}

/// Which nodes of a cluster run a task's scheduled fires; a daemon alone runs every task.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RunOn {
    /// Each fire once, on whichever node claims it first (`run_on: any`).
    #[default]
    Any,
    /// Each fire once on every node (`run_on: all`): a host's own chores.
    All,
    /// Each fire once, on one of these nodes (`run_on: [web-01, web-02]`).
    Nodes(Vec<NodeName>),
}

impl RunOn {
    pub fn is_all(&self) -> bool {
        *self == RunOn::All
    }

    /// Whether `node` may run the task's scheduled fires.
    pub fn allows(&self, node: &str) -> bool {
        match self {
            RunOn::Any | RunOn::All => true,
            RunOn::Nodes(nodes) => nodes.iter().any(|name| name.as_str() == node),
        }
    }
}

/// A regular expression matched against output lines, compared by its text.
#[derive(Debug, Clone)]
pub struct OutputPattern(pub regex::bytes::Regex);

impl PartialEq for OutputPattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

/// What a fire does while the task is still running.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Overlap {
    /// Skip the fire (and count it).
    #[default]
    Skip,
    /// Start it when the running one ends; at most one waits.
    Queue,
    /// Start it alongside.
    Parallel,
    /// Kill the running one, then start.
    Replace,
}

/// What to do about fires that fell due while the daemon was down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnMissed {
    #[default]
    Skip,
    RunOnce,
    RunAll,
}

impl Overlap {
    pub const CHOICES: &[(&str, Overlap)] = &[
        ("skip", Overlap::Skip),
        ("queue", Overlap::Queue),
        ("parallel", Overlap::Parallel),
        ("replace", Overlap::Replace),
    ];
}

impl OnMissed {
    pub const CHOICES: &[(&str, OnMissed)] = &[
        ("skip", OnMissed::Skip),
        ("run_once", OnMissed::RunOnce),
        ("run_all", OnMissed::RunAll),
    ];
}
