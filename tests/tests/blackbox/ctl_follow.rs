//! speedrackctl's commands that wait on the daemon: `run-now --wait` (its exit status is the
//! run's outcome), `output --follow`, `watch`, and `show`, against the real daemon.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};

use speedrack_tests::files::Gate;
use speedrack_tests::{Daemon, WAIT, binary, wait_with_timeout};

/// `speedrackctl --socket SOCKET ARGS...` started with its stdout and stderr piped.
fn spawn_ctl(daemon: &Daemon, args: &[&str]) -> Child {
    Command::new(binary("speedrackctl"))
        .arg("--socket")
        .arg(daemon.socket())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("speedrackctl starts")
}

/// The lines a reader gives, as they come, on a thread of their own so that a wait can time
/// out.
fn lines_of(reader: impl Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { return };
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    receiver
}

/// The next line that `wanted` accepts, within `WAIT`.
fn line_matching(lines: &Receiver<String>, wanted: impl Fn(&str) -> bool) -> String {
    loop {
        let line = lines
            .recv_timeout(WAIT)
            .expect("the expected line comes in time");
        if wanted(&line) {
            return line;
        }
    }
}

fn stdout_of(child: &mut Child) -> ChildStdout {
    child.stdout.take().expect("stdout is piped")
}

#[test]
fn run_now_wait_exits_with_the_runs_outcome() {
    let daemon = Daemon::start(
        "tasks:
  - {name: good, command: 'echo fine', interval: 400w}
  - {name: bad, command: 'exit 3', interval: 400w}
",
    );
    let good = daemon.ctl().run(&["run-now", "good", "--wait"]);
    assert_eq!(
        good.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let stdout = String::from_utf8_lossy(&good.stdout);
    assert!(stdout.contains("of good: success"), "{stdout}");

    let bad = daemon.ctl().run(&["run-now", "bad", "--wait"]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("of bad failed: exit status 3"), "{stderr}");

    let json = daemon.ctl().json(&["run-now", "good", "--wait"]);
    assert_eq!(json["status"], "success");
}

#[test]
fn run_now_wait_gives_up_after_its_timeout_with_124() {
    let gate = Gate::new();
    let daemon = Daemon::start(&format!(
        "tasks:\n  - {{name: slow, command: '{}', interval: 400w}}\n",
        gate.wait()
    ));
    let output = daemon
        .ctl()
        .run(&["run-now", "slow", "--wait", "--timeout", "1s"]);
    assert_eq!(output.status.code(), Some(124));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("gave up waiting"), "{stderr}");
    // The run went on: it is still waiting on the gate, and ends when let go.
    gate.open();
}

#[test]
fn run_now_wait_waits_for_a_queued_run_to_start_and_end() {
    let gate = Gate::new();
    // Only the first run waits on the gate; the queued one finds the marker and fails at once.
    let scratch = tempfile::tempdir().expect("temp dir");
    let marker = scratch.path().join("first");
    let daemon = Daemon::start(&format!(
        "tasks:\n  - {{name: q, command: 'test -e {m} || {{ touch {m}; {}; }}; exit 5', \
         interval: 400w, overlap: queue}}\n",
        gate.wait(),
        m = marker.display()
    ));
    daemon.ctl().ok(&["run-now", "q"]);
    let mut waiter = spawn_ctl(&daemon, &["run-now", "q", "--wait"]);
    let lines = lines_of(stdout_of(&mut waiter));
    line_matching(&lines, |line| line.starts_with("queued a run of q"));
    gate.open();
    let status = wait_with_timeout(&mut waiter, WAIT).expect("run-now --wait ends");
    assert_eq!(status.code(), Some(1));
}

#[test]
fn output_follow_prints_lines_as_the_run_writes_them_and_ends_with_it() {
    let gate = Gate::new();
    let daemon = Daemon::start(&format!(
        "tasks:\n  - {{name: talker, command: 'echo first; {}; echo second', interval: 400w}}\n",
        gate.wait()
    ));
    daemon.ctl().ok(&["run-now", "talker"]);
    let held = gate.hold();
    let mut follower = spawn_ctl(&daemon, &["output", "talker", "--follow"]);
    let lines = lines_of(stdout_of(&mut follower));
    // Printed while the run still waits on the gate.
    assert_eq!(line_matching(&lines, |_| true), "first");
    drop(held);
    assert_eq!(line_matching(&lines, |_| true), "second");
    let status = wait_with_timeout(&mut follower, WAIT).expect("output --follow ends");
    assert_eq!(status.code(), Some(0));
    // A finished run: printed whole, at once.
    let output = daemon.ctl().ok(&["output", "talker", "-f"]);
    assert_eq!(output, "first\nsecond\n");
}

