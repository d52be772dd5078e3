//! The runtime as a node among several, on tokio's paused clock: it starts only the fires
//! placement gives it, and a fire it yields because it is busy it claims a fixed delay later
//! (on SQLite no other node can have recorded it, so the claim always starts the run).

use std::time::Duration;

use chrono::TimeZone;
use tokio::sync::watch;

use super::backups::CLAIM_AFTER;
use super::tests::{Looping, clock_and_history, spawn_configured};
use super::*;
use crate::cluster::Membership;
use crate::config::{NodeName, RunOn};
use crate::events::Event;

/// Real processes end in real time while the paused clock runs ahead: `parallel`, so that a
/// run still ending does not make the next fire a skipped one.
const TASKS: &str =
    "tasks:\n  - {name: sync, command: 'true', cron: '* * * * * *', overlap: parallel}\n";

fn node(name: &str) -> NodeName {
    NodeName::parse(name).expect("node name")
}

/// Node a's runtime, seeing a and b alive and `busy` busy; the runs it started in 20 s, as
/// (scheduled instant, start), and a's membership.
async fn runs_of_a(busy: &[&str]) -> (Vec<(DateTime<Utc>, DateTime<Utc>)>, Membership) {
    let start = Utc
        .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
        .single()
        .expect("instant");
    let (clock, _dir, history) = clock_and_history(start);
    let membership = Membership {
        this: node("a"),
        live: vec![node("a"), node("b")],
        busy: busy.iter().map(|name| node(name)).collect(),
    };
    let (_view_tx, view) = watch::channel(ClusterView {
        membership: membership.clone(),
        nodes: Vec::new(),
    });
    let (tasks_hash, _) = watch::channel(String::new());
    let (_takeovers_tx, takeovers) = watch::channel(0);
    let Looping {
        mut events,
        stop,
        loop_task,
        ..
    } = spawn_configured(clock, TASKS, Restored::default(), history, |runtime| {
        runtime.with_cluster(view, tasks_hash, takeovers)
    });
    let mut runs = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(stamped) = events.recv().await {
            if let Event::RunStarted(record) = stamped.event {
                runs.push((record.scheduled_at, record.started_at));
            }
        }
    })
    .await;
    let _ = stop.send(());
    let _ = loop_task.await;
    (runs, membership)
}

fn task() -> TaskName {
    TaskName::parse_normalised("sync").expect("task name")
}

#[tokio::test(start_paused = true)]
async fn an_idle_node_starts_its_share_of_fires_on_time_and_no_other() {
    let (runs, membership) = runs_of_a(&[]).await;
    assert!(runs.len() >= 5, "a's share of 20 fires: {}", runs.len());
    for (due, started) in &runs {
        assert_eq!(
            membership.place(&task(), *due, &RunOn::Any),
            Placement::Here
        );
        assert!(
            *started - *due < chrono::Duration::milliseconds(50),
            "late: {due} {started}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_busy_node_claims_the_fires_it_owns_only_after_the_idle_node_had_its_chance() {
    let (runs, membership) = runs_of_a(&["a"]).await;
    assert!(runs.len() >= 5, "a's own fires, backed up: {}", runs.len());
    let delay = chrono::Duration::from_std(CLAIM_AFTER).expect("delay");
    for (due, started) in &runs {
        assert_eq!(
            membership.place(&task(), *due, &RunOn::Any),
            Placement::Backup
        );
        let late = *started - *due;
        assert!(
            late >= delay && late < delay + chrono::Duration::milliseconds(50),
            "claimed {late} after its instant"
        );
    }
}
