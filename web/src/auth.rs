//! Who may use the gateway when it is not just for the local machine: HTTP basic
//! authentication against argon2 password hashes, or a user name in a header set by an
//! authenticating reverse proxy. The signed-in user is what the daemon records as who asked.
//!
//! Without authentication configured, this middleware lets everything through and the
//! attribution cookie names the user (see `identity`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// How the gateway knows who is there.
#[derive(Debug, Clone, Default)]
pub enum Auth {
    /// Nobody is asked; for loopback-only gateways.
    #[default]
    None,
    /// HTTP basic authentication; `users` maps names to argon2 PHC hashes.
    Basic {
        realm: String,
        users: HashMap<String, String>,
    },
    /// A reverse proxy authenticates and names the user in this header.
    ProxyHeader { header: String },
}

/// The authenticated user of a request, put into its extensions by [`require`].
#[derive(Debug, Clone)]
pub struct SignedIn(pub String);

/// Credentials already checked, so that argon2 (tens of milliseconds on purpose) runs once per
/// browser session rather than on every request of a live page.
#[derive(Debug, Default, Clone)]
pub struct Verified(Arc<Mutex<HashSet<String>>>);

/// Lets a request through only with a known user, whom it names in the request's extensions.
pub async fn require(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let user = match state.auth() {
        Auth::None => return next.run(request).await,
        Auth::Basic { realm, users } => {
            match basic_user(request.headers(), users, state.verified()) {
                Some(user) => user,
                None => return challenge(realm),
            }
        }
        Auth::ProxyHeader { header } => match request
            .headers()
            .get(header.as_str())
            .and_then(|value| value.to_str().ok())
        {
            Some(user) if !user.trim().is_empty() => user.trim().to_owned(),
            _ => {
                let message = format!(
                    "this speedrack is served behind an authenticating proxy; the request has no {header} header"
                );
                return (StatusCode::FORBIDDEN, message).into_response();
            }
        },
    };
    request.extensions_mut().insert(SignedIn(user));
    next.run(request).await
}

fn challenge(realm: &str) -> Response {
    let value = HeaderValue::from_str(&format!("Basic realm=\"{realm}\", charset=\"UTF-8\""))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    (
        StatusCode::UNAUTHORIZED,
        [(WWW_AUTHENTICATE, value)],
        "sign in to use this speedrack",
    )
        .into_response()
}

/// The user named by a valid `Authorization: Basic` header.
fn basic_user(
    headers: &HeaderMap,
    users: &HashMap<String, String>,
    verified: &Verified,
) -> Option<String> {
    let encoded = headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?
        .trim();
    let decoded = String::from_utf8(decode_base64(encoded)?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    let hash = users.get(user)?;
    let mut known = verified
        .0
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if known.contains(encoded) {
        return Some(user.to_owned());
    }
    let parsed = PasswordHash::new(hash).ok()?;
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .ok()?;
    known.insert(encoded.to_owned());
    Some(user.to_owned())
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
    use argon2::password_hash::{PasswordHasher, SaltString};

    use super::*;

    fn hash(password: &str) -> String {
        let salt = SaltString::encode_b64(b"sixteen byte salt").expect("salt");
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .expect("hash")
            .to_string()
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

    #[test]
    fn only_a_known_user_with_the_right_password_signs_in() {
        let users = HashMap::from([("alice".to_owned(), hash("secret"))]);
        let verified = Verified::default();
        let with = |credentials: &str| {
            let mut headers = HeaderMap::new();
            let value = format!("Basic {}", encode(credentials));
            headers.insert(
                AUTHORIZATION,
                HeaderValue::from_str(&value).expect("header"),
            );
            basic_user(&headers, &users, &verified)
        };
        assert_eq!(with("alice:secret"), Some("alice".to_owned()));
        assert_eq!(
            with("alice:secret"),
            Some("alice".to_owned()),
            "from the cache the second time"
        );
        assert_eq!(with("alice:wrong"), None);
        assert_eq!(with("mallory:secret"), None);
        assert_eq!(basic_user(&HeaderMap::new(), &users, &verified), None);
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
}

/// The `web:` section of speedrack_settings.yaml, read by speedrackd (which hosts the
/// gateway) and by `speedrack-web --settings`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    pub auth: AuthMode,
    /// For `basic`: user name to argon2 hash (`speedrackd hash-password` makes one).
    pub users: std::collections::BTreeMap<String, String>,
    /// For `proxy_header`: the header the proxy sets to the signed-in user's name.
    pub proxy_header: String,
    pub realm: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    #[default]
    None,
    Basic,
    ProxyHeader,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            auth: AuthMode::None,
            users: std::collections::BTreeMap::new(),
            proxy_header: "X-Forwarded-User".to_owned(),
            realm: "speedrack".to_owned(),
        }
    }
}

impl WebSettings {
    /// The gateway's authentication; an error says what in the settings is wrong.
    pub fn auth(&self) -> Result<Auth, String> {
        match self.auth {
            AuthMode::None => Ok(Auth::None),
            AuthMode::ProxyHeader => {
                axum::http::HeaderName::from_bytes(self.proxy_header.as_bytes()).map_err(|_| {
                    format!(
                        "web.proxy_header {:?} is not a header name",
                        self.proxy_header
                    )
                })?;
                Ok(Auth::ProxyHeader {
                    header: self.proxy_header.clone(),
                })
            }
            AuthMode::Basic => {
                if self.users.is_empty() {
                    return Err("web.auth is basic but web.users names nobody".to_owned());
                }
                for (user, hash) in &self.users {
                    PasswordHash::new(hash).map_err(|error| {
                        format!("web.users.{user} is not an argon2 hash ({error}); make one with speedrackd hash-password")
                    })?;
                }
                let users = self
                    .users
                    .iter()
                    .map(|(user, hash)| (user.clone(), hash.clone()))
                    .collect();
                Ok(Auth::Basic {
                    realm: self.realm.clone(),
                    users,
                })
            }
        }
    }
}

/// Reads only the `web:` section of a settings file (the standalone gateway's view of it).
pub fn web_settings_from_yaml(text: &str) -> Result<WebSettings, String> {
    #[derive(serde::Deserialize)]
    struct OnlyWeb {
        #[serde(default)]
        web: WebSettings,
    }
    let parsed: Option<OnlyWeb> = serde_yaml::from_str(text).map_err(|error| error.to_string())?;
    Ok(parsed.map(|only| only.web).unwrap_or_default())
}
