//! The loop's thread. The loop and the supervisors of its runs share one thread and one
//! current-thread tokio runtime, whose reactor waits on the runs' pidfds and pipes itself: a
//! run's exit reaches its supervisor, and its end reaches the loop, with no hop between
//! threads. On the daemon's multi-threaded runtime each of those hops was a futex wake-up and
//! a context switch (BENCHMARKS.md). The API, the web and notification deliveries stay on
//! that runtime, so a slow request or mail server never delays a fire.
//!
//! The daemon hosts the loop on its main thread: the tasks were read there, and the loop's
//! allocations share that heap instead of growing an allocator arena of their own.

use std::future::Future;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{Command, Runtime};

/// How long, once the loop has ended, the pruner's reads still running get to finish.
const BLOCKING_WAIT: Duration = Duration::from_secs(5);

/// Why the loop did not end well.
#[derive(Debug, thiserror::Error)]
pub enum LoopError {
    #[error("the runtime loop stopped unexpectedly (see the log above); restart the daemon")]
    Died,
}

/// The loop, ready to run on the thread that takes it.
pub struct Hosted {
    runtime: Runtime,
    commands: mpsc::Receiver<Command>,
    stopped: oneshot::Receiver<()>,
    done: oneshot::Sender<()>,
}

/// The other side: stops the loop and learns that it ended.
pub struct LoopControl {
    stop: oneshot::Sender<()>,
    /// Told when the loop has ended; dropped unsent when it could not run or panicked.
    ended: oneshot::Receiver<()>,
}

impl LoopControl {
    /// `runtime`'s loop, taking `commands`, to be run by [`Hosted::run`].
    pub fn prepare(runtime: Runtime, commands: mpsc::Receiver<Command>) -> (LoopControl, Hosted) {
        let (stop, stopped) = oneshot::channel();
        let (done, ended) = oneshot::channel();
        let hosted = Hosted {
            runtime,
            commands,
            stopped,
            done,
        };
        (LoopControl { stop, ended }, hosted)
    }

    /// Waits for `shutdown`, then has the loop stop (it lets running tasks finish, as
    /// [`Runtime::run`] says) and waits for it. A loop that ends before, which only a panic
    /// does, is an error.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<(), LoopError> {
        let LoopControl { stop, mut ended } = self;
        tokio::select! {
            () = shutdown => {
                let _ = stop.send(());
                ended.await.map_err(|_| LoopError::Died)
            }
            _ = &mut ended => Err(LoopError::Died),
        }
    }
}

