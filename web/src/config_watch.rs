//! The reload watch: a WatchEvents subscription, held while pages are being served, so that
//! display settings (`display_cache.rs`) can be kept until the daemon reloads its
//! configuration instead of being asked for on every page.
//!
//! It only tells the cache when kept settings stop being current: on `config_reloaded`, on
//! `events_dropped` (a reload may be among the dropped), and whenever the subscription opens
//! or ends (a reload may have happened while it was closed). It ends when the gateway has not
//! needed settings for `display_cache::IDLE`. It renders and relays nothing; `sse/` has its own
//! subscriptions.

use std::time::Duration;

use speedrack_proto::v1::watch_events_response::Event as Watched;
use tokio::time::Instant;
use tokio_stream::StreamExt;

use crate::state::AppState;

/// The first wait before subscribing again after the daemon went away.
const FIRST_RETRY: Duration = Duration::from_millis(250);
/// The longest wait; while unsubscribed, pages ask GetConfig themselves, so this only bounds
/// how long they keep doing so after the daemon is back.
const LAST_RETRY: Duration = Duration::from_secs(5);

/// Watches for reloads until the gateway stops or is idle.
pub async fn watch_reloads(state: AppState) {
    let mut retry = FIRST_RETRY;
    loop {
        tokio::select! {
            opened = watch_once(&state) => if opened { retry = FIRST_RETRY },
            () = state.stopping() => return,
            () = idle(&state) => return,
        }
        state.display_cache().set_watching(false);
        tokio::select! {
            () = tokio::time::sleep(retry) => {}
            () = state.stopping() => return,
            () = idle(&state) => return,
        }
        retry = (retry * 2).min(LAST_RETRY);
    }
}

/// Holds one subscription until it ends; false when it could not be opened.
async fn watch_once(state: &AppState) -> bool {
    let Ok(mut events) = state.api().watch(0, 0).await else {
        return false;
    };
    state.display_cache().set_watching(true);
    while let Some(Ok(message)) = events.next().await {
        if matches!(
            message.event,
            Some(Watched::ConfigReloaded(_) | Watched::EventsDropped(_))
        ) {
            state.forget_display();
        }
    }
    true
}

/// Completes once no request has needed settings for `IDLE` (the cache then counts this watch
/// as ended, so the next request starts another).
async fn idle(state: &AppState) {
    loop {
        let Some(until) = state.display_cache().idle_until(Instant::now()) else {
            return;
        };
        tokio::time::sleep_until(until).await;
    }
}
