//! Every conf-error rule, with the file, line and key it must name.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::config::{OnMissed, Overlap};
use crate::schedule::{Crontab, Pattern, Schedule};

const BERLIN: Tz = chrono_tz::Europe::Berlin;

fn parse(text: &str) -> TaskSet {
    parse_tasks(text, Path::new("tasks.yaml"), BERLIN).expect("the file as a whole is valid")
}

/// `(task label, line, key)` of every conf error, in file order.
fn errors_of(set: &TaskSet) -> Vec<(String, Option<usize>, Option<String>)> {
    set.broken()
        .flat_map(|broken| {
            broken
                .errors
                .iter()
                .map(|e| (broken.label.clone(), e.line, e.key.clone()))
        })
        .collect()
}

fn one_error(text: &str) -> (Option<usize>, Option<String>, String) {
    let set = parse(text);
    let errors: Vec<&ConfError> = set.broken().flat_map(|broken| &broken.errors).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    (
        errors[0].line,
        errors[0].key.clone(),
        errors[0].message.clone(),
    )
}

#[test]
fn a_valid_task_loads_with_every_option() {
    let set = parse(
        "tasks:
  - name: Long Runner
    description: sleeps
    command: sleep 20
    interval: 21s
    email: a@example.org, b@example.org
    spam_fail: true
    max_keep: 50
    retain_failures: 5
    fail_by_stderr: false
    sudo: backup
    timezone: America/New_York
    timeout: 30s
    working_dir: /srv
    env: {LANG: C, RETRIES: 3}
    overlap: queue
    on_missed: run_once
    suspended: true
    ok_exit_codes: [0, 1]
    fail_on_exit_codes: [4]
    fail_if_output_matches: 'ERROR|FATAL'
    output_max_bytes: 1000
    missed_deadline: 1h
",
    );
    let defs: Vec<&TaskDef> = set.valid().collect();
    assert_eq!(defs.len(), 1, "{:?}", errors_of(&set));
    let def = defs[0];
    assert_eq!(def.name.as_str(), "long_runner");
    assert_eq!(def.schedule, Schedule::Interval(Duration::from_secs(21)));
    assert_eq!(def.schedule_text, "every 21s");
    assert_eq!(def.email, ["a@example.org", "b@example.org"]);
    assert!(def.spam_fail && !def.spam);
    assert_eq!((def.max_keep, def.retain_failures), (Some(50), Some(5)));
    assert_eq!(def.fail_by_stderr, Some(false));
    assert_eq!(def.sudo.as_deref(), Some("backup"));
    assert_eq!(def.timeout, Some(Duration::from_secs(30)));
    assert_eq!(def.working_dir.as_deref(), Some(Path::new("/srv")));
    assert_eq!(def.env.get("RETRIES").map(String::as_str), Some("3"));
    assert_eq!(
        (def.overlap, def.on_missed, def.suspended),
        (Overlap::Queue, OnMissed::RunOnce, true)
    );
    assert_eq!(
        (
            def.ok_exit_codes.as_slice(),
            def.fail_on_exit_codes.as_slice()
        ),
        (&[0, 1][..], &[4][..])
    );
    assert!(
        def.fail_if_output_matches
            .as_ref()
            .is_some_and(|p| p.0.is_match(b"a FATAL thing"))
    );
    assert_eq!(
        (def.output_max_bytes, def.missed_deadline),
        (Some(1000), Some(Duration::from_secs(3600)))
    );
    assert!(
        def.definition.contains("name: Long Runner"),
        "{}",
        def.definition
    );
}

#[test]
fn cron_tasks_take_their_zone_or_the_default() {
    let set = parse(
        "tasks:
  - {name: text, command: x, cron: '0 5 * * *'}
  - {name: map, command: x, cron: {day_of_week: 2, hour: 23}, timezone: UTC}
",
    );
    let defs: Vec<&TaskDef> = set.valid().collect();
    assert_eq!(defs.len(), 2, "{:?}", errors_of(&set));
    assert_eq!(defs[0].schedule.time_zone(), BERLIN);
    assert_eq!(defs[0].schedule_text, "cron '0 5 * * *'");
    assert_eq!(defs[1].schedule.time_zone(), Tz::UTC);
    assert_eq!(defs[1].schedule_text, "cron {day_of_week: 2, hour: 23}");
}

