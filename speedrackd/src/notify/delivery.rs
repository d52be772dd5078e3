//! Delivering one notice in a task of its own: the output excerpt read from the run's files,
//! each channel tried with retries and backoff, and what finally failed handed back to the
//! runtime as a [`NotificationFailure`]. It never touches the history database; deciding
//! whether to send is `decision`'s, and the runtime records the failure.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use super::NotificationFailure;
use super::email::{self, EmailError};
use super::message::{EXCERPT_BYTES, Notice};
use super::sentry_event::{self, SentryError};
use super::webhook::{self, WebhookError};
use crate::config::Settings;
use crate::history::output::{Stream, read_slice, stream_path};
use crate::metrics::Metrics;
use crate::run::{RunEnd, RunRecord};

/// One way of telling someone.
#[derive(Debug, Clone)]
pub(super) enum Channel {
    Email { to: Vec<String> },
    Webhook(String),
    Sentry(String),
}

impl Channel {
    /// The channel in words, never showing a webhook's path (it may be the secret).
    pub(super) fn describe(&self) -> String {
        match self {
            Channel::Email { to } => format!("email to {}", to.join(", ")),
            Channel::Webhook(url) => format!("webhook {}", webhook::redact(url)),
            Channel::Sentry(_) => "sentry".to_owned(),
        }
    }
}

/// Why a notice did not go out on one channel.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Email(#[from] EmailError),
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    #[error(transparent)]
    Sentry(#[from] SentryError),
}

/// One notice on its way, owned by its own task.
pub(super) struct Delivery {
    /// Where the run's output files are, for the excerpt.
    pub(super) data_dir: PathBuf,
    pub(super) failures: Option<mpsc::Sender<NotificationFailure>>,
    pub(super) metrics: Option<Metrics>,
    pub(super) http: reqwest::Client,
    pub(super) settings: Settings,
    pub(super) retries: u32,
    pub(super) backoff: Duration,
}

impl Delivery {
    pub(super) async fn deliver(self, channels: Vec<Channel>, mut notice: Notice) {
        let (stream, excerpt) = excerpt(&self.data_dir, &notice.run, &notice.end);
        notice.excerpt = excerpt;
        notice.excerpt_stream = Some(stream);
        let mut failed = Vec::new();
        for channel in &channels {
            if let Err(error) = self.send_with_retries(channel, &notice).await {
                tracing::warn!(task = %notice.run.task, run = %notice.run.id, "notification failed: {}: {error}", channel.describe());
                failed.push(format!("{}: {error}", channel.describe()));
                if let Some(metrics) = &self.metrics {
                    metrics.notification_failed(&notice.run.task);
                }
            }
        }
        if !failed.is_empty() {
            self.hand_back(NotificationFailure {
                run: notice.run.id,
                task: notice.run.task.clone(),
                text: format!("notification failed: {}", failed.join("; ")),
            });
        }
    }

    /// Gives a failure to the runtime to record. The queue is bounded; a failure that finds it
    /// full is only logged.
    fn hand_back(&self, failure: NotificationFailure) {
        let Some(failures) = &self.failures else {
            return;
        };
        match failures.try_send(failure) {
            Ok(()) => {}
            Err(TrySendError::Full(failure)) => {
                tracing::error!(run = %failure.run, task = %failure.task, "too many notification failures wait to be recorded; this one is not: {}", failure.text);
            }
            Err(TrySendError::Closed(failure)) => {
                tracing::warn!(run = %failure.run, task = %failure.task, "the daemon is stopping; a notification failure is not recorded: {}", failure.text);
            }
        }
    }

    async fn send_with_retries(&self, channel: &Channel, notice: &Notice) -> Result<(), SendError> {
        let mut wait = self.backoff;
        let mut attempt = 0;
        loop {
            match send_once(&self.http, &self.settings, channel, notice).await {
                Ok(()) => return Ok(()),
                Err(error) if attempt >= self.retries => return Err(error),
                Err(_) => {
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                    wait = wait.saturating_mul(2);
                }
            }
        }
    }
}

