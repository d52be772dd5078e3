//! `wide`: history's other shape — 2 000 tasks, each with a 3 KB `command: |` script and 200
//! retained runs (400 000 runs, each recording its 3 KB definition); how fast every client's
//! view of the whole list answers: ListTasks (all pages, as `speedrackctl tasks` and as the task
//! list page ask), the task list page, `/metrics`, and `speedrackctl tasks` / `--json tasks`.
//!
//! The database is filled through the daemon's store API, as `history` does, one transaction
//! per task. Nothing fires during the bench (the tasks run at New Year).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use speedrack_proto::v1 as pb;
use speedrack_tests::wide::WideTasks;
use speedrackd::clock::{Clock, SystemClock};
use speedrackd::history::SqliteStore;

use super::daemon::{BenchDaemon, KEEP_ALL_HISTORY, binary};
use super::report::{Report, percentile, sorted_ms};

const TASKS: usize = 2000;
const SCRIPT_BYTES: usize = 3000;
const RUNS_PER_TASK: usize = 200;
const REPEATS: usize = 5;
/// Each view of the whole list must answer within this (median).
const TARGET_MS: f64 = 2000.0;

const WIDE: WideTasks = WideTasks {
    prefix: "wide",
    tasks: TASKS,
    script_bytes: SCRIPT_BYTES,
};

/// `RUNS_PER_TASK` finished runs per task, a minute apart, each with the task's definition.
fn fill(data_dir: &Path) -> Result<Duration> {
    std::fs::create_dir_all(data_dir)?;
    let history = SqliteStore::open(data_dir)?;
    let start = Instant::now();
    WIDE.fill_history(&history, RUNS_PER_TASK, SystemClock.now())?;
    Ok(start.elapsed())
}

/// Times `call` `REPEATS` times; returns the sorted durations in milliseconds and the last
/// call's result.
async fn timed<F, Fut, T>(mut call: F) -> Result<(Vec<f64>, T)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut took = Vec::with_capacity(REPEATS);
    let mut last = None;
    for _ in 0..REPEATS {
        let start = Instant::now();
        last = Some(call().await?);
        took.push(start.elapsed());
    }
    Ok((sorted_ms(&took), last.context("no repeats")?))
}

/// Every page of ListTasks; returns (tasks, pages, bytes of the largest page).
async fn all_pages(daemon: &BenchDaemon, recent_runs: u32) -> Result<(usize, usize, usize)> {
    use prost::Message;
    let mut client = daemon.client().await?;
    let (mut tasks, mut pages, mut largest) = (0, 0, 0);
    let mut page_token = String::new();
    loop {
        let page = client
            .list_tasks(pb::ListTasksRequest {
                recent_runs,
                page_token,
                with_command: false,
            })
            .await?
            .into_inner();
        tasks += page.tasks.len();
        pages += 1;
        largest = largest.max(page.encoded_len());
        if page.next_page_token.is_empty() {
            return Ok((tasks, pages, largest));
        }
        page_token = page.next_page_token;
    }
}

/// GETs `url`, failing on any status but 200; returns the body's size.
async fn get(http: &reqwest::Client, url: &str) -> Result<usize> {
    let body = http
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    Ok(body.len())
}

/// Runs `speedrackctl [ARGS] tasks`, failing unless it exits 0; returns its stdout's size.
fn ctl_tasks(daemon: &BenchDaemon, args: &[&str]) -> Result<usize> {
    let output = Command::new(binary("speedrackctl")?)
        .arg("--socket")
        .arg(daemon.socket())
        .args(args)
        .arg("tasks")
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "speedrackctl {args:?} tasks failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(output.stdout.len())
}

fn add_timed(report: &mut Report, name: &str, sorted: &[f64]) {
    report.at_most(
        &format!("{name} p50"),
        percentile(sorted, 50.0),
        "ms",
        TARGET_MS,
    );
    report.add(&format!("{name} max"), percentile(sorted, 100.0), "ms");
}

pub async fn run() -> Result<Report> {
    let dir = tempfile::tempdir().context("cannot create a temp dir")?;
    let fill_time = fill(&BenchDaemon::data_dir_of(dir.path()))?;
    let boot = Instant::now();
    let daemon = BenchDaemon::start_in(dir, &WIDE.tasks_yaml(), Some(KEEP_ALL_HISTORY))?;
    let boot_time = boot.elapsed();
    let web = daemon
        .web_url()
        .context("the daemon logged no web address")?
        .to_owned();
    let http = reqwest::Client::new();

    let (ctl_list, (tasks, pages, largest)) = timed(|| all_pages(&daemon, 0)).await?;
    anyhow::ensure!(tasks == TASKS, "ListTasks gave {tasks} of {TASKS} tasks");
    let (page_list, (_, web_pages, web_largest)) = timed(|| all_pages(&daemon, 20)).await?;
    let (page_url, metrics_url) = (format!("{web}/"), format!("{web}/metrics"));
    let (task_list_page, page_bytes) = timed(|| get(&http, &page_url)).await?;
    let (metrics, metrics_bytes) = timed(|| get(&http, &metrics_url)).await?;
    let (ctl_text, _) = timed(|| async { ctl_tasks(&daemon, &[]) }).await?;
    let (ctl_json, json_bytes) = timed(|| async { ctl_tasks(&daemon, &["--json"]) }).await?;
    drop(daemon);

    let mut report = Report::new("wide");
    report.add("runs in history", (TASKS * RUNS_PER_TASK) as f64, "runs");
    report.add("fill through the store API", fill_time.as_secs_f64(), "s");
    report.add(
        "daemon start on this history",
        boot_time.as_secs_f64() * 1e3,
        "ms",
    );
    add_timed(
        &mut report,
        &format!("ListTasks, all {pages} pages"),
        &ctl_list,
    );
    report.add("  largest page", largest as f64 / 1024.0, "KiB");
    add_timed(
        &mut report,
        &format!("ListTasks + 20 recent runs, all {web_pages} pages"),
        &page_list,
    );
    report.add(
        "  largest page (20 recent runs)",
        web_largest as f64 / 1024.0,
        "KiB",
    );
    add_timed(&mut report, "task list page over HTTP", &task_list_page);
    report.add("  task list page size", page_bytes as f64 / 1024.0, "KiB");
    add_timed(&mut report, "/metrics over HTTP", &metrics);
    report.add("  /metrics size", metrics_bytes as f64 / 1024.0, "KiB");
    add_timed(&mut report, "speedrackctl tasks", &ctl_text);
    add_timed(&mut report, "speedrackctl --json tasks", &ctl_json);
    report.add("  --json tasks size", json_bytes as f64 / 1024.0, "KiB");
    report.note(format!(
        "{TASKS} tasks × {SCRIPT_BYTES} B script × {RUNS_PER_TASK} runs; each view timed \
         {REPEATS}× from the client, median checked"
    ));
    Ok(report)
}
