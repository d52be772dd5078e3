//! WatchEvents: forwards the daemon's event channel to one client as a gRPC stream.
//!
//! A client that reads too slowly falls behind the channel and loses events; it is told how
//! many (`events_dropped`), never left to show a stale picture unawares.

use speedrack_proto::v1 as pb;
use speedrack_proto::v1::watch_events_response::Event as PbEvent;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tonic::Status;

use super::{Api, EventStream, convert, tasks};
use crate::events::{Event, Stamped};

/// Events buffered per client before the forwarder waits for it.
const CLIENT_BUFFER: usize = 64;

pub fn watch_events(api: &Api) -> EventStream {
    let mut events = api.events.subscribe();
    let (sender, receiver) = mpsc::channel(CLIENT_BUFFER);
    let api = api.clone();
    let mut stopping = api.stopping.clone();
    tokio::spawn(async move {
        loop {
            let received = tokio::select! {
                received = events.recv() => received,
                _ = stopping.wait_for(|stopping| *stopping) => return,
            };
            let message = match received {
                Ok(stamped) => to_message(&api, stamped).await,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "an event watcher fell behind and missed events");
                    Ok(dropped(missed))
                }
                Err(RecvError::Closed) => return,
            };
            if sender.send(message).await.is_err() {
                return; // the client went away
            }
        }
    });
    EventStream::new(receiver)
}

/// Tells a watcher that `count` events passed it by.
fn dropped(count: u64) -> pb::WatchEventsResponse {
    pb::WatchEventsResponse {
        event: Some(PbEvent::EventsDropped(pb::EventsDropped { count })),
        ..pb::WatchEventsResponse::default()
    }
}

async fn to_message(api: &Api, stamped: Stamped) -> Result<pb::WatchEventsResponse, Status> {
    let event = match stamped.event {
        Event::RunStarted(record) => PbEvent::RunStarted(convert::run(&record)),
        Event::RunFinished(record) => PbEvent::RunFinished(convert::run(&record)),
        Event::TaskChanged(change) => {
            PbEvent::TaskChanged(tasks::task_summary(api, change.task.as_str()).await?)
        }
        Event::ConfigReloaded(diff) => PbEvent::ConfigReloaded(convert::reload_diff(&diff)),
    };
    Ok(pb::WatchEventsResponse {
        at: Some(convert::timestamp(stamped.at)),
        event: Some(event),
        ..pb::WatchEventsResponse::default()
    })
}
