//! The web UI's live updates over real HTTP: the tasks page's event stream sends a changed row
//! rather than a "refresh everything" nudge, events carry ids a reconnecting browser resumes
//! from, and pages keep the daemon's display settings instead of asking for them each time.

use std::path::Path;

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use speedrack_tests::sse::{SseEvent, SseStream};
use speedrack_tests::web::Gateway;
use speedrack_tests::{Daemon, DaemonBuilder, WAIT};

const TASKS: &str = "tasks:
  - name: quick
    command: echo quick
    interval: 400w
  - name: other
    command: echo other
    interval: 400w
";

/// The tasks page's stream, read past the refresh it opens with.
async fn rows_stream(gateway: &Gateway, last_event_id: Option<&str>) -> SseStream {
    SseStream::open(&gateway.url("/events?rows=tasks"), last_event_id).await
}

fn is_row(event: &SseEvent, task: &str, status: &str) -> bool {
    event.event == "rows"
        && event
            .data
            .contains(&format!(r#"data-task="{task}" data-status="{status}""#))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_run_is_sent_as_its_row_alone() {
    let daemon = DaemonBuilder::new(TASKS)
        .settings("script_name: /sr\n")
        .start();
    let gateway = Gateway::start(&daemon.socket()).await;
    let mut stream = rows_stream(&gateway, None).await;
    let opening = stream
        .until("the opening refresh", |e| e.event == "changed")
        .await;
    assert_eq!(opening.len(), 1, "{opening:?}");

    daemon.ctl().ok(&["run-now", "quick"]);
    let seen = stream
        .until("quick's row as a success", |e| {
            is_row(e, "quick", "success")
        })
        .await;
    assert!(
        seen.iter().all(|event| event.event == "rows"),
        "nothing but rows: {seen:#?}"
    );
    let row = &seen[seen.len() - 1].data;
    assert!(
        row.starts_with(r#"<tr id="task-row-quick" hx-swap-oob="true""#),
        "{row}"
    );
    assert!(
        !row.contains("data-task=\"other\""),
        "only the changed row: {row}"
    );
    // The rate comes from the runs the row's event carried.
    assert!(row.contains("100 %"), "{row}");
    assert!(row.contains("data-last-run="), "{row}");
    assert!(
        row.contains(r#"href="/sr/tasks/quick""#),
        "links carry the prefix: {row}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_still_refreshes_the_whole_page() {
    let daemon = Daemon::start(TASKS);
    let gateway = Gateway::start(&daemon.socket()).await;
    let mut stream = rows_stream(&gateway, None).await;
    stream
        .until("the opening refresh", |e| e.event == "changed")
        .await;
    daemon.write_tasks(&format!(
        "{TASKS}  - name: added\n    command: 'true'\n    interval: 400w\n"
    ));
    daemon.ctl().ok(&["reload"]);
    let seen = stream.until("a refresh", |e| e.event == "changed").await;
    assert_eq!(seen[seen.len() - 1].data, "*");
}

/// Counts the opens of one file (the daemon reads its config files on GetConfig only).
struct Opens(Inotify);

impl Opens {
    fn of(path: &Path) -> Opens {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK).expect("inotify");
        inotify
            .add_watch(path, AddWatchFlags::IN_OPEN)
            .expect("watch the file");
        Opens(inotify)
    }

    /// Opens since the last call. An open is queued before the reader returns, so every read
    /// behind a page that has loaded is counted.
    fn take(&self) -> usize {
        self.0.read_events().map_or(0, |events| events.len())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_keep_display_settings_until_the_daemon_reloads() {
    let settings = "app_name: Before\n";
    let daemon = DaemonBuilder::new(TASKS).settings(settings).start();
    let gateway = Gateway::start(&daemon.socket()).await;
    let client = gateway.client();
    let opens = Opens::of(&daemon.dir().join("tasks.yaml"));
    // Until the gateway's reload watch has connected, pages ask; then they stop asking.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        assert_eq!(client.get("/").await.text("a.navbar-brand"), "Before");
        if opens.take() == 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "pages keep asking");
    }
    // Settings do not age while the watch runs (`display_cache.rs`, tested with time as a
    // parameter); here, no kind of page asks either.
    for path in ["/", "/tasks/quick", "/help", "/tasks/quick/runs"] {
        assert_eq!(client.get(path).await.status, 200, "{path}");
    }
    assert_eq!(opens.take(), 0, "a page load read the config files");

    std::fs::write(daemon.dir().join("settings.yaml"), "app_name: After\n").expect("write");
    daemon.ctl().ok(&["reload"]);
    opens.take();
    let deadline = tokio::time::Instant::now() + WAIT;
    while client.get("/").await.text("a.navbar-brand") != "After" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the reload's settings never showed"
        );
    }
    assert!(opens.take() > 0, "asked again after the reload");
}

/// `EPOCH-SEQUENCE` as numbers.
fn event_id(id: &str) -> (u64, u64) {
    let parsed = id
        .split_once('-')
        .and_then(|(epoch, sequence)| Some((epoch.parse().ok()?, sequence.parse().ok()?)));
    parsed.unwrap_or_else(|| panic!("not EPOCH-SEQUENCE: {id:?}"))
}

/// Needs the daemon side of WatchEvents resume (numbered events): without it no event has an id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_browser_gets_what_it_missed_and_no_refresh() {
    let daemon = Daemon::start(TASKS);
    let gateway = Gateway::start(&daemon.socket()).await;
    let mut stream = rows_stream(&gateway, None).await;
    daemon.ctl().ok(&["run-now", "quick"]);
    let seen = stream
        .until("quick's row", |e| is_row(e, "quick", "success"))
        .await;
    let id = seen[seen.len() - 1]
        .id
        .clone()
        .expect("the row event has an id");
    let (epoch, sequence) = event_id(&id);
    drop(stream);

    let mut events = daemon.watch().await;
    daemon.run_now_and_wait(&mut events, "other").await;
    let mut resumed = rows_stream(&gateway, Some(&id)).await;
    let seen = resumed
        .until("other's row, missed while away", |e| {
            is_row(e, "other", "success")
        })
        .await;
    assert!(
        seen.iter().all(|event| event.event == "rows"),
        "resumed without a refresh: {seen:#?}"
    );
    let resumed_at = event_id(seen[seen.len() - 1].id.as_deref().expect("an id"));
    assert!(
        resumed_at.0 == epoch && resumed_at.1 > sequence,
        "{id} then {resumed_at:?}"
    );

    let mut elsewhere = rows_stream(&gateway, Some("1-1")).await;
    let seen = elsewhere.until("a refresh", |e| e.event == "changed").await;
    assert_eq!(
        seen.len(),
        1,
        "another epoch's events cannot be resumed: {seen:#?}"
    );
}
