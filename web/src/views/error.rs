//! Error pages: a styled page with the status, the message and a way back.

use axum::http::StatusCode;
use chrono::DateTime;
use maud::{Markup, html};

use crate::urls::Urls;
use crate::views::layout::{Chrome, Nav, Page, render};

/// An error page inside the usual shell.
///
/// While the daemon is unreachable the message goes into the live region, wired to the event
/// stream: a live page that swaps it in keeps listening, and comes back by itself once the
/// daemon does.
pub fn page(chrome: &Chrome, status: StatusCode, message: &str) -> Markup {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = html! {
        div.py-4 data-error=(status.as_u16()) {
            h1.h3 { (status.as_u16()) " " (title) }
            p.lead { (message) }
            p { a href=(chrome.urls.tasks()) { "Back to the tasks" } }
        }
    };
    let unreachable = chrome.unreachable.is_some();
    render(
        chrome,
        Page {
            nav: Nav::Other,
            title,
            events: unreachable.then(|| chrome.urls.events(None)),
            live: if unreachable {
                body.clone()
            } else {
                html! {}
            },
            rest: if unreachable {
                html! {}
            } else {
                body
            },
        },
    )
}

/// An error page for code that has no request context (the CSRF middleware): no forms.
pub fn bare(app_name: &str, urls: &Urls, status: StatusCode, message: &str) -> Markup {
    let chrome = Chrome {
        app_name: app_name.to_owned(),
        urls: urls.clone(),
        user: None,
        signed_in: false,
        csrf: String::new(),
        flash: None,
        unreachable: None,
        now: DateTime::UNIX_EPOCH,
        here: "/".to_owned(),
        refreshed: false,
        zone: crate::views::time::Zone::Utc,
        nodes: false,
    };
    page(&chrome, status, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_is_shown_escaped() {
        let chrome = crate::views::layout::tests::chrome("");
        let html = page(&chrome, StatusCode::CONFLICT, "task <x> is already running").into_string();
        assert!(html.contains("409 Conflict"), "{html}");
        assert!(html.contains("task &lt;x&gt; is already running"), "{html}");
        assert!(!html.contains("sse-connect"), "{html}");
    }

    #[test]
    fn an_unreachable_daemon_keeps_the_page_listening() {
        let mut chrome = crate::views::layout::tests::chrome("");
        chrome.unreachable = Some("/s.sock".to_owned());
        let html = page(&chrome, StatusCode::SERVICE_UNAVAILABLE, "gone").into_string();
        assert!(html.contains(r#"hx-trigger="sse:changed"#), "{html}");
        assert!(
            html.contains("speedrackd is unreachable at /s.sock"),
            "{html}"
        );
    }
}
