//! Failed sign-ins counted per client address and per user name, so that guessing passwords
//! stops after a few tries: pure bookkeeping over instants the caller passes in.
//!
//! Each key (an address, or a user name) counts failures in a fixed window; a key with its
//! limit of failures in the current window is locked until that window ends. The table holds
//! at most [`CAPACITY`] keys: when full, expired windows go first, then the oldest unlocked
//! one. A locked key is never evicted, else a spray of throwaway keys would clear a lockout;
//! when every key is locked, a key not in the table counts as locked until the first lock ends.
//! It neither checks passwords nor answers requests (`signin.rs` does).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use tokio::time::Instant;

/// Keys tracked at most (each about a hundred bytes).
pub const CAPACITY: usize = 4096;
/// The window in which failures count.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Failures per window for one user name: a person mistyping stays well below it.
pub const USER_FAILURES: u32 = 5;
/// Failures per window for one client address: higher, since one address may be a whole office
/// behind NAT.
pub const CLIENT_FAILURES: u32 = 20;
/// User names longer than this count as their first characters.
const MAX_NAME_CHARS: usize = 64;

/// Who failed: the client's address (IPv6 by its /64, the block one host usually holds) or the
/// user name tried.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Client(IpAddr),
    User(String),
}

impl Key {
    pub fn client(address: IpAddr) -> Key {
        let address = match address {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let prefix = u128::from(v6) & !((1_u128 << 64) - 1);
                    IpAddr::V6(prefix.into())
                }
            },
            v4 => v4,
        };
        Key::Client(address)
    }

    pub fn user(name: &str) -> Key {
        Key::User(name.chars().take(MAX_NAME_CHARS).collect())
    }

    fn limit(&self) -> u32 {
        match self {
            Key::Client(_) => CLIENT_FAILURES,
            Key::User(_) => USER_FAILURES,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    failures: u32,
}

impl Window {
    fn live(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.start) < WINDOW
    }

    /// How long this window stays locked for a key with `limit`, if it is locked now.
    fn lock_left(&self, limit: u32, now: Instant) -> Option<Duration> {
        (self.live(now) && self.failures >= limit)
            .then(|| WINDOW.saturating_sub(now.saturating_duration_since(self.start)))
    }
}

/// The failure table.
#[derive(Debug, Default)]
pub struct Throttle {
    windows: HashMap<Key, Window>,
}

/// A key that just reached its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockout {
    pub key: Key,
    pub for_: Duration,
}

impl Throttle {
    /// How long until the first of `keys` that is locked may try again, if any is.
    /// A key the table has no room for counts as locked: its failures could not be counted.
    pub fn locked(&self, keys: &[Key], now: Instant) -> Option<Duration> {
        keys.iter()
            .filter_map(|key| match self.windows.get(key) {
                Some(window) => window.lock_left(key.limit(), now),
                None => self.full_of_locks(now),
            })
            .max()
    }

    /// When the table is full and every key in it is locked: how long until the first lock ends.
    fn full_of_locks(&self, now: Instant) -> Option<Duration> {
        if self.windows.len() < CAPACITY {
            return None;
        }
        self.windows
            .iter()
            .map(|(key, window)| window.lock_left(key.limit(), now))
            .try_fold(WINDOW, |first, left| Some(first.min(left?)))
    }

    /// Counts a failure against each of `keys`; returns the keys this failure locked.
    pub fn failed(&mut self, keys: &[Key], now: Instant) -> Vec<Lockout> {
        let mut locked = Vec::new();
        for key in keys {
            if !self.windows.contains_key(key) && !self.make_room(now) {
                continue;
            }
            let window = self.windows.entry(key.clone()).or_insert(Window {
                start: now,
                failures: 0,
            });
            if !window.live(now) {
                *window = Window {
                    start: now,
                    failures: 0,
                };
            }
            window.failures = window.failures.saturating_add(1);
            if window.failures == key.limit() {
                locked.push(Lockout {
                    key: key.clone(),
                    for_: WINDOW.saturating_sub(now.saturating_duration_since(window.start)),
                });
            }
        }
        locked
    }

