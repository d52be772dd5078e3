//! The daemon's one event feed: the runtime loop hands it each event as it happens, on the
//! loop's own thread, and the feed numbers it, keeps the newest [`HELD`] for watchers that
//! resume, and broadcasts it. That is all it does there: no task of its own to wake per event,
//! and nothing that waits. WatchEvents handlers only forward what it holds and sends
//! (`watch_events`).
//!
//! An event becomes a `WatchEventsResponse` once, on the first demand (a watcher forwarding it
//! or replaying it), and every other watcher shares that message: nobody converts events that
//! nobody watches, and a task's row costs history two reads however many watch. The row comes
//! from what the runtime loop put in the event; the loop is never asked again.
//!
//! It does not decide what a watcher that fell behind is told; `watch_events` does.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};

use speedrack_proto::v1 as pb;
use speedrack_proto::v1::watch_events_response::Event as PbEvent;
use tokio::sync::broadcast;
use tonic::Status;

use super::{convert, tasks};
use crate::events::{Announce, Event, Stamped};
use crate::history::Store;
use crate::run::RunId;

/// Events held for watchers that resume: at 100 runs a second (four events each), ten seconds.
const HELD: usize = 4096;
/// How many events a slow watcher may lag behind the feed before it misses some.
const LAG: usize = 1024;

/// One numbered event, converted on first demand and then shared.
pub struct Slot {
    sequence: u64,
    /// The run whose start or end this is, for tails that wait for it.
    run: Option<RunId>,
    state: Mutex<State>,
}

enum State {
    /// Boxed: once converted, a held slot takes a pointer's room.
    Raw(Box<Stamped>),
    Ready(Arc<pb::WatchEventsResponse>),
}

impl Slot {
    fn new(sequence: u64, mut stamped: Stamped) -> Slot {
        // Events never carry a run's definition; held, it would only take memory.
        let mut run = None;
        if let Event::RunStarted(record) | Event::RunFinished(record) = &mut stamped.event {
            record.definition = String::new();
            run = Some(record.id);
        }
        Slot {
            sequence,
            run,
            state: Mutex::new(State::Raw(Box::new(stamped))),
        }
    }

    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    pub fn run(&self) -> Option<RunId> {
        self.run
    }

    /// Whether making the message still reads history: a task's row not converted yet, or
    /// being converted by another watcher (which holds the lock while it reads). A watcher
    /// then converts it, or waits for the one converting it, off the async workers.
    pub fn reads_history(&self) -> bool {
        match self.state.try_lock() {
            Ok(state) => raw_row(&state),
            Err(TryLockError::Poisoned(poisoned)) => raw_row(&poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => true,
        }
    }

    /// The event as a message; the first caller converts it, the others wait for that. A
    /// conversion that fails (history unreadable for a moment) is not kept: the next caller
    /// tries again, rather than every watcher failing on this event for good.
    fn message(
        &self,
        history: &dyn Store,
        epoch: u64,
    ) -> Result<Arc<pb::WatchEventsResponse>, Status> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let message = match &*state {
            State::Ready(message) => return Ok(Arc::clone(message)),
            State::Raw(stamped) => to_message(history, stamped)?,
        };
        let message = Arc::new(pb::WatchEventsResponse {
            sequence: self.sequence,
            epoch,
            ..message
        });
        *state = State::Ready(Arc::clone(&message));
        Ok(message)
    }
}

fn raw_row(state: &State) -> bool {
    matches!(state, State::Raw(stamped) if matches!(stamped.event, Event::TaskChanged(_)))
}

