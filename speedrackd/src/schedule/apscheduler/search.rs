//! Finding the first wall time, at or after a given one, that every field allows.
//!
//! Like APScheduler's `get_next_fire_time`, the search walks field by field, coarsest first:
//! each field jumps straight to its next allowed value, resetting the finer ones to their
//! minimum, and a field with no value left carries into the next coarser one. `week` and
//! `day_of_week` only filter days, as in APScheduler. Nothing here knows about time zones,
//! start or end dates: the caller bounds the result.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use super::expr::Window;
use super::field::{FieldKind, Fields};

const FIRST_YEAR: i32 = 1970;
const LAST_YEAR: i32 = 9999;
/// The Gregorian calendar repeats every 400 years, weekdays and ISO weeks included.
const CALENDAR_CYCLE: usize = 400;

/// The fields below the year, coarsest first, as the search descends.
const BELOW_YEAR: [FieldKind; 5] = [
    FieldKind::Month,
    FieldKind::Day,
    FieldKind::Hour,
    FieldKind::Minute,
    FieldKind::Second,
];
const START_OF_YEAR: [u32; 5] = [1, 1, 0, 0, 0];

/// The first time at or after `from` that `fields` allow, looking no further than `last_year`.
pub(super) fn first_match(
    fields: &Fields,
    from: NaiveDateTime,
    last_year: i32,
) -> Option<NaiveDateTime> {
    let last_year = last_year.min(LAST_YEAR);
    let (mut year, mut below) = if from.year() < FIRST_YEAR {
        (FIRST_YEAR, START_OF_YEAR)
    } else {
        (from.year(), position_in_year(from))
    };
    // Years (modulo the calendar cycle) searched from their start without a match: all later
    // years with the same calendar are skipped, so a schedule that can never fire ends after at
    // most one cycle of real work rather than walking every day up to 9999.
    let mut barren = [false; CALENDAR_CYCLE];
    loop {
        let allowed =
            fields[FieldKind::Year].next_value(u32::try_from(year).ok()?, year_window())?;
        let allowed = i32::try_from(allowed).ok()?;
        if allowed > last_year {
            return None;
        }
        if allowed != year {
            (year, below) = (allowed, START_OF_YEAR);
        }
        let whole_year = below == START_OF_YEAR;
        let cycle_slot = usize::try_from(year).ok()? % CALENDAR_CYCLE;
        if !(whole_year && barren[cycle_slot]) {
            if descend(fields, year, &mut below, 0, true) {
                return wall_time(year, below);
            }
            if whole_year {
                barren[cycle_slot] = true;
            }
        }
        (year, below) = (year + 1, START_OF_YEAR);
    }
}

/// Finds the first allowed `values[level..]` at or after their current contents when
/// `bounded`, or from the fields' minimum otherwise; on success `values` holds the match.
fn descend(fields: &Fields, year: i32, values: &mut [u32; 5], level: usize, bounded: bool) -> bool {
    let Some(&kind) = BELOW_YEAR.get(level) else {
        return true;
    };
    let Some(window) = window(kind, year, values[0]) else {
        return false;
    };
    let mut candidate = if bounded { values[level] } else { window.min };
    let mut bounded = bounded;
    while let Some(value) = fields[kind].next_value(candidate, window) {
        // Once this field moves past its lower bound, the finer fields start from their minimum.
        bounded &= value == values[level];
        values[level] = value;
        let day_allowed =
            kind != FieldKind::Day || day_filters_allow(fields, year, values[0], value);
        if day_allowed && descend(fields, year, values, level + 1, bounded) {
            return true;
        }
        if value >= window.max {
            break;
        }
        candidate = value + 1;
        bounded = false;
    }
    false
}

/// The values `kind` can take in the given year and month.
fn window(kind: FieldKind, year: i32, month: u32) -> Option<Window> {
    let mut window = Window {
        min: kind.min(),
        max: kind.max(),
        month_starts_on: 0,
    };
    if kind == FieldKind::Day {
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        window.month_starts_on = first.weekday().num_days_from_monday();
        window.max = days_in_month(first);
    }
    Some(window)
}

fn year_window() -> Window {
    Window {
        min: FieldKind::Year.min(),
        max: FieldKind::Year.max(),
        month_starts_on: 0,
    }
}

fn days_in_month(first: NaiveDate) -> u32 {
    let next_month = first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|next| next.pred_opt());
    next_month.map_or(31, |last| last.day())
}

/// `week` (ISO week number) and `day_of_week` (0 = Monday) filter days without moving them.
fn day_filters_allow(fields: &Fields, year: i32, month: u32, day: u32) -> bool {
    let Some(date) = NaiveDate::from_ymd_opt(year, month, day) else {
        return false;
    };
    let plain = |kind: FieldKind| Window {
        min: kind.min(),
        max: kind.max(),
        month_starts_on: 0,
    };
    fields[FieldKind::Week].allows(date.iso_week().week(), plain(FieldKind::Week))
        && fields[FieldKind::DayOfWeek].allows(
            date.weekday().num_days_from_monday(),
            plain(FieldKind::DayOfWeek),
        )
}

fn position_in_year(time: NaiveDateTime) -> [u32; 5] {
    [
        time.month(),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
    ]
}

fn wall_time(year: i32, [month, day, hour, minute, second]: [u32; 5]) -> Option<NaiveDateTime> {
    NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(hour, minute, second)
}