    /// How many keys are tracked.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    /// Whether there is room for one more key, evicting the oldest unlocked one if needed.
    fn make_room(&mut self, now: Instant) -> bool {
        if self.windows.len() < CAPACITY {
            return true;
        }
        self.windows.retain(|_, window| window.live(now));
        if self.windows.len() < CAPACITY {
            return true;
        }
        let oldest = self
            .windows
            .iter()
            .filter(|(key, window)| window.lock_left(key.limit(), now).is_none())
            .min_by_key(|(_, window)| window.start)
            .map(|(key, _)| key.clone());
        match oldest {
            Some(oldest) => {
                self.windows.remove(&oldest);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn keys(user: &str) -> Vec<Key> {
        vec![Key::client(Ipv4Addr::LOCALHOST.into()), Key::user(user)]
    }

    #[tokio::test(start_paused = true)]
    async fn a_user_is_locked_after_its_failures_until_the_window_ends() {
        let mut throttle = Throttle::default();
        let start = Instant::now();
        for _ in 1..USER_FAILURES {
            assert!(throttle.failed(&keys("alice"), start).is_empty());
        }
        assert_eq!(throttle.locked(&keys("alice"), start), None);
        let locked = throttle.failed(&keys("alice"), start);
        assert_eq!(
            locked,
            [Lockout {
                key: Key::user("alice"),
                for_: WINDOW
            }]
        );
        tokio::time::advance(Duration::from_secs(20)).await;
        assert_eq!(
            throttle.locked(&keys("alice"), Instant::now()),
            Some(Duration::from_secs(40))
        );
        assert_eq!(
            throttle.locked(&keys("bob"), Instant::now()),
            None,
            "another user from the same address may still try"
        );
        tokio::time::advance(Duration::from_secs(40)).await;
        assert_eq!(throttle.locked(&keys("alice"), Instant::now()), None);
        assert!(
            throttle.failed(&keys("alice"), Instant::now()).is_empty(),
            "a new window counts from zero"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_address_is_locked_whatever_the_names_it_tries() {
        let mut throttle = Throttle::default();
        let now = Instant::now();
        for n in 1..CLIENT_FAILURES {
            throttle.failed(&keys(&format!("user{n}")), now);
        }
        assert_eq!(throttle.locked(&keys("someone"), now), None);
        let locked = throttle.failed(&keys("last"), now);
        assert_eq!(locked.len(), 1);
        assert_eq!(locked[0].key, Key::client(Ipv4Addr::LOCALHOST.into()));
        assert_eq!(throttle.locked(&keys("someone"), now), Some(WINDOW));
        let elsewhere = [
            Key::client(Ipv4Addr::new(10, 0, 0, 1).into()),
            Key::user("x"),
        ];
        assert_eq!(throttle.locked(&elsewhere, now), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_table_never_outgrows_its_capacity() {
        let mut throttle = Throttle::default();
        let now = Instant::now();
        for n in 0..(CAPACITY * 2) {
            throttle.failed(&[Key::user(&format!("spray{n}"))], now);
            assert!(throttle.len() <= CAPACITY);
        }
        tokio::time::advance(WINDOW).await;
        throttle.failed(&[Key::user("late")], Instant::now());
        assert_eq!(throttle.len(), 1, "expired windows go first");
    }

    #[tokio::test(start_paused = true)]
    async fn a_spray_of_new_keys_never_evicts_a_lockout() {
        let mut throttle = Throttle::default();
        let start = Instant::now();
        let admin = [Key::user("admin")];
        for _ in 0..USER_FAILURES {
            throttle.failed(&admin, start);
        }
        tokio::time::advance(Duration::from_secs(1)).await;
        for n in 0..(CAPACITY * 2) {
            let now = Instant::now();
            throttle.failed(&[Key::user(&format!("spray{n}"))], now);
            assert!(throttle.len() <= CAPACITY);
        }
        assert_eq!(
            throttle.locked(&admin, Instant::now()),
            Some(WINDOW - Duration::from_secs(1)),
            "the oldest key was locked, and stays so"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_table_full_of_lockouts_refuses_new_keys() {
        let mut throttle = Throttle::default();
        let now = Instant::now();
        for n in 0..CAPACITY {
            let key = [Key::user(&format!("locked{n}"))];
            for _ in 0..USER_FAILURES {
                throttle.failed(&key, now);
            }
        }
        assert_eq!(throttle.len(), CAPACITY);
        let newcomer = [Key::user("newcomer")];
        assert_eq!(throttle.locked(&newcomer, now), Some(WINDOW));
        throttle.failed(&newcomer, now);
        assert_eq!(
            throttle.locked(&[Key::user("locked0")], now),
            Some(WINDOW),
            "no lockout made room for the newcomer"
        );
        tokio::time::advance(WINDOW).await;
        assert_eq!(throttle.locked(&newcomer, Instant::now()), None);
    }

    #[test]
    fn ipv6_clients_count_by_their_block() {
        let one: IpAddr = "2001:db8::1".parse().expect("address");
        let two: IpAddr = "2001:db8::ffff:2".parse().expect("address");
        let other: IpAddr = "2001:db8:0:1::1".parse().expect("address");
        assert_eq!(Key::client(one), Key::client(two));
        assert_ne!(Key::client(one), Key::client(other));
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().expect("address");
        assert_eq!(Key::client(mapped), Key::client(Ipv4Addr::LOCALHOST.into()));
    }
}
