//! Reading the gateway's Server-Sent Events over real HTTP, as a browser's EventSource does:
//! fields `event`, `data`, `id`, events ending at a blank line, keep-alive comments skipped.
//!
//! It reads only; it does not reconnect by itself (a test reopens with `Last-Event-ID` to show
//! what a browser would).

use std::time::Duration;

use crate::WAIT;

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// `message` when the stream named none.
    pub event: String,
    pub data: String,
    /// The `id:` field of this event, if it had one.
    pub id: Option<String>,
}

/// An open event stream.
pub struct SseStream {
    response: reqwest::Response,
    buffer: String,
}

impl SseStream {
    /// GETs `url` as an event stream, sending `last_event_id` as a reconnecting browser does.
    pub async fn open(url: &str, last_event_id: Option<&str>) -> SseStream {
        // No total timeout: the stream outlives any single wait; each read has its own.
        let mut request = reqwest::Client::new()
            .get(url)
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = tokio::time::timeout(WAIT, request.send())
            .await
            .unwrap_or_else(|_| panic!("{url} did not answer within {WAIT:?}"))
            .unwrap_or_else(|error| panic!("GET {url}: {error}"));
        assert_eq!(response.status(), 200, "GET {url}");
        SseStream {
            response,
            buffer: String::new(),
        }
    }

    /// The next event, or `None` if the stream ends or nothing comes within `timeout`.
    pub async fn next_within(&mut self, timeout: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse(&block) {
                    return Some(event);
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Events up to and including the first that `pick` accepts; panics naming `what` and the
    /// events seen if none comes within the wait.
    pub async fn until(&mut self, what: &str, pick: impl Fn(&SseEvent) -> bool) -> Vec<SseEvent> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(event) = self.next_within(left).await else {
                panic!("no {what} within {WAIT:?}; events seen: {seen:#?}");
            };
            let found = pick(&event);
            seen.push(event);
            if found {
                return seen;
            }
        }
    }
}

/// One block of lines as an event; `None` for a block without data (a comment, a retry).
fn parse(block: &str) -> Option<SseEvent> {
    let mut event = SseEvent::default();
    let mut data = Vec::new();
    for line in block.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => event.event = value.to_owned(),
            "data" => data.push(value),
            "id" => event.id = Some(value.to_owned()),
            _ => {}
        }
    }
    if data.is_empty() {
        return None;
    }
    if event.event.is_empty() {
        event.event = "message".to_owned();
    }
    event.data = data.join("\n");
    Some(event)
}
