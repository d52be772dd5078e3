//! `scale`: 10 000 tasks, each once a minute at a random second, so about 170 fires fall due at
//! every second boundary. How long loading takes, and how late the children start compared
//! with the machine's own time to start one second's batch.
//!
//! Children are `sh -c 'date +%s%N'` as in `lateness`; the floor is measured with the largest
//! batch the generated schedule has, in the same run, before the daemon starts.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use speedrack_proto::v1 as pb;

use super::daemon::BenchDaemon;
use super::lateness::{Lateness, measure};
use super::procfs::{rss_breakdown, sample};
use super::report::{Report, percentile};
use super::spawn_floor::{self, CHILD_COMMAND};

const TASKS: usize = 10_000;
/// Seeds the task seconds, so every run of the bench has the same schedule.
const SEED: u64 = 0x5eed_2026;

/// The second each task fires at, from a fixed-seed generator.
fn seconds() -> Vec<u32> {
    let mut state = SEED;
    (0..TASKS)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) % 60) as u32
        })
        .collect()
}

fn tasks_yaml(seconds: &[u32]) -> String {
    let mut yaml = String::from("tasks:\n");
    for (index, second) in seconds.iter().enumerate() {
        yaml.push_str(&format!(
            "  - name: s_{index:05}\n    command: {CHILD_COMMAND}\n    cron: '{second} * * * * *'\n"
        ));
    }
    yaml
}

pub async fn run(window_seconds: u64) -> Result<Report> {
    let seconds = seconds();
    let mut per_second: BTreeMap<u32, usize> = BTreeMap::new();
    for second in &seconds {
        *per_second.entry(*second).or_default() += 1;
    }
    let largest_batch = per_second.values().copied().max().unwrap_or(0);
    let floor = spawn_floor::measure(largest_batch, 5)?;
    let floor_batch_ms = percentile(&floor.batch_ms, 50.0);

    let yaml = tasks_yaml(&seconds);
    let load = Instant::now();
    let daemon = BenchDaemon::start(&yaml, None)?;
    let load_time = load.elapsed();
    let mut client = daemon.client().await?;
    let reload = Instant::now();
    client
        .reload(pb::ReloadRequest {
            on_behalf_of: String::new(),
        })
        .await?;
    let reload_time = reload.elapsed();

    let before = sample(daemon.pid())?;
    let window = Instant::now();
    tokio::time::sleep(Duration::from_secs(window_seconds)).await;
    let after = sample(daemon.pid())?;
    let cpu_percent =
        after.cpu.saturating_sub(before.cpu).as_secs_f64() / window.elapsed().as_secs_f64() * 100.0;

    let Lateness {
        child: child_late,
        daemon: daemon_late,
    } = measure(&mut client, (0..TASKS).map(|index| format!("s_{index:05}"))).await?;
    let rss_mib = after.rss_kib as f64 / 1024.0;
    let breakdown = rss_breakdown(daemon.pid())?;
    drop(daemon);

    let mut report = Report::new("scale");
    report.add("tasks", TASKS as f64, "tasks");
    report.add(
        "largest batch due at one second",
        largest_batch as f64,
        "fires",
    );
    report.at_most(
        "load: start to ready",
        load_time.as_secs_f64() * 1e3,
        "ms",
        1000.0,
    );
    report.add(
        "reload of the same file",
        reload_time.as_secs_f64() * 1e3,
        "ms",
    );
    report.add(
        &format!("machine: start {largest_batch} at once, last child"),
        floor_batch_ms,
        "ms",
    );
    report.spread("machine: child start", &floor.lateness_ms, "ms", [None; 3]);
    report.add("runs measured", child_late.len() as f64, "runs");
    let limit = (floor_batch_ms * 1.25 * 10.0).round() / 10.0;
    report.spread(
        "child start lateness",
        &child_late,
        "ms",
        [None, Some(limit), None],
    );
    report.spread("daemon started_at lateness", &daemon_late, "ms", [None; 3]);
    report.at_most("daemon RSS after the window", rss_mib, "MiB", 64.0);
    for (part, kib) in breakdown {
        report.add(&format!("  RSS: {part}"), kib as f64 / 1024.0, "MiB");
    }
    report.add("daemon CPU over the window", cpu_percent, "%");
    report.note(format!(
        "{TASKS} tasks on 'S * * * * *' (S random, seed {SEED:#x}) for {window_seconds} s; the machine floor used {} spawning threads, median of 5 batches",
        floor.threads
    ));
    Ok(report)
}
