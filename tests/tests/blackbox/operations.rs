//! Operations: `speedrackd init`, refusing a tasks file others can write, and the socket group.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::{Command, Stdio};

use speedrack_tests::{Daemon, DaemonBuilder, binary};

#[test]
fn init_writes_a_private_configuration_that_checks_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("temp dir");
    let etc = dir.path().join("etc");
    let run = |args: &[&str]| {
        Command::new(binary("speedrackd"))
            .args(args)
            .output()
            .expect("speedrackd runs")
    };
    let etc_text = etc.to_str().expect("utf-8 path");
    let output = run(&["init", etc_text]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tasks = etc.join("speedrack_tasks.yaml");
    let settings = etc.join("speedrack_settings.yaml");
    assert_eq!(
        std::fs::metadata(&tasks).expect("tasks").mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(&settings).expect("settings").mode() & 0o777,
        0o640
    );
    let check = run(&[
        "check",
        "--settings",
        settings.to_str().expect("utf-8"),
        "--tasks",
        tasks.to_str().expect("utf-8"),
    ]);
    let report = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(0), "{report}");
    assert!(
        report.contains("0 tasks, 0 with conf errors"),
        "a skeleton that runs nothing: {report}"
    );

    std::fs::write(&tasks, "tasks: []\n").expect("edit");
    let again = run(&["init", etc_text]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(&tasks).expect("kept"),
        "tasks: []\n",
        "nothing was overwritten"
    );
    assert!(run(&["init", "--force", etc_text]).status.success());
}

#[test]
fn init_demo_writes_the_demo_set_with_its_deliberate_conf_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| {
        Command::new(binary("speedrackd"))
            .args(args)
            .output()
            .expect("speedrackd runs")
    };
    let dir_text = dir.path().to_str().expect("utf-8 path");
    let output = run(&["init", "--demo", dir_text]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tasks = dir.path().join("speedrack_tasks.yaml");
    let check = run(&["check", "--tasks", tasks.to_str().expect("utf-8")]);
    let report = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(1), "conf errors found: {report}");
    assert!(
        report.contains("11 tasks, 3 with conf errors"),
        "the demo set, deliberate conf errors included: {report}"
    );
}

#[test]
fn a_tasks_file_others_can_write_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tasks = dir.path().join("tasks.yaml");
    std::fs::write(&tasks, "tasks: []\n").expect("write");
    std::fs::set_permissions(&tasks, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let stderr = Daemon::refusal(Daemon::command(dir.path(), None));
    assert!(
        stderr.contains("everyone can write it (mode 0666)") && stderr.contains("chmod o-w"),
        "{stderr}"
    );

    let daemon = DaemonBuilder::new("tasks: []\n")
        .settings("allow_insecure_tasks_file: true\n")
        .start();
    std::fs::set_permissions(
        daemon.dir().join("tasks.yaml"),
        std::fs::Permissions::from_mode(0o666),
    )
    .expect("chmod");
    let reload = daemon.ctl().run(&["reload"]);
    assert!(
        reload.status.success(),
        "allowed by the settings: {}",
        String::from_utf8_lossy(&reload.stderr)
    );
}

#[test]
fn members_of_the_socket_group_may_call_and_others_may_not() {
    // nogroup (65534) stands for an operators' group; nobody (65534) is in it.
    let daemon = DaemonBuilder::new("tasks: []\n")
        .settings("socket_group: nogroup\n")
        .start();
    let meta = std::fs::metadata(daemon.socket()).expect("socket");
    assert_eq!((meta.mode() & 0o777, meta.gid()), (0o660, 65534));
    std::fs::set_permissions(daemon.dir(), std::fs::Permissions::from_mode(0o755))
        .expect("let others reach it");
    let as_user = |uid: &str, gid: &str| {
        Command::new("setpriv")
            .args([
                &format!("--reuid={uid}"),
                &format!("--regid={gid}"),
                "--clear-groups",
            ])
            .arg(binary("speedrackctl"))
            .arg("--socket")
            .arg(daemon.socket())
            .arg("status")
            .output()
            .expect("setpriv runs")
    };
    let member = as_user("65534", "65534");
    assert!(
        member.status.success(),
        "a member is admitted: {}",
        String::from_utf8_lossy(&member.stderr)
    );
    // Outside the group the socket's mode already keeps them out, and they are told so.
    let stranger = as_user("12345", "12345");
    assert_eq!(
        stranger.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&stranger.stderr)
    );
}

#[test]
fn systemd_hears_ready_then_watchdog_pings_from_the_loop() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("tasks.yaml"), "tasks: []\n").expect("write");
    let notify = dir.path().join("notify.sock");
    let listener = std::os::unix::net::UnixDatagram::bind(&notify).expect("notify socket");
    listener
        .set_read_timeout(Some(speedrack_tests::WAIT))
        .expect("timeout");
    // systemd names the pid the watchdog is for; `exec` keeps the shell's pid for the daemon.
    let base = Daemon::command(dir.path(), None);
    let mut daemon = Command::new("sh")
        .arg("-c")
        .arg("WATCHDOG_PID=$$ exec \"$0\" \"$@\"")
        .arg(base.get_program())
        .args(base.get_args())
        .env("NOTIFY_SOCKET", &notify)
        .env("WATCHDOG_USEC", "400000")
        .stderr(Stdio::null())
        .spawn()
        .expect("speedrackd starts");
    let mut heard = Vec::new();
    let mut buffer = [0_u8; 512];
    while !heard
        .iter()
        .any(|message: &String| message.contains("WATCHDOG=1"))
    {
        let Ok(length) = listener.recv(&mut buffer) else {
            break;
        };
        heard.push(String::from_utf8_lossy(&buffer[..length]).into_owned());
    }
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert!(
        heard.first().is_some_and(|first| first.contains("READY=1")),
        "ready first: {heard:?}"
    );
    assert!(
        heard.iter().any(|message| message.contains("WATCHDOG=1")),
        "then watchdog pings: {heard:?}"
    );
}
