//! Execution and lifecycle with real processes: failure rules, timeouts that kill the whole
//! tree, overlap policies, the output cap, retention, kill, missed fires and sudo.

use nix::sys::signal::Signal;
use speedrack_proto::v1::KillCause;
use speedrack_tests::files::{Gate, wait_for_change};
use speedrack_tests::{Daemon, DaemonBuilder, WAIT, procs};

fn newest(daemon: &Daemon, task: &str) -> serde_json::Value {
    daemon.ctl().json(&["runs", task])["runs"][0].clone()
}

#[tokio::test]
async fn failure_rules_and_their_overrides_say_why() {
    let daemon = Daemon::start(
        "tasks:
  - {name: stderr_ok, command: 'echo note >&2', interval: 400w, fail_by_stderr: false}
  - {name: code_ok, command: 'exit 3', interval: 400w, ok_exit_codes: [0, 3]}
  - {name: code_bad, command: 'exit 4', interval: 400w, fail_by_retcode: false, fail_on_exit_codes: [4]}
  - {name: code_lenient, command: 'exit 5', interval: 400w, fail_by_retcode: false, fail_on_exit_codes: [4]}
  - {name: matcher, command: 'echo all fine; echo FATAL disk full', interval: 400w, fail_if_output_matches: 'FATAL'}
",
    );
    let mut events = daemon.watch().await;
    let cases = [
        ("stderr_ok", "success", ""),
        ("code_ok", "success", ""),
        ("code_bad", "failure", "exit status 4"),
        ("code_lenient", "success", ""),
        (
            "matcher",
            "failure",
            "output matches fail_if_output_matches: \"FATAL disk full\"",
        ),
    ];
    for (task, status, reason) in cases {
        daemon.run_now_and_wait(&mut events, task).await;
        let run = newest(&daemon, task);
        assert_eq!(
            (run["status"].as_str(), run["reason"].as_str()),
            (Some(status), Some(reason)),
            "{task}: {run}"
        );
    }
}

#[tokio::test]
async fn a_timeout_kills_the_whole_tree_and_says_so() {
    let daemon = DaemonBuilder::new(
        "tasks:
  - {name: stuck, command: 'sleep 300 & sleep 300', interval: 400w, timeout: 1s}
",
    )
    .settings("kill_grace: 1s\n")
    .start();
    let mut events = daemon.watch().await;
    daemon.ctl().ok(&["run-now", "stuck"]);
    let started = events.run_started("stuck", WAIT).await.expect("starts");
    let group = procs::children_of(daemon.pid())
        .first()
        .map(|(_, group)| *group)
        .expect("the run's shell");
    let finished = events
        .run_finished("stuck", WAIT)
        .await
        .expect("the timeout ends it");
    assert_eq!(finished.id, started.id);
    assert_eq!(finished.reason, "timed out (timeout after 1s)");
    assert_eq!(finished.killed_by, "timeout after 1s");
    assert_eq!(finished.kill_cause(), KillCause::Timeout);
    assert_eq!(
        procs::wait_until_group_gone(group, WAIT),
        Vec::<i32>::new(),
        "no survivor of the tree"
    );
    assert!(
        procs::children_of(daemon.pid()).is_empty(),
        "no zombie left under the daemon"
    );
}

#[tokio::test]
async fn kill_ends_a_run_and_records_who() {
    let daemon = Daemon::start("tasks:\n  - {name: long, command: 'sleep 300', interval: 400w}\n");
    let mut events = daemon.watch().await;
    daemon.ctl().ok(&["run-now", "long"]);
    events.run_started("long", WAIT).await.expect("starts");
    let said = daemon.ctl().ok(&["kill", "long"]);
    assert!(said.starts_with("terminating run"), "{said}");
    let run = events.run_finished("long", WAIT).await.expect("killed");
    assert_eq!(run.killed_by, speedrack_tests::current_user());
    assert_eq!(run.kill_cause(), KillCause::User);
    assert_eq!(
        run.reason,
        format!("killed by {}", speedrack_tests::current_user())
    );
    let refused = daemon.ctl().run(&["kill", "long"]);
    assert_eq!(refused.status.code(), Some(1), "nothing left to kill");
}

