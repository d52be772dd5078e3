//! Reading the mapping's entries (`hour: 23`, `start_date: 2026-01-01`, ...) into parsed fields
//! and bounds, collecting every problem: one error per bad key, plus the checks that span
//! entries (an end before the start, no field at all).
//!
//! Defaults for the fields not given are `field`'s business; fire times are `search`'s.

use chrono::NaiveDateTime;

use super::ApsCronError;
use super::dates;
use super::field::{Field, FieldKind};

const START_DATE: &str = "start_date";
pub(super) const END_DATE: &str = "end_date";
pub(super) const VALID_KEYS: &str =
    "year, month, day, week, day_of_week, hour, minute, second, start_date, end_date";

/// What a valid mapping says.
pub(super) struct Mapping {
    /// Indexed by `FieldKind as usize`; None where the mapping does not give the field.
    pub(super) given: [Option<Field>; 8],
    pub(super) start: Option<NaiveDateTime>,
    pub(super) end: Option<NaiveDateTime>,
}

/// A mapping being read, with the problems found so far.
#[derive(Default)]
struct Reader {
    given: [Option<Field>; 8],
    start: Option<NaiveDateTime>,
    end: Option<NaiveDateTime>,
    field_seen: bool,
    unknown_seen: bool,
    errors: Vec<ApsCronError>,
}

impl Mapping {
    pub(super) fn read(entries: &[(String, String)]) -> Result<Mapping, Vec<ApsCronError>> {
        let mut reader = Reader::default();
        for (index, (key, value)) in entries.iter().enumerate() {
            if entries[..index].iter().any(|(earlier, _)| earlier == key) {
                reader
                    .errors
                    .push(ApsCronError::Repeated { key: key.clone() });
            } else {
                reader.entry(key, value);
            }
        }
        reader.check_whole();
        if !reader.errors.is_empty() {
            return Err(reader.errors);
        }
        Ok(Mapping {
            given: reader.given,
            start: reader.start,
            end: reader.end,
        })
    }
}

impl Reader {
    fn entry(&mut self, key: &str, value: &str) {
        if let Some(kind) = FieldKind::from_key(key) {
            self.field_seen = true;
            match Field::parse(kind, value) {
                Ok(field) => self.given[kind as usize] = Some(field),
                Err(source) => self.errors.push(ApsCronError::Field {
                    key: key.to_owned(),
                    value: value.trim().to_owned(),
                    source,
                }),
            }
        } else if key == START_DATE || key == END_DATE {
            match dates::parse_wall(value) {
                Ok(time) if key == START_DATE => self.start = Some(time),
                Ok(time) => self.end = Some(time),
                Err(source) => self.errors.push(ApsCronError::Date {
                    key: key.to_owned(),
                    source,
                }),
            }
        } else {
            self.unknown_seen = true;
            self.errors.push(ApsCronError::UnknownKey {
                key: key.to_owned(),
                suggestion: suggestion(key),
            });
        }
    }

    fn check_whole(&mut self) {
        if let (Some(start), Some(end)) = (self.start, self.end)
            && end < start
        {
            self.errors
                .push(ApsCronError::EndBeforeStart { start, end });
        }
        // An unknown key is most likely a misspelt field: its error says enough.
        if !self.field_seen && !self.unknown_seen {
            self.errors.push(ApsCronError::NoField);
        }
    }
}

/// The valid key a misspelt one most likely meant: a plural, another case, or a common alias.
fn suggestion(key: &str) -> Option<&'static str> {
    const ALIASES: [(&str, &str); 6] = [
        ("dow", "day_of_week"),
        ("weekday", "day_of_week"),
        ("weekdays", "day_of_week"),
        ("day_of_month", "day"),
        ("start", START_DATE),
        ("end", END_DATE),
    ];
    let lower = key.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    let singular = lower.strip_suffix('s').unwrap_or(&lower);
    let known = |candidate: &str| {
        FieldKind::ALL
            .into_iter()
            .map(FieldKind::key)
            .chain([START_DATE, END_DATE])
            .find(|valid| *valid == candidate)
    };
    known(&lower).or_else(|| known(singular)).or_else(|| {
        ALIASES
            .iter()
            .find(|(alias, _)| *alias == lower)
            .map(|(_, valid)| *valid)
    })
}
