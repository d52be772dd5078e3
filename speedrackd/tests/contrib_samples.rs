//! The sample files in contrib/ are what admins copy: they must parse, with no conf errors.

use std::path::Path;

use speedrackd::config::{load_settings, load_tasks};

fn contrib(file: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../contrib")
        .join(file)
}

#[test]
fn the_sample_settings_parse() {
    load_settings(Some(&contrib("speedrack_settings.yaml"))).expect("sample settings are valid");
}

#[test]
fn the_sample_tasks_parse_without_conf_errors() {
    let tasks = load_tasks(&contrib("speedrack_tasks.yaml")).expect("sample tasks are valid");
    assert_eq!(
        tasks.broken().count(),
        0,
        "{:?}",
        tasks.broken().collect::<Vec<_>>()
    );
    assert!(tasks.valid().count() > 0);
}
