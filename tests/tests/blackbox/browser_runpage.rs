//! The run page in a real browser (headless Chromium): it opens on the stream that explains the
//! outcome, with no click, and its tabs still switch in place. Waits are WebDriver waits on
//! elements, never sleeps.

use fantoccini::{Client, Locator};
use speedrack_tests::browser::Browser;
use speedrack_tests::web::Gateway;
use speedrack_tests::{Daemon, WAIT};

const TASKS: &str = "tasks:
  - name: complains
    command: echo nothing to see here; seq 1 300 >&2; echo the-real-cause >&2; exit 2
    interval: 400w
";

/// Whether the box `arguments[0]` overflows, and whether its last line is inside its visible
/// part.
const LAST_LINE_IN_VIEW: &str = "
    const box = document.querySelector(arguments[0]);
    const lines = box.querySelectorAll('.sr-line');
    const last = lines[lines.length - 1].getBoundingClientRect();
    const visible = box.getBoundingClientRect();
    return [box.scrollHeight > box.clientHeight,
            last.top >= visible.top && last.bottom <= visible.bottom + 1];
";

async fn displayed(client: &Client, css: &str) -> Result<bool, String> {
    let element = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .map_err(|error| format!("waiting for {css}: {error}"))?;
    element
        .is_displayed()
        .await
        .map_err(|error| format!("is {css} displayed: {error}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stderr_failing_run_shows_its_stderr_without_a_click() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let daemon = Daemon::start(TASKS);
    let gateway = Gateway::start(&daemon.socket()).await;
    let mut events = daemon.watch().await;
    daemon.ctl().ok(&["run-now", "complains"]);
    let run = events
        .run_finished("complains", WAIT)
        .await
        .expect("the run ends");
    let url = gateway.url(&format!("/tasks/complains/runs/{}", run.id));
    browser
        .check("stderr-first", |client| async move {
            client
                .goto(&url)
                .await
                .map_err(|error| format!("opening {url}: {error}"))?;
            let stderr = "[data-pane='stderr'] pre[data-stream='stderr']";
            if !displayed(&client, stderr).await? {
                return Err("stderr is not shown on opening the page".to_owned());
            }
            let text = client
                .find(Locator::Css(stderr))
                .await
                .map_err(|error| format!("finding stderr: {error}"))?
                .text()
                .await
                .map_err(|error| format!("reading stderr: {error}"))?;
            if !text.contains("the-real-cause") {
                return Err(format!("stderr shows {text:?}"));
            }
            if displayed(&client, "[data-pane='stdout'] pre").await? {
                return Err("stdout is shown too".to_owned());
            }
            // Longer than its box, it opens scrolled to its end, where the cause is.
            let seen = client
                .execute(LAST_LINE_IN_VIEW, vec![serde_json::json!(stderr)])
                .await
                .map_err(|error| format!("measuring the stderr box: {error}"))?;
            if seen != serde_json::json!([true, true]) {
                return Err(format!("[overflows, last line in view] is {seen}"));
            }
            look(&client, "stderr-first").await;
            // The tabs still switch in place with scripts on.
            client
                .find(Locator::Css("a.nav-link[data-tab='stdout']"))
                .await
                .map_err(|error| format!("finding the stdout tab: {error}"))?
                .click()
                .await
                .map_err(|error| format!("clicking the stdout tab: {error}"))?;
            client
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Css("[data-pane='stdout'].active"))
                .await
                .map_err(|error| format!("the stdout tab opens: {error}"))?;
            let still = client
                .current_url()
                .await
                .map_err(|error| format!("reading the URL: {error}"))?;
            if still.as_str() != url {
                return Err(format!("a click on a tab left the page for {still}"));
            }
            Ok(())
        })
        .await;
}

/// Saves what the page looks like at desktop and phone width as
/// `$TMPDIR/speedrack-runpage-NAME-{desktop,phone}.png`, for a person to look at; a failure to
/// save is no failure of the test.
async fn look(client: &Client, name: &str) {
    for (width, suffix) in [(1400, "desktop"), (390, "phone")] {
        if client.set_window_size(width, 1000).await.is_err() {
            continue;
        }
        if let Ok(png) = client.screenshot().await {
            let path = std::env::temp_dir().join(format!("speedrack-runpage-{name}-{suffix}.png"));
            let _ = std::fs::write(path, png);
        }
    }
    let _ = client.set_window_size(1400, 1000).await;
}