#[tokio::test]
async fn a_second_kill_of_a_run_being_terminated_is_taken_and_the_first_stays() {
    // TERM is ignored (by sleep too, which inherits that), so the run outlives the first
    // kill until the grace's SIGKILL.
    let daemon = DaemonBuilder::new(
        "tasks:\n  - {name: stubborn, command: 'trap \"\" TERM; sleep 300', interval: 400w}\n",
    )
    .settings("kill_grace: 3s\n")
    .start();
    let mut events = daemon.watch().await;
    daemon.ctl().ok(&["run-now", "stubborn"]);
    events.run_started("stubborn", WAIT).await.expect("starts");
    for _ in 0..2 {
        let said = daemon.ctl().ok(&["kill", "stubborn"]);
        assert!(said.starts_with("terminating run"), "{said}");
    }
    daemon
        .wait_for_log(WAIT, |log| {
            log.contains("asked to terminate a run already being terminated")
        })
        .expect("the second ask is taken, not sent again");
    let run = events.run_finished("stubborn", WAIT).await.expect("ends");
    assert_eq!(run.kill_cause(), KillCause::User);
    assert_eq!(run.killed_by, speedrack_tests::current_user());
    assert_eq!(
        run.signal,
        Some(Signal::SIGKILL as i32),
        "TERM was ignored; the grace ended it"
    );
}

#[tokio::test]
async fn overlap_policies_queue_run_in_parallel_or_replace() {
    // Runs wait on gates the test opens, so the commands between need not beat a timer.
    let (queue_gate, parallel_gate) = (Gate::new(), Gate::new());
    let daemon = Daemon::start(&format!(
        "tasks:
  - {{name: queued, command: '{}', interval: 400w, overlap: queue}}
  - {{name: parallel, command: '{}', interval: 400w, overlap: parallel}}
  - {{name: replaced, command: 'sleep 300', interval: 400w, overlap: replace}}
",
        queue_gate.wait(),
        parallel_gate.wait()
    ));
    let mut events = daemon.watch().await;

    daemon.ctl().ok(&["run-now", "queued"]);
    events
        .run_started("queued", WAIT)
        .await
        .expect("first starts");
    let said = daemon.ctl().ok(&["run-now", "queued"]);
    assert!(said.contains("queued"), "{said}");
    queue_gate.open();
    let first = events
        .run_finished("queued", WAIT)
        .await
        .expect("first ends");
    let second = events
        .run_started("queued", WAIT)
        .await
        .expect("the queued one starts after");
    assert!(second.started_at.expect("start").seconds >= first.finished_at.expect("end").seconds);
    queue_gate.open();
    events
        .run_finished("queued", WAIT)
        .await
        .expect("the queued one ends");

    daemon.ctl().ok(&["run-now", "parallel"]);
    daemon.ctl().ok(&["run-now", "parallel"]);
    let task = daemon.ctl().json(&["tasks"])["tasks"][1].clone();
    assert_eq!(
        task["running_run_ids"].as_array().map(Vec::len),
        Some(2),
        "{task}"
    );
    daemon.ctl().ok(&["kill", "parallel"]);

    daemon.ctl().ok(&["run-now", "replaced"]);
    let old = events
        .run_started("replaced", WAIT)
        .await
        .expect("old starts");
    daemon.ctl().ok(&["run-now", "replaced"]);
    let ended = events
        .run_finished("replaced", WAIT)
        .await
        .expect("old is killed");
    assert_eq!(ended.id, old.id);
    assert!(ended.killed_by.contains("replace"), "{}", ended.killed_by);
    let new = events
        .run_started("replaced", WAIT)
        .await
        .expect("the new one starts");
    assert_ne!(new.id, old.id);
    assert_eq!(ended.kill_cause(), KillCause::Replaced);
    let shown = daemon.ctl().json(&["runs", "replaced"]);
    let old_shown = shown["runs"]
        .as_array()
        .and_then(|runs| runs.iter().find(|run| run["id"] == old.id))
        .expect("the old run is listed")
        .clone();
    assert_eq!(old_shown["kill_cause"], "replaced");
    assert_eq!(old_shown["replaced_by_run_id"], new.id, "{old_shown}");
    daemon.ctl().ok(&["kill", "replaced"]);
}

