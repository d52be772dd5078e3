//! The sample files in contrib/ are what admins copy, and contrib/demo/ is the demo: they must
//! parse, the skeleton runs nothing, and the demo's only conf errors are its three on purpose.

use std::path::Path;

use speedrackd::config::{load_settings, load_tasks};

fn contrib(file: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../contrib")
        .join(file)
}

#[test]
fn the_sample_settings_parse_and_show_the_defaults() {
    let settings = load_settings(Some(&contrib("speedrack_settings.yaml")))
        .expect("sample settings are valid");
    assert_eq!(
        settings,
        speedrackd::config::Settings::default(),
        "the sample documents the defaults"
    );
}

#[test]
fn the_sample_tasks_parse_and_run_nothing() {
    let tasks = load_tasks(&contrib("speedrack_tasks.yaml"), chrono_tz::Tz::UTC)
        .expect("skeleton is valid");
    assert_eq!((tasks.valid().count(), tasks.broken().count()), (0, 0));
}

#[test]
fn the_demo_tasks_parse_with_only_the_deliberate_conf_errors() {
    let tasks = load_tasks(&contrib("demo/speedrack_tasks.yaml"), chrono_tz::Tz::UTC)
        .expect("sample tasks are valid");
    let broken: Vec<(String, Vec<String>)> = tasks
        .broken()
        .map(|task| {
            (
                task.label.clone(),
                task.errors
                    .iter()
                    .map(|e| e.key.clone().unwrap_or_default())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        broken,
        [
            ("no command".to_owned(), vec![String::new()]),
            ("two schedules".to_owned(), vec!["cron".to_owned()]),
            (
                "cron unknown key".to_owned(),
                vec!["cron.minutes".to_owned()]
            ),
        ]
    );
    assert_eq!(tasks.valid().count(), 8);
}
