//! The runtime loop on tokio's paused clock: fires happen exactly at their deadlines in virtual
//! time, with a real history store and real (trivial) processes.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::*;
use crate::clock::TokioClock;
use crate::config::parse_tasks;
use crate::events::{self, Event};

struct Harness {
    events: broadcast::Receiver<Stamped>,
    commands: mpsc::Sender<Command>,
    stop: Option<oneshot::Sender<()>>,
    loop_task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

/// A paused clock at `start`, and a SQLite history in a temp dir (kept while the dir is).
pub(super) fn clock_and_history(
    start: DateTime<Utc>,
) -> (Arc<dyn Clock>, tempfile::TempDir, Arc<dyn Store>) {
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(start));
    let dir = tempfile::tempdir().expect("temp dir");
    let history: Arc<dyn Store> =
        Arc::new(crate::history::SqliteStore::open(dir.path()).expect("history"));
    (clock, dir, history)
}

fn start(tasks_yaml: &str, restored: Restored) -> (Harness, DateTime<Utc>) {
    let start = Utc
        .with_ymd_and_hms(2026, 3, 29, 0, 0, 0)
        .single()
        .expect("instant");
    let (clock, dir, history) = clock_and_history(start);
    let Looping {
        events,
        commands,
        stop,
        loop_task,
    } = spawn_loop(clock, tasks_yaml, restored, history);
    (
        Harness {
            events,
            commands,
            stop: Some(stop),
            loop_task,
            _dir: dir,
        },
        start,
    )
}

/// A runtime loop running `tasks_yaml` with default settings, and the ends the tests hold.
pub(super) struct Looping {
    pub events: broadcast::Receiver<Stamped>,
    pub commands: mpsc::Sender<Command>,
    /// Send (or drop) to stop the loop.
    pub stop: oneshot::Sender<()>,
    pub loop_task: tokio::task::JoinHandle<()>,
}

pub(super) fn spawn_loop(
    clock: Arc<dyn Clock>,
    tasks_yaml: &str,
    restored: Restored,
    history: Arc<dyn Store>,
) -> Looping {
    spawn_configured(clock, tasks_yaml, restored, history, |runtime| runtime)
}

/// A runtime for `tasks_yaml` with default settings, not yet running, and a watcher of its
/// events.
pub(super) fn runtime_of(
    clock: Arc<dyn Clock>,
    tasks_yaml: &str,
    restored: Restored,
    history: Arc<dyn Store>,
) -> (Runtime, broadcast::Receiver<Stamped>) {
    runtime_announcing(clock, tasks_yaml, restored, history, |sender| {
        Arc::new(sender)
    })
}

/// As `runtime_of`, with the events announced through what `announcer` makes of the channel.
pub(super) fn runtime_announcing(
    clock: Arc<dyn Clock>,
    tasks_yaml: &str,
    restored: Restored,
    history: Arc<dyn Store>,
    announcer: impl FnOnce(broadcast::Sender<Stamped>) -> Arc<dyn events::Announce>,
) -> (Runtime, broadcast::Receiver<Stamped>) {
    let tasks =
        parse_tasks(tasks_yaml, Path::new("tasks.yaml"), chrono_tz::Tz::UTC).expect("tasks");
    let sender = events::channel();
    let events = sender.subscribe();
    let runtime = Runtime::new(
        clock,
        Settings::default(),
        tasks,
        restored,
        history,
        announcer(sender),
        crate::metrics::Metrics::new(),
    );
    (runtime, events)
}

/// As `spawn_loop`, with the runtime passed through `configure` before it runs.
pub(super) fn spawn_configured(
    clock: Arc<dyn Clock>,
    tasks_yaml: &str,
    restored: Restored,
    history: Arc<dyn Store>,
    configure: impl FnOnce(Runtime) -> Runtime,
) -> Looping {
    let (runtime, events) = runtime_of(clock, tasks_yaml, restored, history);
    run_looping(configure(runtime), events)
}

/// Runs `runtime` on this runtime's tasks, with the ends a test holds.
pub(super) fn run_looping(runtime: Runtime, events: broadcast::Receiver<Stamped>) -> Looping {
    let (commands, queue) = mpsc::channel(8);
    let (stop, stopped) = oneshot::channel();
    let loop_task = tokio::spawn(runtime.run(queue, async move {
        let _ = stopped.await;
    }));
    Looping {
        events,
        commands,
        stop,
        loop_task,
    }
}

impl Harness {
    async fn next_start(&mut self, within: Duration) -> Option<crate::run::RunRecord> {
        tokio::time::timeout(within, async {
            loop {
                if let Ok(Stamped {
                    event: Event::RunStarted(record),
                    ..
                }) = self.events.recv().await
                {
                    return record;
                }
            }
        })
        .await
        .ok()
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.loop_task.await;
        drop(self.commands);
    }
}

