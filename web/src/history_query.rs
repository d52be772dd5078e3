//! What a task's history page was asked for: a page token and filters by status, trigger and
//! start time, read from the query string and written back into links.
//!
//! Pure: parsing, the ListRuns request the filters make, and the query string of a link. Times
//! are UTC: a date alone is that whole day, `from` from its start and `to` through its end.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use speedrack_proto::v1 as pb;

use crate::urls::encode;

/// The statuses a history can be filtered by, with their query values.
pub const STATUSES: [(&str, pb::RunStatus); 5] = [
    ("success", pb::RunStatus::Success),
    ("failure", pb::RunStatus::Failure),
    ("execution-error", pb::RunStatus::ExecutionError),
    ("interrupted", pb::RunStatus::Interrupted),
    ("running", pb::RunStatus::Running),
];

/// The triggers a history can be filtered by, with their query values.
pub const TRIGGERS: [(&str, pb::Trigger); 3] = [
    ("schedule", pb::Trigger::Schedule),
    ("manual", pb::Trigger::Manual),
    ("imported", pb::Trigger::Imported),
];

/// Longest value a query field may have; no valid one comes near it.
const MAX_VALUE: usize = 64;

/// A history page's query: which page, and which runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    /// The daemon's page token; empty for the newest runs.
    pub page: String,
    /// Query values of the statuses asked for, in `STATUSES` order; empty for any.
    pub statuses: Vec<&'static str>,
    /// Query values of the triggers asked for, in `TRIGGERS` order; empty for any.
    pub triggers: Vec<&'static str>,
    /// `from` as typed (a date, or a date and time) and the instant it means.
    pub from: Option<(String, DateTime<Utc>)>,
    /// `to` as typed and the instant it ends at (exclusive).
    pub to: Option<(String, DateTime<Utc>)>,
}

/// Why a query was refused, in words for the page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The page token is not one the daemon could have given out.
    #[error("there is no such page of runs")]
    Page,
    #[error("{field}={value:?} is not one of: {allowed}")]
    Unknown {
        field: &'static str,
        value: String,
        allowed: String,
    },
    #[error("{field}={value:?} is not a date (2026-11-30) or a date and time (2026-11-30T14:05)")]
    Time { field: &'static str, value: String },
}

impl HistoryQuery {
    /// Reads `pairs` (repeated keys allowed); unknown keys are ignored, empty values mean
    /// "not given", as a form without an entry sends them.
    pub fn parse(pairs: &[(String, String)]) -> Result<HistoryQuery, QueryError> {
        let mut query = HistoryQuery::default();
        for (key, value) in pairs {
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "page" => query.page = page_token(value)?,
                "status" => query.statuses.push(choice("status", value, &STATUSES)?),
                "trigger" => query.triggers.push(choice("trigger", value, &TRIGGERS)?),
                "from" => query.from = Some((value.clone(), instant("from", value, false)?)),
                "to" => query.to = Some((value.clone(), instant("to", value, true)?)),
                _ => {}
            }
        }
        query.statuses = in_order(&query.statuses, &STATUSES);
        query.triggers = in_order(&query.triggers, &TRIGGERS);
        Ok(query)
    }

    /// Whether any filter is set (the page token aside).
    pub fn filtered(&self) -> bool {
        !self.statuses.is_empty()
            || !self.triggers.is_empty()
            || self.from.is_some()
            || self.to.is_some()
    }

    /// The ListRuns request for this page of `task`.
    pub fn request(&self, task: &str, page_size: u32) -> pb::ListRunsRequest {
        let stamp = |at: &DateTime<Utc>| prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: 0,
        };
        pb::ListRunsRequest {
            task: task.to_owned(),
            page_size,
            page_token: self.page.clone(),
            statuses: values_of(&self.statuses, &STATUSES)
                .map(|status| status.into())
                .collect(),
            triggers: values_of(&self.triggers, &TRIGGERS)
                .map(|trigger| trigger.into())
                .collect(),
            started_from: self.from.as_ref().map(|(_, at)| stamp(at)),
            started_before: self.to.as_ref().map(|(_, at)| stamp(at)),
        }
    }

    /// The filters as a query string (without `?`), with `page` when given; "" for none.
    pub fn query_string(&self, page: Option<&str>) -> String {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        pairs.extend(self.statuses.iter().map(|value| ("status", *value)));
        pairs.extend(self.triggers.iter().map(|value| ("trigger", *value)));
        if let Some((typed, _)) = &self.from {
            pairs.push(("from", typed));
        }
        if let Some((typed, _)) = &self.to {
            pairs.push(("to", typed));
        }
        if let Some(page) = page {
            pairs.push(("page", page));
        }
        pairs
            .iter()
            .map(|(key, value)| format!("{key}={}", encode(value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn page_token(value: &str) -> Result<String, QueryError> {
    // Tokens are the daemon's own (run ids); anything else could only name no page.
    let plausible = value.len() <= 19
        && value.bytes().all(|byte| byte.is_ascii_digit())
        && value.parse::<i64>().is_ok_and(|id| id > 0);
    if plausible {
        Ok(value.to_owned())
    } else {
        Err(QueryError::Page)
    }
}

fn choice<T>(
    field: &'static str,
    value: &str,
    known: &[(&'static str, T)],
) -> Result<&'static str, QueryError> {
    known
        .iter()
        .map(|(name, _)| *name)
        .find(|name| *name == value)
        .ok_or_else(|| QueryError::Unknown {
            field,
            value: value.chars().take(MAX_VALUE).collect(),
            allowed: known
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// `chosen` without repeats, in the order of `known`.
fn in_order<T>(chosen: &[&'static str], known: &[(&'static str, T)]) -> Vec<&'static str> {
    known
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| chosen.contains(name))
        .collect()
}

fn values_of<'a, T: Copy>(
    chosen: &'a [&'static str],
    known: &'a [(&'static str, T)],
) -> impl Iterator<Item = T> + 'a {
    known
        .iter()
        .filter(|(name, _)| chosen.contains(name))
        .map(|(_, value)| *value)
}

