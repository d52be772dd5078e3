//! Descendants can't escape a run: processes that leave its process group (setsid, a double
//! fork, SIGTERM ignored) are gone after a timeout, a kill and a shutdown, and nothing is left a
//! zombie. Both ways the daemon contains runs: the fallback every machine has (the daemon as
//! subreaper, processes found by the run's environment marker), and a cgroup v2 per run where
//! the test can make one (root, cgroup2 mounted). Also: the run's figures are its own or say
//! "not measured", never the daemon's.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;
use speedrack_tests::{Daemon, DaemonBuilder, WAIT, files, procs};

/// Five ways out of the run's process group or parent chain (one keeps the output pipes open,
/// so the run's end waits for them and kills what is left), then a wait for the ender, started
/// before `ready` is made so every process counted exists by then. `env -i`
/// drops the marker: only a cgroup holds that one. A process the daemon adopts that exits at
/// once writes its pid into `adopted`.
fn escaping(ready: &Path, adopted: &Path, extra: &str) -> String {
    format!(
        "setsid sleep 1000 >/dev/null 2>&1 &
      sh -c 'setsid sleep 1000 >/dev/null 2>&1 &'
      (trap '' TERM; sleep 1000 >/dev/null 2>&1 &)
      setsid sleep 1000 &
      (sh -c 'echo $$ > {adopted}' &)
      {extra}
      while [ ! -s {adopted} ]; do sleep 0.01; done
      sleep 300 &
      touch {ready}
      wait $!",
        adopted = adopted.display(),
        ready = ready.display()
    )
}

enum End {
    Timeout,
    Kill,
    Shutdown,
}

/// SIGKILLs, when dropped, whatever a failed test leaves of the run, so it never outlives it.
struct Survivors(Vec<(String, String)>);

