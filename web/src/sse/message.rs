//! What the relays send, before it is written as SSE: one event of one subscription, and the
//! sink a relay writes into.
//!
//! A relay does not know whether its browser stream is its own (`/events`, `/tail`) or shared
//! with the other subscriptions of a browser (`/live`, see `live.rs`); only the last step,
//! `plain` or `tagged`, differs. Nothing here buffers beyond the channel it is given.

use std::time::Duration;

use axum::response::sse::Event;
use tokio::sync::mpsc;

/// One event as a relay means it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Which subscription of the stream it belongs to (0 on a stream of its own).
    pub sub: u32,
    /// The SSE event type the page listens for (`changed`, `rows`, `stdout`, `finished`, ...);
    /// empty for a message of SSE fields only (`retry`).
    pub event: &'static str,
    pub data: String,
    /// Where a subscription that reconnects resumes after this event, if anywhere.
    pub id: Option<String>,
    /// How long the browser waits before reconnecting a stream of its own.
    pub retry: Option<Duration>,
}

impl Message {
    pub fn new(event: &'static str, data: impl Into<String>) -> Message {
        Message {
            sub: 0,
            event,
            data: data.into(),
            id: None,
            retry: None,
        }
    }

    /// Only the browser's reconnection delay, for a stream of its own.
    pub fn retry_only(retry: Duration) -> Message {
        Message::new("", "").retry(retry)
    }

    pub fn id(self, id: String) -> Message {
        Message {
            id: Some(id),
            ..self
        }
    }

    pub fn retry(self, retry: Duration) -> Message {
        Message {
            retry: Some(retry),
            ..self
        }
    }

    /// As SSE on a stream of its own: the event type, id and retry as SSE fields.
    pub fn plain(self) -> Event {
        let mut event = Event::default();
        if !self.event.is_empty() {
            event = event.event(self.event).data(self.data);
        }
        if let Some(id) = self.id {
            event = event.id(id);
        }
        if let Some(retry) = self.retry {
            event = event.retry(retry);
        }
        event
    }

    /// As SSE on a shared stream: an unnamed event whose data is `SUB\nEVENT\nID\nDATA` (the
    /// id may be empty). The SSE id and retry stay unset: the browser's side resumes each
    /// subscription by itself (`speedrack-worker.js`); so a message of fields only is none.
    pub fn tagged(self) -> Option<Event> {
        if self.event.is_empty() {
            return None;
        }
        let id = self.id.unwrap_or_default();
        let data = format!("{}\n{}\n{id}\n{}", self.sub, self.event, self.data);
        Some(Event::default().data(data))
    }
}

/// Where one subscription's relay sends its messages.
#[derive(Debug, Clone)]
pub struct Sink {
    sender: mpsc::Sender<Message>,
    sub: u32,
}

impl Sink {
    pub fn new(sender: mpsc::Sender<Message>, sub: u32) -> Sink {
        Sink { sender, sub }
    }

    /// Sends one message; false when the browser went away.
    pub async fn send(&self, message: Message) -> bool {
        let message = Message {
            sub: self.sub,
            ..message
        };
        self.sender.send(message).await.is_ok()
    }

    /// Completes when the browser went away.
    pub async fn closed(&self) {
        self.sender.closed().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tagged_message_carries_its_subscription_type_and_id_in_its_data() {
        let message = Message {
            sub: 3,
            ..Message::new("stdout", "a\nb")
        };
        let wire = format!("{:?}", message.clone().id("4:-".to_owned()).tagged());
        assert!(
            Message::retry_only(Duration::from_secs(2))
                .tagged()
                .is_none()
        );
        assert!(
            wire.contains("data: 3\\ndata: stdout\\ndata: 4:-\\ndata: a\\ndata: b"),
            "{wire}"
        );
        assert!(!wire.contains("event:"), "{wire}");
        let wire = format!("{:?}", message.tagged());
        assert!(
            wire.contains("data: 3\\ndata: stdout\\ndata: \\ndata: a"),
            "{wire}"
        );
    }
}
