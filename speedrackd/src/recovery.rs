//! After a crash: runs the dead daemon left `running` are closed as interrupted, and their
//! process groups, if still alive, are killed. A group is killed only when its leader is provably
//! the process the run started (same pid and same start time), never a stranger that reused the
//! pid.

use chrono::{DateTime, Utc};
use nix::sys::signal::Signal;

use crate::exec::{signal_group, start_ticks};
use crate::history::{History, HistoryError};

pub fn close_orphans(history: &History, now: DateTime<Utc>) -> Result<(), HistoryError> {
    for orphan in history.close_interrupted(now)? {
        let alive = match (orphan.process_group, orphan.start_ticks) {
            (Some(group), Some(ticks)) => start_ticks(group) == Some(ticks),
            _ => false,
        };
        match (alive, orphan.process_group) {
            (true, Some(group)) => match signal_group(group, Signal::SIGKILL) {
                Ok(()) => {
                    tracing::warn!(run = %orphan.run, group, "closed a run left running by an earlier speedrackd as interrupted, and killed its processes")
                }
                Err(error) => {
                    tracing::error!(run = %orphan.run, group, "cannot kill the processes of an interrupted run: {error}")
                }
            },
            _ => {
                tracing::warn!(run = %orphan.run, "closed a run left running by an earlier speedrackd as interrupted")
            }
        }
    }
    Ok(())
}
