//! The time engine seen from outside: `speedrackd schedule` and `check`, cron tasks firing in a
//! real daemon, and `speedrackctl next`.

use std::process::{Command, Output};

use speedrack_tests::{Daemon, WAIT, binary};

fn speedrackd(args: &[&str]) -> Output {
    Command::new(binary("speedrackd"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("speedrackd runs")
}

fn stdout_lines(output: &Output) -> Vec<String> {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn schedule_prints_apscheduler_style_fires_in_the_zone() {
    let output = speedrackd(&[
        "schedule",
        "--cron",
        "{day_of_week: 2, hour: 23}",
        "--tz",
        "Europe/Berlin",
        "--from",
        "2026-03-20T00:00:00Z",
        "--count",
        "3",
    ]);
    assert_eq!(
        stdout_lines(&output),
        [
            "2026-03-25T23:00:00+01:00",
            "2026-04-01T23:00:00+02:00",
            "2026-04-08T23:00:00+02:00"
        ]
    );
}

#[test]
fn schedule_applies_the_dst_rules_in_both_zones() {
    let cases: &[(&str, &str, &str, [&str; 2])] = &[
        // 02:30 does not exist on 2026-03-29 in Berlin: fire when the gap ends, at 03:00.
        (
            "'30 2 * * *'",
            "Europe/Berlin",
            "2026-03-28T12:00:00Z",
            ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"],
        ),
        // 02:30 happens twice on 2026-10-25 in Berlin: only the first time.
        (
            "'30 2 * * *'",
            "Europe/Berlin",
            "2026-10-24T12:00:00Z",
            ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"],
        ),
        (
            "{hour: 2, minute: 15}",
            "America/New_York",
            "2026-03-07T12:00:00Z",
            ["2026-03-08T03:00:00-04:00", "2026-03-09T02:15:00-04:00"],
        ),
        (
            "{hour: 1, minute: 30}",
            "America/New_York",
            "2026-10-31T12:00:00Z",
            ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"],
        ),
    ];
    for (cron, tz, from, expected) in cases {
        let output = speedrackd(&[
            "schedule", "--cron", cron, "--tz", tz, "--from", from, "--count", "2",
        ]);
        assert_eq!(stdout_lines(&output), expected, "{cron} in {tz}");
    }
}

#[test]
fn schedule_of_an_interval_counts_from_the_start_and_ignores_dst() {
    let output = speedrackd(&[
        "schedule",
        "--interval",
        "1h",
        "--from",
        "2026-03-29T00:30:00Z",
        "--count",
        "2",
    ]);
    assert_eq!(
        stdout_lines(&output),
        ["2026-03-29T01:30:00+00:00", "2026-03-29T02:30:00+00:00"]
    );
}

#[test]
fn schedule_refuses_a_bad_schedule_with_the_reason() {
    let output = speedrackd(&["schedule", "--cron", "{second: 15, minutes: 30}"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("minutes"));
    let output = speedrackd(&["schedule", "--interval", "5x"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown unit"));
}

#[test]
fn check_lists_every_task_and_each_conf_error_with_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tasks = dir.path().join("tasks.yaml");
    std::fs::write(
        &tasks,
        "tasks:
  - {name: fine, command: x, interval: 1h}
  - name: bad zone
    command: x
    cron: {hour: 3}
    timezone: Mars/Olympus
",
    )
    .expect("write");
    let output = speedrackd(&["check", "--tasks", tasks.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(1), "conf errors make check fail");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("fine") && stdout.contains("every 1h"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{}:6: bad zone: timezone: unknown time zone",
            tasks.display()
        )),
        "{stdout}"
    );

    std::fs::write(
        &tasks,
        "tasks:\n  - {name: fine, command: x, cron: '0 5 * * *'}\n",
    )
    .expect("write");
    let output = speedrackd(&["check", "--tasks", tasks.to_str().expect("utf-8 path")]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );

    std::fs::write(&tasks, "tasks: [").expect("write");
    let output = speedrackd(&["check", "--tasks", tasks.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(78));
}

#[tokio::test]
async fn a_cron_task_fires_on_its_second_and_next_shows_the_future() {
    let daemon = Daemon::start(
        "tasks:
  - name: every second
    command: 'true'
    cron: {second: '*'}
    timezone: Europe/Berlin
",
    );
    let mut events = daemon.watch().await;
    let run = events
        .run_finished("every_second", WAIT)
        .await
        .expect("the cron task fires");
    let due = run.scheduled_at.expect("scheduled time");
    assert_eq!(due.nanos, 0, "cron fires are due on whole seconds");

    let lines = daemon.ctl().ok(&["next", "every_second", "--count", "3"]);
    let fires: Vec<chrono::DateTime<chrono::FixedOffset>> = lines
        .lines()
        .map(|line| chrono::DateTime::parse_from_rfc3339(line).expect("rfc3339 line"))
        .collect();
    assert_eq!(fires.len(), 3, "{lines}");
    assert!(
        fires
            .windows(2)
            .all(|pair| (pair[1] - pair[0]).num_seconds() == 1),
        "{lines}"
    );
    assert!(
        lines.contains("+01:00") || lines.contains("+02:00"),
        "shown in the task's zone: {lines}"
    );
    let task = &daemon.ctl().json(&["tasks"])["tasks"][0];
    assert_eq!(task["timezone"], "Europe/Berlin");
    assert_eq!(task["schedule"], "cron {second: *}");
}
