//! GET /metrics over real HTTP from the gateway the daemon hosts, parsed as Prometheus text by
//! a real parser (`prometheus-parse`), after runs that succeed, fail and fire on schedule.
//!
//! It checks what a scrape says, not how the daemon counts: the unit tests of
//! `speedrackd::metrics` cover names, buckets and formatting.

use prometheus_parse::{Sample, Scrape, Value};
use speedrack_tests::{Daemon, WAIT};

const TASKS: &str = "tasks:
  - name: winner
    command: echo won
    interval: 400w
  - name: loser
    command: echo lost >&2; exit 3
    interval: 400w
  - name: ticker
    command: 'true'
    interval: 1s
";

/// A protobuf timestamp's `(seconds, nanos)` in seconds since the epoch, as the gauges give it.
fn seconds((whole, nanos): (i64, i32)) -> f64 {
    whole as f64 + f64::from(nanos) / 1e9
}

/// Scrapes `/metrics` and parses it; checks the content type on the way.
async fn scrape(daemon: &Daemon) -> Scrape {
    let response = reqwest::get(format!("{}/metrics", daemon.web_url()))
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    assert_eq!(
        content_type.as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = response.text().await.expect("a text body");
    Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("Prometheus text")
}

/// The one sample of `metric` whose labels include all of `labels`.
fn sample<'s>(scrape: &'s Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<&'s Sample> {
    let mut found = scrape.samples.iter().filter(|sample| {
        sample.metric == metric
            && labels
                .iter()
                .all(|(name, value)| sample.labels.get(name) == Some(value))
    });
    let first = found.next();
    assert!(found.next().is_none(), "one {metric} {labels:?}");
    first
}

/// The value of a counter, gauge or untyped sample.
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    match &sample(scrape, metric, labels)?.value {
        Value::Counter(value) | Value::Gauge(value) | Value::Untyped(value) => Some(*value),
        other => panic!("{metric} is not a single value: {other:?}"),
    }
}

/// How many observations a histogram holds, from its `+Inf` bucket.
fn observations(scrape: &Scrape, metric: &str, task: &str) -> Option<f64> {
    match &sample(scrape, metric, &[("task", task)])?.value {
        Value::Histogram(buckets) => buckets
            .iter()
            .find(|bucket| bucket.less_than.is_infinite())
            .map(|bucket| bucket.count),
        other => panic!("{metric} is not a histogram: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_scrape_parses_as_prometheus_text() {
    let daemon = Daemon::start(TASKS);
    let mut events = daemon.watch().await;
    daemon.run_now_and_wait(&mut events, "winner").await;
    let won = daemon.run_now_and_wait(&mut events, "winner").await;
    let lost = daemon.run_now_and_wait(&mut events, "loser").await;
    assert_eq!((won.exit_code, lost.exit_code), (Some(0), Some(3)));
    let ticked = events
        .run_finished("ticker", WAIT)
        .await
        .expect("the ticker fires by its schedule");

    let scrape = scrape(&daemon).await;
    let runs = |task, status| {
        value(
            &scrape,
            "speedrack_runs_total",
            &[("task", task), ("status", status)],
        )
    };
    assert_eq!(runs("winner", "success"), Some(2.0));
    assert_eq!(
        runs("winner", "failure"),
        Some(0.0),
        "known tasks count from zero"
    );
    assert_eq!(runs("loser", "failure"), Some(1.0));
    assert_eq!(runs("loser", "success"), Some(0.0));
    assert_eq!(runs("loser", "execution_error"), Some(0.0));
    assert!(runs("ticker", "success") >= Some(1.0));

    let durations = "speedrack_run_duration_seconds";
    assert_eq!(observations(&scrape, durations, "winner"), Some(2.0));
    assert_eq!(observations(&scrape, durations, "loser"), Some(1.0));
    let count = value(
        &scrape,
        "speedrack_run_duration_seconds_count",
        &[("task", "winner")],
    );
    assert_eq!(count, Some(2.0));
    let lateness = "speedrack_fire_lateness_seconds";
    assert!(observations(&scrape, lateness, "ticker") >= Some(1.0));
    assert_eq!(
        observations(&scrape, lateness, "winner"),
        None,
        "manual runs are never late"
    );

    let last_success = "speedrack_last_success_timestamp_seconds";
    let winner_success =
        value(&scrape, last_success, &[("task", "winner")]).expect("winner succeeded");
    assert!(
        (winner_success
            - seconds(
                won.finished_at
                    .map(|at| (at.seconds, at.nanos))
                    .expect("finished")
            ))
        .abs()
            < 1e-3,
        "the last success is when the last good run finished: {winner_success} vs {won:?}"
    );
    assert_eq!(value(&scrape, last_success, &[("task", "loser")]), None);
    let never = "speedrack_never_succeeded";
    assert_eq!(value(&scrape, never, &[("task", "loser")]), Some(1.0));
    assert_eq!(value(&scrape, never, &[("task", "winner")]), Some(0.0));
    let last_status = "speedrack_last_run_status";
    let loser_status = |status| {
        value(
            &scrape,
            last_status,
            &[("task", "loser"), ("status", status)],
        )
    };
    assert_eq!(
        (loser_status("failure"), loser_status("success")),
        (Some(1.0), Some(0.0))
    );
    let loser_failed = value(
        &scrape,
        "speedrack_last_failure_timestamp_seconds",
        &[("task", "loser")],
    );
    let lost_at = seconds(
        lost.finished_at
            .map(|at| (at.seconds, at.nanos))
            .expect("finished"),
    );
    assert!(
        loser_failed.is_some_and(|at| (at - lost_at).abs() < 1e-3),
        "the last failure is when the failed run finished: {loser_failed:?} vs {lost:?}"
    );
    let build = sample(&scrape, "speedrack_build_info", &[]).expect("the build is named");
    assert!(
        build.labels.get("version").is_some_and(|v| !v.is_empty()),
        "{build:?}"
    );
    for process in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
    ] {
        assert!(
            value(&scrape, process, &[]).is_some_and(|v| v > 0.0),
            "{process}"
        );
    }

    let next_fire = "speedrack_next_fire_timestamp_seconds";
    let ticker_next = value(&scrape, next_fire, &[("task", "ticker")]).expect("ticker fires again");
    assert!(
        ticker_next
            >= seconds(
                ticked
                    .scheduled_at
                    .map(|at| (at.seconds, at.nanos))
                    .expect("due")
            ) + 1.0,
        "{ticker_next}"
    );
    let winner_next =
        value(&scrape, next_fire, &[("task", "winner")]).expect("winner fires some day");
    assert!(
        winner_next > winner_success + 399.0 * 7.0 * 86_400.0,
        "{winner_next}"
    );

    for task in ["winner", "loser"] {
        assert_eq!(
            value(&scrape, "speedrack_running_runs", &[("task", task)]),
            Some(0.0)
        );
        let failures = value(
            &scrape,
            "speedrack_notification_failures_total",
            &[("task", task)],
        );
        assert_eq!(failures, Some(0.0));
    }
    assert!(value(&scrape, "speedrack_history_runs", &[]) >= Some(4.0));
    let bytes = value(&scrape, "speedrack_history_output_bytes", &[]);
    assert!(bytes >= Some(13.0), "won\\n twice and lost\\n: {bytes:?}");
    assert!(
        scrape.docs.contains_key("speedrack_runs_total"),
        "HELP text: {:?}",
        scrape.docs
    );
}
