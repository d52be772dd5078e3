//! `history`: a million runs across 100 tasks; how fast the API, the web page and a retention
//! prune answer over them.
//!
//! The database is filled through the daemon's own store API (`History`), the same inserts and
//! updates a real run makes, with timestamps one minute apart going back from now. Then the
//! release daemon starts on it and each query is timed from the client's side. The prune is
//! timed in this process through the store API, since no RPC exposes it.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use speedrack_proto::v1 as pb;
use speedrackd::clock::{Clock, SystemClock};
use speedrackd::config::TaskName;
use speedrackd::history::{NewRun, SqliteStore, Store};
use speedrackd::retention::{Policy, prunable};
use speedrackd::run::{Exit, RunEnd, RunId, RunStatus, Trigger, Usage};

use super::daemon::{BenchDaemon, KEEP_ALL_HISTORY};
use super::report::{Report, percentile, sorted_ms};

const TASKS: usize = 100;
const RUNS_PER_TASK: usize = 10_000;
/// Each query is repeated this often; the figure is the median, the max is shown beside it.
const REPEATS: usize = 20;
const TARGET_MS: f64 = 50.0;

fn task_name(index: usize) -> Result<TaskName> {
    TaskName::parse_normalised(&format!("hist_{index:03}")).context("a bench task name is invalid")
}

/// Tasks that exist but do not fire during the bench: once a year, at New Year.
fn tasks_yaml() -> String {
    let mut yaml = String::from("tasks:\n");
    for index in 0..TASKS {
        yaml.push_str(&format!(
            "  - name: hist_{index:03}\n    command: 'true'\n    cron: '0 0 1 1 *'\n"
        ));
    }
    yaml
}

/// Writes `RUNS_PER_TASK` finished runs for each task, interleaved as a real schedule would
/// write them, one minute apart. Returns how long it took.
fn fill(data_dir: &Path) -> Result<Duration> {
    std::fs::create_dir_all(data_dir)?;
    let history = SqliteStore::open(data_dir)?;
    let names: Vec<TaskName> = (0..TASKS).map(task_name).collect::<Result<_>>()?;
    let now = SystemClock.now();
    let definition = "command: 'true'\ncron: '0 0 1 1 *'\n";
    let start = Instant::now();
    for round in 0..RUNS_PER_TASK {
        let due = now - chrono::Duration::minutes((RUNS_PER_TASK - round) as i64);
        for (index, task) in names.iter().enumerate() {
            let new_run = NewRun {
                task,
                trigger: &Trigger::Schedule,
                scheduled_at: due,
                started_at: due + chrono::Duration::milliseconds(2),
                definition,
                pays_owed: false,
                claim: speedrackd::history::Claim::Cluster,
            };
            let run = history.record_starts(&[], &[], &[new_run])?[0]
                .context("a single node's history claims every fire")?;
            // One run in twenty fails, so retention's keep-failures rule has work to do.
            let failed = (round + index) % 20 == 0;
            history.finish_run(
                run,
                &RunEnd {
                    finished_at: due + chrono::Duration::milliseconds(40),
                    exit: Some(Exit::Code(i32::from(failed))),
                    status: if failed {
                        RunStatus::Failure
                    } else {
                        RunStatus::Success
                    },
                    stdout_bytes: 120,
                    stderr_bytes: if failed { 40 } else { 0 },
                    op_error: String::new(),
                    reason: String::new(),
                    killed_by: String::new(),
                    kill_cause: None,
                    replaced_by: None,
                    usage: Usage::default(),
                    output_dropped_bytes: 0,
                },
            )?;
        }
    }
    Ok(start.elapsed())
}

/// Times `call` `REPEATS` times; returns the sorted durations in milliseconds.
async fn timed<F, Fut, T>(mut call: F) -> Result<Vec<f64>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut took = Vec::with_capacity(REPEATS);
    for _ in 0..REPEATS {
        let start = Instant::now();
        call().await?;
        took.push(start.elapsed());
    }
    Ok(sorted_ms(&took))
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

/// The page token of the run `depth` runs into a task's history (newest first).
async fn deep_token(daemon: &BenchDaemon, task: &str, depth: usize) -> Result<String> {
    // Pages hold at most 1 000 runs (the API's cap), so walk to the depth a page at a time.
    const PAGE: usize = 1000;
    let mut client = daemon.client().await?;
    let mut token = String::new();
    for _ in 0..depth.div_ceil(PAGE) {
        token = client
            .list_runs(pb::ListRunsRequest {
                task: task.to_owned(),
                page_size: PAGE as u32,
                page_token: token,
                ..Default::default()
            })
            .await?
            .into_inner()
            .next_page_token;
        anyhow::ensure!(!token.is_empty(), "{task} has fewer than {depth} runs");
    }
    Ok(token)
}

