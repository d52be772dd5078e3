//! `throughput`: runs of `true` as fast as the daemon starts them, beside the machine's floor.
//!
//! The floor is this process spawning `sh -c true` one after another and waiting for each,
//! measured in the same scenario just before the daemon starts and again once it stopped,
//! pooled; the CPU floor is this process starting 100 a second with their output piped, as
//! the daemon does, and its CPU per run; the store's share is measured apart
//! (`record_cost.rs`).
//! Then 100 tasks fire every second, first alone (what one run costs the daemon, as cron's
//! cost is counted), then while clients ask for run-now bursts without pause; runs are counted
//! from the daemon's `runs_since_start`, CPU from /proc (the children's CPU is not the
//! daemon's).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use speedrack_proto::v1 as pb;

use super::daemon::BenchDaemon;
use super::procfs::{cpu_by_thread_name, cpu_time};
use super::record_cost;
use super::report::Report;
use super::spawn_floor;

pub const TASKS: usize = 100;
/// How long the machine floor is measured, before the daemon starts and again after it stops.
const FLOOR_WINDOW: Duration = Duration::from_secs(5);
const CLIENTS: usize = 4;

pub fn tasks_yaml() -> String {
    let mut yaml = String::from("tasks:\n");
    for index in 0..TASKS {
        yaml.push_str(&format!(
            "  - name: t_{index}\n    command: 'true'\n    cron: '* * * * * *'\n    overlap: parallel\n    max_keep: 20\n"
        ));
    }
    yaml
}

/// `sh -c true` as the `index`th run would get it (its environment, no input), outputs `out`.
fn sh_true(index: u64, out: fn() -> Stdio) -> Command {
    let mut command = Command::new("/bin/sh");
    command
        .args(["-c", "true"])
        .env_clear()
        .envs(spawn_floor::run_environment("t_0", index as i64).iter())
        .stdin(Stdio::null())
        .stdout(out())
        .stderr(out());
    command
}

/// `sh -c true` spawned and waited for, one at a time, for `window`, with the environment a run
/// gets: runs per second.
fn fork_exec_floor(window: Duration) -> Result<f64> {
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < window {
        sh_true(count, Stdio::null)
            .status()
            .context("cannot spawn sh -c true")?;
        count += 1;
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

/// This thread's CPU time, for a floor measured on one thread.
pub fn thread_cpu() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

/// The CPU a run costs the bench itself, in ms, when it does what the daemon cannot do less
/// than: start [`TASKS`] runs each second (the environment a run gets, both outputs piped),
/// read both outputs to their end and reap each child, on one thread, for `window`. Nothing
/// is recorded, so this is the floor under "daemon CPU per run".
fn capture_floor_cpu(window: Duration) -> Result<f64> {
    let cpu_before = thread_cpu();
    let mut runs = 0;
    for _ in 0..window.as_secs().max(1) {
        let second = Instant::now();
        let children = (0..TASKS)
            .map(|index| {
                sh_true((runs + index) as u64, Stdio::piped)
                    .spawn()
                    .context("cannot spawn sh -c true")
            })
            .collect::<Result<Vec<Child>>>()?;
        for mut child in children {
            if let Some(mut stdout) = child.stdout.take() {
                std::io::copy(&mut stdout, &mut std::io::sink())?;
            }
            if let Some(mut stderr) = child.stderr.take() {
                std::io::copy(&mut stderr, &mut std::io::sink())?;
            }
            child.wait()?;
            runs += 1;
        }
        #[allow(
            clippy::disallowed_methods,
            reason = "the pace of 100 runs a second is what is measured: no event to wait for"
        )]
        std::thread::sleep(Duration::from_secs(1).saturating_sub(second.elapsed()));
    }
    Ok((thread_cpu() - cpu_before).as_secs_f64() * 1e3 / runs.max(1) as f64)
}

pub async fn runs_since_start(daemon: &BenchDaemon) -> Result<u64> {
    let tasks = daemon
        .client()
        .await?
        .list_tasks(pb::ListTasksRequest {
            recent_runs: 0,
            ..pb::ListTasksRequest::default()
        })
        .await?
        .into_inner()
        .tasks;
    Ok(tasks.iter().map(|task| task.runs_since_start).sum())
}

/// One client asking for runs until `deadline`; returns (accepted, refused).
async fn burst(
    daemon_socket: std::path::PathBuf,
    offset: usize,
    deadline: Instant,
) -> Result<(u64, u64)> {
    let mut client = speedrack_proto::connect(&daemon_socket).await?;
    let (mut accepted, mut refused) = (0, 0);
    let mut index = offset;
    while Instant::now() < deadline {
        let request = pb::RunNowRequest {
            task: format!("t_{}", index % TASKS),
            on_behalf_of: String::new(),
        };
        match client.run_now(request).await {
            Ok(_) => accepted += 1,
            Err(_) => refused += 1,
        }
        index += CLIENTS;
    }
    Ok((accepted, refused))
}

