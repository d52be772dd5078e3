//! Start, stop, crash and restart: configuration errors at start, graceful SIGTERM, kill -9.

use nix::sys::signal::Signal;
use speedrack_tests::history_db::open_history;
use speedrack_tests::{Daemon, DaemonBuilder, WAIT, files, procs};

#[test]
fn an_invalid_tasks_file_at_start_exits_78_naming_the_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("tasks.yaml"),
        "tasks:\n  - name: a\n    command: [unclosed\n",
    )
    .expect("write");
    let stderr = Daemon::refusal(Daemon::command(dir.path(), None));
    assert!(stderr.contains("tasks.yaml:"), "names the file: {stderr}");
    assert!(
        stderr
            .lines()
            .any(|line| line.contains("tasks.yaml:3") || line.contains("tasks.yaml:4")),
        "{stderr}"
    );
}

#[test]
fn an_invalid_settings_file_at_start_exits_78_naming_the_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("tasks.yaml"), "tasks: []\n").expect("write");
    let settings = dir.path().join("settings.yaml");
    std::fs::write(&settings, "shutdown_grace: 5s\nsokcet: /tmp/x\n").expect("write");
    let stderr = Daemon::refusal(Daemon::command(dir.path(), Some(&settings)));
    assert!(
        stderr.contains("settings.yaml:2") && stderr.contains("sokcet"),
        "{stderr}"
    );
}

#[tokio::test]
async fn sigterm_waits_for_the_grace_then_kills_the_run_and_records_it() {
    let mut daemon = DaemonBuilder::new(
        "tasks:
  - name: stubborn
    command: sleep 300 & sleep 300
    interval: 400w
",
    )
    .settings("shutdown_grace: 1s\n")
    .start();
    let mut events = daemon.watch().await;
    daemon.ctl().ok(&["run-now", "stubborn"]);
    let run = events
        .run_started("stubborn", WAIT)
        .await
        .expect("stubborn starts");
    let group = process_group_of(&daemon, run.id);

    let status = daemon.stop_with(Signal::SIGTERM);
    assert_eq!(status.code(), Some(0), "graceful shutdown exits 0");
    assert_eq!(
        procs::wait_until_group_gone(group, WAIT),
        Vec::<i32>::new(),
        "the whole process group was killed"
    );

    let daemon = daemon.restart();
    let runs = daemon.ctl().json(&["runs", "stubborn"]);
    let recorded = &runs["runs"][0];
    assert_eq!(recorded["status"], "failure");
    assert_eq!(recorded["signal"], 15, "SIGTERM first, as for a timeout");
    assert_eq!(recorded["killed_by"], "shutdown");
    assert_eq!(recorded["reason"], "killed by shutdown");
    assert_eq!(recorded["kill_cause"], "shutdown");
}

#[tokio::test]
async fn after_kill_9_a_restart_closes_the_lost_run_as_interrupted() {
    let mut daemon = Daemon::start(
        "tasks:
  - name: long
    command: sleep 300
    interval: 400w
",
    );
    let mut events = daemon.watch().await;
    daemon.ctl().ok(&["run-now", "long"]);
    let run = events.run_started("long", WAIT).await.expect("long starts");
    let group = process_group_of(&daemon, run.id);
    daemon.stop_with(Signal::SIGKILL);

    let daemon = daemon.restart();
    let runs = daemon.ctl().json(&["runs", "long"]);
    assert_eq!(runs["runs"][0]["id"], run.id);
    assert_eq!(runs["runs"][0]["status"], "interrupted");
    assert!(
        !runs["runs"][0]["finished_at"].is_null(),
        "nothing stays running forever"
    );
    let task = &daemon.ctl().json(&["tasks"])["tasks"][0];
    assert_eq!(task["status"], "execution_error");
    assert_eq!(
        procs::wait_until_group_gone(group, WAIT),
        Vec::<i32>::new(),
        "the restart killed the orphaned run"
    );
}

/// A run that cleared its environment (`env -i`) carries no marker a restart could find it by:
/// only the process group recorded once the run has lasted a moment (with its leader's start
/// time) lets the restart kill it.
#[tokio::test]
async fn after_kill_9_a_lasting_run_without_its_environment_is_killed_by_its_recorded_group() {
    let mut daemon = Daemon::start(
        "tasks:
  - name: unmarked
    command: exec env -i sleep 300
    interval: 400w
",
    );
    let mut events = daemon.watch().await;
    daemon.ctl().ok(&["run-now", "unmarked"]);
    let run = events
        .run_started("unmarked", WAIT)
        .await
        .expect("unmarked starts");
    let group = process_group_of(&daemon, run.id);
    let data_dir = daemon.data_dir();
    let recorded = || {
        open_history(&data_dir)
            .query_row(
                "SELECT pgid, pgid_start_ticks FROM runs WHERE id = ?1",
                [run.id],
                |row| Ok((row.get::<_, Option<i32>>(0)?, row.get::<_, Option<i64>>(1)?)),
            )
            .is_ok_and(|(pgid, ticks)| pgid == Some(group) && ticks.is_some())
    };
    assert!(
        files::wait_for_change(&data_dir, WAIT, recorded),
        "the group of a run that lasts is recorded with its leader's start time"
    );
    daemon.stop_with(Signal::SIGKILL);

    let daemon = daemon.restart();
    let runs = daemon.ctl().json(&["runs", "unmarked"]);
    assert_eq!(runs["runs"][0]["status"], "interrupted");
    assert_eq!(
        procs::wait_until_group_gone(group, WAIT),
        Vec::<i32>::new(),
        "the restart killed the run by its recorded group"
    );
}

#[tokio::test]
async fn suspension_survives_a_restart() {
    let mut daemon = Daemon::start("tasks:\n  - {name: napper, command: 'true', interval: 1h}\n");
    daemon.ctl().ok(&["suspend", "napper"]);
    daemon.stop_with(Signal::SIGTERM);
    let daemon = daemon.restart();
    let task = &daemon.ctl().json(&["tasks"])["tasks"][0];
    assert_eq!(task["status"], "suspended");
    assert_eq!(task["suspended"], true);
}

/// The process group of the one run in flight: its shell is the daemon's child and leads it.
fn process_group_of(daemon: &Daemon, run: i64) -> i32 {
    let children = procs::children_of(daemon.pid());
    let (pid, group) = *children
        .first()
        .unwrap_or_else(|| panic!("run {run} has no process under the daemon"));
    assert_eq!(pid, group, "the run leads its own process group");
    group
}

#[tokio::test]
async fn the_daemon_hosts_the_web_ui_on_loopback_only() {
    let daemon = Daemon::start("tasks:\n  - {name: hosted, command: 'true', interval: 1h}\n");
    let page = reqwest::get(daemon.web_url())
        .await
        .expect("the web UI answers");
    assert_eq!(page.status(), 200);
    assert!(
        page.text().await.expect("body").contains("hosted"),
        "the tasks page lists the task"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("tasks.yaml"), "tasks: []\n").expect("write");
    let stderr = Daemon::refusal(Daemon::command_listening(dir.path(), None, "0.0.0.0:0"));
    assert!(stderr.contains("not a loopback address"), "{stderr}");
}
