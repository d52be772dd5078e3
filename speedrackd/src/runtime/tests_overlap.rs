//! Overlap policies in the running loop, on tokio's paused clock: what a fire or a run-now does
//! while its task still runs (skip, queue, replace), with a real history store and real
//! processes that the test itself ends. The decision table is `overlap.rs`'s own test; this is
//! its wiring. Only the runtime's public surface is used: `Runtime::new`, `Runtime::run`,
//! commands and the event channel.
//!
//! Virtual time moves only when a test says so (`at`): the clock is held still while the test
//! waits for something real (a process reading a fifo to end), so no fire can slip in between.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::tests::{Looping, run_looping, runtime_announcing};
use super::*;
use crate::clock::TokioClock;
use crate::events::{Announce, Event};
use crate::run::{RunRecord, Trigger};

/// How long, in real time, a test waits for something real before it fails. Only a failing
/// test waits this long.
const REAL_LIMIT: Duration = Duration::from_secs(15);

/// Keeps tokio's paused clock from advancing on its own while it lives: a blocking task
/// inhibits auto-advance until it returns, which it does once this is dropped or after
/// [`REAL_LIMIT`] (the test then fails on its next wait instead of hanging).
pub(super) struct ClockHold {
    /// Dropping it ends the blocking task's wait.
    _release: std::sync::mpsc::Sender<()>,
}

pub(super) fn hold_clock() -> ClockHold {
    let (release, released) = std::sync::mpsc::channel::<()>();
    tokio::task::spawn_blocking(move || {
        let _ = released.recv_timeout(REAL_LIMIT);
    });
    ClockHold { _release: release }
}

/// A run starting or ending, as the event channel says.
#[derive(Debug)]
enum RunEvent {
    Started(RunRecord),
    Finished(RunRecord),
}

struct Harness {
    events: broadcast::Receiver<Stamped>,
    commands: mpsc::Sender<Command>,
    stop: Option<oneshot::Sender<()>>,
    loop_task: tokio::task::JoinHandle<()>,
    start: DateTime<Utc>,
    origin: tokio::time::Instant,
    task: TaskName,
    /// What the task's command reads; each run ends when the test opens it for writing.
    fifo: PathBuf,
    hold: Option<ClockHold>,
    history: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

/// One task `t`, firing every hour with `overlap` as its policy, whose runs last until the
/// test releases them.
fn start(overlap: &str) -> Harness {
    start_announcing(overlap, |sender, _| Arc::new(sender))
}

/// As `start`, with the loop's events announced through what `announcer` makes of the
/// channel the harness reads, given the history.
fn start_announcing(
    overlap: &str,
    announcer: impl FnOnce(broadcast::Sender<Stamped>, Arc<dyn Store>) -> Arc<dyn Announce>,
) -> Harness {
    let hold = hold_clock();
    let start = Utc
        .with_ymd_and_hms(2026, 3, 29, 0, 0, 0)
        .single()
        .expect("instant");
    let origin = tokio::time::Instant::now();
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(start));
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("release");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("make the fifo");
    let history: Arc<dyn Store> =
        Arc::new(crate::history::SqliteStore::open(dir.path()).expect("history"));
    // A minute at most, should a failing test never release it; `--foreground` keeps it in
    // the run's process group, where a kill of the run reaches it.
    let yaml = format!(
        "tasks:\n  - {{name: t, command: 'timeout --foreground 60 cat {}', interval: 1h, overlap: {overlap}}}\n",
        fifo.display()
    );
    let looked_up = Arc::clone(&history);
    let (runtime, events) = runtime_announcing(
        clock,
        &yaml,
        Restored::default(),
        Arc::clone(&history),
        |sender| announcer(sender, looked_up),
    );
    let Looping {
        events,
        commands,
        stop,
        loop_task,
    } = run_looping(runtime, events);
    Harness {
        events,
        commands,
        stop: Some(stop),
        loop_task,
        start,
        origin,
        task: TaskName::normalise("t").expect("name"),
        fifo,
        hold: Some(hold),
        history,
        _dir: dir,
    }
}

impl Harness {
    /// The instant `minutes` after the start.
    fn instant(&self, minutes: i64) -> DateTime<Utc> {
        self.start + chrono::Duration::minutes(minutes)
    }

    /// Moves virtual time to `minutes` after the start and returns the task's state once the
    /// loop has dealt with everything due by then (it serves due fires before commands).
    async fn at(&mut self, minutes: u64) -> LiveState {
        let target = self.origin + Duration::from_secs(minutes * 60);
        tokio::time::advance(target - tokio::time::Instant::now()).await;
        self.live().await
    }

