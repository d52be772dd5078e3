//! systemd integration: "ready" once the socket serves and the tasks are loaded, and watchdog
//! pings from the scheduling loop itself, so that a stuck loop (not just a dead process) gets the
//! service restarted. Outside systemd (no NOTIFY_SOCKET) every call here does nothing.

use std::time::Duration;

use sd_notify::NotifyState;

/// Tells systemd the service is ready.
pub fn ready() {
    if let Err(error) = sd_notify::notify(false, &[NotifyState::Ready]) {
        tracing::warn!("cannot tell systemd the service is ready: {error}");
    }
}

/// How often to ping: half of `WatchdogSec`, when systemd asks for pings at all.
pub fn interval() -> Option<Duration> {
    let mut usec = 0;
    match sd_notify::watchdog_enabled(false, &mut usec) {
        true => Some(Duration::from_micros(usec / 2)),
        false => None,
    }
}

/// Tells systemd the loop is alive.
pub fn ping() {
    if let Err(error) = sd_notify::notify(false, &[NotifyState::Watchdog]) {
        tracing::warn!("cannot ping the systemd watchdog: {error}");
    }
}

/// Tells systemd the service is stopping, so that it waits rather than calling it a crash.
pub fn stopping() {
    let _ = sd_notify::notify(false, &[NotifyState::Stopping]);
}
