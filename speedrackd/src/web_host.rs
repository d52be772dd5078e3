//! Hosting the web gateway in-process: bound at start, like the socket, so that a busy port is
//! a clear error before anything runs. The gateway is an ordinary client of the daemon's socket.
//!
//! Without web authentication the UI is served on loopback addresses only: exposing it would
//! let anyone on the network run, kill and reload tasks. The key that signs the UI's CSRF
//! tokens is kept in the data dir ([`CSRF_KEY_FILE`], mode 0600), so open pages survive a
//! restart.
//!
//! `/metrics` may also have an address of its own (`metrics.listen`), bound here at start the
//! same way, also with `--no-web`; its token file is read at start too (see
//! `speedrack_web::metrics_access`).

use std::net::{SocketAddr, TcpListener};
use std::path::Path;

use speedrack_web::metrics_access::{MetricsAccessError, MetricsSettings, MetricsToken};
use speedrack_web::secret::{CsrfKey, SecretError};

/// The CSRF signing key's file in the data dir.
pub const CSRF_KEY_FILE: &str = "web_csrf_key";

/// The key that signs the web UI's CSRF tokens, made on first use.
pub fn csrf_key(data_dir: &Path) -> Result<CsrfKey, SecretError> {
    CsrfKey::load_or_create(&data_dir.join(CSRF_KEY_FILE))
}

#[derive(Debug, thiserror::Error)]
pub enum WebHostError {
    #[error(
        "refusing to serve the web UI on {0}: it is not a loopback address and the settings set no \
         web.auth; set web.auth (basic or proxy_header), or listen on 127.0.0.1"
    )]
    NotLoopback(SocketAddr),
    #[error(
        "cannot listen on {address} for the web UI: {source} (is another speedrackd running? use --listen ADDR or --no-web)"
    )]
    Bind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The metrics token or address is unusable: a config error.
    #[error(transparent)]
    Metrics(#[from] MetricsAccessError),
    #[error(
        "cannot listen on {address} for /metrics (metrics.listen): {source} (is the port in use?)"
    )]
    MetricsBind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

impl WebHostError {
    /// True for errors the settings cause, which a restart will not fix.
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            WebHostError::NotLoopback(_) | WebHostError::Metrics(_)
        )
    }
}

/// The metrics token (read now) and, with `metrics.listen`, its bound listener.
pub fn bind_metrics(
    settings: &MetricsSettings,
) -> Result<(Option<MetricsToken>, Option<TcpListener>), WebHostError> {
    let token = settings.token()?;
    let Some(address) = settings.listen else {
        return Ok((token, None));
    };
    MetricsSettings::check_listen(address, token.as_ref())?;
    let bind_error = |source| WebHostError::MetricsBind { address, source };
    let listener = TcpListener::bind(address).map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    Ok((token, Some(listener)))
}

/// Binds the web UI's listener; anything but loopback needs authentication.
pub fn bind(address: SocketAddr, authenticated: bool) -> Result<TcpListener, WebHostError> {
    if !address.ip().is_loopback() && !authenticated {
        return Err(WebHostError::NotLoopback(address));
    }
    let listener =
        TcpListener::bind(address).map_err(|source| WebHostError::Bind { address, source })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| WebHostError::Bind { address, source })?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_served() {
        assert!(matches!(
            bind("0.0.0.0:0".parse().expect("addr"), false),
            Err(WebHostError::NotLoopback(_))
        ));
        assert!(matches!(
            bind("192.168.1.2:8118".parse().expect("addr"), false),
            Err(WebHostError::NotLoopback(_))
        ));
        let listener = bind("127.0.0.1:0".parse().expect("addr"), false).expect("loopback binds");
        drop(
            bind("0.0.0.0:0".parse().expect("addr"), true)
                .expect("any address, with authentication"),
        );
        let taken = listener.local_addr().expect("bound");
        assert!(
            matches!(bind(taken, false), Err(WebHostError::Bind { .. })),
            "a busy port is a clear error"
        );
    }
}