fn to_message(history: &dyn Store, stamped: &Stamped) -> Result<pb::WatchEventsResponse, Status> {
    let event = match &stamped.event {
        Event::RunStarted(record) => PbEvent::RunStarted(convert::run(record)),
        Event::RunFinished(record) => PbEvent::RunFinished(convert::run(record)),
        Event::TaskChanged(change) => PbEvent::TaskChanged(tasks::changed_row(change, history)?),
        Event::ConfigReloaded(diff) => PbEvent::ConfigReloaded(convert::reload_diff(diff)),
    };
    Ok(pb::WatchEventsResponse {
        at: Some(convert::timestamp(stamped.at)),
        event: Some(event),
        ..pb::WatchEventsResponse::default()
    })
}

/// The newest events by sequence number, for watchers that resume. Pure bookkeeping.
#[derive(Debug)]
pub struct Ring<T> {
    held: VecDeque<(u64, T)>,
    /// The number the next event gets; events are numbered from 1.
    next: u64,
    capacity: usize,
}

/// Where a watcher starts.
#[derive(Debug, PartialEq, Eq)]
pub enum Resume<T> {
    /// Send these first (possibly none), then live events numbered after `last`.
    Replay { held: Vec<(u64, T)>, last: u64 },
    /// Events after the watcher's point are gone or unknown (0: how many is unknown): it opens
    /// with EventsDropped and continues with live events.
    Dropped(u64),
    /// The watcher's point is another daemon's (this one restarted): what happened between
    /// the two is unknown, so it opens with EventsDropped, then gets what this daemon holds
    /// (its start-up recovery's run ends first), then live events numbered after `last`.
    Restarted { held: Vec<(u64, T)>, last: u64 },
}

impl<T: Clone> Ring<T> {
    pub fn new(capacity: usize) -> Ring<T> {
        Ring {
            held: VecDeque::with_capacity(capacity.min(64)),
            next: 1,
            capacity,
        }
    }

    /// The number the next event will get.
    pub fn next_sequence(&self) -> u64 {
        self.next
    }

    /// Holds the next event, forgetting the oldest when full; returns its number.
    pub fn push(&mut self, item: T) -> u64 {
        let sequence = self.next;
        if self.held.len() == self.capacity {
            self.held.pop_front();
        }
        if self.capacity > 0 {
            self.held.push_back((sequence, item));
        }
        self.next += 1;
        sequence
    }

    /// Lets go of every held event; numbering goes on. A watcher that resumes from before
    /// reads everything again, as EventsDropped says.
    pub fn forget_held(&mut self) {
        self.held.clear();
    }

    /// Where a watcher that saw everything up to `after` (0: nothing yet) in `epoch` starts.
    pub fn resume(&self, after: u64, same_epoch: bool) -> Resume<T> {
        let last = self.next - 1;
        if after == 0 {
            return Resume::Replay {
                held: Vec::new(),
                last,
            };
        }
        if !same_epoch {
            return Resume::Restarted {
                held: self.held.iter().cloned().collect(),
                last,
            };
        }
        if after > last {
            return Resume::Dropped(0);
        }
        let first = self
            .held
            .front()
            .map_or(self.next, |(sequence, _)| *sequence);
        if after + 1 < first {
            return Resume::Dropped(last - after);
        }
        let held = self
            .held
            .iter()
            .filter(|(sequence, _)| *sequence > after)
            .cloned()
            .collect();
        Resume::Replay { held, last }
    }
}

/// The feed, shared by every WatchEvents handler.
#[derive(Clone)]
pub struct EventFeed {
    shared: Arc<Shared>,
}

struct Shared {
    epoch: u64,
    history: Arc<dyn Store>,
    ring: Mutex<Ring<Arc<Slot>>>,
    live: broadcast::Sender<Arc<Slot>>,
}

impl EventFeed {
    pub fn new(history: Arc<dyn Store>, epoch: u64) -> EventFeed {
        EventFeed {
            shared: Arc::new(Shared {
                epoch,
                history,
                ring: Mutex::new(Ring::new(HELD)),
                live: broadcast::channel(LAG).0,
            }),
        }
    }

