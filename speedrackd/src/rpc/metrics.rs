//! GetMetrics: the metrics kept since start, with what the runtime and history say now, as
//! Prometheus text.
//!
//! It gathers the scrape's facts (one snapshot, one history query) and leaves naming, labels
//! and the format to `crate::metrics`; serving `/metrics` over HTTP is the gateway's job.

use std::collections::HashMap;

use speedrack_proto::v1 as pb;
use tonic::Status;

use super::Api;
use crate::config::TaskEntry;
use crate::metrics::{ScrapeFacts, TaskFacts};

pub async fn get_metrics(api: &Api) -> Result<pb::GetMetricsResponse, Status> {
    let snapshot = api.snapshot().await?;
    let summaries = api.history.task_summaries()?;
    let last_success: HashMap<_, _> = summaries
        .iter()
        .filter_map(|summary| Some((&summary.task, summary.last_success?)))
        .collect();
    // Broken tasks stay listed: a task that stopped running because its entry broke should
    // look stale, not vanish.
    let tasks = snapshot
        .tasks
        .entries
        .iter()
        .filter_map(TaskEntry::name)
        .map(|task| {
            let live = snapshot.live.get(task);
            TaskFacts {
                task: task.clone(),
                last_success: last_success.get(task).copied(),
                next_fire: live.and_then(|live| live.next_fire),
                running: live.map_or(0, |live| live.running.len()),
            }
        })
        .collect();
    let facts = ScrapeFacts {
        tasks,
        history_runs: summaries.iter().map(|summary| summary.runs).sum(),
        history_output_bytes: summaries.iter().map(|summary| summary.output_bytes).sum(),
    };
    let text = api
        .metrics
        .render(&facts)
        .map_err(|error| Status::internal(format!("cannot render the metrics: {error}")))?;
    Ok(pb::GetMetricsResponse { text })
}