#[test]
fn each_conf_error_rule_names_its_line_and_key() {
    let cases: &[(&str, usize, Option<&str>, &str)] = &[
        ("- {name: a, interval: 1m}", 2, None, "no command"),
        (
            "- {name: a, command: '  ', interval: 1m}",
            2,
            None,
            "no command",
        ),
        ("- {name: a, command: x}", 2, None, "no schedule"),
        // Found by the property tests: an empty name or interval once broke a task silently.
        (
            "- {name: ~, command: x, interval: 1m}",
            2,
            Some("name"),
            "name is empty",
        ),
        (
            "- name: a\n  command: x\n  interval:",
            4,
            Some("interval"),
            "interval is empty",
        ),
        (
            "- {name: a, command: x, interval: 1m, cron: '* * * * *'}",
            2,
            Some("cron"),
            "both interval and cron",
        ),
        (
            "- name: a\n  command: x\n  interval: 5x",
            4,
            Some("interval"),
            "unknown unit",
        ),
        (
            "- name: a\n  command: x\n  cron: '61 * * * *'",
            4,
            Some("cron"),
            "invalid crontab",
        ),
        (
            "- name: a\n  command: x\n  interval: 1m\n  timezone: Mars/Olympus",
            5,
            Some("timezone"),
            "unknown time zone",
        ),
        (
            "- name: a\n  command: x\n  interval: 1m\n  colour: blue",
            5,
            Some("colour"),
            "unknown key",
        ),
        (
            "- name: a\n  command: x\n  interval: 1m\n  spam: [yes please]",
            5,
            Some("spam"),
            "true or false",
        ),
        (
            "- name: a\n  command: x\n  interval: 1m\n  max_keep: -3",
            5,
            Some("max_keep"),
            "whole number",
        ),
        (
            "- name: a\n  command: x\n  interval: 1m\n  timeout: soon",
            5,
            Some("timeout"),
            "not a duration",
        ),
        (
            "- name: a\n  command: x\n  interval: 1m\n  overlap: sometimes",
            5,
            Some("overlap"),
            "skip, queue, parallel, replace",
        ),
        (
            "- name: a\n  command: x\n  interval: 1m\n  on_missed: never",
            5,
            Some("on_missed"),
            "run_once",
        ),
        (
            "- name: a\n  command: x\n  interval: 1m\n  working_dir: srv",
            5,
            Some("working_dir"),
            "absolute",
        ),
        (
            "- name: a\n  command: x\n  interval: 1m\n  email: nobody",
            5,
            Some("email"),
            "not an email address",
        ),
        (
            "- name: a\n  command: x\n  interval: 1m\n  env: {1BAD: x}",
            5,
            Some("env"),
            "environment variable",
        ),
        (
            "- name: a\n  command: x\n  interval: 1m\n  fail_if_output_matches: '(('",
            5,
            Some("fail_if_output_matches"),
            "not a regular expression",
        ),
        (
            "- name: a\n  command: x\n  interval: 1m\n  ok_exit_codes: [zero]",
            5,
            Some("ok_exit_codes"),
            "whole numbers",
        ),
        (
            "- name: a\n  command: x\n  interval: 1m\n  sudo: '-rf'",
            5,
            Some("sudo"),
            "valid user name",
        ),
        (
            "- name: a\n  command: x\n  interval: 1m\n  sudo_user: '-rf'",
            5,
            Some("sudo_user"),
            "valid user name",
        ),
        (
            "- name: a\n  command: x\n  interval: 1m\n  sudo: backup\n  sudo_user: backup",
            6,
            Some("sudo_user"),
            "sudo and sudo_user are the same setting",
        ),
        (
            "- name: a\n  command: x\n  interval: 1m\n  max_keep: 'fifty'",
            5,
            Some("max_keep"),
            "whole number",
        ),
        (
            "- name: '!!!'\n  command: x\n  interval: 1m",
            2,
            Some("name"),
            "no letters or digits",
        ),
        ("- {command: x, interval: 1m}", 2, None, "no name"),
        ("- just a string", 2, None, "must be a mapping"),
        (
            "- name: a\n  command: 5\n  interval: 1m",
            3,
            Some("command"),
            "must be text",
        ),
    ];
    for (task, line, key, message) in cases {
        let (got_line, got_key, got_message) = one_error(&format!("tasks:\n{task}\n"));
        assert_eq!(got_line, Some(*line), "{task}: {got_message}");
        assert_eq!(got_key.as_deref(), *key, "{task}: {got_message}");
        assert!(
            got_message.contains(message),
            "{task}: {got_message:?} should mention {message:?}"
        );
    }
}

