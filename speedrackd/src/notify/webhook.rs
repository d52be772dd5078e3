//! Posting a notice's JSON document to a webhook URL.

use std::time::Duration;

use super::message::{Notice, webhook_json};

const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a webhook did not take a notice. reqwest's errors name the URL, whose path may be the
/// secret: it is cut out before an error is kept.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("{0} (is the receiver up and the URL right?)")]
    Post(#[source] reqwest::Error),
    #[error("{0} (the receiver refused the notice: see its logs)")]
    Refused(#[source] reqwest::Error),
}

pub async fn send(http: &reqwest::Client, url: &str, notice: &Notice) -> Result<(), WebhookError> {
    let response = http
        .post(url)
        .timeout(WEBHOOK_TIMEOUT)
        .json(&webhook_json(notice))
        .send()
        .await
        .map_err(|error| WebhookError::Post(error.without_url()))?;
    response
        .error_for_status()
        .map(|_| ())
        .map_err(|error| WebhookError::Refused(error.without_url()))
}

/// A webhook URL's path often is its secret token: only scheme and host are ever shown.
pub fn redact(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |at| at + 3);
    let host_end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |at| after_scheme + at);
    format!("{}/…", &url[..host_end])
}

#[cfg(test)]
mod tests {
    #[test]
    fn shows_only_scheme_and_host() {
        assert_eq!(
            super::redact("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            super::redact("http://127.0.0.1:9999"),
            "http://127.0.0.1:9999/…"
        );
    }
}
