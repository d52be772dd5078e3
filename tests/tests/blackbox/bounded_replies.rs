//! Replies bounded at any scale: thousands of tasks with a few KiB of script each and their
//! retained runs, a description far larger than a reply, and requests with oversized text.
//! Every client (the web page, /metrics, `speedrackctl tasks`, its `--json`) still answers.
//!
//! History is filled before the start through the daemon's own store API, the same rows real
//! runs leave, so the test needs no minutes of fires. The 200-runs-per-task figures of the
//! issue are the `history` bench's business; here 10 runs per task already break an unbounded
//! reply many times over.

use std::time::Duration;

use chrono::TimeZone;
use speedrack_proto::v1 as pb;
use speedrack_proto::v1::watch_events_response::Event;
use speedrack_tests::wide::WideTasks;
use speedrack_tests::{Daemon, DaemonBuilder, WAIT};
use speedrackd::history::SqliteStore;
use tonic::Code;

const TASKS: usize = 2000;
/// Half the 3 KB: the tasks file alone takes seconds to parse in a debug build, and
/// 2 000 of these still make every unbounded list reply several times gRPC's default 4 MiB.
const SCRIPT_BYTES: usize = 1500;
const RUNS_PER_TASK: usize = 10;
/// Parsing a few MiB of YAML in a debug build on a busy machine.
const SLOW_START: Duration = Duration::from_secs(60);

const WIDE: WideTasks = WideTasks {
    prefix: "big",
    tasks: TASKS,
    script_bytes: SCRIPT_BYTES,
};