#[test]
fn the_seeds_unknown_cron_key_is_named_with_its_line() {
    let (line, key, message) = one_error(
        "tasks:
  - name: cron unknown key
    command: echo never
    cron:
      second: 15
      minutes: 30
",
    );
    assert_eq!(line, Some(6));
    assert_eq!(key.as_deref(), Some("cron.minutes"));
    assert!(message.contains("minutes"), "{message}");
}

#[test]
fn every_problem_of_a_task_is_reported_not_just_the_first() {
    let set = parse("tasks:\n  - name: a\n    colour: blue\n    spam: [3]\n");
    assert_eq!(
        errors_of(&set),
        [
            ("a".to_owned(), Some(3), Some("colour".to_owned())),
            ("a".to_owned(), Some(2), None),
            ("a".to_owned(), Some(2), None),
            ("a".to_owned(), Some(4), Some("spam".to_owned())),
        ]
    );
}

#[test]
fn duplicate_names_break_both_copies_at_their_lines() {
    let set = parse(
        "tasks:
  - {name: Backup, command: a, interval: 1m}
  - {name: backup, command: b, interval: 1m}
  - {name: other, command: c, interval: 1m}
",
    );
    assert_eq!(set.valid().count(), 1);
    assert_eq!(
        errors_of(&set),
        [
            ("Backup".to_owned(), Some(2), Some("name".to_owned())),
            ("backup".to_owned(), Some(3), Some("name".to_owned()))
        ]
    );
    let message = &set.broken().next().expect("broken").errors[0].message;
    assert_eq!(
        message,
        "task names \"Backup\" and \"backup\" both make the key \"backup\" (history and output \
         are filed under it): rename one"
    );
}

#[test]
fn long_values_and_durations_are_refused_with_the_maximum() {
    let long = |bytes: usize| "x".repeat(bytes);
    let cases = [
        (format!("command: {}", long(64 << 10)), None),
        (
            format!("command: {}", long((64 << 10) + 1)),
            Some(("command", "at most 64 KiB")),
        ),
        (
            format!("command: x\n    description: {}", long(4 << 10)),
            None,
        ),
        (
            format!("command: x\n    description: {}", long((4 << 10) + 1)),
            Some(("description", "at most 4 KiB")),
        ),
        (
            format!("command: x\n    env: {{A: {}}}", long((4 << 10) + 1)),
            Some(("env", "at most 4 KiB")),
        ),
        ("command: x\n    timeout: 3650d".to_owned(), None),
        (
            "command: x\n    timeout: 18446744073709551615s".to_owned(),
            Some(("timeout", "at most 3650d")),
        ),
        (
            "command: x\n    missed_deadline: 3651d".to_owned(),
            Some(("missed_deadline", "at most 3650d")),
        ),
        (
            "command: x\n    notify_min_interval: 99999999h".to_owned(),
            Some(("notify_min_interval", "at most 3650d")),
        ),
    ];
    for (keys, expected) in cases {
        let text = format!("tasks:\n  - name: t\n    interval: 1m\n    {keys}\n");
        let set = parse(&text);
        match expected {
            None => assert_eq!(set.valid().count(), 1, "{keys:.60}: {:?}", errors_of(&set)),
            Some((key, words)) => {
                let (line, got_key, message) = one_error(&text);
                assert_eq!(got_key.as_deref(), Some(key), "{keys:.60}");
                assert!(line.is_some_and(|line| line >= 4), "{keys:.60}: {line:?}");
                assert!(message.contains(words), "{keys:.60}: {message}");
            }
        }
    }
    let name = format!(
        "tasks:\n  - {{name: {}, command: x, interval: 1m}}\n",
        long(129)
    );
    assert_eq!(one_error(&name).1.as_deref(), Some("name"));
    let interval = "tasks:\n  - {name: t, command: x, interval: 522w}\n";
    assert!(
        one_error(interval).2.contains("at most 3650d"),
        "{:?}",
        one_error(interval)
    );
}

