//! Replays fire times computed by APScheduler 3 itself (tests/data/apscheduler_vectors.json,
//! written by tests/data/gen_apscheduler_vectors.py in UTC, so its times are wall times).
//!
//! The file is JSON, read with serde_yaml (JSON is YAML) since speedrackd has no JSON parser.

use chrono::NaiveDateTime;
use serde::Deserialize;

use super::ApsCron;

const VECTORS: &str = include_str!("../../../tests/data/apscheduler_vectors.json");

#[derive(Deserialize)]
struct Vectors {
    apscheduler_version: String,
    valid: Vec<Valid>,
    invalid: Vec<Invalid>,
}

#[derive(Deserialize)]
struct Valid {
    fields: Vec<(String, String)>,
    runs: Vec<Run>,
}

/// The fires strictly after `after`; `exhausted` when APScheduler found no more.
#[derive(Deserialize)]
struct Run {
    after: String,
    fires: Vec<String>,
    exhausted: bool,
}

#[derive(Deserialize)]
struct Invalid {
    fields: Vec<(String, String)>,
    key: String,
    apscheduler: String,
}

fn vectors() -> Vectors {
    serde_yaml::from_str(VECTORS).expect("apscheduler_vectors.json parses")
}

fn wall(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").expect("an ISO wall time")
}

#[test]
fn fires_when_apscheduler_fires() {
    let vectors = vectors();
    assert!(vectors.apscheduler_version.starts_with("3."));
    assert!(
        vectors.valid.len() >= 60,
        "{} mappings",
        vectors.valid.len()
    );
    for case in &vectors.valid {
        let cron = ApsCron::from_fields(&case.fields)
            .unwrap_or_else(|errors| panic!("{:?} refused: {errors:?}", case.fields));
        for run in &case.runs {
            let mut cursor = wall(&run.after);
            for expected in &run.fires {
                let fire = cron.next_wall_after(cursor);
                assert_eq!(
                    fire,
                    Some(wall(expected)),
                    "{:?} after {cursor} (run from {})",
                    case.fields,
                    run.after
                );
                cursor = wall(expected);
            }
            if run.exhausted {
                assert_eq!(
                    cron.next_wall_after(cursor),
                    None,
                    "{:?} after {cursor}: APScheduler found no more fires",
                    case.fields
                );
            }
        }
    }
}

#[test]
fn refuses_what_apscheduler_refuses() {
    for case in vectors().invalid {
        let errors = ApsCron::from_fields(&case.fields).expect_err(&format!(
            "{:?} accepted, APScheduler said: {}",
            case.fields, case.apscheduler
        ));
        assert!(
            errors.iter().any(|e| e.key() == Some(case.key.as_str())),
            "{:?}: expected an error for {}, got {errors:?}",
            case.fields,
            case.key
        );
    }
}
