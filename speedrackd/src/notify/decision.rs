//! Whether a finished run is worth telling anyone about: the seed's rules (spam, spam_fail,
//! otherwise only changes of state) plus a failure threshold and a rate limit; and the failure
//! streak those rules count, kept by the caller from run to run. Pure.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::run::RunStatus;

/// What a notification says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alert {
    Failed,
    /// A success after failures that were alerted on.
    Recovered,
    /// A success worth mentioning only because the task asks for every run (spam).
    Succeeded,
}

impl Alert {
    /// The word the seed put in subjects.
    pub fn word(self) -> &'static str {
        match self {
            Alert::Failed => "failed",
            Alert::Recovered | Alert::Succeeded => "success",
        }
    }
}

/// A task's notification settings, merged over the global ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// After every run.
    pub spam: bool,
    /// After every failed run.
    pub spam_fail: bool,
    /// A failure is alerted when this many runs in a row have failed (at least 1).
    pub after_failures: u32,
    pub min_interval: Option<Duration>,
}

/// The run and what came before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Situation {
    pub failed: bool,
    /// Non-successful runs in a row right before this one (see [`failure_streak`]); any count
    /// from `after_failures` up means the same.
    pub failures_before: u32,
    pub last_notified_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// The alert to send for this run, if any.
pub fn decide(rules: &Rules, situation: &Situation) -> Option<Alert> {
    let threshold = rules.after_failures.max(1);
    let alerted_before = situation.failures_before >= threshold;
    let alert = if situation.failed {
        let reaches_threshold = situation.failures_before.saturating_add(1) == threshold;
        (rules.spam || rules.spam_fail || reaches_threshold).then_some(Alert::Failed)
    } else if alerted_before {
        Some(Alert::Recovered)
    } else {
        rules.spam.then_some(Alert::Succeeded)
    }?;
    let too_soon = match (rules.min_interval, situation.last_notified_at) {
        (Some(interval), Some(last)) => {
            situation.now - last
                < chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::MAX)
        }
        _ => false,
    };
    (!too_soon).then_some(alert)
}

/// The task's streak of non-successful runs after a run that ended with `status`, given the
/// streak before it: a success ends it, any other end (failure, execution error, interrupted)
/// lengthens it. `Running` is no end and leaves it as it was.
pub fn failure_streak(before: u32, status: RunStatus) -> u32 {
    match status {
        RunStatus::Success => 0,
        RunStatus::Running => before,
        RunStatus::Failure | RunStatus::ExecutionError | RunStatus::Interrupted => {
            before.saturating_add(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const PLAIN: Rules = Rules {
        spam: false,
        spam_fail: false,
        after_failures: 1,
        min_interval: None,
    };

    /// Plays a sequence of outcomes (`F`ail, `S`uccess) through `decide`, a minute apart, with
    /// the streak kept by `failure_streak`, and returns the alert of each run.
    fn play(rules: Rules, outcomes: &str) -> Vec<Option<Alert>> {
        let mut streak = 0;
        let mut last_notified_at = None;
        outcomes
            .chars()
            .enumerate()
            .map(|(minute, outcome)| {
                let now = Utc
                    .timestamp_opt(minute as i64 * 60, 0)
                    .single()
                    .expect("instant");
                let status = match outcome {
                    'F' => RunStatus::Failure,
                    _ => RunStatus::Success,
                };
                let situation = Situation {
                    failed: status != RunStatus::Success,
                    failures_before: streak,
                    last_notified_at,
                    now,
                };
                let alert = decide(&rules, &situation);
                streak = failure_streak(streak, status);
                if alert.is_some() {
                    last_notified_at = Some(now);
                }
                alert
            })
            .collect()
    }

    use Alert::{Failed, Recovered, Succeeded};

    #[test]
    fn a_success_ends_the_streak_and_every_other_end_lengthens_it() {
        let cases = [
            (0, RunStatus::Success, 0),
            (7, RunStatus::Success, 0),
            (0, RunStatus::Failure, 1),
            (2, RunStatus::ExecutionError, 3),
            (2, RunStatus::Interrupted, 3),
            (4, RunStatus::Running, 4),
            (u32::MAX, RunStatus::Failure, u32::MAX),
        ];
        for (before, status, after) in cases {
            assert_eq!(failure_streak(before, status), after, "{before} {status:?}");
        }
    }

    #[test]
    fn a_streak_past_the_threshold_neither_alerts_again_nor_overflows() {
        let rules = Rules {
            after_failures: 2,
            ..PLAIN
        };
        let at = Utc.timestamp_opt(0, 0).single().expect("instant");
        for (failed, failures_before, expected) in [
            (true, 1, Some(Failed)),
            (true, 40, None),
            (true, u32::MAX, None),
            (false, 40, Some(Recovered)),
            (false, u32::MAX, Some(Recovered)),
        ] {
            let situation = Situation {
                failed,
                failures_before,
                last_notified_at: None,
                now: at,
            };
            assert_eq!(decide(&rules, &situation), expected, "{situation:?}");
        }
    }

    #[test]
    fn the_seed_rules() {
        let cases: &[(Rules, &str, &[Option<Alert>])] = &[
            // Only changes of state: fail, fail, success, success, fail.
            (
                PLAIN,
                "FFSSF",
                &[Some(Failed), None, Some(Recovered), None, Some(Failed)],
            ),
            (PLAIN, "SSS", &[None, None, None]),
            (
                Rules {
                    spam: true,
                    ..PLAIN
                },
                "SFS",
                &[Some(Succeeded), Some(Failed), Some(Recovered)],
            ),
            (
                Rules {
                    spam_fail: true,
                    ..PLAIN
                },
                "FFSF",
                &[Some(Failed), Some(Failed), Some(Recovered), Some(Failed)],
            ),
        ];
        for (rules, outcomes, expected) in cases {
            assert_eq!(play(*rules, outcomes), *expected, "{rules:?} {outcomes}");
        }
    }

    #[test]
    fn a_failure_threshold_waits_for_a_streak_and_recovers_only_after_an_alert() {
        let rules = Rules {
            after_failures: 3,
            ..PLAIN
        };
        assert_eq!(
            play(rules, "FFSFFFFS"),
            [
                None,
                None,
                None,
                None,
                None,
                Some(Failed),
                None,
                Some(Recovered)
            ]
        );
    }

    #[test]
    fn a_rate_limit_stops_floods() {
        let rules = Rules {
            spam_fail: true,
            min_interval: Some(Duration::from_secs(150)),
            ..PLAIN
        };
        assert_eq!(
            play(rules, "FFFFF"),
            [Some(Failed), None, None, Some(Failed), None]
        );
    }
}
