//! The request edge: everything a page needs to know about this request, gathered once.
//!
//! This is the only place the gateway reads the clock; views take `now` from here.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};

use crate::auth::SignedIn;
use crate::cookies;
use crate::csrf::CsrfToken;
use crate::display::Display;
use crate::flash::{Flash, is_partial};
use crate::identity;
use crate::state::AppState;
use crate::urls::Urls;
use crate::views::layout::Chrome;
use crate::views::time::Zone;

/// The request as the pages see it.
pub struct Ctx {
    pub chrome: Chrome,
    pub display: Display,
    /// The "hide inactive tasks" preference.
    pub hide_inactive: bool,
}

/// The wall clock, read once per request.
#[allow(
    clippy::disallowed_methods,
    reason = "the request edge: the one place the gateway reads the clock"
)]
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Ctx, Infallible> {
        let (display, error) = state.display().await;
        let headers = &parts.headers;
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
        let chrome = Chrome {
            app_name: display.app_name.clone(),
            urls: Urls::new(&display.script_name),
            user: identity::current_user(headers, &parts.extensions),
            signed_in: parts.extensions.get::<SignedIn>().is_some(),
            csrf: parts
                .extensions
                .get::<CsrfToken>()
                .map(|token| token.0.clone())
                .unwrap_or_default(),
            // An htmx refresh shows only part of the page, never the flash.
            flash: (!is_partial(headers))
                .then(|| Flash::from_headers(headers))
                .flatten(),
            unreachable: error.and_then(|error| error.unreachable_socket().map(str::to_owned)),
            now: now(),
            here,
            refreshed: is_partial(headers),
            zone: Zone::parse(cookies::get(headers, cookies::ZONE)),
            // The pages that show runs ask the daemon (`routes::show_nodes`).
            nodes: false,
        };
        Ok(Ctx {
            chrome,
            display,
            hide_inactive: cookies::get(headers, cookies::HIDE_INACTIVE) == Some("1"),
        })
    }
}
