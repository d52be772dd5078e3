//! One comma-separated piece of an APScheduler cron field (`*/5`, `1-10/2`, `mon-fri`,
//! `last sun`): parsing and validating it, and the next value it allows.
//!
//! It mirrors APScheduler 3's `expressions.py`, except that it refuses text APScheduler would
//! half-read: APScheduler's name patterns are not anchored at the end, so it silently reads
//! `mon-fri/2` as `mon-fri` and `mon - fri` as `mon`; here those are errors. It does not combine
//! pieces or know defaults (see `field`).

use super::field::{FieldKind, WEEKDAY_NAMES};

/// A parsed expression; names are already numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expr {
    /// `*` (step 1) or `*/step`: every step-th value counted from the field's minimum.
    All { step: u32 },
    /// `a`, `a-b`, `a/step` or `a-b/step`; `last` None (only with a step) runs to the maximum.
    Range {
        first: u32,
        last: Option<u32>,
        step: u32,
    },
    /// `1st fri` .. `5th fri` or `last fri`, in the day field only.
    WeekdayOfMonth { position: Position, weekday: u32 },
    /// `last`, in the day field only: the month's last day.
    LastDayOfMonth,
}

/// Which occurrence of a weekday in its month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Position {
    /// 1 to 5.
    Nth(u32),
    Last,
}

/// The values a field can take at the point of the search, and what day-of-month expressions
/// need to know about the month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Window {
    pub(super) min: u32,
    /// For the day field, the month's length.
    pub(super) max: u32,
    /// Weekday (0 = Monday) of the month's first day; only the day field uses it.
    pub(super) month_starts_on: u32,
}

const POSITIONS: [&str; 6] = ["1st", "2nd", "3rd", "4th", "5th", "last"];

/// Why a piece of a field cannot be read; the text names the piece and the form to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExprError {
    #[error("an item of the list is empty ({})", kind.forms())]
    Empty { kind: FieldKind },
    #[error("cannot read \"{piece}\" ({})", kind.forms())]
    Unreadable { kind: FieldKind, piece: String },
    #[error("\"{piece}\" is a day-of-month form: write it under day, e.g. day: '{piece}'")]
    DayOfMonthForm { piece: String },
    #[error("a step cannot follow names in \"{piece}\": use numbers, e.g. {first}-{last}/{step}")]
    StepAfterNames {
        piece: String,
        first: u32,
        last: u32,
        step: String,
    },
    #[error("the step in \"{piece}\" must be at least 1")]
    ZeroStep { piece: String },
    #[error(
        "the range \"{piece}\" runs backwards: write the smaller value first \
         (ranges do not wrap around)"
    )]
    Backwards { piece: String },
    #[error("{value} is out of range (valid values: {min}-{max})")]
    OutOfRange { value: u32, min: u32, max: u32 },
    #[error("the step in \"{piece}\" is larger than the span it steps over ({lo}-{hi})")]
    StepTooLarge { piece: String, lo: u32, hi: u32 },
    #[error(
        "\"{word}\" in \"{piece}\" is not a position: \
         use 1st, 2nd, 3rd, 4th, 5th or last, e.g. last sun"
    )]
    NotAPosition { word: String, piece: String },
    #[error(
        "\"{word}\" in \"{piece}\" is not a day name: \
         use mon, tue, wed, thu, fri, sat or sun, e.g. last sun"
    )]
    NotADayName { word: String, piece: String },
}

impl Expr {
    pub(super) fn single(value: u32) -> Expr {
        Expr::Range {
            first: value,
            last: Some(value),
            step: 1,
        }
    }

    /// The smallest value at or above `current` this expression allows within `window`
    /// (APScheduler's `get_next_value`).
    pub(super) fn next_value(self, current: u32, window: Window) -> Option<u32> {
        let (lo, hi, step) = match self {
            Expr::All { step } => (window.min, window.max, step),
            Expr::Range { first, last, step } => (
                window.min.max(first),
                last.map_or(window.max, |last| last.min(window.max)),
                step,
            ),
            Expr::WeekdayOfMonth { position, weekday } => {
                let day = weekday_of_month(position, weekday, window)?;
                return (day >= current).then_some(day);
            }
            Expr::LastDayOfMonth => return (window.max >= current).then_some(window.max),
        };
        let from = lo.max(current);
        let next = from + (step - (from - lo) % step) % step;
        (next <= hi).then_some(next)
    }
}

/// The day of the month of the `position`-th `weekday`, if the month has one.
fn weekday_of_month(position: Position, weekday: u32, window: Window) -> Option<u32> {
    let first_hit = (weekday + 7 - window.month_starts_on) % 7 + 1;
    let day = match position {
        Position::Nth(n) => first_hit + (n - 1) * 7,
        Position::Last => first_hit + (window.max - first_hit) / 7 * 7,
    };
    (day <= window.max).then_some(day)
}

