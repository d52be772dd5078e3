//! The page shell: head with the vendored assets, navbar with "you are", the flash message, the
//! unreachable-daemon banner, and the live region that htmx refreshes on server-sent events.

use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

use crate::flash::Flash;
use crate::urls::Urls;
use crate::views::favicon::Icon;
use crate::views::forms;
use crate::views::time::{Zone, rfc3339};

/// What the shell of every page needs to know about the request.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub app_name: String,
    pub urls: Urls,
    /// Who the user is: the signed-in user, or else who they said they are.
    pub user: Option<String>,
    /// `user` is the signed-in user (authentication is on), so the "you are" box cannot
    /// change who actions are recorded as and is not offered.
    pub signed_in: bool,
    /// This browser's CSRF token, put into every form; empty on pages that offer no forms.
    pub csrf: String,
    pub flash: Option<Flash>,
    /// The daemon's socket, when it could not be reached.
    pub unreachable: Option<String>,
    pub now: DateTime<Utc>,
    /// This request's path and query as routed (without the prefix).
    pub here: String,
    /// True when htmx is refreshing the live region (it marks the region `data-refreshed`, so
    /// tests and scripts can tell that the page is connected and up to date).
    pub refreshed: bool,
    /// The zone this browser wants absolute times in.
    pub zone: Zone,
    /// Runs name the node that ran them: set by the pages that show runs when the daemon's
    /// store is shared by several nodes, so that a single node's pages stay as they are.
    pub nodes: bool,
}

/// Which navbar entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Tasks,
    Nodes,
    Config,
    Help,
    Other,
}

/// One page's content.
pub struct Page<'a> {
    pub nav: Nav,
    pub title: &'a str,
    /// Where live events come from (SSE), for pages that update by themselves.
    pub events: Option<String>,
    /// The part that is fetched again whenever an event says something changed.
    pub live: Markup,
    /// The part that stays as it is (tabs the user opened, forms being typed into).
    pub rest: Markup,
}

/// htmx settings: no eval, no injected styles (the CSP forbids both), and a 503 page is swapped
/// in like a 200, so that the unreachable banner appears when the daemon goes away.
const HTMX_CONFIG: &str = r#"{"allowEval":false,"includeIndicatorStyles":false,"historyCacheSize":0,"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"503","swap":true},{"code":"[45]..","swap":false,"error":true}]}"#;

pub fn render(chrome: &Chrome, page: Page<'_>) -> Markup {
    render_with_icon(chrome, page, Icon::Plain)
}

/// `render`, with the favicon of a page that knows the state of every task (the tasks list).
pub fn render_with_icon(chrome: &Chrome, page: Page<'_>, icon: Icon) -> Markup {
    let urls = &chrome.urls;
    html! {
        (DOCTYPE)
        html lang="en" data-now=(rfc3339(chrome.now)) data-times=(chrome.zone.slug()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="htmx-config" content=(HTMX_CONFIG);
                title { (page.title) " · " (chrome.app_name) }
                link #sr-icon rel="icon" type="image/svg+xml" href=(urls.favicon(icon));
                link rel="stylesheet" href=(urls.asset("bootstrap.min.css"));
                link rel="stylesheet" href=(urls.asset("speedrack.css"));
                script src=(urls.asset("htmx.min.js")) defer {}
                // Before sse.min.js, which takes its EventSources from speedrack.js.
                script src=(urls.asset("speedrack-worker.js")) defer {}
                script src=(urls.asset("speedrack.js")) defer
                    data-worker=(urls.asset("speedrack-worker.js")) data-live=(urls.live()) {}
                script src=(urls.asset("sse.min.js")) defer {}
                script src=(urls.asset("bootstrap.min.js")) defer {}
            }
            body hx-ext="sse" {
                (navbar(chrome, page.nav))
                main.container-fluid.py-3 {
                    @if let Some(flash) = &chrome.flash {
                        div class={ "alert " (flash.kind.class()) } role="alert" data-flash {
                            (flash.message)
                        }
                    }
                    (live_region(chrome, page.events.as_deref(), page.live, page.rest))
                }
            }
        }
    }
}

