//! After a crash: runs the dead daemon left `running` are closed as interrupted, and whatever of
//! them still runs is killed.
//!
//! A run's group is found two ways. Recorded: the group id and its leader's start time, so a
//! stranger that reused the pid is never hit. Or, when the daemon died between starting the
//! process and recording its group, by the environment every process of the run inherits
//! (`SPEEDRACK_RUN_ID`, `SPEEDRACK_TASK`, `SPEEDRACK_DATA_DIR`), which names this run of this
//! daemon's history and nothing else.

use std::path::Path;

use chrono::{DateTime, Utc};
use nix::sys::signal::Signal;

use crate::events::{Announce, Event, Stamped};
use crate::exec::{groups_with_environment, signal_group, start_ticks};
use crate::history::{HistoryError, Orphan, Store};
use crate::run::RunId;

/// Closes the runs an earlier daemon left running and kills what of them still runs; returns
/// the runs closed, for [`announce_closed`] once watchers can hear of them.
pub fn close_orphans(history: &dyn Store, now: DateTime<Utc>) -> Result<Vec<RunId>, HistoryError> {
    let orphans = history.close_interrupted(now)?;
    for orphan in &orphans {
        let groups = surviving_groups(orphan, history.data_dir());
        if groups.is_empty() {
            tracing::warn!(run = %orphan.run, "closed a run left running by an earlier speedrackd as interrupted");
        }
        for group in groups {
            match signal_group(group, Signal::SIGKILL) {
                Ok(()) => {
                    tracing::warn!(run = %orphan.run, group, "closed a run left running by an earlier speedrackd as interrupted, and killed its processes")
                }
                Err(error) => {
                    tracing::error!(run = %orphan.run, group, "cannot kill the processes of an interrupted run: {error}")
                }
            }
        }
    }
    kill_strays(history.data_dir());
    Ok(orphans.into_iter().map(|orphan| orphan.run).collect())
}

/// Tells watchers how the closed runs ended: one that watched them start, before the crash,
/// resumes into this daemon's events and would otherwise wait for their ends forever.
pub fn announce_closed(history: &dyn Store, runs: &[RunId], events: &dyn Announce) {
    for run in runs {
        match history.get_run(*run) {
            Ok(Some(record)) => {
                let at = record
                    .end
                    .as_ref()
                    .map_or(record.started_at, |end| end.finished_at);
                events.announce(Stamped {
                    at,
                    event: Event::RunFinished(record),
                });
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(run = %run, "cannot tell watchers that this interrupted run ended: {error}")
            }
        }
    }
}

/// Kills every process group still marked with this data dir: at start nothing of this
/// daemon's may run yet, and in a cluster the runs a node left when it died may already have
/// been closed by another node, so no `running` row leads to them.
fn kill_strays(data_dir: &Path) {
    let data_dir = data_dir.display().to_string();
    for group in groups_with_environment(&[("SPEEDRACK_DATA_DIR", &data_dir)]) {
        match signal_group(group, Signal::SIGKILL) {
            Ok(()) => tracing::warn!(
                group,
                "killed the processes of a run whose daemon died, closed meanwhile"
            ),
            Err(error) => {
                tracing::error!(group, "cannot kill the processes of a closed run: {error}")
            }
        }
    }
}

fn surviving_groups(orphan: &Orphan, data_dir: &Path) -> Vec<i32> {
    if let (Some(group), Some(ticks)) = (orphan.process_group, orphan.start_ticks)
        && start_ticks(group) == Some(ticks)
    {
        return vec![group];
    }
    let run_id = orphan.run.to_string();
    let data_dir = data_dir.display().to_string();
    groups_with_environment(&[
        ("SPEEDRACK_RUN_ID", &run_id),
        ("SPEEDRACK_TASK", orphan.task.as_str()),
        ("SPEEDRACK_DATA_DIR", &data_dir),
    ])
}
