//! Log levels of run ends: failed runs at WARN and execution errors at ERROR, so that
//! `journalctl -p warning` lists them; successes stay at INFO.

use speedrack_tests::{Daemon, WAIT};

const TASKS: &str = "tasks:
  - {name: fine, command: 'true', interval: 400w}
  - {name: broken, command: 'exit 3', interval: 400w}
  - {name: lost, command: 'true', interval: 400w, working_dir: /nonexistent/dir}
";

/// The daemon's log line about `task` that says `what`.
fn line_about(daemon: &Daemon, task: &str, what: &str) -> String {
    let task = format!("task={task}");
    daemon
        .wait_for_log(WAIT, |line| line.contains(&task) && line.contains(what))
        .unwrap_or_else(|| panic!("no log line about {task} saying {what:?}"))
}

#[tokio::test]
async fn failures_log_at_warn_and_execution_errors_at_error() {
    let daemon = Daemon::start(TASKS);
    let mut events = daemon.watch().await;
    for task in ["fine", "broken", "lost"] {
        daemon.run_now_and_wait(&mut events, task).await;
    }
    let failed = line_about(&daemon, "broken", "run failed");
    assert!(failed.contains(" WARN "), "{failed}");
    let lost = line_about(&daemon, "lost", "could not start");
    assert!(lost.contains(" ERROR "), "{lost}");
    assert!(
        lost.contains("/nonexistent/dir"),
        "the line says why: {lost}"
    );
    let fine = line_about(&daemon, "fine", "run finished");
    assert!(fine.contains(" INFO "), "{fine}");
}
