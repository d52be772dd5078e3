//! The one async loop that owns the daemon's mutable state.
//!
//! It sleeps until the scheduler's next deadline and `select!`s on that, on commands from RPC
//! handlers, on runs that finished, on the pruner's deletions and notification failures (it
//! owns the one history writer), and on shutdown. There is no polling tick: with nothing due
//! and nothing happening, it does not wake up. It never reads history after start. Decisions
//! are delegated to pure modules (scheduler, overlap, verdict, reload, retention); these files
//! only wire them to I/O.

mod backups;
mod command;
mod control;
mod finish;
mod firing;
mod launch;
mod pending_writes;
mod prune;
mod pruner;
mod records;
mod start;
mod supervise;
mod task_state;
mod thread;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};

use backups::Backups;
pub use command::{Command, ControlError, LiveState, RunNowOutcome, Snapshot};
use pending_writes::PendingWrites;
use supervise::Report;
use task_state::TaskState;
pub use thread::{Hosted, LoopControl, LoopError};

use crate::clock::Clock;
use crate::cluster::{ClusterView, Placement};
use crate::config::{Settings, TaskDef, TaskEntry, TaskName, TaskSet};
use crate::events::{Announce, Event, Stamped, TaskChange};
use crate::exec::LiveOutput;
use crate::history::{MissedPlan, Store};
use crate::metrics::Metrics;
use crate::notify::{NotificationFailure, Notifier};
use crate::run::RunId;
use crate::scheduler::Scheduler;

/// Notification failures waiting for the loop to record them; more are logged and dropped.
const NOTIFICATION_FAILURES_QUEUE: usize = 256;

/// What history says of the time before this start, read once at start.
#[derive(Debug, Default)]
pub struct Restored {
    /// Explicit suspend/resume decisions; they win over the file's `suspended`.
    pub suspension: HashMap<TaskName, bool>,
    /// The last scheduled fire of each task, for phases and missed fires.
    pub last_fires: HashMap<TaskName, DateTime<Utc>>,
    /// Fires passed but not started when the daemon stopped, oldest first.
    pub owed: HashMap<TaskName, Vec<DateTime<Utc>>>,
    /// Runs that did not succeed since each task's last success.
    pub failure_streaks: HashMap<TaskName, u32>,
}

/// The loop's state.
pub struct Runtime {
    /// How often to ping systemd's watchdog (only under systemd with WatchdogSec).
    watchdog: Option<Duration>,
    /// Where runs' output is published as it is written, for TailOutput.
    live_output: LiveOutput,
    clock: Arc<dyn Clock>,
    settings: Settings,
    tasks: Arc<TaskSet>,
    /// Where each valid task sits in `tasks.entries`: a fire looks its task up by name, and a
    /// scan would cost O(tasks) per fire.
    task_index: HashMap<TaskName, usize>,
    scheduler: Scheduler,
    /// Everything kept per task, for every task with something to keep (runs in flight may
    /// belong to tasks a reload removed).
    states: HashMap<TaskName, TaskState>,
    history: Arc<dyn Store>,
    notifier: Notifier,
    metrics: Metrics,
    events: Arc<dyn Announce>,
    finished_tx: mpsc::UnboundedSender<Report>,
    finished_rx: mpsc::UnboundedReceiver<Report>,
    notification_failures: mpsc::Receiver<NotificationFailure>,
    /// History writes the database refused, retried from the loop.
    writes: PendingWrites,
    /// Retention work for the pruner, which runs off the loop (`pruner.rs`).
    prune_jobs: mpsc::Sender<pruner::Job>,
    /// The pruner's side, until `run` starts it.
    pruner: Option<(mpsc::Receiver<pruner::Job>, mpsc::Sender<pruner::Deletion>)>,
    deletions: mpsc::Receiver<pruner::Deletion>,
    started_at: DateTime<Utc>,
    last_reload_at: Option<DateTime<Utc>>,
    /// The cluster as the heartbeat last saw it, and where the heartbeat learns the tasks
    /// file's hash after a reload; `None` for a daemon alone.
    cluster: Option<(watch::Receiver<ClusterView>, watch::Sender<String>)>,
    /// Changes each time another node took this node's lease over; `None` alone.
    takeovers: Option<watch::Receiver<u64>>,
    /// Fires this busy node yielded to idle nodes, claimed here if still unclaimed later.
    backups: Backups,
}

