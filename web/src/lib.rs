//! The speedrack web gateway: HTML pages over the speedrack.v1 API, served with axum and maud.
//!
//! The gateway is a client of speedrackd like speedrackctl: it talks to the daemon's socket only
//! through the gRPC API and keeps no state of its own beyond cookies in the browser. It is used
//! two ways, identically: hosted in-process by `speedrackd run`, and as the standalone binary
//! `speedrack-web`. Both call [`serve`], which serves HTTP/1 itself (`server.rs`) so that no
//! client can hold more connections, for longer, than `limits.rs` allows.

mod api;
mod assets;
pub mod auth;
mod config_watch;
mod context;
mod cookies;
mod csrf;
mod display;
mod display_cache;
mod excerpt;
mod flash;
mod help;
mod history_query;
pub mod identity;
pub mod limits;
pub mod logging;
mod loopback_host;
pub mod metrics_access;
mod names;
pub mod origin;
mod routes;
pub mod secret;
mod server;
mod settings;
mod signin;
mod sse;
mod state;
mod throttle;
mod urls;
mod views;

use std::future::Future;
use std::path::PathBuf;

use tokio::net::TcpListener;

/// What the gateway needs to know before it can serve.
///
/// Everything it shows (app name, URL prefix, how many runs) comes from the daemon's settings
/// through `GetConfig`, so the in-process and the standalone gateway behave the same.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The daemon's socket. The gateway connects lazily and reconnects after the daemon
    /// restarts; while it is unreachable, pages render with a banner saying so.
    pub socket: PathBuf,
    /// Who may use it; without authentication the gateway must stay on loopback.
    pub auth: auth::Auth,
    /// How many connections it holds, and for how long.
    pub limits: limits::ConnectionLimits,
    /// Signs CSRF tokens; kept in a file so that open pages survive a restart.
    pub csrf_key: secret::CsrfKey,
    /// The bearer token `/metrics` asks for instead of the UI's sign-in (`metrics.token_file`).
    pub metrics_token: Option<metrics_access::MetricsToken>,
    /// Where `socket` and the listener's address came from, for the config page.
    pub origin: origin::GatewayOrigin,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            socket: speedrack_proto::default_socket_path(),
            auth: auth::Auth::None,
            limits: limits::ConnectionLimits::default(),
            csrf_key: secret::CsrfKey::random(),
            metrics_token: None,
            origin: origin::GatewayOrigin::default(),
        }
    }
}

/// Why the gateway cannot serve.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The open-file limit leaves no room for the gateway beside the runs' reserve.
    #[error(transparent)]
    Fds(#[from] limits::TooFewFds),
}

/// Serves the web UI on `listener` until `shutdown` completes.
///
/// It holds at most as many connections as the configured cap and the open-file limit allow
/// (see [`limits::connection_cap`]), read when it starts. On shutdown, open live streams
/// (Server-Sent Events) end so that the graceful shutdown of the HTTP server finishes without
/// waiting for browsers to go away.
pub async fn serve(
    config: GatewayConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), GatewayError> {
    let nofile = limits::nofile_limit();
    let cap = limits::connection_cap(nofile, config.limits.max_connections)?;
    tracing::info!(
        "web UI: at most {cap} connections (open-file limit {nofile}, {} kept for runs), \
         request headers within {}s",
        limits::FD_RESERVE,
        config.limits.header_timeout.as_secs()
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let listen = listener.local_addr();
    let facts = origin::GatewayFacts {
        listen: origin::Fact {
            value: listen.as_ref().map_or_else(
                |error| format!("unknown ({error})"),
                |address| address.to_string(),
            ),
            source: config.origin.listen,
        },
        socket: origin::Fact {
            value: config.socket.display().to_string(),
            source: config.origin.socket,
        },
    };
    let state = state::AppState::with_key(
        config.socket,
        stop_rx,
        config.auth,
        config.csrf_key,
        config.metrics_token,
    )
    .with_facts(facts);
    let app = routes::router(state, listen.ok());
    let server_limits = server::ServerLimits {
        header_timeout: config.limits.header_timeout,
        cap,
    };
    server::serve(listener, app, server_limits, async move {
        shutdown.await;
        // Ends every SSE stream; the server then waits only for ordinary requests.
        let _ = stop_tx.send(true);
    })
    .await;
    Ok(())
}

/// Connections the metrics listener serves at once: a few scrapers, never a crowd.
const METRICS_CONNECTIONS: usize = 8;
/// How long a scraper may take to send its request headers.
const METRICS_HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves `GET /metrics` and nothing else on `listener` (`metrics.listen`) until `shutdown`
/// completes: for Prometheus, also when the web UI is off. With `token`, a scrape must present
/// it as a bearer token; without one, the caller keeps the listener on loopback
/// ([`metrics_access::MetricsSettings::check_listen`]).
pub async fn serve_metrics(
    socket: PathBuf,
    token: Option<metrics_access::MetricsToken>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (_stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let state = state::AppState::with_key(
        socket,
        stop_rx,
        auth::Auth::None,
        secret::CsrfKey::random(),
        token,
    );
    let app = routes::metrics_router(state);
    let limits = server::ServerLimits {
        header_timeout: METRICS_HEADER_TIMEOUT,
        cap: METRICS_CONNECTIONS,
    };
    server::serve(listener, app, limits, shutdown).await;
}
