//! Table-driven tests of fire times and descriptions; errors are in `tests_errors`, the
//! cross-check against APScheduler itself in `tests_vectors`.
//!
//! A case is one line, `"day=1; second=5 after 2026-03-01 00:00:05 -> 00:01:05, 2026-04-01 00:00:05"`:
//! the mapping (entries in the order written), the wall time to start after, and the fires one
//! after another, where a bare time is on the same day as the time before it and `never` means
//! no further fire.

use chrono::{NaiveDateTime, Timelike};

use super::ApsCron;

/// `"day_of_week=2; hour=23"` as mapping entries.
pub(super) fn mapping(spec: &str) -> Vec<(String, String)> {
    spec.split(';')
        .filter(|entry| !entry.trim().is_empty())
        .map(|entry| {
            let (key, value) = entry.split_once('=').expect("key=value");
            (key.trim().to_owned(), value.to_owned())
        })
        .collect()
}

fn cron(spec: &str) -> ApsCron {
    ApsCron::from_fields(&mapping(spec)).expect("a valid schedule")
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").expect("a test time")
}

/// Splits `"left -> right"`.
fn arrow(case: &str) -> (&str, &str) {
    case.split_once(" -> ").expect("a case with ->")
}

/// Checks one `"mapping after time -> fires"` case.
fn check(case: &str) {
    let (given, expected) = arrow(case);
    let (spec, after) = given.split_once(" after ").expect("a case with after");
    let schedule = cron(spec);
    let mut cursor = at(after);
    for want in expected.split(", ") {
        let want = match want {
            "never" => None,
            time if time.len() == 8 => Some(at(&format!("{} {time}", cursor.date()))),
            date_time => Some(at(date_time)),
        };
        let got = schedule.next_wall_after(cursor);
        assert_eq!(got, want, "{spec} after {cursor}");
        match got {
            Some(fire) => cursor = fire,
            None => return,
        }
    }
}

#[test]
fn every_expression_form_in_every_field() {
    let cases = [
        "second=*/15 after 2026-03-07 12:00:50 -> 12:01:00, 12:01:15",
        "second=*/7 after 2026-03-07 12:00:50 -> 12:00:56, 12:01:00",
        "second=10-20/5 after 2026-03-07 12:00:12 -> 12:00:15, 12:00:20, 12:01:10",
        "second=50/5 after 2026-03-07 12:00:00 -> 12:00:50, 12:00:55, 12:01:50",
        "second=1,30,59 after 2026-03-07 12:00:30 -> 12:00:59, 12:01:01",
        "minute=0-30/10 after 2026-03-07 12:25:00 -> 12:30:00, 13:00:00",
        "minute=5/20 after 2026-03-07 12:46:00 -> 13:05:00, 13:25:00",
        "hour=*/6 after 2026-03-07 19:00:00 -> 2026-03-08 00:00:00, 06:00:00",
        "hour=0,12 after 2026-03-07 12:00:00 -> 2026-03-08 00:00:00, 12:00:00",
        "day=*/10 after 2026-01-21 00:00:00 -> 2026-01-31 00:00:00, 2026-02-01 00:00:00",
        "day=3-31/9 after 2026-02-22 00:00:00 -> 2026-03-03 00:00:00, 2026-03-12 00:00:00",
        "day=1,15 after 2026-03-01 00:00:00 -> 2026-03-15 00:00:00, 2026-04-01 00:00:00",
        "month=jan-mar; day=1 after 2026-03-01 00:00:00 -> 2027-01-01 00:00:00",
        "month=*/3 after 2026-08-01 00:00:00 -> 2026-10-01 00:00:00, 2027-01-01 00:00:00",
        "month=FEB,dec after 2026-03-01 00:00:00 -> 2026-12-01 00:00:00, 2027-02-01 00:00:00",
        "day_of_week=mon-fri; hour=9 after 2026-03-06 10:00:00 -> 2026-03-09 09:00:00",
        "day_of_week=sat,sun; hour=9 after 2026-03-07 10:00:00 -> 2026-03-08 09:00:00",
        "day_of_week=*/2; hour=9 after 2026-03-14 10:00:00 -> 2026-03-15 09:00:00, 2026-03-16 09:00:00",
        "day_of_week=Mon-Wed, Fri; hour=9 after 2026-03-11 10:00:00 -> 2026-03-13 09:00:00",
        "day_of_week=6; hour=9 after 2026-03-07 10:00:00 -> 2026-03-08 09:00:00",
        // ISO week 1 of 2027 starts on Monday 2027-01-04; of 2025, on Monday 2024-12-30
        "week=1; day_of_week=mon after 2026-03-07 00:00:00 -> 2027-01-04 00:00:00",
        "week=1 after 2024-12-29 00:00:00 -> 2024-12-30 00:00:00, 2024-12-31 00:00:00",
        "week=53; day_of_week=thu after 2021-01-01 00:00:00 -> 2026-12-31 00:00:00",
        "week=*/2; day_of_week=mon after 2026-03-01 00:00:00 -> 2026-03-09 00:00:00",
        "year=*/2; month=12; day=25 after 2026-12-25 00:00:00 -> 2028-12-25 00:00:00",
        "year=2026-2027; month=6 after 2027-01-01 00:00:00 -> 2027-06-01 00:00:00, never",
        "year=2027 after 2020-01-01 00:00:00 -> 2027-01-01 00:00:00, never",
    ];
    cases.into_iter().for_each(check);
}

