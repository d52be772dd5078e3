//! Cross-site request forgery protection for every state-changing request.
//!
//! Two independent guards on every POST (any method but GET/HEAD/OPTIONS):
//! - Origin: a request the browser marks `Sec-Fetch-Site` other than `same-origin` (or `none`,
//!   typed by the user) is refused; without that header, an `Origin` whose host is not the
//!   request's `Host` is refused.
//! - A signed token: each browser gets a random nonce in an HttpOnly, SameSite=Strict cookie;
//!   forms carry HMAC-SHA256(key, nonce, signed-in user) in a hidden `csrf` field, under a key
//!   only the gateway knows (`secret.rs`). A cookie planted by someone else (from a sibling
//!   domain, or a plain-HTTP man in the middle) is useless without a field signed for it, and
//!   a token signed for one user is worthless for another.
//!
//! GET never changes state, so it needs no token.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{HOST, ORIGIN, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;

use crate::auth::SignedIn;
use crate::cookies;
use crate::secret::{CsrfKey, hex};
use crate::state::AppState;

/// This browser's signed token, for forms (put into request extensions by [`protect`]).
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// The form field that carries the token.
pub const FIELD: &str = "csrf";

/// Form bodies larger than this are refused (ours are a few hundred bytes).
const MAX_FORM_BYTES: usize = 16 * 1024;

/// How long a client may take to send a form; a body trickled slower than this would hold a
/// connection for nothing.
const FORM_TIMEOUT: Duration = Duration::from_secs(10);

/// What the signature covers besides nonce and user, so that it means nothing elsewhere.
const PURPOSE: &[u8] = b"speedrack csrf v1";

fn new_nonce() -> String {
    hex(&rand::rng().random::<[u8; 32]>())
}

fn well_formed(nonce: &str) -> bool {
    nonce.len() == 64 && nonce.bytes().all(|b| b.is_ascii_hexdigit())
}

fn signed_message(nonce: &str, user: &str) -> Vec<u8> {
    [PURPOSE, b"\0", nonce.as_bytes(), b"\0", user.as_bytes()].concat()
}

/// The token a form carries for this browser's `nonce` and this `user` ("" when nobody signs in).
fn token(key: &CsrfKey, nonce: &str, user: &str) -> String {
    hex(&key.sign(&signed_message(nonce, user)))
}

/// Whether `sent` is the token for `nonce` and `user`.
fn genuine(key: &CsrfKey, nonce: &str, user: &str, sent: &str) -> bool {
    crate::secret::unhex(sent).is_some_and(|tag| key.verify(&signed_message(nonce, user), &tag))
}

/// Why a state-changing request comes from another site, if it does.
fn cross_origin(headers: &HeaderMap) -> Option<&'static str> {
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.as_bytes() {
            b"same-origin" | b"none" => None,
            _ => Some("the form was sent from another site"),
        };
    }
    // No Origin either: not a browser sending a form across sites (old browsers, scripts).
    let origin = headers.get(ORIGIN)?;
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .map(|(_, host)| host);
    let host = headers.get(HOST).and_then(|host| host.to_str().ok());
    match (origin_host, host) {
        (Some(origin), Some(host)) if origin.eq_ignore_ascii_case(host) => None,
        _ => Some("the form was sent from another origin"),
    }
}

/// The value of `name` in an `application/x-www-form-urlencoded` body.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    let body = std::str::from_utf8(body).ok()?;
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| crate::urls::decode(key, true).as_deref() == Some(name))
        .and_then(|(_, value)| crate::urls::decode(value, true))
}

