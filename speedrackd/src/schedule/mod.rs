//! When a task fires: pure functions from a schedule and an instant to the next instant.
//!
//! Fire times are computed, never polled: the scheduler asks for the first instant strictly after
//! the previous fire. Intervals are absolute durations; calendar patterns (crontab strings and
//! APScheduler-style mappings) match wall-clock times, which `zoned` maps to instants in the
//! task's time zone. Nothing here reads the clock or knows about processes.

pub mod apscheduler;
mod crontab;
mod zoned;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub use crontab::{Crontab, CrontabError};

use crate::config::format_interval;

/// A task's schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Every period, counted from an anchor instant (absolute time: DST does not move it).
    Interval(Duration),
    /// Wall-clock times matching a pattern, in a time zone.
    Calendar { pattern: Pattern, tz: Tz },
}

/// A calendar pattern over wall-clock times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    // Shared: croner keeps a bitfield for every possible year, about 10 KB a pattern, so tasks
    // with the same crontab share one copy (`config::tasks`) and clones are cheap.
    Crontab(Arc<Crontab>),
    Aps(apscheduler::ApsCron),
}

impl Pattern {
    fn next_wall_after(&self, wall: chrono::NaiveDateTime) -> Option<chrono::NaiveDateTime> {
        match self {
            Pattern::Crontab(crontab) => crontab.next_wall_after(wall),
            Pattern::Aps(cron) => cron.next_wall_after(wall),
        }
    }

    fn describe(&self) -> String {
        match self {
            Pattern::Crontab(crontab) => crontab.describe(),
            Pattern::Aps(cron) => cron.describe(),
        }
    }
}

impl Schedule {
    /// The first fire strictly after `after`, for a schedule whose phase starts at `anchor`.
    ///
    /// An interval fires at `anchor + k * period` for k ≥ 1, so a task loaded at `anchor` first
    /// fires one period later, and a late wake-up does not shift the phase. Calendar schedules
    /// ignore the anchor. `None` means the schedule never fires again.
    pub fn next_after(&self, anchor: DateTime<Utc>, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Interval(period) => {
                let period_ns = chrono::Duration::from_std(*period)
                    .ok()?
                    .num_nanoseconds()?;
                let elapsed_ns = (after - anchor).num_nanoseconds()?.max(0);
                let periods_done = elapsed_ns / period_ns;
                let offset = (periods_done + 1).checked_mul(period_ns)?;
                anchor.checked_add_signed(chrono::Duration::nanoseconds(offset))
            }
            Schedule::Calendar { pattern, tz } => {
                zoned::next_fire(*tz, after, |wall| pattern.next_wall_after(wall))
            }
        }
    }

    /// The schedule in words, e.g. `every 1h10m`, `at 23:00 on Wednesday (Europe/Berlin)`.
    pub fn describe(&self) -> String {
        match self {
            Schedule::Interval(period) => format!("every {}", format_interval(*period)),
            Schedule::Calendar { pattern, tz } => format!("{} ({tz})", pattern.describe()),
        }
    }

    /// The time zone fire times are shown in: the task's zone for calendars, UTC for intervals.
    pub fn time_zone(&self) -> Tz {
        match self {
            Schedule::Interval(_) => Tz::UTC,
            Schedule::Calendar { tz, .. } => *tz,
        }
    }

    /// The next `count` fires strictly after `after`.
    pub fn upcoming(
        &self,
        anchor: DateTime<Utc>,
        after: DateTime<Utc>,
        count: usize,
    ) -> Vec<DateTime<Utc>> {
        let mut fires = Vec::with_capacity(count.min(1024));
        let mut at = after;
        while fires.len() < count {
            let Some(next) = self.next_after(anchor, at) else {
                break;
            };
            fires.push(next);
            at = next;
        }
        fires
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
    fn intervals_ignore_dst() {
        let hourly = Schedule::Interval(Duration::from_secs(3600));
        // Across the Berlin spring-forward night, fires stay exactly an hour apart.
        let anchor = Utc
            .with_ymd_and_hms(2026, 3, 28, 23, 0, 0)
            .single()
            .expect("instant");
        let fires = hourly.upcoming(anchor, anchor, 4);
        let gaps: Vec<i64> = fires
            .windows(2)
            .map(|pair| (pair[1] - pair[0]).num_seconds())
            .collect();
        assert_eq!(gaps, [3600, 3600, 3600]);
    }

    #[test]
    fn calendars_fire_on_wall_time_in_their_zone() {
        let schedule = Schedule::Calendar {
            pattern: Pattern::Crontab(Arc::new(Crontab::parse("0 9 * * *").expect("crontab"))),
            tz: chrono_tz::America::New_York,
        };
        let after = Utc
            .with_ymd_and_hms(2026, 11, 29, 0, 0, 0)
            .single()
            .expect("instant");
        assert_eq!(
            schedule.upcoming(after, after, 2),
            [
                Utc.with_ymd_and_hms(2026, 11, 29, 14, 0, 0)
                    .single()
                    .expect("instant"),
                Utc.with_ymd_and_hms(2026, 11, 30, 14, 0, 0)
                    .single()
                    .expect("instant"),
            ]
        );
    }

    #[test]
    fn describes_itself() {
        assert_eq!(
            Schedule::Interval(Duration::from_secs(4200)).describe(),
            "every 1h10m"
        );
    }
}
