//! Reload: a broken file changes nothing; a good one is applied as a diff.

use speedrack_tests::{Daemon, WAIT};

const ONE_TASK: &str = "tasks:
  - name: steady
    command: 'true'
    interval: 1s
";

#[tokio::test]
async fn a_broken_file_keeps_the_running_set() {
    let daemon = Daemon::start(ONE_TASK);
    daemon.write_tasks("tasks: [this is not, yaml");
    let refused = daemon.ctl().run(&["reload"]);
    assert_eq!(refused.status.code(), Some(1));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("running configuration kept"), "{message}");
    assert!(
        message.contains("tasks.yaml"),
        "the error names the file: {message}"
    );

    let tasks = daemon.ctl().json(&["tasks"]);
    assert_eq!(tasks["tasks"].as_array().map(Vec::len), Some(1));
    assert_eq!(tasks["tasks"][0]["name"], "steady");
    let mut events = daemon.watch().await;
    events
        .run_finished("steady", WAIT)
        .await
        .expect("the old set keeps running");
}

#[tokio::test]
async fn a_good_file_is_applied_as_a_diff() {
    let daemon = Daemon::start(
        "tasks:
  - {name: kept, command: 'true', interval: 400w}
  - {name: edited, command: 'true', interval: 400w}
  - {name: dropped, command: 'true', interval: 400w}
",
    );
    daemon.ctl().ok(&["run-now", "dropped"]);
    let before = daemon.ctl().json(&["tasks"]);
    daemon.write_tasks(
        "tasks:
  - {name: kept, command: 'true', interval: 400w}
  - {name: edited, command: 'false', interval: 400w}
  - {name: fresh, command: 'true', interval: 400w}
  - {name: broken, interval: 400w}
",
    );
    let said = daemon.ctl().ok(&["reload"]);
    assert!(said.contains("added: fresh"), "{said}");
    assert!(said.contains("removed: dropped"), "{said}");
    assert!(said.contains("changed: edited"), "{said}");
    assert!(said.contains("no command"), "conf errors are shown: {said}");

    let after = daemon.ctl().json(&["tasks"]);
    let status_of = |name: &str| {
        after["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| t["status"].clone())
    };
    assert_eq!(status_of("broken"), Some("conf_error".into()));
    assert_eq!(
        status_of("dropped"),
        Some("inactive".into()),
        "history of removed tasks stays visible"
    );
    assert_eq!(
        after["tasks"][0]["next_fire"], before["tasks"][0]["next_fire"],
        "an unchanged task keeps its next fire"
    );
}
