//! Fires a busy node yielded to idle nodes (`Placement::Backup`): [`CLAIM_AFTER`] past its
//! instant, a fire no node recorded yet is claimed here, so that a fire whose idle node did
//! not yet know it was its own runs late rather than never. A fire already recorded elsewhere
//! is left alone before the task's overlap policy sees it (a `replace` must not kill a run
//! for a fire another node ran); the history's unique key still settles a race.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Runtime;
use super::start::Fires;
use crate::config::TaskName;

/// How long after a yielded fire's instant this node claims it. The idle node claims it at
/// the instant itself, within milliseconds.
pub(super) const CLAIM_AFTER: Duration = Duration::from_secs(2);
/// Yielded fires kept at once; beyond it a busy node claims its fires at once (the history
/// still lets only one node record each).
const MAX_BACKUPS: usize = 10_000;

/// Yielded fires, in the order of their instants.
#[derive(Debug, Default)]
pub(super) struct Backups {
    fires: VecDeque<(TaskName, DateTime<Utc>)>,
}

impl Backups {
    /// When the oldest yielded fire is to be claimed.
    pub(super) fn next(&self) -> Option<DateTime<Utc>> {
        let (_, due) = self.fires.front()?;
        Some(claim_at(*due))
    }

    /// Keeps the fire for a later claim; false when full (claim it now).
    pub(super) fn keep(&mut self, task: TaskName, due: DateTime<Utc>) -> bool {
        if self.fires.len() >= MAX_BACKUPS {
            return false;
        }
        self.fires.push_back((task, due));
        true
    }

    /// Takes the fires whose claim is due at `now`.
    fn take_due(&mut self, now: DateTime<Utc>) -> Vec<(TaskName, DateTime<Utc>)> {
        let mut due = Vec::new();
        while let Some((_, at)) = self.fires.front()
            && claim_at(*at) <= now
        {
            due.extend(self.fires.pop_front());
        }
        due
    }
}

fn claim_at(due: DateTime<Utc>) -> DateTime<Utc> {
    due + chrono::Duration::from_std(CLAIM_AFTER).unwrap_or(chrono::Duration::zero())
}

impl Runtime {
    /// Claims the yielded fires whose time has come that no node recorded, as `fire_due`
    /// starts a fire of its own.
    pub(super) fn claim_backups(&mut self) {
        let due = self.backups.take_due(self.clock.now());
        let claimed = match self.history.fires_claimed(&due) {
            Ok(claimed) => claimed,
            // Unknown: try them all; the history's unique key still lets one node record each.
            Err(error) => {
                tracing::warn!(
                    "cannot read whether idle nodes ran the fires this busy node yielded: {error}"
                );
                vec![false; due.len()]
            }
        };
        let mut fires = Fires::default();
        let mut requests = Vec::new();
        let mut firing = Vec::new();
        for ((task, due), claimed) in due.into_iter().zip(claimed) {
            let Some(def) = self.def(&task).cloned() else {
                continue;
            };
            if claimed || self.is_suspended(&def) || !self.may_run_here(&def) {
                continue;
            }
            tracing::info!(task = %task, due = %due, "claiming a fire this busy node yielded and no idle node ran");
            firing.push(task.clone());
            self.admit_fire(def, due, &mut fires, &mut requests);
        }
        // A refusal is recorded and retried by `start_runs`; nothing else to do here.
        let _ = self.start_runs(fires, requests);
        for task in firing {
            self.start_queued(&task);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_yielded_fire_is_claimed_its_delay_after_its_instant_in_order() {
        let at = |second: i64| {
            Utc.timestamp_opt(1_800_000_000 + second, 0)
                .single()
                .expect("instant")
        };
        let task = |name| TaskName::parse_normalised(name).expect("name");
        let mut backups = Backups::default();
        assert_eq!(backups.next(), None);
        assert!(backups.keep(task("a"), at(0)));
        assert!(backups.keep(task("b"), at(1)));
        assert_eq!(backups.next(), Some(at(2)));
        assert!(backups.take_due(at(1)).is_empty());
        assert_eq!(backups.take_due(at(2)), vec![(task("a"), at(0))]);
        assert_eq!(backups.take_due(at(10)), vec![(task("b"), at(1))]);
        assert_eq!(backups.next(), None);
    }
}
