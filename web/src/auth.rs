//! Who may use the gateway when it is not just for the local machine: HTTP basic
//! authentication against argon2 password hashes (checked in `signin.rs`), or a user name in a
//! header set by an authenticating reverse proxy, believed only from the proxies listed in
//! `web.trusted_proxies`. The signed-in user is what the daemon records as who asked.
//!
//! Without authentication configured, this middleware lets everything through and the
//! attribution cookie names the user (see `identity`). The `web:` settings live in
//! `settings.rs`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;

pub use crate::settings::{AuthMode, WebSettings, web_settings_from_yaml};
use crate::signin::Refusal;
use crate::state::AppState;

/// How the gateway knows who is there.
#[derive(Debug, Clone, Default)]
pub enum Auth {
    /// Nobody is asked; for loopback-only gateways.
    #[default]
    None,
    /// HTTP basic authentication; `users` maps names to argon2 PHC hashes.
    Basic {
        realm: String,
        users: HashMap<String, String>,
    },
    /// A reverse proxy authenticates and names the user in this header; only requests from
    /// `trusted` addresses are served.
    ProxyHeader { header: String, trusted: Vec<IpNet> },
}

/// The authenticated user of a request, put into its extensions by [`require`].
#[derive(Debug, Clone)]
pub struct SignedIn(pub String);

/// Lets a request through only with a known user, whom it names in the request's extensions.
pub async fn require(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let client = client_address(&request);
    // Scrapes present the metrics token instead, checked by the handler (see metrics_access).
    if state.metrics_token().is_some() && request.uri().path() == "/metrics" {
        return next.run(request).await;
    }
    let user = match state.auth() {
        Auth::None => return next.run(request).await,
        Auth::Basic { realm, .. } => match state.sign_in().check(request.headers(), client).await {
            Ok(user) => user,
            Err(Refusal::Challenge) => return challenge(realm),
            Err(Refusal::Throttled(wait)) => return throttled(wait),
            Err(Refusal::Busy) => return busy(),
        },
        Auth::ProxyHeader { header, trusted } => {
            if !trusted.iter().any(|network| network.contains(&client)) {
                let message = format!(
                    "this speedrack is served behind an authenticating proxy, and {client} is not \
                     one of its web.trusted_proxies"
                );
                return (StatusCode::FORBIDDEN, message).into_response();
            }
            match proxy_user(&request, header) {
                Some(user) => user,
                None => {
                    let message = format!(
                        "this speedrack is served behind an authenticating proxy; the request has no {header} header"
                    );
                    return (StatusCode::FORBIDDEN, message).into_response();
                }
            }
        }
    };
    request.extensions_mut().insert(SignedIn(user));
    next.run(request).await
}

/// The peer of the connection (`server.rs` records it); unknown only outside the server, as in
/// unit tests, where it counts as 0.0.0.0, which no proxy list should contain.
fn client_address(request: &Request) -> IpAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| {
            info.0.ip().to_canonical()
        })
}

fn proxy_user(request: &Request, header: &str) -> Option<String> {
    let user = request.headers().get(header)?.to_str().ok()?.trim();
    (!user.is_empty()).then(|| user.to_owned())
}

fn challenge(realm: &str) -> Response {
    let value = HeaderValue::from_str(&format!("Basic realm=\"{realm}\", charset=\"UTF-8\""))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    (
        StatusCode::UNAUTHORIZED,
        [(WWW_AUTHENTICATE, value)],
        "sign in to use this speedrack",
    )
        .into_response()
}

fn throttled(wait: Duration) -> Response {
    let seconds = wait.as_secs().max(1);
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(RETRY_AFTER, HeaderValue::from(seconds))],
        format!("too many failed sign-ins from here or for this user; try again in {seconds}s"),
    )
        .into_response()
}

fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(RETRY_AFTER, HeaderValue::from_static("5"))],
        "too many sign-ins are being checked right now; try again in a few seconds",
    )
        .into_response()
}
