//! The web UI over HTTP: a real daemon, the real gateway (the `serve()` speedrackd hosts), and
//! every page parsed as HTML. Waits are on WatchEvents, never sleeps.

use speedrack_tests::files::Gate;
use speedrack_tests::web::{Gateway, Page, Standalone, WebClient};
use speedrack_tests::{Daemon, DaemonBuilder, WAIT, binary};

const TASKS: &str = "tasks:
  - name: winner
    description: wins every time
    command: echo won
    interval: 400w
  - name: loser
    command: echo lost >&2; exit 3
    interval: 400w
  - name: sleeper
    description: sleeps until killed
    command: sleep 60
    interval: 400w
  - name: broken
    interval: 1m
  - name: nasty
    description: \"<script>alert('description')</script>\"
    command: \"echo '<script>alert(1)</script>'\"
    interval: 400w
";

/// A started daemon, a gateway for it, and a client that has loaded the tasks page.
async fn setup(daemon: Daemon) -> (Daemon, Gateway, WebClient) {
    let gateway = Gateway::start(&daemon.socket()).await;
    let client = gateway.client();
    assert_eq!(client.get("/").await.status, 200);
    (daemon, gateway, client)
}

fn assert_styled(page: &Page, status: u16) {
    assert_eq!(page.status, status, "{}", page.body);
    assert_eq!(page.count("nav.navbar"), 1, "a styled page: {}", page.body);
    assert_eq!(
        page.count(&format!("[data-error='{status}']")),
        1,
        "{}",
        page.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tasks_page_shows_every_task_with_its_label() {
    let (daemon, _gateway, client) = setup(Daemon::start(TASKS)).await;
    daemon.run_to_end("winner").await;
    daemon.run_to_end("loser").await;

    let page = client.get("/").await;
    assert_eq!(page.status, 200);
    assert!(page.text("title").contains("Speedrack"));
    let labels = [
        ("winner", "success", "text-bg-success"),
        ("loser", "failure", "text-bg-danger"),
        ("sleeper", "never-run", "text-bg-secondary"),
        ("broken", "conf-error", "text-bg-dark"),
    ];
    for (task, status, class) in labels {
        let row = format!("tr[data-task='{task}'][data-status='{status}']");
        assert_eq!(page.count(&row), 1, "{task} is {status}: {}", page.body);
        let badge = format!("{row} td:nth-child(2) .badge.{class}");
        assert_eq!(page.count(&badge), 1, "{task} colour");
    }
    assert_eq!(page.text("tr[data-task='winner'] [data-rate]"), "100 %");
    assert_eq!(page.text("tr[data-task='loser'] [data-rate]"), "0 %");
    assert_eq!(page.count("tr[data-task='winner'] svg.sr-sparkline"), 1);
    assert_eq!(
        page.attrs(
            "tr[data-task='broken'] button[data-action='run'][disabled]",
            "title"
        ),
        ["conf error: fix the tasks file and reload"]
    );
    let nav = page.attrs("nav.navbar a.nav-link", "href");
    assert_eq!(nav, ["/", "/nodes", "/config", "/help"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_page_shows_the_task_its_actions_and_its_runs() {
    let (daemon, _gateway, client) = setup(Daemon::start(TASKS)).await;
    daemon.run_to_end("winner").await;
    let newest = daemon.run_to_end("winner").await;

    let page = client.get("/tasks/winner").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.text("[data-description]"), "wins every time");
    assert_eq!(page.count("button[data-action='run']:not([disabled])"), 1);
    assert_eq!(
        page.count("button[data-action='suspend']:not([disabled])"),
        1
    );
    assert_eq!(
        page.text("form:has(button[data-action='resume']) [data-reason]"),
        "not suspended"
    );
    assert_eq!(
        page.text("form:has(button[data-action='kill']) [data-reason]"),
        "not running"
    );
    assert_eq!(page.text("[data-runs-since-start]"), "2");
    assert_eq!(page.text("[data-runs-retained]"), "2");
    assert_eq!(page.count("table[data-runs] tr[data-run]"), 2);
    assert_eq!(page.attrs("#run-view", "data-run"), [newest.id.to_string()]);
    assert_eq!(page.text("#run-view pre[data-stream='stdout']"), "won\n");

    let broken = client.get("/tasks/broken").await;
    assert_eq!(broken.status, 200);
    assert_eq!(
        broken.text("[data-description]"),
        "No description available"
    );
    assert!(
        broken.text("[data-conf-errors]").contains("tasks.yaml:"),
        "{}",
        broken.body
    );
    assert_eq!(
        broken.count("button[disabled]"),
        4,
        "nothing to do with a conf error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_all_pages_through_the_whole_history() {
    let daemon = DaemonBuilder::new(TASKS)
        .settings("execution_display: 2\n")
        .start();
    let (daemon, _gateway, client) = setup(daemon).await;
    for _ in 0..3 {
        daemon.run_to_end("winner").await;
    }
    let page = client.get("/tasks/winner").await;
    assert_eq!(
        page.count("table[data-runs] tr[data-run]"),
        2,
        "execution_display"
    );
    assert_eq!(
        page.attrs("[data-show-all]", "href"),
        ["/tasks/winner/runs"]
    );
    assert_eq!(page.text("[data-show-all]"), "Show all 3 runs");

    let all = client.get("/tasks/winner/runs").await;
    assert_eq!(all.status, 200);
    assert_eq!(all.count("table[data-runs] tr[data-run]"), 3);
    assert_eq!(all.count("[data-older]"), 0, "one page holds them all");
    assert_styled(&client.get("/tasks/winner/runs?page=%3Cx%3E").await, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_and_descriptions_are_escaped() {
    let (daemon, _gateway, client) = setup(Daemon::start(TASKS)).await;
    let run = daemon.run_to_end("nasty").await;

    let page = client.get(&format!("/tasks/nasty/runs/{}", run.id)).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert_eq!(
        page.text("pre[data-stream='stdout']"),
        "<script>alert(1)</script>\n"
    );
    assert_eq!(
        page.attrs("a[data-tab='stdout'] [data-size]", "data-size"),
        ["26"]
    );
    assert!(
        page.text("pre[data-definition]").contains("echo"),
        "params tab"
    );

    let task = client.get("/tasks/nasty").await;
    assert!(!task.body.contains("<script>alert"), "{}", task.body);
    assert_eq!(
        task.text("[data-description]"),
        "<script>alert('description')</script>"
    );
    let tasks = client.get("/").await;
    assert!(!tasks.body.contains("<script>alert"), "{}", tasks.body);

    let file = client
        .get(&format!("/tasks/nasty/runs/{}/stdout", run.id))
        .await;
    assert_eq!(file.status, 200);
    assert_eq!(
        file.header("content-type").as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        file.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(file.body, "<script>alert(1)</script>\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_output_shows_its_beginning_and_end_and_links_the_whole_file() {
    let tasks = "tasks:\n  - name: big\n    command: head -c 5000 /dev/zero | tr '\\0' x\n    interval: 400w\n";
    let daemon = DaemonBuilder::new(tasks)
        .settings("fsize_max: 1000\nfsize_summary: 100\n")
        .start();
    let (daemon, _gateway, client) = setup(daemon).await;
    let run = daemon.run_to_end("big").await;

    let page = client.get(&format!("/tasks/big/runs/{}", run.id)).await;
    assert_eq!(page.count("[data-truncated]"), 1, "{}", page.body);
    assert_eq!(page.text("pre[data-stream='stdout']"), "x".repeat(50));
    let whole = format!("/tasks/big/runs/{}/stdout", run.id);
    assert!(page.attrs("[data-truncated] a", "href").contains(&whole));
    assert_eq!(client.get(&whole).await.body, "x".repeat(5000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_are_done_on_behalf_of_who_you_are() {
    let (daemon, _gateway, client) = setup(Daemon::start(TASKS)).await;
    let home = client.get("/").await;
    let named = client
        .submit(&home, "form[action='/you']", &[("name", "alice")])
        .await;
    assert!(
        client
            .follow(&named)
            .await
            .text("[data-flash]")
            .contains("You are alice")
    );

    let mut events = daemon.watch().await;
    let page = client.get("/tasks/sleeper").await;
    let started = client
        .submit(&page, "form[action='/tasks/sleeper/run']", &[])
        .await;
    assert_eq!(
        started.header("location").as_deref(),
        Some("/tasks/sleeper")
    );
    let run = events
        .run_started("sleeper", WAIT)
        .await
        .expect("the run starts");
    let page = client.follow(&started).await;
    assert!(
        page.text("[data-flash]")
            .contains(&format!("Started run {}", run.id))
    );
    assert_eq!(
        page.count("[data-task='sleeper'][data-status='running']"),
        1
    );
    let trigger = page.text("tr[data-run] td:nth-child(3)");
    assert!(trigger.starts_with("manual, asked by alice"), "{trigger}");

    let again = client
        .submit(&page, "form[action='/tasks/sleeper/run']", &[])
        .await;
    let refused = client.follow(&again).await;
    assert!(
        refused
            .text(".alert-danger[data-flash]")
            .contains("running"),
        "{}",
        refused.body
    );

    let killed = client
        .submit(&page, "form[action='/tasks/sleeper/kill']", &[])
        .await;
    assert_eq!(killed.status, 303, "{}", killed.body);
    events
        .run_finished("sleeper", WAIT)
        .await
        .expect("the kill ends the run");
    let page = client.get(&format!("/tasks/sleeper/runs/{}", run.id)).await;
    let killer = page.text("#run-view [data-killed-by]");
    assert!(killer.starts_with("alice"), "{killer}");

    let page = client.get("/tasks/sleeper").await;
    let suspended = client
        .submit(&page, "form[action='/tasks/sleeper/suspend']", &[])
        .await;
    let page = client.follow(&suspended).await;
    assert_eq!(
        page.count("[data-task='sleeper'][data-status='suspended']"),
        1,
        "{}",
        page.body
    );
    let resumed = client
        .submit(&page, "form[action='/tasks/sleeper/resume']", &[])
        .await;
    let page = client.follow(&resumed).await;
    assert_eq!(
        page.count("[data-task='sleeper'][data-status='suspended']"),
        0
    );
    assert!(page.text("[data-flash]").contains("Resumed sleeper"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_right_csrf_token_change_nothing() {
    let (daemon, gateway, client) = setup(Daemon::start(TASKS)).await;
    let stranger = gateway.client();
    assert_styled(&stranger.post("/tasks/winner/run", &[]).await, 403);
    assert_styled(
        &client
            .post("/tasks/winner/run", &[("csrf", "0".repeat(64).as_str())])
            .await,
        403,
    );
    assert_styled(&client.post("/tasks/winner/run", &[]).await, 403);
    assert_styled(&client.post("/reload", &[]).await, 403);
    let page = client.get("/tasks/winner").await;
    let (action, fields) = page.form("form[action='/tasks/winner/run']");
    let cross_site = client
        .http
        .post(client.url(&action))
        .header("sec-fetch-site", "cross-site")
        .form(&fields)
        .send()
        .await
        .expect("POST");
    assert_eq!(cross_site.status(), 403);
    assert_styled(&client.get("/tasks/winner/run").await, 405);
    assert_eq!(
        daemon.ctl().json(&["runs", "winner"])["runs"],
        serde_json::json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_urls_are_styled_404s_and_api_errors_keep_their_meaning() {
    let (daemon, _gateway, client) = setup(Daemon::start(TASKS)).await;
    let run = daemon.run_to_end("winner").await;
    let id = run.id;
    for path in [
        "/nope".to_owned(),
        "/tasks/nope".to_owned(),
        "/tasks/Winner".to_owned(),
        "/tasks/..%2F..%2Fetc%2Fpasswd".to_owned(),
        "/tasks/winner/runs/abc".to_owned(),
        "/tasks/winner/runs/0".to_owned(),
        "/tasks/winner/runs/999999".to_owned(),
        format!("/tasks/loser/runs/{id}"),
        format!("/tasks/winner/runs/{id}/passwd"),
        format!("/tasks/winner/runs/{id}/..%2Fstdout"),
    ] {
        assert_styled(&client.get(&path).await, 404);
    }
    assert_eq!(client.get("/assets/..%2FCargo.toml").await.status, 404);
    let page = client.get("/tasks/broken").await;
    let refused = client
        .post(
            "/tasks/broken/run",
            &[(
                "csrf",
                page.form("form[action='/tasks/broken/run']").1[0]
                    .1
                    .as_str(),
            )],
        )
        .await;
    let back = client.follow(&refused).await;
    assert!(
        back.text(".alert-danger[data-flash]")
            .contains("conf errors"),
        "{}",
        back.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_daemon_is_a_banner_and_the_gateway_reconnects() {
    let (mut daemon, _gateway, client) = setup(Daemon::start(TASKS)).await;
    let socket = daemon.socket().display().to_string();
    daemon.stop_with(nix::sys::signal::Signal::SIGTERM);

    let page = client.get("/").await;
    assert_eq!(page.status, 503);
    assert!(
        page.text("[data-unreachable]")
            .contains(&format!("speedrackd is unreachable at {socket}")),
        "{}",
        page.body
    );
    assert_eq!(page.count("nav.navbar"), 1, "the page still renders");

    let _daemon = daemon.restart();
    let page = client.get("/").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.count("[data-unreachable]"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_generated_url_carries_the_script_name() {
    let daemon = DaemonBuilder::new(TASKS)
        .settings("script_name: /speedrack\napp_name: Cron <Central>\n")
        .start();
    let (daemon, gateway, client) = setup(daemon).await;
    let run = daemon.run_to_end("winner").await;
    let pages = [
        "/".to_owned(),
        "/tasks/winner".to_owned(),
        "/tasks/winner/runs".to_owned(),
        format!("/tasks/winner/runs/{}", run.id),
        "/config".to_owned(),
        "/help".to_owned(),
        "/no/such/page".to_owned(),
    ];
    for path in pages {
        let page = client.get(&path).await;
        let urls = page.urls();
        assert!(urls.len() > 5, "{path}: {urls:?}");
        for url in urls {
            assert!(url.starts_with("/speedrack/"), "{path} links {url}");
        }
        assert_eq!(page.text("a.navbar-brand"), "Cron <Central>");
        assert!(
            page.body.contains("Cron &lt;Central&gt;"),
            "escaped app name"
        );
    }
    // Cookies live under the prefix too, so the browser sends them back only there.
    let page = client.get("/tasks/winner").await;
    let cookie = page
        .header("set-cookie")
        .expect("a CSRF cookie for a new browser");
    assert!(cookie.contains("Path=/speedrack;"), "{cookie}");
    let (action, fields) = page.form("form[action='/speedrack/tasks/winner/run']");
    let nonce = cookie
        .split(';')
        .next()
        .and_then(|pair| pair.strip_prefix("speedrack_csrf="))
        .expect("the CSRF cookie's value");
    let redirect = gateway
        .client()
        .http
        .post(client.url(action.trim_start_matches("/speedrack")))
        .header("cookie", format!("speedrack_csrf={nonce}"))
        .form(&fields)
        .send()
        .await
        .expect("POST");
    assert_eq!(redirect.status(), 303);
    let location = redirect.headers()["location"].to_str().expect("ascii");
    assert_eq!(location, "/speedrack/tasks/winner");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_page_shows_files_and_facts_and_reload_reports_the_diff() {
    let (daemon, _gateway, client) = setup(Daemon::start(TASKS)).await;
    let page = client.get("/config").await;
    assert_eq!(page.status, 200);
    assert!(page.text("[data-tasks-text]").contains("name: winner"));
    let errors = page.text("[data-conf-errors]");
    assert!(
        errors.contains("tasks.yaml:") && errors.contains("broken"),
        "{errors}"
    );
    let facts = page.text("[data-facts]");
    assert!(
        facts.contains(&daemon.socket().display().to_string()),
        "{facts}"
    );
    assert!(
        facts.contains(&daemon.data_dir().display().to_string()),
        "{facts}"
    );
    assert!(page.count("[data-setting]") > 5, "settings in effect");

    daemon.write_tasks(&TASKS.replace("name: nasty", "name: newbie"));
    let reloaded = client.submit(&page, "form[action='/reload']", &[]).await;
    assert_eq!(reloaded.header("location").as_deref(), Some("/config"));
    let flash = client.follow(&reloaded).await.text("[data-flash]");
    assert!(
        flash.contains("added newbie") && flash.contains("removed nasty"),
        "{flash}"
    );

    daemon.write_tasks("tasks: [oops\n");
    let refused = client.submit(&page, "form[action='/reload']", &[]).await;
    assert_eq!(refused.header("location").as_deref(), Some("/config"));
    let back = client.follow(&refused).await;
    assert_eq!(back.status, 200);
    let flash = back.text("[data-flash]");
    assert!(
        flash.contains("Reload refused") && flash.contains("tasks.yaml"),
        "{flash}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_help_page_explains_statuses_and_its_examples_are_real_schedules() {
    let (_daemon, _gateway, client) = setup(Daemon::start(TASKS)).await;
    let page = client.get("/help").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.count("[data-legend] .badge"), 8);
    assert!(page.text("main").contains("Run Now starts a run at once"));

    let help = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../web/help.md"))
        .expect("web/help.md");
    let mut checked = 0;
    for (kind, example) in schedule_examples(&help) {
        let output = std::process::Command::new(binary("speedrackd"))
            .args(["schedule", &format!("--{kind}"), &example, "--count", "1"])
            .output()
            .expect("speedrackd runs");
        assert!(
            output.status.success(),
            "help.md example {kind} {example:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} examples found");
}

/// The `interval: …` and `cron: …` lines of the help's YAML examples, as (flag, value).
fn schedule_examples(markdown: &str) -> Vec<(String, String)> {
    let mut examples = Vec::new();
    let mut in_yaml = false;
    for line in markdown.lines() {
        if let Some(info) = line.strip_prefix("```") {
            in_yaml = !in_yaml && info == "yaml";
            continue;
        }
        if !in_yaml {
            continue;
        }
        for kind in ["interval", "cron"] {
            if let Some(value) = line.strip_prefix(&format!("{kind}: ")) {
                examples.push((kind.to_owned(), value.to_owned()));
            }
        }
    }
    examples
}

/// Reads an SSE response until `until` appears in what came so far.
async fn read_until(response: &mut reqwest::Response, seen: &mut String, until: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !seen.contains(until) {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {until:?} within the wait; got:\n{seen}"))
            .expect("stream stays up")
            .unwrap_or_else(|| panic!("stream ended before {until:?}; got:\n{seen}"));
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_events_and_output_are_relayed_as_server_sent_events() {
    let gate = Gate::new();
    let tasks = format!(
        "{TASKS}  - name: talker\n    command: echo first; {}; echo second\n    interval: 400w\n",
        gate.wait()
    );
    let (daemon, gateway, client) = setup(Daemon::start(&tasks)).await;
    let mut events = client
        .http
        .get(client.url("/events?task=winner"))
        .send()
        .await
        .expect("GET");
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let mut seen = String::new();
    read_until(&mut events, &mut seen, "event: changed").await;
    seen.clear();
    daemon.run_to_end("loser").await;
    daemon.run_to_end("winner").await;
    read_until(&mut events, &mut seen, "data: winner").await;
    assert!(
        !seen.contains("data: loser"),
        "only the task asked for: {seen}"
    );

    let mut watch = daemon.watch().await;
    daemon.ctl().ok(&["run-now", "talker"]);
    let run = watch
        .run_started("talker", WAIT)
        .await
        .expect("talker starts");
    let tail = format!("/tasks/talker/runs/{}/tail?out=0&err=0", run.id);
    let mut output = client
        .http
        .get(client.url(&tail))
        .send()
        .await
        .expect("GET");
    let mut seen = String::new();
    read_until(&mut output, &mut seen, "first").await;
    assert!(seen.contains("event: stdout"), "{seen}");
    // The second line is written only now, while the tail is open: it is relayed live.
    gate.open();
    read_until(&mut output, &mut seen, "event: finished").await;
    assert!(seen.contains("second"), "{seen}");

    // Open streams do not hold up a graceful stop.
    gateway.stop().await;
    drop(events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inactive_tasks_can_be_hidden_and_that_is_remembered() {
    let (daemon, _gateway, client) = setup(Daemon::start(TASKS)).await;
    daemon.run_to_end("nasty").await;
    daemon.write_tasks(&TASKS.replace("name: nasty", "name: other"));
    daemon.ctl().ok(&["reload"]);

    let page = client.get("/").await;
    assert_eq!(
        page.count("tr[data-task='nasty'][data-status='inactive']"),
        1,
        "{}",
        page.body
    );
    let hidden = client
        .submit(&page, "form[action='/prefs/inactive']", &[])
        .await;
    let page = client.follow(&hidden).await;
    assert_eq!(page.count("tr[data-task='nasty']"), 0);
    assert_eq!(
        page.text("[data-toggle-inactive]"),
        "Show inactive tasks (1)"
    );
    assert_eq!(
        client.get("/").await.count("tr[data-task='nasty']"),
        0,
        "remembered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_embedded_and_cached() {
    let (_daemon, _gateway, client) = setup(Daemon::start(TASKS)).await;
    let page = client.get("/").await;
    let css = page.attrs("link[rel=stylesheet]", "href");
    let bootstrap = css
        .iter()
        .find(|href| href.contains("bootstrap"))
        .expect("bootstrap css");
    let asset = client.get(bootstrap).await;
    assert_eq!(asset.status, 200);
    assert_eq!(
        asset.header("content-type").as_deref(),
        Some("text/css; charset=utf-8")
    );
    assert!(
        asset
            .header("cache-control")
            .is_some_and(|c| c.contains("immutable"))
    );
    let etag = asset.header("etag").expect("an ETag");
    let again = client
        .http
        .get(client.url(bootstrap))
        .header("if-none-match", etag)
        .send()
        .await
        .expect("GET");
    assert_eq!(again.status(), 304);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standalone_binary_serves_the_same_pages() {
    let daemon = Daemon::start(TASKS);
    let gateway = Standalone::start(&daemon.socket());
    let body = reqwest::get(gateway.url("/"))
        .await
        .expect("GET")
        .text()
        .await
        .expect("body");
    assert!(body.contains("data-task=\"winner\""), "{body}");
    let status = gateway.stop();
    assert!(status.is_some_and(|status| status.success()), "{status:?}");
}
