//! Waiting for things the daemon announces on its WatchEvents stream.

use std::time::Duration;

use speedrack_proto::v1 as pb;
use speedrack_proto::v1::watch_events_response::Event;
use tokio_stream::StreamExt;
use tonic::Streaming;

/// An open WatchEvents stream. Open it before causing the event you wait for.
pub struct EventWatch {
    stream: Streaming<pb::WatchEventsResponse>,
}

impl EventWatch {
    pub fn new(stream: Streaming<pb::WatchEventsResponse>) -> EventWatch {
        EventWatch { stream }
    }

    /// The next event matching `pick`, or `None` if none comes within `timeout`.
    pub async fn next_matching<T>(
        &mut self,
        timeout: Duration,
        mut pick: impl FnMut(Event) -> Option<T>,
    ) -> Option<T> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let message = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            let event = message
                .expect("event stream stays healthy")
                .event
                .expect("every event has a body");
            if let Some(found) = pick(event) {
                return Some(found);
            }
        }
    }

    /// The next finished run of `task`, within `timeout`.
    pub async fn run_finished(&mut self, task: &str, timeout: Duration) -> Option<pb::Run> {
        self.next_matching(timeout, |event| match event {
            Event::RunFinished(run) if run.task == task => Some(run),
            _ => None,
        })
        .await
    }

    /// The next started run of `task`, within `timeout`.
    pub async fn run_started(&mut self, task: &str, timeout: Duration) -> Option<pb::Run> {
        self.next_matching(timeout, |event| match event {
            Event::RunStarted(run) if run.task == task => Some(run),
            _ => None,
        })
        .await
    }
}