    /// `old` was killed to make way for `new`, and history says so.
    fn assert_replaced(&self, old: RunId, new: RunId) {
        let record = self.history.get_run(old).expect("read").expect("exists");
        let end = record.end.expect("the killed run ended");
        assert_eq!(end.kill_cause, Some(crate::run::KillCause::Replaced));
        assert_eq!(
            end.replaced_by,
            Some(new),
            "it names the run that replaced it"
        );
    }

    async fn kill(&self, run: Option<RunId>) -> Result<Vec<RunId>, ControlError> {
        let (reply, answer) = oneshot::channel();
        let by = "tester".to_owned();
        let task = self.task.clone();
        self.send(Command::Kill {
            task,
            run,
            by,
            reply,
        })
        .await;
        answer.await.expect("the loop answers")
    }

    async fn live(&self) -> LiveState {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Snapshot { reply }).await;
        let snapshot = answer.await.expect("the loop answers");
        snapshot.live.get(&self.task).cloned().expect("t is live")
    }

    async fn run_now(&self) -> Result<RunNowOutcome, ControlError> {
        let (reply, answer) = oneshot::channel();
        let by = "tester".to_owned();
        let task = self.task.clone();
        self.send(Command::RunNow { task, by, reply }).await;
        answer.await.expect("the loop answers")
    }

    async fn send(&self, command: Command) {
        assert!(
            self.commands.send(command).await.is_ok(),
            "the loop takes commands"
        );
    }

    /// The next run started or finished. A wait that fails is bounded by [`REAL_LIMIT`]; then
    /// the clock moves again and this virtual timeout ends it.
    async fn next_run_event(&mut self) -> RunEvent {
        let next = async {
            loop {
                match self.events.recv().await.map(|stamped| stamped.event) {
                    Ok(Event::RunStarted(run)) => return RunEvent::Started(run),
                    Ok(Event::RunFinished(run)) => return RunEvent::Finished(run),
                    Ok(_) => {}
                    Err(error) => panic!("the event channel failed: {error}"),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(60), next)
            .await
            .expect("a run starts or finishes")
    }

    async fn started(&mut self) -> RunRecord {
        match self.next_run_event().await {
            RunEvent::Started(run) => run,
            other => panic!("expected a run to start, got {other:?}"),
        }
    }

    async fn finished(&mut self) -> RunRecord {
        match self.next_run_event().await {
            RunEvent::Finished(run) => run,
            other => panic!("expected a run to finish, got {other:?}"),
        }
    }

    /// Ends the run reading the fifo: opening it for writing (which waits for its reader) and
    /// closing it gives the reader an end of file.
    fn release(&self) {
        let fifo = self.fifo.clone();
        let (done, opened) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&fifo)
                    .map(drop),
            );
        });
        opened
            .recv_timeout(REAL_LIMIT)
            .expect("a run reads the fifo")
            .expect("open the fifo for writing");
    }

    /// Stops the loop with nothing running; the clock may move again for its shutdown.
    async fn stop(mut self) {
        assert_eq!(
            self.live().await.running,
            Vec::new(),
            "the test ended its runs"
        );
        self.hold = None;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.loop_task).await;
    }
}

/// Lets go whatever run still reads the fifo when a test fails: opening without blocking
/// fails when nothing reads it, which is fine here.
impl Drop for Harness {
    fn drop(&mut self) {
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&self.fifo);
    }
}

#[tokio::test(start_paused = true)]
async fn skip_drops_a_fire_while_the_task_runs_and_counts_it() {
    let mut harness = start("skip");
    harness.at(60).await;
    let first = harness.started().await;
    assert_eq!(first.scheduled_at, harness.instant(60));

    let live = harness.at(120).await;
    assert_eq!(live.skipped_fires, 1, "the 02:00 fire was dropped");
    assert_eq!(live.running, vec![first.id], "and nothing else started");

    harness.release();
    assert_eq!(harness.finished().await.id, first.id);
    harness.at(180).await;
    let next = harness.started().await;
    assert_eq!(
        next.scheduled_at,
        harness.instant(180),
        "the next run is the 03:00 fire: the dropped one never runs"
    );
    harness.release();
    assert_eq!(harness.finished().await.id, next.id);
    harness.stop().await;
}

