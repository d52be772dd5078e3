//! Times and durations in words: "3m ago", "in 12s", "1.2s"; and proto time types to chrono.
//!
//! Pure: `now` is always a parameter. It does not choose a time zone for absolute times; the
//! caller does.

use chrono::{DateTime, TimeZone, Utc};

/// A proto timestamp as a UTC instant; `None` when it is out of chrono's range.
pub fn instant(ts: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).ok()?)
}

/// A proto duration in (fractional) seconds.
pub fn seconds(d: &prost_types::Duration) -> f64 {
    d.seconds as f64 + f64::from(d.nanos) / 1e9
}

/// `at` relative to `now`: "3m ago", "in 12s", or "now" within a second; "-" when absent.
pub fn relative(at: Option<&prost_types::Timestamp>, now: DateTime<Utc>) -> String {
    let Some(at) = at.and_then(instant) else {
        return "-".to_owned();
    };
    // Whole seconds, truncated toward zero, so that "now" covers less than a second each way.
    let secs = (at - now).num_seconds();
    match secs {
        0 => "now".to_owned(),
        1.. => format!("in {}", span(secs.unsigned_abs())),
        _ => format!("{} ago", span(secs.unsigned_abs())),
    }
}

/// `at` in `zone` to the second: "2026-11-30 14:03:12"; "-" when absent.
pub fn absolute<Tz: TimeZone>(at: Option<&prost_types::Timestamp>, zone: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    match at.and_then(instant) {
        Some(at) => at
            .with_timezone(zone)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        None => "-".to_owned(),
    }
}

/// "2026-11-30 14:03:12 (2m ago)", as people read a start time in a list; "-" when absent.
pub fn absolute_and_relative<Tz: TimeZone>(
    at: Option<&prost_types::Timestamp>,
    zone: &Tz,
    now: DateTime<Utc>,
) -> String
where
    Tz::Offset: std::fmt::Display,
{
    match at.and_then(instant) {
        Some(_) => format!("{} ({})", absolute(at, zone), relative(at, now)),
        None => "-".to_owned(),
    }
}

/// A whole number of seconds in at most two units: "12s", "3m 12s", "2h 5m", "3d 4h".
pub fn span(secs: u64) -> String {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    let (big, big_unit, small, small_unit) = match secs {
        ..MINUTE => return format!("{secs}s"),
        MINUTE..HOUR => (secs / MINUTE, "m", secs % MINUTE, "s"),
        HOUR..DAY => (secs / HOUR, "h", secs % HOUR / MINUTE, "m"),
        DAY.. => (secs / DAY, "d", secs % DAY / HOUR, "h"),
    };
    match small {
        0 => format!("{big}{big_unit}"),
        _ => format!("{big}{big_unit} {small}{small_unit}"),
    }
}

/// How long a run took: "40ms" under a second, "1.2s" under a minute, then as [`span`].
pub fn run_duration(secs: f64) -> String {
    // Truncating (never rounding up) keeps "59.96s" from showing as "60.0s".
    let secs = secs.max(0.0);
    if secs < 1.0 {
        format!("{}ms", (secs * 1000.0) as u64)
    } else if secs < 60.0 {
        let tenths = (secs * 10.0) as u64;
        format!("{}.{}s", tenths / 10, tenths % 10)
    } else {
        span(secs as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(seconds: i64, nanos: i32) -> prost_types::Timestamp {
        prost_types::Timestamp { seconds, nanos }
    }

    const NOW: i64 = 1_800_000_000;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(NOW, 500_000_000).expect("valid instant")
    }

    #[test]
    fn relative_times() {
        let cases = [
            (Some(ts(NOW - 180, 500_000_000)), "3m ago"),
            (Some(ts(NOW - 200, 0)), "3m 20s ago"),
            (Some(ts(NOW + 12, 500_000_000)), "in 12s"),
            (Some(ts(NOW + 13, 0)), "in 12s"),
            (Some(ts(NOW, 0)), "now"),
            (Some(ts(NOW + 1, 0)), "now"),
            (Some(ts(NOW - 1, 500_000_000)), "1s ago"),
            (
                Some(ts(NOW - 2 * 86_400 - 3 * 3600, 500_000_000)),
                "2d 3h ago",
            ),
            (Some(ts(NOW, -1)), "-"),
            (None, "-"),
        ];
        for (at, expected) in cases {
            assert_eq!(relative(at.as_ref(), now()), expected, "{at:?}");
        }
    }

    #[test]
    fn absolute_times() {
        let at = ts(NOW - 125, 900_000_000);
        let paris = chrono::FixedOffset::east_opt(3600).expect("valid offset");
        assert_eq!(absolute(Some(&at), &Utc), "2027-01-15 07:57:55");
        assert_eq!(absolute(Some(&at), &paris), "2027-01-15 08:57:55");
        assert_eq!(
            absolute_and_relative(Some(&at), &Utc, now()),
            "2027-01-15 07:57:55 (2m 4s ago)"
        );
        assert_eq!(absolute_and_relative(None, &Utc, now()), "-");
        assert_eq!(absolute(Some(&ts(NOW, -1)), &Utc), "-");
    }

    #[test]
    fn spans() {
        let cases = [
            (0, "0s"),
            (59, "59s"),
            (60, "1m"),
            (192, "3m 12s"),
            (3599, "59m 59s"),
            (3600, "1h"),
            (7500, "2h 5m"),
            (86_399, "23h 59m"),
            (86_400, "1d"),
            (3 * 86_400 + 4 * 3600 + 59, "3d 4h"),
        ];
        for (secs, expected) in cases {
            assert_eq!(span(secs), expected, "{secs}");
        }
    }

    #[test]
    fn run_durations() {
        let cases = [
            (0.0, "0ms"),
            (0.0404, "40ms"),
            (0.9999, "999ms"),
            (1.0, "1.0s"),
            (1.25, "1.2s"),
            (59.96, "59.9s"),
            (60.0, "1m"),
            (192.7, "3m 12s"),
            (-0.5, "0ms"),
        ];
        for (secs, expected) in cases {
            assert_eq!(run_duration(secs), expected, "{secs}");
        }
    }

    #[test]
    fn proto_conversions() {
        assert_eq!(instant(&ts(NOW, 500_000_000)), Some(now()));
        assert_eq!(instant(&ts(i64::MAX, 0)), None);
        let d = prost_types::Duration {
            seconds: 1,
            nanos: 250_000_000,
        };
        assert!((seconds(&d) - 1.25).abs() < 1e-9);
    }
}