impl Drop for Survivors {
    fn drop(&mut self) {
        let marker: Vec<(&str, &str)> = self
            .0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        for pid in procs::with_environment(&marker) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

/// Starts `task` (which runs [`escaping`]), waits until its escapees run, ends it as `end`
/// says, and asserts nothing of it is left. Returns the finished run (but after a shutdown).
async fn end_escapers(
    task: &str,
    settings: &str,
    extra: &str,
    end: End,
) -> (Daemon, Option<speedrack_proto::v1::Run>) {
    let ready_dir = tempfile::tempdir().expect("temp dir");
    let ready = ready_dir.path().join("ready");
    let adopted = ready_dir.path().join("adopted");
    let timeout = match end {
        End::Timeout => "timeout: 1s",
        End::Kill | End::Shutdown => "timeout: 1h",
    };
    let mut daemon = DaemonBuilder::new(&format!(
        "tasks:
  - name: {task}
    interval: 400w
    {timeout}
    command: |
      {}
",
        escaping(&ready, &adopted, extra)
    ))
    .settings(&format!("kill_grace: 1s\nshutdown_grace: 1s\n{settings}"))
    .start();
    let mut events = daemon.watch().await;
    daemon.ctl().ok(&["run-now", task]);
    let started = events.run_started(task, WAIT).await.expect("starts");
    let marker = vec![
        ("SPEEDRACK_RUN_ID".to_owned(), started.id.to_string()),
        ("SPEEDRACK_TASK".to_owned(), task.to_owned()),
    ];
    let _survivors = Survivors(marker.clone());
    let marked = || {
        let marker: Vec<(&str, &str)> = marker
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        procs::with_environment(&marker)
    };
    assert!(files::wait_for_file(&ready, WAIT), "the run got ready");
    // The shell, `sleep 300` and four marked escapees, all forked before `ready` was made.
    let before = marked();
    assert!(before.len() >= 6, "the escapees run: {before:?}");
    let daemon_pid = daemon.pid();
    let adopted: i32 = std::fs::read_to_string(&adopted)
        .expect("the adopted process wrote its pid")
        .trim()
        .parse()
        .expect("a pid");
    assert_eq!(
        procs::wait_until_reaped(
            || {
                Some(adopted)
                    .filter(|pid| Path::new(&format!("/proc/{pid}")).exists())
                    .into_iter()
                    .collect()
            },
            WAIT
        ),
        Vec::<i32>::new(),
        "the daemon reaped the adopted process once it exited"
    );
    let cgroup_procs: Vec<PathBuf> = procs::open_files(daemon_pid)
        .into_iter()
        .filter(|path| path.ends_with("cgroup.procs"))
        .collect();
    assert_eq!(
        cgroup_procs,
        Vec::<PathBuf>::new(),
        "a running run holds no cgroup.procs open in the daemon"
    );
    let shutdown = matches!(end, End::Shutdown);
    let finished = match end {
        End::Timeout => Some(events.run_finished(task, WAIT).await.expect("times out")),
        End::Kill => {
            daemon.ctl().ok(&["kill", task]);
            Some(events.run_finished(task, WAIT).await.expect("killed"))
        }
        End::Shutdown => {
            assert!(daemon.stop_with(Signal::SIGTERM).success());
            None
        }
    };
    assert_eq!(
        procs::wait_until_none(marked, WAIT),
        Vec::<i32>::new(),
        "nothing of the run is left"
    );
    if !shutdown {
        // After a shutdown the daemon is gone and its zombies with it: the reaping of the
        // adopted process above is what counts there.
        assert_eq!(
            procs::wait_until_reaped(|| procs::zombies_of(daemon_pid), WAIT),
            Vec::<i32>::new(),
            "the daemon reaped every process it adopted"
        );
    }
    (daemon, finished)
}

fn assert_escapees_named(run: &speedrack_proto::v1::Run) {
    assert!(
        run.op_error.contains(
            "killed 3 process(es) of the run still running outside its process group after the command exited"
        ),
        "{}",
        run.op_error
    );
}

#[tokio::test]
async fn escapees_die_with_a_timeout() {
    let (daemon, run) = end_escapers("escape_timeout", "", "", End::Timeout).await;
    let run = run.expect("finished");
    assert_eq!(run.killed_by, "timeout after 1s");
    assert_escapees_named(&run);
    assert!(
        daemon
            .log_text()
            .contains("runs are contained by process group and environment marker"),
        "the fallback is the one tested here"
    );
}

#[tokio::test]
async fn escapees_die_with_a_kill() {
    let (_daemon, run) = end_escapers("escape_kill", "", "", End::Kill).await;
    assert_escapees_named(&run.expect("finished"));
}

#[tokio::test]
async fn escapees_die_with_the_daemon() {
    end_escapers("escape_shutdown", "", "", End::Shutdown).await;
}

#[tokio::test]
async fn figures_never_show_the_daemons_own_memory() {
    let daemon =
        Daemon::start("tasks:\n  - {name: tiny, command: 'echo; exit 3', interval: 400w}\n");
    let mut events = daemon.watch().await;
    let run = daemon.run_now_and_wait(&mut events, "tiny").await;
    assert_eq!(
        run.max_rss_bytes, 0,
        "not measured without a cgroup, never the daemon's RSS"
    );
    let json = daemon.ctl().json(&["runs", "tiny"]);
    assert_eq!(json["runs"][0]["max_rss_bytes"], serde_json::Value::Null);
    let page = reqwest::get(format!("{}/tasks/tiny/runs/{}", daemon.web_url(), run.id))
        .await
        .expect("the run page answers")
        .text()
        .await
        .expect("a body");
    assert!(page.contains("peak memory not measured"), "{page}");
}

/// A run's process is watched through a pidfd and orphans are reaped on a period: a SIGCHLD
/// handler would interrupt a thread of the daemon, and wake its runtime, at every run's exit.
/// Every thread blocks it besides, so that no exit wakes one only to drop it; the run itself
/// starts with no signal blocked.
#[tokio::test]
async fn a_runs_exit_interrupts_no_thread_of_the_daemon() {
    let daemon = Daemon::start(
        r#"tasks:
  - name: quick
    interval: 400w
    command: |
      blocked=$(sed -n 's/^SigBlk:[[:space:]]*//p' /proc/$$/status)
      [ $(( 0x$blocked )) -eq 0 ]
"#,
    );
    let mut events = daemon.watch().await;
    let run = daemon.run_now_and_wait(&mut events, "quick").await;
    assert_eq!(
        run.status(),
        speedrack_proto::v1::RunStatus::Success,
        "the run starts with signals blocked: {run:?}"
    );
    let mask = |status: &str, name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .unwrap_or_else(|| panic!("a {name} line in {status}"))
    };
    let bit = |signal: Signal| 1u64 << (signal as i32 - 1);
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.pid()))
        .expect("the daemon's /proc status");
    let caught = mask(&status, "SigCgt:");
    assert_ne!(
        caught & bit(Signal::SIGTERM),
        0,
        "SIGTERM is handled: {caught:#x}"
    );
    assert_eq!(
        caught & bit(Signal::SIGCHLD),
        0,
        "SIGCHLD is not: {caught:#x}"
    );
    let threads = std::fs::read_dir(format!("/proc/{}/task", daemon.pid()))
        .expect("the daemon's threads")
        .map(|thread| thread.expect("a thread").path().join("status"));
    for thread in threads {
        let Ok(status) = std::fs::read_to_string(&thread) else {
            continue;
        };
        let blocked = mask(&status, "SigBlk:");
        assert_ne!(
            blocked & bit(Signal::SIGCHLD),
            0,
            "{} blocks SIGCHLD: {blocked:#x}",
            thread.display()
        );
    }
}

