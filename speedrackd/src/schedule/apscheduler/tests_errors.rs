//! Table-driven tests of refused mappings: every bad key is reported, named, and explained.
//! Mappings are written as in `tests` (`"second=15; minutes=30"`).

use super::tests::mapping;
use super::{ApsCron, ApsCronError};

/// The errors expected, in order: (key, words the message contains).
type Expected<'a> = &'a [(Option<&'a str>, &'a [&'a str])];

/// Asserts the mapping is refused with exactly the expected errors.
fn check(spec: &str, expected: Expected) {
    let errors = ApsCron::from_fields(&mapping(spec)).expect_err("an invalid mapping");
    let keys: Vec<Option<&str>> = errors.iter().map(ApsCronError::key).collect();
    let want_keys: Vec<Option<&str>> = expected.iter().map(|(key, _)| *key).collect();
    assert_eq!(keys, want_keys, "{spec}: {errors:?}");
    for (error, (_, words)) in errors.iter().zip(expected) {
        for word in *words {
            assert!(
                error.to_string().contains(word),
                "{spec}: \"{error}\" should contain {word:?}"
            );
        }
    }
}

#[test]
fn bad_values_name_the_key_the_value_and_the_valid_forms() {
    // "key=value -> words | the message | contains"; a field is added where the case has none
    let cases = [
        "minute=60 -> minute \"60\" | 60 is out of range | 0-59",
        "hour=24 -> hour \"24\" | 0-23",
        "second=1,60 -> second \"1,60\" | 60 is out of range",
        "day=0 -> day \"0\" | 1-31",
        "day=32 -> 1-31",
        "week=54 -> 1-53",
        "year=1969 -> 1970-9999",
        "year=10000 -> 1970-9999",
        "month=13 -> 1-12",
        "day_of_week=7 -> 0-6",
        "minute=99999999999 -> out of range",
        "second=*/0 -> \"*/0\" | at least 1",
        "minute=10-20/0 -> at least 1",
        "minute=*/60 -> larger than the span | 0-59",
        "minute=10-20/11 -> larger than the span | 10-20",
        "minute=5-5/1 -> larger than the span",
        "minute=5-2 -> \"5-2\" | runs backwards",
        "month=nov-feb -> runs backwards",
        "day_of_week=fri-mon -> runs backwards",
        "minute=abc -> cannot read \"abc\" | */n | 0-59",
        "minute=1,,2 -> empty",
        "minute=1, -> empty",
        "hour= -> empty",
        "hour=-1 -> cannot read",
        "hour=1 - 5 -> cannot read",
        "hour=*-5 -> cannot read",
        "month=foo -> jan..dec",
        "month=january -> jan..dec",
        "day_of_week=funday -> mon..sun",
        // APScheduler half-reads these (as mon-fri, mon, mon): refused rather than guessed
        "day_of_week=mon-fri/2 -> step cannot follow names | 0-4/2",
        "day_of_week=mon - fri -> cannot read",
        "day_of_week=mon-5 -> cannot read",
        "month=mar-dec/3 -> step cannot follow names | 3-12/3",
        "day_of_week=1st fri -> write it under day",
        "day=last sunday -> \"sunday\" | not a day name | last sun",
        "day=last 6 -> not a day name",
        "day=6th fri -> \"6th\" | not a position",
        "day=1st fri sat -> cannot read",
        "day=mon -> cannot read | last fri",
        "start_date=tomorrow -> start_date | cannot read \"tomorrow\" | 2026-01-01",
        "end_date=2026-13-01 -> end_date | cannot read",
        "start_date=2026-01-01T10:00:00+02:00 -> zone offset",
        "start_date=2026-01-01 10:00:00.5 -> cannot read",
    ];
    for case in cases {
        let (entry, words) = case.split_once(" -> ").expect("a case with ->");
        let key = entry.split_once('=').map_or(entry, |(key, _)| key);
        let spec = match key {
            "second" => entry.to_owned(),
            _ => format!("second=0; {entry}"),
        };
        let words: Vec<&str> = words.split(" | ").collect();
        check(&spec, &[(Some(key), &words)]);
    }
}

#[test]
fn keys_must_be_known_and_given_once() {
    let cases: &[(&str, Expected)] = &[
        // the seed demo's typo
        (
            "second=15; minutes=30",
            &[(
                Some("minutes"),
                &["\"minutes\"", "did you mean \"minute\"", "day_of_week"],
            )],
        ),
        ("Hour=1", &[(Some("Hour"), &["did you mean \"hour\""])]),
        (
            "hour=1; dow=1",
            &[(Some("dow"), &["did you mean \"day_of_week\""])],
        ),
        (
            "hour=1; jitter=5",
            &[(Some("jitter"), &["valid keys: year"])],
        ),
        ("hour=1; hour=2", &[(Some("hour"), &["more than once"])]),
        // a mapping with no field at all
        ("", &[(None, &["at least one of"])]),
        ("start_date=2026-01-01", &[(None, &["at least one of"])]),
        (
            "hour=1; start_date=2026-02-01; end_date=2026-01-31 23:59:59",
            &[(
                Some("end_date"),
                &["before start_date", "2026-02-01 00:00:00"],
            )],
        ),
    ];
    for (spec, expected) in cases {
        check(spec, expected);
    }
}

#[test]
fn every_bad_key_is_reported_in_the_order_written() {
    check(
        "minute=60; hour=*/2; minutes=5; day_of_week=fri-mon; start_date=soon",
        &[
            (Some("minute"), &["60"]),
            (Some("minutes"), &["unknown key"]),
            (Some("day_of_week"), &["fri-mon"]),
            (Some("start_date"), &["soon"]),
        ],
    );
}

#[test]
fn values_are_case_insensitive_and_spaced_freely() {
    let same = [
        ("day_of_week=MON-FRI", "day_of_week=0-4"),
        ("day_of_week= mon , wed ", "day_of_week=0,2"),
        ("month=Jan-Mar", "month=1-3"),
        ("day=LAST  Sun", "day=last sun"),
        ("minute=05", "minute=5"),
    ];
    let probe = chrono::NaiveDate::from_ymd_opt(2026, 3, 7)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .expect("a date");
    for (written, plain) in same {
        let a = ApsCron::from_fields(&mapping(written)).expect("valid");
        let b = ApsCron::from_fields(&mapping(plain)).expect("valid");
        let mut times = (probe, probe);
        for _ in 0..5 {
            times = (
                a.next_wall_after(times.0).expect("fires"),
                b.next_wall_after(times.1).expect("fires"),
            );
            assert_eq!(times.0, times.1, "{written} vs {plain}");
        }
    }
}

#[test]
fn an_entry_error_keeps_what_was_wrong_with_the_value_as_its_source() {
    let cases = [
        ("minute=60", "60 is out of range (valid values: 0-59)"),
        ("hour=1; end_date=soon", "cannot read \"soon\" as a date"),
    ];
    for (spec, source) in cases {
        let errors = ApsCron::from_fields(&mapping(spec)).expect_err("an invalid mapping");
        let found = std::error::Error::source(&errors[0]).map(ToString::to_string);
        assert!(
            found
                .as_deref()
                .is_some_and(|text| text.starts_with(source)),
            "{spec}: {found:?}"
        );
    }
}
