//! Whether a finished run is worth telling anyone about: the seed's rules (spam, spam_fail,
//! otherwise only changes of state) plus a failure threshold and a rate limit. Pure.

use std::time::Duration;

use chrono::{DateTime, Utc};

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
    /// Failed runs right before this one, counted up to `after_failures`.
    pub failures_before: u32,
    pub last_notified_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// The alert to send for this run, if any.
pub fn decide(rules: &Rules, situation: &Situation) -> Option<Alert> {
    let threshold = rules.after_failures.max(1);
    let alerted_before = situation.failures_before >= threshold;
    let alert = if situation.failed {
        let reaches_threshold = situation.failures_before + 1 == threshold;
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

    /// Plays a sequence of outcomes (`F`ail, `S`uccess) through `decide`, a minute apart, and
    /// returns the alert of each run.
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
                let failed = outcome == 'F';
                let situation = Situation {
                    failed,
                    failures_before: streak.min(rules.after_failures.max(1)),
                    last_notified_at,
                    now,
                };
                let alert = decide(&rules, &situation);
                streak = if failed { streak + 1 } else { 0 };
                if alert.is_some() {
                    last_notified_at = Some(now);
                }
                alert
            })
            .collect()
    }

    use Alert::{Failed, Recovered, Succeeded};

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
