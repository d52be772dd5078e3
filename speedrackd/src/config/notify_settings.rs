//! The `email:` and `notify:` sections of the settings, and `sentry_dsn`.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

/// How to reach the SMTP server and whom to tell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailSettings {
    /// The global off switch (seed EMAIL_DISABLED).
    pub disabled: bool,
    /// Seed EMAIL_SMTP. No host means no mail (logged once per task).
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    pub smtp_tls: SmtpTls,
    pub smtp_username: Option<String>,
    /// Where the password is read from, at send time; it is never logged or shown.
    pub smtp_password_file: Option<PathBuf>,
    pub smtp_password_env: Option<String>,
    /// Seed EMAIL_FROM_ADDRESS.
    pub from: Option<String>,
    /// Seed EMAIL_TO_GLOBAL: gets every notification too.
    #[serde(deserialize_with = "address_list")]
    pub to_global: Vec<String>,
}

impl Default for EmailSettings {
    fn default() -> Self {
        EmailSettings {
            disabled: false,
            smtp_host: None,
            smtp_port: 25,
            smtp_tls: SmtpTls::None,
            smtp_username: None,
            smtp_password_file: None,
            smtp_password_env: None,
            from: None,
            to_global: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    #[default]
    None,
    Starttls,
    Tls,
}

/// Channels besides email, and the alert policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// URLs that receive a JSON document of each notified run (Slack-compatible `text`).
    pub webhooks: Vec<String>,
    /// Alert on failure only once this many runs in a row failed (per-task override).
    pub after_failures: u32,
    /// At most one notification per task in this long (per-task override).
    #[serde(with = "super::settings::optional_duration")]
    pub min_interval: Option<Duration>,
    /// Attempts after the first failed delivery, with doubling waits from `retry_backoff`.
    pub retries: u32,
    #[serde(with = "super::settings::duration")]
    pub retry_backoff: Duration,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            webhooks: Vec::new(),
            after_failures: 1,
            min_interval: None,
            retries: 3,
            retry_backoff: Duration::from_secs(2),
        }
    }
}

/// A comma-separated text or a list of addresses.
pub fn address_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Text(String),
        List(Vec<String>),
    }
    let items = match Written::deserialize(deserializer)? {
        Written::Text(text) => text.split(',').map(str::to_owned).collect(),
        Written::List(list) => list,
    };
    Ok(items
        .into_iter()
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect())
}
