//! A task in a YAML file runs on schedule in a real process, its run lands in history with its
//! output, and speedrackctl shows it; run-now, suspend and resume act on it.

use speedrack_proto::v1 as pb;
use speedrack_proto::v1::watch_events_response::Event;
use speedrack_tests::files::Gate;
use speedrack_tests::{Daemon, EventWatch, WAIT};

const TICKER: &str = "tasks:
  - name: Ticker
    description: prints to both streams
    command: echo hello; echo oops >&2
    interval: 1s
  - name: patient
    command: echo manual
    interval: 400w
";

#[tokio::test]
async fn a_scheduled_run_is_recorded_with_its_output() {
    let daemon = Daemon::start(TICKER);
    let mut events = daemon.watch().await;
    let run = events
        .run_finished("ticker", WAIT)
        .await
        .expect("ticker runs within the wait");

    let runs = daemon.ctl().json(&["runs", "ticker"]);
    let newest = &runs["runs"][0];
    assert_eq!(newest["id"], run.id);
    assert_eq!(newest["trigger"], "schedule");
    assert_eq!(
        newest["status"], "failure",
        "stderr output fails a run by default"
    );
    assert_eq!(newest["reason"], "stderr not empty (5 bytes)");
    assert_eq!(newest["exit_code"], 0);
    assert_eq!(newest["stdout_bytes"], 6);

    assert_eq!(daemon.ctl().ok(&["output", "ticker"]), "hello\n");
    assert_eq!(daemon.ctl().ok(&["output", "ticker", "--stderr"]), "oops\n");
    let on_disk = daemon
        .data_dir()
        .join("runs/ticker")
        .join(run.id.to_string())
        .join("stdout");
    assert_eq!(
        std::fs::read_to_string(on_disk).expect("output file for admins to grep"),
        "hello\n"
    );

    let tasks = daemon.ctl().json(&["tasks"]);
    let ticker = &tasks["tasks"][0];
    assert_eq!(ticker["name"], "ticker");
    assert_eq!(ticker["schedule"], "every 1s");
    assert!(ticker["runs_retained"].as_u64().expect("count") >= 1);
    assert!(ticker["next_fire"].is_string());
    assert_eq!(tasks["tasks"][1]["status"], "never_run");
}

#[tokio::test]
async fn run_now_is_recorded_as_manual_with_who_asked() {
    let daemon = Daemon::start(TICKER);
    let mut events = daemon.watch().await;
    let said = daemon.ctl().ok(&["run-now", "patient"]);
    let run = events
        .run_finished("patient", WAIT)
        .await
        .expect("the manual run finishes");
    assert!(said.contains(&format!("run {}", run.id)), "{said}");

    let newest = &daemon.ctl().json(&["runs", "patient"])["runs"][0];
    assert_eq!(newest["trigger"], "manual");
    assert_eq!(newest["requested_by"], speedrack_tests::current_user());
    assert_eq!(newest["status"], "success");
    assert_eq!(daemon.ctl().ok(&["output", "patient"]), "manual\n");
    let task = &daemon.ctl().json(&["tasks"])["tasks"][1];
    assert_eq!(task["status"], "success");
    assert_eq!(task["runs_since_start"], 1);
}

/// A task every second, and a witness beside it on the same period: the loop serves fires in
/// the order of their instants, so once the witness has started a fire, every fire of the
/// other task due before it has been served (or was not due).
const WITNESSED: &str = "tasks:
  - {name: ticker, command: 'true', interval: 1s}
  - {name: witness, command: 'true', interval: 1s}
";

/// Reads started runs until the witness starts a fire two periods after the first one it
/// starts from now; fails on a start of any other task meanwhile.
async fn two_periods_pass_without_a_start_of(events: &mut EventWatch, task: &str) {
    let mut first = None;
    loop {
        let run = events
            .next_matching(WAIT, |event| match event {
                Event::RunStarted(run) => Some(run),
                _ => None,
            })
            .await
            .expect("the witness keeps firing");
        assert_ne!(run.task, task, "{task} started: {run:?}");
        let due = run.scheduled_at.expect("a scheduled instant").seconds;
        if due >= *first.get_or_insert(due) + 2 {
            return;
        }
    }
}

#[tokio::test]
async fn a_suspended_task_does_not_fire_until_resumed() {
    let daemon = Daemon::start(WITNESSED);
    let mut events = daemon.watch().await;
    events
        .run_finished("ticker", WAIT)
        .await
        .expect("ticker runs before suspension");
    daemon.ctl().ok(&["suspend", "ticker"]);
    events
        .next_matching(WAIT, |event| match event {
            Event::TaskChanged(task)
                if task.name == "ticker" && task.status() == pb::TaskStatus::Suspended =>
            {
                Some(())
            }
            _ => None,
        })
        .await
        .expect("the suspension is announced");

    let task = &daemon.ctl().json(&["tasks"])["tasks"][0];
    assert_eq!(task["status"], "suspended");
    assert!(task["next_fire"].is_null());
    two_periods_pass_without_a_start_of(&mut events, "ticker").await;

    daemon.ctl().ok(&["resume", "ticker"]);
    events
        .run_started("ticker", WAIT)
        .await
        .expect("a resumed task fires again");
}

#[tokio::test]
async fn a_task_never_overlaps_itself() {
    let gate = Gate::new();
    let daemon = Daemon::start(&format!(
        "tasks:
  - {{name: slow, command: '{}', interval: 1s}}
  - {{name: witness, command: 'true', interval: 1s}}
",
        gate.wait()
    ));
    let mut events = daemon.watch().await;
    let first = events.run_started("slow", WAIT).await.expect("slow starts");
    let refused = daemon.ctl().run(&["run-now", "slow"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("already running"));
    two_periods_pass_without_a_start_of(&mut events, "slow").await;
    let task = daemon
        .client()
        .await
        .get_task(pb::GetTaskRequest {
            name: "slow".into(),
        })
        .await
        .expect("GetTask")
        .into_inner()
        .task
        .expect("the task");
    assert!(
        task.skipped_fires >= 1,
        "fires during the run were skipped: {task:?}"
    );

    gate.open();
    let finished = events
        .next_matching(WAIT, |event| match event {
            Event::RunStarted(run) if run.task == "slow" => panic!("slow started again: {run:?}"),
            Event::RunFinished(run) if run.task == "slow" => Some(run),
            _ => None,
        })
        .await
        .expect("slow finishes");
    assert_eq!(
        finished.id, first.id,
        "no second run started while the first ran"
    );
}