#[test]
fn missing_fields_default_as_apscheduler_does() {
    let cases = [
        // finer fields than the finest given take their minimum, coarser ones are `*`
        "second=5 after 2026-03-07 12:00:05 -> 12:01:05, 12:02:05",
        "minute=*/5 after 2026-03-07 12:03:00 -> 12:05:00, 12:10:00",
        "day_of_week=2; hour=23 after 2026-03-07 00:00:00 -> 2026-03-11 23:00:00",
        "month=2 after 2026-03-07 00:00:00 -> 2027-02-01 00:00:00, 2028-02-01 00:00:00",
        // fields between two given ones are `*`: every minute of the 1st, at second 5
        "day=1; second=5 after 2026-03-01 00:00:05 -> 00:01:05, 00:02:05",
        // week and day_of_week stay `*` even when finer than the finest given
        "week=10 after 2026-03-01 00:00:00 -> 2026-03-02 00:00:00, 2026-03-03 00:00:00",
        // entries in any order: APScheduler's field order decides
        "hour=23; day_of_week=wed after 2026-03-07 00:00:00 -> 2026-03-11 23:00:00",
    ];
    cases.into_iter().for_each(check);
}

#[test]
fn month_lengths_and_leap_years() {
    let cases = [
        "day=31 after 2026-03-31 00:00:00 -> 2026-05-31 00:00:00, 2026-07-31 00:00:00",
        "day=31 after 2026-07-31 00:00:00 -> 2026-08-31 00:00:00, 2026-10-31 00:00:00",
        "day=last after 2024-01-31 00:00:00 -> 2024-02-29 00:00:00, 2024-03-31 00:00:00",
        "day=last after 2026-01-31 00:00:00 -> 2026-02-28 00:00:00, 2026-03-31 00:00:00",
        "day=last after 2026-04-01 00:00:00 -> 2026-04-30 00:00:00",
        "month=2; day=last after 2099-03-01 00:00:00 -> 2100-02-28 00:00:00",
        "month=2; day=29 after 2024-02-29 00:00:00 -> 2028-02-29 00:00:00",
        // 2100 is not a leap year, 2000 was
        "month=2; day=29 after 2097-01-01 00:00:00 -> 2104-02-29 00:00:00",
        "month=2; day=29 after 1999-01-01 00:00:00 -> 2000-02-29 00:00:00",
        "day=29-31; hour=12 after 2026-02-01 00:00:00 -> 2026-03-29 12:00:00",
        "day=29-31; hour=12 after 2026-03-31 12:00:00 -> 2026-04-29 12:00:00",
        "day=1st mon after 2026-03-02 00:00:00 -> 2026-04-06 00:00:00, 2026-05-04 00:00:00",
        "day=2nd fri,last fri after 2026-03-13 00:00:00 -> 2026-03-27 00:00:00",
        "day=2nd fri,last fri after 2026-03-27 00:00:00 -> 2026-04-10 00:00:00",
        "day=last sun; hour=2; minute=30 after 2026-03-01 00:00:00 -> 2026-03-29 02:30:00",
        // the last Sunday of a 29-day February starting on a Sunday is the 29th
        "month=feb; day=last sun after 2031-03-01 00:00:00 -> 2032-02-29 00:00:00",
        // months without a 5th Friday do not fire: 2026 has them in Jan, May, Jul, Oct
        "day=5th fri after 2026-01-30 00:00:00 -> 2026-05-29 00:00:00, 2026-07-31 00:00:00",
        // June 2026 starts on a Monday: a 5th Tuesday, no 5th Wednesday
        "month=6; day=5th tue after 2026-01-01 00:00:00 -> 2026-06-30 00:00:00",
        "month=6; day=5th wed after 2026-01-01 00:00:00 -> 2027-06-30 00:00:00",
        "month=2; day=5th sun after 2026-01-01 00:00:00 -> 2032-02-29 00:00:00",
        // day and day_of_week are ANDed: Friday the 13th
        "day=13; day_of_week=fri after 2026-03-13 00:00:00 -> 2026-11-13 00:00:00",
    ];
    cases.into_iter().for_each(check);
}

