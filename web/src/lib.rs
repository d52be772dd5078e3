//! The speedrack web gateway: HTML pages over the speedrack.v1 API, served with axum and maud.
//!
//! The gateway is a client of speedrackd like speedrackctl: it talks to the daemon's socket only
//! through the gRPC API and keeps no state of its own beyond cookies in the browser. It is used
//! two ways, identically: hosted in-process by `speedrackd run`, and as the standalone binary
//! `speedrack-web`. Both call [`serve`]. Authentication is not done here (yet): who the user is
//! comes from [`identity`] alone.

mod api;
mod assets;
pub mod auth;
mod context;
mod cookies;
mod csrf;
mod display;
mod flash;
mod help;
pub mod identity;
mod names;
mod routes;
mod sse;
mod state;
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
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            socket: speedrack_proto::default_socket_path(),
            auth: auth::Auth::None,
        }
    }
}

/// Why the gateway stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// Accepting or serving connections failed.
    #[error("the web gateway stopped serving: {0}")]
    Serve(#[source] std::io::Error),
}

/// Serves the web UI on `listener` until `shutdown` completes.
///
/// On shutdown, open live streams (Server-Sent Events) end so that the graceful shutdown of the
/// HTTP server finishes without waiting for browsers to go away.
pub async fn serve(
    config: GatewayConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), GatewayError> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let state = state::AppState::new(config.socket, stop_rx, config.auth);
    let app = routes::router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Ends every SSE stream; the server then waits only for ordinary requests.
            let _ = stop_tx.send(true);
        })
        .await
        .map_err(GatewayError::Serve)
}
