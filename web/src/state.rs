//! What every handler shares: the API client, the last display settings the daemon gave, and
//! the signal that the gateway is stopping. Nothing else is kept between requests.
//!
//! Display settings are kept as `display_cache.rs` says; when they are not current, requests
//! ask GetConfig, whose failure also tells pages that the daemon is away.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;
use tokio::time::Instant;

use crate::api::{Api, ApiError};
use crate::display::Display;
use crate::display_cache::DisplayCache;
use crate::urls::Urls;

/// Cheap to clone; handed to every handler by axum.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    api: Api,
    display: Mutex<DisplayCache>,
    stopping: watch::Receiver<bool>,
    auth: crate::auth::Auth,
    sign_in: crate::signin::SignIn,
    csrf_key: crate::secret::CsrfKey,
    metrics_token: Option<crate::metrics_access::MetricsToken>,
    /// The gateway's own address and socket, for the config page.
    facts: Option<crate::origin::GatewayFacts>,
}

impl AppState {
    /// A state whose CSRF key lives as long as it does (for tests of routes).
    #[cfg(test)]
    pub fn new(
        socket: std::path::PathBuf,
        stopping: watch::Receiver<bool>,
        auth: crate::auth::Auth,
    ) -> AppState {
        AppState::with_key(
            socket,
            stopping,
            auth,
            crate::secret::CsrfKey::random(),
            None,
        )
    }

    /// A state that signs CSRF tokens with `csrf_key` and, with `metrics_token`, asks scrapes
    /// of `/metrics` for that token instead of the UI's sign-in.
    pub fn with_key(
        socket: std::path::PathBuf,
        stopping: watch::Receiver<bool>,
        auth: crate::auth::Auth,
        csrf_key: crate::secret::CsrfKey,
        metrics_token: Option<crate::metrics_access::MetricsToken>,
    ) -> AppState {
        let users = match &auth {
            crate::auth::Auth::Basic { users, .. } => users.clone(),
            _ => std::collections::HashMap::new(),
        };
        AppState(Arc::new(Inner {
            api: Api::new(socket),
            display: Mutex::new(DisplayCache::default()),
            stopping,
            auth,
            sign_in: crate::signin::SignIn::new(users),
            csrf_key,
            metrics_token,
            facts: None,
        }))
    }

    /// The state, knowing the gateway's own address and socket (before it is shared).
    pub fn with_facts(self, facts: crate::origin::GatewayFacts) -> AppState {
        match Arc::try_unwrap(self.0) {
            Ok(inner) => AppState(Arc::new(Inner {
                facts: Some(facts),
                ..inner
            })),
            Err(shared) => AppState(shared),
        }
    }

    /// The gateway's own address and socket, when `serve` was told.
    pub fn facts(&self) -> Option<&crate::origin::GatewayFacts> {
        self.0.facts.as_ref()
    }

    pub fn api(&self) -> &Api {
        &self.0.api
    }

    /// The display settings now: the kept ones while they are current, else asked of the
    /// daemon; the last known ones when it cannot say, with the error that tells why.
    pub async fn display(&self) -> (Display, Option<ApiError>) {
        let lookup = self.display_cache().look_up(Instant::now());
        if lookup.start_watch {
            tokio::spawn(crate::config_watch::watch_reloads(self.clone()));
        }
        if let Some(display) = lookup.current {
            return (display, None);
        }
        match self.0.api.get_config().await {
            Ok(config) => {
                let display = config
                    .display
                    .as_ref()
                    .map(Display::from_pb)
                    .unwrap_or_default();
                self.display_cache()
                    .answered(display.clone(), lookup.generation);
                (display, None)
            }
            Err(error) => (self.cached_display(), Some(error)),
        }
    }

    /// The settings' cache; a panic elsewhere while holding it leaves plain data, still usable.
    pub fn display_cache(&self) -> MutexGuard<'_, DisplayCache> {
        self.0
            .display
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes the next request ask the daemon (after a reload, settings may have changed).
    pub fn forget_display(&self) {
        self.display_cache().forget();
    }

    /// The last known display settings, without asking the daemon.
    pub fn cached_display(&self) -> Display {
        self.display_cache().last().clone()
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

    /// The bearer token `/metrics` asks for, when the settings name one.
    pub fn metrics_token(&self) -> Option<&crate::metrics_access::MetricsToken> {
        self.0.metrics_token.as_ref()
    }

    /// Completes when the gateway is shutting down; live streams end then.
    pub async fn stopping(&self) {
        let mut stopping = self.0.stopping.clone();
        // An error means the sender is gone: the gateway is stopping all the same.
        let _ = stopping.wait_for(|stop| *stop).await;
    }
}