/// "Tasks › TASK › here", for the pages below a task.
pub fn task_breadcrumb(urls: &crate::urls::Urls, task: &str, here: Markup) -> Markup {
    html! {
        nav aria-label="breadcrumb" {
            ol.breadcrumb {
                li.breadcrumb-item { a href=(urls.tasks()) { "Tasks" } }
                li.breadcrumb-item { a href=(urls.task(task)) { (task) } }
                li.breadcrumb-item.active aria-current="page" { (here) }
            }
        }
    }
}

fn live_region(chrome: &Chrome, events: Option<&str>, content: Markup, rest: Markup) -> Markup {
    let inner = html! {
        @if let Some(socket) = &chrome.unreachable {
            div.alert.alert-danger role="alert" data-unreachable {
                "speedrackd is unreachable at " (socket)
                ". This page shows what it can and updates once the daemon is back."
            }
        }
        (content)
    };
    match events {
        // The source stays connected while the regions inside it are swapped; the rest of the
        // page may listen to it too (the task page's newest run, for `started`).
        Some(events) => html! {
            div sse-connect=(events) {
                div #live hx-get=(chrome.urls.path(&chrome.here)) hx-select="#live"
                    hx-swap="outerHTML" hx-trigger="sse:changed delay:150ms"
                    data-refreshed[chrome.refreshed] {
                    (inner)
                }
                (rest)
            }
        },
        None => html! { div #live { (inner) } (rest) },
    }
}

fn navbar(chrome: &Chrome, current: Nav) -> Markup {
    let urls = &chrome.urls;
    let entries = [
        (Nav::Tasks, urls.tasks(), "Tasks"),
        (Nav::Nodes, urls.nodes(), "Nodes"),
        (Nav::Config, urls.config(), "Config"),
        (Nav::Help, urls.help(), "Help"),
    ];
    html! {
        nav.navbar.navbar-expand.bg-dark.flex-wrap data-bs-theme="dark" {
            div.container-fluid.flex-wrap.gap-2 {
                a.navbar-brand href=(urls.tasks()) { (chrome.app_name) }
                ul.navbar-nav.me-auto {
                    @for (nav, href, text) in entries {
                        li.nav-item {
                            @if nav == current {
                                a.nav-link.active aria-current="page" href=(href) { (text) }
                            } @else {
                                a.nav-link href=(href) { (text) }
                            }
                        }
                    }
                }
                @if !chrome.csrf.is_empty() {
                    (zone_switch(chrome))
                    @if chrome.signed_in {
                        span.navbar-text.small.text-nowrap data-signed-in {
                            "signed in as " (chrome.user.as_deref().unwrap_or_default())
                        }
                    } @else {
                        form.d-flex.align-items-center.gap-2 method="post" action=(urls.you()) {
                            (forms::hidden(chrome, Some(&chrome.here)))
                            label.navbar-text.small.text-nowrap for="sr-you" { "you are" }
                            input #sr-you.form-control.form-control-sm.sr-you type="text" name="name"
                                maxlength=(crate::identity::MAX_NAME_CHARS) placeholder="your name"
                                value=(chrome.user.as_deref().unwrap_or_default());
                            button.btn.btn-sm.btn-outline-light type="submit" { "Set" }
                        }
                    }
                }
            }
        }
    }
}

/// The UTC/local switch: a form, so that it works without scripts too (the choice is a cookie;
/// the server writes UTC either way, the page's script shows local times).
fn zone_switch(chrome: &Chrome) -> Markup {
    let zone = chrome.zone;
    html! {
        form.d-flex.align-items-center method="post" action=(chrome.urls.times()) {
            (forms::hidden(chrome, Some(&chrome.here)))
            input type="hidden" name="zone" value=(zone.other().slug());
            button.btn.btn-sm.btn-outline-light.text-nowrap type="submit" data-zone=(zone.slug())
                title={ "Times are shown in " (zone.label()) "; show them in " (zone.other().label()) } {
                "Times: " (zone.label())
            }
        }
    }
}

#[cfg(test)]
pub mod tests {
    use expect_test::expect;

    use super::*;
    use crate::flash::FlashKind;
    use crate::views::snapshot::check;

    /// A chrome for view tests.
    pub fn chrome(prefix: &str) -> Chrome {
        Chrome {
            app_name: "Speedrack".to_owned(),
            urls: Urls::new(prefix),
            user: Some("ann".to_owned()),
            signed_in: false,
            csrf: "t0k3n".to_owned(),
            flash: None,
            unreachable: None,
            now: DateTime::from_timestamp(1_000_000, 0).expect("in range"),
            here: "/tasks/x".to_owned(),
            refreshed: false,
            zone: Zone::Utc,
            nodes: false,
        }
    }

    /// The instant `seconds` before the test chrome's `now` (after it, when negative).
    pub fn ago(seconds: i64) -> prost_types::Timestamp {
        prost_types::Timestamp {
            seconds: chrome("").now.timestamp() - seconds,
            nanos: 0,
        }
    }

    fn page(events: Option<String>) -> Page<'static> {
        Page {
            nav: Nav::Tasks,
            title: "Tasks",
            events,
            live: html! { p { "live" } },
            rest: html! { p { "rest" } },
        }
    }

    #[test]
    fn data_in_the_shell_is_escaped() {
        let mut chrome = chrome("");
        chrome.app_name = "<script>alert(1)</script>".to_owned();
        chrome.user = Some("\"><script>".to_owned());
        chrome.flash = Some(Flash::new(FlashKind::Info, "<b>hi</b>"));
        let html = render(&chrome, page(None)).into_string();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("\"><script>"), "{html}");
        assert!(html.contains("&lt;b&gt;hi&lt;/b&gt;"), "{html}");
    }

    #[test]
    fn a_signed_in_user_is_named_and_offered_no_you_are_box() {
        let mut chrome = chrome("");
        let anonymous = render(&chrome, page(None)).into_string();
        assert!(anonymous.contains(r#"action="/you""#), "{anonymous}");
        chrome.user = Some("alice".to_owned());
        chrome.signed_in = true;
        let html = render(&chrome, page(None)).into_string();
        assert!(!html.contains(r#"action="/you""#), "{html}");
        assert!(!html.contains("you are"), "{html}");
        assert!(html.contains("signed in as alice"), "{html}");
    }

    #[test]
    fn the_banner_names_the_socket() {
        let mut chrome = chrome("");
        chrome.unreachable = Some("/run/x.sock".to_owned());
        let html = render(&chrome, page(None)).into_string();
        assert!(
            html.contains("speedrackd is unreachable at /run/x.sock"),
            "{html}"
        );
    }

    #[test]
    fn a_live_page_refreshes_itself_from_events() {
        let chrome = chrome("/sr");
        let html = render(&chrome, page(Some(chrome.urls.events(None)))).into_string();
        assert!(html.contains(r#"sse-connect="/sr/events""#), "{html}");
        assert!(html.contains(r#"hx-get="/sr/tasks/x""#), "{html}");
        assert!(
            html.contains(r#"href="/sr/assets/bootstrap.min."#) && !html.contains("?v="),
            "{html}"
        );
    }

    /// `markup` with each asset's content hash written `HASH`, so that the shell's snapshot
    /// holds when an asset is edited.
    fn unhashed(markup: Markup) -> Markup {
        let assets = [
            "bootstrap.min.css",
            "speedrack.css",
            "htmx.min.js",
            "speedrack-worker.js",
            "speedrack.js",
            "sse.min.js",
            "bootstrap.min.js",
        ];
        let mut html = markup.into_string();
        for asset in assets {
            let (stem, extension) = asset.rsplit_once('.').expect("a file name");
            let hashed = crate::assets::versioned_path(asset);
            assert_ne!(hashed, format!("/assets/{asset}"), "{asset} is vendored");
            html = html.replace(&hashed, &format!("/assets/{stem}.HASH.{extension}"));
        }
        maud::PreEscaped(html)
    }

    #[test]
    fn a_live_page_has_the_shell_the_flash_and_a_region_refreshed_by_events() {
        let mut chrome = chrome("/sr");
        chrome.here = "/".to_owned();
        chrome.flash = Some(Flash::new(
            FlashKind::Success,
            "Reloaded: 3 tasks & 1 conf error",
        ));
        let events = chrome.urls.events(None);
        check(
            &unhashed(render(&chrome, page(Some(events)))),
            expect![[r##"
                <!DOCTYPE html>
                <html lang="en" data-now="1970-01-12T13:46:40Z" data-times="utc">
                <head>
                <meta charset="utf-8">
                <meta name="viewport" content="width=device-width, initial-scale=1">
                <meta name="htmx-config" content="{&quot;allowEval&quot;:false,&quot;includeIndicatorStyles&quot;:false,&quot;historyCacheSize&quot;:0,&quot;responseHandling&quot;:[{&quot;code&quot;:&quot;204&quot;,&quot;swap&quot;:false},{&quot;code&quot;:&quot;[23]..&quot;,&quot;swap&quot;:true},{&quot;code&quot;:&quot;503&quot;,&quot;swap&quot;:true},{&quot;code&quot;:&quot;[45]..&quot;,&quot;swap&quot;:false,&quot;error&quot;:true}]}">
                <title>Tasks · Speedrack</title>
                <link id="sr-icon" rel="icon" type="image/svg+xml" href="/sr/favicon/plain.svg">
                <link rel="stylesheet" href="/sr/assets/bootstrap.min.HASH.css">
                <link rel="stylesheet" href="/sr/assets/speedrack.HASH.css">
                <script src="/sr/assets/htmx.min.HASH.js" defer>
                </script>
                <script src="/sr/assets/speedrack-worker.HASH.js" defer>
                </script>
                <script src="/sr/assets/speedrack.HASH.js" defer data-worker="/sr/assets/speedrack-worker.HASH.js" data-live="/sr/live">
                </script>
                <script src="/sr/assets/sse.min.HASH.js" defer>
                </script>
                <script src="/sr/assets/bootstrap.min.HASH.js" defer>
                </script>
                </head>
                <body hx-ext="sse">
                <nav class="navbar navbar-expand bg-dark flex-wrap" data-bs-theme="dark">
                <div class="container-fluid flex-wrap gap-2">
                <a class="navbar-brand" href="/sr/">Speedrack</a>
                <ul class="navbar-nav me-auto">
                <li class="nav-item">
                <a class="nav-link active" aria-current="page" href="/sr/">Tasks</a>
                </li>
                <li class="nav-item">
                <a class="nav-link" href="/sr/nodes">Nodes</a>
                </li>
                <li class="nav-item">
                <a class="nav-link" href="/sr/config">Config</a>
                </li>
                <li class="nav-item">
                <a class="nav-link" href="/sr/help">Help</a>
                </li>
                </ul>
                <form class="d-flex align-items-center" method="post" action="/sr/prefs/times">
                <input type="hidden" name="csrf" value="t0k3n">
                <input type="hidden" name="back" value="/">
                <input type="hidden" name="zone" value="local">
                <button class="btn btn-sm btn-outline-light text-nowrap" type="submit" data-zone="utc" title="Times are shown in UTC; show them in local time">Times: UTC</button>
                </form>
                <form class="d-flex align-items-center gap-2" method="post" action="/sr/you">
                <input type="hidden" name="csrf" value="t0k3n">
                <input type="hidden" name="back" value="/">
                <label class="navbar-text small text-nowrap" for="sr-you">you are</label>
                <input class="form-control form-control-sm sr-you" id="sr-you" type="text" name="name" maxlength="64" placeholder="your name" value="ann">
                <button class="btn btn-sm btn-outline-light" type="submit">Set</button>
                </form>
                </div>
                </nav>
                <main class="container-fluid py-3">
                <div class="alert alert-success" role="alert" data-flash>Reloaded: 3 tasks &amp; 1 conf error</div>
                <div sse-connect="/sr/events">
                <div id="live" hx-get="/sr/" hx-select="#live" hx-swap="outerHTML" hx-trigger="sse:changed delay:150ms">
                <p>live</p>
                </div>
                <p>rest</p>
                </div>
                </main>
                </body>
                </html>
            "##]],
        );
    }

    #[test]
    fn a_breadcrumb_leads_from_the_tasks_through_the_task_to_here() {
        check(
            &task_breadcrumb(&Urls::new(""), "db-dump", html! { "run " (7) }),
            expect![[r#"
                <nav aria-label="breadcrumb">
                <ol class="breadcrumb">
                <li class="breadcrumb-item">
                <a href="/">Tasks</a>
                </li>
                <li class="breadcrumb-item">
                <a href="/tasks/db-dump">db-dump</a>
                </li>
                <li class="breadcrumb-item active" aria-current="page">run 7</li>
                </ol>
                </nav>
            "#]],
        );
    }
}
