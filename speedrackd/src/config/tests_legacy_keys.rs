//! Speedrack 0.6.1's settings keys as `parse_settings` reads them: the mapped keys land in our
//! settings, the obsolete ones are listed, two spellings of one setting are refused on the
//! second one's line, and 0.6.1's state paths default as 0.6.1 made them.

use std::path::{Path, PathBuf};

use super::{Settings, parse_settings};

#[test]
fn speedrack_0_6_1_keys_map_to_ours() {
    let text = "FAIL_BY_RETCODE: false\nMAX_RUNS: 40\nEMAIL_SMTP: mail.example.org:2525\n\
                EMAIL_TO_GLOBAL: ops@example.org\nEMAIL_DISABLED: true\n\
                CONFIG_YAML: tasks.yaml\nSPEEDRACK_DIR: /srv/sprack\n\
                JOB_ROOT_DIR: /srv/jobs\nSUSPENDED_FILE: susp\nURL_ROOT: cron.example.org\n";
    let mut settings = parse_settings(text).expect("valid");
    assert!(!settings.fail_by_retcode);
    assert_eq!(settings.max_keep, Some(40));
    assert_eq!(
        settings.email.smtp_host.as_deref(),
        Some("mail.example.org")
    );
    assert_eq!(settings.email.smtp_port, 2525);
    assert_eq!(settings.email.to_global, ["ops@example.org"]);
    assert!(settings.email.disabled);
    assert_eq!(settings.email_url_prefix, "http://cron.example.org:8118");
    assert!(settings.ignored.is_empty());
    settings.resolve_paths(Path::new("/etc/speedrack"));
    assert_eq!(
        settings.tasks_file,
        Some(PathBuf::from("/etc/speedrack/tasks.yaml"))
    );
    assert_eq!(settings.legacy_job_root(), PathBuf::from("/srv/jobs"));
    assert_eq!(
        settings.legacy_suspended_file(),
        PathBuf::from("/etc/speedrack/susp")
    );
    let entries = settings.entries();
    assert!(
        !entries
            .iter()
            .any(|(name, ..)| name.chars().any(char::is_uppercase)),
        "0.6.1's names are folded into ours"
    );
}

#[test]
fn max_runs_false_or_zero_keeps_all_and_true_is_refused() {
    for text in ["MAX_RUNS: false\n", "MAX_RUNS: 0\n", "MAX_RUNS: null\n"] {
        assert_eq!(parse_settings(text).expect(text).max_keep, None, "{text}");
    }
    for (text, message) in [
        ("app_name: a\nMAX_RUNS: true\n", "MAX_RUNS = True"),
        ("app_name: a\nMAX_RUNS: -1\n", "negative"),
    ] {
        let error = parse_settings(text).expect_err(text);
        assert!(error.to_string().contains(message), "{error}");
        assert_eq!(error.location().map(|l| l.line()), Some(2), "{text}");
    }
}

#[test]
fn an_explicit_email_url_prefix_wins_over_url_root() {
    let settings = parse_settings("URL_ROOT: host\nEMAIL_URL_PREFIX: https://x.org/speedrack\n")
        .expect("valid");
    assert_eq!(settings.email_url_prefix, "https://x.org/speedrack");
    let settings = parse_settings("URL_ROOT: host\nSCRIPT_NAME: /speedrack\n").expect("valid");
    assert_eq!(
        settings.email_url_prefix, "http://host:8118/speedrack",
        "links under a sub-path carry it"
    );
}

#[test]
fn obsolete_keys_are_accepted_and_listed_once_each() {
    let text = "DEBUG: false\nFLASK_DEBUG_TOOLBAR: false\nDEBUG_TB_INTERCEPT_REDIRECTS: false\n\
                LOG_MAX_SIZE: 5242880\nLOG_COUNT: 5\nLOG_DIR: ./logs\nJOB_STATE: {a: [1]}\n\
                app_name: x\n";
    let settings = parse_settings(text).expect("valid");
    let keys: Vec<&str> = settings.ignored.iter().map(|k| k.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "DEBUG",
            "FLASK_DEBUG_TOOLBAR",
            "DEBUG_TB_INTERCEPT_REDIRECTS",
            "LOG_MAX_SIZE",
            "LOG_COUNT",
            "LOG_DIR",
            "JOB_STATE"
        ]
    );
    assert_eq!(settings.app_name, "x");
}

#[test]
fn two_spellings_of_a_setting_are_refused_on_the_second_ones_line() {
    let cases = [
        ("app_name: a\nAPP_NAME: b\n", "`app_name` and `APP_NAME`"),
        ("MAX_RUNS: 3\nmax_keep: 4\n", "`MAX_RUNS` and `max_keep`"),
        (
            "FAIL_BY_RETCODE: true\nFAIL_BY_NONZERO_STATUS_CODE: true\n",
            "same setting",
        ),
        (
            "email: {smtp_host: a}\nEMAIL_SMTP: b\n",
            "`email` and `EMAIL_SMTP`",
        ),
    ];
    for (text, message) in cases {
        let error = parse_settings(text).expect_err(text);
        assert!(error.to_string().contains(message), "{text}: {error}");
        assert_eq!(error.location().map(|l| l.line()), Some(2), "{text}");
    }
}

#[test]
fn legacy_state_paths_default_as_0_6_1_made_them() {
    let settings = Settings::default();
    let temp = std::env::temp_dir();
    assert_eq!(settings.legacy_speedrack_dir(), temp.join("speedrack"));
    assert_eq!(settings.legacy_job_root(), temp.join("speedrack/jobs"));
    assert_eq!(
        settings.legacy_suspended_file(),
        temp.join("speedrack/speedrack.suspended")
    );
    let named = parse_settings("APP_NAME: A2E Speedrack\nSPEEDRACK_DIR: ''\n").expect("valid");
    assert_eq!(named.legacy_job_root(), temp.join("A2E Speedrack/jobs"));
    let dir = parse_settings("SPEEDRACK_DIR: /srv/s\n").expect("valid");
    assert_eq!(
        dir.legacy_suspended_file(),
        PathBuf::from("/srv/s/speedrack.suspended")
    );
}
