//! `lateness`: 50 tasks firing every second; how late each child really starts.
//!
//! The child is `date +%s%N`, which `sh -c` execs directly, so its stdout is the instant the
//! command began (after the fork and both execs). Lateness is that instant minus the run's
//! `scheduled_at`. The daemon's own `started_at` is reported beside it, and so is the machine's
//! floor: the same 50 children started at once by this process (`spawn_floor`), measured before
//! and after the daemon's window, and the ratio of the two p99s. A second phase does the same
//! with 20 tasks; a third fires one task alone, beside the machine's time to start one child.

use std::future::Future;
use std::time::Duration;

use anyhow::{Context, Result};
use speedrack_proto::v1 as pb;
use speedrack_proto::v1::speedrack_client::SpeedrackClient;
use tonic::transport::Channel;

use super::daemon::BenchDaemon;
use super::report::{Report, percentile};
use super::spawn_floor::{self, BatchFloor, CHILD_COMMAND};

pub const TASKS: usize = 50;

/// How long the single-task phase runs.
const ALONE_SECONDS: u64 = 20;

pub fn tasks_yaml(tasks: usize) -> String {
    let mut yaml = String::from("tasks:\n");
    for index in 0..tasks {
        yaml.push_str(&format!(
            "  - name: late_{index}\n    command: {CHILD_COMMAND}\n    cron: '* * * * * *'\n    max_keep: 100000\n"
        ));
    }
    yaml
}

/// Nanoseconds since the epoch of a protobuf timestamp.
fn nanos(timestamp: Option<&prost_types::Timestamp>) -> Option<i128> {
    timestamp.map(|t| i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos))
}

