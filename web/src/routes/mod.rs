//! The URL map, the middleware around it, and the few response helpers every route uses.
//!
//! Requests are routed at the root whatever `script_name` says (seed semantics: a proxy strips
//! the prefix); only generated URLs carry it. GET routes never change state; every POST passes
//! the CSRF check in `csrf.rs` before reaching its handler.

mod actions;
mod config;
mod favicon;
mod help;
mod metrics;
mod nodes;
mod prefs;
mod run;
mod search;
mod task;
mod tasks;

use axum::Router;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, LOCATION, REFERRER_POLICY, SET_COOKIE, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::Markup;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::api::ApiError;
use crate::context::Ctx;
use crate::flash::Flash;
use crate::state::AppState;
use crate::views;

/// Scripts, styles and connections from this origin only; no inline code, no framing.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                   script-src 'self'; connect-src 'self'; frame-ancestors 'none'; \
                   base-uri 'none'; form-action 'self'";

/// The web UI's routes. Without authentication, only requests naming a loopback host or
/// `listen` are served (`loopback_host.rs`).
pub fn router(state: AppState, listen: Option<std::net::SocketAddr>) -> Router {
    let security = [
        (CONTENT_SECURITY_POLICY, CSP),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (X_FRAME_OPTIONS, "DENY"),
        (REFERRER_POLICY, "same-origin"),
    ];
    let mut router = Router::new()
        .route("/", get(tasks::page))
        .route("/tasks/{name}", get(task::page))
        .route("/tasks/{name}/runs", get(task::history))
        .route("/tasks/{name}/search", get(search::page))
        .route("/tasks/{name}/runs/{id}", get(run::page))
        .route("/tasks/{name}/runs/{id}/tail", get(crate::sse::tail))
        .route("/tasks/{name}/runs/{id}/{stream}", get(run::whole_file))
        .route("/tasks/{name}/{action}", post(actions::act))
        .route("/events", get(crate::sse::events))
        .route("/live", get(crate::sse::live))
        .route("/config", get(config::page))
        .route("/reload", post(config::reload))
        .route("/help", get(help::page))
        .route("/nodes", get(nodes::page))
        .route("/metrics", get(metrics::scrape))
        .route("/you", post(prefs::set_user))
        .route("/prefs/inactive", post(prefs::set_hide_inactive))
        .route("/prefs/times", post(prefs::set_zone))
        .route("/assets/{file}", get(crate::assets::serve))
        .route("/favicon.ico", get(favicon::ico))
        .route("/favicon/{file}", get(favicon::icon))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(
            state.clone(),
            crate::flash::clear_after_show,
        ))
        .layer(from_fn_with_state(state.clone(), crate::csrf::protect))
        .layer(from_fn_with_state(state.clone(), crate::auth::require))
        .layer(from_fn(log_errors));
    if matches!(state.auth(), crate::auth::Auth::None) {
        let hosts = crate::loopback_host::LoopbackHosts { listen };
        router = router.layer(from_fn_with_state(hosts, crate::loopback_host::require));
    }
    for (name, value) in security {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router.with_state(state)
}

/// `/metrics` alone, for the metrics listener: no pages, no sign-in (the handler asks for the
/// metrics token when there is one), the same security headers.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::scrape))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                "this address serves /metrics only; the web UI is on its own port\n",
            )
        })
        .layer(SetResponseHeaderLayer::if_not_present(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .with_state(state)
}

/// Server-side failures are worth a log line; the page already told the user.
async fn log_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if response.status().is_server_error() {
        tracing::warn!("{path}: {}", response.status());
    }
    response
}

/// A page with its status code.
pub fn html(status: StatusCode, page: Markup) -> Response {
    (status, page).into_response()
}

/// The styled error page for an API error (404, 409 with the daemon's message, 503, ...).
pub fn api_error(ctx: &Ctx, error: &ApiError) -> Response {
    let mut chrome = ctx.chrome.clone();
    if let Some(socket) = error.unreachable_socket() {
        chrome.unreachable = Some(socket.to_owned());
    }
    let status = error.http_status();
    html(
        status,
        views::error::page(&chrome, status, &error.to_string()),
    )
}

/// The styled 404.
pub fn not_found_page(ctx: &Ctx, what: &str) -> Response {
    let status = StatusCode::NOT_FOUND;
    html(status, views::error::page(&ctx.chrome, status, what))
}

async fn not_found(ctx: Ctx) -> Response {
    not_found_page(&ctx, "There is no page at this address.")
}

async fn method_not_allowed(ctx: Ctx) -> Response {
    let status = StatusCode::METHOD_NOT_ALLOWED;
    let message = "This address does not take that method (actions are buttons, sent as POST).";
    html(status, views::error::page(&ctx.chrome, status, message))
}

/// 303 to `path` (as routed; the prefix is added), carrying a flash message.
pub fn see_other(ctx: &Ctx, path: &str, flash: Option<&Flash>) -> Response {
    let urls = &ctx.chrome.urls;
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&urls.path(path)) {
        headers.insert(LOCATION, location);
    }
    if let Some(flash) = flash
        && let Ok(cookie) = HeaderValue::from_str(&flash.cookie(&urls.cookie_path()))
    {
        headers.append(SET_COOKIE, cookie);
    }
    response
}