impl Runtime {
    /// Builds the runtime: schedules every valid task (intervals keep the phase of their last
    /// fire) and queues the fires missed while the daemon was down, as each task's `on_missed`
    /// says.
    pub fn new(
        clock: Arc<dyn Clock>,
        settings: Settings,
        tasks: TaskSet,
        restored: Restored,
        history: Arc<dyn Store>,
        events: Arc<dyn Announce>,
        metrics: Metrics,
    ) -> Runtime {
        let now = clock.now();
        let (finished_tx, finished_rx) = mpsc::unbounded_channel();
        let (prune_jobs, jobs) = mpsc::channel(pruner::JOBS);
        let (deletions_tx, deletions) = mpsc::channel(1);
        let mut states: HashMap<TaskName, TaskState> = HashMap::new();
        for (task, suspended) in restored.suspension {
            states.entry(task).or_default().suspended = Some(suspended);
        }
        for (task, streak) in restored.failure_streaks {
            states.entry(task).or_default().failure_streak = streak;
        }
        let (failures_tx, notification_failures) = mpsc::channel(NOTIFICATION_FAILURES_QUEUE);
        let mut runtime = Runtime {
            watchdog: None,
            live_output: LiveOutput::default(),
            clock,
            settings,
            tasks: Arc::new(TaskSet::default()),
            task_index: HashMap::new(),
            scheduler: Scheduler::default(),
            states,
            notifier: Notifier::new(
                history.data_dir().to_owned(),
                Some(failures_tx),
                Some(metrics.clone()),
            ),
            history,
            metrics,
            events,
            finished_tx,
            finished_rx,
            notification_failures,
            writes: PendingWrites::default(),
            prune_jobs,
            pruner: Some((jobs, deletions_tx)),
            deletions,
            started_at: now,
            last_reload_at: None,
            cluster: None,
            takeovers: None,
            backups: Backups::default(),
        };
        let mut owed = restored.owed;
        let mut plans = Vec::new();
        for def in tasks.valid() {
            let last_fire = restored.last_fires.get(&def.name).copied();
            let anchor = last_fire
                .filter(|_| matches!(def.schedule, crate::schedule::Schedule::Interval(_)));
            let suspended = runtime.is_suspended(def);
            runtime.scheduler.add(
                def.name.clone(),
                def.schedule.clone(),
                anchor.unwrap_or(now),
                now,
                suspended,
            );
            let was_owed = owed.remove(&def.name).unwrap_or_default();
            if !suspended {
                plans.extend(runtime.catch_up(def, last_fire, was_owed, now));
            } else if !was_owed.is_empty() {
                plans.push(MissedPlan::dropped(def.name.clone()));
            }
        }
        // Fires owed to tasks no longer in the file (or broken now) are dropped with them.
        plans.extend(owed.into_keys().map(MissedPlan::dropped));
        if let Err(error) = runtime.history.settle_missed(&plans) {
            tracing::error!("cannot record the fires missed while speedrackd was down: {error}");
            runtime.lose_catch_up(&tasks, &plans, &error.to_string());
        }
        runtime.set_tasks(tasks);
        runtime
    }