#[tokio::test]
async fn output_past_the_cap_keeps_head_and_tail_with_a_marker() {
    let daemon = DaemonBuilder::new(
        "tasks:
  - name: loud
    command: 'i=0; while [ $i -lt 500 ]; do printf \"line %04d\\n\" $i; i=$((i+1)); done'
    interval: 400w
",
    )
    .settings("output_max_bytes: 1000\n")
    .start();
    let mut events = daemon.watch().await;
    let run = daemon.run_now_and_wait(&mut events, "loud").await;
    assert_eq!(run.stdout_bytes, 5000);
    assert_eq!(run.output_dropped_bytes, 4000);
    let output = daemon.ctl().ok(&["output", "loud"]);
    assert!(
        output.starts_with("line 0000\nline 0001\n"),
        "the head is kept"
    );
    assert!(
        output.ends_with("line 0498\nline 0499\n"),
        "the tail is kept"
    );
    assert!(
        output.contains("[... speedrack dropped 4000 bytes here"),
        "{output}"
    );
}

/// The ids of `task`'s runs once no more than `count` are left, or as they are after `WAIT`:
/// the pruner gathers the ends of a moment before it prunes. Its deletion is a commit, which
/// writes the database's log: each write in the data dir is a moment to look again.
fn retained_once_pruned(daemon: &Daemon, task: &str, count: usize) -> Vec<i64> {
    let kept = std::cell::RefCell::new(Vec::new());
    wait_for_change(&daemon.data_dir(), WAIT, || {
        let now: Vec<i64> = daemon.ctl().json(&["runs", task])["runs"]
            .as_array()
            .expect("runs")
            .iter()
            .filter_map(|run| run["id"].as_i64())
            .collect();
        let pruned = now.len() <= count;
        *kept.borrow_mut() = now;
        pruned
    });
    kept.into_inner()
}

/// Whether `dir` is gone within [`WAIT`]: the pruner removes a run's output once its row is.
fn removed_soon(dir: &std::path::Path) -> bool {
    let parent = dir.parent().expect("a run's directory is in its task's");
    wait_for_change(parent, WAIT, || !dir.exists())
}

#[tokio::test]
async fn retention_keeps_max_keep_runs_and_the_retained_failures() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tasks = format!(
        "tasks:
  - name: flaky
    command: 'if [ -f marker ]; then echo ok; else touch marker; exit 1; fi'
    working_dir: {}
    interval: 400w
    max_keep: 2
    retain_failures: 1
  - name: counted
    command: 'echo ok; exit 1'
    interval: 400w
    max_keep: 2
",
        dir.path().display()
    );
    let daemon = Daemon::start(&tasks);
    let mut events = daemon.watch().await;
    let mut ids = Vec::new();
    let mut counted = Vec::new();
    for _ in 0..4 {
        ids.push(daemon.run_now_and_wait(&mut events, "flaky").await.id);
        counted.push(daemon.run_now_and_wait(&mut events, "counted").await.id);
    }
    let kept = retained_once_pruned(&daemon, "flaky", 3);
    assert_eq!(
        kept,
        [ids[3], ids[2], ids[0]],
        "two newest plus the failure"
    );
    let pruned = daemon
        .data_dir()
        .join("runs/flaky")
        .join(ids[1].to_string());
    assert!(
        removed_soon(&pruned),
        "a pruned run's output is deleted too"
    );
    // With max_keep alone, the pruner reads only the runs past the two it keeps.
    let kept = retained_once_pruned(&daemon, "counted", 2);
    assert_eq!(
        kept,
        [counted[3], counted[2]],
        "the two newest, failed or not"
    );
    for gone in &counted[..2] {
        let dir = daemon
            .data_dir()
            .join("runs/counted")
            .join(gone.to_string());
        assert!(
            removed_soon(&dir),
            "{} is pruned with its output",
            dir.display()
        );
    }
}

#[tokio::test]
async fn a_reload_never_touches_a_running_run() {
    let gate = Gate::new();
    let daemon = Daemon::start(&format!(
        "tasks:\n  - {{name: slow, command: '{}; echo old', interval: 400w}}\n",
        gate.wait()
    ));
    let mut events = daemon.watch().await;
    daemon.ctl().ok(&["run-now", "slow"]);
    events.run_started("slow", WAIT).await.expect("starts");
    daemon.write_tasks("tasks:\n  - {name: slow, command: 'echo new', interval: 400w}\n");
    let said = daemon.ctl().ok(&["reload"]);
    assert!(said.contains("changed: slow"), "{said}");
    // Opened only now: the run was still running when the reload came.
    gate.open();
    let run = events.run_finished("slow", WAIT).await.expect("finishes");
    assert_eq!(run.status, speedrack_proto::v1::RunStatus::Success as i32);
    assert_eq!(
        daemon.ctl().ok(&["output", "slow"]),
        "old\n",
        "it finished under its old definition"
    );
    let definition = daemon
        .client()
        .await
        .get_run(speedrack_proto::v1::GetRunRequest { run_id: run.id })
        .await
        .expect("GetRun")
        .into_inner()
        .run
        .expect("the run")
        .definition;
    assert!(definition.contains("echo old"), "{definition}");
}

