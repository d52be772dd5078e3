//! The live parts of the web UI in a real browser (headless Chromium), as a person with many
//! tabs sees them: one connection per browser whatever the number of tabs, tails that follow,
//! times that tick. Waits are WebDriver waits on elements, never sleeps.

use std::time::{Duration, Instant};

use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, Locator};
use speedrack_tests::browser::Browser;
use speedrack_tests::files::Gate;
use speedrack_tests::web::Gateway;
use speedrack_tests::{Daemon, WAIT};

/// The bar: a page loads this fast with ten live tabs open.
const LOAD_BUDGET: Duration = Duration::from_secs(2);

async fn wait_for(client: &Client, css: &str) -> Result<fantoccini::elements::Element, String> {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .map_err(|error| format!("waiting for {css}: {error}"))
}

/// Opens `url` in the current tab and waits until its live region has been refreshed over its
/// stream (it is connected), then marks the page so a reload would show.
async fn open_live(client: &Client, url: &str) -> Result<(), String> {
    client
        .goto(url)
        .await
        .map_err(|e| format!("opening {url}: {e}"))?;
    wait_for(client, "#live[data-refreshed]").await?;
    run(client, "window.srMarker = 'same page';").await
}

async fn run(client: &Client, script: &str) -> Result<(), String> {
    client
        .execute(script, vec![])
        .await
        .map(drop)
        .map_err(|error| format!("running {script}: {error}"))
}

async fn new_tab(client: &Client) -> Result<fantoccini::wd::WindowHandle, String> {
    let tab = client.new_window(true).await.map_err(|e| e.to_string())?;
    client
        .switch_to_window(tab.handle.clone())
        .await
        .map_err(|e| e.to_string())?;
    Ok(tab.handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_live_tabs_leave_room_for_an_eleventh_page_and_all_see_a_run_finish() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let gate = Gate::new();
    let daemon = Daemon::start(&format!(
        "tasks:\n  - name: quick\n    command: {}; echo done\n    interval: 400w\n",
        gate.wait()
    ));
    let gateway = Gateway::start(&daemon.socket()).await;
    // Half the tabs on the tasks page, half on the task's: different streams, one connection.
    let pages: Vec<String> = (0..10)
        .map(|tab| gateway.url(if tab % 2 == 0 { "/" } else { "/tasks/quick" }))
        .collect();
    let eleventh = gateway.url("/config");
    browser
        .check("ten_tabs", |client| async move {
            // Without one shared connection the seventh tab waits for a free one: fail then.
            let timeouts = TimeoutConfiguration::new(None, Some(WAIT), None);
            client
                .update_timeouts(timeouts)
                .await
                .map_err(|e| e.to_string())?;
            let mut tabs = vec![client.window().await.map_err(|e| e.to_string())?];
            open_live(&client, &pages[0]).await?;
            for page in &pages[1..] {
                tabs.push(new_tab(&client).await?);
                open_live(&client, page).await?;
            }
            new_tab(&client).await?;
            let started = Instant::now();
            client
                .goto(&eleventh)
                .await
                .map_err(|e| format!("opening an eleventh page: {e}"))?;
            let took = started.elapsed();
            eprintln!("eleventh page loaded in {took:?} with ten live tabs open");
            if took > LOAD_BUDGET {
                return Err(format!("the eleventh page took {took:?}"));
            }
            daemon.ctl().ok(&["run-now", "quick"]);
            gate.open();
            for (tab, page) in tabs.into_iter().zip(&pages) {
                client
                    .switch_to_window(tab)
                    .await
                    .map_err(|e| e.to_string())?;
                let finished = if page.ends_with('/') {
                    "tr[data-task='quick'][data-status='success']"
                } else {
                    "#run-view[data-status='success']"
                };
                wait_for(&client, finished)
                    .await
                    .map_err(|e| format!("{page}: {e}"))?;
                let marker = client
                    .execute("return String(window.srMarker);", vec![])
                    .await
                    .map_err(|e| e.to_string())?;
                if marker.as_str() != Some("same page") {
                    return Err(format!("{page} was reloaded instead of updated"));
                }
            }
            Ok(())
        })
        .await;
}
