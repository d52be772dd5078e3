//! GetMetrics: the metrics kept since start, with what the runtime and history say now, as
//! Prometheus text.
//!
//! It gathers the scrape's facts (one snapshot, one history query) and leaves naming, labels
//! and the format to `crate::metrics`; serving `/metrics` over HTTP is the gateway's job.
//! GetMetrics answers in one message, ScrapeMetrics in chunks of whole lines: thousands of tasks
//! make a text larger than one message should be.

use std::collections::HashMap;

use speedrack_proto::v1 as pb;
use tonic::Status;

use super::Service;
use crate::config::TaskEntry;
use crate::metrics::{NodeFacts, ScrapeFacts, TaskFacts};
use crate::nodes::tasks_file_differs;
use crate::runtime::Snapshot;

/// Lines are sent in chunks of about this many bytes.
const CHUNK_BYTES: usize = 64 << 10;
/// The most text GetMetrics sends in its one message, leaving room for the framing.
const MAX_ONE_REPLY: usize = speedrack_proto::MAX_MESSAGE_BYTES - 1024;

/// ScrapeMetrics' stream: the chunks of one rendered text.
pub type MetricsStream =
    tokio_stream::Iter<std::vec::IntoIter<Result<pb::ScrapeMetricsResponse, Status>>>;

pub async fn get_metrics(service: &Service) -> Result<pb::GetMetricsResponse, Status> {
    let text = metrics_text(service).await?;
    if text.len() > MAX_ONE_REPLY {
        return Err(Status::resource_exhausted(format!(
            "the metrics text is {} bytes, more than one reply carries; call ScrapeMetrics \
             (the gateway's /metrics does)",
            text.len()
        )));
    }
    Ok(pb::GetMetricsResponse { text })
}

pub async fn scrape_metrics(service: &Service) -> Result<MetricsStream, Status> {
    let text = metrics_text(service).await?;
    let chunks = chunks(&text, CHUNK_BYTES)
        .into_iter()
        .map(|text| Ok(pb::ScrapeMetricsResponse { text }))
        .collect::<Vec<_>>();
    Ok(tokio_stream::iter(chunks))
}

/// `text` in pieces of whole lines, each at most `size` bytes unless one line alone is longer.
fn chunks(text: &str, size: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut chunk = String::new();
    for line in text.split_inclusive('\n') {
        if !chunk.is_empty() && chunk.len() + line.len() > size {
            out.push(std::mem::take(&mut chunk));
        }
        chunk.push_str(line);
    }
    if !chunk.is_empty() {
        out.push(chunk);
    }
    out
}

async fn metrics_text(service: &Service) -> Result<String, Status> {
    let snapshot = service.snapshot().await?;
    let nodes = node_facts(service, &snapshot).await?;
    let summaries = service.history.task_summaries()?;
    let history: HashMap<_, _> = summaries
        .iter()
        .map(|summary| (&summary.task, summary))
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
            let history = history.get(task);
            TaskFacts {
                task: task.clone(),
                last_success: history.and_then(|summary| summary.last_success),
                last_failure: history.and_then(|summary| summary.last_failure),
                last_status: history.and_then(|summary| summary.last_status),
                next_fire: live.and_then(|live| live.next_fire),
                running: live.map_or(0, |live| live.running.len()),
            }
        })
        .collect();
    let facts = ScrapeFacts {
        tasks,
        history_runs: summaries.iter().map(|summary| summary.runs).sum(),
        history_output_bytes: summaries.iter().map(|summary| summary.output_bytes).sum(),
        nodes,
    };
    service
        .metrics
        .render(&facts)
        .map_err(|error| Status::internal(format!("cannot render the metrics: {error}")))
}

/// The node list ListNodes shows, as the metrics' facts.
async fn node_facts(service: &Service, snapshot: &Snapshot) -> Result<Vec<NodeFacts>, Status> {
    let nodes = service.nodes(snapshot).await?;
    let this_hash = nodes
        .iter()
        .find(|node| node.this_node)
        .map_or("", |node| node.tasks_file_hash.as_str());
    Ok(nodes
        .iter()
        .map(|node| NodeFacts {
            node: node.name.to_string(),
            up: node.up,
            busy: node.up && node.busy,
            clock_offset_seconds: node.clock_offset.num_milliseconds() as f64 / 1000.0,
            tasks_file_differs: tasks_file_differs(node, this_hash),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::chunks;

    #[test]
    fn chunks_are_whole_lines_that_add_up_to_the_text() {
        let text = "a 1\nbb 22\nccc 333\n";
        assert_eq!(chunks(text, 10), ["a 1\nbb 22\n", "ccc 333\n"]);
        assert_eq!(chunks(text, 3), ["a 1\n", "bb 22\n", "ccc 333\n"]);
        assert_eq!(chunks(text, 1000), [text]);
        assert!(chunks("", 10).is_empty());
        assert_eq!(chunks("no newline", 4), ["no newline"]);
    }
}