#[tokio::test]
#[allow(
    clippy::disallowed_methods,
    reason = "history is set up relative to the real clock the daemon reads"
)]
async fn missed_fires_are_made_up_after_a_restart() {
    let mut daemon = Daemon::start(
        "tasks:
  - {name: all, command: 'true', interval: 10m, on_missed: run_all, missed_deadline: 25m}
  - {name: once, command: 'true', interval: 10m, on_missed: run_once}
",
    );
    daemon.stop_with(Signal::SIGTERM);
    // As if both last fired 63 minutes ago and the daemon was down since: fires were due
    // 53, 43, 33, 23, 13 and 3 minutes ago.
    let last_fire = chrono::Utc::now().timestamp_micros() - 63 * 60_000_000;
    let db =
        rusqlite::Connection::open(daemon.data_dir().join("history.sqlite3")).expect("database");
    for task in ["all", "once"] {
        db.execute(
            "INSERT INTO task_fires (task, last_fire_us) VALUES (?1, ?2)",
            rusqlite::params![task, last_fire],
        )
        .expect("last fire");
    }
    drop(db);
    let daemon = daemon.restart();
    // Catch-up starts with the daemon: runs that ended before the watch began are in
    // history, the others come as events.
    let mut events = daemon.watch().await;
    let mut finished: std::collections::BTreeSet<i64> = ["all", "once"]
        .into_iter()
        .flat_map(|task| ended_runs(&daemon, task))
        .collect();
    while finished.len() < 4 {
        let run = events
            .next_matching(WAIT, |event| match event {
                speedrack_proto::v1::watch_events_response::Event::RunFinished(run) => Some(run),
                _ => None,
            })
            .await
            .expect("catch-up runs finish");
        finished.insert(run.id);
    }
    let count = |task: &str| daemon.ctl().json(&["runs", task])["total"].as_u64();
    let dues: Vec<serde_json::Value> = daemon.ctl().json(&["runs", "all"])["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|run| run["scheduled_at"].clone())
        .collect();
    assert_eq!(
        count("all"),
        Some(3),
        "the three fires within missed_deadline (-23, -13, -3 minutes): {dues:?}"
    );
    assert_eq!(count("once"), Some(1));
    let made_up = newest(&daemon, "all");
    assert_eq!(made_up["trigger"], "schedule");
    let due = chrono::DateTime::parse_from_rfc3339(made_up["scheduled_at"].as_str().expect("due"))
        .expect("rfc3339");
    let age = chrono::Utc::now().signed_duration_since(due);
    assert!(
        age > chrono::Duration::minutes(2) && age < chrono::Duration::minutes(4),
        "the newest made-up fire was due 3 minutes ago: {age}"
    );
}

/// The ids of `task`'s runs that have ended, from history.
fn ended_runs(daemon: &Daemon, task: &str) -> Vec<i64> {
    daemon.ctl().json(&["runs", task])["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .filter(|run| run["status"] != "running")
        .filter_map(|run| run["id"].as_i64())
        .collect()
}

#[tokio::test]
async fn a_missing_sudo_is_an_execution_error_with_the_reason() {
    let daemon = Daemon::start(
        "tasks:
  - {name: as_nobody, command: 'id', interval: 400w, sudo: nobody, env: {PATH: /nonexistent}}
  - {name: lost, command: 'true', interval: 400w, working_dir: /nonexistent/dir}
",
    );
    let mut events = daemon.watch().await;
    daemon.run_now_and_wait(&mut events, "as_nobody").await;
    let run = newest(&daemon, "as_nobody");
    assert_eq!(run["status"], "execution_error");
    assert!(
        run["op_error"]
            .as_str()
            .is_some_and(|text| text.contains("sudo is not installed")),
        "{run}"
    );
    daemon.run_now_and_wait(&mut events, "lost").await;
    let run = newest(&daemon, "lost");
    assert_eq!(run["status"], "execution_error");
    assert!(
        run["op_error"]
            .as_str()
            .is_some_and(|text| text.contains("/nonexistent/dir")),
        "{run}"
    );
}

#[tokio::test]
async fn the_output_quota_prunes_the_oldest_runs_soon_after_they_end() {
    let daemon = DaemonBuilder::new(
        "tasks:
  - name: chatty
    command: head -c 1000 /dev/zero | tr '\\0' x
    interval: 400w
",
    )
    .settings("history_max_bytes: 2500\n")
    .start();
    let mut events = daemon.watch().await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(daemon.run_now_and_wait(&mut events, "chatty").await.id);
    }
    // Well before the hourly sweep: with each batch of ended runs.
    let kept = retained_once_pruned(&daemon, "chatty", 2);
    assert_eq!(
        kept,
        [ids[3], ids[2]],
        "2 × 1000 bytes fit in 2500, 3 do not"
    );
}

#[tokio::test]
async fn a_run_inherits_no_descriptor_its_daemon_was_started_with() {
    let daemon = DaemonBuilder::new(
        "tasks:
  - {name: fds, command: 'ls /proc/self/fd', interval: 400w}
",
    )
    .descriptor_left_open()
    .start();
    let left_open = format!("/proc/{}/fd/7", daemon.pid());
    assert!(
        std::path::Path::new(&left_open).exists(),
        "the launcher left 7 open"
    );
    let mut events = daemon.watch().await;
    daemon.run_now_and_wait(&mut events, "fds").await;
    let run = newest(&daemon, "fds")["id"].as_i64().expect("a run id");
    let output = daemon.ctl().run(&["output", "fds", &run.to_string()]);
    // Its stdio, and the directory ls reads.
    assert_eq!(String::from_utf8_lossy(&output.stdout), "0\n1\n2\n3\n");
}

#[tokio::test]
async fn a_run_sees_the_documented_environment_and_none_of_the_daemons() {
    let daemon = Daemon::start(
        "tasks:
  - name: env_shown
    command: env
    interval: 400w
    env: {PATH: '/usr/bin:/bin', MODE: full, SPEEDRACK_RUN_ID: '999'}
",
    );
    let run = daemon.run_to_end("env_shown").await;
    let output = daemon
        .ctl()
        .ok(&["output", "env_shown", &run.id.to_string()]);
    let env: std::collections::BTreeMap<&str, &str> = output
        .lines()
        .filter_map(|line| line.split_once('='))
        .collect();
    let scheduled = run.scheduled_at.expect("a manual run's instant");
    let scheduled = chrono::DateTime::from_timestamp(scheduled.seconds, 0).expect("an instant");
    let data_dir = daemon.data_dir().display().to_string();
    let run_id = run.id.to_string();
    let expected = [
        ("PATH", "/usr/bin:/bin"),
        ("SHELL", "/bin/sh"),
        ("MODE", "full"),
        ("SPEEDRACK_TASK", "env_shown"),
        ("SPEEDRACK_RUN_ID", run_id.as_str()),
        ("SPEEDRACK_TRIGGER", "manual"),
        ("SPEEDRACK_DATA_DIR", data_dir.as_str()),
    ];
    for (name, value) in expected {
        assert_eq!(env.get(name), Some(&value), "{name} in {output}");
    }
    assert_eq!(
        env.get("SPEEDRACK_SCHEDULED_AT").copied(),
        Some(scheduled.format("%Y-%m-%dT%H:%M:%SZ").to_string().as_str()),
        "{output}"
    );
    // The daemon runs with cargo's environment (CARGO_*, RUST_LOG): none of it reaches a run.
    let passed = ["HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ"];
    let set_by_the_shell = ["PWD", "OLDPWD", "SHLVL", "_"];
    let unexpected: Vec<&str> = env
        .keys()
        .copied()
        .filter(|name| !expected.iter().any(|(known, _)| known == name))
        .filter(|name| *name != "SPEEDRACK_SCHEDULED_AT")
        .filter(|name| !passed.contains(name) && !set_by_the_shell.contains(name))
        .collect();
    assert_eq!(unexpected, Vec::<&str>::new(), "{output}");
}
