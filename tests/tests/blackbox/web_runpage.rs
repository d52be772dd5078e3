//! The run page and the actions around it, over HTTP without scripts: Run Now on a task that
//! is already running, failed actions coming back to the page with their message, the stream a
//! run page opens on, output too big to show whole, and how a killed run reads.

use speedrack_tests::files::Gate;
use speedrack_tests::web::{Gateway, Page, WebClient};
use speedrack_tests::{Daemon, WAIT};

/// A started daemon, a gateway for it, and a client that has loaded the tasks page.
async fn setup(daemon: Daemon) -> (Daemon, Gateway, WebClient) {
    let gateway = Gateway::start(&daemon.socket()).await;
    let client = gateway.client();
    assert_eq!(client.get("/").await.status, 200);
    (daemon, gateway, client)
}

/// The flash message a redirect leads to, and its kind (`alert-success`, `alert-danger`).
async fn flash_after(client: &WebClient, redirect: &Page) -> (String, String) {
    let page = client.follow(redirect).await;
    let class = page
        .attrs("[data-flash]", "class")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no flash on {}", page.body));
    (page.text("[data-flash]"), class)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_now_on_a_running_queue_task_is_queued_and_said_so() {
    let gate = Gate::new();
    let tasks = format!(
        "tasks:\n  - {{name: queued, command: '{}', interval: 400w, overlap: queue}}\n",
        gate.wait()
    );
    let (daemon, _gateway, client) = setup(Daemon::start(&tasks)).await;
    let mut events = daemon.watch().await;
    // Loaded while the task is idle, as a page left open is: its Run Now is enabled.
    let page = client.get("/tasks/queued").await;
    let form = "form[action='/tasks/queued/run']";
    let started = client.submit(&page, form, &[]).await;
    let first = events
        .run_started("queued", WAIT)
        .await
        .expect("the first run starts");
    let (message, class) = flash_after(&client, &started).await;
    assert!(
        message.contains(&format!("Started run {}", first.id)),
        "{message}"
    );
    assert!(class.contains("alert-success"), "{class}");

    // Loaded while it runs: under overlap: queue, Run Now is still offered.
    let running_page = client.get("/tasks/queued").await;
    assert_eq!(
        running_page.count("form[action='/tasks/queued/run'] button:not([disabled])"),
        1,
        "Run Now is enabled on a running queue task: {}",
        running_page.body
    );
    let queued = client.submit(&running_page, form, &[]).await;
    assert_eq!(
        queued.status, 303,
        "a queued run is a success: {}",
        queued.body
    );
    assert_eq!(queued.header("location").as_deref(), Some("/tasks/queued"));
    let (message, class) = flash_after(&client, &queued).await;
    assert!(
        message.contains(&format!("Queued a run of queued behind run {}", first.id)),
        "{message}"
    );
    assert!(class.contains("alert-success"), "{class}");

    gate.open();
    let second = events
        .run_started("queued", WAIT)
        .await
        .expect("the queued run starts once the first ends");
    assert!(second.id > first.id);
    gate.open();
    events
        .run_finished("queued", WAIT)
        .await
        .expect("the queued run ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_actions_come_back_to_the_page_with_the_message() {
    let gate = Gate::new();
    let tasks = format!(
        "tasks:\n  - {{name: once, command: '{}', interval: 400w}}\n  - name: broken\n    interval: 1m\n",
        gate.wait()
    );
    let (daemon, _gateway, client) = setup(Daemon::start(&tasks)).await;
    let mut events = daemon.watch().await;
    let idle = client.get("/tasks/once").await;
    let run_form = "form[action='/tasks/once/run']";
    let started = client.submit(&idle, run_form, &[]).await;
    assert_eq!(started.status, 303);
    let run = events
        .run_started("once", WAIT)
        .await
        .expect("the run starts");

    // The page was loaded before the run started, so its Run Now is still enabled.
    let refused = client.submit(&idle, run_form, &[]).await;
    assert_eq!(refused.status, 303, "{}", refused.body);
    assert_eq!(refused.header("location").as_deref(), Some("/tasks/once"));
    let (message, class) = flash_after(&client, &refused).await;
    assert!(message.contains("already running"), "{message}");
    assert!(class.contains("alert-danger"), "{class}");

    // A kill from a run page loaded while the run ran, sent after it ended, comes back there.
    let run_page_path = format!("/tasks/once/runs/{}", run.id);
    let running = client.get(&run_page_path).await;
    gate.open();
    events
        .run_finished("once", WAIT)
        .await
        .expect("the run ends");
    let late = client
        .submit(&running, "form[action='/tasks/once/kill']", &[])
        .await;
    assert_eq!(late.status, 303, "{}", late.body);
    assert_eq!(
        late.header("location").as_deref(),
        Some(run_page_path.as_str())
    );
    let (message, class) = flash_after(&client, &late).await;
    assert!(message.contains("not running"), "{message}");
    assert!(class.contains("alert-danger"), "{class}");

    // Suspend of a task with conf errors, forged from another task's form.
    let (_, fields) = idle.form(run_form);
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let suspend = client.post("/tasks/broken/suspend", &pairs).await;
    assert_eq!(suspend.status, 303, "{}", suspend.body);
    let (message, class) = flash_after(&client, &suspend).await;
    assert!(message.contains("broken"), "{message}");
    assert!(class.contains("alert-danger"), "{class}");
    // The message was shown once: the next page has none.
    assert_eq!(client.get("/tasks/once").await.count("[data-flash]"), 0);
}

/// Each line of `seq` is its own line number, so a number shown beside a line must equal it.
fn numbered_lines_are_true(page: &Page, css: &str) -> usize {
    let numbers = page.attrs(&format!("{css} .sr-line"), "data-line");
    let lines = page.texts(&format!("{css} .sr-line"));
    assert!(!lines.is_empty(), "no lines in {css}: {}", page.body);
    assert_eq!(
        numbers.len(),
        lines.len(),
        "every line numbered: {}",
        page.body
    );
    for (number, line) in numbers.iter().zip(&lines) {
        assert_eq!(number, line.trim_end(), "{}", page.body);
    }
    lines.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_output_shows_head_and_tail_with_true_line_numbers() {
    let tasks = "tasks:
  - {name: counts, command: 'seq 1 2000', interval: 400w}
  - {name: fails, command: 'seq 1 2000; exit 1', interval: 400w}
";
    let daemon = speedrack_tests::DaemonBuilder::new(tasks)
        .settings("fsize_max: 1000\nfsize_summary: 200\n")
        .start();
    let (daemon, _gateway, client) = setup(daemon).await;
    let mut events = daemon.watch().await;
    for task in ["counts", "fails"] {
        daemon.ctl().ok(&["run-now", task]);
        let run = events.run_finished(task, WAIT).await.expect("the run ends");
        let page = client.get(&format!("/tasks/{task}/runs/{}", run.id)).await;
        let head = "pre[data-stream='stdout'][data-part='head']";
        let tail = "pre[data-stream='stdout'][data-part='tail']";
        assert!(numbered_lines_are_true(&page, head) >= 10);
        assert!(numbered_lines_are_true(&page, tail) >= 10);
        assert!(page.text(tail).ends_with("1999\n2000\n"), "{}", page.body);
        let marker = page.text("[data-truncated]");
        assert!(marker.contains("KiB skipped"), "{marker}");
        let whole = format!("/tasks/{task}/runs/{}/stdout", run.id);
        assert_eq!(page.attrs("[data-truncated] a", "href"), vec![whole]);
        // A failed run's end comes first, since that is where it usually says why.
        let tail_at = page.body.find("data-part=\"tail\"").expect("tail");
        let head_at = page.body.find("data-part=\"head\"").expect("head");
        assert_eq!(tail_at < head_at, task == "fails", "{}", page.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_page_opens_on_the_stream_that_explains_the_outcome() {
    let tasks = "tasks:
  - {name: complains, command: 'echo the-cause >&2; exit 2', interval: 400w}
  - {name: quiet, command: 'echo all-good', interval: 400w}
";
    let (daemon, _gateway, client) = setup(Daemon::start(tasks)).await;
    let mut events = daemon.watch().await;
    let mut pages = Vec::new();
    for task in ["complains", "quiet"] {
        daemon.ctl().ok(&["run-now", task]);
        let run = events.run_finished(task, WAIT).await.expect("the run ends");
        pages.push(format!("/tasks/{task}/runs/{}", run.id));
    }
    let active = ".tab-pane.active";
    let failed = client.get(&pages[0]).await;
    assert_eq!(
        failed.attrs(active, "data-pane"),
        vec!["stderr"],
        "{}",
        failed.body
    );
    assert!(failed.text(active).contains("the-cause"));
    assert_eq!(failed.attrs(".nav-link.active", "data-tab"), vec!["stderr"]);
    let quiet = client.get(&pages[1]).await;
    assert_eq!(
        quiet.attrs(active, "data-pane"),
        vec!["stdout"],
        "{}",
        quiet.body
    );

    // Without scripts, every tab is a link to the page open on it.
    let links = failed.attrs("a.nav-link[data-tab]", "href");
    let expected: Vec<String> = ["stdout", "stderr", "operror", "params"]
        .iter()
        .map(|stream| format!("{}?stream={stream}", pages[0]))
        .collect();
    assert_eq!(links, expected);
    for (link, stream) in links.iter().zip(["stdout", "stderr", "operror", "params"]) {
        let page = client.get(link).await;
        assert_eq!(page.attrs(active, "data-pane"), vec![stream], "{link}");
    }
    let params = client.get(&links[3]).await;
    assert!(params.text(active).contains("exit 2"), "{}", params.body);
    // An unknown stream is no error: the page opens as if none was asked for.
    let odd = client.get(&format!("{}?stream=passwd", pages[0])).await;
    assert_eq!(odd.attrs(active, "data-pane"), vec!["stderr"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_reads_killed_and_names_its_killer_once() {
    let tasks = "tasks:
  - {name: sleeper, command: 'sleep 300', interval: 400w, overlap: parallel}
  - {name: swapped, command: 'sleep 300', interval: 400w, overlap: replace}
";
    let (daemon, _gateway, client) = setup(Daemon::start(tasks)).await;
    let home = client.get("/").await;
    let named = client
        .submit(&home, "form[action='/you']", &[("name", "alice")])
        .await;
    assert_eq!(named.status, 303);
    let mut events = daemon.watch().await;
    daemon.ctl().ok(&["run-now", "sleeper"]);
    let run = events.run_started("sleeper", WAIT).await.expect("starts");
    daemon.ctl().ok(&["run-now", "sleeper"]);
    let other = events.run_started("sleeper", WAIT).await.expect("starts");
    let path = format!("/tasks/sleeper/runs/{}", run.id);

    // The running run's own page has the Kill button, which comes back to it.
    let running = client.get(&path).await;
    let killed = client
        .submit(
            &running,
            "#run-view form[action='/tasks/sleeper/kill']",
            &[],
        )
        .await;
    assert_eq!(killed.header("location").as_deref(), Some(path.as_str()));
    let (message, _) = flash_after(&client, &killed).await;
    assert!(
        message.contains(&format!("Killing run {}", run.id)),
        "{message}"
    );
    let ended = events.run_finished("sleeper", WAIT).await.expect("killed");
    assert_eq!(ended.id, run.id, "the page's run ends");
    let task = daemon.ctl().json(&["show", "sleeper"]);
    assert_eq!(
        task["task"]["running_run_ids"],
        serde_json::json!([other.id]),
        "the task's other run goes on: {task}"
    );

    let page = client.get(&path).await;
    assert_eq!(
        page.text("#run-view h2 [data-status]"),
        "killed",
        "{}",
        page.body
    );
    let why = page.text("#run-view [data-killed]");
    assert!(why.starts_with("by alice"), "{why}");
    let facts = page.text("#run-view dl");
    assert_eq!(facts.matches("alice").count(), 1, "named once: {facts}");
    assert_eq!(
        page.count("#run-view form[action$='/kill']"),
        0,
        "it has ended"
    );
    let history = client.get("/tasks/sleeper/runs").await;
    let notes = history.text(&format!("tr[data-run='{}']", run.id));
    assert_eq!(notes.matches("alice").count(), 1, "named once: {notes}");

    daemon.ctl().ok(&["run-now", "swapped"]);
    let old = events.run_started("swapped", WAIT).await.expect("starts");
    daemon.ctl().ok(&["run-now", "swapped"]);
    let new = events
        .run_started("swapped", WAIT)
        .await
        .expect("the replacement starts");
    let page = client.get(&format!("/tasks/swapped/runs/{}", old.id)).await;
    assert_eq!(
        page.attrs("#run-view [data-killed] a", "href"),
        vec![format!("/tasks/swapped/runs/{}", new.id)],
        "{}",
        page.body
    );
    daemon.ctl().ok(&["kill", "swapped"]);
    daemon.ctl().ok(&["kill", "sleeper"]);
}
