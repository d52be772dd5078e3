//! The machine's own floor for a batch of simultaneous starts: how late the k-th of N children
//! begins when this process starts them all at once, with nothing else to do.
//!
//! Each child is what the lateness scenarios run, `sh -c 'date +%s%N'` with piped output in a
//! process group of its own and the environment a run gets, so its stdout is the instant its
//! command began. Each batch starts after the machine idled, as a daemon's does. A daemon
//! firing N tasks at one instant cannot beat this; the scenarios report their lateness beside
//! it.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use std::sync::{Mutex, PoisonError};

use anyhow::{Context, Result};
use speedrackd::clock::{Clock, SystemClock};
use speedrackd::{Environment, RunFacts};

use super::daemon::SERVICE_ENV;

/// The command every lateness child runs: its stdout is its own start, in ns since the epoch.
pub const CHILD_COMMAND: &str = "date +%s%N";

/// How long the machine idles before each batch. A daemon's batch comes after it slept until
/// the due instant, and starting a child on a machine that idled costs more than on one busy
/// starting children already (on this VM about 0.8 ms more for one child: its idle cores must
/// wake up first); batches started back to back would make a floor no scheduler can reach.
const IDLE_BEFORE_BATCH: std::time::Duration = std::time::Duration::from_millis(300);

/// Child start lateness, in ms after the batch began, over several batches.
pub struct BatchFloor {
    /// Spawning threads of the best of the tried pools.
    pub threads: usize,
    /// Sorted, every child of every batch.
    pub lateness_ms: Vec<f64>,
    /// Sorted, the last child's start in each batch: the time the whole batch needs.
    pub batch_ms: Vec<f64>,
}

fn now_ns() -> Result<i128> {
    SystemClock
        .now()
        .timestamp_nanos_opt()
        .map(i128::from)
        .context("the clock is outside the years 1677–2262")
}

/// The environment a bench daemon (started with [`SERVICE_ENV`]) gives a run of a task called
/// `task`, so that the floor's children cost what the daemon's do.
pub fn run_environment(task: &str, run_id: i64) -> Environment {
    let facts = RunFacts {
        task,
        run_id,
        trigger: "schedule",
        scheduled_at: SystemClock.now(),
        data_dir: "/var/lib/speedrack",
    };
    let service = |name: &str| {
        SERVICE_ENV
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, value)| *value)
    };
    speedrackd::run_environment(service, "/bin/sh", &facts, &BTreeMap::new())
}

fn spawn_child(run_id: i64) -> Result<Child> {
    Command::new("/bin/sh")
        .args(["-c", CHILD_COMMAND])
        .env_clear()
        .envs(run_environment("late_0", run_id).iter())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .context("cannot spawn sh")
}

/// Starts `size` children from `threads` threads at once; each child's lateness in ms.
fn one_batch(size: usize, threads: usize) -> Result<Vec<f64>> {
    let start = now_ns()?;
    let spawned = Mutex::new(Vec::with_capacity(size));
    // Scoped threads are joined when the scope ends; each one starts every `threads`-th child.
    std::thread::scope(|scope| {
        for worker in 0..threads {
            let spawned = &spawned;
            scope.spawn(move || {
                for index in (worker..size).step_by(threads) {
                    let child = spawn_child(index as i64);
                    spawned
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(child);
                }
            });
        }
    });
    let children = spawned
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .into_iter()
        .collect::<Result<Vec<Child>>>()?;
    children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output()?;
            let began: i128 = String::from_utf8_lossy(&output.stdout)
                .trim()
                .parse()
                .context("a child printed no start time")?;
            Ok((began - start) as f64 / 1e6)
        })
        .collect()
}

/// Runs `batches` batches of `size` for 1, `nproc` and 2 × `nproc` spawning threads and keeps
/// the pool whose whole batch finished starting soonest (median over batches).
pub fn measure(size: usize, batches: usize) -> Result<BatchFloor> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut best: Option<BatchFloor> = None;
    for threads in [1, cores, 2 * cores] {
        if best.as_ref().is_some_and(|best| best.threads == threads) {
            continue;
        }
        let mut lateness_ms = Vec::new();
        let mut batch_ms = Vec::new();
        for _ in 0..batches.max(1) {
            #[allow(
                clippy::disallowed_methods,
                reason = "idling is what is measured here: no event to wait for"
            )]
            std::thread::sleep(IDLE_BEFORE_BATCH);
            let batch = one_batch(size, threads)?;
            batch_ms.push(batch.iter().copied().fold(0.0, f64::max));
            lateness_ms.extend(batch);
        }
        lateness_ms.sort_by(f64::total_cmp);
        batch_ms.sort_by(f64::total_cmp);
        let candidate = BatchFloor {
            threads,
            lateness_ms,
            batch_ms,
        };
        let median = |floor: &BatchFloor| floor.batch_ms[floor.batch_ms.len() / 2];
        if best
            .as_ref()
            .is_none_or(|best| median(&candidate) < median(best))
        {
            best = Some(candidate);
        }
    }
    best.context("no batch was measured")
}
