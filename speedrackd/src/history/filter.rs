//! Which runs a question about a task's history is about (statuses, triggers, a span of start
//! times), and the SQL condition that says so.
//!
//! It only builds conditions and their parameters; `listing.rs` runs them.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;

use crate::run::RunStatus;

/// What started a run, without who asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerKind {
    Schedule,
    Manual,
    Imported,
}

impl TriggerKind {
    /// The value of the `trigger` column.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Schedule => "schedule",
            TriggerKind::Manual => "manual",
            TriggerKind::Imported => "imported",
        }
    }
}

/// Runs that pass every part given; the default passes every run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFilter {
    /// Any of these statuses; empty for any.
    pub statuses: Vec<RunStatus>,
    /// Any of these triggers; empty for any.
    pub triggers: Vec<TriggerKind>,
    /// Started at or after.
    pub started_from: Option<DateTime<Utc>>,
    /// Started before.
    pub started_before: Option<DateTime<Utc>>,
}

impl RunFilter {
    /// Whether every run passes.
    pub fn is_empty(&self) -> bool {
        *self == RunFilter::default()
    }

    /// `AND ...` clauses over the `runs` table (empty when every run passes), with their
    /// parameters in order, numbered from `?{first}`.
    pub(super) fn sql(&self, first: usize) -> (String, Vec<Value>) {
        let mut sql = String::new();
        let mut values = Vec::new();
        let mut any_of = |column: &str, texts: Vec<&'static str>, values: &mut Vec<Value>| {
            if texts.is_empty() {
                return;
            }
            let marks: Vec<String> = texts
                .iter()
                .enumerate()
                .map(|(index, _)| format!("?{}", first + values.len() + index))
                .collect();
            sql.push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
            values.extend(texts.into_iter().map(|text| Value::Text(text.to_owned())));
        };
        any_of(
            "status",
            self.statuses.iter().map(|s| s.as_str()).collect(),
            &mut values,
        );
        any_of(
            "trigger",
            self.triggers.iter().map(|t| t.as_str()).collect(),
            &mut values,
        );
        for (bound, operator) in [(self.started_from, ">="), (self.started_before, "<")] {
            if let Some(at) = bound {
                sql.push_str(&format!(
                    " AND started_at_us {operator} ?{}",
                    first + values.len()
                ));
                values.push(Value::Integer(at.timestamp_micros()));
            }
        }
        (sql, values)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn an_empty_filter_adds_nothing_and_each_part_adds_its_clause() {
        assert_eq!(RunFilter::default().sql(3), (String::new(), Vec::new()));
        let at = Utc.timestamp_opt(10, 0).single().expect("valid instant");
        let filter = RunFilter {
            statuses: vec![RunStatus::Failure, RunStatus::Interrupted],
            triggers: vec![TriggerKind::Manual],
            started_from: Some(at),
            started_before: None,
        };
        let (sql, values) = filter.sql(3);
        assert_eq!(
            sql,
            " AND status IN (?3, ?4) AND trigger IN (?5) AND started_at_us >= ?6"
        );
        assert_eq!(
            values,
            [
                Value::Text("failure".into()),
                Value::Text("interrupted".into()),
                Value::Text("manual".into()),
                Value::Integer(10_000_000),
            ]
        );
    }
}