/// Killed with `kill -9`, the daemon takes the connection down with it; the follower waits
/// for it to come back and ends with what the restart made of the run, not a transport error.
#[test]
fn output_follow_outlives_a_daemon_crash_and_ends_with_the_interrupted_run() {
    let gate = Gate::new();
    let mut daemon = Daemon::start(&format!(
        "tasks:\n  - {{name: talker, command: 'echo first; {}; echo second', interval: 400w}}\n",
        gate.wait()
    ));
    daemon.ctl().ok(&["run-now", "talker"]);
    let _held = gate.hold();
    let mut follower = spawn_ctl(&daemon, &["output", "talker", "--follow"]);
    let lines = lines_of(stdout_of(&mut follower));
    assert_eq!(line_matching(&lines, |_| true), "first");

    daemon.stop_with(nix::sys::signal::Signal::SIGKILL);
    let _daemon = daemon.restart();
    let status = wait_with_timeout(&mut follower, WAIT).expect("output --follow ends");
    let mut stderr = String::new();
    follower
        .stderr
        .take()
        .expect("stderr is piped")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("was interrupted: speedrackd stopped while it ran"),
        "{stderr}"
    );
    assert!(lines.try_recv().is_err(), "nothing printed twice or after");
}

#[test]
fn watch_json_shows_a_runs_start_and_end_and_ctrl_c_ends_it_with_0() {
    let daemon = Daemon::start("tasks:\n  - {name: blip, command: 'exit 2', interval: 400w}\n");
    let mut watcher = spawn_ctl(&daemon, &["--json", "watch"]);
    let stderr = lines_of(watcher.stderr.take().expect("stderr is piped"));
    line_matching(&stderr, |line| line.contains("watching speedrackd"));
    let lines = lines_of(stdout_of(&mut watcher));
    daemon.ctl().ok(&["run-now", "blip"]);
    let parse = |line: String| -> serde_json::Value {
        serde_json::from_str(&line).expect("each line is one JSON document")
    };
    let started = parse(line_matching(&lines, |line| line.contains("run_started")));
    assert_eq!(started["task"], "blip");
    let finished = parse(line_matching(&lines, |line| line.contains("run_finished")));
    assert_eq!(finished["run"], started["run"]);
    assert_eq!(finished["status"], "failure");
    assert_eq!(finished["detail"], "exit status 2");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(watcher.id()).expect("pid fits"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("interrupt watch");
    let status = wait_with_timeout(&mut watcher, WAIT).expect("watch ends on Ctrl-C");
    assert_eq!(status.code(), Some(0));
}

/// A watcher that saw a run start before a crash hears how the restarted daemon closed it.
#[test]
fn watch_after_a_crash_shows_the_end_of_the_runs_it_saw_start() {
    let gate = Gate::new();
    let mut daemon = Daemon::start(&format!(
        "tasks:\n  - {{name: talker, command: '{}', interval: 400w}}\n",
        gate.wait()
    ));
    let mut watcher = spawn_ctl(&daemon, &["watch", "--utc"]);
    let stderr = lines_of(watcher.stderr.take().expect("stderr is piped"));
    line_matching(&stderr, |line| line.contains("watching speedrackd"));
    let lines = lines_of(stdout_of(&mut watcher));
    daemon.ctl().ok(&["run-now", "talker"]);
    let _held = gate.hold();
    line_matching(&lines, |line| line.contains("run_started"));

    daemon.stop_with(nix::sys::signal::Signal::SIGKILL);
    let _daemon = daemon.restart();
    let dropped = line_matching(&lines, |line| line.contains("events_dropped"));
    assert!(dropped.contains("events may have been missed"), "{dropped}");
    let finished = line_matching(&lines, |line| line.contains("run_finished"));
    assert!(
        finished.contains("talker")
            && finished.contains("run 1")
            && finished.contains("interrupted"),
        "{finished}"
    );
    let _ = watcher.kill();
    let _ = watcher.wait();
}

#[test]
fn watch_resumes_after_the_daemon_restarts() {
    let mut daemon = Daemon::start("tasks:\n  - {name: blip, command: 'true', interval: 400w}\n");
    let mut watcher = spawn_ctl(&daemon, &["watch", "--utc"]);
    let stderr = lines_of(watcher.stderr.take().expect("stderr is piped"));
    line_matching(&stderr, |line| line.contains("watching speedrackd"));
    let lines = lines_of(stdout_of(&mut watcher));
    daemon.stop_with(nix::sys::signal::Signal::SIGTERM);
    let daemon = daemon.restart();
    line_matching(&stderr, |line| line.contains("resumed watching"));
    daemon.ctl().ok(&["run-now", "blip"]);
    let line = line_matching(&lines, |line| line.contains("run_finished"));
    assert!(line.contains("blip") && line.contains("success"), "{line}");
    let _ = watcher.kill();
    let _ = watcher.wait();
}

#[test]
fn show_prints_the_definition_schedule_and_runs() {
    let daemon = Daemon::start(
        "tasks:
  - name: nightly
    command: echo dump
    cron: '30 3 * * *'
    timezone: Europe/Paris
    overlap: queue
    timeout: 5m
",
    );
    daemon.ctl().ok(&["run-now", "nightly", "--wait"]);
    let text = daemon.ctl().ok(&["show", "nightly"]);
    for wanted in [
        "nightly",
        "echo dump",
        "Europe/Paris",
        "next fires",
        "overlap: queue",
        "timeout: 5m",
        "last runs (1 of 1)",
        "success",
    ] {
        assert!(text.contains(wanted), "{wanted:?} in:\n{text}");
    }
    let json = daemon.ctl().json(&["show", "nightly"]);
    assert_eq!(json["task"]["name"], "nightly");
    assert!(
        json["task"]["definition"]
            .as_str()
            .is_some_and(|definition| definition.contains("overlap: queue")),
        "{json}"
    );
    assert_eq!(json["next_fires"].as_array().map(Vec::len), Some(3));
}

/// What the shell's completion script gets for `words` (the last one being typed), as fish
/// asks for it: one candidate a line, its help after a tab.
fn complete(words: &[&str]) -> std::process::Output {
    Command::new(binary("speedrackctl"))
        .env("COMPLETE", "fish")
        .env_remove(speedrack_proto::SOCKET_ENV)
        .arg("--")
        .args(words)
        .output()
        .expect("speedrackctl runs")
}

/// The values offered, flags left out (clap offers those too for an empty word).
fn candidates(output: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.split('\t').next().unwrap_or_default().to_owned())
        .filter(|value| !value.starts_with('-'))
        .collect()
}

