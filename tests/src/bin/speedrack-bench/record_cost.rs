//! What recording a run costs the history store, on one thread, with no process started: the
//! part of "daemon CPU per run" that SQLite takes.
//!
//! The writes are the loop's for the `throughput` scenario's tasks (100 firing every second,
//! `max_keep: 20`), in its batches: each second's starts with their last fires in one
//! transaction, the ends ten at a time as they come back, then the prune of each task's run
//! `max_keep` runs older. Timed by this thread's CPU clock, so it is the store's own work.

use std::time::Duration;

use anyhow::{Context, Result};
use speedrackd::clock::{Clock, SystemClock};
use speedrackd::config::TaskName;
use speedrackd::history::{Claim, NewRun, SqliteStore, Store};
use speedrackd::run::{Exit, RunEnd, RunId, RunStatus, Trigger};

use super::throughput::{TASKS, thread_cpu};

const MAX_KEEP: usize = 20;
/// Ends recorded per transaction.
const ENDS_PER_WRITE: usize = 10;
/// Seconds of fires written before timing, so that every task has `MAX_KEEP` runs to prune.
const WARM_UP: usize = MAX_KEEP + 5;
const TIMED: usize = 1_000;

/// CPU per run in ms, over `TIMED` seconds of the scenario's fires.
pub fn store_cpu_per_run() -> Result<f64> {
    let dir = tempfile::tempdir().context("cannot create a temp dir")?;
    let history = SqliteStore::open(dir.path())?;
    let tasks: Vec<TaskName> = (0..TASKS)
        .map(|index| TaskName::parse_normalised(&format!("t_{index}")).context("a bench task name"))
        .collect::<Result<_>>()?;
    let mut ids: Vec<Vec<RunId>> = vec![Vec::new(); TASKS];
    let mut cpu = Duration::ZERO;
    for second in 0..WARM_UP + TIMED {
        let before = thread_cpu();
        record_second(&history, &tasks, &mut ids)?;
        if second >= WARM_UP {
            cpu += thread_cpu() - before;
        }
    }
    Ok(cpu.as_secs_f64() * 1e3 / (TIMED * TASKS) as f64)
}

/// One second of the scenario: every task fires, its run ends, its oldest run past `MAX_KEEP`
/// is pruned.
fn record_second(history: &SqliteStore, tasks: &[TaskName], ids: &mut [Vec<RunId>]) -> Result<()> {
    let due = SystemClock.now();
    let definition = "command: 'true'\ncron: '* * * * * *'\noverlap: parallel\nmax_keep: 20\n";
    let fires: Vec<(TaskName, chrono::DateTime<chrono::Utc>)> =
        tasks.iter().map(|task| (task.clone(), due)).collect();
    let runs: Vec<NewRun<'_>> = tasks
        .iter()
        .map(|task| NewRun {
            task,
            trigger: &Trigger::Schedule,
            scheduled_at: due,
            started_at: due,
            definition,
            pays_owed: false,
            claim: Claim::Cluster,
        })
        .collect();
    let started: Vec<RunId> = history
        .record_starts(&fires, &[], &runs)?
        .into_iter()
        .collect::<Option<_>>()
        .context("a single node's history claims every fire")?;
    let end = RunEnd {
        exit: Some(Exit::Code(0)),
        ..RunEnd::bare(due, RunStatus::Success, String::new())
    };
    for batch in started.chunks(ENDS_PER_WRITE) {
        let ends: Vec<(RunId, &RunEnd)> = batch.iter().map(|run| (*run, &end)).collect();
        history.finish_runs(&ends)?;
    }
    let mut pruned = Vec::new();
    for ((task, kept), run) in tasks.iter().zip(ids.iter_mut()).zip(started) {
        kept.push(run);
        if kept.len() > MAX_KEEP {
            pruned.push((task.clone(), kept.remove(0)));
        }
    }
    history.delete_runs(&pruned)?;
    Ok(())
}