/// Every scheduled run of `task`, all pages.
async fn all_runs(client: &mut SpeedrackClient<Channel>, task: &str) -> Result<Vec<pb::Run>> {
    let mut runs = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_runs(pb::ListRunsRequest {
                task: task.to_owned(),
                page_size: 500,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
            .with_context(|| format!("ListRuns {task}"))?
            .into_inner();
        runs.extend(page.runs);
        if page.next_page_token.is_empty() {
            return Ok(runs);
        }
        page_token = page.next_page_token;
    }
}

/// The stdout of a run: here, the child's own start instant in nanoseconds.
async fn child_start(client: &mut SpeedrackClient<Channel>, run: i64) -> Result<Option<i128>> {
    let output = client
        .read_output(pb::ReadOutputRequest {
            run_id: run,
            stream: pb::OutputStream::Stdout.into(),
            offset: 0,
            length: 64,
        })
        .await?
        .into_inner();
    Ok(String::from_utf8_lossy(&output.data).trim().parse().ok())
}

/// How late the runs of some tasks began, in ms after their due instants, each sorted.
pub struct Lateness {
    /// The child's own start (its stdout).
    pub child: Vec<f64>,
    /// The run's `started_at`: when the daemon took the fire up.
    pub daemon: Vec<f64>,
}

/// Reads every scheduled run of `tasks` and its output.
pub async fn measure(
    client: &mut SpeedrackClient<Channel>,
    tasks: impl Iterator<Item = String>,
) -> Result<Lateness> {
    let mut lateness = Lateness {
        child: Vec::new(),
        daemon: Vec::new(),
    };
    for task in tasks {
        for run in all_runs(client, &task).await? {
            // A run still going has no output to read on a node other than its own.
            let (Some(due), Some(_)) = (nanos(run.scheduled_at.as_ref()), &run.finished_at) else {
                continue;
            };
            if let Some(started) = nanos(run.started_at.as_ref()) {
                lateness.daemon.push((started - due) as f64 / 1e6);
            }
            if let Some(child) = child_start(client, run.id).await? {
                lateness.child.push((child - due) as f64 / 1e6);
            }
        }
    }
    lateness.child.sort_by(f64::total_cmp);
    lateness.daemon.sort_by(f64::total_cmp);
    Ok(lateness)
}

/// Runs `tasks` tasks every second for `seconds` and measures their runs.
async fn fire(tasks: usize, seconds: u64) -> Result<Lateness> {
    let daemon = BenchDaemon::start(&tasks_yaml(tasks), None)?;
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let mut client = daemon.client().await?;
    measure(&mut client, (0..tasks).map(|index| format!("late_{index}"))).await
}

/// A smaller batch, measured as the 50 are: the target covers 20 and 50 due at once.
const SMALL_BATCH: usize = 20;
/// The most a batch's child p99 may exceed the machine's floor for the same batch (issue 13).
const FLOOR_RATIO_TARGET: f64 = 1.25;
/// Floor batches measured on each side of a daemon's window.
const FLOOR_BATCHES: usize = 5;

/// A batch of `size` children started by this process, measured before and after `during`
/// runs, so that load that comes or goes meanwhile weighs on the floor as on the daemon.
async fn beside_floor(
    size: usize,
    during: impl Future<Output = Result<Lateness>>,
) -> Result<(BatchFloor, Lateness)> {
    let mut floor = spawn_floor::measure(size, FLOOR_BATCHES)?;
    let lateness = during.await?;
    let after = spawn_floor::measure(size, FLOOR_BATCHES)?;
    floor.lateness_ms.extend(after.lateness_ms);
    floor.lateness_ms.sort_by(f64::total_cmp);
    Ok((floor, lateness))
}

/// The batch's child p99 over its floor's, checked against the target.
fn floor_ratio(report: &mut Report, size: usize, child: &[f64], floor: &BatchFloor) {
    report.at_most(
        &format!("{size} at once: child p99 / machine floor p99"),
        percentile(child, 99.0) / percentile(&floor.lateness_ms, 99.0),
        "×",
        FLOOR_RATIO_TARGET,
    );
}

/// Runs the scenario for `seconds`, then `SMALL_BATCH` tasks for as long, then one task alone
/// for `ALONE_SECONDS`.
pub async fn run(seconds: u64) -> Result<Report> {
    let (floor, late) = beside_floor(TASKS, fire(TASKS, seconds)).await?;
    let (small_floor, small) = beside_floor(SMALL_BATCH, fire(SMALL_BATCH, seconds)).await?;
    let alone_floor = spawn_floor::measure(1, 20)?;
    let alone = fire(1, ALONE_SECONDS).await?;
    let mut report = Report::new("lateness");
    report.add("runs measured", late.child.len() as f64, "runs");
    report.spread(
        "child start lateness",
        &late.child,
        "ms",
        [None, Some(2.0), Some(10.0)],
    );
    report.spread("daemon started_at lateness", &late.daemon, "ms", [None; 3]);
    report.spread(
        &format!("machine: start {TASKS} at once, child"),
        &floor.lateness_ms,
        "ms",
        [None; 3],
    );
    floor_ratio(&mut report, TASKS, &late.child, &floor);
    report.spread(
        &format!("{SMALL_BATCH} at once: child start lateness"),
        &small.child,
        "ms",
        [None; 3],
    );
    report.spread(
        &format!("machine: start {SMALL_BATCH} at once, child"),
        &small_floor.lateness_ms,
        "ms",
        [None; 3],
    );
    floor_ratio(&mut report, SMALL_BATCH, &small.child, &small_floor);
    report.spread(
        "one task alone: child start lateness",
        &alone.child,
        "ms",
        [None; 3],
    );
    report.spread(
        "one task alone: daemon started_at lateness",
        &alone.daemon,
        "ms",
        [None; 3],
    );
    report.spread(
        "machine: start 1 child, child",
        &alone_floor.lateness_ms,
        "ms",
        [None; 3],
    );
    report.note(format!(
        "{TASKS}, then {SMALL_BATCH}, tasks on cron '* * * * * *' for {seconds} s each; child = {CHILD_COMMAND} exec'd by sh -c, with the environment a run gets; machine floor from the fastest of 1, nproc and 2 × nproc spawning threads ({} for {TASKS}), {FLOOR_BATCHES} batches before and {FLOOR_BATCHES} after each daemon's window",
        floor.threads
    ));
    Ok(report)
}
