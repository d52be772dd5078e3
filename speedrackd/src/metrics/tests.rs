//! The rendering, checked line by line against the text a scrape would get.

use chrono::{Duration, TimeZone};

use super::*;

fn name(text: &str) -> TaskName {
    TaskName::parse_normalised(text).expect("a normal task name")
}

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).single().expect("an instant")
}

/// The value of the one sample line that starts with `series` followed by a space.
fn sample<'t>(text: &'t str, series: &str) -> Option<&'t str> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
}

fn facts(tasks: Vec<TaskFacts>) -> ScrapeFacts {
    ScrapeFacts {
        tasks,
        history_runs: 7,
        history_output_bytes: 1234,
        nodes: Vec::new(),
    }
}

fn idle(task: &str) -> TaskFacts {
    TaskFacts {
        task: name(task),
        last_success: None,
        last_failure: None,
        last_status: None,
        next_fire: None,
        running: 0,
    }
}

#[test]
fn every_known_task_counts_from_zero() {
    let text = Metrics::new()
        .render(&facts(vec![idle("backup")]))
        .expect("renders");
    let cases = [
        (
            r#"speedrack_runs_total{task="backup",status="success"}"#,
            "0",
        ),
        (
            r#"speedrack_runs_total{task="backup",status="failure"}"#,
            "0",
        ),
        (
            r#"speedrack_runs_total{task="backup",status="execution_error"}"#,
            "0",
        ),
        (
            r#"speedrack_notification_failures_total{task="backup"}"#,
            "0",
        ),
        (r#"speedrack_running_runs{task="backup"}"#, "0"),
        ("speedrack_history_runs", "7"),
        ("speedrack_history_output_bytes", "1234"),
    ];
    for (series, value) in cases {
        assert_eq!(sample(&text, series), Some(value), "{series} in:\n{text}");
    }
    assert!(
        text.contains("# TYPE speedrack_runs_total counter\n"),
        "{text}"
    );
    assert!(text.contains("# HELP speedrack_history_runs "), "{text}");
    assert!(
        !text.contains("# EOF"),
        "Prometheus text, not OpenMetrics: {text}"
    );
    assert!(
        !text.contains("last_success_timestamp_seconds{"),
        "never succeeded, no sample: {text}"
    );
}

#[test]
fn runs_fill_counters_and_histograms() {
    let metrics = Metrics::new();
    let task = name("backup");
    metrics.run_started(&task, Some(Duration::milliseconds(3)));
    metrics.run_finished(&task, RunStatus::Success, Duration::seconds(2));
    metrics.run_started(&task, None);
    metrics.run_finished(&task, RunStatus::Failure, Duration::milliseconds(20));
    metrics.run_started(&task, Some(Duration::milliseconds(-5)));
    metrics.notification_failed(&task);
    let text = metrics.render(&facts(Vec::new())).expect("renders");
    let cases = [
        (
            r#"speedrack_runs_total{task="backup",status="success"}"#,
            "1",
        ),
        (
            r#"speedrack_runs_total{task="backup",status="failure"}"#,
            "1",
        ),
        (
            r#"speedrack_notification_failures_total{task="backup"}"#,
            "1",
        ),
        (
            r#"speedrack_fire_lateness_seconds_count{task="backup"}"#,
            "2",
        ),
        (
            r#"speedrack_fire_lateness_seconds_sum{task="backup"}"#,
            "0.003",
        ),
        // The late one (3 ms) and the early one (counted as on time) are both under 5 ms.
        (
            r#"speedrack_fire_lateness_seconds_bucket{task="backup",le="0.0025"}"#,
            "1",
        ),
        (
            r#"speedrack_fire_lateness_seconds_bucket{task="backup",le="0.005"}"#,
            "2",
        ),
        (
            r#"speedrack_run_duration_seconds_count{task="backup"}"#,
            "2",
        ),
        (
            r#"speedrack_run_duration_seconds_sum{task="backup"}"#,
            "2.02",
        ),
        (
            r#"speedrack_run_duration_seconds_bucket{task="backup",le="0.05"}"#,
            "1",
        ),
        (
            r#"speedrack_run_duration_seconds_bucket{task="backup",le="5"}"#,
            "2",
        ),
        (
            r#"speedrack_run_duration_seconds_bucket{task="backup",le="+Inf"}"#,
            "2",
        ),
    ];
    for (series, value) in cases {
        assert_eq!(sample(&text, series), Some(value), "{series} in:\n{text}");
    }
    assert!(
        text.contains("# TYPE speedrack_run_duration_seconds histogram\n"),
        "{text}"
    );
}

#[test]
fn scrape_facts_become_gauges() {
    let task = TaskFacts {
        task: name("backup"),
        last_success: Some(at(1_700_000_000)),
        last_failure: Some(at(1_700_000_030)),
        last_status: Some(RunStatus::Failure),
        next_fire: Some(at(1_700_000_060)),
        running: 2,
    };
    let text = Metrics::new()
        .render(&facts(vec![task, idle("paused")]))
        .expect("renders");
    let cases = [
        (
            r#"speedrack_last_success_timestamp_seconds{task="backup"}"#,
            Some("1700000000.0"),
        ),
        (
            r#"speedrack_next_fire_timestamp_seconds{task="backup"}"#,
            Some("1700000060.0"),
        ),
        (r#"speedrack_running_runs{task="backup"}"#, Some("2")),
        (r#"speedrack_running_runs{task="paused"}"#, Some("0")),
        (
            r#"speedrack_next_fire_timestamp_seconds{task="paused"}"#,
            None,
        ),
        (
            r#"speedrack_last_failure_timestamp_seconds{task="backup"}"#,
            Some("1700000030.0"),
        ),
        (r#"speedrack_never_succeeded{task="backup"}"#, Some("0")),
        (r#"speedrack_never_succeeded{task="paused"}"#, Some("1")),
        (
            r#"speedrack_last_run_status{task="backup",status="failure"}"#,
            Some("1"),
        ),
        (
            r#"speedrack_last_run_status{task="backup",status="success"}"#,
            Some("0"),
        ),
        (
            r#"speedrack_last_run_status{task="paused",status="success"}"#,
            None,
        ),
        (
            &format!(
                r#"speedrack_build_info{{version="{}"}}"#,
                env!("CARGO_PKG_VERSION")
            ),
            Some("1"),
        ),
    ];
    for (series, value) in cases {
        assert_eq!(sample(&text, series), value, "{series} in:\n{text}");
    }
}

#[test]
fn each_node_has_its_up_clock_and_tasks_file_gauges() {
    let node = |name: &str, up, offset, differs| NodeFacts {
        node: name.to_owned(),
        up,
        busy: up,
        clock_offset_seconds: offset,
        tasks_file_differs: differs,
    };
    let facts = ScrapeFacts {
        nodes: vec![
            node("alpha", true, 0.0, false),
            node("beta", false, -1.5, true),
        ],
        ..facts(Vec::new())
    };
    let text = Metrics::new().render(&facts).expect("renders");
    let cases = [
        (r#"speedrack_node_up{node="alpha"}"#, "1"),
        (r#"speedrack_node_up{node="beta"}"#, "0"),
        (r#"speedrack_node_busy{node="alpha"}"#, "1"),
        (r#"speedrack_node_busy{node="beta"}"#, "0"),
        (
            r#"speedrack_node_clock_offset_seconds{node="alpha"}"#,
            "0.0",
        ),
        (
            r#"speedrack_node_clock_offset_seconds{node="beta"}"#,
            "-1.5",
        ),
        (r#"speedrack_node_tasks_file_differs{node="alpha"}"#, "0"),
        (r#"speedrack_node_tasks_file_differs{node="beta"}"#, "1"),
    ];
    for (series, value) in cases {
        assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
    }
}
