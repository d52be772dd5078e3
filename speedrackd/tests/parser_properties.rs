//! Property tests of every parser an admin's text reaches: the settings and tasks files, intervals,
//! APScheduler-style cron mappings and crontab strings, plus the next-fire computation they feed.
//!
//! Whatever the input, a parser must return rather than panic, and a refusal must say where: a
//! file error names the file and a line, a conf error of one task names the file and a line, and
//! a string-level error names the text or key it refuses. Inputs come three ways: arbitrary
//! strings, YAML documents generated as trees (keys mostly real ones, so validation is reached
//! rather than stopped at the first unknown key), and field-shaped strings. What valid inputs
//! mean is tested beside each parser; here only the contract on every input is.

// A test target's root looks for modules beside it; these belong to this target only.
#[path = "parser_properties/strategies.rs"]
mod strategies;
#[path = "parser_properties/yaml_doc.rs"]
mod yaml_doc;

use std::path::Path;
use std::time::Duration;

use chrono_tz::Tz;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use speedrackd::config::{
    ConfigError, TaskName, TaskSet, format_interval, load_settings, load_tasks, parse_interval,
    parse_schedule, parse_settings, parse_tasks,
};
use speedrackd::schedule::Crontab;
use speedrackd::schedule::apscheduler::ApsCron;
use strategies::{
    CRON_KEYS, cron_field_text, crontab_text, instant, interval_or_any, key, settings_document,
    tasks_document, valid_schedule, wall_time, yaml_ish_text, zone_and_instant,
};

// ---------------------------------------------------------------------------------------------
// What every refusal must carry
// ---------------------------------------------------------------------------------------------

const TASKS_PATH: &str = "/etc/speedrack/tasks.yaml";

fn line_count(text: &str) -> usize {
    text.lines().count().max(1)
}

/// Every conf error of a broken task names the file and a line inside it. (Whole-file errors are
/// checked through the loaders, which give them their line.)
fn check_conf_errors(text: &str, set: &TaskSet) -> Result<(), TestCaseError> {
    for broken in set.broken() {
        prop_assert!(
            !broken.errors.is_empty(),
            "{} broken for no reason\n{}",
            broken.label,
            text
        );
        for error in &broken.errors {
            prop_assert_eq!(error.file.as_path(), Path::new(TASKS_PATH));
            prop_assert!(
                error
                    .line
                    .is_some_and(|line| (1..=line_count(text)).contains(&line)),
                "conf error without a line in the file: {:?}\n{}",
                error,
                text
            );
            prop_assert!(!error.message.is_empty());
        }
    }
    Ok(())
}

/// What an admin sees of a file that cannot be used is `PATH:LINE: message`.
fn check_loaded(
    text: &str,
    path: &Path,
    result: Result<impl Sized, ConfigError>,
) -> Result<(), TestCaseError> {
    match result {
        Ok(_) => {}
        Err(ConfigError::Invalid {
            path: named,
            line,
            message,
        }) => {
            prop_assert_eq!(named.as_path(), path);
            // serde_yaml may point just past the last line, at the end of the input.
            prop_assert!(
                line.is_some_and(|line| (1..=line_count(text) + 1).contains(&line)),
                "{:?} is not a line of the file, for: {}\n{}",
                line,
                message,
                text
            );
            prop_assert!(!message.is_empty());
        }
        // A value that names a file the daemon will not trust (e.g. `shell: /`): refused
        // with where it was named, `FILE:LINE`.
        Err(ConfigError::Insecure { what, .. } | ConfigError::Named { what, .. }) => {
            let named_at = format!("named at {}:", path.display());
            prop_assert!(
                what.contains(&named_at),
                "{} does not say {}",
                what,
                named_at
            );
        }
        Err(other) => prop_assert!(false, "unexpected error: {}", other),
    }
    Ok(())
}

fn check_tasks_file(text: &str, default_tz: Tz) -> Result<(), TestCaseError> {
    if let Ok(set) = parse_tasks(text, Path::new(TASKS_PATH), default_tz) {
        check_conf_errors(text, &set)?;
    }
    let (_dir, path) = write_temp(text);
    check_loaded(text, &path, load_tasks(&path, default_tz))
}

fn check_settings_file(text: &str) -> Result<(), TestCaseError> {
    let (_dir, path) = write_temp(text);
    check_loaded(text, &path, load_settings(Some(&path)))
}

/// A task key is one plain path part under `runs/`, and reads back as itself from history.
fn check_key(written: &str, key: &TaskName) -> Result<(), TestCaseError> {
    let text = key.as_str();
    prop_assert!(!text.is_empty());
    prop_assert!(!text.contains(['/', '\0']), "{:?} gave {:?}", written, text);
    prop_assert!(
        !text.starts_with(['.', '-']),
        "{:?} gave {:?}",
        written,
        text
    );
    let mut parts = Path::new(text).components();
    prop_assert!(
        matches!(parts.next(), Some(std::path::Component::Normal(_))) && parts.next().is_none(),
        "{:?} gave {:?}, not one plain path part",
        written,
        text
    );
    let under = Path::new("/data/runs").join(text);
    prop_assert_eq!(under.parent(), Some(Path::new("/data/runs")));
    let read_back = TaskName::parse_normalised(text);
    prop_assert_eq!(read_back.as_ref(), Some(key));
    Ok(())
}

