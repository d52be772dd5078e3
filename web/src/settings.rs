//! The `web:` section of speedrack_settings.yaml, read by speedrackd (which hosts the gateway)
//! and by `speedrack-web --settings`: who may sign in, which proxies may name the user, and how
//! many connections the gateway holds for how long.
//!
//! It validates and converts; what the values do is `auth.rs`, `limits.rs` and `server.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

use argon2::password_hash::PasswordHash;
use ipnet::IpNet;

use crate::auth::Auth;
use crate::limits::ConnectionLimits;

/// The `web:` section.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    pub auth: AuthMode,
    /// For `basic`: user name to argon2 hash (`speedrackd hash-password` makes one).
    pub users: BTreeMap<String, String>,
    /// For `proxy_header`: the header the proxy sets to the signed-in user's name.
    pub proxy_header: String,
    /// For `proxy_header`: the addresses (or CIDR blocks) of the proxies allowed to set it.
    pub trusted_proxies: Vec<String>,
    pub realm: String,
    /// How long a client may take to send a request's headers (and may stay idle between
    /// requests on a kept-alive connection).
    #[serde(with = "header_timeout")]
    pub header_timeout: Duration,
    /// The most connections the web UI serves at once (fewer when the open-file limit is low).
    #[serde(deserialize_with = "max_connections")]
    pub max_connections: usize,
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
        let limits = ConnectionLimits::default();
        WebSettings {
            auth: AuthMode::None,
            users: BTreeMap::new(),
            proxy_header: "X-Forwarded-User".to_owned(),
            trusted_proxies: Vec::new(),
            realm: "speedrack".to_owned(),
            header_timeout: limits.header_timeout,
            max_connections: limits.max_connections,
        }
    }
}

/// The bounds of `header_timeout`: below a second, slow but honest clients fail; beyond five
/// minutes, the timeout no longer frees connections.
const HEADER_TIMEOUT_RANGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(300));
/// The bounds of `max_connections`.
const MAX_CONNECTIONS_RANGE: (usize, usize) = (1, 65_536);

impl WebSettings {
    /// The gateway's authentication; an error says what in the settings is wrong.
    pub fn auth(&self) -> Result<Auth, String> {
        match self.auth {
            AuthMode::None => Ok(Auth::None),
            AuthMode::ProxyHeader => self.proxy_auth(),
            AuthMode::Basic => self.basic_auth(),
        }
    }

    /// The connection limits.
    pub fn limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: self.header_timeout,
            max_connections: self.max_connections,
        }
    }

    fn proxy_auth(&self) -> Result<Auth, String> {
        axum::http::HeaderName::from_bytes(self.proxy_header.as_bytes()).map_err(|_| {
            format!(
                "web.proxy_header {:?} is not a header name",
                self.proxy_header
            )
        })?;
        if self.trusted_proxies.is_empty() {
            return Err(
                "web.auth is proxy_header but web.trusted_proxies is empty: list the \
                        addresses of the authenticating proxy (like [127.0.0.1] or [10.0.0.0/8]); \
                        otherwise anyone who reaches the port could name any user"
                    .to_owned(),
            );
        }
        let trusted = self
            .trusted_proxies
            .iter()
            .map(|text| parse_network(text))
            .collect::<Result<_, _>>()?;
        Ok(Auth::ProxyHeader {
            header: self.proxy_header.clone(),
            trusted,
        })
    }

    fn basic_auth(&self) -> Result<Auth, String> {
        if self.users.is_empty() {
            return Err("web.auth is basic but web.users names nobody".to_owned());
        }
        for (user, hash) in &self.users {
            PasswordHash::new(hash).map_err(|error| {
                format!(
                    "web.users.{user} is not an argon2 hash ({error}); make one with speedrackd hash-password"
                )
            })?;
        }
        Ok(Auth::Basic {
            realm: self.realm.clone(),
            users: self.users.clone().into_iter().collect(),
        })
    }
}

/// An address (`10.0.0.1`, `::1`) or a CIDR block (`10.0.0.0/8`).
fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!(
                "web.trusted_proxies entry {text:?} is not an address or a CIDR block like 10.0.0.0/8"
            )
        })
}

/// `header_timeout`, written like `10s`, within [`HEADER_TIMEOUT_RANGE`].
mod header_timeout {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&humantime::format_duration(*value).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        let value = humantime::parse_duration(&text).map_err(|err| {
            D::Error::custom(format!(
                "web.header_timeout {text:?} is not a duration: {err} (write it like 10s)"
            ))
        })?;
        let (low, high) = super::HEADER_TIMEOUT_RANGE;
        if !(low..=high).contains(&value) {
            return Err(D::Error::custom(format!(
                "web.header_timeout {text:?} is out of range: give between {} and {}",
                humantime::format_duration(low),
                humantime::format_duration(high)
            )));
        }
        Ok(value)
    }
}

fn max_connections<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<usize, D::Error> {
    use serde::Deserialize;
    let value = u64::deserialize(deserializer)?;
    let (low, high) = MAX_CONNECTIONS_RANGE;
    usize::try_from(value)
        .ok()
        .filter(|value| (low..=high).contains(value))
        .ok_or_else(|| {
            serde::de::Error::custom(format!(
                "web.max_connections {value} is out of range: give between {low} and {high}"
            ))
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn web(text: &str) -> Result<WebSettings, String> {
        web_settings_from_yaml(&format!("web: {text}\n"))
    }

    #[test]
    fn a_proxy_header_needs_trusted_proxies() {
        let error = web("{auth: proxy_header}")
            .expect("parses")
            .auth()
            .expect_err("no trusted proxies");
        assert!(error.contains("web.trusted_proxies"), "{error}");
        let auth = web("{auth: proxy_header, trusted_proxies: [127.0.0.1, '10.0.0.0/8', '::1']}")
            .expect("parses")
            .auth()
            .expect("valid");
        let Auth::ProxyHeader { trusted, .. } = auth else {
            panic!("proxy auth: {auth:?}");
        };
        assert_eq!(trusted.len(), 3);
        let error = web("{auth: proxy_header, trusted_proxies: [proxy.example]}")
            .expect("parses")
            .auth()
            .expect_err("a name is no address");
        assert!(error.contains("proxy.example"), "{error}");
    }

    #[test]
    fn connection_limits_are_bounded() {
        let limits = web("{header_timeout: 3s, max_connections: 20}")
            .expect("valid")
            .limits();
        assert_eq!(limits.header_timeout, Duration::from_secs(3));
        assert_eq!(limits.max_connections, 20);
        for (text, named) in [
            ("{header_timeout: 0s}", "header_timeout"),
            ("{header_timeout: 18446744073709551615s}", "header_timeout"),
            ("{header_timeout: soon}", "header_timeout"),
            ("{max_connections: 0}", "max_connections"),
            ("{max_connections: 1000000}", "max_connections"),
        ] {
            let error = web(text).expect_err(text);
            assert!(error.contains(named), "{text}: {error}");
        }
    }
}
