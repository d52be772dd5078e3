//! The history a task's page can question, over real HTTP from a real daemon: pages of runs,
//! filters, the output search and the charts. Waits are on WatchEvents, never sleeps.

use speedrack_proto::v1 as pb;
use speedrack_tests::Daemon;
use speedrack_tests::web::{Gateway, Page, WebClient};

/// Fails, saying why on stderr, while the file `fail` exists beside the data dir.
const TASKS: &str = "tasks:
  - name: flaky
    description: fails when told to
    command: 'if [ -e \"$SPEEDRACK_DATA_DIR/../fail\" ]; then echo first; echo \"boom <b>line</b>\" >&2; exit 3; fi; echo fine'
    interval: 400w
";

/// Two runs that succeed, then two that fail: newest first, as lists show them.
async fn two_good_two_bad(daemon: &Daemon) -> Vec<pb::Run> {
    let mut runs = Vec::new();
    for failing in [false, false, true, true] {
        if failing {
            std::fs::write(daemon.dir().join("fail"), "").expect("write the flag");
        }
        runs.push(daemon.run_to_end("flaky").await);
    }
    runs.reverse();
    runs
}

fn ids(runs: impl IntoIterator<Item = i64>) -> Vec<String> {
    runs.into_iter().map(|id| id.to_string()).collect()
}

async fn setup(daemon: Daemon) -> (Daemon, Gateway, WebClient) {
    let gateway = Gateway::start(&daemon.socket()).await;
    let client = gateway.client();
    assert_eq!(client.get("/").await.status, 200);
    (daemon, gateway, client)
}