/// The daemon's own CPU per run while only the schedule starts runs.
struct ScheduledCost {
    /// All its threads, ms per run.
    ms_per_run: f64,
    /// Its live threads by name, µs per run.
    by_thread: Vec<(String, f64)>,
}

/// [`ScheduledCost`] over `window`.
async fn cpu_per_scheduled_run(daemon: &BenchDaemon, window: Duration) -> Result<ScheduledCost> {
    let runs_before = runs_since_start(daemon).await?;
    let (cpu_before, threads_before) = (cpu_time(daemon.pid())?, cpu_by_thread_name(daemon.pid())?);
    tokio::time::sleep(window).await;
    let runs = (runs_since_start(daemon).await? - runs_before).max(1) as f64;
    let (cpu, threads) = (cpu_time(daemon.pid())?, cpu_by_thread_name(daemon.pid())?);
    let by_thread = threads
        .into_iter()
        .map(|(name, cpu)| {
            let before = threads_before.get(&name).copied().unwrap_or_default();
            (name, cpu.saturating_sub(before).as_secs_f64() * 1e6 / runs)
        })
        .collect();
    Ok(ScheduledCost {
        ms_per_run: cpu.saturating_sub(cpu_before).as_secs_f64() * 1e3 / runs,
        by_thread,
    })
}

/// Runs the scenario for `seconds` of load.
pub async fn run(seconds: u64) -> Result<Report> {
    let floor_before = fork_exec_floor(FLOOR_WINDOW)?;
    let cpu_floor = capture_floor_cpu(Duration::from_secs(seconds.min(10)))?;
    let store_cost = record_cost::store_cpu_per_run()?;
    let daemon = BenchDaemon::start(&tasks_yaml(), None)?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let scheduled_cost = cpu_per_scheduled_run(&daemon, Duration::from_secs(seconds)).await?;
    let runs_before = runs_since_start(&daemon).await?;
    let cpu_before = cpu_time(daemon.pid())?;
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..CLIENTS)
        .map(|offset| tokio::spawn(burst(daemon.socket(), offset, deadline)))
        .collect();
    let (mut accepted, mut refused) = (0, 0);
    for worker in workers {
        let (ok, no) = worker.await??;
        accepted += ok;
        refused += no;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let runs = runs_since_start(&daemon).await? - runs_before;
    let cpu_seconds = cpu_time(daemon.pid())?
        .saturating_sub(cpu_before)
        .as_secs_f64();
    let rate = runs as f64 / elapsed;
    // The machine's speed drifts on a shared host: its floor is taken on both sides of the
    // daemon's windows, with the daemon stopped, and pooled.
    drop(daemon);
    let floor_after = fork_exec_floor(FLOOR_WINDOW)?;
    let floor = (floor_before + floor_after) / 2.0;
    let mut report = Report::new("throughput");
    report.add(
        "machine floor: sh -c true, sequential, before the daemon",
        floor_before,
        "runs/s",
    );
    report.add(
        "machine floor: the same, after the daemon",
        floor_after,
        "runs/s",
    );
    report.add("machine floor: mean of the two", floor, "runs/s");
    report.at_least("daemon sustained runs", rate, "runs/s", floor * 0.75);
    report.add("daemon share of the floor", rate / floor * 100.0, "%");
    report.at_most(
        "daemon CPU per run, schedule only",
        scheduled_cost.ms_per_run,
        "ms",
        0.1,
    );
    for (thread, us_per_run) in &scheduled_cost.by_thread {
        report.add(
            &format!("  of which threads named {thread}"),
            *us_per_run,
            "µs",
        );
    }
    report.add(
        "machine floor: CPU per run of spawning, capturing, reaping",
        cpu_floor,
        "ms",
    );
    report.add(
        "store CPU per run: recording its start, end and prune",
        store_cost,
        "ms",
    );
    report.add(
        "daemon CPU per run, schedule only / the floor",
        scheduled_cost.ms_per_run / cpu_floor,
        "x",
    );
    report.add(
        "daemon CPU per run, with run-now bursts",
        cpu_seconds / runs.max(1) as f64 * 1e3,
        "ms",
    );
    report.add(
        "daemon CPU over the window",
        cpu_seconds / elapsed * 100.0,
        "%",
    );
    report.add("run-now accepted", accepted as f64, "calls");
    report.add("run-now refused", refused as f64, "calls");
    report.note(format!(
        "{TASKS} tasks every second (overlap: parallel) for {seconds} s alone, then with {CLIENTS} clients calling RunNow without pause for {elapsed:.1} s"
    ));
    Ok(report)
}