/// A launcher may start the daemon with SIGCHLD ignored, which `exec` keeps: the kernel would
/// reap every run's process itself, and the runs would inherit it. The run fails if it did.
#[tokio::test]
async fn runs_end_as_they_should_when_the_daemon_started_with_sigchld_ignored() {
    let daemon = DaemonBuilder::new(
        r#"tasks:
  - name: inherits
    interval: 400w
    command: |
      ignored=$(sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status)
      [ $(( 0x$ignored & 0x10000 )) -eq 0 ]
"#,
    )
    .sigchld_ignored()
    .start();
    let mut events = daemon.watch().await;
    let run = daemon.run_now_and_wait(&mut events, "inherits").await;
    assert_eq!(
        run.status(),
        speedrack_proto::v1::RunStatus::Success,
        "{run:?}"
    );
}

/// A cgroup v2 directory made for one test, removed (with anything left in it) when dropped.
struct TestCgroup(PathBuf);

impl TestCgroup {
    /// `None` (the test is skipped, and says so) without root or a cgroup v2 mount.
    fn make(name: &str) -> Option<TestCgroup> {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: making a cgroup needs root");
            return None;
        }
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        let Some(mount) = mountinfo.lines().find_map(|line| {
            let (mount, fs) = line.split_once(" - ")?;
            fs.starts_with("cgroup2 ")
                .then(|| mount.split(' ').nth(4).map(PathBuf::from))
                .flatten()
        }) else {
            eprintln!("skipped: no cgroup v2 mount");
            return None;
        };
        let dir = mount.join(format!("speedrack-test-{}-{name}", std::process::id()));
        std::fs::create_dir(&dir).expect("make the test's cgroup");
        if !dir.join("cgroup.kill").exists() {
            eprintln!("skipped: cgroup.kill needs Linux 5.14");
            let _ = std::fs::remove_dir(&dir);
            return None;
        }
        Some(TestCgroup(dir))
    }

    fn runs(&self) -> Vec<PathBuf> {
        std::fs::read_dir(&self.0)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.path())
                    .filter(|path| path.is_dir())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        for run in self.runs() {
            let _ = std::fs::write(run.join("cgroup.kill"), "1");
            let empty = procs::wait_until_none(
                || {
                    let procs =
                        std::fs::read_to_string(run.join("cgroup.procs")).unwrap_or_default();
                    procs.lines().filter_map(|pid| pid.parse().ok()).collect()
                },
                WAIT,
            );
            assert!(empty.is_empty() || std::thread::panicking());
            let _ = std::fs::remove_dir(&run);
        }
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[tokio::test]
async fn a_cgroup_per_run_holds_even_what_drops_the_marker() {
    let Some(cgroup) = TestCgroup::make("escape") else {
        return;
    };
    let unmarked = "sleep 1000.125";
    let settings = format!("run_cgroup: {}\n", cgroup.0.display());
    let extra = format!("env -i setsid {unmarked} >/dev/null 2>&1 &");
    let (daemon, run) = end_escapers("cgroup_timeout", &settings, &extra, End::Timeout).await;
    assert!(
        daemon
            .log_text()
            .contains("each run gets a cgroup of its own"),
        "{}",
        daemon.log_text()
    );
    let run = run.expect("finished");
    assert!(
        run.op_error
            .contains("killed 4 process(es) of the run still running outside its process group"),
        "{}",
        run.op_error
    );
    assert_eq!(
        procs::wait_until_none(|| procs::with_command_line(unmarked), WAIT),
        Vec::<i32>::new(),
        "the unmarked escapee died with its cgroup"
    );
    assert_eq!(
        cgroup.runs(),
        Vec::<PathBuf>::new(),
        "the run's cgroup is removed"
    );
}

#[tokio::test]
async fn a_cgroup_per_run_leaves_nothing_after_a_shutdown() {
    let Some(cgroup) = TestCgroup::make("shutdown") else {
        return;
    };
    let settings = format!("run_cgroup: {}\n", cgroup.0.display());
    end_escapers("cgroup_shutdown", &settings, "", End::Shutdown).await;
    assert_eq!(
        cgroup.runs(),
        Vec::<PathBuf>::new(),
        "no run cgroup is left"
    );
}

