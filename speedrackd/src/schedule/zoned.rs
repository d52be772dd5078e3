//! Calendar schedules in a time zone: from matching wall-clock times to instants, by our DST
//! rules, the same for every kind of calendar pattern.
//!
//! - A wall time that does not exist (spring forward) fires at the first instant after the gap.
//! - A wall time that occurs twice (fall back) fires once, at its first occurrence.
//!
//! Patterns only know wall-clock times; this module alone knows zones.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Candidates a single search may pass over (every one a wall time of a repeated hour, at most
/// 3 600 for a per-second schedule) before giving up.
const MAX_SKIPPED: usize = 10_000;

/// The first fire strictly after `after`, for a pattern that gives the first matching wall time
/// strictly after a wall time.
pub fn next_fire(
    tz: Tz,
    after: DateTime<Utc>,
    mut next_wall_after: impl FnMut(NaiveDateTime) -> Option<NaiveDateTime>,
) -> Option<DateTime<Utc>> {
    let mut wall = wall_of(tz, after);
    for _ in 0..MAX_SKIPPED {
        let candidate = next_wall_after(wall)?;
        let instant = instant_of_wall(tz, candidate);
        // Candidates of a repeated hour whose first occurrence is already past are skipped.
        if instant > after {
            return Some(instant);
        }
        wall = candidate;
    }
    None
}

/// What the clocks in `tz` show at `instant`.
pub fn wall_of(tz: Tz, instant: DateTime<Utc>) -> NaiveDateTime {
    instant.with_timezone(&tz).naive_local()
}

/// When the clocks in `tz` show `wall`, by the DST rules above.
pub fn instant_of_wall(tz: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&wall) {
        LocalResult::Single(at) => at.with_timezone(&Utc),
        LocalResult::Ambiguous(first, second) => first.min(second).with_timezone(&Utc),
        LocalResult::None => end_of_gap(tz, wall),
    }
}

/// The first instant whose wall time is at or after `wall`, which lies in a gap: the moment the
/// clocks jumped over it. Found by bisection, since gaps are not always whole hours.
fn end_of_gap(tz: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    // UTC offsets stay within ±14 h, so these bracket the answer.
    let margin = chrono::Duration::hours(15);
    let (mut before, mut after) = (wall.and_utc() - margin, wall.and_utc() + margin);
    while after - before > chrono::Duration::seconds(1) {
        let middle = before + (after - before) / 2;
        if wall_of(tz, middle) >= wall {
            after = middle;
        } else {
            before = middle;
        }
    }
    // Transitions happen on whole seconds; `after` is the first second past the gap.
    after.with_nanosecond_floor()
}

trait NanosecondFloor {
    fn with_nanosecond_floor(self) -> Self;
}

impl NanosecondFloor for DateTime<Utc> {
    fn with_nanosecond_floor(self) -> Self {
        DateTime::from_timestamp(self.timestamp(), 0).unwrap_or(self)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Timelike;

    use super::*;

    fn wall(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").expect("wall time")
    }

    fn utc(text: &str) -> DateTime<Utc> {
        wall(text).and_utc()
    }

    #[test]
    fn maps_wall_times_by_the_dst_rules() {
        let berlin = chrono_tz::Europe::Berlin;
        let new_york = chrono_tz::America::New_York;
        let cases = [
            // ordinary
            (berlin, "2026-01-15 12:00:00", "2026-01-15 11:00:00"),
            (new_york, "2026-07-01 12:00:00", "2026-07-01 16:00:00"),
            // spring forward: 02:00-03:00 does not exist; fire when the gap ends
            (berlin, "2026-03-29 02:30:00", "2026-03-29 01:00:00"),
            (berlin, "2026-03-29 02:00:00", "2026-03-29 01:00:00"),
            (new_york, "2026-03-08 02:15:00", "2026-03-08 07:00:00"),
            // fall back: 02:00-03:00 (Berlin) and 01:00-02:00 (New York) happen twice; first wins
            (berlin, "2026-10-25 02:30:00", "2026-10-25 00:30:00"),
            (new_york, "2026-11-01 01:30:00", "2026-11-01 05:30:00"),
        ];
        for (tz, local, expected) in cases {
            assert_eq!(
                instant_of_wall(tz, wall(local)),
                utc(expected),
                "{tz} {local}"
            );
        }
    }

    #[test]
    fn gaps_that_are_not_whole_hours_end_on_their_exact_second() {
        // Lord Howe Island moves its clocks by 30 minutes: 02:00 -> 02:30 on 2026-10-04.
        let lord_howe = chrono_tz::Australia::Lord_Howe;
        let at = instant_of_wall(lord_howe, wall("2026-10-04 02:10:00"));
        assert_eq!(wall_of(lord_howe, at), wall("2026-10-04 02:30:00"));
        assert_eq!(
            at,
            lord_howe
                .from_local_datetime(&wall("2026-10-04 02:30:00"))
                .unwrap()
                .with_timezone(&Utc)
        );
    }

    /// Every day at `hour:minute`, as a wall-time pattern.
    fn daily_at(hour: u32, minute: u32) -> impl FnMut(NaiveDateTime) -> Option<NaiveDateTime> {
        move |after: NaiveDateTime| {
            let today = after.date().and_hms_opt(hour, minute, 0)?;
            Some(if today > after {
                today
            } else {
                today + chrono::Duration::days(1)
            })
        }
    }

    #[test]
    fn a_daily_fire_in_the_gap_fires_once_when_the_gap_ends() {
        let berlin = chrono_tz::Europe::Berlin;
        let after = utc("2026-03-28 12:00:00");
        let first = next_fire(berlin, after, daily_at(2, 30)).expect("fires");
        assert_eq!(first, utc("2026-03-29 01:00:00"));
        let second = next_fire(berlin, first, daily_at(2, 30)).expect("fires");
        assert_eq!(
            second,
            utc("2026-03-30 00:30:00"),
            "back to 02:30 CEST the day after"
        );
    }

    #[test]
    fn a_daily_fire_in_the_repeated_hour_fires_once() {
        let new_york = chrono_tz::America::New_York;
        let after = utc("2026-10-31 12:00:00");
        let first = next_fire(new_york, after, daily_at(1, 30)).expect("fires");
        assert_eq!(
            first,
            utc("2026-11-01 05:30:00"),
            "01:30 EDT, the first occurrence"
        );
        let second = next_fire(new_york, first, daily_at(1, 30)).expect("fires");
        assert_eq!(
            second,
            utc("2026-11-02 06:30:00"),
            "not again at 01:30 EST the same night"
        );
    }

    #[test]
    fn an_every_minute_pattern_does_not_repeat_the_repeated_hour() {
        let berlin = chrono_tz::Europe::Berlin;
        let every_minute = |after: NaiveDateTime| {
            after
                .with_second(0)
                .map(|minute| minute + chrono::Duration::minutes(1))
        };
        // 02:59 CEST, last minute of the first pass; then the clocks go back to 02:00 CET.
        let last_of_first_pass = utc("2026-10-25 00:59:00");
        let next = next_fire(berlin, last_of_first_pass, every_minute).expect("fires");
        assert_eq!(
            next,
            utc("2026-10-25 02:00:00"),
            "next is 03:00 CET, the second pass is skipped"
        );
    }
}
