//! The loop's own thread. The loop and the supervisors of its runs share one thread and one
//! current-thread tokio runtime, whose reactor waits on the runs' pidfds and pipes itself: a
//! run's exit reaches its supervisor, and its end reaches the loop, with no hop between
//! threads. On the daemon's multi-threaded runtime each of those hops was a futex wake-up and
//! a context switch (BENCHMARKS.md). The API, the web and notification deliveries stay on
//! that runtime, so a slow request or mail server never delays a fire.

use std::future::Future;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{Command, Runtime};

/// The loop thread's name, as `top -H` and `/proc/PID/task/*/comm` show it.
const NAME: &str = "run-loop";
/// How long, once the loop has ended, the pruner's reads still running get to finish.
const BLOCKING_WAIT: Duration = Duration::from_secs(5);

/// Why the loop's thread could not start or did not end well.
#[derive(Debug, thiserror::Error)]
pub enum LoopThreadError {
    #[error("cannot start the runtime loop's thread: {0}; check the daemon's thread limit")]
    Start(#[from] std::io::Error),
    #[error("the runtime loop stopped unexpectedly (it panicked; see the log above)")]
    Died,
}

/// A runtime loop running on its own thread.
pub struct LoopThread {
    stop: oneshot::Sender<()>,
    /// Told when the loop has ended; dropped unsent when it panicked.
    ended: oneshot::Receiver<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LoopThread {
    /// Starts `runtime`'s loop, taking `commands`, on a thread of its own.
    pub fn start(
        runtime: Runtime,
        commands: mpsc::Receiver<Command>,
    ) -> Result<LoopThread, LoopThreadError> {
        let engine = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = oneshot::channel();
        let (done, ended) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(NAME.to_owned())
            .spawn(move || {
                engine.block_on(runtime.run(commands, async move {
                    // A dropped sender stops the loop as a sent one does.
                    let _ = stopped.await;
                }));
                engine.shutdown_timeout(BLOCKING_WAIT);
                let _ = done.send(());
            })?;
        Ok(LoopThread {
            stop,
            ended,
            thread: Some(thread),
        })
    }

    /// Waits for `shutdown`, then has the loop stop (it lets running tasks finish, as
    /// [`Runtime::run`] says) and waits for it. A loop that ends before, which only a panic
    /// does, is an error.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), LoopThreadError> {
        let LoopThread {
            stop,
            mut ended,
            thread,
        } = self;
        let result = tokio::select! {
            () = shutdown => {
                let _ = stop.send(());
                (&mut ended).await.map_err(|_| LoopThreadError::Died)
            }
            _ = &mut ended => Err(LoopThreadError::Died),
        };
        // The thread has sent its last word or unwound: joining it is waiting for its exit.
        if let Some(thread) = thread {
            let _ = thread.join();
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use tokio::sync::broadcast;

    use super::*;
    use crate::clock::{Clock, SystemClock};
    use crate::config::{Settings, TaskName, parse_tasks};
    use crate::events::{self, Event, Stamped};
    use crate::history::{SqliteStore, Store};
    use crate::metrics::Metrics;
    use crate::runtime::{Restored, RunNowOutcome};

    fn runtime_of(
        tasks_yaml: &str,
        history: Arc<dyn Store>,
    ) -> (Runtime, broadcast::Receiver<Stamped>) {
        let tasks =
            parse_tasks(tasks_yaml, Path::new("tasks.yaml"), chrono_tz::Tz::UTC).expect("tasks");
        let sender = events::channel();
        let watching = sender.subscribe();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let runtime = Runtime::new(
            clock,
            Settings::default(),
            tasks,
            Restored::default(),
            history,
            sender,
            Metrics::new(),
        );
        (runtime, watching)
    }

    fn thread_names() -> Vec<String> {
        std::fs::read_dir("/proc/self/task")
            .expect("own threads")
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .map(|name| name.trim().to_owned())
            .collect()
    }

    #[tokio::test]
    async fn the_loop_runs_on_its_own_thread_and_ends_only_after_its_runs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).expect("history"));
        let (runtime, mut watching) = runtime_of(
            "tasks:\n  - {name: slow, command: sleep 0.3, interval: 1h}\n",
            Arc::clone(&history),
        );
        let (commands, queue) = mpsc::channel(4);
        let looping = LoopThread::start(runtime, queue).expect("loop thread");
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
        assert!(
            thread_names().iter().any(|name| name == NAME),
            "{:?}",
            thread_names()
        );

        // Shutdown comes while the run is going: the loop waits for its end and records it.
        looping
            .run_until(async {})
            .await
            .expect("the loop ended well");
        let record = history.get_run(started.id).expect("read").expect("the run");
        assert!(
            record.end.is_some(),
            "the run's end was recorded before the loop ended"
        );
        let finished = std::iter::from_fn(|| watching.try_recv().ok()).any(
            |stamped| matches!(stamped.event, Event::RunFinished(run) if run.id == started.id),
        );
        assert!(finished, "watchers heard of the end");
        assert!(
            !thread_names().iter().any(|name| name == NAME),
            "the thread is gone"
        );
    }

    #[tokio::test]
    async fn a_loop_that_dies_before_shutdown_is_an_error_at_once() {
        let (stop, _stopped) = oneshot::channel();
        let (done, ended) = oneshot::channel::<()>();
        drop(done);
        let looping = LoopThread {
            stop,
            ended,
            thread: None,
        };
        let result = looping.run_until(std::future::pending()).await;
        assert!(matches!(result, Err(LoopThreadError::Died)), "{result:?}");
    }
}
