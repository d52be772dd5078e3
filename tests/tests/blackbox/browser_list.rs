//! The tasks list and the pages below it in a real browser (headless Chromium): at a phone's
//! 390 px no page scrolls sideways and the list is cards; the title, the favicon and a filter
//! follow live changes without a reload. Waits are WebDriver waits on elements, never sleeps.
//!
//! With SPEEDRACK_SCREENSHOTS=DIR set, each page is also saved there as PAGE-WIDTH.png, to look
//! at.

use fantoccini::{Client, Locator};
use speedrack_tests::Daemon;
use speedrack_tests::browser::{Browser, script, wait_for};
use speedrack_tests::web::Gateway;

/// Long words everywhere a page shows text it does not choose: the name, the description, the
/// command, and lines of output on both streams (stderr makes the run a failure).
const LONG: &str = "tasks:
  - name: a_task_with_a_very_long_name_that_has_no_spaces_in_it_anywhere_at_all
    description: AdescriptionThatIsOneVeryLongWordWithoutAnyPlaceToBreakItAtAllAnywhereReally
    command: printf 'o%.0s' $(seq 400); echo; printf 'e%.0s' $(seq 400) >&2; echo /a/very/long/path/without/spaces/to/wrap/at/all/anywhere/in/the/line >&2
    interval: 400w
  - name: fine
    command: echo fine
    interval: 400w
";

const PHONE: u32 = 390;

