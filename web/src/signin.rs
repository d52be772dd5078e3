//! Checking HTTP basic credentials without letting password guessing cost the daemon anything:
//! argon2 (tens of milliseconds on purpose) runs on one blocking thread at a time, never on the
//! async workers the scheduler shares; failures are throttled per client address and per user
//! name (`throttle.rs`) and logged; credentials once verified are remembered, so a live page
//! does not hash on every request. An unknown user name costs a hash like a wrong password
//! (against a dummy hash), so that how long a refusal takes does not tell which names exist.
//!
//! It does not answer requests: `auth.rs` turns a [`Refusal`] into 401, 429 or 503.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::{Output, PasswordHash, PasswordVerifier, Salt};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::throttle::{Key, Throttle};

/// Hashes computed at once: one core at most goes to checking passwords.
const HASHERS: usize = 1;
/// How long a sign-in waits for the hasher before the gateway says it is busy.
const HASH_QUEUE_WAIT: Duration = Duration::from_secs(5);
/// Verified credentials remembered at most; the cache starts over when full.
const MAX_REMEMBERED: usize = 1024;
/// The salt of the dummy hash (base64 of "speedrack dummy!"); any fixed salt does.
const DUMMY_SALT: &str = "c3BlZWRyYWNrIGR1bW15IQ";
/// The dummy hash when no user's hash can lend its parameters: argon2's defaults, which
/// `speedrackd hash-password` uses. Its output is all zeros, so no password is known to match
/// it, and none needs to: an unknown user is refused whatever the outcome.
const DEFAULT_DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c3BlZWRyYWNrIGR1bW15IQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Why a request is not signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No credentials, or wrong ones: ask again.
    Challenge,
    /// Too many failures lately from this address or for this user; try again after this long.
    Throttled(Duration),
    /// The hasher is busy with other sign-ins.
    Busy,
}

/// The users, and what the gateway remembers about sign-ins. Cheap to clone.
#[derive(Clone)]
pub struct SignIn(Arc<Inner>);

struct Inner {
    users: HashMap<String, String>,
    /// What an unknown user's password is checked against: a hash with the users' parameters,
    /// so that checking it takes as long as checking theirs.
    dummy: String,
    /// `user:password` strings already verified.
    verified: Mutex<HashSet<String>>,
    throttle: Mutex<Throttle>,
    hashers: Semaphore,
}

impl SignIn {
    /// Signs in the users of `users` (name to argon2 PHC hash).
    pub fn new(users: HashMap<String, String>) -> SignIn {
        SignIn(Arc::new(Inner {
            dummy: dummy_hash(&users),
            users,
            verified: Mutex::new(HashSet::new()),
            throttle: Mutex::new(Throttle::default()),
            hashers: Semaphore::new(HASHERS),
        }))
    }

    /// The user named by a valid `Authorization: Basic` header sent from `client`.
    pub async fn check(&self, headers: &HeaderMap, client: IpAddr) -> Result<String, Refusal> {
        let (user, password) = credentials(headers).ok_or(Refusal::Challenge)?;
        let remembered = format!("{user}:{password}");
        if lock(&self.0.verified).contains(&remembered) {
            return Ok(user);
        }
        let keys = [Key::client(client), Key::user(&user)];
        self.not_locked(&keys)?;
        let (hash, known) = match self.0.users.get(&user) {
            Some(hash) => (hash.clone(), true),
            None => (self.0.dummy.clone(), false),
        };
        let _hasher = tokio::time::timeout(HASH_QUEUE_WAIT, self.0.hashers.acquire())
            .await
            .map_err(|_| Refusal::Busy)?
            .map_err(|_| Refusal::Busy)?;
        // Again: guesses queued behind the hasher may have been locked out meanwhile. The
        // failure below is counted before the hasher is free, so none slips past the limit.
        self.not_locked(&keys)?;
        let matched = matches(hash, password).await;
        if !(known && matched) {
            return Err(self.failed(&user, client, &keys));
        }
        let mut verified = lock(&self.0.verified);
        if verified.len() >= MAX_REMEMBERED {
            verified.clear();
        }
        verified.insert(remembered);
        Ok(user)
    }

