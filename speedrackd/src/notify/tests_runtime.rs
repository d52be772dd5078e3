//! Where deliveries run: on the runtime the notifier was made on, not on the caller's.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::config::{TaskEntry, parse_tasks};
use crate::run::RunId;

/// A task whose failures go to a webhook nobody listens on: each delivery fails at once and
/// comes back as a notification failure.
fn task_with_dead_webhook() -> TaskDef {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let yaml = format!(
        "tasks:\n  - {{name: backup, command: 'false', interval: 1h, webhooks: ['http://127.0.0.1:{port}/hook']}}\n"
    );
    let tasks = parse_tasks(&yaml, Path::new("tasks.yaml"), chrono_tz::Tz::UTC).expect("tasks");
    match tasks.entries.into_iter().next() {
        Some(TaskEntry::Valid(def)) => Arc::unwrap_or_clone(def),
        other => panic!("not a valid task: {other:?}"),
    }
}

/// Run 7 of `backup`, failed.
fn failed_run() -> RunRecord {
    let Notice { mut run, end, .. } = super::delivery::tests::notice();
    run.end = Some(end);
    run
}

/// The loop decides on its own thread and runtime; the delivery must not die with it (nor
/// delay its fires): it runs on the daemon's runtime, where the notifier was made.
#[test]
fn a_delivery_outlives_the_runtime_of_the_thread_that_asked_for_it() {
    let daemon = tokio::runtime::Runtime::new().expect("the daemon's runtime");
    let (failures, mut handed_back) = mpsc::channel(4);
    let mut notifier = {
        let _inside = daemon.enter();
        Notifier::new(PathBuf::from("/nonexistent"), Some(failures), None)
    };
    let def = task_with_dead_webhook();
    let run = failed_run();
    let loops = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the loop's runtime");
    let mut settings = Settings::default();
    settings.notify.retries = 0;
    loops.block_on(async {
        notifier.run_finished(&settings, &def, &run, 0);
    });
    // Whatever was spawned on the loop's runtime ends here.
    drop(loops);
    let failure = daemon
        .block_on(async { tokio::time::timeout(Duration::from_secs(20), handed_back.recv()).await })
        .expect("the delivery went on")
        .expect("a failure handed back");
    assert_eq!(failure.run, RunId(7));
}
