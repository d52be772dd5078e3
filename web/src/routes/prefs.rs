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
    let back = form.back.as_deref().and_then(local_path).unwrap_or("/");
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