    fn not_locked(&self, keys: &[Key]) -> Result<(), Refusal> {
        match lock(&self.0.throttle).locked(keys, Instant::now()) {
            Some(wait) => Err(Refusal::Throttled(wait)),
            None => Ok(()),
        }
    }

    /// Counts and logs a failed sign-in.
    fn failed(&self, user: &str, client: IpAddr, keys: &[Key]) -> Refusal {
        tracing::warn!(client = %client, user = %user.escape_debug(), "web sign-in failed: wrong user or password");
        for lockout in lock(&self.0.throttle).failed(keys, Instant::now()) {
            tracing::warn!(
                "web sign-in locked for {}s after repeated failures: {:?}",
                lockout.for_.as_secs(),
                lockout.key
            );
        }
        Refusal::Challenge
    }
}

/// A hash that no password is known to match, with the algorithm, parameters and output length
/// of the first user's hash (by name): verifying against it costs what verifying against theirs
/// does. Made from parts, not by hashing, so that it costs nothing to make.
fn dummy_hash(users: &HashMap<String, String>) -> String {
    let model = users
        .iter()
        .min_by(|a, b| a.0.cmp(b.0))
        .and_then(|(_, hash)| PasswordHash::new(hash).ok());
    let dummy = model.and_then(|model| {
        let zeros = vec![0; model.hash.map_or(32, |output| output.len())];
        let dummy = PasswordHash {
            salt: Some(Salt::from_b64(DUMMY_SALT).ok()?),
            hash: Some(Output::new(&zeros).ok()?),
            ..model
        };
        Some(dummy.to_string())
    });
    dummy.unwrap_or_else(|| DEFAULT_DUMMY.to_owned())
}

