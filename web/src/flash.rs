//! Flash messages: one line for the page after an action (post, redirect, get).
//!
//! Kept in a short-lived cookie rather than on the server, so the gateway stays stateless. A
//! page that shows the message deletes the cookie in the same response (the middleware here);
//! the message is plain text, escaped when shown like all data.

use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;

use crate::cookies;

/// How a message is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashKind {
    Success,
    Info,
    Danger,
}

impl FlashKind {
    fn code(self) -> char {
        match self {
            FlashKind::Success => 's',
            FlashKind::Info => 'i',
            FlashKind::Danger => 'd',
        }
    }

    /// The Bootstrap alert class.
    pub fn class(self) -> &'static str {
        match self {
            FlashKind::Success => "alert-success",
            FlashKind::Info => "alert-info",
            FlashKind::Danger => "alert-danger",
        }
    }
}

/// A message for the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub kind: FlashKind,
    pub message: String,
}

/// Messages longer than this are cut, to keep the cookie well under browsers' limits.
const MAX_CHARS: usize = 1000;

impl Flash {
    pub fn new(kind: FlashKind, message: impl Into<String>) -> Flash {
        let message: String = message.into();
        Flash {
            kind,
            message: message.chars().take(MAX_CHARS).collect(),
        }
    }

    /// The Set-Cookie value that carries this message to the next page.
    pub fn cookie(&self, path: &str) -> String {
        let value = format!("{}{}", self.kind.code(), self.message);
        cookies::set(cookies::FLASH, &value, path, cookies::Lifetime::Session)
    }

    /// The message waiting in the request's cookies, if any.
    pub fn from_headers(headers: &HeaderMap) -> Option<Flash> {
        let raw = crate::urls::decode(cookies::get(headers, cookies::FLASH)?, false)?;
        let mut chars = raw.chars();
        let kind = match chars.next()? {
            's' => FlashKind::Success,
            'i' => FlashKind::Info,
            'd' => FlashKind::Danger,
            _ => return None,
        };
        let message = chars.as_str();
        (!message.is_empty()).then(|| Flash::new(kind, message))
    }
}

/// Whether a request is htmx refreshing part of a page (which does not show the flash).
pub fn is_partial(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// Deletes the flash cookie once an HTML page (which shows it) answers a full GET.
pub async fn clear_after_show(
    State(state): State<crate::state::AppState>,
    request: Request,
    next: Next,
) -> Response {
    let pending = request.method() == Method::GET
        && !is_partial(request.headers())
        && cookies::get(request.headers(), cookies::FLASH).is_some();
    let mut response = next.run(request).await;
    // After the handler, which has just asked the daemon for the prefix.
    let path = state.urls().cookie_path();
    let is_page = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if pending && is_page {
        let clear = cookies::set(cookies::FLASH, "", &path, cookies::Lifetime::Expired);
        if let Ok(value) = HeaderValue::from_str(&clear) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::COOKIE;

    #[test]
    fn a_flash_survives_the_cookie() {
        let flash = Flash::new(FlashKind::Danger, "could not; <b>really</b> = 100%");
        let set = flash.cookie("/");
        let pair = set.split(';').next().expect("name=value");
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(pair).expect("header"));
        assert_eq!(Flash::from_headers(&headers), Some(flash));
    }

    #[test]
    fn garbage_is_no_flash() {
        let mut headers = HeaderMap::new();
        for value in [
            "speedrack_flash=xhello",
            "speedrack_flash=s",
            "speedrack_flash=%zz",
        ] {
            headers.insert(COOKIE, HeaderValue::from_static(value));
            assert_eq!(Flash::from_headers(&headers), None, "{value}");
        }
    }
}