/// Prunes one task through the store API as the daemon does after a run: the metadata of the
/// runs the policy looks at, the pure choice, the deletes. Returns (runs pruned, time taken).
fn prune(
    history: &dyn Store,
    task: &TaskName,
    max_keep: u32,
    retain_failures: Option<u32>,
) -> Result<(usize, Duration)> {
    let policy = Policy {
        max_keep: Some(max_keep),
        retain_failures,
        max_age: None,
    };
    let start = Instant::now();
    let unread = policy.kept_unread();
    let metas: Vec<_> = history
        .run_metas(&[(task.clone(), unread)])?
        .into_iter()
        .flat_map(|(_, metas)| metas)
        .collect();
    let doomed: Vec<(TaskName, RunId)> = prunable(unread, &metas, &policy, SystemClock.now())
        .into_iter()
        .map(|run| (task.clone(), run))
        .collect();
    history.delete_runs(&doomed)?;
    Ok((doomed.len(), start.elapsed()))
}

pub async fn run() -> Result<Report> {
    let dir = tempfile::tempdir().context("cannot create a temp dir")?;
    let data_dir = BenchDaemon::data_dir_of(dir.path());
    let fill_time = fill(&data_dir)?;
    let total_runs = (TASKS * RUNS_PER_TASK) as f64;
    let boot = Instant::now();
    let daemon = BenchDaemon::start_in(dir, &tasks_yaml(), Some(KEEP_ALL_HISTORY))?;
    let boot_time = boot.elapsed();
    let web = daemon
        .web_url()
        .context("the daemon logged no web address")?
        .to_owned();
    let task = "hist_042";
    let mut client = daemon.client().await?;

    let list_tasks = timed(|| {
        let mut client = client.clone();
        async move {
            // As many recent runs per task as the task list page asks for by default.
            client
                .list_tasks(pb::ListTasksRequest {
                    recent_runs: 10,
                    ..pb::ListTasksRequest::default()
                })
                .await?;
            Ok(())
        }
    })
    .await?;
    let first_page = timed(|| {
        let mut client = client.clone();
        async move {
            client
                .list_runs(pb::ListRunsRequest {
                    task: task.to_owned(),
                    page_size: 50,
                    page_token: String::new(),
                    ..Default::default()
                })
                .await?;
            Ok(())
        }
    })
    .await?;
    let token = deep_token(&daemon, task, 9_000).await?;
    let deep_page = timed(|| {
        let mut client = client.clone();
        let token = token.clone();
        async move {
            let page = client
                .list_runs(pb::ListRunsRequest {
                    task: task.to_owned(),
                    page_size: 50,
                    page_token: token,
                    ..Default::default()
                })
                .await?
                .into_inner();
            anyhow::ensure!(page.runs.len() == 50, "the deep page is not full");
            Ok(())
        }
    })
    .await?;
    let http = reqwest::Client::new();
    let task_page = timed(|| {
        let request = http.get(format!("{web}/tasks/{task}"));
        async move {
            request.send().await?.error_for_status()?.bytes().await?;
            Ok(())
        }
    })
    .await?;
    let task_list_page = timed(|| {
        let request = http.get(format!("{web}/"));
        async move {
            request.send().await?.error_for_status()?.bytes().await?;
            Ok(())
        }
    })
    .await?;
    let metrics = timed(|| {
        let mut client = client.clone();
        async move {
            client.get_metrics(pb::GetMetricsRequest {}).await?;
            Ok(())
        }
    })
    .await?;
    client.get_status(pb::GetStatusRequest {}).await?;

    // The store is shared with the live daemon, as it is when a run ends during a page load.
    let history = SqliteStore::open(&daemon.data_dir())?;
    let (steady_pruned, steady) = prune(&history, &task_name(7)?, 9_999, Some(10))?;
    let (count_pruned, count_only) = prune(&history, &task_name(9)?, 9_999, None)?;
    let (bulk_pruned, bulk) = prune(&history, &task_name(8)?, 1_000, Some(10))?;
    drop(daemon);

    let mut report = Report::new("history");
    report.add("runs in history", total_runs, "runs");
    report.add(
        "fill through the store API",
        total_runs / fill_time.as_secs_f64(),
        "runs/s",
    );
    report.add(
        "daemon start on this history",
        boot_time.as_secs_f64() * 1e3,
        "ms",
    );
    add_timed(&mut report, "ListTasks (10 recent runs each)", &list_tasks);
    add_timed(&mut report, "ListRuns first page (50)", &first_page);
    add_timed(&mut report, "ListRuns deep page (run 9000+)", &deep_page);
    add_timed(&mut report, "task page over HTTP", &task_page);
    add_timed(&mut report, "task list page over HTTP", &task_list_page);
    report.add("GetMetrics p50", percentile(&metrics, 50.0), "ms");
    report.at_most(
        &format!("prune after a run ({steady_pruned} of {RUNS_PER_TASK}, retain_failures)"),
        steady.as_secs_f64() * 1e3,
        "ms",
        TARGET_MS,
    );
    report.at_most(
        &format!("prune after a run ({count_pruned} of {RUNS_PER_TASK}, max_keep only)"),
        count_only.as_secs_f64() * 1e3,
        "ms",
        TARGET_MS,
    );
    report.add(
        &format!("bulk prune ({bulk_pruned} of {RUNS_PER_TASK})"),
        bulk.as_secs_f64() * 1e3,
        "ms",
    );
    report.note(format!(
        "{TASKS} tasks × {RUNS_PER_TASK} runs; each query timed {REPEATS}× from the client, median checked"
    ));
    Ok(report)
}
