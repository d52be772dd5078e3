//! Crontab strings (`*/5 * * * *`), parsed and matched by croner, on wall-clock times.
//!
//! Five fields (minute first), six (seconds first) or seven (with year); `L`, `W`, `#`, names and
//! `@yearly`-style nicknames. Day-of-month and day-of-week are OR-ed, as in standard cron.
//! Zones and DST are applied by `zoned`, not here.

use chrono::NaiveDateTime;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// A crontab text that cannot be a schedule.
#[derive(Debug, thiserror::Error)]
pub enum CrontabError {
    /// croner refuses it, with its reason.
    #[error(
        "invalid crontab {text:?}: {source} (write five fields, minute first, e.g. \"*/5 * * * *\", \
         six with seconds first, or seven with a year)"
    )]
    Refused {
        text: String,
        #[source]
        source: croner::errors::CronError,
    },
    /// cron's `@reboot` names an event, not times: there is nothing for croner to match.
    #[error(
        "{text:?}: @reboot is not a schedule speedrackd keeps, it fires on times only (to run a \
         command when the machine starts, use a systemd unit or cron's own @reboot)"
    )]
    Reboot { text: String },
}

/// A parsed crontab pattern and the text it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crontab {
    text: String,
    cron: Cron,
    /// croner's description, made once: making it walks every year the pattern could match,
    /// which costs far more than the rest of a task's listing (ListTasks lists every task).
    description: String,
}

impl Crontab {
    /// Parses a crontab string; the error says what is wrong in words.
    pub fn parse(text: &str) -> Result<Crontab, CrontabError> {
        let parser = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Optional)
            .dom_and_dow(false)
            .build();
        if text.trim().eq_ignore_ascii_case("@reboot") {
            return Err(CrontabError::Reboot {
                text: text.to_owned(),
            });
        }
        let cron = parser.parse(text).map_err(|source| CrontabError::Refused {
            text: text.to_owned(),
            source,
        })?;
        Ok(Crontab {
            text: text.trim().to_owned(),
            description: cron.describe(),
            cron,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The first matching wall time strictly after `wall`.
    pub fn next_wall_after(&self, wall: NaiveDateTime) -> Option<NaiveDateTime> {
        self.cron.find_next_occurrence(&wall, false).ok()
    }

    /// The pattern in words.
    pub fn describe(&self) -> String {
        self.description.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wall(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").expect("wall time")
    }

    fn next_n(pattern: &str, from: &str, count: usize) -> Vec<String> {
        let crontab = Crontab::parse(pattern).expect(pattern);
        let mut at = wall(from);
        let mut out = Vec::new();
        for _ in 0..count {
            let Some(next) = crontab.next_wall_after(at) else {
                break;
            };
            out.push(next.format("%Y-%m-%d %H:%M:%S").to_string());
            at = next;
        }
        out
    }

    #[test]
    fn matches_the_crontab_forms() {
        // 2026-11-29 is a Sunday.
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "*/20 * * * *",
                "2026-11-29 10:05:00",
                &[
                    "2026-11-29 10:20:00",
                    "2026-11-29 10:40:00",
                    "2026-11-29 11:00:00",
                ],
            ),
            (
                "5 * * * * *",
                "2026-11-29 10:00:00",
                &["2026-11-29 10:00:05", "2026-11-29 10:01:05"],
            ),
            (
                "0 0 12 29 2 * 2028",
                "2026-01-01 00:00:00",
                &["2028-02-29 12:00:00"],
            ),
            (
                "0 9 * * mon-fri",
                "2026-11-27 10:00:00",
                &["2026-11-30 09:00:00", "2026-12-01 09:00:00"],
            ),
            (
                "0 0 L * *",
                "2026-02-01 00:00:00",
                &["2026-02-28 00:00:00", "2026-03-31 00:00:00"],
            ),
            (
                "0 0 * * 5#2",
                "2026-11-01 00:00:00",
                &["2026-11-13 00:00:00", "2026-12-11 00:00:00"],
            ),
            (
                "0 0 15W * *",
                "2026-11-01 00:00:00",
                &["2026-11-16 00:00:00"],
            ),
            ("@daily", "2026-11-29 10:00:00", &["2026-11-30 00:00:00"]),
            ("@hourly", "2026-11-29 10:00:00", &["2026-11-29 11:00:00"]),
            (
                "0 0 1 jan *",
                "2026-11-29 10:00:00",
                &["2027-01-01 00:00:00"],
            ),
        ];
        for (pattern, from, expected) in cases {
            assert_eq!(
                next_n(pattern, from, expected.len()),
                *expected,
                "{pattern} from {from}"
            );
        }
    }

    #[test]
    fn day_of_month_and_day_of_week_are_ored_as_in_cron() {
        // The 1st of the month OR any Monday; 2026-12-01 is a Tuesday.
        assert_eq!(
            next_n("0 0 1 * mon", "2026-11-29 00:00:00", 3),
            [
                "2026-11-30 00:00:00",
                "2026-12-01 00:00:00",
                "2026-12-07 00:00:00"
            ]
        );
        // A wildcard day-of-month leaves only the weekday.
        assert_eq!(
            next_n("0 0 * * mon", "2026-11-29 00:00:00", 2),
            ["2026-11-30 00:00:00", "2026-12-07 00:00:00"]
        );
    }

    #[test]
    fn rejects_what_is_not_a_crontab() {
        for text in [
            "",
            "* * *",
            "61 * * * *",
            "* * * * * * * *",
            "every day",
            "0 0 30 2 mon-fri-sun",
        ] {
            assert!(Crontab::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn a_refusal_names_the_text_keeps_crons_reason_and_says_what_to_write() {
        let error = Crontab::parse("61 * * * *").expect_err("minute 61");
        let text = error.to_string();
        assert!(
            text.starts_with("invalid crontab \"61 * * * *\": "),
            "{text}"
        );
        assert!(text.contains("e.g. \"*/5 * * * *\""), "{text}");
        let source = std::error::Error::source(&error).expect("croner's error");
        assert!(text.contains(&source.to_string()), "{text}");
    }

    /// Not croner's "Pattern must have between 5 and 7 fields": cron users write it, and it
    /// is an event speedrackd has no place for.
    #[test]
    fn reboot_is_refused_with_what_to_use_instead() {
        for text in ["@reboot", " @REBOOT "] {
            let error = Crontab::parse(text).expect_err(text);
            let expected = format!("{text:?}: @reboot is not a schedule speedrackd keeps");
            assert!(error.to_string().starts_with(&expected), "{error}");
        }
    }
}