#[tokio::test]
async fn a_cgroup_per_run_measures_the_whole_run() {
    let Some(cgroup) = TestCgroup::make("figures") else {
        return;
    };
    // CPU burnt by a process outside the run's group and parent chain (the daemon reaps it):
    // wait4 of the command never sees it. It burns until its own user time (field 14 of its
    // stat, in ticks of 10 ms) is 300 ms, however fast the machine is at the moment.
    let daemon = DaemonBuilder::new(
        "tasks:
  - name: burner
    interval: 400w
    command: |
      cd \"$(mktemp -d)\"
      (setsid sh -c 'while read -r s < /proc/$$/stat; set -- $s; [ \"${14}\" -lt 30 ]; do :; done; touch burnt' &)
      while [ ! -e burnt ]; do sleep 0.05; done
",
    )
    .settings(&format!("run_cgroup: {}\n", cgroup.0.display()))
    .start();
    let mut events = daemon.watch().await;
    let run = daemon.run_now_and_wait(&mut events, "burner").await;
    let cpu = |duration: Option<&prost_types::Duration>| {
        duration.map_or(Duration::ZERO, |d| {
            Duration::new(
                u64::try_from(d.seconds).unwrap_or(0),
                u32::try_from(d.nanos).unwrap_or(0),
            )
        })
    };
    let used = cpu(run.cpu_user.as_ref()) + cpu(run.cpu_system.as_ref());
    assert!(
        used >= Duration::from_millis(250),
        "the burner's CPU counts: {used:?}"
    );
    let memory_controller = std::fs::read_to_string(cgroup.0.join("cgroup.subtree_control"))
        .unwrap_or_default()
        .contains("memory");
    if memory_controller {
        assert!(
            run.max_rss_bytes > 0 && run.max_rss_bytes < 64 << 20,
            "the run's own peak: {}",
            run.max_rss_bytes
        );
    } else {
        assert_eq!(
            run.max_rss_bytes, 0,
            "not measured without the memory controller"
        );
    }
}

#[tokio::test]
async fn a_run_that_cannot_start_leaves_no_cgroup() {
    let Some(cgroup) = TestCgroup::make("unstarted") else {
        return;
    };
    let daemon = DaemonBuilder::new(
        "tasks:\n  - {name: lost, command: 'true', interval: 400w, working_dir: /nonexistent/dir}\n",
    )
    .settings(&format!("run_cgroup: {}\n", cgroup.0.display()))
    .start();
    let mut events = daemon.watch().await;
    let run = daemon.run_now_and_wait(&mut events, "lost").await;
    assert!(
        run.op_error.contains("/nonexistent/dir"),
        "{}",
        run.op_error
    );
    assert_eq!(
        cgroup.runs(),
        Vec::<PathBuf>::new(),
        "the cgroup made for the run is removed when its spawn fails"
    );
}

#[tokio::test]
async fn daemons_sharing_a_run_cgroup_leave_each_others_runs_alone() {
    let Some(cgroup) = TestCgroup::make("shared") else {
        return;
    };
    let settings = format!("run_cgroup: {}\n", cgroup.0.display());
    let first =
        DaemonBuilder::new("tasks:\n  - {name: long, command: 'sleep 300', interval: 400w}\n")
            .settings(&settings)
            .start();
    let mut first_events = first.watch().await;
    first.ctl().ok(&["run-now", "long"]);
    let long = first_events
        .run_started("long", WAIT)
        .await
        .expect("starts");
    let _survivors = Survivors(vec![
        ("SPEEDRACK_RUN_ID".to_owned(), long.id.to_string()),
        ("SPEEDRACK_TASK".to_owned(), "long".to_owned()),
    ]);
    // The second daemon starts (killing its own leftovers), runs a run of the same id, and
    // stops (killing what is left of its runs), all while the first one's run goes on.
    let mut second =
        DaemonBuilder::new("tasks:\n  - {name: short, command: 'true', interval: 400w}\n")
            .settings(&settings)
            .start();
    let mut second_events = second.watch().await;
    let short = second.run_now_and_wait(&mut second_events, "short").await;
    assert_eq!(
        short.id, long.id,
        "both databases number their runs from the same start"
    );
    assert!(second.stop_with(Signal::SIGTERM).success());
    let kill = first.ctl().run(&["kill", "long"]);
    assert!(
        kill.status.success(),
        "the first daemon's run still runs once the second one stopped: {}",
        String::from_utf8_lossy(&kill.stderr)
    );
    let run = first_events.run_finished("long", WAIT).await.expect("ends");
    assert!(
        !run.killed_by.is_empty(),
        "the run lived until its own daemon killed it, not ended by the other daemon: {run:?}"
    );
}