/// `RUNS_PER_TASK` finished runs of every task, written before the daemon starts.
fn fill_history(builder: &DaemonBuilder) {
    let data_dir = builder.data_dir();
    std::fs::create_dir_all(&data_dir).expect("data dir");
    let history = SqliteStore::open(&data_dir).expect("history opens");
    let now = chrono::Utc
        .timestamp_opt(1_800_000_000, 0)
        .single()
        .expect("valid instant");
    WIDE.fill_history(&history, RUNS_PER_TASK, now)
        .expect("fill history");
}

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("the gateway answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_tasks_with_long_scripts_list_everywhere() {
    let builder = DaemonBuilder::new(&WIDE.tasks_yaml());
    fill_history(&builder);
    let daemon = builder.ready_within(SLOW_START).start();
    let last = WIDE.name(TASKS - 1);

    let (status, page) = get(&daemon.web_url()).await;
    assert_eq!(
        status,
        200,
        "the task list page: {}",
        &page[..page.len().min(2000)]
    );
    assert!(page.contains(&last), "the page lists the last task");

    let (status, metrics) = get(&format!("{}/metrics", daemon.web_url())).await;
    assert_eq!(
        status,
        200,
        "/metrics: {}",
        &metrics[..metrics.len().min(2000)]
    );
    assert!(
        metrics.contains(&format!("task=\"{last}\"")),
        "every task has metrics"
    );
    assert!(
        metrics.ends_with('\n'),
        "the whole text, ending with its last line"
    );

    let table = daemon.ctl().ok(&["tasks"]);
    assert_eq!(
        table
            .lines()
            .filter(|line| line.starts_with("big_"))
            .count(),
        TASKS
    );

    let json = daemon.ctl().json(&["tasks"]);
    let tasks = json["tasks"].as_array().expect("a task array");
    assert_eq!(tasks.len(), TASKS);
    let first = &tasks[0];
    assert_eq!(first["runs_retained"], RUNS_PER_TASK);
    assert!(
        first["command"]
            .as_str()
            .is_some_and(|command| command.lines().count() == WIDE.script().lines().count()),
        "--json shows whole commands"
    );

    // Lists carry no definitions; the page of one run does.
    let mut client = daemon.client().await;
    let runs = client
        .list_runs(pb::ListRunsRequest {
            task: last.clone(),
            page_size: 1000,
            page_token: String::new(),
            ..Default::default()
        })
        .await
        .expect("ListRuns")
        .into_inner();
    assert_eq!(runs.runs.len(), RUNS_PER_TASK);
    assert!(runs.runs.iter().all(|run| run.definition.is_empty()));
    let run = client
        .get_run(pb::GetRunRequest {
            run_id: runs.runs[0].id,
        })
        .await
        .expect("GetRun")
        .into_inner()
        .run
        .expect("a run");
    assert!(run.definition.contains("rotate, compress and ship"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_description_larger_than_a_reply_does_not_break_the_list() {
    // Over the 4 MiB most gRPC clients accept by default, under any tasks-file size limit.
    let description = "very long words ".repeat((5 << 20) / 16);
    let yaml = format!(
        "tasks:\n  - name: wordy\n    description: {description}\n    command: 'true'\n    \
         interval: 400w\n  - name: terse\n    command: 'true'\n    interval: 400w\n"
    );
    let daemon = DaemonBuilder::new(&yaml).ready_within(SLOW_START).start();

    let table = daemon.ctl().ok(&["tasks"]);
    assert!(
        table.contains("wordy") && table.contains("terse"),
        "{table}"
    );
    let json = daemon.ctl().json(&["tasks"]);
    let shown = json["tasks"][0]["description"]
        .as_str()
        .expect("a description");
    assert!(shown.len() < 1 << 20, "cut to what a list can carry");
    let (status, _) = get(&daemon.web_url()).await;
    assert_eq!(status, 200, "the task list page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_free_text_in_requests_is_refused() {
    let daemon = Daemon::start("tasks:\n  - name: job\n    command: 'true'\n    interval: 400w\n");
    let mut client = daemon.client().await;
    let run_now = |on_behalf_of: String| pb::RunNowRequest {
        task: "job".to_owned(),
        on_behalf_of,
    };

    let long = client
        .run_now(run_now("x".repeat(10_000)))
        .await
        .expect_err("a 10 kB name is refused");
    assert_eq!(long.code(), Code::InvalidArgument);
    assert_eq!(
        long.message(),
        "on_behalf_of is 10000 bytes long; at most 256 are accepted"
    );
    let forged = client
        .run_now(run_now("ann\nINFO run 1 finished".to_owned()))
        .await
        .expect_err("a newline is refused");
    assert_eq!(forged.code(), Code::InvalidArgument);
    let suspend = client
        .suspend(pb::SuspendRequest {
            task: "job".to_owned(),
            on_behalf_of: "y".repeat(300),
        })
        .await
        .expect_err("Suspend checks it too");
    assert_eq!(suspend.code(), Code::InvalidArgument);
    let task_name = client
        .get_task(pb::GetTaskRequest {
            name: "t".repeat(1 << 20),
        })
        .await
        .expect_err("a 1 MiB task name is refused");
    assert_eq!(task_name.code(), Code::InvalidArgument);
    assert!(task_name.message().len() < 200, "not echoed back");

    let accepted = client
        .run_now(run_now("Ann Example".to_owned()))
        .await
        .expect("a plain name is accepted")
        .into_inner()
        .run
        .expect("a run");
    assert_eq!(
        accepted.requested_by,
        format!("Ann Example (via {})", speedrack_tests::current_user())
    );
    let runs = daemon.ctl().json(&["runs", "job"]);
    assert_eq!(runs["total"], 1, "refused requests left no runs");
}

/// Tasks that all fire at the same instants: each fire of the batch announces a start and a
/// task change at once, more events than the daemon's event channel holds, faster than a
/// watcher (here one that reads nothing) takes them.
fn busy_tasks_yaml() -> String {
    let mut yaml = String::from("tasks:\n");
    for index in 0..600 {
        yaml.push_str(&format!(
            "  - name: busy_{index:03}\n    command: 'true'\n    interval: 1s\n"
        ));
    }
    yaml
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_watcher_is_told_how_many_events_it_missed() {
    let daemon = Daemon::start(&busy_tasks_yaml());
    let mut slow = daemon
        .client()
        .await
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .expect("WatchEvents")
        .into_inner();
    let fell_behind = tokio::task::block_in_place(|| {
        daemon.wait_for_log(WAIT, |line| line.contains("an event watcher fell behind"))
    });
    assert!(
        fell_behind.is_some(),
        "the watcher that reads nothing falls behind"
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    let dropped = loop {
        let message = tokio::time::timeout_at(deadline, slow.message())
            .await
            .expect("the drop is reported in time")
            .expect("the stream stays healthy")
            .expect("the stream goes on");
        if let Some(Event::EventsDropped(dropped)) = message.event {
            break dropped;
        }
    };
    assert!(dropped.count > 0, "{dropped:?}");
}
