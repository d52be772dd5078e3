//! What every handler shares: the API client, the last display settings the daemon gave, and
//! the signal that the gateway is stopping. Nothing else is kept between requests.
//!
//! Display settings change only when the daemon reloads its configuration. They are kept
//! (`DisplayCache`) for as long as `config_watch.rs` holds a WatchEvents subscription that would
//! have seen a reload; without one (daemon unreachable, or not yet connected), every request
//! asks GetConfig, which also tells pages that the daemon is away.

use std::sync::{Arc, RwLock};

use tokio::sync::watch;

use crate::api::{Api, ApiError};
use crate::display::Display;
use crate::urls::Urls;

/// Cheap to clone; handed to every handler by axum.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    api: Api,
    display: RwLock<DisplayCache>,
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
            display: RwLock::new(DisplayCache::default()),
            stopping,
            auth,
            sign_in: crate::signin::SignIn::new(users),
            csrf_key,
        }))
    }

    pub fn api(&self) -> &Api {
        &self.0.api
    }

    /// The display settings now: the kept ones while they are known to be current, else asked
    /// of the daemon; the last known ones when it cannot say, with the error that tells why.
    pub async fn display(&self) -> (Display, Option<ApiError>) {
        let generation = match self.0.display.read() {
            Ok(cache) if cache.current => return (cache.last.clone(), None),
            Ok(cache) => cache.generation,
            Err(_) => 0,
        };
        match self.0.api.get_config().await {
            Ok(config) => {
                let display = config
                    .display
                    .as_ref()
                    .map(Display::from_pb)
                    .unwrap_or_default();
                if let Ok(mut cache) = self.0.display.write() {
                    cache.answered(display.clone(), generation);
                }
                (display, None)
            }
            Err(error) => (self.cached_display(), Some(error)),
        }
    }

    /// Makes the next request ask the daemon (after a reload, settings may have changed).
    pub fn forget_display(&self) {
        if let Ok(mut cache) = self.0.display.write() {
            cache.forget();
        }
    }

    /// Says whether a subscription that sees every reload is open; settings are kept only then.
    pub fn set_watching(&self, watching: bool) {
        if let Ok(mut cache) = self.0.display.write() {
            cache.watching = watching;
            cache.forget();
        }
    }

    /// The last known display settings, without asking the daemon.
    pub fn cached_display(&self) -> Display {
        self.0
            .display
            .read()
            .map(|cache| cache.last.clone())
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

/// The last display settings the daemon gave, and whether they can be used without asking.
#[derive(Debug, Default)]
struct DisplayCache {
    /// Used while the daemon is unreachable too, so that links keep their prefix.
    last: Display,
    /// True from an answer given while watching until the next reload or change of watching.
    current: bool,
    /// Reload subscription open (see `config_watch.rs`).
    watching: bool,
    /// Counts `forget`s, so that an answer asked for before a reload does not count as current.
    generation: u64,
}

impl DisplayCache {
    /// Keeps `display`, asked for at `generation`.
    fn answered(&mut self, display: Display, generation: u64) {
        self.last = display;
        self.current = self.watching && generation == self.generation;
    }

    fn forget(&mut self) {
        self.current = false;
        self.generation += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(app_name: &str) -> Display {
        Display {
            app_name: app_name.to_owned(),
            ..Display::default()
        }
    }

    #[test]
    fn settings_are_kept_only_while_watching_and_until_a_reload() {
        let mut cache = DisplayCache::default();
        cache.answered(named("a"), cache.generation);
        assert!(!cache.current, "nothing would tell of a reload");
        cache.watching = true;
        cache.forget();
        cache.answered(named("b"), cache.generation);
        assert!(cache.current);
        cache.forget();
        assert!(!cache.current, "a reload makes the next request ask");
        assert_eq!(
            cache.last,
            named("b"),
            "still shown while the daemon is away"
        );
    }

    #[test]
    fn an_answer_asked_for_before_a_reload_is_not_current() {
        let mut cache = DisplayCache {
            watching: true,
            ..DisplayCache::default()
        };
        let asked_at = cache.generation;
        cache.forget();
        cache.answered(named("old"), asked_at);
        assert!(!cache.current);
        assert_eq!(cache.last, named("old"));
    }
}
