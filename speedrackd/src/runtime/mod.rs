//! The one async loop that owns the daemon's mutable state.
//!
//! It sleeps until the scheduler's next deadline and `select!`s on that, on commands from RPC
//! handlers, on runs that finished, and on shutdown. There is no polling tick: with nothing due
//! and nothing happening, it does not wake up. Decisions are delegated to pure modules
//! (scheduler, overlap, verdict, reload); these files only wire them to I/O.

mod command;
mod control;
mod firing;
mod housekeeping;
mod launch;
mod pending_writes;
mod records;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, mpsc};

pub use command::{Command, ControlError, LiveState, RunNowOutcome, Snapshot};
use launch::{Finished, InFlight};
use pending_writes::PendingWrites;

use crate::clock::Clock;
use crate::config::{Settings, TaskDef, TaskEntry, TaskName, TaskSet};
use crate::events::{Event, Stamped};
use crate::history::{History, MissedPlan};
use crate::metrics::Metrics;
use crate::notify::{Announcer, Notifier};
use crate::run::{RunId, Trigger};
use crate::scheduler::Scheduler;

/// What the daemon remembers from before it started.
#[derive(Debug, Default)]
pub struct Remembered {
    /// Explicit suspend/resume decisions; they win over the file's `suspended`.
    pub suspension: HashMap<TaskName, bool>,
    /// The last scheduled fire of each task, for phases and missed fires.
    pub last_fires: HashMap<TaskName, DateTime<Utc>>,
    /// Fires passed but not started when the daemon stopped, oldest first.
    pub owed: HashMap<TaskName, Vec<DateTime<Utc>>>,
}

/// A fire waiting for its task's running run to end.
#[derive(Debug, Clone)]
struct Pending {
    trigger: Trigger,
    due: DateTime<Utc>,
}

/// The loop's state.
pub struct Runtime {
    /// How often to ping systemd's watchdog (only under systemd with WatchdogSec).
    watchdog: Option<Duration>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    tasks: Arc<TaskSet>,
    /// Where each valid task sits in `tasks.entries`: a fire looks its task up by name, and a
    /// scan would cost O(tasks) per fire.
    task_index: HashMap<TaskName, usize>,
    scheduler: Scheduler,
    suspension: HashMap<TaskName, bool>,
    history: Arc<History>,
    notifier: Notifier,
    metrics: Metrics,
    in_flight: HashMap<RunId, InFlight>,
    pending: HashMap<TaskName, VecDeque<Pending>>,
    runs_since_start: HashMap<TaskName, u64>,
    skipped_fires: HashMap<TaskName, u64>,
    events: broadcast::Sender<Stamped>,
    finished_tx: mpsc::UnboundedSender<Finished>,
    finished_rx: mpsc::UnboundedReceiver<Finished>,
    /// History writes the database refused, retried from the loop.
    writes: PendingWrites,
    started_at: DateTime<Utc>,
    last_reload_at: Option<DateTime<Utc>>,
}

impl Runtime {
    /// Builds the runtime: schedules every valid task (intervals keep the phase of their last
    /// fire) and queues the fires missed while the daemon was down, as each task's `on_missed`
    /// says.
    pub fn new(
        clock: Arc<dyn Clock>,
        settings: Settings,
        tasks: TaskSet,
        remembered: Remembered,
        history: Arc<History>,
        events: broadcast::Sender<Stamped>,
        metrics: Metrics,
    ) -> Runtime {
        let now = clock.now();
        let (finished_tx, finished_rx) = mpsc::unbounded_channel();
        let announcer = Announcer {
            events: events.clone(),
            clock: Arc::clone(&clock),
            metrics: metrics.clone(),
        };
        let mut runtime = Runtime {
            watchdog: None,
            clock,
            settings,
            tasks: Arc::new(TaskSet::default()),
            task_index: HashMap::new(),
            scheduler: Scheduler::default(),
            suspension: remembered.suspension,
            notifier: Notifier::new(Arc::clone(&history), Some(announcer)),
            history,
            metrics,
            in_flight: HashMap::new(),
            pending: HashMap::new(),
            runs_since_start: HashMap::new(),
            skipped_fires: HashMap::new(),
            events,
            finished_tx,
            finished_rx,
            writes: PendingWrites::default(),
            started_at: now,
            last_reload_at: None,
        };
        let mut owed = remembered.owed;
        let mut plans = Vec::new();
        for def in tasks.valid() {
            let last_fire = remembered.last_fires.get(&def.name).copied();
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
        self.start_pending_all();
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
                Some(command) = commands.recv() => self.handle(command),
                Some(finished) = self.finished_rx.recv() => self.record_finished(finished),
            }
        }
        self.drain().await;
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

    fn def(&self, task: &TaskName) -> Option<&TaskDef> {
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
        self.tasks = Arc::new(tasks);
    }

    fn running_of(&self, task: &TaskName) -> Vec<RunId> {
        let mut runs: Vec<RunId> = self
            .in_flight
            .iter()
            .filter(|(_, run)| &run.task == task)
            .map(|(id, _)| *id)
            .collect();
        runs.sort();
        runs
    }

    /// A task is suspended when someone said so, else when the file starts it suspended.
    fn is_suspended(&self, def: &TaskDef) -> bool {
        self.suspension
            .get(&def.name)
            .copied()
            .unwrap_or(def.suspended)
    }

    fn emit(&self, event: Event) {
        // No watcher is not an error.
        let _ = self.events.send(Stamped {
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
) -> Option<&'a TaskDef> {
    match tasks.entries.get(*index.get(task)?)? {
        TaskEntry::Valid(def) => Some(def),
        TaskEntry::Broken(_) => None,
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
mod tests_durations;
#[cfg(test)]
mod tests_overlap;
