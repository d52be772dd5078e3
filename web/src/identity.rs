//! Who the user is: the one place that decides, so that real authentication (basic auth, a
//! proxy header) can later replace the attribution cookie here without touching any route.
//!
//! Today there is no authentication (seed Todo "no auth, just cookie for attribution"): the
//! name is whatever the browser says in the "you are" box. It is sent to the daemon as
//! `on_behalf_of` with every action and shows up in history as who asked or who killed.

use axum::http::{Extensions, HeaderMap};

use crate::auth::SignedIn;

use crate::cookies;

/// The longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// The user making this request: the signed-in one when authentication is on, else whoever
/// the browser says it is.
pub fn current_user(headers: &HeaderMap, extensions: &Extensions) -> Option<String> {
    if let Some(SignedIn(user)) = extensions.get::<SignedIn>() {
        return Some(user.clone());
    }
    let raw = cookies::get(headers, cookies::USER)?;
    let name = crate::urls::decode(raw, false)?;
    clean_name(&name)
}

/// A name as typed, made fit to show and record: trimmed, no control characters, not empty,
/// at most [`MAX_NAME_CHARS`]. `None` means "nobody" (the form was cleared or is unusable).
pub fn clean_name(typed: &str) -> Option<String> {
    let name: String = typed
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let name = name.trim().to_owned();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use axum::http::header::COOKIE;

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("  alice "), Some("alice".to_owned()));
        assert_eq!(clean_name("bo\nb\u{7}"), Some("bob".to_owned()));
        assert_eq!(clean_name("   "), None);
        assert_eq!(
            clean_name(&"x".repeat(100)).map(|name| name.chars().count()),
            Some(MAX_NAME_CHARS)
        );
    }

    #[test]
    fn the_user_comes_from_the_cookie() {
        let mut headers = HeaderMap::new();
        assert_eq!(current_user(&headers, &Extensions::new()), None);
        headers.insert(
            COOKIE,
            HeaderValue::from_static("speedrack_user=Ann%20%3Cb%3E"),
        );
        assert_eq!(
            current_user(&headers, &Extensions::new()),
            Some("Ann <b>".to_owned())
        );
    }
}
