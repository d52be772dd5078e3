//! WatchEvents: forwards the event feed (`event_feed`) to one client as a gRPC stream, from
//! where the client resumes (held events first, then live ones, no gap and no repeat).
//!
//! A client that reads too slowly falls behind the feed and loses events; it is told how
//! many (`events_dropped`), never left to show a stale picture unawares. Converting events is
//! the feed's business, once for all watchers.

use std::sync::Arc;

use speedrack_proto::v1 as pb;
use speedrack_proto::v1::watch_events_response::Event as PbEvent;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tonic::Status;

use super::event_feed::{EventFeed, Resume, Slot};
use super::{EventStream, Service};

/// Events buffered per client before the forwarder waits for it.
const CLIENT_BUFFER: usize = 64;

type Sender = mpsc::Sender<Result<pb::WatchEventsResponse, Status>>;

pub fn watch_events(service: &Service, request: &pb::WatchEventsRequest) -> EventStream {
    let (mut live, resume) = service.feed.watch(request.after_sequence, request.epoch);
    let (sender, receiver) = mpsc::channel(CLIENT_BUFFER);
    let feed = service.feed.clone();
    let mut stopping = service.stopping.clone();
    tokio::spawn(async move {
        let Some(mut last) = replay(&feed, resume, &sender).await else {
            return;
        };
        loop {
            let received = tokio::select! {
                received = live.recv() => received,
                _ = stopping.wait_for(|stopping| *stopping) => return,
            };
            let message = match received {
                // Already replayed.
                Ok(slot) if slot.sequence() <= last => continue,
                Ok(slot) => {
                    last = slot.sequence();
                    live_message(&feed, slot).await
                }
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

/// Sends what the client missed, or says it cannot; returns the last number it was sent or
/// skipped, `None` when the client went away.
async fn replay(feed: &EventFeed, resume: Resume<Arc<Slot>>, sender: &Sender) -> Option<u64> {
    match resume {
        Resume::Replay { held, last } => {
            send_held(feed, &held, sender).await?;
            Some(last)
        }
        Resume::Restarted { held, last } => {
            sender.send(Ok(dropped(0))).await.ok()?;
            send_held(feed, &held, sender).await?;
            Some(last)
        }
        Resume::Dropped(count) => {
            sender.send(Ok(dropped(count))).await.ok()?;
            Some(0)
        }
    }
}

/// Sends held events in order; `None` when the client went away.
async fn send_held(feed: &EventFeed, held: &[(u64, Arc<Slot>)], sender: &Sender) -> Option<()> {
    // Off the async workers: thousands of rows read from history would stall the runtime
    // loop that shares them (as a task listing would, see `tasks`).
    for batch in held.chunks(CLIENT_BUFFER) {
        let (feed, batch) = (feed.clone(), batch.to_vec());
        let messages = tokio::task::spawn_blocking(move || {
            batch
                .iter()
                .map(|(_, slot)| message(&feed, slot))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_else(|error| {
            vec![Err(Status::internal(format!(
                "replaying events failed: {error}"
            )))]
        });
        for message in messages {
            sender.send(message).await.ok()?;
        }
    }
    Some(())
}

fn message(feed: &EventFeed, slot: &Slot) -> Result<pb::WatchEventsResponse, Status> {
    feed.message(slot).map(Arc::unwrap_or_clone)
}

/// A live event's message. A task's row is read from history on a blocking thread: the async
/// workers serve every other call, and a burst of runs ending is a burst of rows.
async fn live_message(
    feed: &EventFeed,
    slot: Arc<Slot>,
) -> Result<pb::WatchEventsResponse, Status> {
    if !slot.reads_history() {
        return message(feed, &slot);
    }
    let feed = feed.clone();
    tokio::task::spawn_blocking(move || message(&feed, &slot))
        .await
        .unwrap_or_else(|error| {
            Err(Status::internal(format!(
                "converting an event failed: {error}"
            )))
        })
}

/// Tells a watcher that `count` events passed it by.
fn dropped(count: u64) -> pb::WatchEventsResponse {
    pb::WatchEventsResponse {
        event: Some(PbEvent::EventsDropped(pb::EventsDropped { count })),
        ..pb::WatchEventsResponse::default()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use chrono::{TimeZone, Utc};
    use tokio_stream::StreamExt;

    use super::*;
    use crate::config::{TaskName, parse_tasks};
    use crate::events::{Event, Stamped, TaskChange};
    use crate::rpc::test_api;
    use crate::runtime::LiveState;

    #[tokio::test]
    async fn watchers_get_a_changed_row_with_its_recent_runs_without_asking_the_runtime_loop() {
        let mut test = test_api::start();
        let tick = TaskName::normalise("tick").expect("name");
        let started = Utc
            .with_ymd_and_hms(2026, 3, 28, 0, 0, 0)
            .single()
            .expect("instant");
        let ids: Vec<i64> = (0..3)
            .map(|_| {
                let run = crate::history::NewRun {
                    task: &tick,
                    trigger: &crate::run::Trigger::Schedule,
                    scheduled_at: started,
                    started_at: started,
                    definition: "",
                    pays_owed: false,
                    claim: crate::history::Claim::None,
                };
                test.history.insert_run(&run).expect("a run").0
            })
            .collect();
        let mut watchers: Vec<_> = (0..3)
            .map(|_| watch_events(&test.service, &pb::WatchEventsRequest::default()))
            .collect();
        let yaml = "tasks:\n  - {name: tick, command: 'true', interval: 1h}\n";
        let tasks = parse_tasks(yaml, Path::new("tasks.yaml"), chrono_tz::Tz::UTC).expect("tasks");
        let change = TaskChange {
            task: tick.clone(),
            tasks: Arc::new(tasks),
            index: Some(0),
            live: Some(LiveState {
                suspended: true,
                ..LiveState::default()
            }),
            recent_runs: 2,
        };
        let at = Utc
            .with_ymd_and_hms(2026, 3, 29, 0, 0, 0)
            .single()
            .expect("instant");
        test.events.announce(Stamped {
            at,
            event: Event::TaskChanged(change),
        });
        for watcher in &mut watchers {
            let message = tokio::time::timeout(Duration::from_secs(10), watcher.next())
                .await
                .expect("the row arrives without the loop")
                .expect("the stream is open")
                .expect("the row was built");
            assert_eq!((message.sequence, message.epoch), (1, test_api::EPOCH));
            let Some(PbEvent::TaskChanged(task)) = message.event else {
                panic!("a task_changed event, got {message:?}");
            };
            assert_eq!(task.name, "tick");
            assert_eq!(task.status(), pb::TaskStatus::Suspended);
            assert_eq!(task.schedule, "every 1h");
            assert_eq!(task.runs_retained, 3);
            let recent: Vec<i64> = task.recent_runs.iter().map(|run| run.id).collect();
            assert_eq!(
                recent,
                [ids[2], ids[1]],
                "the row's newest runs, newest first"
            );
        }
        assert!(
            test.loop_queue.try_recv().is_err(),
            "no watcher asked the runtime loop for anything"
        );
    }
}