#[tokio::test(start_paused = true)]
async fn queue_runs_the_waiting_fire_once_right_after_the_running_one() {
    let mut harness = start("queue");
    harness.at(60).await;
    let first = harness.started().await;

    let live = harness.at(120).await;
    assert_eq!(
        live.running,
        vec![first.id],
        "02:00 waits, it does not start"
    );
    assert_eq!(live.skipped_fires, 0, "02:00 waits, it is not dropped");
    let live = harness.at(210).await;
    assert_eq!(live.running, vec![first.id]);
    assert_eq!(
        live.skipped_fires, 1,
        "03:00 is dropped: at most one fire waits"
    );

    harness.release();
    let ended = harness.finished().await;
    assert_eq!(ended.id, first.id);
    let queued = harness.started().await;
    assert_eq!(
        queued.scheduled_at,
        harness.instant(120),
        "it keeps its own instant"
    );
    assert_eq!(
        Some(queued.started_at),
        ended.finished_at(),
        "it starts as the running one ends"
    );
    assert_eq!(queued.trigger, Trigger::Schedule);

    harness.release();
    assert_eq!(harness.finished().await.id, queued.id);
    harness.at(240).await;
    let next = harness.started().await;
    assert_eq!(
        next.scheduled_at,
        harness.instant(240),
        "the queued fire ran once: next is the 04:00 fire"
    );
    harness.release();
    assert_eq!(harness.finished().await.id, next.id);
    harness.stop().await;
}

#[tokio::test(start_paused = true)]
async fn replace_kills_the_running_run_and_starts_the_new_fire() {
    let mut harness = start("replace");
    harness.at(60).await;
    let first = harness.started().await;

    harness.at(120).await;
    let killed = harness.finished().await;
    assert_eq!(killed.id, first.id);
    assert_eq!(
        killed.end.as_ref().map_or("", |end| end.killed_by.as_str()),
        "a newer fire (overlap: replace, due 02:00:00)",
        "the killed run says why"
    );
    let replacement = harness.started().await;
    assert_eq!(replacement.scheduled_at, harness.instant(120));
    assert_eq!(harness.live().await.running, vec![replacement.id]);
    harness.assert_replaced(first.id, replacement.id);

    harness.release();
    let ended = harness.finished().await;
    assert_eq!(ended.id, replacement.id);
    assert_eq!(
        ended.end.as_ref().map_or("", |end| end.killed_by.as_str()),
        "",
        "the replacement ran to its end"
    );
    harness.stop().await;
}

/// Each announced start, with the run that history then said replaced run 1.
type SeenAtStarts = Arc<std::sync::Mutex<Vec<(RunId, Option<RunId>)>>>;

/// Passes the loop's events on and, as each run's start is announced, notes which run history
/// then says replaced run 1: a watcher that reads the replaced run on that event sees this.
struct ReplacementSeenAtStart {
    events: broadcast::Sender<Stamped>,
    history: Arc<dyn Store>,
    seen: SeenAtStarts,
}

impl Announce for ReplacementSeenAtStart {
    fn announce(&self, stamped: Stamped) {
        if let Event::RunStarted(started) = &stamped.event {
            let first = self.history.get_run(RunId(1)).expect("read");
            let replaced_by = first
                .and_then(|run| run.end)
                .and_then(|end| end.replaced_by);
            let mut seen = self.seen.lock().expect("the notes");
            seen.push((started.id, replaced_by));
        }
        let _ = self.events.send(stamped);
    }
}

#[tokio::test(start_paused = true)]
async fn a_replaced_run_names_its_replacement_before_the_replacement_is_announced() {
    let seen = SeenAtStarts::default();
    let notes = Arc::clone(&seen);
    let mut harness = start_announcing("replace", move |events, history| {
        Arc::new(ReplacementSeenAtStart {
            events,
            history,
            seen: notes,
        })
    });
    harness.at(60).await;
    let first = harness.started().await;
    assert_eq!(first.id, RunId(1));
    harness.at(120).await;
    assert_eq!(harness.finished().await.id, first.id);
    let replacement = harness.started().await;
    assert_eq!(
        *seen.lock().expect("the notes"),
        vec![(first.id, None), (replacement.id, Some(replacement.id))],
        "when the replacement's start was announced, history already named it"
    );
    harness.release();
    assert_eq!(harness.finished().await.id, replacement.id);
    harness.stop().await;
}

#[tokio::test(start_paused = true)]
async fn run_now_under_skip_refuses_while_the_task_runs() {
    let mut harness = start("skip");
    let Ok(RunNowOutcome::Started(first)) = harness.run_now().await else {
        panic!("an idle task starts at once");
    };
    assert_eq!(harness.started().await.id, first.id);

    match harness.run_now().await {
        Err(ControlError::AlreadyRunning { run, .. }) => assert_eq!(run, first.id),
        other => panic!("expected AlreadyRunning, got {other:?}"),
    }
    let live = harness.live().await;
    assert_eq!(live.running, vec![first.id], "nothing else started");
    assert_eq!(
        live.skipped_fires, 0,
        "a refused run-now is not a dropped fire"
    );

    harness.release();
    assert_eq!(harness.finished().await.id, first.id);
    harness.stop().await;
}