fn write_temp(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("file.yaml");
    std::fs::write(&path, text).expect("write temp file");
    (dir, path)
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    // No regression files: a failure found here is kept as a unit test beside the parser.
    #![proptest_config(ProptestConfig {
        cases: 384,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn tasks_files_of_any_text_are_read_or_refused_with_a_line(text in yaml_ish_text()) {
        check_tasks_file(&text, Tz::UTC)?;
    }

    #[test]
    fn generated_tasks_files_are_read_or_refused_with_a_line(doc in tasks_document()) {
        check_tasks_file(&doc.render(), chrono_tz::Europe::Berlin)?;
    }

    #[test]
    fn settings_of_any_text_are_read_or_refused_with_a_line(text in yaml_ish_text()) {
        check_settings_file(&text)?;
    }

    #[test]
    fn generated_settings_are_read_or_refused_with_a_line(doc in settings_document()) {
        let text = doc.render();
        // The pure parser must not panic either; its errors are located by the loader.
        let _ = parse_settings(&text);
        check_settings_file(&text)?;
    }

    #[test]
    fn task_keys_never_escape_the_runs_directory(
        written in prop_oneof![
            2 => "[ ./\\\\\\-_!a-zA-Z0-9\\x00:]{0,12}",
            1 => any::<String>(),
        ],
    ) {
        if let Some(key) = TaskName::normalise(&written) {
            check_key(&written, &key)?;
        }
        // The keys history was filed under before still read back, so it is never orphaned.
        if let Some(legacy) = TaskName::legacy(&written) {
            check_key(&written, &legacy)?;
        }
    }

    #[test]
    fn intervals_parse_to_a_positive_period_or_name_the_text(text in interval_or_any()) {
        match parse_interval(&text) {
            Ok(period) => {
                prop_assert!(period > Duration::ZERO);
                // What is shown for an interval reads back as the same interval.
                prop_assert_eq!(parse_interval(&format_interval(period)), Ok(period));
            }
            Err(error) => {
                let message = error.to_string();
                prop_assert!(message.contains("interval"), "{}", message);
                let trimmed = text.trim();
                if !trimmed.is_empty() {
                    prop_assert!(message.contains(&format!("{trimmed:?}")), "{}", message);
                }
            }
        }
    }

    #[test]
    fn crontabs_parse_and_fire_forward_or_name_the_text(
        text in prop_oneof![3 => crontab_text(), 1 => any::<String>()],
        wall in wall_time(),
    ) {
        match Crontab::parse(&text) {
            Ok(crontab) => {
                if let Some(next) = crontab.next_wall_after(wall) {
                    prop_assert!(next > wall, "{} after {}: {}", text, wall, next);
                }
            }
            Err(error) => {
                let message = error.to_string();
                prop_assert!(message.contains(&format!("{text:?}")), "{}", message);
            }
        }
    }

    #[test]
    fn cron_mappings_parse_and_fire_forward_or_name_each_bad_key(
        fields in prop::collection::vec(
            (key(CRON_KEYS), prop_oneof![3 => cron_field_text(), 1 => any::<String>()]),
            0..6,
        ),
        wall in wall_time(),
    ) {
        match ApsCron::from_fields(&fields) {
            Ok(cron) => {
                if let Some(next) = cron.next_wall_after(wall) {
                    prop_assert!(next > wall, "{:?} after {}: {}", fields, wall, next);
                }
                prop_assert!(!cron.describe().is_empty());
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for error in errors {
                    let message = error.to_string();
                    match error.key() {
                        Some(key) => {
                            prop_assert!(
                                fields.iter().any(|(given, _)| given == key),
                                "error names a key not given: {:?}",
                                error
                            );
                            prop_assert!(message.contains(key), "{:?}", error);
                        }
                        // Only "no field at all" is about the mapping as a whole.
                        None => prop_assert!(
                            message.contains("at least one"),
                            "{:?}",
                            error
                        ),
                    }
                }
            }
        }
    }

    #[test]
    fn schedules_from_the_command_line_parse_or_say_why(
        interval in proptest::option::of(interval_or_any()),
        cron in proptest::option::of(prop_oneof![crontab_text(), any::<String>()]),
    ) {
        match parse_schedule(interval.as_deref(), cron.as_deref(), Tz::UTC) {
            Ok((_, shown)) => prop_assert!(!shown.is_empty()),
            Err(message) => prop_assert!(!message.trim().is_empty()),
        }
    }

    #[test]
    fn next_fires_are_strictly_later_in_any_zone(
        (schedule, after) in zone_and_instant()
            .prop_flat_map(|(tz, after)| (valid_schedule(tz), Just(after))),
        anchor in instant(),
    ) {
        if let Some(next) = schedule.next_after(anchor, after) {
            prop_assert!(next > after, "{:?}: after {} came {}", schedule, after, next);
            if let Some(following) = schedule.next_after(anchor, next) {
                prop_assert!(following > next, "{:?}: after {} came {}", schedule, next, following);
            }
        }
    }
}
