//! APScheduler 3's `CronTrigger` (the `add_cron_job` mapping of fields) over naive wall-clock
//! times: reading the mapping, the next wall time it fires, and a description for humans.
//!
//! It follows APScheduler 3.x: fields `year, month, day, week, day_of_week, hour, minute,
//! second` with APScheduler's defaults and expressions, `day` and `day_of_week` ANDed (unlike
//! crontab), 0 = Monday, inclusive `start_date`/`end_date`. It never sees a time zone: the
//! caller maps wall times to instants (and decides what a DST gap or overlap means). It is
//! stricter than APScheduler where APScheduler silently half-reads text (see `expr`), and it
//! needs at least one field where APScheduler would fire every second.

mod dates;
mod describe;
mod expr;
mod field;
mod mapping;
mod search;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;
#[cfg(test)]
mod tests_vectors;

use chrono::{Datelike, NaiveDateTime, TimeDelta, Timelike};

pub use dates::DateError;
pub use expr::ExprError;
use field::Fields;
use mapping::{Mapping, VALID_KEYS};

/// A parsed APScheduler-style cron schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApsCron {
    /// Boxed: eight fields are a few hundred bytes, and schedules sit in enums beside small ones.
    fields: Box<Fields>,
    start: Option<NaiveDateTime>,
    end: Option<NaiveDateTime>,
}

/// A problem with one entry of the mapping, or with the mapping as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApsCronError {
    #[error("{key} \"{value}\": {source}")]
    Field {
        key: String,
        value: String,
        #[source]
        source: ExprError,
    },
    #[error("{key}: {source}")]
    Date {
        key: String,
        #[source]
        source: DateError,
    },
    #[error("{key} is given more than once: keep one")]
    Repeated { key: String },
    #[error(
        "unknown key \"{key}\" in a cron schedule{}; valid keys: {VALID_KEYS}",
        suggestion.map(|valid| format!(" (did you mean \"{valid}\"?)")).unwrap_or_default()
    )]
    UnknownKey {
        key: String,
        /// The valid key it most likely meant.
        suggestion: Option<&'static str>,
    },
    #[error(
        "end_date {} is before start_date {}: the schedule could never fire",
        dates::show(*end),
        dates::show(*start)
    )]
    EndBeforeStart {
        start: NaiveDateTime,
        end: NaiveDateTime,
    },
    #[error(
        "a cron schedule needs at least one of year, month, day, week, day_of_week, hour, \
         minute or second (valid keys: {VALID_KEYS})"
    )]
    NoField,
}

impl ApsCronError {
    /// The offending key as written (e.g. "day_of_week", "minutes"), None for the mapping as a
    /// whole.
    pub fn key(&self) -> Option<&str> {
        match self {
            ApsCronError::Field { key, .. }
            | ApsCronError::Date { key, .. }
            | ApsCronError::Repeated { key }
            | ApsCronError::UnknownKey { key, .. } => Some(key),
            ApsCronError::EndBeforeStart { .. } => Some(mapping::END_DATE),
            ApsCronError::NoField => None,
        }
    }
}

impl ApsCron {
    /// Builds a schedule from the mapping's entries, in the order written. Values are given as
    /// the text the user wrote (YAML ints arrive as "5", strings as written, e.g. "*/5", "mon-fri", "last sun").
    /// Keys: year, month, day, week, day_of_week, hour, minute, second, start_date, end_date.
    /// Any other key is an error naming it (e.g. the seed's demo typo `minutes`), with a hint of
    /// the valid keys. At least one field key (not just start/end date) is required.
    ///
    /// Every problem is reported, one error per bad key.
    pub fn from_fields(fields: &[(String, String)]) -> Result<ApsCron, Vec<ApsCronError>> {
        let mapping = Mapping::read(fields)?;
        Ok(ApsCron {
            fields: Box::new(Fields::from_given(mapping.given)),
            start: mapping.start,
            end: mapping.end,
        })
    }

    /// The first matching wall time strictly after `wall` (sub-second parts of `wall` are
    /// truncated first; results always have zero nanoseconds). None when the schedule can never
    /// fire again (e.g. past end_date, or year exhausted, or an impossible date like day 31 of
    /// February only).
    pub fn next_wall_after(&self, wall: NaiveDateTime) -> Option<NaiveDateTime> {
        let whole_second = wall.with_nanosecond(0)?;
        let mut from = whole_second.checked_add_signed(TimeDelta::seconds(1))?;
        if let Some(start) = self.start {
            from = from.max(start);
        }
        let last_year = self.end.map_or(i32::MAX, |end| end.year());
        let next = search::first_match(&self.fields, from, last_year)?;
        match self.end {
            Some(end) if next > end => None,
            _ => Some(next),
        }
    }

    /// The schedule in words for humans, e.g. "at 23:00:00 every Wednesday",
    /// "at second 5 of every minute", "every 5 minutes (second 0)", "at 02:30:00 on the last
    /// Sunday of every month"; complex combinations list the fields instead
    /// (`cron {day_of_week: 2, hour: 23}` style).
    pub fn describe(&self) -> String {
        describe::describe(&self.fields, self.start, self.end)
    }
}
