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
//!
//! After the throughput window, the first node lists the 100 tasks as the web's task list does
//! (each with its 20 newest runs). Last, on 2 nodes, the first reads 256 KiB of output from a
//! run still running on the second (relayed through the database in pieces).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use speedrack_proto::v1 as pb;

use super::daemon::BenchDaemon;
use super::lateness::{self, Lateness};
use super::procfs::cpu_time;
use super::report::{Report, percentile, sorted_ms};
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
                // The nodes share one machine's load: none yields by it, as on machines of
                // their own that the bench's load does not reach.
                .map(|url| {
                    format!("store: '{url}'\nnode: n{node}\nlease: {LEASE_S}s\nbusy: {{load: 0}}\n")
                });
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

/// Task listings timed: as many as this, after a few to warm up.
const LISTINGS: usize = 50;
/// Recent runs per task in a listing: the web's task list shows 20.
const LISTED_RUNS: u32 = 20;

/// ListTasks on `daemon` as the web's task list asks it, p50 and p99 in ms.
async fn measure_listing(daemon: &BenchDaemon) -> Result<(f64, f64)> {
    let mut client = daemon.client().await?;
    let request = pb::ListTasksRequest {
        recent_runs: LISTED_RUNS,
        ..pb::ListTasksRequest::default()
    };
    for _ in 0..5 {
        client.list_tasks(request.clone()).await?;
    }
    let mut times = Vec::with_capacity(LISTINGS);
    for _ in 0..LISTINGS {
        let start = Instant::now();
        let listed = client.list_tasks(request.clone()).await?.into_inner();
        times.push(start.elapsed());
        if listed.tasks.len() < throughput::TASKS {
            bail!("ListTasks gave {} tasks", listed.tasks.len());
        }
    }
    let ms = sorted_ms(&times);
    Ok((percentile(&ms, 50.0), percentile(&ms, 99.0)))
}

/// Output bytes a run on the second node prints before it waits.
const RELAYED_BYTES: u64 = 256 << 10;

/// Node 0 reads `RELAYED_BYTES` of a run still running on node 1: ms and MB/s.
async fn measure_relayed_read() -> Result<(f64, f64)> {
    let setup = Setup {
        label: "2 nodes, PostgreSQL",
        nodes: 2,
        postgres: true,
    };
    let tasks = format!(
        "tasks:\n  - {{name: chatty, command: 'yes | head -c {RELAYED_BYTES}; sleep 600', \
         interval: 100w, run_on: [n1]}}\n"
    );
    let daemons = start(&setup, &tasks)?;
    settle(&setup).await;
    let mut client = daemons[0].client().await?;
    let started = client
        .run_now(pb::RunNowRequest {
            task: "chatty".to_owned(),
            ..pb::RunNowRequest::default()
        })
        .await?
        .into_inner();
    let run = started.run.context("the run started on n1")?.id;
    let request = pb::ReadOutputRequest {
        run_id: run,
        stream: pb::OutputStream::Stdout.into(),
        offset: 0,
        length: RELAYED_BYTES,
    };
    // Until n1's run has written it all.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let read = client.read_output(request).await?.into_inner();
        if read.total_size >= RELAYED_BYTES {
            break;
        }
        if Instant::now() > deadline {
            bail!("n1's run wrote {} bytes in 30 s", read.total_size);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let start = Instant::now();
    let read = client.read_output(request).await?.into_inner();
    let elapsed = start.elapsed().as_secs_f64();
    if read.data.len() as u64 != RELAYED_BYTES {
        bail!("read {} bytes of {RELAYED_BYTES}", read.data.len());
    }
    Ok((elapsed * 1e3, RELAYED_BYTES as f64 / elapsed / 1e6))
}

/// Runs per second and daemon CPU (all nodes) per run, in ms, and then a task listing.
async fn measure_throughput(setup: &Setup, seconds: u64) -> Result<(f64, f64, (f64, f64))> {
    let daemons = start(setup, &throughput::tasks_yaml())?;
    settle(setup).await;
    let mut runs_before = 0;
    let mut cpu_before = Duration::ZERO;
    for daemon in &daemons {
        runs_before += throughput::runs_since_start(daemon).await?;
        cpu_before += cpu_time(daemon.pid())?;
    }
    let start = std::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let elapsed = start.elapsed().as_secs_f64();
    let mut runs = 0;
    let mut cpu = Duration::ZERO;
    for daemon in &daemons {
        runs += throughput::runs_since_start(daemon).await?;
        cpu += cpu_time(daemon.pid())?;
    }
    let runs = runs.saturating_sub(runs_before).max(1) as f64;
    let cpu_ms = cpu.saturating_sub(cpu_before).as_secs_f64() * 1e3;
    let listing = measure_listing(&daemons[0]).await?;
    Ok((runs / elapsed, cpu_ms / runs, listing))
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
        let (per_second, cpu_ms, (list_p50, list_p99)) = measure_throughput(setup, seconds).await?;
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
        report.add(
            &format!(
                "{}: ListTasks of 100 tasks with 20 runs each, p50",
                setup.label
            ),
            list_p50,
            "ms",
        );
        report.add(
            &format!(
                "{}: ListTasks of 100 tasks with 20 runs each, p99",
                setup.label
            ),
            list_p99,
            "ms",
        );
    }
    let (relayed_ms, relayed_mb_s) = measure_relayed_read().await?;
    report.add(
        "2 nodes: ReadOutput of 256 KiB of a run running on the other node",
        relayed_ms,
        "ms",
    );
    report.add("2 nodes: relayed output read", relayed_mb_s, "MB/s");
    report.note(format!(
        "each setup: {} tasks every second for {seconds} s (lateness), then 100 tasks every second for {seconds} s (throughput); PostgreSQL is a throwaway local server (Unix socket, fsync=off); lease {LEASE_S}s",
        lateness::TASKS
    ));
    Ok(report)
}
