//! The seed's interval grammar: `21s`, `1h10m`, `2w`, `1M`.
//!
//! Units are `M` (month, taken as 30 days), `w`, `d`, `h`, `m`, `s`; each number needs a unit and
//! units may come in any order. The result is an absolute duration: intervals ignore DST.

use std::time::Duration;

/// Why an interval string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntervalError {
    #[error("interval is empty (write it like 21s or 1h10m)")]
    Empty,
    #[error("interval {0:?} has a number without a unit (units: M w d h m s)")]
    MissingUnit(String),
    #[error("interval {text:?} has an unknown unit {unit:?} (units: M w d h m s)")]
    UnknownUnit { text: String, unit: char },
    #[error("interval {0:?} has a unit without a number before it")]
    MissingNumber(String),
    #[error("interval {0:?} is zero; a task needs a positive interval")]
    Zero(String),
    #[error("interval {0:?} is too long")]
    TooLong(String),
}

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// Parses an interval like `1h10m` into a duration.
pub fn parse_interval(text: &str) -> Result<Duration, IntervalError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(IntervalError::Empty);
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    let too_long = || IntervalError::TooLong(trimmed.to_owned());
    for ch in trimmed.chars().filter(|c| !c.is_whitespace()) {
        if let Some(digit) = ch.to_digit(10) {
            let so_far = number.unwrap_or(0);
            let next = so_far
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(digit)));
            number = Some(next.ok_or_else(too_long)?);
            continue;
        }
        let seconds_per_unit = match ch {
            'M' => 30 * DAY,
            'w' => 7 * DAY,
            'd' => DAY,
            'h' => HOUR,
            'm' => MINUTE,
            's' => 1,
            unit => {
                return Err(IntervalError::UnknownUnit {
                    text: trimmed.to_owned(),
                    unit,
                });
            }
        };
        let count = number
            .take()
            .ok_or_else(|| IntervalError::MissingNumber(trimmed.to_owned()))?;
        let part = count.checked_mul(seconds_per_unit).ok_or_else(too_long)?;
        total = total.checked_add(part).ok_or_else(too_long)?;
    }
    if number.is_some() {
        return Err(IntervalError::MissingUnit(trimmed.to_owned()));
    }
    if total == 0 {
        return Err(IntervalError::Zero(trimmed.to_owned()));
    }
    Ok(Duration::from_secs(total))
}

/// Writes a duration back in the interval grammar, largest units first (`4210s` → `1h10m10s`).
pub fn format_interval(duration: Duration) -> String {
    let mut rest = duration.as_secs();
    let mut out = String::new();
    for (unit, seconds) in [
        ('w', 7 * DAY),
        ('d', DAY),
        ('h', HOUR),
        ('m', MINUTE),
        ('s', 1),
    ] {
        if rest >= seconds {
            out.push_str(&format!("{}{unit}", rest / seconds));
            rest %= seconds;
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seed_grammar() {
        let cases = [
            ("21s", 21),
            ("1h10m", 3600 + 600),
            ("10m1h", 3600 + 600),
            ("1M", 30 * 86_400),
            ("400w", 400 * 7 * 86_400),
            ("1d2h3m4s", 86_400 + 7200 + 180 + 4),
            (" 5 m ", 300),
            ("90s", 90),
        ];
        for (text, seconds) in cases {
            assert_eq!(
                parse_interval(text),
                Ok(Duration::from_secs(seconds)),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_what_is_not_an_interval() {
        let cases = [
            ("", IntervalError::Empty),
            ("10", IntervalError::MissingUnit("10".into())),
            ("1h5", IntervalError::MissingUnit("1h5".into())),
            (
                "5x",
                IntervalError::UnknownUnit {
                    text: "5x".into(),
                    unit: 'x',
                },
            ),
            (
                "5H",
                IntervalError::UnknownUnit {
                    text: "5H".into(),
                    unit: 'H',
                },
            ),
            ("h", IntervalError::MissingNumber("h".into())),
            ("0s", IntervalError::Zero("0s".into())),
            (
                "-5s",
                IntervalError::UnknownUnit {
                    text: "-5s".into(),
                    unit: '-',
                },
            ),
            (
                "99999999999999999999s",
                IntervalError::TooLong("99999999999999999999s".into()),
            ),
        ];
        for (text, error) in cases {
            assert_eq!(parse_interval(text), Err(error), "{text}");
        }
    }

    #[test]
    fn formats_largest_units_first() {
        let cases = [
            (21, "21s"),
            (4210, "1h10m10s"),
            (86_400 * 8, "1w1d"),
            (0, "0s"),
        ];
        for (seconds, text) in cases {
            assert_eq!(format_interval(Duration::from_secs(seconds)), text);
        }
    }
}
