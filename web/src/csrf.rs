//! Cross-site request forgery protection for every state-changing request.
//!
//! Double-submit token: each browser gets a random 256-bit token in an HttpOnly, SameSite=Strict
//! cookie; every form carries the same token in a hidden `csrf` field; a POST (or any method
//! other than GET/HEAD/OPTIONS) is refused with 403 unless both are present and equal. A
//! request the browser marks `Sec-Fetch-Site: cross-site` is refused too. Another site can
//! neither read the cookie nor make the browser send it along (SameSite=Strict), so it cannot
//! forge the field. GET never changes state, so it needs no token.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;

use crate::cookies;
use crate::state::AppState;

/// This browser's token, for forms (put into request extensions by [`protect`]).
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// The form field that carries the token.
pub const FIELD: &str = "csrf";

/// Form bodies larger than this are refused (ours are a few hundred bytes).
const MAX_FORM_BYTES: usize = 16 * 1024;

fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Compares without stopping at the first difference, so timing tells nothing.
fn same(left: &str, right: &str) -> bool {
    left.len() == right.len()
        && left
            .bytes()
            .zip(right.bytes())
            .fold(0u8, |diff, (l, r)| diff | (l ^ r))
            == 0
}

/// The value of `name` in an `application/x-www-form-urlencoded` body.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    let body = std::str::from_utf8(body).ok()?;
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| crate::urls::decode(key, true).as_deref() == Some(name))
        .and_then(|(_, value)| crate::urls::decode(value, true))
}

/// Middleware: gives every browser a token and checks it on every state-changing request.
pub async fn protect(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let existing = cookies::get(request.headers(), cookies::CSRF)
        .filter(|token| well_formed(token))
        .map(str::to_owned);
    let fresh = existing.is_none();
    let token = existing.unwrap_or_else(new_token);
    let mut request = request;
    if !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        request = match checked(request, &token, fresh).await {
            Ok(request) => request,
            Err(reason) => return rejected(&state, reason),
        };
    }
    request.extensions_mut().insert(CsrfToken(token.clone()));
    let mut response = next.run(request).await;
    if fresh {
        let cookie = cookies::set(
            cookies::CSRF,
            &token,
            &state.urls().cookie_path(),
            cookies::Lifetime::Session,
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// The request again (its body read and put back) when its token is right; why not otherwise.
async fn checked(request: Request, token: &str, fresh: bool) -> Result<Request, &'static str> {
    let cross_site = request
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|site| site == "cross-site");
    if cross_site {
        return Err("the form was sent from another site");
    }
    if fresh {
        return Err("this browser has no CSRF cookie yet (cookies off, or it expired)");
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| "the form is too large")?;
    let sent = form_field(&bytes, FIELD).ok_or("the form has no CSRF token")?;
    if !same(&sent, token) {
        return Err("the form's CSRF token does not match this browser's");
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
    fn tokens_are_random_and_well_formed() {
        let (a, b) = (new_token(), new_token());
        assert!(well_formed(&a) && well_formed(&b));
        assert_ne!(a, b);
        assert!(!well_formed("abc"));
        assert!(!well_formed(&"g".repeat(64)));
    }

    #[test]
    fn comparison_needs_equal_tokens() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
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
