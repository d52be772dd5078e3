//! Turning a failed run into a Sentry event (seed Todo "failure notification - raven / sentry"):
//! the task is the fingerprint, so each task is one issue in Sentry.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sentry::protocol::{Event, Level};
use sentry::transports::ReqwestHttpTransport;

use super::message::{Notice, subject};

const FLUSH: Duration = Duration::from_secs(10);

/// Why an event did not reach Sentry.
#[derive(Debug, thiserror::Error)]
pub enum SentryError {
    #[error("sentry_dsn is not a DSN: {0} (copy it from the Sentry project's settings)")]
    Dsn(#[source] sentry::types::ParseDsnError),
    #[error("the event was not sent within {}s (is Sentry reachable?)", FLUSH.as_secs())]
    NotInTime,
    #[error("the sentry sender failed: {0}")]
    Sender(#[source] tokio::task::JoinError),
}

pub async fn send(dsn: &str, notice: &Notice) -> Result<(), SentryError> {
    let dsn: sentry::types::Dsn = dsn.parse().map_err(SentryError::Dsn)?;
    let event = event(notice);
    tokio::task::spawn_blocking(move || {
        let options = sentry::apply_defaults(sentry::ClientOptions {
            dsn: Some(dsn),
            release: Some(env!("CARGO_PKG_VERSION").into()),
            transport: Some(Arc::new(bounded_transport)),
            ..Default::default()
        });
        let client = sentry::Client::from_config(options);
        client.capture_event(event, None);
        if client.flush(Some(FLUSH)) {
            Ok(())
        } else {
            Err(SentryError::NotInTime)
        }
    })
    .await
    .map_err(SentryError::Sender)?
}

/// Sentry's HTTP transport with a request timeout: dropping the client waits for the transport's
/// thread, so a Sentry that never answers must not be able to hold it forever.
fn bounded_transport(options: &sentry::ClientOptions) -> Arc<dyn sentry::Transport> {
    let client = reqwest::Client::builder()
        .timeout(FLUSH)
        .build()
        .unwrap_or_default();
    Arc::new(ReqwestHttpTransport::with_client(options, client))
}

fn event(notice: &Notice) -> Event<'static> {
    let (run, end) = (&notice.run, &notice.end);
    let mut tags = BTreeMap::new();
    tags.insert("task".to_owned(), run.task.to_string());
    tags.insert("status".to_owned(), end.status.as_str().to_owned());
    let mut extra = BTreeMap::new();
    extra.insert("reason".to_owned(), end.reason.clone().into());
    extra.insert("run_id".to_owned(), run.id.0.into());
    extra.insert("output_excerpt".to_owned(), notice.excerpt.clone().into());
    if let Some(link) = &notice.link {
        extra.insert("link".to_owned(), link.clone().into());
    }
    Event {
        message: Some(format!("{}: {}", subject(notice), end.reason)),
        level: Level::Error,
        fingerprint: vec![run.task.to_string().into()].into(),
        server_name: Some(notice.host.clone().into()),
        tags,
        extra,
        ..Default::default()
    }
}
