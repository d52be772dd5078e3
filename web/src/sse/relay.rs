//! One browser's `/events` stream: the daemon's WatchEvents, turned into what its page needs.
//!
//! Task pages (and the error page) get `changed` nudges and fetch their live part again. The
//! tasks page gets the changed rows themselves (`rows`, rendered here with the same view as the
//! page, coalesced per task over `coalesce::WINDOW`); only what changes the table's membership or
//! order (a reload, dropped events) makes it fetch everything again.
//!
//! Every event sent carries, as its `id:`, the newest daemon event whose effect the browser has
//! been sent (none while rows are held): a browser that reconnects resumes after it, and the
//! daemon sends what was missed or says it cannot (EventsDropped: refresh everything).
//! Nothing here is kept beyond one stream; the held rows are bounded by `coalesce::MAX_ROWS`.

use std::time::Duration;

use speedrack_proto::v1 as pb;
use speedrack_proto::v1::watch_events_response::Event as Watched;
use tokio::time::Instant;
use tokio_stream::StreamExt;
use tonic::{Status, Streaming};

use super::coalesce::{Added, PendingRows};
use super::event_id::EventId;
use super::message::{Message, Sink};
use super::react::{ALL, Listener, Reaction, RowPage, react};
use crate::state::AppState;
use crate::urls::Urls;
use crate::views;
use crate::views::layout::Chrome;
use crate::views::tasks::ROWS_EVENT;

/// How long a browser waits before reconnecting a stream that ended (e.g. daemon restarting).
const RETRY: Duration = Duration::from_secs(2);

fn changed(what: &str) -> Message {
    Message::new("changed", what)
}

fn started(task: &str) -> Message {
    Message::new("started", task)
}

/// Relays events to `sink` until the browser or the daemon goes away, or the gateway stops.
/// `resume` is the id the browser last received (its `Last-Event-ID`).
pub async fn relay(state: AppState, listener: Listener, resume: Option<EventId>, sink: Sink) {
    let (epoch, after) = resume.map_or((0, 0), |id| (id.epoch, id.sequence));
    let upstream = state.api().watch(epoch, after).await;
    let mut relay = Relay {
        state,
        listener,
        sink,
        pending: PendingRows::default(),
        seen: resume,
    };
    let opening = match (&upstream, resume, &relay.listener) {
        // The daemon sends what this browser missed, or opens with EventsDropped.
        (Ok(_), Some(_), _) => vec![Message::retry_only(RETRY)],
        // The page may have been rendered before this subscription: one refresh now closes the
        // gap (`started` too, for a task page waiting for the next run). When the daemon is
        // unreachable this is all, and the browser retries after RETRY.
        (_, _, Listener::TaskRows(_)) => vec![changed(ALL).retry(RETRY)],
        _ => vec![changed(ALL).retry(RETRY), started(ALL)],
    };
    if !relay.send(opening).await {
        return;
    }
    if let Ok(upstream) = upstream {
        relay.run(upstream).await;
    }
}

/// What woke the relay.
enum Step {
    Message(Option<Result<Box<pb::WatchEventsResponse>, Status>>),
    RowsDue,
    Stop,
}

struct Relay {
    state: AppState,
    listener: Listener,
    sink: Sink,
    pending: PendingRows,
    /// The newest numbered daemon event received.
    seen: Option<EventId>,
}

impl Relay {
    async fn run(&mut self, mut upstream: Streaming<pb::WatchEventsResponse>) {
        loop {
            let step = tokio::select! {
                message = upstream.next() => Step::Message(message.map(|got| got.map(Box::new))),
                () = until(self.pending.due()) => Step::RowsDue,
                () = self.sink.closed() => Step::Stop,
                () = self.state.stopping() => Step::Stop,
            };
            let going_on = match step {
                Step::Message(Some(Ok(message))) => self.take(&message).await,
                Step::RowsDue => self.flush().await,
                Step::Stop => false,
                Step::Message(_) => {
                    // The daemon went away: one last refresh shows the banner.
                    self.pending.clear();
                    self.send(vec![changed(ALL)]).await;
                    false
                }
            };
            if !going_on {
                return;
            }
        }
    }

    /// Acts on one daemon event; false when the browser went away.
    async fn take(&mut self, message: &pb::WatchEventsResponse) -> bool {
        if let Some(id) = EventId::of(message) {
            self.seen = Some(id);
        }
        if matches!(message.event, Some(Watched::ConfigReloaded(_))) {
            // Rows rendered from now on use the new settings, even before `config_watch` hears.
            self.state.forget_display();
        }
        match react(message, &self.listener) {
            Reaction::Nothing => true,
            Reaction::Row(task) => match self.pending.add(*task, Instant::now()) {
                Added::Held => true,
                Added::Overflow => self.send(vec![changed(ALL)]).await,
            },
            Reaction::Refresh(what) => {
                if what == ALL {
                    // The refresh shows the held rows too.
                    self.pending.clear();
                }
                self.send(vec![changed(&what)]).await
            }
            Reaction::Started(task) => self.send(vec![changed(&task), started(&task)]).await,
        }
    }