fn assert_no_claim_of_no_runs(page: &Page) {
    assert_eq!(page.count("[data-no-runs]"), 0, "{}", page.body);
    assert!(!page.body.contains("No runs yet"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_that_do_not_exist_say_so_and_lead_back() {
    let (daemon, _gateway, client) = setup(Daemon::start(TASKS)).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        ids.push(daemon.run_to_end("flaky").await.id);
    }
    for junk in ["-5", "0", "abc", "9999999999999999999999", "%3Cx%3E"] {
        let page = client.get(&format!("/tasks/flaky/runs?page={junk}")).await;
        assert_eq!(page.status, 404, "page={junk}: {}", page.body);
        assert_no_claim_of_no_runs(&page);
        assert_eq!(
            page.attrs("[data-error] a[data-newest]", "href"),
            ["/tasks/flaky/runs"],
            "page={junk}"
        );
    }
    let oldest = ids.iter().min().expect("two runs");
    let past = client
        .get(&format!("/tasks/flaky/runs?page={oldest}"))
        .await;
    assert_eq!(past.status, 404, "{}", past.body);
    assert_no_claim_of_no_runs(&past);
    assert!(
        past.text("[data-past-end]")
            .contains("past the oldest of the 2 runs"),
        "{}",
        past.body
    );
    assert_eq!(
        past.attrs("[data-past-end] a[data-newest]", "href"),
        ["/tasks/flaky/runs"]
    );
    let first = client.get("/tasks/flaky/runs").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.count("table[data-runs] tr[data-run]"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_filters_by_status_trigger_and_time_in_the_api_and_the_page() {
    let (daemon, _gateway, client) = setup(Daemon::start(TASKS)).await;
    let runs = two_good_two_bad(&daemon).await;
    let failed: Vec<i64> = runs.iter().take(2).map(|run| run.id).collect();

    let mut api = daemon.client().await;
    let mut list = async |request: pb::ListRunsRequest| {
        let request = pb::ListRunsRequest {
            task: "flaky".to_owned(),
            ..request
        };
        api.list_runs(request).await.map(|reply| reply.into_inner())
    };
    let only_failed = list(pb::ListRunsRequest {
        statuses: vec![pb::RunStatus::Failure.into()],
        ..Default::default()
    })
    .await
    .expect("filtered list");
    let listed: Vec<i64> = only_failed.runs.iter().map(|run| run.id).collect();
    assert_eq!(listed, failed);
    assert_eq!((only_failed.matching, only_failed.total), (2, 4));
    let scheduled = list(pb::ListRunsRequest {
        triggers: vec![pb::Trigger::Schedule.into()],
        ..Default::default()
    })
    .await
    .expect("filtered list");
    assert_eq!(
        (scheduled.runs.len(), scheduled.matching),
        (0, 0),
        "all were manual"
    );
    let oldest_start = runs[3].started_at.expect("started");
    let after_the_first = list(pb::ListRunsRequest {
        started_from: runs[2].started_at,
        ..Default::default()
    })
    .await
    .expect("filtered list");
    assert_eq!(after_the_first.matching, 3);
    let refused = list(pb::ListRunsRequest {
        statuses: vec![0],
        ..Default::default()
    })
    .await
    .expect_err("unspecified status");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);

    let page = client
        .get("/tasks/flaky/runs?status=failure&trigger=manual")
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.attrs("table[data-runs] tr[data-run]", "data-run"),
        ids(failed)
    );
    assert_eq!(page.text("[data-heading]"), "2 of 4 runs of flaky match");
    assert_eq!(
        page.count("form[data-filters] input#status-failure[checked]"),
        1
    );
    assert_eq!(
        page.count("form[data-filters] input#status-success[checked]"),
        0
    );
    let none = client.get("/tasks/flaky/runs?trigger=schedule").await;
    assert_eq!(none.status, 200);
    assert_eq!(none.count("[data-no-match]"), 1, "{}", none.body);
    assert_eq!(none.count("[data-no-runs]"), 0, "the task has runs");
    let long_ago = client
        .get("/tasks/flaky/runs?from=2000-01-01&to=2000-01-31")
        .await;
    assert_eq!(long_ago.count("[data-no-match]"), 1, "{}", long_ago.body);
    let day = chrono::DateTime::from_timestamp(oldest_start.seconds, 0)
        .expect("valid instant")
        .format("%Y-%m-%d")
        .to_string();
    let today = client
        .get(&format!("/tasks/flaky/runs?from={day}&to={day}&status="))
        .await;
    assert_eq!(
        today.count("table[data-runs] tr[data-run]"),
        4,
        "{}",
        today.body
    );
    let bad = client.get("/tasks/flaky/runs?status=%3Cbogus%3E").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("&lt;bogus&gt;"), "{}", bad.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_search_streams_bounded_escaped_hits_linking_to_their_runs() {
    let (daemon, _gateway, client) = setup(Daemon::start(TASKS)).await;
    let runs = two_good_two_bad(&daemon).await;

    let task_page = client.get("/tasks/flaky").await;
    assert_eq!(
        task_page.attrs("form[data-search]", "action"),
        ["/tasks/flaky/search"]
    );
    let page = client.get("/tasks/flaky/search?q=BOOM").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.attrs("[data-hit]", "data-hit"),
        ids([runs[0].id, runs[1].id])
    );
    assert_eq!(
        page.attrs("[data-hit] a:first-child", "href"),
        [
            format!("/tasks/flaky/runs/{}?stream=stderr#stderr-L1", runs[0].id),
            format!("/tasks/flaky/runs/{}?stream=stderr#stderr-L1", runs[1].id)
        ]
    );
    assert_eq!(page.text("[data-hit] code[data-line]"), "boom <b>line</b>");
    assert!(!page.body.contains("<b>line</b>"), "escaped: {}", page.body);
    assert_eq!(
        page.attrs("[data-search-end]", "data-search-end"),
        ["SEARCH_END_ALL_SEARCHED"]
    );
    let fine = client.get("/tasks/flaky/search?q=fine").await;
    assert_eq!(
        fine.attrs("[data-hit]", "data-hit"),
        ids([runs[2].id, runs[3].id])
    );
    let nothing = client.get("/tasks/flaky/search?q=absent").await;
    assert_eq!(nothing.count("[data-hit]"), 0);
    assert!(
        nothing
            .text("[data-search-end]")
            .contains("No line matches")
    );
    assert_eq!(client.get("/tasks/flaky/search?q=").await.status, 400);
    let long = format!("/tasks/flaky/search?q={}", "x".repeat(201));
    assert_eq!(client.get(&long).await.status, 400);

    // The API stops at its caps and says which.
    let mut api = daemon.client().await;
    let mut stream = api
        .search_output(pb::SearchOutputRequest {
            task: "flaky".to_owned(),
            text: "I".to_owned(),
            max_hits: 3,
            ..Default::default()
        })
        .await
        .expect("search")
        .into_inner();
    let mut hits = 0;
    let summary = loop {
        let reply = stream
            .message()
            .await
            .expect("stream")
            .expect("a summary at the end");
        hits += reply.hits.len();
        if let Some(summary) = reply.summary {
            break summary;
        }
    };
    assert_eq!((hits, summary.hits), (3, 3));
    let too_long = api
        .search_output(pb::SearchOutputRequest {
            task: "flaky".to_owned(),
            text: "x".repeat(201),
            ..Default::default()
        })
        .await
        .expect_err("text over 200 bytes");
    assert_eq!(too_long.code(), tonic::Code::InvalidArgument);
    assert_eq!(summary.end(), pb::SearchEnd::HitLimit);
    let few_runs = api
        .search_output(pb::SearchOutputRequest {
            task: "flaky".to_owned(),
            text: "fine".to_owned(),
            max_runs: 2,
            ..Default::default()
        })
        .await
        .expect("search")
        .into_inner()
        .message()
        .await
        .expect("stream")
        .expect("a summary");
    let summary = few_runs.summary.expect("no hits in the two newest runs");
    assert_eq!(
        (summary.runs_searched, summary.end()),
        (2, pb::SearchEnd::RunLimit)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_page_charts_durations_and_days() {
    let (daemon, _gateway, client) = setup(Daemon::start(TASKS)).await;
    let runs = two_good_two_bad(&daemon).await;
    let page = client.get("/tasks/flaky").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let oldest_first: Vec<String> = ids(runs.iter().rev().map(|run| run.id));
    assert_eq!(
        page.attrs("svg[data-duration-chart] a[data-bar]", "data-bar"),
        oldest_first
    );
    assert_eq!(
        page.count("svg[data-duration-chart] [data-failure-mark]"),
        2
    );
    assert_eq!(
        page.attrs("svg[data-duration-chart]", "data-top"),
        ["1"],
        "a second at least"
    );
    assert!(
        page.text("svg[data-duration-chart]")
            .contains("duration (s)")
    );
    let started = runs[0].started_at.expect("started");
    let day = chrono::DateTime::from_timestamp(started.seconds, 0).expect("valid instant");
    let cell = format!("[data-heatmap] rect[data-day='{}']", day.format("%Y-%m-%d"));
    assert_eq!(page.attrs(&cell, "data-shade"), ["some"], "{}", page.body);
    assert!(
        page.text(&cell).ends_with(": 4 runs, 2 failed (50 %)"),
        "{}",
        page.text(&cell)
    );
    assert!(page.count("[data-heatmap] rect[data-day]") >= 50);
    assert_eq!(page.count("[data-heatmap] [data-legend] svg"), 5);
}
