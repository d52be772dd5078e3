//! A task's schedule from its `interval` or `cron` key: exactly one of them, parsed into a
//! [`Schedule`] and the text it is shown by.

use std::collections::HashMap;
use std::sync::Arc;

use chrono_tz::Tz;
use serde_yaml::Value;

use super::fields::{Fields, kind, scalar_text};
use super::interval::{format_interval, parse_interval};
use super::limits::check_duration;
use crate::schedule::apscheduler::ApsCron;
use crate::schedule::{Crontab, Pattern, Schedule};

/// The schedule and its display text, or `None` with the reasons added to `fields`.
/// Crontab patterns parsed so far in one file, by their text: tasks with the same crontab
/// share one parsed pattern, parsed once. croner keeps a bitfield for every possible year
/// (~5 KB a pattern): 10 000 tasks on 60 crontabs took 140 MB shared afterwards, and 50 MB
/// of parsing at load that the allocator kept.
#[derive(Debug, Default)]
pub struct Crontabs(HashMap<String, Arc<Crontab>>);

pub fn schedule_of(
    fields: &mut Fields<'_>,
    tz: Tz,
    crontabs: &mut Crontabs,
) -> Option<(Schedule, String)> {
    match (fields.get("interval"), fields.get("cron")) {
        (Some(_), Some(_)) => {
            fields.error(
                Some("cron"),
                "both interval and cron: a task has one schedule, choose one",
            );
            None
        }
        (None, None) => {
            fields.error(
                None,
                "no schedule: give the task an interval (like 21s) or a cron",
            );
            None
        }
        (Some(_), None) => interval(fields),
        (None, Some(Value::String(text))) => crontab(fields, text, tz, crontabs),
        (None, Some(Value::Mapping(map))) => mapping(fields, map, tz),
        (None, Some(other)) => {
            let message = format!(
                "cron must be a crontab text ('0 5 * * *') or a mapping ({{hour: 5}}), not {}",
                kind(other)
            );
            fields.error(Some("cron"), message);
            None
        }
    }
}

fn interval(fields: &mut Fields<'_>) -> Option<(Schedule, String)> {
    // `interval:` with nothing after it is an empty interval, not a missing one: without this it
    // would be neither an error nor a schedule.
    let text = match fields.get("interval") {
        Some(Value::Null) => String::new(),
        _ => fields.text("interval")?,
    };
    match parse_interval(&text)
        .map_err(|error| error.to_string())
        .and_then(|period| check_duration(&format!("interval {:?}", text.trim()), period))
    {
        Ok(period) => Some((
            Schedule::Interval(period),
            format!("every {}", format_interval(period)),
        )),
        Err(error) => {
            fields.error(Some("interval"), error);
            None
        }
    }
}

fn crontab(
    fields: &mut Fields<'_>,
    text: &str,
    tz: Tz,
    crontabs: &mut Crontabs,
) -> Option<(Schedule, String)> {
    let parsed = match crontabs.0.get(text) {
        Some(shared) => Ok(Arc::clone(shared)),
        None => Crontab::parse(text).map(|crontab| {
            let crontab = Arc::new(crontab);
            crontabs.0.insert(text.to_owned(), Arc::clone(&crontab));
            crontab
        }),
    };
    match parsed {
        Ok(crontab) => {
            let shown = format!("cron '{}'", crontab.text());
            Some((
                Schedule::Calendar {
                    pattern: Pattern::Crontab(crontab),
                    tz,
                },
                shown,
            ))
        }
        Err(error) => {
            fields.error(Some("cron"), error.to_string());
            None
        }
    }
}

fn mapping(
    fields: &mut Fields<'_>,
    map: &serde_yaml::Mapping,
    tz: Tz,
) -> Option<(Schedule, String)> {
    let mut pairs = Vec::with_capacity(map.len());
    for (key, value) in map {
        let key = key
            .as_str()
            .map_or_else(|| format!("{key:?}"), str::to_owned);
        match scalar_text(value) {
            Some(text) => pairs.push((key, text)),
            None => fields.error(
                Some(&format!("cron.{key}")),
                format!("cron {key} must be a number or text, not {}", kind(value)),
            ),
        }
    }
    match ApsCron::from_fields(&pairs) {
        Ok(cron) => {
            let written: Vec<String> = pairs
                .iter()
                .map(|(key, value)| format!("{key}: {value}"))
                .collect();
            let shown = format!("cron {{{}}}", written.join(", "));
            Some((
                Schedule::Calendar {
                    pattern: Pattern::Aps(cron),
                    tz,
                },
                shown,
            ))
        }
        Err(errors) => {
            for error in errors {
                let key = error
                    .key()
                    .map_or_else(|| "cron".to_owned(), |key| format!("cron.{key}"));
                fields.error(Some(&key), error.to_string());
            }
            None
        }
    }
}

/// `--cron`'s value. A crontab text is taken as typed: read as YAML, the most common ones
/// (`*/15 9-17 * * mon-fri`, `@daily`) are not text but an alias or a reserved character. A
/// mapping (`{hour: 23}`) or a text quoted the way a tasks file would quote it is YAML.
fn cron_value(text: &str) -> Result<Value, String> {
    if !text.trim_start().starts_with(['{', '\'', '"']) {
        return Ok(Value::String(text.to_owned()));
    }
    serde_yaml::from_str(text)
        .map_err(|error| format!("--cron is not a valid YAML mapping or quoted text: {error}"))
}

/// Parses a schedule given on its own (`speedrackd schedule`): `interval` text, or `cron` as a
/// crontab text or a YAML mapping. Problems come back as text, one per line.
pub fn parse_schedule(
    interval: Option<&str>,
    cron: Option<&str>,
    tz: Tz,
) -> Result<(Schedule, String), String> {
    let mut map = serde_yaml::Mapping::new();
    if let Some(interval) = interval {
        map.insert("interval".into(), Value::String(interval.to_owned()));
    }
    if let Some(cron) = cron {
        map.insert("cron".into(), cron_value(cron)?);
    }
    let path = std::path::Path::new("command line");
    let mut fields = Fields::new(&map, None, path);
    match schedule_of(&mut fields, tz, &mut Crontabs::default()) {
        Some(schedule) if fields.errors.is_empty() => Ok(schedule),
        _ => Err(fields
            .errors
            .iter()
            .map(|error| error.message.clone())
            .collect::<Vec<_>>()
            .join("\n")),
    }
}