/// Parses one trimmed, lowercased piece of a field; the error explains what is wrong with it.
pub(super) fn parse(kind: FieldKind, piece: &str) -> Result<Expr, ExprError> {
    if piece.is_empty() {
        return Err(ExprError::Empty { kind });
    }
    if piece == "*" {
        return Ok(Expr::All { step: 1 });
    }
    if let Some(step) = piece.strip_prefix("*/") {
        let step = number(step).ok_or_else(|| unreadable(kind, piece))?;
        check_step(piece, step, kind.min(), kind.max())?;
        return Ok(Expr::All { step });
    }
    if kind == FieldKind::Day {
        if piece == "last" {
            return Ok(Expr::LastDayOfMonth);
        }
        if piece.contains(' ') {
            return weekday_of_month_expr(piece);
        }
    }
    if kind == FieldKind::DayOfWeek && weekday_of_month_expr(piece).is_ok() {
        return Err(ExprError::DayOfMonthForm {
            piece: piece.to_owned(),
        });
    }
    range(kind, piece)
}

/// `a`, `a-b`, `a/n`, `a-b/n` in numbers, or `a`, `a-b` in names where the field has them
/// (APScheduler reads names only as a name or a range of two names, never with a step).
fn range(kind: FieldKind, piece: &str) -> Result<Expr, ExprError> {
    let (bounds, step_text) = match piece.split_once('/') {
        Some((bounds, step)) => (bounds, Some(step)),
        None => (piece, None),
    };
    let (first_text, last_text) = match bounds.split_once('-') {
        Some((first, last)) => (first, Some(last)),
        None => (bounds, None),
    };
    let named = bounds.contains(|c: char| c.is_ascii_alphabetic());
    if let (true, Some(step)) = (named && !kind.names().is_empty(), step_text) {
        let first = name(kind, first_text).unwrap_or(kind.min());
        let last = last_text
            .and_then(|text| name(kind, text))
            .unwrap_or(kind.max());
        return Err(ExprError::StepAfterNames {
            piece: piece.to_owned(),
            first,
            last,
            step: step.to_owned(),
        });
    }
    let read = |text: &str| {
        if named {
            name(kind, text)
        } else {
            number(text)
        }
    };
    let first = read(first_text).ok_or_else(|| unreadable(kind, piece))?;
    let last = match last_text {
        Some(text) => Some(read(text).ok_or_else(|| unreadable(kind, piece))?),
        None => None,
    };
    let step = match step_text {
        Some(text) => Some(number(text).ok_or_else(|| unreadable(kind, piece))?),
        None => None,
    };
    let last = match (last, step) {
        (None, None) => Some(first),
        (last, _) => last,
    };
    check_range(kind, piece, first, last, step)?;
    Ok(Expr::Range {
        first,
        last,
        step: step.unwrap_or(1),
    })
}

/// APScheduler's checks, in its order: step, direction, bounds, step against the span.
fn check_range(
    kind: FieldKind,
    piece: &str,
    first: u32,
    last: Option<u32>,
    step: Option<u32>,
) -> Result<(), ExprError> {
    if step == Some(0) {
        return Err(ExprError::ZeroStep {
            piece: piece.to_owned(),
        });
    }
    if last.is_some_and(|last| first > last) {
        return Err(ExprError::Backwards {
            piece: piece.to_owned(),
        });
    }
    for value in [Some(first), last].into_iter().flatten() {
        if value < kind.min() || value > kind.max() {
            return Err(ExprError::OutOfRange {
                value,
                min: kind.min(),
                max: kind.max(),
            });
        }
    }
    match step {
        Some(step) => check_step(piece, step, first, last.unwrap_or(kind.max())),
        None => Ok(()),
    }
}

/// APScheduler refuses a step larger than the span it steps over (`*/60` for minutes, `5-5/1`).
fn check_step(piece: &str, step: u32, lo: u32, hi: u32) -> Result<(), ExprError> {
    let piece = piece.to_owned();
    if step == 0 {
        return Err(ExprError::ZeroStep { piece });
    }
    if step > hi - lo {
        return Err(ExprError::StepTooLarge { piece, lo, hi });
    }
    Ok(())
}

/// `1st fri` .. `5th fri`, `last fri` (any number of spaces between).
fn weekday_of_month_expr(piece: &str) -> Result<Expr, ExprError> {
    let mut words = piece.split_whitespace();
    let (Some(position_text), Some(weekday_text), None) =
        (words.next(), words.next(), words.next())
    else {
        return Err(unreadable(FieldKind::Day, piece));
    };
    let position = match POSITIONS.iter().position(|p| *p == position_text) {
        Some(5) => Position::Last,
        Some(index) => Position::Nth(index as u32 + 1),
        None => {
            return Err(ExprError::NotAPosition {
                word: position_text.to_owned(),
                piece: piece.to_owned(),
            });
        }
    };
    let weekday =
        name_index(&WEEKDAY_NAMES, weekday_text).ok_or_else(|| ExprError::NotADayName {
            word: weekday_text.to_owned(),
            piece: piece.to_owned(),
        })?;
    Ok(Expr::WeekdayOfMonth { position, weekday })
}

/// A month or weekday name as the field's number.
fn name(kind: FieldKind, text: &str) -> Option<u32> {
    Some(name_index(kind.names(), text)? + kind.min())
}

fn name_index(names: &[&str], text: &str) -> Option<u32> {
    let index = names.iter().position(|name| *name == text)?;
    u32::try_from(index).ok()
}

/// Plain ASCII digits; too large a number reads as `u32::MAX`, which every range check refuses.
fn number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().unwrap_or(u32::MAX))
}

fn unreadable(kind: FieldKind, piece: &str) -> ExprError {
    ExprError::Unreadable {
        kind,
        piece: piece.to_owned(),
    }
}