#[test]
fn a_file_that_is_not_a_task_list_is_an_error_for_the_whole_file() {
    // A key written twice is ambiguous YAML: serde_yaml refuses the document.
    let twice = "tasks:\n  - name: a\n    command: x\n    command: y\n";
    for text in [
        "tasks: [unclosed",
        "tasks: 5",
        "jobs: []",
        "- a\n- b",
        twice,
    ] {
        assert!(
            parse_tasks(text, Path::new("t.yaml"), BERLIN).is_err(),
            "{text}"
        );
    }
    assert_eq!(parse("").entries.len(), 0);
    assert_eq!(parse("tasks:\n").entries.len(), 0);
}

#[test]
fn tasks_with_the_same_crontab_share_one_parsed_pattern() {
    let set = parse(
        "tasks:
  - {name: a, command: x, cron: '*/5 * * * *'}
  - {name: b, command: x, cron: '*/5 * * * *'}
  - {name: c, command: x, cron: '0 9 * * *'}
",
    );
    let crontabs: Vec<&Arc<Crontab>> = set
        .valid()
        .map(|def| match &def.schedule {
            Schedule::Calendar {
                pattern: Pattern::Crontab(crontab),
                ..
            } => crontab,
            other => panic!("not a crontab: {other:?}"),
        })
        .collect();
    assert!(Arc::ptr_eq(crontabs[0], crontabs[1]));
    assert!(!Arc::ptr_eq(crontabs[0], crontabs[2]));
    assert_eq!(crontabs[2].text(), "0 9 * * *");
}

#[test]
fn a_file_written_for_speedrack_0_6_1_loads_as_it_read_it() {
    let set = parse(
        "tasks:
  - name: Interval Failer Later Spammer!
    command: sleep 1 && false
    interval: 400w
    spam: oh hell yes
    spam_fail: yes
    fail_by_stderr: off
    fail_by_retcode: 'on'
    max_keep: \"50\"
    sudo_user: backup
  - name: keeper
    command: x
    interval: 1h
    max_keep: 0
",
    );
    assert_eq!(errors_of(&set), []);
    let defs: Vec<&TaskDef> = set.valid().collect();
    let def = defs[0];
    assert_eq!(def.name.as_str(), "interval_failer_later_spammer");
    assert_eq!(def.written_name, "Interval Failer Later Spammer!");
    assert!(def.spam && def.spam_fail);
    assert_eq!(
        (def.fail_by_stderr, def.fail_by_retcode),
        (Some(false), Some(true))
    );
    assert_eq!(def.max_keep, Some(50));
    assert_eq!(def.sudo.as_deref(), Some("backup"));
    assert_eq!(defs[1].max_keep, Some(u32::MAX), "0 keeps every run");
    let warnings: Vec<(&str, Option<usize>, Option<&str>)> = set
        .warnings
        .iter()
        .map(|w| (w.task.as_str(), w.warning.line, w.warning.key.as_deref()))
        .collect();
    assert_eq!(
        warnings,
        [("Interval Failer Later Spammer!", Some(5), Some("spam"))]
    );
    assert!(
        set.warnings[0].warning.message.contains("read as true"),
        "{:?}",
        set.warnings[0]
    );
}

#[test]
fn the_tasks_file_man_page_documents_every_key() {
    let page = include_str!("../../../../contrib/man/speedrack_tasks.yaml.5");
    let undocumented: Vec<&str> = TASK_KEYS
        .iter()
        .copied()
        .filter(|key| !page.contains(&format!("\\fB{key}\\fR")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "speedrack_tasks.yaml(5) lacks {undocumented:?}"
    );
}
