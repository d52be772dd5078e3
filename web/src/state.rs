//! What every handler shares: the API client, the last display settings the daemon gave, and
//! the signal that the gateway is stopping. Nothing else is kept between requests.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::api::{Api, ApiError};
use crate::display::Display;
use crate::urls::Urls;

/// Cheap to clone; handed to every handler by axum.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// How long display settings are used before asking the daemon again. GetConfig reads both
/// files; live pages refresh often, and settings change only on reload.
const DISPLAY_FRESH: Duration = Duration::from_secs(5);

struct Inner {
    api: Api,
    /// The display settings of the last successful GetConfig and when they came, used while
    /// fresh, and while the daemon is unreachable so that links keep their prefix.
    display: RwLock<(Display, Option<Instant>)>,
    stopping: watch::Receiver<bool>,
    auth: crate::auth::Auth,
    sign_in: crate::signin::SignIn,
    csrf_key: crate::secret::CsrfKey,
}

impl AppState {
    /// A state whose CSRF key lives as long as it does (for tests of routes).
    #[cfg(test)]
    pub fn new(
        socket: std::path::PathBuf,
        stopping: watch::Receiver<bool>,
        auth: crate::auth::Auth,
    ) -> AppState {
        AppState::with_key(socket, stopping, auth, crate::secret::CsrfKey::random())
    }

    /// A state that signs CSRF tokens with `csrf_key`.
    pub fn with_key(
        socket: std::path::PathBuf,
        stopping: watch::Receiver<bool>,
        auth: crate::auth::Auth,
        csrf_key: crate::secret::CsrfKey,
    ) -> AppState {
        let users = match &auth {
            crate::auth::Auth::Basic { users, .. } => users.clone(),
            _ => std::collections::HashMap::new(),
        };
        AppState(Arc::new(Inner {
            api: Api::new(socket),
            display: RwLock::new((Display::default(), None)),
            stopping,
            auth,
            sign_in: crate::signin::SignIn::new(users),
            csrf_key,
        }))
    }

    pub fn api(&self) -> &Api {
        &self.0.api
    }

    /// The display settings now: asked of the daemon unless asked recently, or the last known
    /// ones when it cannot say (unreachable, or too old to serve GetConfig). The error tells why
    /// it could not.
    pub async fn display(&self) -> (Display, Option<ApiError>) {
        if let Ok(cached) = self.0.display.read()
            && cached.1.is_some_and(|at| at.elapsed() < DISPLAY_FRESH)
        {
            return (cached.0.clone(), None);
        }
        match self.0.api.get_config().await {
            Ok(config) => {
                let display = config
                    .display
                    .as_ref()
                    .map(Display::from_pb)
                    .unwrap_or_default();
                if let Ok(mut cached) = self.0.display.write() {
                    *cached = (display.clone(), Some(Instant::now()));
                }
                (display, None)
            }
            Err(error) => (self.cached_display(), Some(error)),
        }
    }

    /// Makes the next request ask the daemon (after a reload, settings may have changed).
    pub fn forget_display(&self) {
        if let Ok(mut cached) = self.0.display.write() {
            cached.1 = None;
        }
    }

    /// The last known display settings, without asking the daemon.
    pub fn cached_display(&self) -> Display {
        self.0
            .display
            .read()
            .map(|cached| cached.0.clone())
            .unwrap_or_default()
    }

    /// URLs with the last known prefix, for code that must not wait for the daemon.
    pub fn urls(&self) -> Urls {
        Urls::new(&self.cached_display().script_name)
    }

    pub fn auth(&self) -> &crate::auth::Auth {
        &self.0.auth
    }

    /// Checks basic credentials (see `signin.rs`).
    pub fn sign_in(&self) -> &crate::signin::SignIn {
        &self.0.sign_in
    }

    /// Signs CSRF tokens (see `csrf.rs`).
    pub fn csrf_key(&self) -> &crate::secret::CsrfKey {
        &self.0.csrf_key
    }

    /// Completes when the gateway is shutting down; live streams end then.
    pub async fn stopping(&self) {
        let mut stopping = self.0.stopping.clone();
        // An error means the sender is gone: the gateway is stopping all the same.
        let _ = stopping.wait_for(|stop| *stop).await;
    }
}
