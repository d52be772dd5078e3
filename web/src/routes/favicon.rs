//! GET /favicon/{STATE}.svg (the icon a page links, see `views/favicon.rs`) and GET /favicon.ico
//! (what browsers ask for on their own: the plain icon).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::views::favicon::Icon;

/// An icon's drawing never changes under its name: browsers may keep it for a day.
const CACHE: &str = "public, max-age=86400";

pub async fn icon(Path(file): Path<String>) -> Response {
    match Icon::parse(&file) {
        Some(icon) => svg(icon),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub async fn ico() -> Response {
    svg(Icon::Plain)
}

fn svg(icon: Icon) -> Response {
    (
        [(CONTENT_TYPE, "image/svg+xml"), (CACHE_CONTROL, CACHE)],
        icon.svg(),
    )
        .into_response()
}