/// Middleware: gives every browser a nonce and checks origin and token on every
/// state-changing request.
pub async fn protect(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let existing = cookies::get(request.headers(), cookies::CSRF)
        .filter(|nonce| well_formed(nonce))
        .map(str::to_owned);
    let fresh = existing.is_none();
    let nonce = existing.unwrap_or_else(new_nonce);
    let user = request
        .extensions()
        .get::<SignedIn>()
        .map(|SignedIn(user)| user.clone())
        .unwrap_or_default();
    let mut request = request;
    if !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        let expected = Expected {
            key: state.csrf_key(),
            nonce: &nonce,
            user: &user,
            fresh,
        };
        request = match checked(request, expected).await {
            Ok(request) => request,
            Err(reason) => return rejected(&state, reason),
        };
    }
    let signed = token(state.csrf_key(), &nonce, &user);
    request.extensions_mut().insert(CsrfToken(signed));
    let mut response = next.run(request).await;
    if fresh {
        let cookie = cookies::set(
            cookies::CSRF,
            &nonce,
            &state.urls().cookie_path(),
            cookies::Lifetime::Session,
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// What a genuine form of this browser carries.
struct Expected<'a> {
    key: &'a CsrfKey,
    nonce: &'a str,
    user: &'a str,
    /// The browser had no nonce: no form of ours can match.
    fresh: bool,
}

/// The request again (its body read and put back) when it is genuine; why not otherwise.
async fn checked(request: Request, expected: Expected<'_>) -> Result<Request, &'static str> {
    if let Some(reason) = cross_origin(request.headers()) {
        return Err(reason);
    }
    if expected.fresh {
        return Err("this browser has no CSRF cookie yet (cookies off, or it expired)");
    }
    let (parts, body) = request.into_parts();
    let bytes = tokio::time::timeout(FORM_TIMEOUT, axum::body::to_bytes(body, MAX_FORM_BYTES))
        .await
        .map_err(|_| "the form took too long to arrive")?
        .map_err(|_| "the form is too large")?;
    let sent = form_field(&bytes, FIELD).ok_or("the form has no CSRF token")?;
    if !genuine(expected.key, expected.nonce, expected.user, &sent) {
        return Err("the form's CSRF token is not this browser's");
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn rejected(state: &AppState, reason: &str) -> Response {
    let display = state.cached_display();
    let page = crate::views::error::bare(
        &display.app_name,
        &state.urls(),
        StatusCode::FORBIDDEN,
        &format!("{reason}: nothing was changed. Reload the page and try again."),
    );
    (StatusCode::FORBIDDEN, page).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_random_and_well_formed() {
        let (a, b) = (new_nonce(), new_nonce());
        assert!(well_formed(&a) && well_formed(&b));
        assert_ne!(a, b);
        assert!(!well_formed("abc"));
        assert!(!well_formed(&"g".repeat(64)));
    }

    #[test]
    fn only_a_token_signed_for_this_nonce_and_user_is_genuine() {
        let key = CsrfKey::random();
        let nonce = new_nonce();
        let signed = token(&key, &nonce, "alice");
        assert!(genuine(&key, &nonce, "alice", &signed));
        assert!(!genuine(&key, &nonce, "bob", &signed), "another user");
        assert!(
            !genuine(&key, &new_nonce(), "alice", &signed),
            "another browser"
        );
        assert!(
            !genuine(&CsrfKey::random(), &nonce, "alice", &signed),
            "another key"
        );
        assert!(!genuine(&key, &nonce, "alice", &nonce), "the nonce itself");
        assert!(!genuine(&key, &nonce, "alice", "zz"));
    }

    #[test]
    fn cross_origin_requests_are_recognised() {
        let with = |pairs: &[(&'static str, &'static str)]| {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers.insert(*name, HeaderValue::from_static(value));
            }
            cross_origin(&headers)
        };
        assert_eq!(with(&[]), None);
        assert_eq!(with(&[("sec-fetch-site", "same-origin")]), None);
        assert_eq!(with(&[("sec-fetch-site", "none")]), None);
        assert!(with(&[("sec-fetch-site", "cross-site")]).is_some());
        assert!(with(&[("sec-fetch-site", "same-site")]).is_some());
        assert_eq!(
            with(&[
                ("origin", "http://cron.example:8118"),
                ("host", "cron.example:8118")
            ]),
            None
        );
        assert_eq!(
            with(&[("origin", "https://Cron.Example"), ("host", "cron.example")]),
            None,
            "a TLS proxy in front: the host is what must match"
        );
        assert!(with(&[("origin", "http://evil.example"), ("host", "cron.example")]).is_some());
        assert!(with(&[("origin", "null"), ("host", "cron.example")]).is_some());
        assert!(with(&[("origin", "http://cron.example")]).is_some());
    }

    #[test]
    fn the_field_is_found_in_a_form_body() {
        let body = b"back=%2Ftasks%2Fx&csrf=00ff&name=a+b";
        assert_eq!(form_field(body, "csrf").as_deref(), Some("00ff"));
        assert_eq!(form_field(body, "name").as_deref(), Some("a b"));
        assert_eq!(form_field(body, "back").as_deref(), Some("/tasks/x"));
        assert_eq!(form_field(body, "nope"), None);
    }
}