/// A date (the start of that UTC day; with `end`, the start of the next) or a date and time to
/// the minute, as `<input type="date">` and `datetime-local` send them.
fn instant(field: &'static str, value: &str, end: bool) -> Result<DateTime<Utc>, QueryError> {
    let refused = || QueryError::Time {
        field,
        value: value.chars().take(MAX_VALUE).collect(),
    };
    if value.len() > MAX_VALUE {
        return Err(refused());
    }
    if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let start = day.and_hms_opt(0, 0, 0).ok_or_else(refused)?.and_utc();
        return Ok(if end {
            start + TimeDelta::days(1)
        } else {
            start
        });
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|at| at.and_utc())
        .ok_or_else(refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
        query
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn parse(query: &[(&str, &str)]) -> Result<HistoryQuery, QueryError> {
        HistoryQuery::parse(&pairs(query))
    }

    #[test]
    fn filters_are_read_in_a_stable_order_and_empty_fields_ignored() {
        let query = parse(&[
            ("status", "failure"),
            ("status", "success"),
            ("status", "failure"),
            ("trigger", "manual"),
            ("from", "2026-11-01"),
            ("to", ""),
            ("unrelated", "x"),
        ])
        .expect("valid");
        assert_eq!(query.statuses, ["success", "failure"]);
        assert_eq!(query.triggers, ["manual"]);
        assert!(query.filtered());
        assert_eq!(query.to, None);
        assert_eq!(
            query.query_string(Some("42")),
            "status=success&status=failure&trigger=manual&from=2026-11-01&page=42"
        );
        let request = query.request("t", 50);
        assert_eq!(
            request.statuses,
            [
                i32::from(pb::RunStatus::Success),
                i32::from(pb::RunStatus::Failure)
            ]
        );
        assert_eq!(request.triggers, [i32::from(pb::Trigger::Manual)]);
        assert_eq!(request.page_token, "");
        let unfiltered = parse(&[("page", "7")]).expect("valid");
        assert!(!unfiltered.filtered());
        assert_eq!(unfiltered.query_string(None), "");
    }

    #[test]
    fn a_date_means_the_whole_utc_day_and_a_time_the_minute() {
        let query = parse(&[("from", "2026-11-30"), ("to", "2026-11-30")]).expect("valid");
        let seconds =
            |at: &Option<(String, DateTime<Utc>)>| at.as_ref().map(|(_, at)| at.timestamp());
        let day = NaiveDate::from_ymd_opt(2026, 11, 30)
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .expect("valid day")
            .and_utc()
            .timestamp();
        assert_eq!(seconds(&query.from), Some(day));
        assert_eq!(
            seconds(&query.to),
            Some(day + 86_400),
            "through the end of the day"
        );
        let minute = parse(&[("from", "2026-11-30T14:05")]).expect("valid");
        assert_eq!(seconds(&minute.from), Some(day + 14 * 3600 + 5 * 60));
    }

    #[test]
    fn junk_is_refused_with_what_would_do() {
        for junk in ["-5", "0", "abc", "1.5", "99999999999999999999", "<x>"] {
            assert_eq!(parse(&[("page", junk)]), Err(QueryError::Page), "{junk}");
        }
        let status = parse(&[("status", "<b>late</b>")]).expect_err("unknown");
        assert_eq!(
            status.to_string(),
            "status=\"<b>late</b>\" is not one of: success, failure, execution-error, \
             interrupted, running"
        );
        let time = parse(&[("to", "yesterday")]).expect_err("not a date");
        assert!(
            time.to_string()
                .starts_with("to=\"yesterday\" is not a date")
        );
    }
}
