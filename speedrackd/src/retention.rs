//! Which runs to forget: a pure choice over a task's runs and the retention settings.
//!
//! `max_keep` keeps the newest runs; `retain_failures` keeps the newest failed runs as well, so
//! successes cannot flush a failure out of sight (seed Todo); `history_max_age` forgets runs
//! older than that. A running run is never chosen.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::run::{RunId, RunStatus};

/// What retention needs to know of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunMeta {
    pub id: RunId,
    pub status: RunStatus,
    pub started_at: DateTime<Utc>,
}

/// A task's retention settings (task keys merged over the settings' defaults).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    pub max_keep: Option<u32>,
    pub retain_failures: Option<u32>,
    pub max_age: Option<Duration>,
}

impl Policy {
    pub fn keeps_everything(&self) -> bool {
        self.max_keep.is_none() && self.max_age.is_none()
    }

    /// How many of a task's newest runs this policy keeps whatever they are, so that they
    /// need not be read: all of `max_keep` when neither an age nor kept failures look at
    /// them. Reading only the runs past them keeps a prune's cost from growing with
    /// `max_keep` (BENCHMARKS.md).
    pub fn kept_unread(&self) -> u32 {
        match (self.max_keep, self.retain_failures, self.max_age) {
            (Some(keep), None | Some(0), None) => keep,
            _ => 0,
        }
    }
}

fn is_failed(status: RunStatus) -> bool {
    matches!(
        status,
        RunStatus::Failure | RunStatus::ExecutionError | RunStatus::Interrupted
    )
}

/// The runs to prune, given a task's runs newest first past its newest `unread`, which must be
/// at most [`Policy::kept_unread`].
pub fn prunable(
    unread: u32,
    runs_newest_first: &[RunMeta],
    policy: &Policy,
    now: DateTime<Utc>,
) -> Vec<RunId> {
    debug_assert!(
        unread <= policy.kept_unread(),
        "{unread} runs left unread under {policy:?}"
    );
    let max_age = policy
        .max_age
        .and_then(|age| chrono::Duration::from_std(age).ok());
    let keep_newest = policy
        .max_keep
        .map_or(usize::MAX, |keep| keep.saturating_sub(unread) as usize);
    let mut failures_kept = 0_usize;
    let retain_failures = policy.retain_failures.unwrap_or(0) as usize;
    let mut prune = Vec::new();
    for (index, run) in runs_newest_first.iter().enumerate() {
        if run.status == RunStatus::Running {
            continue;
        }
        let too_old = max_age.is_some_and(|age| now - run.started_at > age);
        let failure_kept = is_failed(run.status) && failures_kept < retain_failures;
        if is_failed(run.status) {
            failures_kept += 1;
        }
        if too_old || (index >= keep_newest && !failure_kept) {
            prune.push(run.id);
        }
    }
    prune
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn runs(statuses: &str) -> Vec<RunMeta> {
        // Newest first: letter i is run id (len - i), started (len - i) hours after the epoch.
        let len = statuses.len() as i64;
        statuses
            .chars()
            .enumerate()
            .map(|(i, letter)| {
                let id = len - i as i64;
                RunMeta {
                    id: RunId(id),
                    status: match letter {
                        'S' => RunStatus::Success,
                        'F' => RunStatus::Failure,
                        'E' => RunStatus::ExecutionError,
                        'R' => RunStatus::Running,
                        _ => RunStatus::Interrupted,
                    },
                    started_at: Utc.timestamp_opt(id * 3600, 0).single().expect("instant"),
                }
            })
            .collect()
    }

    fn ids(list: &[RunId]) -> Vec<i64> {
        list.iter().map(|id| id.0).collect()
    }

    #[test]
    fn prunes_by_count_age_and_keeps_failures() {
        let now = Utc.timestamp_opt(10 * 3600, 0).single().expect("instant");
        let keep = |max_keep, retain_failures| Policy {
            max_keep,
            retain_failures,
            max_age: None,
        };
        let cases: &[(&str, Policy, &[i64])] = &[
            ("SSSSS", Policy::default(), &[]),
            ("SSSSS", keep(Some(2), None), &[3, 2, 1]),
            // runs 5..1 newest first; failures are 3 and 1
            ("SSFSF", keep(Some(2), Some(1)), &[2, 1]),
            ("SSFSF", keep(Some(2), Some(5)), &[2]),
            ("FSSSS", keep(Some(1), Some(1)), &[4, 3, 2, 1]),
            ("RSSSS", keep(Some(0), None), &[4, 3, 2, 1]),
            ("SSEIF", keep(Some(1), Some(2)), &[4, 1]),
            (
                "SSSSS",
                Policy {
                    max_age: Some(Duration::from_secs(6 * 3600)),
                    ..Policy::default()
                },
                &[3, 2, 1],
            ),
        ];
        for (statuses, policy, expected) in cases {
            assert_eq!(
                ids(&prunable(0, &runs(statuses), policy, now)),
                *expected,
                "{statuses} {policy:?}"
            );
        }
    }

    #[test]
    fn runs_kept_whatever_they_are_need_not_be_read() {
        let now = Utc.timestamp_opt(10 * 3600, 0).single().expect("instant");
        let only_count = Policy {
            max_keep: Some(2),
            ..Policy::default()
        };
        assert_eq!(only_count.kept_unread(), 2);
        let all = runs("RFSSFS");
        assert_eq!(
            ids(&prunable(2, &all[2..], &only_count, now)),
            ids(&prunable(0, &all, &only_count, now)),
        );
        assert_eq!(ids(&prunable(2, &all[2..], &only_count, now)), [4, 3, 2, 1]);
        // Kept failures and ages look at every run.
        for policy in [
            Policy {
                retain_failures: Some(1),
                ..only_count
            },
            Policy {
                max_age: Some(Duration::from_secs(3600)),
                ..only_count
            },
        ] {
            assert_eq!(policy.kept_unread(), 0, "{policy:?}");
        }
    }
}
