//! The schedule in words: common shapes ("at 23:00:00 every Wednesday", "every 5 minutes
//! (second 0)") are spelled out; anything else lists the fields as written
//! (`cron {day: 'last sun', minute: '*/5'}`), which is always correct if less friendly.
//!
//! It only describes: it never checks or changes what the schedule means.

use chrono::NaiveDateTime;

use super::dates::show;
use super::expr::{Expr, Position};
use super::field::{Field, FieldKind, Fields};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const ORDINALS: [&str; 5] = ["first", "second", "third", "fourth", "fifth"];

pub(super) fn describe(
    fields: &Fields,
    start: Option<NaiveDateTime>,
    end: Option<NaiveDateTime>,
) -> String {
    let mut text = in_words(fields).unwrap_or_else(|| listing(fields));
    if let Some(start) = start {
        text.push_str(&format!(", from {}", show(start)));
    }
    if let Some(end) = end {
        text.push_str(&format!(", until {}", show(end)));
    }
    text
}

/// The simple shapes a field can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Any,
    /// `*/n` with n > 1.
    Every(u32),
    One(u32),
    Other,
}

fn shape(field: &Field) -> Shape {
    match field.exprs() {
        [Expr::All { step: 1 }] => Shape::Any,
        [Expr::All { step }] => Shape::Every(*step),
        [
            Expr::Range {
                first,
                last: Some(last),
                ..
            },
        ] if first == last => Shape::One(*first),
        _ => Shape::Other,
    }
}

/// A time-of-day phrase: once a day, or repeating within the day.
enum Time {
    Daily(String),
    Repeating(String),
}

fn in_words(fields: &Fields) -> Option<String> {
    let time = time_phrase(fields)?;
    let date = date_phrase(fields)?;
    Some(match (time, date) {
        (Time::Daily(time), None) => format!("{time} every day"),
        (Time::Daily(time), Some(date)) => format!("{time} {date}"),
        (Time::Repeating(time), None) => time,
        (Time::Repeating(time), Some(date)) => format!("{time}, {date}"),
    })
}

/// Steps are only "every n" when they divide the hour or day evenly: `*/7` minutes fires at
/// :56 and then :00, which is not every 7 minutes.
fn time_phrase(fields: &Fields) -> Option<Time> {
    use Shape::{Any, Every, One};
    let hour = shape(&fields[FieldKind::Hour]);
    let minute = shape(&fields[FieldKind::Minute]);
    let second = shape(&fields[FieldKind::Second]);
    let repeating = match (hour, minute, second) {
        (One(h), One(m), One(s)) => return Some(Time::Daily(format!("at {h:02}:{m:02}:{s:02}"))),
        (Any, Any, Any) => "every second".to_owned(),
        (Any, Any, One(s)) => format!("at second {s} of every minute"),
        (Any, Any, Every(n)) if 60 % n == 0 => format!("every {n} seconds"),
        (Any, One(m), One(s)) => format!("at minute {m}, second {s} of every hour"),
        (Any, Every(n), One(s)) if 60 % n == 0 => format!("every {n} minutes (second {s})"),
        (Every(n), One(m), One(s)) if 24 % n == 0 => {
            format!("every {n} hours, at minute {m}, second {s}")
        }
        _ => return None,
    };
    Some(Time::Repeating(repeating))
}

/// Which days: Some(None) for every day, None when too complex for words.
fn date_phrase(fields: &Fields) -> Option<Option<String>> {
    use Shape::{Any, One};
    if shape(&fields[FieldKind::Year]) != Any || shape(&fields[FieldKind::Week]) != Any {
        return None;
    }
    let day = &fields[FieldKind::Day];
    let day_of_week = &fields[FieldKind::DayOfWeek];
    let phrase = match (
        shape(&fields[FieldKind::Month]),
        shape(day),
        shape(day_of_week),
    ) {
        (Any, Any, Any) => return Some(None),
        (Any, Any, _) => format!("every {}", weekdays(day_of_week)?),
        (Any, _, Any) => {
            let (day, note) = day_of_month(day)?;
            format!("on {day} of every month{note}")
        }
        (One(month), Any, Any) => format!("every day of {}", month_name(month)?),
        (One(month), _, Any) => {
            let (day_words, mut note) = day_of_month(day)?;
            if let One(number) = shape(day) {
                note = date_note(month, number);
            }
            format!("on {day_words} of {} every year{note}", month_name(month)?)
        }
        _ => return None,
    };
    Some(Some(phrase))
}

/// "Monday to Friday", "Saturday and Sunday".
fn weekdays(field: &Field) -> Option<String> {
    let mut parts = Vec::new();
    for expr in field.exprs() {
        match *expr {
            Expr::Range {
                first,
                last: Some(last),
                step: 1,
            } if first == last => parts.push(weekday_name(first)?.to_owned()),
            Expr::Range {
                first,
                last: Some(last),
                step: 1,
            } => parts.push(format!(
                "{} to {}",
                weekday_name(first)?,
                weekday_name(last)?
            )),
            _ => return None,
        }
    }
    Some(join(&parts))
}

/// The day within a month, with a note when some months have no such day.
fn day_of_month(field: &Field) -> Option<(String, &'static str)> {
    const SKIPS: &str = " (months without one are skipped)";
    match field.exprs() {
        [
            Expr::Range {
                first,
                last: Some(last),
                ..
            },
        ] if first == last => {
            let note = if *first > 28 { SKIPS } else { "" };
            Some((format!("day {first}"), note))
        }
        [Expr::LastDayOfMonth] => Some(("the last day".to_owned(), "")),
        [Expr::WeekdayOfMonth { position, weekday }] => {
            let weekday = weekday_name(*weekday)?;
            Some(match position {
                Position::Last => (format!("the last {weekday}"), ""),
                Position::Nth(n) => {
                    let ordinal = ORDINALS.get(usize::try_from(*n).ok()?.checked_sub(1)?)?;
                    let note = if *n == 5 { SKIPS } else { "" };
                    (format!("the {ordinal} {weekday}"), note)
                }
            })
        }
        _ => None,
    }
}

/// Day 29 of February only fires in leap years; day 30 of February or 31 of April never.
fn date_note(month: u32, day: u32) -> &'static str {
    let longest = match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    match (month, day) {
        (2, 29) => " (leap years only)",
        _ if day > longest => " (a date that never occurs: it never fires)",
        _ => "",
    }
}

fn month_name(month: u32) -> Option<&'static str> {
    MONTHS
        .get(usize::try_from(month).ok()?.checked_sub(1)?)
        .copied()
}

fn weekday_name(weekday: u32) -> Option<&'static str> {
    WEEKDAYS.get(usize::try_from(weekday).ok()?).copied()
}

/// "a", "a and b", "a, b and c".
fn join(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `cron {day_of_week: 2, hour: 23}`: the fields as written, in APScheduler's order, quoted
/// where YAML would need it.
fn listing(fields: &Fields) -> String {
    let entries: Vec<String> = fields
        .written()
        .map(|(kind, text)| format!("{}: {}", kind.key(), yaml_scalar(text)))
        .collect();
    format!("cron {{{}}}", entries.join(", "))
}

fn yaml_scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && !text.starts_with('-')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "''"))
    }
}
