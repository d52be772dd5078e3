//! Speedrack 0.6.1's execution directory names: the local time a run started, written by
//! `datetime.now().strftime('%Y-%m-%d_%H:%M:%S')`, read back in a given zone. Pure.
//!
//! Local times around a DST change are resolved deterministically, and the choice is reported:
//! an ambiguous time (clocks go back: it happened twice) is read as its first occurrence, as
//! Python's `fold=0` reads it; a time that never existed (clocks go forward) is read with the
//! offset in force before the change, so it lands as far after the change as it was written
//! into the gap (02:30 in a 02:00→03:00 gap reads as 03:30).

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// The name's shape: `YYYY-MM-DD_HH:MM:SS`.
const FORMAT: &str = "%Y-%m-%d_%H:%M:%S";

/// A start instant read from a directory name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub at: DateTime<Utc>,
    /// How a local time that was not exactly one instant was read; `None` when it was.
    pub note: Option<String>,
}

/// Reads a directory name as a start instant in `tz`; `None` when it is not one.
pub fn parse_stamp(name: &str, tz: Tz) -> Option<Stamp> {
    if !has_shape(name) {
        return None;
    }
    let naive = NaiveDateTime::parse_from_str(name, FORMAT).ok()?;
    Some(match tz.from_local_datetime(&naive) {
        LocalResult::Single(at) => Stamp {
            at: at.with_timezone(&Utc),
            note: None,
        },
        LocalResult::Ambiguous(first, second) => Stamp {
            at: first.with_timezone(&Utc),
            note: Some(format!(
                "{name} happened twice in {tz} (clocks went back); read as the first, {}, not {}",
                first.to_rfc3339(),
                second.to_rfc3339()
            )),
        },
        LocalResult::None => {
            let at = read_in_gap(naive, tz);
            Stamp {
                at,
                note: Some(format!(
                    "{name} never happened in {tz} (clocks went forward); read with the offset before the change, as {}",
                    at.with_timezone(&tz).to_rfc3339()
                )),
            }
        }
    })
}

/// Exactly four, two and two digits, `_`, then two, two and two digits: chrono alone would take
/// other widths and signs that 0.6.1 never wrote.
fn has_shape(name: &str) -> bool {
    let pattern = b"dddd-dd-dd_dd:dd:dd";
    name.len() == pattern.len()
        && name.bytes().zip(pattern).all(|(byte, &want)| match want {
            b'd' => byte.is_ascii_digit(),
            other => byte == other,
        })
}

/// A local time that fell in a gap, read with the offset a day before it (gaps are hours long).
fn read_in_gap(naive: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    let before = naive - TimeDelta::days(1);
    let offset = tz
        .offset_from_local_datetime(&before)
        .earliest()
        .map_or(0, |offset| offset.fix().local_minus_utc());
    (naive - TimeDelta::seconds(i64::from(offset))).and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, tz: Tz, expected: Option<(&str, bool)>) {
        let got = parse_stamp(name, tz);
        let got = got
            .as_ref()
            .map(|stamp| (stamp.at.to_rfc3339(), stamp.note.is_some()));
        let expected = expected.map(|(at, noted)| (at.to_owned(), noted));
        assert_eq!(got, expected, "{name} in {tz}");
    }

    #[test]
    fn reads_names_in_the_zone() {
        let berlin: Tz = "Europe/Berlin".parse().expect("zone");
        let cases = [
            (
                "2012-05-03_18:41:44",
                Tz::UTC,
                Some(("2012-05-03T18:41:44+00:00", false)),
            ),
            (
                "2012-05-03_18:41:44",
                berlin,
                Some(("2012-05-03T16:41:44+00:00", false)),
            ),
            (
                "2012-01-03_18:41:44",
                berlin,
                Some(("2012-01-03T17:41:44+00:00", false)),
            ),
            // Clocks went back at 03:00 CEST: 02:30 happened at 00:30 and at 01:30 UTC.
            (
                "2026-10-25_02:30:00",
                berlin,
                Some(("2026-10-25T00:30:00+00:00", true)),
            ),
            // Clocks went forward at 02:00 CET: 02:30 never happened; read as 03:30 CEST.
            (
                "2026-03-29_02:30:00",
                berlin,
                Some(("2026-03-29T01:30:00+00:00", true)),
            ),
        ];
        for (name, tz, expected) in cases {
            check(name, tz, expected);
        }
    }

    #[test]
    fn refuses_what_0_6_1_never_wrote() {
        for name in [
            "",
            "latest",
            "2012-05-03 18:41:44",
            "2012-05-03_18:41",
            "2012-5-03_18:41:44",
            "+2012-05-03_18:41:4",
            "2012-13-03_18:41:44",
            "2012-02-30_18:41:44",
            "2012-05-03_24:00:00",
            "2012-05-03_18:41:44.5",
        ] {
            check(name, Tz::UTC, None);
        }
    }
}