/// Whether `password` matches the argon2 `hash`, computed on the blocking pool.
async fn matches(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// User and password of an `Authorization: Basic` header.
fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let encoded = headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?
        .trim();
    let decoded = String::from_utf8(decode_base64(encoded)?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Standard base64 (RFC 4648), as browsers send basic credentials.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0_u32;
    let mut bits = 0;
    for byte in text.bytes().filter(|byte| *byte != b'=') {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use argon2::password_hash::{PasswordHasher, SaltString};
    use axum::http::HeaderValue;

    use super::*;

    fn hash(password: &str) -> String {
        let salt = SaltString::encode_b64(b"sixteen byte salt").expect("salt");
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .expect("hash")
            .to_string()
    }

    /// A hash with parameters other than argon2's defaults.
    fn hash_with(params: argon2::Params, password: &str) -> String {
        let salt = SaltString::encode_b64(b"sixteen byte salt").expect("salt");
        argon2::Argon2::new(argon2::Algorithm::Argon2i, argon2::Version::V0x13, params)
            .hash_password(password.as_bytes(), &salt)
            .expect("hash")
            .to_string()
    }

    /// Whether verifying against `hash` runs argon2 to the end (and finds no match), rather
    /// than failing early on a parameter it cannot use.
    fn costs_a_full_hash(hash: &str) -> bool {
        let parsed = PasswordHash::new(hash).expect("a PHC string");
        argon2::Argon2::default().verify_password(b"any password", &parsed)
            == Err(argon2::password_hash::Error::Password)
    }

    #[test]
    fn the_dummy_hash_has_the_users_parameters() {
        let params = argon2::Params::new(1024, 3, 1, Some(24)).expect("params");
        let real = hash_with(params, "secret");
        let users = HashMap::from([
            ("alice".to_owned(), real.clone()),
            ("zed".to_owned(), hash("other")),
        ]);
        let dummy = dummy_hash(&users);
        let (real, parsed) = (
            PasswordHash::new(&real).expect("real"),
            PasswordHash::new(&dummy).expect("dummy"),
        );
        assert_eq!(parsed.algorithm, real.algorithm);
        assert_eq!(parsed.version, real.version);
        assert_eq!(parsed.params, real.params);
        assert_eq!(parsed.hash.map(|h| h.len()), Some(24));
        assert!(costs_a_full_hash(&dummy), "{dummy}");
        assert_eq!(dummy_hash(&HashMap::new()), DEFAULT_DUMMY);
        assert!(costs_a_full_hash(DEFAULT_DUMMY));
        let default = PasswordHash::new(DEFAULT_DUMMY).expect("default dummy");
        assert_eq!(
            default.params,
            PasswordHash::new(&hash("x")).expect("default").params,
            "argon2's defaults, as speedrackd hash-password uses"
        );
    }

    /// An unknown name goes through the one hasher as a wrong password does: with the hasher
    /// busy, neither is answered (on the paused clock, without a wait that measures time).
    #[tokio::test(start_paused = true)]
    async fn an_unknown_user_waits_for_the_hasher_as_a_wrong_password_does() {
        let sign_in = SignIn::new(HashMap::from([("alice".to_owned(), hash("secret"))]));
        let busy = sign_in.0.hashers.acquire().await.expect("the hasher");
        for credentials in ["alice:wrong", "mallory:wrong"] {
            let client = IpAddr::from(Ipv4Addr::new(10, 0, 0, 1));
            let headers = basic(credentials);
            let check = sign_in.check(&headers, client);
            let answered = tokio::time::timeout(Duration::from_secs(1), check).await;
            assert!(
                answered.is_err(),
                "{credentials} was answered without the hasher: {answered:?}"
            );
        }
        drop(busy);
        let client = IpAddr::from(Ipv4Addr::new(10, 0, 0, 1));
        let refusal = sign_in.check(&basic("mallory:wrong"), client).await;
        assert_eq!(refusal, Err(Refusal::Challenge));
    }

    fn encode(text: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let bytes = text.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0_u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    fn basic(credentials: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!("Basic {}", encode(credentials));
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&value).expect("header"),
        );
        headers
    }

    #[test]
    fn decodes_base64() {
        assert_eq!(
            decode_base64("YWxpY2U6c2VjcmV0").as_deref(),
            Some(&b"alice:secret"[..])
        );
        assert_eq!(decode_base64("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode_base64("!!"), None);
    }

    #[tokio::test]
    async fn only_a_known_user_with_the_right_password_signs_in() {
        let sign_in = SignIn::new(HashMap::from([("alice".to_owned(), hash("secret"))]));
        let here = IpAddr::from(Ipv4Addr::LOCALHOST);
        let check = async |credentials: &str| sign_in.check(&basic(credentials), here).await;
        assert_eq!(check("alice:secret").await, Ok("alice".to_owned()));
        assert_eq!(
            check("alice:secret").await,
            Ok("alice".to_owned()),
            "from the cache the second time"
        );
        assert_eq!(check("alice:wrong").await, Err(Refusal::Challenge));
        assert_eq!(check("mallory:secret").await, Err(Refusal::Challenge));
        assert_eq!(
            sign_in.check(&HeaderMap::new(), here).await,
            Err(Refusal::Challenge)
        );
    }

    #[tokio::test]
    async fn repeated_failures_are_throttled_but_known_credentials_still_work() {
        let sign_in = SignIn::new(HashMap::from([
            ("alice".to_owned(), hash("secret")),
            ("bob".to_owned(), hash("hunter2")),
        ]));
        let here = IpAddr::from(Ipv4Addr::LOCALHOST);
        assert!(sign_in.check(&basic("alice:secret"), here).await.is_ok());
        for _ in 0..crate::throttle::USER_FAILURES {
            assert_eq!(
                sign_in.check(&basic("alice:guess"), here).await,
                Err(Refusal::Challenge)
            );
        }
        assert!(matches!(
            sign_in.check(&basic("alice:guess"), here).await,
            Err(Refusal::Throttled(_))
        ));
        assert_eq!(
            sign_in.check(&basic("alice:secret"), here).await,
            Ok("alice".to_owned()),
            "a browser already signed in stays signed in"
        );
        assert_eq!(
            sign_in.check(&basic("bob:hunter2"), here).await,
            Ok("bob".to_owned())
        );
    }
}
