//! Every duration a config may hold, however long, survives the runtime's time arithmetic:
//! run now, kill and shut down on arbitrary accepted configs without a panic. Before durations
//! were bounded, `timeout: 18446744073709551615s` passed validation and the first run panicked
//! the loop. Paused clock, real processes, a real history store.

use std::path::Path;
use std::sync::Arc;

use chrono::TimeZone;
use proptest::prelude::*;
use tokio::sync::{mpsc, oneshot};

use super::*;
use crate::clock::TokioClock;
use crate::config::limits::MAX_DURATION;
use crate::config::{parse_settings, parse_tasks};
use crate::events;

/// Seconds near the interesting edges (one second, the maximum, past it) and anywhere between.
fn seconds() -> impl Strategy<Value = u64> {
    let max = MAX_DURATION.as_secs();
    prop_oneof![
        Just(1),
        Just(max),
        Just(max + 1),
        Just(u64::MAX),
        1..=max,
        max..=u64::MAX,
    ]
}

struct Config {
    settings: Settings,
    tasks: TaskSet,
}

/// The config these durations make, if validation accepts it.
fn config(kill_grace: u64, shutdown_grace: u64, timeout: u64, interval: u64) -> Option<Config> {
    let settings = parse_settings(&format!(
        "kill_grace: {kill_grace}s\nshutdown_grace: {shutdown_grace}s\n"
    ))
    .ok()?;
    let yaml = format!(
        "tasks:\n  - {{name: t, command: 'sleep 30', timeout: {timeout}s, interval: {interval}s}}\n"
    );
    let tasks = parse_tasks(&yaml, Path::new("tasks.yaml"), chrono_tz::Tz::UTC).ok()?;
    tasks.valid().next()?;
    Some(Config { settings, tasks })
}

/// Runs the task now, kills it, runs it again and shuts down with that run in flight.
async fn exercise(config: Config) -> Result<(), tokio::task::JoinError> {
    let start = Utc
        .with_ymd_and_hms(2026, 3, 29, 0, 0, 0)
        .single()
        .expect("instant");
    let dir = tempfile::tempdir().expect("temp dir");
    let history: Arc<dyn Store> =
        Arc::new(crate::history::SqliteStore::open(dir.path()).expect("history"));
    let runtime = Runtime::new(
        Arc::new(TokioClock::starting_at(start)),
        config.settings,
        config.tasks,
        Restored::default(),
        history,
        Arc::new(events::channel()),
        crate::metrics::Metrics::new(),
    );
    let (commands, queue) = mpsc::channel(8);
    let (stop, stopped) = oneshot::channel::<()>();
    let loop_task = tokio::spawn(runtime.run(queue, async move {
        let _ = stopped.await;
    }));
    let task = TaskName::parse_normalised("t").expect("name");
    run_now(&commands, &task).await;
    let (reply, answer) = oneshot::channel();
    let by = "property".to_owned();
    let kill = Command::Kill {
        task: task.clone(),
        run: None,
        by,
        reply,
    };
    if commands.send(kill).await.is_ok() {
        let _ = answer.await;
    }
    run_now(&commands, &task).await;
    let _ = stop.send(());
    let finished = loop_task.await;
    drop(commands);
    finished
}

async fn run_now(commands: &mpsc::Sender<Command>, task: &TaskName) {
    let (reply, answer) = oneshot::channel();
    let by = "property".to_owned();
    let command = Command::RunNow {
        task: task.clone(),
        by,
        reply,
    };
    if commands.send(command).await.is_ok() {
        let _ = answer.await;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn run_now_kill_and_shutdown_never_panic_on_accepted_durations(
        kill_grace in seconds(),
        shutdown_grace in seconds(),
        timeout in seconds(),
        interval in seconds(),
    ) {
        let Some(config) = config(kill_grace, shutdown_grace, timeout, interval) else {
            // Refused at parse: nothing reaches the runtime.
            return Ok(());
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("runtime");
        let finished = runtime.block_on(exercise(config));
        prop_assert!(finished.is_ok(), "the loop panicked: {finished:?}");
    }
}

#[test]
fn durations_past_the_maximum_never_reach_the_runtime() {
    let max = MAX_DURATION.as_secs();
    assert!(config(max, max, max, max).is_some());
    for (kill, shutdown, timeout, interval) in [
        (u64::MAX, 1, 1, 1),
        (1, u64::MAX, 1, 1),
        (1, 1, u64::MAX, 1),
        (1, 1, 1, u64::MAX),
    ] {
        assert!(config(kill, shutdown, timeout, interval).is_none());
    }
}
