//! Config files are bounded where they are read: durations (a `timeout` of u64::MAX seconds once
//! passed validation and panicked the daemon at the first run), text sizes, the file size, the
//! nesting depth (a 500 KB nested document cost 15 s of CPU), and bytes that are not UTF-8.
//! Each refusal names the file, the line and what is allowed.

use std::path::Path;
use std::process::{Command, Output};

use nix::sys::signal::Signal;
use speedrack_tests::{Daemon, DaemonBuilder, binary};

/// `speedrackd check --tasks FILE` on `text`.
fn check(text: &[u8]) -> (Output, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let tasks = dir.path().join("tasks.yaml");
    std::fs::write(&tasks, text).expect("write");
    let output = Command::new(binary("speedrackd"))
        .args(["check", "--tasks"])
        .arg(&tasks)
        .output()
        .expect("speedrackd check runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, said, dir)
}

fn shown(dir: &Path) -> String {
    dir.join("tasks.yaml").display().to_string()
}

#[test]
fn a_duration_past_the_maximum_is_a_conf_error_and_the_daemon_lives_on() {
    let huge = "18446744073709551615s";
    let tasks = format!(
        "tasks:\n  - name: t\n    command: sleep 30\n    interval: 1h\n    timeout: {huge}\n"
    );
    let (output, said, dir) = check(tasks.as_bytes());
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!(
            "{}:5: t: timeout: timeout is too long: at most 3650d",
            shown(dir.path())
        )),
        "{said}"
    );

    for key in ["kill_grace", "shutdown_grace"] {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("tasks.yaml"), "tasks: []\n").expect("tasks");
        let settings = dir.path().join("settings.yaml");
        std::fs::write(&settings, format!("app_name: x\n{key}: {huge}\n")).expect("settings");
        let stderr = Daemon::refusal(Daemon::command(dir.path(), Some(&settings)));
        assert!(
            stderr.contains(&format!("{}:2: ", settings.display()))
                && stderr.contains("at most 3650d"),
            "{stderr}"
        );
    }

    // The task is broken, so nothing runs it; the daemon stays up and stops cleanly.
    let mut daemon = DaemonBuilder::new(&tasks).start();
    let refused = daemon.ctl().run(&["run-now", "t"]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("conf errors"));
    daemon.ctl().ok(&["status"]);
    let socket = daemon.socket();
    assert!(daemon.stop_with(Signal::SIGTERM).success());
    assert!(!socket.exists(), "the socket is removed at exit");
}

#[tokio::test]
async fn the_longest_durations_allowed_run_kill_and_shut_down() {
    let mut daemon = DaemonBuilder::new(
        "tasks:\n  - {name: t, command: 'sleep 30', interval: 3650d, timeout: 3650d}\n",
    )
    .settings("kill_grace: 3650d\nshutdown_grace: 1s\n")
    .start();
    let mut events = daemon.watch().await;
    daemon.ctl().ok(&["run-now", "t"]);
    events
        .run_started("t", speedrack_tests::WAIT)
        .await
        .expect("starts");
    daemon.ctl().ok(&["kill", "t"]);
    let run = events
        .run_finished("t", speedrack_tests::WAIT)
        .await
        .expect("the kill ends it");
    assert!(!run.killed_by.is_empty(), "{run:?}");
    assert!(daemon.stop_with(Signal::SIGTERM).success());
}

#[test]
fn long_values_and_large_files_are_refused_with_the_limit() {
    let command = "x".repeat((64 << 10) + 1);
    let tasks = format!("tasks:\n  - name: t\n    interval: 1h\n    command: {command}\n");
    let (output, said, dir) = check(tasks.as_bytes());
    assert_eq!(output.status.code(), Some(1), "{said:.400}");
    assert!(
        said.contains(&format!(
            "{}:4: t: command: command is 65537 bytes long: at most 64 KiB",
            shown(dir.path())
        )),
        "{said:.400}"
    );
    let description = "x".repeat((4 << 10) + 1);
    let tasks = format!(
        "tasks:\n  - {{name: t, interval: 1h, command: x,\n     description: {description}}}\n"
    );
    let (_, said, _) = check(tasks.as_bytes());
    assert!(said.contains("at most 4 KiB"), "{said:.400}");

    let mut big = b"tasks: []\n".to_vec();
    big.resize((16 << 20) + 1, b'#');
    let (output, said, dir) = check(&big);
    assert_eq!(output.status.code(), Some(78), "{said:.400}");
    assert!(
        said.contains(&format!(
            "refusing {}: it is larger than 16 MiB",
            shown(dir.path())
        )),
        "{said:.400}"
    );
}

#[test]
fn bytes_that_are_not_utf8_are_located() {
    let (output, said, dir) = check(b"tasks:\n  - name: t\n    command: caf\xe9\n");
    assert_eq!(output.status.code(), Some(78), "{said}");
    assert!(
        said.contains(&format!(
            "{}:3: byte 0xe9 is not UTF-8 (byte 17 of the line, 36 of the file)",
            shown(dir.path())
        )),
        "{said}"
    );
    assert!(!said.contains("permissions"), "{said}");
}

#[test]
fn deep_nesting_is_refused_naming_the_limit_and_line() {
    // 500 KB of nested flow sequences, the document that took 15 s of CPU to refuse.
    let depth = 250_000;
    let text = format!("tasks:\n  - {}{}\n", "[".repeat(depth), "]".repeat(depth));
    let (output, said, dir) = check(text.as_bytes());
    assert_eq!(output.status.code(), Some(78), "{said:.400}");
    assert!(
        said.contains(&format!(
            "{}:2: collections nest deeper than 64 levels",
            shown(dir.path())
        )),
        "{said:.400}"
    );
}

#[test]
fn duplicate_names_are_printed_as_names() {
    let (output, said, _dir) = check(
        b"tasks:\n  - {name: a b, command: x, interval: 1h}\n  - {name: a_b, command: x, interval: 1h}\n",
    );
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("task names \"a b\" and \"a_b\" both make the key \"a_b\""),
        "{said}"
    );
    assert!(!said.contains("TaskName"), "{said}");
}
