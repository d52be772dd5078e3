//! When the daemon's display settings may be used without asking it again (GetConfig reads both
//! configuration files from disk).
//!
//! Settings change only when the daemon reloads. They are current from an answer given while
//! the reload watch (`config_watch.rs`) is subscribed until that watch sees a reload, loses
//! events or ends. The watch runs only while pages are being served: it is started by the first
//! request that needs settings and ends `IDLE` after the last one, so that an unvisited gateway
//! costs the daemon no event watcher. Pure: time is a parameter; `state.rs` holds the lock.

use std::time::Duration;

use tokio::time::Instant;

use crate::display::Display;

/// How long the reload watch outlives the last request that needed settings.
pub const IDLE: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct DisplayCache {
    /// Used while the daemon is unreachable too, so that links keep their prefix.
    last: Display,
    /// True from an answer given while watching until the next `forget`.
    current: bool,
    /// The reload watch is subscribed.
    watching: bool,
    /// Counts `forget`s, so that an answer asked for before a reload does not count as current.
    generation: u64,
    /// A reload watch task exists (subscribed, or waiting to subscribe again).
    watch_running: bool,
    /// The last request that needed settings.
    used_at: Option<Instant>,
}

/// What a request finds.
#[derive(Debug, PartialEq, Eq)]
pub struct Lookup {
    /// The settings, if current; else ask the daemon and hand its answer to `answered`.
    pub current: Option<Display>,
    pub generation: u64,
    /// No reload watch runs: the caller starts one.
    pub start_watch: bool,
}

impl DisplayCache {
    /// A request at `now` needs the settings.
    pub fn look_up(&mut self, now: Instant) -> Lookup {
        self.used_at = Some(now);
        let start_watch = !self.watch_running;
        self.watch_running = true;
        Lookup {
            current: self.current.then(|| self.last.clone()),
            generation: self.generation,
            start_watch,
        }
    }

    /// Keeps `display`, asked for at `generation`.
    pub fn answered(&mut self, display: Display, generation: u64) {
        self.last = display;
        self.current = self.watching && generation == self.generation;
    }

    /// The next request asks the daemon.
    pub fn forget(&mut self) {
        self.current = false;
        self.generation += 1;
    }

    /// The reload watch subscribed or lost its subscription (a reload may have happened while
    /// it had none).
    pub fn set_watching(&mut self, watching: bool) {
        self.watching = watching;
        self.forget();
    }

    /// `None` when the reload watch is to end now (nothing needed settings for `IDLE`; it counts
    /// as ended from here), else when to ask again.
    pub fn idle_until(&mut self, now: Instant) -> Option<Instant> {
        match self.used_at {
            Some(at) if at + IDLE > now => Some(at + IDLE),
            _ => {
                self.watch_running = false;
                self.set_watching(false);
                None
            }
        }
    }

    pub fn last(&self) -> &Display {
        &self.last
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
        let now = Instant::now();
        let mut cache = DisplayCache::default();
        let first = cache.look_up(now);
        assert_eq!((first.current, first.start_watch), (None, true));
        cache.answered(named("a"), first.generation);
        assert_eq!(
            cache.look_up(now).current,
            None,
            "nothing would tell of a reload"
        );
        cache.set_watching(true);
        let asked = cache.look_up(now);
        assert!(!asked.start_watch, "one watch at a time");
        cache.answered(named("b"), asked.generation);
        assert_eq!(cache.look_up(now).current, Some(named("b")));
        assert_eq!(
            cache.look_up(now + Duration::from_secs(24 * 3600)).current,
            Some(named("b")),
            "settings do not age: only a reload makes them stale"
        );
        cache.forget();
        assert_eq!(
            cache.look_up(now).current,
            None,
            "a reload makes the next ask"
        );
        assert_eq!(
            cache.last(),
            &named("b"),
            "still shown while the daemon is away"
        );
    }

    #[test]
    fn an_answer_asked_for_before_a_reload_is_not_current() {
        let now = Instant::now();
        let mut cache = DisplayCache::default();
        cache.set_watching(true);
        let asked = cache.look_up(now);
        cache.forget();
        cache.answered(named("old"), asked.generation);
        assert_eq!(cache.look_up(now).current, None);
        assert_eq!(cache.last(), &named("old"));
    }

    #[test]
    fn the_watch_ends_when_idle_and_starts_again_when_needed() {
        let start = Instant::now();
        let mut cache = DisplayCache::default();
        assert!(cache.look_up(start).start_watch);
        cache.set_watching(true);
        let asked = cache.look_up(start + Duration::from_secs(10));
        cache.answered(named("a"), asked.generation);
        assert_eq!(
            cache.idle_until(start + IDLE),
            Some(start + Duration::from_secs(10) + IDLE),
            "a later request keeps it"
        );
        assert_eq!(
            cache.idle_until(start + Duration::from_secs(10) + IDLE),
            None
        );
        let after = cache.look_up(start + IDLE * 2);
        assert_eq!(after.current, None, "unwatched settings are not current");
        assert!(after.start_watch);
    }
}
