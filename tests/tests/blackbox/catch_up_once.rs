//! Exactly once, including catch-up: fires missed while the daemon was down are recorded before
//! they start, so kill -9 in the middle of catching up neither repeats nor loses one.
//!
//! The data dir is prepared so the daemon believes it last fired 20 s ago (its `task_fires`
//! row moved back, its runs removed); each of the 20 missed instants must then appear exactly
//! once in history, whatever moments the daemon is killed at.

use std::path::Path;

use nix::sys::signal::Signal;
use rusqlite::{Connection, params};
use speedrack_tests::files::Gate;
use speedrack_tests::history_db::{Lcg, duplicate_fires, open_history};
use speedrack_tests::{Daemon, EventWatch, WAIT};
use speedrackd::clock::{Clock, SystemClock};

/// How many instants the prepared data dir has missed.
const MISSED: i64 = 20;
const SECOND_US: i64 = 1_000_000;

const IDLE: &str = "tasks:\n  - {name: c, command: 'true', interval: 400w, suspended: true}\n";
/// `c` catching up on its missed fires one run at a time, each run waiting on `gate`: the
/// test lets runs go one by one, so how far catch-up has got at a kill is the test's choice.
fn catching_up(gate: &Gate) -> String {
    format!(
        "tasks:
  - name: c
    command: {}
    interval: 1s
    on_missed: run_all
",
        gate.wait()
    )
}

/// A data dir whose daemon last fired `c` MISSED seconds (and a half) ago and kept no runs:
/// returns that last fire, in microseconds.
fn stopped_long_ago(data_dir: &Path) -> i64 {
    let conn = Connection::open(data_dir.join("history.sqlite3")).expect("open the history");
    let now_us = SystemClock.now().timestamp_micros();
    let last = now_us - MISSED * SECOND_US - SECOND_US / 2;
    conn.execute("DELETE FROM runs", []).expect("forget runs");
    conn.execute("DELETE FROM task_state", [])
        .expect("forget suspension");
    conn.execute(
        "INSERT OR REPLACE INTO task_fires (task, last_fire_us) VALUES ('c', ?1)",
        params![last],
    )
    .expect("move the last fire back");
    last
}

/// Scheduled runs of `c` at `last + k s` for k in 1..=MISSED, in order.
fn counts(data_dir: &Path, last: i64) -> Vec<i64> {
    let conn = Connection::open(data_dir.join("history.sqlite3")).expect("open the history");
    (1..=MISSED)
        .map(|k| {
            conn.query_row(
                "SELECT COUNT(*) FROM runs WHERE task = 'c' AND trigger = 'schedule'
                 AND scheduled_at_us = ?1",
                params![last + k * SECOND_US],
                |row| row.get(0),
            )
            .expect("count")
        })
        .collect()
}

/// A stopped daemon whose data dir has missed MISSED fires of `c`, and the last fire before.
fn daemon_stopped_long_ago(gate: &Gate) -> (Daemon, i64) {
    let mut daemon = Daemon::start(IDLE);
    daemon.stop_with(Signal::SIGTERM);
    let last = stopped_long_ago(&daemon.data_dir());
    daemon.write_tasks(&catching_up(gate));
    (daemon, last)
}

/// Lets the run waiting on `gate` go and waits until it has finished (so the next opening of
/// the gate cannot reach it again).
async fn let_one_run_go(gate: &Gate, events: &mut EventWatch) {
    gate.open();
    events.run_finished("c", WAIT).await.expect("c runs");
}

/// Waits until every missed instant has a run, then stops the daemon and checks each once.
async fn finish_catching_up(mut daemon: Daemon, gate: &Gate, last: i64) {
    let mut events = daemon.watch().await;
    let mut seen = counts(&daemon.data_dir(), last);
    for _ in 0..MISSED * 3 {
        if seen.iter().all(|count| *count > 0) {
            break;
        }
        let_one_run_go(gate, &mut events).await;
        seen = counts(&daemon.data_dir(), last);
    }
    daemon.stop_with(Signal::SIGKILL);
    assert_eq!(
        counts(&daemon.data_dir(), last),
        vec![1; MISSED as usize],
        "each missed instant ran exactly once"
    );
    assert_eq!(
        duplicate_fires(&open_history(&daemon.data_dir())),
        Vec::new(),
        "no fire twice"
    );
}

/// The moment of catch-up a kill lands on: with the Nth run running (its row written, the
/// fires behind it still owed), or just after the Nth run finished.
#[derive(Debug, Clone, Copy)]
enum Moment {
    Started(u64),
    Finished(u64),
}

/// Lets catch-up runs go until `moment`, then kills the daemon with SIGKILL.
async fn kill_9_at(mut daemon: Daemon, gate: &Gate, moment: Moment) -> Daemon {
    let mut events = daemon.watch().await;
    match moment {
        Moment::Started(n) => {
            for _ in 1..n {
                let_one_run_go(gate, &mut events).await;
            }
            // The Nth run is kept waiting until the daemon is dead.
            let _held = gate.hold();
            daemon.stop_with(Signal::SIGKILL);
        }
        Moment::Finished(n) => {
            for _ in 0..n {
                let_one_run_go(gate, &mut events).await;
            }
            daemon.stop_with(Signal::SIGKILL);
        }
    }
    daemon
}

#[tokio::test]
async fn kill_9_during_catch_up_then_restart_runs_each_missed_fire_once() {
    let gate = Gate::new();
    let (daemon, last) = daemon_stopped_long_ago(&gate);
    let daemon = kill_9_at(daemon.restart(), &gate, Moment::Started(2)).await;
    let partial = counts(&daemon.data_dir(), last);
    assert!(
        partial.contains(&0),
        "the kill landed during catch-up: {partial:?}"
    );
    finish_catching_up(daemon.restart(), &gate, last).await;
}

#[tokio::test]
async fn kill_9_at_random_moments_of_catch_up_runs_each_missed_fire_once() {
    let mut rng = Lcg(0x000c_47c4_u64);
    let gate = Gate::new();
    let (mut daemon, last) = daemon_stopped_long_ago(&gate);
    for _ in 0..5 {
        let nth = 1 + rng.below(3);
        let moment = match rng.below(2) {
            0 => Moment::Started(nth),
            _ => Moment::Finished(nth),
        };
        daemon = kill_9_at(daemon.restart(), &gate, moment).await;
    }
    finish_catching_up(daemon.restart(), &gate, last).await;
}
