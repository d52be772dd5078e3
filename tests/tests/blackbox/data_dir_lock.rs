//! One daemon per data dir: a second speedrackd on a data dir in use exits 78 naming the dir
//! and the holder's pid, and touches nothing of the first one's runs or schedule.

use speedrack_tests::history_db::{duplicate_fires, open_history};
use speedrack_tests::{Daemon, WAIT, binary, procs, wait_with_timeout};
use std::process::Stdio;

const TASKS: &str = "tasks:
  - name: long
    command: sleep 300
    interval: 1h
    suspended: true
  - name: tick
    command: 'true'
    interval: 1s
";

#[tokio::test]
async fn a_second_daemon_on_the_same_data_dir_exits_78_and_kills_nothing() {
    let daemon = Daemon::start(TASKS);
    let mut events = daemon.watch().await;
    daemon.ctl().ok(&["run-now", "long"]);
    let long = events.run_started("long", WAIT).await.expect("long starts");
    let group = procs::children_of(daemon.pid())
        .into_iter()
        .find(|(pid, group)| pid == group)
        .map(|(_, group)| group)
        .expect("the long run leads its own process group");

    let other_socket = daemon.dir().join("other.sock");
    let mut second = std::process::Command::new(binary("speedrackd"))
        .arg("run")
        .arg("--tasks")
        .arg(daemon.dir().join("tasks.yaml"))
        .arg("--socket")
        .arg(&other_socket)
        .arg("--data-dir")
        .arg(daemon.data_dir())
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the second speedrackd starts");
    let mut stderr = second.stderr.take().expect("piped stderr");
    let status = wait_with_timeout(&mut second, WAIT);
    let mut said = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut said).expect("read its stderr");
    assert_eq!(status.and_then(|status| status.code()), Some(78), "{said}");
    assert!(
        said.contains(&daemon.data_dir().display().to_string())
            && said.contains(&format!("pid {}", daemon.pid())),
        "the refusal names the data dir and the holder: {said}"
    );
    assert!(!other_socket.exists(), "the second daemon bound no socket");

    let mut client = daemon.client().await;
    let run = client
        .get_run(speedrack_proto::v1::GetRunRequest { run_id: long.id })
        .await
        .expect("the first daemon still answers")
        .into_inner()
        .run
        .expect("a run");
    assert_eq!(run.status(), speedrack_proto::v1::RunStatus::Running);
    assert!(
        !procs::group_members(group).is_empty(),
        "the long run's processes are untouched"
    );
    // Two more fires of `tick`, each once.
    for _ in 0..2 {
        events.run_finished("tick", WAIT).await.expect("tick fires");
    }
    assert_eq!(
        duplicate_fires(&open_history(&daemon.data_dir())),
        Vec::new(),
        "no fire twice"
    );
}
