//! Who may scrape `/metrics`, and where: the `metrics:` section of speedrack_settings.yaml.
//!
//! Prometheus should not need the UI's password, and `--no-web` should not take the metrics
//! away, so `/metrics` has settings of its own: `metrics.listen` serves it (and nothing else)
//! on an address of its own, and `metrics.token_file` names a file holding a bearer token
//! that a scrape must present (Prometheus' `authorization: {credentials_file: …}`). With a
//! token, `/metrics` on the UI's port asks for the token instead of the UI's sign-in.
//!
//! This module reads and checks the token; serving is `routes/metrics.rs` and [`crate::serve_metrics`].

use std::fmt;
use std::io::Read;
use std::net::SocketAddr;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use rand::Rng;
use ring::hmac;

/// The `metrics:` section.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Where speedrackd serves `/metrics` alone, also with `--no-web`; unset serves it only on
    /// the UI's port.
    pub listen: Option<SocketAddr>,
    /// A file holding the bearer token scrapes must present; unset leaves `/metrics` under the
    /// UI's authentication on the UI's port and open on `listen` (loopback only).
    pub token_file: Option<PathBuf>,
}

/// The longest token accepted; a longer file is a mistake (a key pair, a log), not a token.
const MAX_TOKEN_BYTES: u64 = 4096;
/// The shortest token accepted: anything shorter can be guessed.
const MIN_TOKEN_BYTES: usize = 16;

/// Why the metrics settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MetricsAccessError {
    #[error("cannot read metrics.token_file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "metrics.token_file {path} has mode {mode:o}, so any user may read the token: chmod o-rwx {path}"
    )]
    Exposed { path: PathBuf, mode: u32 },
    #[error(
        "metrics.token_file {path} belongs to uid {owner}, who could change the token: make it \
         belong to root or to uid {me} (this process)"
    )]
    Foreign { path: PathBuf, owner: u32, me: u32 },
    #[error(
        "metrics.token_file {path} must hold one token of {MIN_TOKEN_BYTES} to {MAX_TOKEN_BYTES} \
         printable characters (make one with: head -c 32 /dev/urandom | base64)"
    )]
    Malformed { path: PathBuf },
    #[error(
        "refusing to serve /metrics on {0}: it is not a loopback address and metrics.token_file \
         is not set; set it, or listen on 127.0.0.1"
    )]
    NotLoopback(SocketAddr),
}

/// The bearer token a scrape must present. Its `Debug` never shows it.
#[derive(Clone)]
pub struct MetricsToken {
    /// The token is compared through its HMAC under a key of this process, so that the
    /// comparison takes the same time wherever the presented token differs.
    key: hmac::Key,
    tag: hmac::Tag,
}

impl fmt::Debug for MetricsToken {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("MetricsToken(redacted)")
    }
}

impl MetricsToken {
    /// The token in `path`: a file others may not read, owned by root or by this process.
    pub fn load(path: &Path) -> Result<MetricsToken, MetricsAccessError> {
        let io = |source| MetricsAccessError::Io {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(
                (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32,
            )
            .open(path)
            .map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        let mode = meta.mode() & 0o7777;
        if mode & 0o007 != 0 {
            return Err(MetricsAccessError::Exposed {
                path: path.to_owned(),
                mode,
            });
        }
        let me = rustix::process::geteuid().as_raw();
        if meta.uid() != 0 && meta.uid() != me {
            return Err(MetricsAccessError::Foreign {
                path: path.to_owned(),
                owner: meta.uid(),
                me,
            });
        }
        let mut text = String::new();
        let read = file.take(MAX_TOKEN_BYTES + 1).read_to_string(&mut text);
        let malformed = || MetricsAccessError::Malformed {
            path: path.to_owned(),
        };
        if read.is_err() || !meta.is_file() {
            return Err(malformed());
        }
        MetricsToken::new(text.trim()).ok_or_else(malformed)
    }

    fn new(token: &str) -> Option<MetricsToken> {
        let acceptable = (MIN_TOKEN_BYTES..=MAX_TOKEN_BYTES as usize).contains(&token.len())
            && token.bytes().all(|byte| byte.is_ascii_graphic());
        if !acceptable {
            return None;
        }
        let key = hmac::Key::new(hmac::HMAC_SHA256, &rand::rng().random::<[u8; 32]>());
        let tag = hmac::sign(&key, token.as_bytes());
        Some(MetricsToken { key, tag })
    }

    /// True when the request carries `Authorization: Bearer <this token>`.
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(presented) = headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
        else {
            return false;
        };
        hmac::verify(&self.key, presented.trim().as_bytes(), self.tag.as_ref()).is_ok()
    }
}

impl MetricsSettings {
    /// The token, when the settings name a file for it.
    pub fn token(&self) -> Result<Option<MetricsToken>, MetricsAccessError> {
        self.token_file
            .as_deref()
            .map(MetricsToken::load)
            .transpose()
    }

