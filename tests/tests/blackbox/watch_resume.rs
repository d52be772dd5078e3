//! WatchEvents resumes: a watcher that went away and comes back with the last sequence number
//! and epoch it saw gets exactly the events it missed, in order, then live ones; one that names
//! another epoch is told first that it missed events.

use speedrack_proto::v1 as pb;
use speedrack_proto::v1::watch_events_response::Event;
use speedrack_tests::{Daemon, WAIT};
use tonic::Streaming;

const TASKS: &str = "tasks:
  - {name: pinger, command: 'true', interval: 400w}
";

type Watch = Streaming<pb::WatchEventsResponse>;

async fn watch(daemon: &Daemon, after_sequence: u64, epoch: u64) -> Watch {
    daemon
        .client()
        .await
        .watch_events(pb::WatchEventsRequest {
            after_sequence,
            epoch,
        })
        .await
        .expect("watch events")
        .into_inner()
}

async fn next(watch: &mut Watch) -> pb::WatchEventsResponse {
    tokio::time::timeout(WAIT, watch.message())
        .await
        .expect("an event comes in time")
        .expect("the stream stays healthy")
        .expect("the stream stays open")
}

/// Reads events until (and with) the first that `last` accepts.
async fn until(watch: &mut Watch, last: impl Fn(&Event) -> bool) -> Vec<pb::WatchEventsResponse> {
    let mut seen = Vec::new();
    loop {
        let message = next(watch).await;
        let done = message.event.as_ref().is_some_and(&last);
        seen.push(message);
        if done {
            return seen;
        }
    }
}

fn finished(event: &Event) -> bool {
    matches!(event, Event::RunFinished(run) if run.task == "pinger")
}

fn suspended(wanted: bool) -> impl Fn(&Event) -> bool {
    move |event| matches!(event, Event::TaskChanged(task) if task.suspended == wanted)
}

#[tokio::test]
async fn a_watcher_resumes_where_it_left_without_a_gap_or_a_repeat() {
    let daemon = Daemon::start(TASKS);
    // Sees everything, to say what the other one missed.
    let mut witness = watch(&daemon, 0, 0).await;
    let mut leaving = watch(&daemon, 0, 0).await;
    daemon.ctl().ok(&["run-now", "pinger"]);
    let seen = until(&mut leaving, finished).await;
    let last_seen = seen.last().expect("events were seen");
    let (after, epoch) = (last_seen.sequence, last_seen.epoch);
    assert!(epoch > 0, "events name the daemon's epoch");
    let numbers: Vec<u64> = seen.iter().map(|message| message.sequence).collect();
    let counted: Vec<u64> = (1..=after).collect();
    assert_eq!(numbers, counted, "events are numbered from 1, one by one");
    drop(leaving);

    daemon.ctl().ok(&["run-now", "pinger"]);
    daemon.ctl().ok(&["suspend", "pinger"]);
    let everything = until(&mut witness, suspended(true)).await;
    let missed: Vec<_> = everything
        .into_iter()
        .filter(|message| message.sequence > after)
        .collect();
    let runs_missed = missed
        .iter()
        .filter(|message| message.event.as_ref().is_some_and(finished))
        .count();
    assert_eq!(
        runs_missed, 1,
        "a run finished while nobody watched: {missed:?}"
    );

    let mut back = watch(&daemon, after, epoch).await;
    for expected in &missed {
        assert_eq!(
            &next(&mut back).await,
            expected,
            "the missed events, in order"
        );
    }
    daemon.ctl().ok(&["resume", "pinger"]);
    let live = next(&mut back).await;
    let last_missed = missed.last().expect("events were missed").sequence;
    assert_eq!(
        live.sequence,
        last_missed + 1,
        "then live ones, none repeated"
    );
    assert!(
        live.event.as_ref().is_some_and(suspended(false)),
        "{live:?}"
    );
}

/// Another epoch is another daemon's (a restart): the sequence means nothing here, so the
/// watcher is told it may have missed events, then gets all this daemon holds, then live ones.
#[tokio::test]
async fn a_watcher_of_another_epoch_is_told_it_missed_events_then_gets_the_held_and_live_ones() {
    let daemon = Daemon::start(TASKS);
    let mut first = watch(&daemon, 0, 0).await;
    daemon.ctl().ok(&["suspend", "pinger"]);
    let seen = next(&mut first).await;
    assert!(seen.event.as_ref().is_some_and(suspended(true)), "{seen:?}");

    let mut stranger = watch(&daemon, seen.sequence, seen.epoch + 1).await;
    let opening = next(&mut stranger).await;
    assert_eq!(
        opening.event,
        Some(Event::EventsDropped(pb::EventsDropped { count: 0 })),
        "a sequence of another epoch means nothing here"
    );
    let held = next(&mut stranger).await;
    assert_eq!(
        held.sequence, seen.sequence,
        "everything held, from the first"
    );
    assert!(held.event.as_ref().is_some_and(suspended(true)), "{held:?}");
    daemon.ctl().ok(&["resume", "pinger"]);
    let live = next(&mut stranger).await;
    assert_eq!(live.sequence, seen.sequence + 1);
    assert!(
        live.event.as_ref().is_some_and(suspended(false)),
        "{live:?}"
    );
}