#[test]
fn start_and_end_dates_bound_the_fires_inclusively() {
    let cases = [
        "hour=12; start_date=2026-06-01 after 2026-01-01 00:00:00 -> 2026-06-01 12:00:00",
        "hour=12; start_date=2026-06-01 12:00:00 after 2026-01-01 00:00:00 -> 2026-06-01 12:00:00",
        "hour=12; start_date=2026-06-01T12:00:01 after 2026-01-01 00:00:00 -> 2026-06-02 12:00:00",
        "hour=12; start_date=2026-06-01 after 2026-07-01 00:00:00 -> 12:00:00",
        "hour=12; end_date=2026-06-02 12:00:00 after 2026-06-01 00:00:00 -> 12:00:00, 2026-06-02 12:00:00, never",
        "hour=12; end_date=2026-06-02 after 2026-06-01 00:00:00 -> 12:00:00, never",
        "hour=12; end_date=2026-06-02 after 2026-06-03 00:00:00 -> never",
        "second=0; start_date=2026-06-01 10:00:00; end_date=2026-06-01 10:00:00 after 2026-01-01 00:00:00 -> 2026-06-01 10:00:00, never",
    ];
    cases.into_iter().for_each(check);
}

#[test]
fn schedules_that_can_never_fire_again_end_quickly() {
    let cases = [
        "month=feb; day=30 after 2026-01-01 00:00:00 -> never",
        "month=4,6,9,11; day=31 after 2026-01-01 00:00:00 -> never",
        "year=2026; month=2; day=29 after 2020-01-01 00:00:00 -> never",
        "day=1st fri; day_of_week=sat after 2026-01-01 00:00:00 -> never",
        // no ISO week 53 touches February to November: without the calendar-cycle shortcut
        // this walks every day up to 9999
        "week=53; month=2-11 after 2026-01-01 00:00:00 -> never",
        // every year 1970 + 400k is a common year
        "year=*/400; month=2; day=29 after 1970-01-01 00:00:00 -> never",
        "year=2026 after 2026-01-01 00:00:00 -> never",
        "second=* after 9999-12-31 23:59:59 -> never",
    ];
    cases.into_iter().for_each(check);
    let beyond_9999 = chrono::NaiveDate::from_ymd_opt(10_000, 1, 1)
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .expect("chrono reaches year 10000");
    assert_eq!(cron("second=*").next_wall_after(beyond_9999), None);
    assert_eq!(cron("second=*").next_wall_after(NaiveDateTime::MAX), None);
}

