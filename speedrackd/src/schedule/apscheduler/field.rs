//! The eight fields of an APScheduler cron schedule: their names, ranges and defaults, and one
//! field's parsed value (a comma-separated list of expressions) with the next value it allows.
//!
//! Parsing a single expression lives in `expr`; walking the calendar lives in `search`.

use std::ops::Index;

use super::expr::{self, Expr, ExprError, Window};

/// One of APScheduler's fields, in its `FIELD_NAMES` order (coarsest first), which decides the
/// defaults: see [`Fields::from_given`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Year,
    Month,
    Day,
    Week,
    DayOfWeek,
    Hour,
    Minute,
    Second,
}

pub(super) const MONTH_NAMES: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
pub(super) const WEEKDAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl FieldKind {
    /// APScheduler's `FIELD_NAMES` order.
    pub(super) const ALL: [FieldKind; 8] = [
        FieldKind::Year,
        FieldKind::Month,
        FieldKind::Day,
        FieldKind::Week,
        FieldKind::DayOfWeek,
        FieldKind::Hour,
        FieldKind::Minute,
        FieldKind::Second,
    ];

    /// The mapping key, as APScheduler spells it.
    pub(super) fn key(self) -> &'static str {
        match self {
            FieldKind::Year => "year",
            FieldKind::Month => "month",
            FieldKind::Day => "day",
            FieldKind::Week => "week",
            FieldKind::DayOfWeek => "day_of_week",
            FieldKind::Hour => "hour",
            FieldKind::Minute => "minute",
            FieldKind::Second => "second",
        }
    }

    pub(super) fn from_key(key: &str) -> Option<FieldKind> {
        FieldKind::ALL.into_iter().find(|kind| kind.key() == key)
    }

    /// The smallest value the field can hold (APScheduler's `MIN_VALUES`).
    pub(super) fn min(self) -> u32 {
        match self {
            FieldKind::Year => 1970,
            FieldKind::Month | FieldKind::Day | FieldKind::Week => 1,
            FieldKind::DayOfWeek | FieldKind::Hour | FieldKind::Minute | FieldKind::Second => 0,
        }
    }

    /// The largest value the field can hold in any month (APScheduler's `MAX_VALUES`).
    pub(super) fn max(self) -> u32 {
        match self {
            FieldKind::Year => 9999,
            FieldKind::Month => 12,
            FieldKind::Day => 31,
            FieldKind::Week => 53,
            FieldKind::DayOfWeek => 6,
            FieldKind::Hour => 23,
            FieldKind::Minute | FieldKind::Second => 59,
        }
    }

    /// Names usable instead of numbers; the first name stands for [`FieldKind::min`].
    pub(super) fn names(self) -> &'static [&'static str] {
        match self {
            FieldKind::Month => &MONTH_NAMES,
            FieldKind::DayOfWeek => &WEEKDAY_NAMES,
            _ => &[],
        }
    }

    /// The forms this field accepts, for error messages.
    pub(super) fn forms(self) -> String {
        let (min, max) = (self.min(), self.max());
        let values = match self {
            FieldKind::Month => format!("values {min}-{max} or jan..dec"),
            FieldKind::DayOfWeek => format!("values {min}-{max} (0 = mon) or mon..sun"),
            _ => format!("values {min}-{max}"),
        };
        let extra = match self {
            FieldKind::Day => ", last, last fri, 1st fri .. 5th fri",
            _ => "",
        };
        format!("forms: *, */n, a, a-b, a-b/n, a/n{extra}, or a comma-separated list; {values}")
    }

    /// The field's default when the mapping gives a coarser field but no finer one: APScheduler's
    /// `DEFAULT_VALUES`, where `week` and `day_of_week` stay `*` (they only filter days).
    fn default_when_finer(self) -> Field {
        match self {
            FieldKind::Year | FieldKind::Week | FieldKind::DayOfWeek => Field::any(),
            _ => Field::only(self.min()),
        }
    }
}

/// One field's value: the values any of its expressions allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Field {
    exprs: Vec<Expr>,
    /// The text as written in the mapping, None for a default.
    written: Option<String>,
}

impl Field {
    fn any() -> Field {
        Field {
            exprs: vec![Expr::All { step: 1 }],
            written: None,
        }
    }

    fn only(value: u32) -> Field {
        Field {
            exprs: vec![Expr::single(value)],
            written: None,
        }
    }

    /// Parses a field's text; the error names the piece at fault but not the key.
    pub(super) fn parse(kind: FieldKind, text: &str) -> Result<Field, ExprError> {
        let written = text.trim();
        let lower = written.to_ascii_lowercase();
        // APScheduler splits on commas with spaces around them ignored.
        let exprs = lower
            .split(',')
            .map(|piece| expr::parse(kind, piece.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Field {
            exprs,
            written: Some(written.to_owned()),
        })
    }

    pub(super) fn exprs(&self) -> &[Expr] {
        &self.exprs
    }

    pub(super) fn written(&self) -> Option<&str> {
        self.written.as_deref()
    }

    /// The smallest allowed value at or above `current` within `window`, if any.
    pub(super) fn next_value(&self, current: u32, window: Window) -> Option<u32> {
        self.exprs
            .iter()
            .filter_map(|expr| expr.next_value(current, window))
            .min()
    }

    pub(super) fn allows(&self, value: u32, window: Window) -> bool {
        self.next_value(value, window) == Some(value)
    }
}

/// All eight fields, defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Fields([Field; 8]);

impl Fields {
    /// Fills in the fields not given as APScheduler does: fields after the last one given take
    /// their minimum (`*` for year, week and day_of_week); every other missing field is `*`.
    /// So `{day_of_week: 2, hour: 23}` fires at 23:00:00, while `{day: 1, second: 5}` fires at
    /// second 5 of every minute of the 1st.
    pub(super) fn from_given(mut given: [Option<Field>; 8]) -> Fields {
        let last_given = given.iter().rposition(Option::is_some);
        let mut index = 0;
        Fields(FieldKind::ALL.map(|kind| {
            let field = given[index].take().unwrap_or_else(|| {
                if last_given.is_some_and(|last| index > last) {
                    kind.default_when_finer()
                } else {
                    Field::any()
                }
            });
            index += 1;
            field
        }))
    }

    /// The fields written in the mapping, coarsest first, with their text.
    pub(super) fn written(&self) -> impl Iterator<Item = (FieldKind, &str)> {
        FieldKind::ALL
            .into_iter()
            .zip(&self.0)
            .filter_map(|(kind, field)| field.written().map(|text| (kind, text)))
    }
}

impl Index<FieldKind> for Fields {
    type Output = Field;

    fn index(&self, kind: FieldKind) -> &Field {
        &self.0[kind as usize]
    }
}
