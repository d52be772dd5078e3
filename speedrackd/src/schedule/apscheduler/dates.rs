//! `start_date` and `end_date`: reading them as wall-clock times in the task's zone.
//!
//! APScheduler also takes fractional seconds and a zone offset here; this module refuses both,
//! since fires are whole seconds and the task's time zone, not the date, says where the wall is.

use chrono::{NaiveDate, NaiveDateTime};

const FORMS: &str = "write 2026-01-01, 2026-01-01 10:00:00 or 2026-01-01T10:00:00";

/// Why a `start_date` or `end_date` cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error(
        "cannot read \"{0}\": give a wall-clock time without a zone offset, \
         the task's time zone applies ({FORMS})"
    )]
    Offset(String),
    #[error("cannot read \"{0}\" as a date ({FORMS})")]
    Unreadable(String),
}

/// Reads a date (midnight) or a date and time to the second.
pub(super) fn parse_wall(text: &str) -> Result<NaiveDateTime, DateError> {
    let text = text.trim();
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(time);
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN));
    }
    let offset = text.ends_with('Z') || text.get(10..).is_some_and(|t| t.contains(['+', '-']));
    if offset {
        return Err(DateError::Offset(text.to_owned()));
    }
    Err(DateError::Unreadable(text.to_owned()))
}

/// The usual way this module prints a wall time.
pub(super) fn show(time: NaiveDateTime) -> String {
    time.format("%Y-%m-%d %H:%M:%S").to_string()
}
