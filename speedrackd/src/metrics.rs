//! Prometheus metrics: the counters and histograms the runtime feeds as runs start and end and
//! notifications fail, and their rendering, together with what only scrape time knows, as the
//! Prometheus text exposition format (version 0.0.4).
//!
//! Counters and histograms live in memory and count since this daemon started: a restart sets
//! them back to zero, which Prometheus takes as a counter reset (`rate`, `increase` handle it).
//! What a scrape reads fresh (last success, next fire, running runs, history size) is handed to
//! [`Metrics::render`] by the GetMetrics handler, so it survives restarts; only the data dir's
//! free space is read here, at render (one `statvfs`). This module reads no clock, no database
//! and serves nothing: the handler gathers the facts, the gateway serves the text.

use std::sync::atomic::AtomicU64;

use chrono::{DateTime, Utc};
use prometheus_client::encoding::{
    EncodeLabelSet, EncodeLabelValue, LabelValueEncoder, prometheus_text,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use crate::config::TaskName;
use crate::disk::DiskSpace;
use crate::run::RunStatus;

mod nodes;

pub use nodes::NodeFacts;

/// Every metric's name starts with `speedrack_`.
const PREFIX: &str = "speedrack";

/// Upper bounds, in seconds, for how late a scheduled run starts after its due instant: well
/// under a millisecond normally, seconds when the machine stalls.
const LATENESS_BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Upper bounds, in seconds, for how long a run takes: from a quick `echo` to an hour-long job.
const DURATION_BUCKETS: [f64; 13] = [
    0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0,
];

/// The ends a run can come to while the daemon runs. Each is exported from zero for every task,
/// so that the first failure already shows in `increase()`.
const FINISHED: [RunStatus; 3] = [
    RunStatus::Success,
    RunStatus::Failure,
    RunStatus::ExecutionError,
];

/// The ends a task's newest run can have come to, a daemon's crash included: the states of
/// `last_run_status`.
const LAST_STATUSES: [RunStatus; 4] = [
    RunStatus::Success,
    RunStatus::Failure,
    RunStatus::ExecutionError,
    RunStatus::Interrupted,
];

/// Labels hold the task's shared name: a run's end looks up two series and its start one, and
/// a copy of the name for each lookup was three of the 42 allocations a run cost.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TaskLabel {
    task: TaskName,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    task: TaskName,
    status: &'static str,
}

impl EncodeLabelValue for TaskName {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

type HistogramFamily = Family<TaskLabel, Histogram, fn() -> Histogram>;
type TimestampFamily = Family<TaskLabel, Gauge<f64, AtomicU64>>;

/// The metrics kept since start. Cheap to clone: every clone counts into the same series.
#[derive(Debug, Clone)]
pub struct Metrics {
    runs: Family<RunLabels, Counter>,
    lateness: HistogramFamily,
    duration: HistogramFamily,
    notification_failures: Family<TaskLabel, Counter>,
    pending_history_writes: Gauge<i64, std::sync::atomic::AtomicI64>,
    /// Where the data dir is, so a scrape reads its free space fresh; none in tests of the
    /// counters alone.
    data_dir: Option<std::sync::Arc<std::path::Path>>,
}

/// What a scrape knows fresh, gathered by the GetMetrics handler.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScrapeFacts {
    /// Every task of the tasks file, valid or not.
    pub tasks: Vec<TaskFacts>,
    /// Rows in the history database.
    pub history_runs: u64,
    /// Output bytes (stdout and stderr) the history database accounts for.
    pub history_output_bytes: u64,
    /// Every node sharing the store, this one included.
    pub nodes: Vec<NodeFacts>,
}

/// One task's scrape-time facts.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskFacts {
    pub task: TaskName,
    /// When its last successful run finished, as history remembers.
    pub last_success: Option<DateTime<Utc>>,
    /// When its last run that did not succeed finished.
    pub last_failure: Option<DateTime<Utc>>,
    /// How its newest finished run ended.
    pub last_status: Option<RunStatus>,
    /// Its next scheduled fire; none while suspended or broken.
    pub next_fire: Option<DateTime<Utc>>,
    pub running: usize,
}