/// Saves the page when SPEEDRACK_SCREENSHOTS names a directory.
async fn screenshot(client: &Client, name: &str) -> Result<(), String> {
    let Some(dir) = std::env::var_os("SPEEDRACK_SCREENSHOTS") else {
        return Ok(());
    };
    let png = client.screenshot().await.map_err(|e| e.to_string())?;
    let path = std::path::Path::new(&dir).join(format!("{name}.png"));
    std::fs::write(&path, png).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Opens `url`, and fails if the document is wider than the window.
async fn fits(client: &Client, url: &str, name: &str, width: u32) -> Result<(), String> {
    client
        .goto(url)
        .await
        .map_err(|e| format!("opening {url}: {e}"))?;
    wait_for(client, "main").await?;
    let sizes = script(
        client,
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
    )
    .await?;
    let (scroll, client_width) = (sizes[0].as_u64(), sizes[1].as_u64());
    screenshot(client, &format!("{name}-{width}")).await?;
    match (scroll, client_width) {
        (Some(scroll), Some(inner)) if scroll <= inner => Ok(()),
        _ => Err(format!("{name} scrolls sideways at {width} px: {sizes}")),
    }
}

async fn resize(client: &Client, width: u32) -> Result<(), String> {
    client
        .set_window_size(width, 900)
        .await
        .map_err(|e| format!("resizing to {width}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_scrolls_sideways_at_390_px_and_the_list_is_cards() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let daemon = Daemon::start(LONG);
    let long = "a_task_with_a_very_long_name_that_has_no_spaces_in_it_anywhere_at_all";
    let run = daemon
        .run_now_and_wait(&mut daemon.watch().await, long)
        .await;
    let gateway = Gateway::start(&daemon.socket()).await;
    let pages = [
        ("list", gateway.url("/")),
        ("task", gateway.url(&format!("/tasks/{long}"))),
        (
            "run",
            gateway.url(&format!("/tasks/{long}/runs/{}", run.id)),
        ),
        ("config", gateway.url("/config")),
        ("help", gateway.url("/help")),
        ("nodes", gateway.url("/nodes")),
    ];
    browser
        .check("phone", |client| async move {
            resize(&client, PHONE).await?;
            let inner = script(&client, "return window.innerWidth;").await?;
            if inner.as_u64().is_none_or(|width| width > u64::from(PHONE)) {
                return Err(format!("the window is not a phone's: {inner}"));
            }
            for (name, url) in &pages {
                fits(&client, url, name, PHONE).await?;
            }
            // The list as cards: the row is a grid, the secondary columns are gone, and the
            // status, the last run and Run Now are on the card.
            fits(&client, &pages[0].1, "list", PHONE).await?;
            // The list fetches its live part again once its event stream opens: look at the
            // cards after that, not at ones about to be swapped out.
            wait_for(&client, "#live[data-refreshed]").await?;
            let card = format!("tr[data-task='{long}']");
            let display = script(
                &client,
                &format!("return getComputedStyle(document.querySelector(\"{card}\")).display;"),
            )
            .await?;
            if display != "grid" {
                return Err(format!("the row is not a card: display {display}"));
            }
            for part in [
                ".sr-status",
                "a[data-last-run]",
                "button[data-action='run']",
            ] {
                let shown = wait_for(&client, &format!("{card} {part}"))
                    .await?
                    .is_displayed()
                    .await
                    .map_err(|e| e.to_string())?;
                if !shown {
                    return Err(format!("the card does not show {part}"));
                }
            }
            let hidden = wait_for(&client, &format!("{card} td.sr-c-opt"))
                .await?
                .is_displayed()
                .await
                .map_err(|e| e.to_string())?;
            if hidden {
                return Err("the card shows the secondary columns".to_owned());
            }
            resize(&client, 1400).await?;
            for (name, url) in &pages {
                fits(&client, url, name, 1400).await?;
            }
            Ok(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_title_the_favicon_and_a_filter_follow_live_changes() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let daemon = Daemon::start(
        "tasks:
  - name: fine
    command: echo fine
    interval: 400w
  - name: first
    command: exit 1
    interval: 400w
  - name: second
    command: exit 2
    interval: 400w
",
    );
    daemon
        .run_now_and_wait(&mut daemon.watch().await, "fine")
        .await;
    let gateway = Gateway::start(&daemon.socket()).await;
    let home = gateway.url("/");
    browser
        .check("live_triage", |client| async move {
            client.goto(&home).await.map_err(|e| e.to_string())?;
            wait_for(&client, "#live[data-refreshed]").await?;
            script(&client, "window.srMarker = 'same page';").await?;
            wait_for(&client, "head link#sr-icon[href$='/favicon/ok.svg']").await?;

            daemon.ctl().ok(&["run-now", "first"]);
            wait_for(&client, "a[data-filter='failing'][data-count='1']").await?;
            wait_for(&client, "head link#sr-icon[href$='/favicon/failing.svg']").await?;
            let title = client.title().await.map_err(|e| e.to_string())?;
            if title != "1 failing · Speedrack" {
                return Err(format!("the title did not follow: {title:?}"));
            }

            wait_for(&client, "a[data-filter='failing']")
                .await?
                .click()
                .await
                .map_err(|e| e.to_string())?;
            wait_for(&client, "a[data-filter='failing'][aria-current='true']").await?;
            wait_for(&client, "#live[data-refreshed]").await?;
            if client
                .find(Locator::Css("tr[data-task='fine']"))
                .await
                .is_ok()
            {
                return Err("the filter shows a task that is fine".to_owned());
            }
            script(&client, "window.srMarker = 'same page';").await?;
            daemon.ctl().ok(&["run-now", "second"]);
            // The filtered list fetches itself again, filter and all: the new failure joins it.
            wait_for(&client, "tr[data-task='second'][data-status='failure']").await?;
            wait_for(
                &client,
                "a[data-filter='failing'][data-count='2'][aria-current='true']",
            )
            .await?;
            if client
                .find(Locator::Css("tr[data-task='fine']"))
                .await
                .is_ok()
            {
                return Err("the refresh lost the filter".to_owned());
            }
            let marker = script(&client, "return String(window.srMarker);").await?;
            if marker != "same page" {
                return Err("the page was reloaded instead of updated".to_owned());
            }
            Ok(())
        })
        .await;
}
