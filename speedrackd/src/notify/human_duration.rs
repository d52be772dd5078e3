//! Durations as people read them in a notification: `2 ms`, `1.5 s`, `3 min 4 s`, rounded
//! down to the two largest units that matter. Parsing durations is not here (config uses
//! humantime for that).

use std::time::Duration;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// `duration` in the largest unit that fits, with the next one when it is not zero.
pub fn human_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds == 0 {
        return match duration.as_millis() {
            0 if duration.is_zero() => "0 ms".to_owned(),
            0 => "< 1 ms".to_owned(),
            millis => format!("{millis} ms"),
        };
    }
    if seconds < 10 {
        let tenths = duration.subsec_millis() / 100;
        return if tenths == 0 {
            format!("{seconds} s")
        } else {
            format!("{seconds}.{tenths} s")
        };
    }
    if seconds < MINUTE {
        return format!("{seconds} s");
    }
    let (large, large_unit, small, small_unit) = if seconds < HOUR {
        (seconds / MINUTE, "min", seconds % MINUTE, "s")
    } else if seconds < DAY {
        (seconds / HOUR, "h", seconds % HOUR / MINUTE, "min")
    } else {
        (seconds / DAY, "d", seconds % DAY / HOUR, "h")
    };
    if small == 0 {
        format!("{large} {large_unit}")
    } else {
        format!("{large} {large_unit} {small} {small_unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(seconds: u64, nanos: u32) -> String {
        human_duration(Duration::new(seconds, nanos))
    }

    #[test]
    fn below_a_second_in_whole_milliseconds() {
        assert_eq!(text(0, 0), "0 ms");
        assert_eq!(text(0, 262), "< 1 ms");
        assert_eq!(text(0, 2_014_262), "2 ms");
        assert_eq!(text(0, 999_999_999), "999 ms");
    }

    #[test]
    fn seconds_with_tenths_below_ten() {
        assert_eq!(text(1, 0), "1 s");
        assert_eq!(text(1, 500_000_000), "1.5 s");
        assert_eq!(text(9, 990_000_000), "9.9 s");
        assert_eq!(text(10, 900_000_000), "10 s");
        assert_eq!(text(59, 999_999_999), "59 s");
    }

    #[test]
    fn two_units_above_a_minute() {
        assert_eq!(text(60, 0), "1 min");
        assert_eq!(text(184, 700_000_000), "3 min 4 s");
        assert_eq!(text(HOUR - 1, 0), "59 min 59 s");
        assert_eq!(text(HOUR, 0), "1 h");
        assert_eq!(text(2 * HOUR + 5 * MINUTE + 9, 0), "2 h 5 min");
        assert_eq!(text(DAY + 3 * HOUR + 59, 0), "1 d 3 h");
        assert_eq!(text(400 * 7 * DAY, 0), "2800 d");
    }
}
