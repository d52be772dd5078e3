//! `lateness`: 50 tasks firing every second; how late each child really starts.
//!
//! The child is `date +%s%N`, which `sh -c` execs directly, so its stdout is the instant the
//! command began (after the fork and both execs). Lateness is that instant minus the run's
//! `scheduled_at`. The daemon's own `started_at` is reported beside it.

use std::time::Duration;

use anyhow::{Context, Result};
use speedrack_proto::v1 as pb;
use speedrack_proto::v1::speedrack_client::SpeedrackClient;
use tonic::transport::Channel;

use super::daemon::BenchDaemon;
use super::report::{Report, percentile};

const TASKS: usize = 50;

fn tasks_yaml() -> String {
    let mut yaml = String::from("tasks:\n");
    for index in 0..TASKS {
        yaml.push_str(&format!(
            "  - name: late_{index}\n    command: date +%s%N\n    cron: '* * * * * *'\n    max_keep: 100000\n"
        ));
    }
    yaml
}

/// Nanoseconds since the epoch of a protobuf timestamp.
pub fn nanos(timestamp: Option<&prost_types::Timestamp>) -> Option<i128> {
    timestamp.map(|t| i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos))
}

/// Every scheduled run of `task`, all pages.
pub async fn all_runs(client: &mut SpeedrackClient<Channel>, task: &str) -> Result<Vec<pb::Run>> {
    let mut runs = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_runs(pb::ListRunsRequest {
                task: task.to_owned(),
                page_size: 500,
                page_token: page_token.clone(),
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

/// Runs the scenario for `seconds`.
pub async fn run(seconds: u64) -> Result<Report> {
    let daemon = BenchDaemon::start(&tasks_yaml(), None)?;
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let mut client = daemon.client().await?;
    let mut child_late = Vec::new();
    let mut daemon_late = Vec::new();
    for index in 0..TASKS {
        for run in all_runs(&mut client, &format!("late_{index}")).await? {
            let Some(due) = nanos(run.scheduled_at.as_ref()) else {
                continue;
            };
            if let Some(started) = nanos(run.started_at.as_ref()) {
                daemon_late.push((started - due) as f64 / 1e6);
            }
            if let Some(child) = child_start(&mut client, run.id).await? {
                child_late.push((child - due) as f64 / 1e6);
            }
        }
    }
    drop(daemon);
    child_late.sort_by(f64::total_cmp);
    daemon_late.sort_by(f64::total_cmp);
    let mut report = Report::new("lateness");
    report.add("runs measured", child_late.len() as f64, "runs");
    report.add(
        "child start lateness p50",
        percentile(&child_late, 50.0),
        "ms",
    );
    report.at_most(
        "child start lateness p99",
        percentile(&child_late, 99.0),
        "ms",
        2.0,
    );
    report.at_most(
        "child start lateness max",
        percentile(&child_late, 100.0),
        "ms",
        10.0,
    );
    report.add(
        "daemon started_at lateness p50",
        percentile(&daemon_late, 50.0),
        "ms",
    );
    report.add(
        "daemon started_at lateness p99",
        percentile(&daemon_late, 99.0),
        "ms",
    );
    report.add(
        "daemon started_at lateness max",
        percentile(&daemon_late, 100.0),
        "ms",
    );
    report.note(format!(
        "{TASKS} tasks on cron '* * * * * *' for {seconds} s; child = date +%s%N exec'd by sh -c"
    ));
    Ok(report)
}