    fn ring(&self) -> MutexGuard<'_, Ring<Arc<Slot>>> {
        self.shared
            .ring
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Subscribes a watcher, then finds where it resumes: live events it also gets replayed
    /// are numbered at most `Resume::Replay.last` and are for the caller to skip.
    pub fn watch(
        &self,
        after: u64,
        epoch: u64,
    ) -> (broadcast::Receiver<Arc<Slot>>, Resume<Arc<Slot>>) {
        let live = self.subscribe();
        let resume = self.ring().resume(after, epoch == self.shared.epoch);
        (live, resume)
    }

    /// The events from now on, none held.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Slot>> {
        self.shared.live.subscribe()
    }

    /// A slot's message, converted once for every watcher.
    pub fn message(&self, slot: &Slot) -> Result<Arc<pb::WatchEventsResponse>, Status> {
        slot.message(self.shared.history.as_ref(), self.shared.epoch)
    }
}

impl Announce for EventFeed {
    fn announce(&self, stamped: Stamped) {
        let mut ring = self.ring();
        // Held events keep the configuration they were made under until they are converted:
        // 10 000 tasks' worth each time. A reload tells every watcher to read everything again
        // anyway, so a resume need not reach back past it.
        if matches!(stamped.event, Event::ConfigReloaded(_)) {
            ring.forget_held();
        }
        let slot = Arc::new(Slot::new(ring.next_sequence(), stamped));
        ring.push(Arc::clone(&slot));
        // Sent while the ring is held: the loop and the followers of remote runs announce from
        // different threads, and a watcher skips any event numbered below one it has seen.
        // No watcher is not an error.
        let _ = self.shared.live.send(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(capacity: usize, count: u64) -> Ring<char> {
        let mut ring = Ring::new(capacity);
        for n in 0..count {
            ring.push(char::from(b'a' + u8::try_from(n).expect("few events")));
        }
        ring
    }

    fn replay(held: &[(u64, char)], last: u64) -> Resume<char> {
        Resume::Replay {
            held: held.to_vec(),
            last,
        }
    }

    #[test]
    fn numbers_events_from_one_and_holds_the_newest() {
        let mut ring = Ring::new(3);
        assert_eq!((ring.push('a'), ring.push('b')), (1, 2));
        let ring = filled(3, 5);
        assert_eq!(ring.next_sequence(), 6);
        assert_eq!(
            ring.resume(2, true),
            replay(&[(3, 'c'), (4, 'd'), (5, 'e')], 5)
        );
    }

    #[test]
    fn resumes_after_a_held_event_or_says_what_was_dropped() {
        let ring = filled(3, 5); // holds 3, 4, 5
        let cases = [
            (0, true, replay(&[], 5)),
            (5, true, replay(&[], 5)),
            (4, true, replay(&[(5, 'e')], 5)),
            (2, true, replay(&[(3, 'c'), (4, 'd'), (5, 'e')], 5)),
            // Event 2 is no longer held: the watcher missed 2 to 5 and none can be sent.
            (1, true, Resume::Dropped(4)),
            // Another daemon's number: everything held here may be news to the watcher.
            (
                3,
                false,
                Resume::Restarted {
                    held: vec![(3, 'c'), (4, 'd'), (5, 'e')],
                    last: 5,
                },
            ),
            (0, false, replay(&[], 5)),
            // A number this daemon never gave.
            (6, true, Resume::Dropped(0)),
        ];
        for (after, same_epoch, expected) in cases {
            assert_eq!(ring.resume(after, same_epoch), expected, "after {after}");
        }
    }

    #[test]
    fn after_a_reload_only_the_reload_and_what_follows_can_be_resumed() {
        let mut ring = Ring::new(8);
        ring.push('a');
        ring.push('b');
        ring.forget_held();
        assert_eq!(ring.push('r'), 3);
        assert_eq!(ring.resume(1, true), Resume::Dropped(2));
        assert_eq!(
            ring.resume(2, true),
            Resume::Replay {
                held: vec![(3, 'r')],
                last: 3
            }
        );
    }

    /// The loop announces on its own thread, and that is the whole delivery: the event is
    /// numbered, held and sent before `announce` returns, with no task of the feed's to run.
    /// A reload lets go of what was held before it.
    #[test]
    fn an_announced_event_is_numbered_held_and_sent_before_announce_returns() {
        use crate::run::RunRecord;

        let dir = tempfile::tempdir().expect("temp dir");
        let store = crate::history::SqliteStore::open(dir.path()).expect("open");
        let feed = EventFeed::new(Arc::new(store), 3);
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("instant");
        let record = RunRecord::scheduled(9, "tick", at);
        let (mut live, _) = feed.watch(0, 3);
        for event in [
            Event::RunStarted(record.clone()),
            Event::RunFinished(record),
            Event::ConfigReloaded(crate::reload::ReloadDiff::default()),
        ] {
            feed.announce(Stamped { at, event });
        }
        let sent: Vec<(u64, Option<RunId>, bool)> = std::iter::from_fn(|| live.try_recv().ok())
            .map(|slot| (slot.sequence(), slot.run(), slot.reads_history()))
            .collect();
        assert_eq!(
            sent,
            [
                (1, Some(RunId(9)), false),
                (2, Some(RunId(9)), false),
                (3, None, false)
            ],
            "every event sent before its announce returned, none read from history"
        );
        let held = |after| match feed.watch(after, 3).1 {
            Resume::Replay { held, last } => {
                let numbers: Vec<u64> = held.iter().map(|(sequence, _)| *sequence).collect();
                Ok((numbers, last))
            }
            Resume::Dropped(count) => Err(count),
            Resume::Restarted { .. } => panic!("the same epoch was asked for"),
        };
        assert_eq!(held(2), Ok((vec![3], 3)));
        assert_eq!(held(1), Err(2), "the run's end was let go at the reload");
    }

    /// A history that cannot be read for a moment (its file away) fails the conversion of a
    /// task's row, and the failure is not kept: the next watcher's call converts it, and from
    /// then on every watcher shares that one message.
    #[test]
    fn a_failed_conversion_is_tried_again_then_kept() {
        use crate::events::TaskChange;
        use crate::history::{DATABASE_FILE, SqliteStore};

        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).expect("open");
        let task = crate::config::TaskName::normalise("gone").expect("name");
        let change = TaskChange {
            task: task.clone(),
            tasks: Arc::default(),
            index: None,
            live: None,
            recent_runs: 0,
        };
        let slot = Slot::new(
            7,
            Stamped {
                at: chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("instant"),
                event: Event::TaskChanged(change),
            },
        );
        let database = dir.path().join(DATABASE_FILE);
        let away = dir.path().join("away");
        std::fs::rename(&database, &away).expect("move the database away");
        assert!(slot.reads_history(), "a task's row is made from history");
        let converting = slot.state.lock().expect("the slot's lock");
        assert!(
            slot.reads_history(),
            "a row another watcher is converting is waited for off the workers"
        );
        drop(converting);
        let error = slot.message(&store, 3).expect_err("history unreadable");
        assert!(
            error
                .message()
                .contains("cannot open a read-only connection"),
            "{error:?}"
        );

        std::fs::rename(&away, &database).expect("move it back");
        let first = slot.message(&store, 3).expect("converted on the next call");
        assert_eq!((first.sequence, first.epoch), (7, 3));
        let Some(PbEvent::TaskChanged(row)) = &first.event else {
            panic!("a task row: {first:?}");
        };
        assert_eq!(row.name, "gone");
        std::fs::rename(&database, &away).expect("away again");
        let again = slot.message(&store, 3).expect("kept, history not asked");
        assert!(Arc::ptr_eq(&first, &again));
        assert!(!slot.reads_history(), "converted once for all");
    }
}