#[tokio::test(start_paused = true)]
async fn run_now_under_queue_waits_behind_the_running_run() {
    let mut harness = start("queue");
    let Ok(RunNowOutcome::Started(first)) = harness.run_now().await else {
        panic!("an idle task starts at once");
    };
    assert_eq!(harness.started().await.id, first.id);

    match harness.run_now().await {
        Ok(RunNowOutcome::Queued { behind }) => assert_eq!(behind, vec![first.id]),
        other => panic!("expected Queued, got {other:?}"),
    }
    assert_eq!(harness.live().await.running, vec![first.id]);

    harness.release();
    let ended = harness.finished().await;
    assert_eq!(ended.id, first.id);
    assert_eq!(
        ended.end.as_ref().map_or("", |end| end.killed_by.as_str()),
        "",
        "queue lets the running run finish"
    );
    let queued = harness.started().await;
    assert_eq!(
        queued.trigger,
        Trigger::Manual {
            by: "tester".into()
        }
    );
    assert_eq!(Some(queued.started_at), ended.finished_at());
    harness.release();
    assert_eq!(harness.finished().await.id, queued.id);
    harness.stop().await;
}

#[tokio::test(start_paused = true)]
async fn run_now_under_replace_kills_the_running_run_then_starts() {
    let mut harness = start("replace");
    let Ok(RunNowOutcome::Started(first)) = harness.run_now().await else {
        panic!("an idle task starts at once");
    };
    assert_eq!(harness.started().await.id, first.id);

    match harness.run_now().await {
        Ok(RunNowOutcome::Queued { behind }) => assert_eq!(behind, vec![first.id]),
        other => panic!("expected Queued behind the killed run, got {other:?}"),
    }
    let killed = harness.finished().await;
    assert_eq!(killed.id, first.id);
    assert_eq!(
        killed.end.as_ref().map_or("", |end| end.killed_by.as_str()),
        "a manual run (overlap: replace)"
    );
    let replacement = harness.started().await;
    assert_ne!(replacement.id, first.id);
    harness.live().await;
    harness.assert_replaced(first.id, replacement.id);
    harness.release();
    assert_eq!(harness.finished().await.id, replacement.id);
    harness.stop().await;
}

#[tokio::test(start_paused = true)]
async fn parallel_starts_each_fire_beside_the_runs_still_running() {
    let mut harness = start("parallel");
    harness.at(60).await;
    let first = harness.started().await;
    let live = harness.at(120).await;
    let second = harness.started().await;
    assert_eq!(second.scheduled_at, harness.instant(120));
    assert_eq!(live.skipped_fires, 0, "no fire was dropped");
    let mut running = live.running;
    running.sort_unstable();
    assert_eq!(running, vec![first.id, second.id], "both run at once");

    // Ended together by a kill: one opening of the fifo ends only the readers already there.
    let mut killed = harness.kill(None).await.expect("a kill of the task's runs");
    killed.sort_unstable();
    assert_eq!(killed, vec![first.id, second.id]);
    let mut ended = vec![harness.finished().await.id, harness.finished().await.id];
    ended.sort_unstable();
    assert_eq!(ended, vec![first.id, second.id]);
    harness.stop().await;
}

#[tokio::test(start_paused = true)]
async fn kill_of_one_run_leaves_the_others_running() {
    let mut harness = start("parallel");
    let Ok(RunNowOutcome::Started(first)) = harness.run_now().await else {
        panic!("an idle task starts at once");
    };
    assert_eq!(harness.started().await.id, first.id);
    let Ok(RunNowOutcome::Started(second)) = harness.run_now().await else {
        panic!("parallel starts another");
    };
    assert_eq!(harness.started().await.id, second.id);

    assert_eq!(
        harness.kill(Some(first.id)).await.ok(),
        Some(vec![first.id])
    );
    let killed = harness.finished().await;
    assert_eq!(killed.id, first.id);
    let end = killed.end.expect("an end");
    assert_eq!(
        (end.kill_cause, end.killed_by.as_str()),
        (Some(crate::run::KillCause::User), "tester")
    );
    assert_eq!(harness.live().await.running, vec![second.id]);
    match harness.kill(Some(first.id)).await {
        Err(ControlError::RunNotRunning { run, .. }) => assert_eq!(run, first.id),
        other => panic!("expected RunNotRunning, got {other:?}"),
    }

    harness.release();
    assert_eq!(harness.finished().await.id, second.id);
    harness.stop().await;
}