/// Sends `notice` on `channel` once.
pub(super) async fn send_once(
    http: &reqwest::Client,
    settings: &Settings,
    channel: &Channel,
    notice: &Notice,
) -> Result<(), SendError> {
    match channel {
        Channel::Email { to } => email::send(&settings.email, to, notice).await?,
        Channel::Webhook(url) => webhook::send(http, url, notice).await?,
        Channel::Sentry(dsn) => sentry_event::send(dsn, notice).await?,
    }
    Ok(())
}

/// The first bytes of stderr, or of stdout when stderr is empty, as text, and which it is.
fn excerpt(data_dir: &std::path::Path, run: &RunRecord, end: &RunEnd) -> (Stream, String) {
    let stream = if end.stderr_bytes > 0 {
        Stream::Stderr
    } else {
        Stream::Stdout
    };
    let path = stream_path(data_dir, &run.task, run.id, stream);
    let bytes = read_slice(&path, 0, EXCERPT_BYTES)
        .map(|slice| slice.data)
        .unwrap_or_default();
    (stream, String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
pub(super) mod tests {
    use chrono::TimeZone;

    use super::super::decision::Alert;
    use super::*;
    use crate::config::TaskName;
    use crate::run::{RunId, RunStatus};

    /// A failure of run 7 of `backup`, at the epoch; the run's end is the notice's.
    pub(in crate::notify) fn notice() -> Notice {
        let at = chrono::Utc.timestamp_opt(0, 0).single().expect("instant");
        Notice {
            app_name: "Speedrack".to_owned(),
            host: "localhost".to_owned(),
            alert: Alert::Failed,
            run: RunRecord::scheduled(7, "backup", at),
            end: RunEnd::bare(at, RunStatus::Failure, String::new()),
            link: None,
            excerpt: String::new(),
            excerpt_stream: None,
        }
    }

    fn delivery(failures: mpsc::Sender<NotificationFailure>) -> Delivery {
        Delivery {
            data_dir: PathBuf::from("/nonexistent"),
            failures: Some(failures),
            metrics: None,
            http: reqwest::Client::new(),
            settings: Settings::default(),
            retries: 0,
            backoff: Duration::ZERO,
        }
    }

    /// A webhook nobody listens on, with a secret path.
    fn dead_webhook() -> Channel {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        Channel::Webhook(format!("http://127.0.0.1:{port}/secret-token"))
    }

    #[tokio::test]
    async fn a_final_failure_is_handed_back_naming_the_channel_but_not_the_webhooks_path() {
        let (failures, mut handed_back) = mpsc::channel(1);
        delivery(failures)
            .deliver(vec![dead_webhook()], notice())
            .await;
        let failure = handed_back.try_recv().expect("a failure handed back");
        assert_eq!(failure.run, RunId(7));
        assert_eq!(failure.task.as_str(), "backup");
        assert!(
            failure
                .text
                .starts_with("notification failed: webhook http://127.0.0.1:"),
            "{}",
            failure.text
        );
        assert!(!failure.text.contains("secret-token"), "{}", failure.text);
    }

    #[tokio::test]
    async fn a_failure_that_finds_the_queue_full_is_dropped_without_waiting() {
        let (failures, mut handed_back) = mpsc::channel(1);
        let waiting = NotificationFailure {
            run: RunId(1),
            task: TaskName::normalise("other").expect("name"),
            text: "notification failed: earlier".to_owned(),
        };
        failures.try_send(waiting.clone()).expect("room for one");
        let delivered = delivery(failures).deliver(vec![dead_webhook()], notice());
        tokio::time::timeout(Duration::from_secs(20), delivered)
            .await
            .expect("the delivery ends although the queue is full");
        assert_eq!(handed_back.try_recv().ok(), Some(waiting));
        assert!(
            handed_back.try_recv().is_err(),
            "the new failure is dropped"
        );
    }
}