fn lateness_histogram() -> Histogram {
    Histogram::new(LATENESS_BUCKETS)
}

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

fn task_label(task: &TaskName) -> TaskLabel {
    TaskLabel { task: task.clone() }
}

/// Seconds, with negative durations (a clock step backwards) counted as zero.
fn seconds(duration: chrono::Duration) -> f64 {
    duration
        .to_std()
        .map_or(0.0, |duration| duration.as_secs_f64())
}

/// Seconds since the Unix epoch, as Prometheus timestamps are.
fn epoch_seconds(at: DateTime<Utc>) -> f64 {
    at.timestamp_micros() as f64 / 1e6
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics {
            runs: Family::default(),
            lateness: Family::new_with_constructor(lateness_histogram),
            duration: Family::new_with_constructor(duration_histogram),
            notification_failures: Family::default(),
            pending_history_writes: Gauge::default(),
            data_dir: None,
        }
    }

    /// Scrapes also report the free space of the file system holding `dir`.
    pub fn with_data_dir(mut self, dir: &std::path::Path) -> Metrics {
        self.data_dir = Some(dir.into());
        self
    }

    /// How many refused history writes wait for a retry.
    pub fn pending_history_writes(&self, count: usize) {
        self.pending_history_writes
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// A run started. `lateness` (started minus due) is given for scheduled runs only: a manual
    /// run has no due instant to be late for.
    pub fn run_started(&self, task: &TaskName, lateness: Option<chrono::Duration>) {
        if let Some(lateness) = lateness {
            self.lateness
                .get_or_create(&task_label(task))
                .observe(seconds(lateness));
        }
    }

    /// A run ended with `status` after `duration`.
    pub fn run_finished(&self, task: &TaskName, status: RunStatus, duration: chrono::Duration) {
        let labels = RunLabels {
            task: task.clone(),
            status: status.as_str(),
        };
        self.runs.get_or_create(&labels).inc();
        self.duration
            .get_or_create(&task_label(task))
            .observe(seconds(duration));
    }

    /// A notification about a run of `task` could not be delivered, retries included.
    pub fn notification_failed(&self, task: &TaskName) {
        self.notification_failures
            .get_or_create(&task_label(task))
            .inc();
    }

    /// The metrics kept since start and the scrape's facts, as Prometheus text (0.0.4).
    pub fn render(&self, facts: &ScrapeFacts) -> Result<String, std::fmt::Error> {
        // Creating a series is all that is wanted here: the handles returned are dropped.
        for task in &facts.tasks {
            for status in FINISHED {
                let labels = RunLabels {
                    task: task.task.clone(),
                    status: status.as_str(),
                };
                self.runs.get_or_create_owned(&labels);
            }
            self.notification_failures
                .get_or_create_owned(&task_label(&task.task));
        }
        let mut registry = Registry::with_prefix(PREFIX);
        self.register_kept(&mut registry);
        register_scraped(&mut registry, facts);
        nodes::register_nodes(&mut registry, &facts.nodes);
        let mut text = String::new();
        prometheus_text::encode(&mut text, &registry)?;
        // The standard process metrics, under their usual names (no prefix).
        let mut process = Registry::default();
        crate::metrics_process::register(&mut process);
        prometheus_text::encode(&mut text, &process)?;
        Ok(text)
    }

    fn register_kept(&self, registry: &mut Registry) {
        registry.register(
            "build",
            "The speedrackd build answering: its version",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        registry.register(
            "runs",
            "Runs finished since speedrackd started, by task and status",
            self.runs.clone(),
        );
        registry.register(
            "fire_lateness_seconds",
            "How long after its due instant a scheduled run started",
            self.lateness.clone(),
        );
        registry.register(
            "run_duration_seconds",
            "How long runs took, from start to end",
            self.duration.clone(),
        );
        registry.register(
            "notification_failures",
            "Notifications (one per channel) not delivered after retries since speedrackd started",
            self.notification_failures.clone(),
        );
        registry.register(
            "pending_history_writes",
            "History writes (run ends, fires) the database refused, kept in memory and retried",
            self.pending_history_writes.clone(),
        );
        if let Some(space) = self.data_dir.as_deref().and_then(disk_space) {
            register_disk(registry, &space);
        }
    }
}

/// The data dir's free space now; a failure to read it leaves the gauges out of this scrape.
fn disk_space(dir: &std::path::Path) -> Option<DiskSpace> {
    DiskSpace::of(dir)
        .inspect_err(|error| {
            tracing::warn!(dir = %dir.display(), "cannot read the data dir's free space: {error}")
        })
        .ok()
}

fn register_disk(registry: &mut Registry, space: &DiskSpace) {
    let free = Gauge::<u64, AtomicU64>::default();
    free.set(space.free_bytes);
    registry.register(
        "data_dir_free_bytes",
        "Free space of the file system holding the data dir, in bytes",
        free,
    );
    let low = Gauge::<u64, AtomicU64>::default();
    low.set(u64::from(space.is_low()));
    registry.register(
        "data_dir_low_disk",
        "1 when the data dir's free space is below the low-disk threshold (5 % of its file system, at most 1 GiB)",
        low,
    );
}

/// The gauges read at scrape time, registered fresh for each scrape.
fn register_scraped(registry: &mut Registry, facts: &ScrapeFacts) {
    let last_success = TimestampFamily::default();
    let last_failure = TimestampFamily::default();
    let never_succeeded = Family::<TaskLabel, Gauge<u64, AtomicU64>>::default();
    let last_status = Family::<RunLabels, Gauge<u64, AtomicU64>>::default();
    let next_fire = TimestampFamily::default();
    let running = Family::<TaskLabel, Gauge<u64, AtomicU64>>::default();
    for task in &facts.tasks {
        let label = task_label(&task.task);
        if let Some(at) = task.last_success {
            last_success.get_or_create(&label).set(epoch_seconds(at));
        }
        if let Some(at) = task.last_failure {
            last_failure.get_or_create(&label).set(epoch_seconds(at));
        }
        never_succeeded
            .get_or_create(&label)
            .set(u64::from(task.last_success.is_none()));
        if let Some(status) = task.last_status {
            for state in LAST_STATUSES {
                let labels = RunLabels {
                    task: task.task.clone(),
                    status: state.as_str(),
                };
                last_status
                    .get_or_create(&labels)
                    .set(u64::from(state == status));
            }
        }
        if let Some(at) = task.next_fire {
            next_fire.get_or_create(&label).set(epoch_seconds(at));
        }
        let count = u64::try_from(task.running).unwrap_or(u64::MAX);
        running.get_or_create(&label).set(count);
    }
    registry.register(
        "last_success_timestamp_seconds",
        "When the last successful run of the task finished, in seconds since the Unix epoch",
        last_success,
    );
    registry.register(
        "last_failure_timestamp_seconds",
        "When the last run of the task that did not succeed finished, in seconds since the Unix epoch",
        last_failure,
    );
    registry.register(
        "never_succeeded",
        "1 while history holds no successful run of the task (its last_success series is absent)",
        never_succeeded,
    );
    registry.register(
        "last_run_status",
        "How the newest finished run of the task ended: 1 for its status, 0 for the others",
        last_status,
    );
    registry.register(
        "next_fire_timestamp_seconds",
        "When the task fires next by its schedule, in seconds since the Unix epoch",
        next_fire,
    );
    registry.register("running_runs", "Runs of the task in flight now", running);
    let history_runs = Gauge::<u64, AtomicU64>::default();
    history_runs.set(facts.history_runs);
    registry.register(
        "history_runs",
        "Runs kept in the history database",
        history_runs,
    );
    let history_bytes = Gauge::<u64, AtomicU64>::default();
    history_bytes.set(facts.history_output_bytes);
    registry.register(
        "history_output_bytes",
        "Output (stdout and stderr) of the runs kept in history, in bytes",
        history_bytes,
    );
}

#[cfg(test)]
mod tests;
