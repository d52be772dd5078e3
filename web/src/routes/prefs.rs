//! POST /you ("you are", the attribution name), POST /prefs/inactive (hide inactive tasks) and
//! POST /prefs/times (UTC or local times): preferences kept in cookies of this browser.

use axum::Form;
use axum::http::HeaderValue;
use axum::http::header::SET_COOKIE;
use axum::response::Response;
use serde::Deserialize;

use super::see_other;
use crate::context::Ctx;
use crate::cookies::{self, Lifetime};
use crate::flash::{Flash, FlashKind};
use crate::identity::clean_name;
use crate::urls::local_path;
use crate::views::time::Zone;

#[derive(Debug, Deserialize)]
pub struct UserForm {
    #[serde(default)]
    name: String,
    back: Option<String>,
}

pub async fn set_user(ctx: Ctx, Form(form): Form<UserForm>) -> Response {
    let back = form.back.as_deref().and_then(local_path).unwrap_or("/");
    if ctx.chrome.signed_in {
        // The name would show in the page but never reach history: actions go on record
        // under the signed-in user, and a cookie must not pretend otherwise.
        let user = ctx.chrome.user.as_deref().unwrap_or_default();
        let flash = Flash::new(
            FlashKind::Danger,
            format!(
                "You are signed in as {user}: actions you take are recorded under that name, \
                 and the \"you are\" name cannot change it. Sign in as another user instead."
            ),
        );
        return see_other(&ctx, back, Some(&flash));
    }
    let name = clean_name(&form.name);
    let (value, lifetime, message) = match &name {
        Some(name) => (
            name.as_str(),
            Lifetime::Year,
            format!("You are {name}: actions you take are recorded under this name."),
        ),
        None => (
            "",
            Lifetime::Expired,
            "You are nobody in particular: actions are recorded as the daemon's user.".to_owned(),
        ),
    };
    let flash = Flash::new(FlashKind::Info, message);
    with_cookie(
        see_other(&ctx, back, Some(&flash)),
        &ctx,
        cookies::USER,
        value,
        lifetime,
    )
}

#[derive(Debug, Deserialize)]
pub struct HideForm {
    #[serde(default)]
    hide: String,
}

pub async fn set_hide_inactive(ctx: Ctx, Form(form): Form<HideForm>) -> Response {
    let (value, lifetime) = if form.hide == "1" {
        ("1", Lifetime::Year)
    } else {
        ("", Lifetime::Expired)
    };
    with_cookie(
        see_other(&ctx, "/", None),
        &ctx,
        cookies::HIDE_INACTIVE,
        value,
        lifetime,
    )
}

#[derive(Debug, Deserialize)]
pub struct ZoneForm {
    #[serde(default)]
    zone: String,
    back: Option<String>,
}

/// Back where the switch was, with times in the zone asked for (UTC is the default: no cookie).
pub async fn set_zone(ctx: Ctx, Form(form): Form<ZoneForm>) -> Response {
    let (value, lifetime) = match Zone::parse(Some(&form.zone)) {
        Zone::Local => (Zone::Local.slug(), Lifetime::Year),
        Zone::Utc => ("", Lifetime::Expired),
    };
    let back = form.back.as_deref().and_then(local_path).unwrap_or("/");
    with_cookie(
        see_other(&ctx, back, None),
        &ctx,
        cookies::ZONE,
        value,
        lifetime,
    )
}

fn with_cookie(
    mut response: Response,
    ctx: &Ctx,
    name: &str,
    value: &str,
    lifetime: Lifetime,
) -> Response {
    let cookie = cookies::set(name, value, &ctx.chrome.urls.cookie_path(), lifetime);
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use axum::http::header::LOCATION;

    use super::*;
    use crate::display::Display;
    use crate::views::layout::tests::chrome;

    fn ctx(signed_in: bool) -> Ctx {
        let mut chrome = chrome("");
        chrome.user = Some("alice".to_owned());
        chrome.signed_in = signed_in;
        Ctx {
            chrome,
            display: Display::default(),
            hide_inactive: false,
        }
    }

    fn form(name: &str) -> Form<UserForm> {
        Form(UserForm {
            name: name.to_owned(),
            back: Some("/tasks/x".to_owned()),
        })
    }

    fn set_cookies(response: &Response) -> Vec<String> {
        response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .collect()
    }

    #[tokio::test]
    async fn without_sign_in_the_name_is_kept_in_a_cookie() {
        let response = set_user(ctx(false), form("bob")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let cookies = set_cookies(&response);
        assert!(
            cookies
                .iter()
                .any(|cookie| cookie.starts_with(&format!("{}=bob;", cookies::USER))),
            "{cookies:?}"
        );
    }

    #[tokio::test]
    async fn a_signed_in_user_cannot_claim_another_name() {
        let response = set_user(ctx(true), form("bob")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            response.headers().get(LOCATION).map(HeaderValue::as_bytes),
            Some(&b"/tasks/x"[..])
        );
        let cookies = set_cookies(&response);
        assert!(
            !cookies
                .iter()
                .any(|cookie| cookie.starts_with(&format!("{}=", cookies::USER))),
            "no attribution cookie: {cookies:?}"
        );
        let flash = cookies
            .iter()
            .find(|cookie| cookie.starts_with(&format!("{}=", cookies::FLASH)))
            .expect("a flash says why");
        let flash = crate::urls::decode(flash, false).expect("decodes");
        assert!(flash.contains("signed in as alice"), "{flash}");
        assert!(!flash.contains("You are bob"), "{flash}");
    }
}