#[test]
fn fires_are_whole_seconds_strictly_after_the_truncated_wall_time() {
    let cases = [
        "2026-03-07 12:00:04.999999999 -> 2026-03-07 12:00:05",
        "2026-03-07 12:00:05 -> 2026-03-07 12:01:05",
        "2026-03-07 12:00:05.5 -> 2026-03-07 12:01:05",
        "2026-12-31 23:59:05.25 -> 2027-01-01 00:00:05",
        // APScheduler's years start at 1970
        "1960-06-01 00:00:00 -> 1970-01-01 00:00:05",
    ];
    for case in cases {
        let (after, expected) = arrow(case);
        let fire = cron("second=5").next_wall_after(at(after));
        assert_eq!(fire, Some(at(expected)), "after {after}");
        assert_eq!(fire.map(|f| f.nanosecond()), Some(0));
    }
}

#[test]
fn describes_itself_in_words_or_as_fields() {
    let cases = [
        "day_of_week=2; hour=23 -> at 23:00:00 every Wednesday",
        "second=5 -> at second 5 of every minute",
        "minute=*/5 -> every 5 minutes (second 0)",
        "day=last sun; hour=2; minute=30 -> at 02:30:00 on the last Sunday of every month",
        "second=* -> every second",
        "second=*/15 -> every 15 seconds",
        "minute=30 -> at minute 30, second 0 of every hour",
        "hour=*/6 -> every 6 hours, at minute 0, second 0",
        "hour=7 -> at 07:00:00 every day",
        "day_of_week=mon-fri; hour=9; minute=30 -> at 09:30:00 every Monday to Friday",
        "day_of_week=sat,sun; hour=10 -> at 10:00:00 every Saturday and Sunday",
        "day_of_week=mon,wed,5; hour=10 -> at 10:00:00 every Monday, Wednesday and Saturday",
        "day_of_week=mon-fri; minute=*/10 -> every 10 minutes (second 0), every Monday to Friday",
        "day=15; hour=6 -> at 06:00:00 on day 15 of every month",
        "day=31 -> at 00:00:00 on day 31 of every month (months without one are skipped)",
        "day=last -> at 00:00:00 on the last day of every month",
        "day=2nd tue -> at 00:00:00 on the second Tuesday of every month",
        "day=5th fri -> at 00:00:00 on the fifth Friday of every month (months without one are skipped)",
        "month=2; day=29 -> at 00:00:00 on day 29 of February every year (leap years only)",
        "month=feb; day=30 -> at 00:00:00 on day 30 of February every year (a date that never occurs: it never fires)",
        "month=nov; day=last thu -> at 00:00:00 on the last Thursday of November every year",
        "month=7 -> at 00:00:00 on day 1 of July every year",
        "month=7; day=*; hour=8 -> at 08:00:00 every day of July",
        "hour=12; start_date=2026-06-01; end_date=2026-06-05T12:00:00 -> at 12:00:00 every day, from 2026-06-01 00:00:00, until 2026-06-05 12:00:00",
        // too complex for words: the fields as written, in APScheduler's order
        "minute=*/7 -> cron {minute: '*/7'}",
        "hour=9-17; day_of_week=Mon-Fri -> cron {day_of_week: Mon-Fri, hour: 9-17}",
        "day=13; day_of_week=fri -> cron {day: 13, day_of_week: fri}",
        "week=1; second=0 -> cron {week: 1, second: 0}",
        "year=2027; day=1st mon,last -> cron {year: 2027, day: '1st mon,last'}",
    ];
    for case in cases {
        let (spec, expected) = arrow(case);
        assert_eq!(cron(spec).describe(), expected, "{spec}");
    }
}
