//! The web UI in a real browser (headless Chromium): live updates without reloading, as a person
//! sees them. Waits are WebDriver waits on elements, never sleeps; runs last until the test
//! lets them go.

use fantoccini::{Client, Locator};
use speedrack_tests::browser::{Browser, wait_for};
use speedrack_tests::files::Gate;
use speedrack_tests::web::Gateway;
use speedrack_tests::{Daemon, WAIT};

/// `slow` and `talker` run until the test opens `gate`, so the browser sees them running
/// however long it takes to look.
fn tasks(gate: &Gate) -> String {
    format!(
        "tasks:
  - name: slow
    description: runs until let go, so that it is seen running
    command: {wait}; echo browser-was-here
    interval: 400w
  - name: talker
    command: echo first line; {wait}; echo second line
    interval: 400w
",
        wait = gate.wait()
    )
}

/// Opens a live page and waits until it is connected: its live region has been refreshed once
/// over the event stream, so what happens from now on will show, and nothing is swapped
/// under the test's clicks before then.
async fn open_live(client: &Client, url: &str) -> Result<(), String> {
    client
        .goto(url)
        .await
        .map_err(|e| format!("opening {url}: {e}"))?;
    wait_for(client, "#live[data-refreshed]").await.map(drop)
}

/// Whether the page is still the one where `window.srMarker` was set (i.e. not reloaded).
async fn marker(client: &Client) -> Result<String, String> {
    let value = client
        .execute("return String(window.srMarker);", vec![])
        .await
        .map_err(|error| format!("reading the marker: {error}"))?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

/// A browser, a daemon on `tasks` with its gateway, and the gate its runs wait on; `None` when
/// no browser is installed (then the test is skipped, unless SPEEDRACK_REQUIRE_BROWSER).
async fn start() -> Option<(Browser, Gate, Daemon, Gateway)> {
    let browser = Browser::start().await?;
    let gate = Gate::new();
    let daemon = Daemon::start(&tasks(&gate));
    let gateway = Gateway::start(&daemon.socket()).await;
    Some((browser, gate, daemon, gateway))
}

async fn set_marker(client: &Client) -> Result<(), String> {
    client
        .execute("window.srMarker = 'same page';", vec![])
        .await
        .map(drop)
        .map_err(|error| format!("setting the marker: {error}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_now_shows_running_then_success_without_a_reload() {
    let Some((browser, gate, _daemon, gateway)) = start().await else {
        return;
    };
    let home = gateway.url("/");
    browser
        .check("run_now", |client| async move {
            open_live(&client, &home).await?;
            let button =
                wait_for(&client, "tr[data-task='slow'] button[data-action='run']").await?;
            button.click().await.map_err(|e| e.to_string())?;
            // The form posts, the gateway redirects back to the tasks page with a message.
            wait_for(&client, "[data-flash]").await?;
            set_marker(&client).await?;
            wait_for(&client, "tr[data-task='slow'][data-status='running']").await?;
            gate.open();
            wait_for(&client, "tr[data-task='slow'][data-status='success']").await?;
            if marker(&client).await? != "same page" {
                return Err("the page was reloaded instead of updated".to_owned());
            }
            let run = wait_for(&client, "tr[data-task='slow'] a[data-last-run]").await?;
            run.click().await.map_err(|e| e.to_string())?;
            let stdout = wait_for(&client, "#run-view pre[data-stream='stdout']").await?;
            let text = stdout.text().await.map_err(|e| e.to_string())?;
            if !text.contains("browser-was-here") {
                return Err(format!("the run's output is not shown: {text:?}"));
            }
            Ok(())
        })
        .await;
}

/// Whether the live region and `task`'s row are the very elements they were when
/// `mark_nodes` ran (not re-rendered by a refresh of the page part).
async fn same_nodes(client: &Client, task: &str) -> Result<bool, String> {
    let script = format!(
        "return document.getElementById('live') === window.srLive \
         && document.querySelector(\"tr[data-task='{task}']\") === window.srRow;"
    );
    let same = client
        .execute(&script, vec![])
        .await
        .map_err(|error| format!("comparing nodes: {error}"))?;
    Ok(same.as_bool() == Some(true))
}

async fn mark_nodes(client: &Client, task: &str) -> Result<(), String> {
    let script = format!(
        "window.srLive = document.getElementById('live'); \
         window.srRow = document.querySelector(\"tr[data-task='{task}']\");"
    );
    client
        .execute(&script, vec![])
        .await
        .map(drop)
        .map_err(|error| format!("marking nodes: {error}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_run_updates_its_row_and_nothing_else() {
    let Some((browser, gate, daemon, gateway)) = start().await else {
        return;
    };
    let home = gateway.url("/");
    browser
        .check("row_patch", |client| async move {
            open_live(&client, &home).await?;
            mark_nodes(&client, "talker").await?;
            daemon.ctl().ok(&["run-now", "slow"]);
            wait_for(&client, "tr[data-task='slow'][data-status='running']").await?;
            gate.open();
            wait_for(
                &client,
                "tr[data-task='slow'][data-status='success'] [data-rate]",
            )
            .await?;
            if !same_nodes(&client, "talker").await? {
                return Err("the page part was refreshed, not the one row patched".to_owned());
            }
            Ok(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_tasks_output_appears_as_it_is_written() {
    let Some((browser, gate, daemon, gateway)) = start().await else {
        return;
    };
    let mut events = daemon.watch().await;
    daemon.ctl().ok(&["run-now", "talker"]);
    let run = events
        .run_started("talker", WAIT)
        .await
        .expect("talker starts");
    let page = gateway.url(&format!("/tasks/talker/runs/{}", run.id));
    browser
        .check("tail", |client| async move {
            client.goto(&page).await.map_err(|e| e.to_string())?;
            wait_for(&client, "#run-view[data-status='running']").await?;
            set_marker(&client).await?;
            let stdout = "#run-view pre[data-stream='stdout']";
            client
                .wait()
                .at_most(WAIT)
                .for_element(Locator::XPath(
                    "//pre[@data-stream='stdout'][contains(., 'first line')]",
                ))
                .await
                .map_err(|e| format!("waiting for the first line: {e}"))?;
            // The second line is written only now, with the page open: it comes live.
            gate.open();
            client
                .wait()
                .at_most(WAIT)
                .for_element(Locator::XPath(
                    "//pre[@data-stream='stdout'][contains(., 'second line')]",
                ))
                .await
                .map_err(|e| format!("waiting for the second line: {e}"))?;
            wait_for(&client, "#run-view[data-status='success']").await?;
            let text = wait_for(&client, stdout)
                .await?
                .text()
                .await
                .map_err(|e| e.to_string())?;
            if text.matches("first line").count() != 1 || !text.contains("second line") {
                return Err(format!("each line once, in order: {text:?}"));
            }
            if marker(&client).await? != "same page" {
                return Err("the page was reloaded instead of updated".to_owned());
            }
            Ok(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banner_shows_while_the_daemon_is_away_and_goes_when_it_is_back() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let gate = Gate::new();
    let mut daemon = Daemon::start(&tasks(&gate));
    let gateway = Gateway::start(&daemon.socket()).await;
    let home = gateway.url("/");
    browser
        .check("banner", |client| async move {
            open_live(&client, &home).await?;
            set_marker(&client).await?;
            daemon.stop_with(nix::sys::signal::Signal::SIGTERM);
            wait_for(&client, "#live [data-unreachable]").await?;
            let _daemon = daemon.restart();
            wait_for(
                &client,
                "#live:not(:has([data-unreachable])) tr[data-task='slow']",
            )
            .await?;
            if marker(&client).await? != "same page" {
                return Err("the page was reloaded instead of updated".to_owned());
            }
            Ok(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_page_follows_the_newest_run_as_it_starts_and_finishes() {
    let Some((browser, gate, daemon, gateway)) = start().await else {
        return;
    };
    let page = gateway.url("/tasks/talker");
    browser
        .check("follow", |client| async move {
            open_live(&client, &page).await?;
            set_marker(&client).await?;
            daemon.ctl().ok(&["run-now", "talker"]);
            wait_for(&client, "#run-view[data-status='running']").await?;
            gate.open();
            wait_for(&client, "#run-view[data-status='success']").await?;
            let stdout = wait_for(&client, "#run-view pre[data-stream='stdout']").await?;
            let text = stdout.text().await.map_err(|e| e.to_string())?;
            if text != "first line\nsecond line" {
                return Err(format!("the run's output, once: {text:?}"));
            }
            if marker(&client).await? != "same page" {
                return Err("the page was reloaded instead of updated".to_owned());
            }
            Ok(())
        })
        .await;
}