    /// Runs until `shutdown` completes, then stops firing and lets running tasks finish for the
    /// shutdown grace before killing their process groups.
    pub async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        if let Some((jobs, deletions)) = self.pruner.take() {
            tokio::spawn(pruner::serve(Arc::clone(&self.history), jobs, deletions));
        }
        self.start_queued_all();
        let mut next_ping = self
            .watchdog
            .and_then(|every| tokio::time::Instant::now().checked_add(every));
        loop {
            let next = self.scheduler.next_wakeup();
            let deadline = next
                .and_then(|at| self.instant_of(at))
                .map(|exact| exact.checked_sub(self.clock.slack()).unwrap_or(exact));
            // In this order: a due fire must not wait behind the ends of earlier runs, which
            // arrive by the hundred when many tasks share a second (the `scale` benchmark).
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = sleep_until_opt(deadline) => {
                    // At most the clock's slack (2 ms) of blocking this thread, for a fire that
                    // starts on its instant rather than on tokio's next millisecond tick.
                    if let Some(at) = next {
                        self.clock.settle(at);
                    }
                    self.fire_due();
                }
                () = sleep_until_opt(next_ping) => {
                    crate::watchdog::ping();
                    next_ping = self
                        .watchdog
                        .and_then(|every| tokio::time::Instant::now().checked_add(every));
                }
                () = sleep_until_opt(self.writes.retry_at()) => self.retry_writes(),
                () = sleep_until_opt(self.backups.next().and_then(|at| self.instant_of(at))) => {
                    self.claim_backups();
                }
                Some(command) = commands.recv() => self.handle(command),
                Some(finished) = self.finished_rx.recv() => self.record_finished(finished),
                Some(deletion) = self.deletions.recv() => self.delete(deletion),
                Some(failure) = self.notification_failures.recv() => self.record_notification_failure(failure),
                taken_over = next_takeover(self.takeovers.as_mut()) => match taken_over {
                    true => self.end_disowned_runs(),
                    // The heartbeat is gone (only at exit): nothing more to hear from it.
                    false => self.takeovers = None,
                },
            }
            // The runs' supervisors share this thread (`thread.rs`): one event, then their
            // turn. Without it a flood of run-now kept them waiting for up to 128 commands, and
            // the descriptors of ended runs piled up until each start copied thousands.
            tokio::task::yield_now().await;
        }
        self.drain().await;
    }

    /// Publishes runs' output as it is written in `live_output`, which TailOutput follows.
    pub fn with_live_output(mut self, live_output: LiveOutput) -> Runtime {
        self.live_output = live_output;
        self
    }

    /// Runs only the scheduled fires that fall to this node in `cluster`'s view (placement),
    /// tells `tasks_hash` the tasks file's hash at every reload, for the heartbeat, and ends
    /// the runs another node closed each time `takeovers` says this node's lease was taken
    /// over.
    pub fn with_cluster(
        mut self,
        cluster: watch::Receiver<ClusterView>,
        tasks_hash: watch::Sender<String>,
        takeovers: watch::Receiver<u64>,
    ) -> Runtime {
        tasks_hash.send_replace(self.tasks.file_hash.clone());
        self.cluster = Some((cluster, tasks_hash));
        self.takeovers = Some(takeovers);
        self
    }

    /// Where the scheduled fire of `def` due at `due` runs: here when alone; in a cluster, as
    /// placement says.
    fn placement(&self, def: &TaskDef, due: DateTime<Utc>) -> Placement {
        self.cluster.as_ref().map_or(Placement::Here, |(view, _)| {
            view.borrow().membership.place(&def.name, due, &def.run_on)
        })
    }

    /// Whether `def` may run on this node at all (`run_on`); always alone.
    fn may_run_here(&self, def: &TaskDef) -> bool {
        let node = self.history.node();
        node.is_empty() || def.run_on.allows(node)
    }

    /// Pings the systemd watchdog from this loop every `every`, so that a stuck loop is noticed.
    pub fn with_watchdog(mut self, every: Duration) -> Runtime {
        self.watchdog = Some(every);
        self
    }

    /// Converts a wall-clock deadline into tokio's monotonic time, now.
    /// `None` for an instant past what the monotonic clock can hold, which never comes.
    fn instant_of(&self, at: DateTime<Utc>) -> Option<tokio::time::Instant> {
        let wait = (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO);
        tokio::time::Instant::now().checked_add(wait)
    }

    fn def(&self, task: &TaskName) -> Option<&Arc<TaskDef>> {
        valid_def(&self.tasks, &self.task_index, task)
    }

    fn set_tasks(&mut self, tasks: TaskSet) {
        self.task_index = tasks
            .entries
            .iter()
            .enumerate()
            .filter_map(|(index, entry)| match entry {
                TaskEntry::Valid(def) => Some((def.name.clone(), index)),
                TaskEntry::Broken(_) => None,
            })
            .collect();
        if let Some((_, tasks_hash)) = &self.cluster {
            tasks_hash.send_replace(tasks.file_hash.clone());
        }
        self.tasks = Arc::new(tasks);
    }

    fn state_mut(&mut self, task: &TaskName) -> &mut TaskState {
        self.states.entry(task.clone()).or_default()
    }

    fn running_of(&self, task: &TaskName) -> Vec<RunId> {
        self.states
            .get(task)
            .map(TaskState::running_ids)
            .unwrap_or_default()
    }

    /// A task is suspended when someone said so, else when the file starts it suspended.
    fn is_suspended(&self, def: &TaskDef) -> bool {
        self.states
            .get(&def.name)
            .and_then(|state| state.suspended)
            .unwrap_or(def.suspended)
    }

    /// Announces that a task's row changed, with what the loop knows of it.
    fn task_changed(&self, task: &TaskName) {
        let index = self.task_index.get(task).copied().or_else(|| {
            self.tasks.entries.iter().position(|entry| match entry {
                TaskEntry::Broken(broken) => broken.name.as_ref() == Some(task),
                TaskEntry::Valid(_) => false,
            })
        });
        let live = self.def(task).map(|def| self.live_state(def));
        self.emit(Event::TaskChanged(TaskChange {
            task: task.clone(),
            tasks: Arc::clone(&self.tasks),
            index,
            live,
            recent_runs: self.settings.row_runs(),
        }));
    }

    /// What only the running daemon knows about a task.
    fn live_state(&self, def: &TaskDef) -> LiveState {
        let state = self.states.get(&def.name);
        LiveState {
            next_fire: self.scheduler.next_fire(&def.name),
            suspended: self.is_suspended(def),
            running: state.map(TaskState::running_ids).unwrap_or_default(),
            runs_since_start: state.map_or(0, |state| state.runs_since_start),
            skipped_fires: state.map_or(0, |state| state.skipped_fires),
        }
    }

    /// Writes a failed notification on its run and shows it on the task's row.
    fn record_notification_failure(&mut self, failure: NotificationFailure) {
        if let Err(error) = self
            .history
            .set_notification_error(failure.run, &failure.text)
        {
            tracing::error!(run = %failure.run, "cannot record a notification failure: {error}");
        }
        self.task_changed(&failure.task);
    }

    fn emit(&self, event: Event) {
        self.events.announce(Stamped {
            at: self.clock.now(),
            event,
        });
    }
}

/// The valid task named `task`, found through `index` (see `Runtime::task_index`).
fn valid_def<'a>(
    tasks: &'a TaskSet,
    index: &HashMap<TaskName, usize>,
    task: &TaskName,
) -> Option<&'a Arc<TaskDef>> {
    match tasks.entries.get(*index.get(task)?)? {
        TaskEntry::Valid(def) => Some(def),
        TaskEntry::Broken(_) => None,
    }
}

/// True at the next takeover of this node's lease; false once nobody can report one.
async fn next_takeover(takeovers: Option<&mut watch::Receiver<u64>>) -> bool {
    match takeovers {
        Some(takeovers) => takeovers.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_cluster;
#[cfg(test)]
mod tests_durations;
#[cfg(test)]
mod tests_overlap;