#[test]
fn completion_lists_task_names_and_run_ids_from_the_daemon_and_nothing_when_it_is_down() {
    let daemon = Daemon::start(
        "tasks:
  - {name: alpha, command: 'true', interval: 400w}
  - {name: beta, command: 'true', interval: 400w}
",
    );
    let socket = daemon.socket().display().to_string();
    let names = complete(&["speedrackctl", "--socket", &socket, "run-now", ""]);
    assert_eq!(names.status.code(), Some(0));
    assert_eq!(candidates(&names), ["alpha", "beta"]);
    let typed = complete(&["speedrackctl", "show", "--socket", &socket, "be"]);
    assert_eq!(candidates(&typed), ["beta"]);

    let run = daemon.ctl().json(&["run-now", "alpha", "--wait"]);
    let runs = complete(&["speedrackctl", "--socket", &socket, "output", "alpha", ""]);
    assert_eq!(candidates(&runs), [run["id"].to_string()]);

    let nobody = tempfile::tempdir().expect("temp dir");
    let gone = nobody.path().join("gone.sock").display().to_string();
    let down = complete(&["speedrackctl", "--socket", &gone, "run-now", ""]);
    assert_eq!(down.status.code(), Some(0));
    assert!(candidates(&down).is_empty(), "{down:?}");
    assert!(down.stderr.is_empty(), "{down:?}");
    let down_typed = complete(&["speedrackctl", "--socket", &gone, "run-now", "a"]);
    assert!(down_typed.stdout.is_empty(), "{down_typed:?}");
}
