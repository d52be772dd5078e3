//! When a task fires: pure functions from a schedule and an instant to the next instant.
//!
//! Fire times are computed, never polled: the scheduler asks for the first instant strictly after
//! the previous fire. Nothing here reads the clock or knows about processes.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::format_interval;

/// A task's schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Every period, counted from an anchor instant (absolute time: DST does not move it).
    Interval(Duration),
}

impl Schedule {
    /// The first fire strictly after `after`, for a schedule whose phase starts at `anchor`.
    ///
    /// An interval fires at `anchor + k * period` for k ≥ 1, so a task loaded at `anchor` first
    /// fires one period later, and a late wake-up does not shift the phase.
    pub fn next_after(&self, anchor: DateTime<Utc>, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Interval(period) => {
                let period = chrono::Duration::from_std(*period).ok()?;
                let period_ns = period.num_nanoseconds()?;
                let elapsed_ns = (after - anchor).num_nanoseconds()?.max(0);
                let periods_done = elapsed_ns / period_ns;
                let next = anchor
                    + chrono::Duration::nanoseconds((periods_done + 1).checked_mul(period_ns)?);
                Some(next)
            }
        }
    }

    /// The schedule in words, e.g. `every 1h10m`.
    pub fn describe(&self) -> String {
        match self {
            Schedule::Interval(period) => format!("every {}", format_interval(*period)),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + seconds, 0)
            .single()
            .expect("valid instant")
    }

    #[test]
    fn intervals_fire_on_their_phase() {
        let every_21s = Schedule::Interval(Duration::from_secs(21));
        let cases = [
            (0, 21),  // first fire one period after load
            (20, 21), // just before a fire
            (21, 42), // strictly after
            (50, 63), // a late wake-up keeps the phase
            (-5, 21), // asking about the past gives the first fire
        ];
        for (after, expected) in cases {
            assert_eq!(
                every_21s.next_after(at(0), at(after)),
                Some(at(expected)),
                "after {after}"
            );
        }
    }

    #[test]
    fn describes_itself_in_the_interval_grammar() {
        assert_eq!(
            Schedule::Interval(Duration::from_secs(4200)).describe(),
            "every 1h10m"
        );
    }
}
