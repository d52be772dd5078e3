//! Live updates over Server-Sent Events: the daemon's WatchEvents relayed as "something changed"
//! nudges or, for the tasks page, as the changed rows (`relay.rs`), and a running run's output
//! relayed from TailOutput as it is written (`tail.rs`).
//!
//! After a nudge htmx fetches the live part of the page again (`views/layout.rs`), so a page
//! always shows what a reload would. Each browser stream has its own upstream call; nothing is
//! polled here.

mod coalesce;
mod event_id;
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

pub use tail::{complete_utf8_len, output_text, tail};

use crate::context::Ctx;
use crate::names::TaskName;
use crate::state::AppState;
use crate::views::layout::Chrome;
use event_id::EventId;
use react::{Listener, RowPage};

fn sse_response(events: mpsc::Receiver<Event>) -> Response {
    let stream = ReceiverStream::new(events).map(Ok::<Event, Infallible>);
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
    task: Option<String>,
    rows: Option<String>,
}

/// GET /events[?task=NAME | ?rows=tasks]: the daemon's events as each page needs them (see
/// `relay.rs`). A browser that reconnects with `Last-Event-ID` resumes after that event.
pub async fn events(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(query): Query<EventsQuery>,
) -> Response {
    let listener = match (query.task.as_deref(), query.rows.as_deref()) {
        (None, None) => Listener::All,
        (Some(task), None) => match TaskName::parse(task) {
            Some(task) => Listener::Task(task),
            None => return StatusCode::NOT_FOUND.into_response(),
        },
        (None, Some("tasks")) => Listener::TaskRows(RowPage {
            chrome: Chrome {
                // The rows' forms come back to the tasks page, not here.
                here: "/".to_owned(),
                ..ctx.chrome
            },
            hide_inactive: ctx.hide_inactive,
        }),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let resume = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(EventId::parse);
    let (sender, receiver) = mpsc::channel(16);
    tokio::spawn(relay::relay(state, listener, resume, sender));
    sse_response(receiver)
}