    /// Refuses a metrics address beyond loopback that anyone could scrape.
    pub fn check_listen(
        address: SocketAddr,
        token: Option<&MetricsToken>,
    ) -> Result<(), MetricsAccessError> {
        match address.ip().is_loopback() || token.is_some() {
            true => Ok(()),
            false => Err(MetricsAccessError::NotLoopback(address)),
        }
    }
}

/// The `metrics:` section of a settings file's text (absent: the defaults).
pub fn metrics_settings_from_yaml(text: &str) -> Result<MetricsSettings, String> {
    #[derive(serde::Deserialize)]
    struct OnlyMetrics {
        #[serde(default)]
        metrics: MetricsSettings,
    }
    let parsed: Option<OnlyMetrics> =
        serde_yaml::from_str(text).map_err(|error| error.to_string())?;
    Ok(parsed.map(|only| only.metrics).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    use axum::http::HeaderValue;

    use super::*;

    const TOKEN: &str = "s3cret-token-0123456789";

    fn token_file(mode: u32, text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("token");
        let mut file = std::fs::File::create(&path).expect("create");
        file.write_all(text.as_bytes()).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        (dir, path)
    }

    fn bearer(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).expect("header"));
        headers
    }

    #[test]
    fn only_the_token_in_the_file_is_admitted() {
        let (_dir, path) = token_file(0o640, &format!("{TOKEN}\n"));
        let token = MetricsToken::load(&path).expect("a private token");
        assert!(token.admits(&bearer(&format!("Bearer {TOKEN}"))));
        assert!(!token.admits(&bearer(&format!("Bearer {TOKEN}x"))));
        assert!(!token.admits(&bearer(&format!("Basic {TOKEN}"))));
        assert!(!token.admits(&HeaderMap::new()));
        assert_eq!(format!("{token:?}"), "MetricsToken(redacted)");
    }

    #[test]
    fn a_readable_short_or_binary_token_file_is_refused() {
        let (_dir, path) = token_file(0o644, TOKEN);
        let error = MetricsToken::load(&path).expect_err("world-readable");
        assert!(error.to_string().contains("chmod o-rwx"), "{error}");
        let (_dir, path) = token_file(0o600, "short");
        assert!(matches!(
            MetricsToken::load(&path),
            Err(MetricsAccessError::Malformed { .. })
        ));
        let (_dir, path) = token_file(0o600, "two words in a token file");
        assert!(matches!(
            MetricsToken::load(&path),
            Err(MetricsAccessError::Malformed { .. })
        ));
        let error = MetricsToken::load(Path::new("/nonexistent/token")).expect_err("missing");
        assert!(error.to_string().contains("/nonexistent/token"), "{error}");
    }

    #[test]
    fn an_open_address_needs_a_token() {
        let open: SocketAddr = "0.0.0.0:9118".parse().expect("addr");
        let local: SocketAddr = "127.0.0.1:9118".parse().expect("addr");
        assert!(MetricsSettings::check_listen(local, None).is_ok());
        let error = MetricsSettings::check_listen(open, None).expect_err("open, no token");
        assert!(error.to_string().contains("metrics.token_file"), "{error}");
        let token = MetricsToken::new(TOKEN).expect("token");
        assert!(MetricsSettings::check_listen(open, Some(&token)).is_ok());
    }

    #[test]
    fn the_section_parses_and_rejects_unknown_keys() {
        let settings =
            metrics_settings_from_yaml("metrics: {listen: '127.0.0.1:9118', token_file: /t}\n")
                .expect("valid");
        assert_eq!(
            settings.listen,
            Some("127.0.0.1:9118".parse().expect("addr"))
        );
        assert_eq!(settings.token_file.as_deref(), Some(Path::new("/t")));
        assert_eq!(
            metrics_settings_from_yaml("app_name: x\n").expect("absent"),
            MetricsSettings::default()
        );
        let error = metrics_settings_from_yaml("metrics: {port: 1}\n").expect_err("unknown");
        assert!(error.contains("port"), "{error}");
    }
}