impl Hosted {
    /// Runs the loop on this thread, which must not be inside a tokio runtime, until it is told
    /// to stop. A loop that panics ends here, unsent to [`LoopControl::run_until`], which reports
    /// it: the panic does not unwind into the hosting thread, the daemon's main thread, whose
    /// end would end the process before the daemon cleaned up.
    pub fn run(self) {
        let Hosted {
            runtime,
            commands,
            stopped,
            done,
        } = self;
        let engine = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(engine) => engine,
            Err(error) => {
                tracing::error!("cannot start the runtime loop's tokio runtime: {error}");
                return;
            }
        };
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            engine.block_on(runtime.run(commands, async move {
                // A dropped sender stops the loop as a sent one does.
                let _ = stopped.await;
            }));
        }));
        engine.shutdown_timeout(BLOCKING_WAIT);
        if ran.is_ok() {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::SystemClock;
    use crate::config::TaskName;
    use crate::events::Event;
    use crate::history::{SqliteStore, Store};
    use crate::runtime::tests::runtime_of;
    use crate::runtime::{Restored, RunNowOutcome};

    const NAME: &str = "test-loop";

    /// The children of this process's thread named `name` (a process's parent is the thread
    /// that forked it).
    fn children_of_thread(name: &str) -> Vec<String> {
        std::fs::read_dir("/proc/self/task")
            .expect("own threads")
            .filter_map(|task| task.ok())
            .filter(|task| {
                std::fs::read_to_string(task.path().join("comm"))
                    .is_ok_and(|comm| comm.trim() == name)
            })
            .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
            .flat_map(|list| {
                list.split_whitespace()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[tokio::test]
    async fn the_loop_runs_on_the_thread_that_hosts_it_and_ends_only_after_its_runs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).expect("history"));
        let (runtime, mut watching) = runtime_of(
            Arc::new(SystemClock),
            "tasks:\n  - {name: slow, command: sleep 1, interval: 1h}\n",
            Restored::default(),
            Arc::clone(&history),
        );
        let (commands, queue) = mpsc::channel(4);
        let (looping, hosted) = LoopControl::prepare(runtime, queue);
        let thread = std::thread::Builder::new()
            .name(NAME.to_owned())
            .spawn(move || hosted.run())
            .expect("a thread");
        let (reply, replied) = oneshot::channel();
        let task = TaskName::parse_normalised("slow").expect("name");
        commands
            .send(Command::RunNow {
                task,
                by: String::new(),
                reply,
            })
            .await
            .expect("the loop takes commands");
        let outcome = replied.await.expect("the loop answers");
        let Ok(RunNowOutcome::Started(started)) = outcome else {
            panic!("the run did not start: {outcome:?}");
        };
        // A single start is made on the loop's own thread: the run's shell is its child.
        assert_eq!(
            children_of_thread(NAME).len(),
            1,
            "the hosting thread started the run"
        );

        // Shutdown comes while the run is going: the loop waits for its end and records it.
        looping
            .run_until(async {})
            .await
            .expect("the loop ended well");
        thread.join().expect("the loop's thread ended well");
        let record = history.get_run(started.id).expect("read").expect("the run");
        assert!(
            record.end.is_some(),
            "the run's end was recorded before the loop ended"
        );
        let finished = std::iter::from_fn(|| watching.try_recv().ok()).any(
            |stamped| matches!(stamped.event, Event::RunFinished(run) if run.id == started.id),
        );
        assert!(finished, "watchers heard of the end");
    }

    /// Breaks on demand: the next reading of the time panics, in the loop that reads it.
    struct BreakingClock(std::sync::atomic::AtomicBool);

    impl crate::clock::Clock for BreakingClock {
        fn now(&self) -> chrono::DateTime<chrono::Utc> {
            assert!(
                !self.0.load(std::sync::atomic::Ordering::SeqCst),
                "the clock broke"
            );
            SystemClock.now()
        }
    }

    /// Hosted on the daemon's main thread, a panic that unwound out of the loop would end the
    /// process there and then; it must come back as the loop's death instead.
    #[tokio::test]
    async fn a_loop_that_panics_ends_its_hosting_thread_well_and_is_reported_dead() {
        use crate::clock::Clock;

        let dir = tempfile::tempdir().expect("temp dir");
        let history: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).expect("history"));
        let clock = Arc::new(BreakingClock(std::sync::atomic::AtomicBool::new(false)));
        let (runtime, _watching) = runtime_of(
            Arc::clone(&clock) as Arc<dyn Clock>,
            "tasks:\n  - {name: t, command: 'true', interval: 1h}\n",
            Restored::default(),
            history,
        );
        let (commands, queue) = mpsc::channel(4);
        let (looping, hosted) = LoopControl::prepare(runtime, queue);
        let thread = std::thread::spawn(move || hosted.run());
        clock.0.store(true, std::sync::atomic::Ordering::SeqCst);
        let (reply, _replied) = oneshot::channel();
        commands
            .send(Command::RunNow {
                task: TaskName::parse_normalised("t").expect("name"),
                by: String::new(),
                reply,
            })
            .await
            .expect("the loop takes the command");
        let result = looping.run_until(std::future::pending()).await;
        assert!(matches!(result, Err(LoopError::Died)), "{result:?}");
        thread
            .join()
            .expect("the panic stayed in the loop, not its hosting thread");
    }

    #[tokio::test]
    async fn a_loop_that_dies_before_shutdown_is_an_error_at_once() {
        let (stop, _stopped) = oneshot::channel();
        let (done, ended) = oneshot::channel::<()>();
        drop(done);
        let looping = LoopControl { stop, ended };
        let result = looping.run_until(std::future::pending()).await;
        assert!(matches!(result, Err(LoopError::Died)), "{result:?}");
    }
}