#[tokio::test(start_paused = true)]
async fn an_interval_fires_exactly_one_period_after_load() {
    let (mut harness, start) = start(
        "tasks:\n  - {name: a, command: 'true', interval: 1h}\n",
        Restored::default(),
    );
    let run = harness
        .next_start(Duration::from_secs(7200))
        .await
        .expect("fires within two virtual hours");
    assert_eq!(run.scheduled_at, start + chrono::Duration::hours(1));
    assert_eq!(
        run.started_at, run.scheduled_at,
        "no lateness in virtual time: the loop sleeps to the deadline"
    );
    harness.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_cron_task_fires_on_its_wall_time_across_the_dst_gap() {
    // 2026-03-29 in Berlin: 02:30 does not exist; the fire comes at 03:00 CEST = 01:00 UTC.
    let yaml =
        "tasks:\n  - {name: b, command: 'true', cron: '30 2 * * *', timezone: Europe/Berlin}\n";
    let (mut harness, start) = start(yaml, Restored::default());
    let run = harness
        .next_start(Duration::from_secs(86_400))
        .await
        .expect("fires within a virtual day");
    assert_eq!(run.scheduled_at, start + chrono::Duration::hours(1));
    harness.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_suspended_task_does_not_fire_however_long_we_wait() {
    let restored = Restored {
        suspension: [(TaskName::normalise("a").expect("name"), true)]
            .into_iter()
            .collect(),
        ..Restored::default()
    };
    let (mut harness, _) = start(
        "tasks:\n  - {name: a, command: 'true', interval: 1m}\n",
        restored,
    );
    assert!(
        harness
            .next_start(Duration::from_secs(86_400))
            .await
            .is_none(),
        "a virtual day passes without a fire"
    );
    harness.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_interval_keeps_its_phase_from_the_last_fire_before_a_restart() {
    let last = Utc
        .with_ymd_and_hms(2026, 3, 28, 23, 50, 0)
        .single()
        .expect("instant");
    let restored = Restored {
        last_fires: [(TaskName::normalise("a").expect("name"), last)]
            .into_iter()
            .collect(),
        ..Restored::default()
    };
    let (mut harness, start) = start(
        "tasks:\n  - {name: a, command: 'true', interval: 1h}\n",
        restored,
    );
    let run = harness
        .next_start(Duration::from_secs(7200))
        .await
        .expect("fires");
    assert_eq!(
        run.scheduled_at,
        start + chrono::Duration::minutes(50),
        "23:50 + 1h, not load time + 1h"
    );
    harness.stop().await;
}

#[tokio::test(start_paused = true)]
async fn fires_missed_while_the_machine_stalled_all_run_in_order_when_nothing_else_runs() {
    let (mut harness, start) = start(
        "tasks:\n  - {name: a, command: 'true', interval: 1h, on_missed: run_all}\n",
        Restored::default(),
    );
    // Jumping past three deadlines at once is a stall: the due fire (03:00) finds the two
    // missed ones queued before it, and nothing of the task running to wait for.
    tokio::time::advance(Duration::from_secs(3 * 3600 + 60)).await;
    // The runs are real processes: virtual time must not run on while they do.
    let _hold = super::tests_overlap::hold_clock();
    let mut started = Vec::new();
    for _ in 0..3 {
        let run = harness
            .next_start(Duration::from_secs(600))
            .await
            .expect("each queued fire starts once the one before it ends");
        started.push(run.scheduled_at - start);
    }
    assert_eq!(
        started,
        [1, 2, 3].map(chrono::Duration::hours),
        "oldest first, none left waiting"
    );
    harness.stop().await;
}

/// The runs' supervisors share the loop's thread: a queue of commands must not keep them
/// waiting. Each command is one turn of the loop, and every other task on the thread gets a
/// turn between two.
#[tokio::test(start_paused = true)]
async fn other_tasks_on_the_loops_thread_run_between_two_commands() {
    let (harness, _) = start(
        "tasks:\n  - {name: a, command: 'true', interval: 1h}\n",
        Restored::default(),
    );
    let turns = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let ticker = tokio::spawn({
        let turns = Arc::clone(&turns);
        async move {
            loop {
                turns.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
        }
    });
    // Queued before the loop's next turn: without a yield it answers them all in one.
    let mut answers = Vec::new();
    for _ in 0..8 {
        let (reply, answer) = oneshot::channel();
        harness
            .commands
            .try_send(Command::Snapshot { reply })
            .expect("room in the queue");
        answers.push(answer);
    }
    let before = turns.load(std::sync::atomic::Ordering::Relaxed);
    for answer in answers {
        answer.await.expect("the loop answers");
    }
    let between = turns.load(std::sync::atomic::Ordering::Relaxed) - before;
    assert!(
        between >= 7,
        "the ticker ran {between} times while the loop answered 8 commands"
    );
    ticker.abort();
    harness.stop().await;
}