    /// Sends the held rows.
    async fn flush(&mut self) -> bool {
        let rows = self.pending.take();
        let Listener::TaskRows(page) = &self.listener else {
            return true;
        };
        let rows = render_rows(&self.state, page, rows).await;
        self.send(vec![Message::new(ROWS_EVENT, rows)]).await
    }

    /// Sends `events`, the last one with the id of the newest event the browser now has the
    /// effect of; false when the browser went away.
    async fn send(&mut self, mut events: Vec<Message>) -> bool {
        if self.pending.is_empty()
            && let Some(id) = self.seen
            && let Some(last) = events.pop()
        {
            events.push(last.id(id.to_string()));
        }
        for event in events {
            if !self.sink.send(event).await {
                return false;
            }
        }
        true
    }
}

/// Completes at `due`; never when nothing is due.
async fn until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// The rows of `tasks` as the tasks page shows them. Each came with its newest runs, as many as
/// the daemon's settings have a row show; a page whose settings are older shows no more than it
/// expects.
async fn render_rows(state: &AppState, page: &RowPage, mut tasks: Vec<pb::Task>) -> String {
    let (display, _) = state.display().await;
    let shown = usize::try_from(display.row_runs()).unwrap_or(usize::MAX);
    for task in &mut tasks {
        task.recent_runs.truncate(shown);
    }
    let chrome = Chrome {
        urls: Urls::new(&display.script_name),
        now: crate::context::now(),
        ..page.chrome.clone()
    };
    views::tasks::rows_patch(&chrome, &tasks).into_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    use crate::sse::react::tests::{message, rows, task};

    /// A relay of the tasks page's rows, for a daemon that is not there: rows render from the
    /// events alone.
    fn rows_relay() -> (Relay, mpsc::Receiver<Message>) {
        let (_, stopping) = tokio::sync::watch::channel(false);
        let state = AppState::new(
            std::path::PathBuf::from("/nonexistent/speedrack.sock"),
            stopping,
            crate::auth::Auth::None,
        );
        let (sender, received) = mpsc::channel(16);
        let relay = Relay {
            state,
            listener: rows(false),
            sink: Sink::new(sender, 0),
            pending: PendingRows::default(),
            seen: None,
        };
        (relay, received)
    }

    fn numbered(sequence: u64, event: Watched) -> pb::WatchEventsResponse {
        pb::WatchEventsResponse {
            sequence,
            epoch: 9,
            ..message(event)
        }
    }

    /// What the browser receives, as written on the wire.
    fn wire(event: Option<Message>) -> String {
        format!("{:?}", event.expect("an event was sent").plain())
    }

    #[tokio::test]
    async fn held_rows_go_out_together_with_the_newest_id() {
        let (mut relay, mut received) = rows_relay();
        let ok = pb::TaskStatus::Success;
        for (sequence, name) in [(1, "a"), (2, "a"), (3, "b"), (4, "a")] {
            let change = numbered(sequence, Watched::TaskChanged(task(name, ok)));
            assert!(relay.take(&change).await);
        }
        assert!(received.try_recv().is_err(), "held for the window");
        assert!(relay.pending.due().is_some());
        assert!(relay.flush().await);
        let sent = wire(received.try_recv().ok());
        assert!(sent.contains("event: rows"), "{sent}");
        assert!(sent.contains("id: 9-4"), "{sent}");
        assert_eq!(sent.matches("id=\\\"task-row-a\\\"").count(), 1, "{sent}");
        assert_eq!(sent.matches("id=\\\"task-row-b\\\"").count(), 1, "{sent}");
        assert!(received.try_recv().is_err(), "one event");
    }

    #[tokio::test]
    async fn a_row_shows_the_runs_its_event_carried_without_asking_the_daemon() {
        let (mut relay, mut received) = rows_relay();
        let run = |status: pb::RunStatus| pb::Run {
            status: status.into(),
            duration: Some(prost_types::Duration {
                seconds: 1,
                nanos: 0,
            }),
            ..pb::Run::default()
        };
        let row = pb::Task {
            runs_retained: 3,
            recent_runs: vec![
                run(pb::RunStatus::Success),
                run(pb::RunStatus::Failure),
                run(pb::RunStatus::Success),
            ],
            ..task("a", pb::TaskStatus::Success)
        };
        assert!(relay.take(&numbered(1, Watched::TaskChanged(row))).await);
        assert!(relay.flush().await);
        let sent = wire(received.try_recv().ok());
        assert!(sent.contains("event: rows"), "{sent}");
        assert!(sent.contains("2 of the last 3 runs succeeded"), "{sent}");
    }

    #[tokio::test]
    async fn a_refresh_of_everything_drops_held_rows_and_carries_the_newest_id() {
        let (mut relay, mut received) = rows_relay();
        let change = numbered(1, Watched::TaskChanged(task("a", pb::TaskStatus::Success)));
        assert!(relay.take(&change).await);
        let unnamed = numbered(
            2,
            Watched::TaskChanged(task("No Id", pb::TaskStatus::Success)),
        );
        assert!(relay.take(&unnamed).await);
        assert!(relay.pending.is_empty(), "the refresh shows the held row");
        let sent = wire(received.try_recv().ok());
        assert!(sent.contains("event: changed"), "{sent}");
        assert!(sent.contains("id: 9-2"), "{sent}");
    }
}
