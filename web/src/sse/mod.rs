//! Live updates over Server-Sent Events: the daemon's WatchEvents relayed as "something changed"
//! nudges, and a running run's output relayed from TailOutput as it is written.
//!
//! Pages do not receive data through `/events`, only the name of what changed; htmx then fetches
//! the live part of the page again (`views/layout.rs`), so a page always shows what a reload
//! would. Each browser stream has its own upstream call; nothing is buffered or polled here.

mod tail;

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use speedrack_proto::v1 as pb;
use speedrack_proto::v1::watch_events_response::Event as Watched;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};

pub use tail::{complete_utf8_len, output_text, tail};

use crate::names::TaskName;
use crate::state::AppState;

/// How long a browser waits before reconnecting a stream that ended (e.g. daemon restarting).
const RETRY: Duration = Duration::from_secs(2);

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
}

/// GET /events[?task=NAME]: a `changed` event (data: the task's name, or `*`) whenever runs
/// start or finish, tasks change or the configuration is reloaded (and `*` when the daemon
/// dropped events this relay was too slow to take), and a `started` event
/// (data: the task's name) when a run starts.
pub async fn events(State(state): State<AppState>, Query(query): Query<EventsQuery>) -> Response {
    let task = match query.task.as_deref().map(TaskName::parse) {
        None => None,
        Some(Some(task)) => Some(task),
        Some(None) => return StatusCode::NOT_FOUND.into_response(),
    };
    let (sender, receiver) = mpsc::channel(16);
    tokio::spawn(relay_events(state, task, sender));
    sse_response(receiver)
}

fn changed(what: &str) -> Event {
    Event::default().event("changed").data(what)
}

fn started(task: &str) -> Event {
    Event::default().event("started").data(task)
}

/// The task an event concerns (`*` for all), if the listener cares about it.
fn concerns(message: &pb::WatchEventsResponse, only: Option<&TaskName>) -> Option<String> {
    let name = match message.event.as_ref()? {
        Watched::RunStarted(run) | Watched::RunFinished(run) => &run.task,
        Watched::TaskChanged(task) => &task.name,
        // Dropped events may have concerned anything: every listener refreshes all it shows.
        Watched::ConfigReloaded(_) | Watched::EventsDropped(_) => return Some("*".to_owned()),
    };
    match only {
        Some(only) if only.as_str() != name => None,
        _ => Some(name.clone()),
    }
}

async fn relay_events(state: AppState, only: Option<TaskName>, sender: mpsc::Sender<Event>) {
    let upstream = state.api().watch().await;
    // The page may have been rendered before this subscription: one refresh now closes the
    // gap (`started` too, for a view waiting for the next run). When the daemon is unreachable
    // this is all, and the browser retries after RETRY.
    for event in [changed("*").retry(RETRY), started("*")] {
        if sender.send(event).await.is_err() {
            return;
        }
    }
    let Ok(mut upstream) = upstream else {
        return;
    };
    loop {
        let message = tokio::select! {
            message = upstream.next() => message,
            () = sender.closed() => return,
            () = state.stopping() => return,
        };
        let Some(Ok(message)) = message else {
            // The daemon went away: one last refresh shows the banner.
            let _ = sender.send(changed("*")).await;
            return;
        };
        let Some(name) = concerns(&message, only.as_ref()) else {
            continue;
        };
        if sender.send(changed(&name)).await.is_err() {
            return;
        }
        // A new run: the task page's "newest run" moves on to it.
        if matches!(message.event, Some(Watched::RunStarted(_)))
            && sender.send(started(&name)).await.is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_hear_about_their_task_only() {
        let finished = |task: &str| pb::WatchEventsResponse {
            event: Some(Watched::RunFinished(pb::Run {
                task: task.to_owned(),
                ..pb::Run::default()
            })),
            ..pb::WatchEventsResponse::default()
        };
        let winner = TaskName::parse("winner");
        assert_eq!(
            concerns(&finished("winner"), winner.as_ref()).as_deref(),
            Some("winner")
        );
        assert_eq!(concerns(&finished("other"), winner.as_ref()), None);
        assert_eq!(concerns(&finished("other"), None).as_deref(), Some("other"));
        let reload = pb::WatchEventsResponse {
            event: Some(Watched::ConfigReloaded(pb::ReloadResponse::default())),
            ..pb::WatchEventsResponse::default()
        };
        assert_eq!(concerns(&reload, winner.as_ref()).as_deref(), Some("*"));
        let dropped = pb::WatchEventsResponse {
            event: Some(Watched::EventsDropped(pb::EventsDropped { count: 3 })),
            ..pb::WatchEventsResponse::default()
        };
        assert_eq!(concerns(&dropped, winner.as_ref()).as_deref(), Some("*"));
    }
}
