//! speedrackctl's contract with scripts: exit codes and JSON.

use speedrack_tests::{Daemon, binary};

#[test]
fn an_unreachable_daemon_is_exit_3_naming_the_socket() {
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("nobody-home.sock");
    let output = std::process::Command::new(binary("speedrackctl"))
        .arg("--socket")
        .arg(&socket)
        .arg("status")
        .output()
        .expect("speedrackctl runs");
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one clear line: {stderr}");
    assert!(stderr.contains(&socket.display().to_string()), "{stderr}");
}

#[test]
fn unknown_tasks_are_exit_4() {
    let daemon = Daemon::start("tasks: []\n");
    for args in [
        &["runs", "nope"][..],
        &["run-now", "nope"],
        &["suspend", "nope"],
        &["output", "nope"],
    ] {
        let output = daemon.ctl().run(args);
        assert_eq!(
            output.status.code(),
            Some(4),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn status_reports_the_daemon_and_its_files() {
    let daemon =
        Daemon::start("tasks:\n  - {name: a, command: 'true', interval: 1h}\n  - {name: b}\n");
    let status = daemon.ctl().json(&["status"]);
    assert_eq!(
        status["protocol_version"],
        speedrack_proto::PROTOCOL_VERSION
    );
    assert_eq!(status["pid"], daemon.pid());
    assert_eq!(status["socket_path"], daemon.socket().display().to_string());
    assert_eq!(
        status["tasks_path"],
        daemon.dir().join("tasks.yaml").display().to_string()
    );
    assert_eq!(status["task_count"], 2);
    assert_eq!(status["conf_error_count"], 1);
    assert_eq!(status["demo_mode"], false);
}
