//! `cluster`: nodes sharing a PostgreSQL store (CLUSTER.md) beside one node on SQLite, in one
//! run on one machine: 1 node on SQLite, 1 node on PostgreSQL, 3 nodes on PostgreSQL.
//!
//! Each setup runs `lateness`'s 50 tasks every second (the child prints its own start instant;
//! lateness is that minus the due instant, read through the first node, which sees every
//! node's runs), then `throughput`'s 100 tasks every second running `true`: runs per second
//! from every node's `runs_since_start`, and the daemons' CPU (utime + stime, all nodes) per
//! run. PostgreSQL is a throwaway server on this machine (a Unix socket, `fsync=off`): the
//! figures are the daemon's and the protocol's, not a disk's. With 3 nodes on one machine the
//! nodes share its 2 cores with each other and the server.

use std::time::Duration;

use anyhow::{Context, Result};

use super::daemon::BenchDaemon;
use super::lateness::{self, Lateness};
use super::procfs::{sample, ticks_per_second};
use super::report::{Report, percentile};
use super::throughput;

/// The lease of the bench's nodes: as short as the settings allow, so that views settle fast.
const LEASE_S: u64 = 3;

/// One way to run the daemons.
struct Setup {
    label: &'static str,
    nodes: usize,
    postgres: bool,
}

const SETUPS: [Setup; 3] = [
    Setup {
        label: "1 node, SQLite",
        nodes: 1,
        postgres: false,
    },
    Setup {
        label: "1 node, PostgreSQL",
        nodes: 1,
        postgres: true,
    },
    Setup {
        label: "3 nodes, PostgreSQL",
        nodes: 3,
        postgres: true,
    },
];

/// Starts the setup's daemons on `tasks_yaml`, each on a fresh database when on PostgreSQL.
fn start(setup: &Setup, tasks_yaml: &str) -> Result<Vec<BenchDaemon>> {
    let url = if setup.postgres {
        let server = speedrackd::postgres::throwaway::server()
            .context("PostgreSQL's initdb is not installed (apt-get install postgresql)")?;
        Some(server.database())
    } else {
        None
    };
    (0..setup.nodes)
        .map(|node| {
            let settings = url
                .as_ref()
                .map(|url| format!("store: '{url}'\nnode: n{node}\nlease: {LEASE_S}s\n"));
            BenchDaemon::start(tasks_yaml, settings.as_deref())
        })
        .collect()
}

/// Waits until every node has seen the others (a heartbeat is a third of the lease).
async fn settle(setup: &Setup) {
    if setup.nodes > 1 {
        tokio::time::sleep(Duration::from_secs(LEASE_S)).await;
    }
}

async fn measure_lateness(setup: &Setup, seconds: u64) -> Result<Lateness> {
    let daemons = start(setup, &lateness::tasks_yaml(lateness::TASKS))?;
    settle(setup).await;
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let mut client = daemons[0].client().await?;
    lateness::measure(
        &mut client,
        (0..lateness::TASKS).map(|index| format!("late_{index}")),
    )
    .await
}

/// Runs per second and daemon CPU (all nodes) per run, in ms.
async fn measure_throughput(setup: &Setup, seconds: u64) -> Result<(f64, f64)> {
    let daemons = start(setup, &throughput::tasks_yaml())?;
    settle(setup).await;
    let mut runs_before = 0;
    let mut ticks_before = 0;
    for daemon in &daemons {
        runs_before += throughput::runs_since_start(daemon).await?;
        ticks_before += sample(daemon.pid())?.cpu_ticks;
    }
    let start = std::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let elapsed = start.elapsed().as_secs_f64();
    let mut runs = 0;
    let mut ticks = 0;
    for daemon in &daemons {
        runs += throughput::runs_since_start(daemon).await?;
        ticks += sample(daemon.pid())?.cpu_ticks;
    }
    let runs = runs.saturating_sub(runs_before).max(1) as f64;
    let cpu_ms = (ticks.saturating_sub(ticks_before)) as f64 / ticks_per_second() * 1e3;
    Ok((runs / elapsed, cpu_ms / runs))
}

pub async fn run(seconds: u64) -> Result<Report> {
    let mut report = Report::new("cluster");
    for setup in &SETUPS {
        let late = measure_lateness(setup, seconds).await?;
        report.add(
            &format!("{}: runs measured", setup.label),
            late.child.len() as f64,
            "runs",
        );
        report.add(
            &format!("{}: child start lateness p50", setup.label),
            percentile(&late.child, 50.0),
            "ms",
        );
        report.add(
            &format!("{}: child start lateness p99", setup.label),
            percentile(&late.child, 99.0),
            "ms",
        );
        report.add(
            &format!("{}: daemon started_at lateness p99", setup.label),
            percentile(&late.daemon, 99.0),
            "ms",
        );
        let (per_second, cpu_ms) = measure_throughput(setup, seconds).await?;
        report.add(
            &format!("{}: runs per second (100 due each second)", setup.label),
            per_second,
            "runs/s",
        );
        report.add(
            &format!("{}: daemon CPU per run, all nodes", setup.label),
            cpu_ms,
            "ms",
        );
    }
    report.note(format!(
        "each setup: {} tasks every second for {seconds} s (lateness), then 100 tasks every second for {seconds} s (throughput); PostgreSQL is a throwaway local server (Unix socket, fsync=off); lease {LEASE_S}s",
        lateness::TASKS
    ));
    Ok(report)
}
