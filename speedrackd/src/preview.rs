//! `speedrackd schedule`: the next fire times of a schedule given on the command line, one
//! RFC 3339 timestamp per line, so that users can see the future before it happens.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;

use crate::config::parse_schedule;

/// The next `count` fires strictly after `from`, as lines; an error explains a bad schedule.
pub fn preview(
    interval: Option<&str>,
    cron: Option<&str>,
    tz: Tz,
    from: DateTime<Utc>,
    count: usize,
) -> Result<String, String> {
    let (schedule, _) = parse_schedule(interval, cron, tz)?;
    // An interval given on the command line starts its phase at --from.
    let fires = schedule.upcoming(from, from, count);
    let zone = schedule.time_zone();
    Ok(fires
        .iter()
        .map(|at| {
            at.with_timezone(&zone)
                .to_rfc3339_opts(SecondsFormat::Secs, false)
                + "\n"
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("rfc3339")
            .with_timezone(&Utc)
    }

    #[test]
    fn prints_fires_in_the_zone_with_offsets() {
        let berlin = chrono_tz::Europe::Berlin;
        let out = preview(
            None,
            Some("{day_of_week: 2, hour: 23}"),
            berlin,
            from("2026-03-20T00:00:00Z"),
            3,
        );
        assert_eq!(
            out.as_deref(),
            Ok("2026-03-25T23:00:00+01:00\n2026-04-01T23:00:00+02:00\n2026-04-08T23:00:00+02:00\n")
        );
        let out = preview(Some("90m"), None, berlin, from("2026-03-20T00:00:00Z"), 2);
        assert_eq!(
            out.as_deref(),
            Ok("2026-03-20T01:30:00+00:00\n2026-03-20T03:00:00+00:00\n")
        );
    }

    #[test]
    fn a_schedule_that_ends_prints_fewer_lines() {
        let out = preview(
            None,
            Some("'0 0 12 29 2 * 2028'"),
            Tz::UTC,
            from("2026-01-01T00:00:00Z"),
            5,
        );
        assert_eq!(out.as_deref(), Ok("2028-02-29T12:00:00+00:00\n"));
    }

    /// As a shell gives them: the README's example and the `@` names, unquoted for YAML.
    #[test]
    fn a_crontab_text_is_taken_as_typed() {
        let monday = from("2026-03-30T00:00:00Z");
        let out = preview(None, Some("*/15 9-17 * * mon-fri"), Tz::UTC, monday, 2);
        assert_eq!(
            out.as_deref(),
            Ok("2026-03-30T09:00:00+00:00\n2026-03-30T09:15:00+00:00\n")
        );
        let out = preview(None, Some("@daily"), Tz::UTC, monday, 1);
        assert_eq!(out.as_deref(), Ok("2026-03-31T00:00:00+00:00\n"));
    }

    #[test]
    fn a_bad_schedule_says_why() {
        let error = preview(
            None,
            Some("{minutes: 30}"),
            Tz::UTC,
            from("2026-01-01T00:00:00Z"),
            5,
        )
        .expect_err("bad key");
        assert!(error.contains("minutes"), "{error}");
        let error = preview(
            Some("1h"),
            Some("'* * * * *'"),
            Tz::UTC,
            from("2026-01-01T00:00:00Z"),
            5,
        )
        .expect_err("both");
        assert!(error.contains("both"), "{error}");
    }
}
