//! Live updates over Server-Sent Events: the daemon's WatchEvents relayed as "something changed"
//! nudges or, for the tasks page, as the changed rows (`relay.rs`), and a running run's output
//! relayed from TailOutput as it is written (`tail.rs`).
//!
//! After a nudge htmx fetches the live part of the page again (`views/layout.rs`), so a page
//! always shows what a reload would. Each subscription has its own upstream call; nothing is
//! polled here. Pages name their subscriptions by these streams' URLs, and a browser carries all
//! of them on one `/live` stream (`live.rs`), so its tabs never use up its connections.

mod coalesce;
mod event_id;
mod live;
mod message;
mod react;
mod relay;
mod tail;

use std::convert::Infallible;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};

pub use live::live;
pub use tail::{complete_utf8_len, output_text, tail};

use crate::context::Ctx;
use crate::names::TaskName;
use crate::state::AppState;
use crate::views::layout::Chrome;
use event_id::EventId;
use message::{Message, Sink};
use react::{Listener, RowPage};

/// A stream of its own: each message as plain SSE.
fn sse_response(messages: mpsc::Receiver<Message>) -> Response {
    let stream = ReceiverStream::new(messages).map(Message::plain);
    sse_of(stream)
}

fn sse_of(stream: impl tokio_stream::Stream<Item = Event> + Send + 'static) -> Response {
    let stream = stream.map(Ok::<Event, Infallible>);
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    // Reverse proxies must pass events on as they come.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// Waits for the next message of an optional stream; never completes for `None`.
async fn next_of<T>(stream: &mut Option<Streaming<T>>) -> Option<Result<T, Status>> {
    match stream {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    }
}

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    pub task: Option<String>,
    pub rows: Option<String>,
}

/// GET /events[?task=NAME | ?rows=tasks]: the daemon's events as each page needs them (see
/// `relay.rs`). A browser that reconnects with `Last-Event-ID` resumes after that event.
pub async fn events(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(query): Query<EventsQuery>,
) -> Response {
    let Some(listener) = listener(&ctx, &query) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let resume = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(EventId::parse);
    let (sender, receiver) = mpsc::channel(16);
    tokio::spawn(relay::relay(state, listener, resume, Sink::new(sender, 0)));
    sse_response(receiver)
}

/// Who listens on `/events?{query}`; `None` for a query that names nothing.
fn listener(ctx: &Ctx, query: &EventsQuery) -> Option<Listener> {
    match (query.task.as_deref(), query.rows.as_deref()) {
        (None, None) => Some(Listener::All),
        (Some(task), None) => TaskName::parse(task).map(Listener::Task),
        (None, Some("tasks")) => Some(Listener::TaskRows(RowPage {
            chrome: Chrome {
                // The rows' forms come back to the tasks page, not here.
                here: "/".to_owned(),
                ..ctx.chrome.clone()
            },
            hide_inactive: ctx.hide_inactive,
        })),
        _ => None,
    }
}
