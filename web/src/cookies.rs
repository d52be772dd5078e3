//! Reading the Cookie header and writing Set-Cookie values: the gateway's only storage.
//!
//! The gateway writes every cookie value itself, percent-encoded, so reading needs no quoting
//! rules. It knows nothing of what the cookies mean.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

/// The CSRF token (see `csrf.rs`).
pub const CSRF: &str = "speedrack_csrf";
/// "You are" (see `identity.rs`).
pub const USER: &str = "speedrack_user";
/// A message for the next page (see `flash.rs`).
pub const FLASH: &str = "speedrack_flash";
/// Whether the tasks page hides inactive tasks.
pub const HIDE_INACTIVE: &str = "speedrack_hide_inactive";
/// The zone absolute times are shown in (`views::time::Zone`).
pub const ZONE: &str = "speedrack_times";

/// The raw value of the first cookie called `name`.
pub fn get<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// How long a cookie lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Until the browser closes.
    Session,
    /// A year: preferences.
    Year,
    /// Delete it now.
    Expired,
}

/// A Set-Cookie value: HttpOnly and SameSite=Strict always, the value percent-encoded.
pub fn set(name: &str, value: &str, path: &str, lifetime: Lifetime) -> String {
    let max_age = match lifetime {
        Lifetime::Session => String::new(),
        Lifetime::Year => "; Max-Age=31536000".to_owned(),
        Lifetime::Expired => "; Max-Age=0".to_owned(),
    };
    format!(
        "{name}={}; Path={path}; HttpOnly; SameSite=Strict{max_age}",
        crate::urls::encode(value)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn finds_a_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("a=1; speedrack_user=al%20ice"),
        );
        headers.append(COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(get(&headers, USER), Some("al%20ice"));
        assert_eq!(get(&headers, "b"), Some("2"));
        assert_eq!(get(&headers, "c"), None);
    }

    #[test]
    fn set_cookie_values_are_encoded_and_strict() {
        assert_eq!(
            set(USER, "a b;c", "/sr", Lifetime::Year),
            "speedrack_user=a%20b%3Bc; Path=/sr; HttpOnly; SameSite=Strict; Max-Age=31536000"
        );
        assert!(set(FLASH, "", "/", Lifetime::Expired).ends_with("Max-Age=0"));
    }
}
