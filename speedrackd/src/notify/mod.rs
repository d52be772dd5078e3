//! Telling people about runs: deciding (pure, in `decision`), then delivering by email,
//! webhooks and Sentry in a task of its own, so sending never delays the scheduler. Delivery is
//! retried with backoff; what finally fails is recorded on the run ("notification failed: …").

mod decision;
mod email;
mod message;
mod sentry_event;
mod webhook;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use decision::{Alert, Rules, Situation, decide};
use message::{EXCERPT_BYTES, Notice, run_link};

use crate::config::{Settings, TaskDef, TaskName};
use crate::history::Store;
use crate::history::output::{Stream, read_slice, stream_path};
use crate::metrics::Metrics;
use crate::run::{RunEnd, RunRecord, RunStatus};

/// One way of telling someone.
#[derive(Debug, Clone)]
enum Channel {
    Email { to: Vec<String> },
    Webhook(String),
    Sentry(String),
}

impl Channel {
    fn describe(&self) -> String {
        match self {
            Channel::Email { to } => format!("email to {}", to.join(", ")),
            Channel::Webhook(url) => format!("webhook {}", webhook::redact(url)),
            Channel::Sentry(_) => "sentry".to_owned(),
        }
    }
}

/// The outcome of one channel of a test notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelOutcome {
    pub channel: String,
    pub result: Result<(), String>,
}

/// Where a delivery announces that it recorded a failure (the run's page changes) and counts
/// it. Test notifications have none: their failures are reported to the caller only.
#[derive(Clone)]
pub struct Announcer {
    pub metrics: Metrics,
}

/// Notification state kept by the runtime loop.
pub struct Notifier {
    history: Arc<dyn Store>,
    announcer: Option<Announcer>,
    http: reqwest::Client,
    last_notified: HashMap<TaskName, DateTime<Utc>>,
    /// Tasks already warned about (once each) that they have recipients but no mail server.
    warned: HashSet<TaskName>,
}

impl Notifier {
    pub fn new(history: Arc<dyn Store>, announcer: Option<Announcer>) -> Notifier {
        Notifier {
            history,
            announcer,
            http: reqwest::Client::new(),
            last_notified: HashMap::new(),
            warned: HashSet::new(),
        }
    }

    /// Decides about a finished run and, if it is worth it, sends in the background.
    pub fn run_finished(&mut self, settings: &Settings, def: &TaskDef, run: &RunRecord) {
        let Some(end) = run.end.clone() else {
            return;
        };
        let failed = end.status != RunStatus::Success;
        let rules = Rules {
            spam: def.spam,
            spam_fail: def.spam_fail,
            after_failures: def
                .notify_after_failures
                .unwrap_or(settings.notify.after_failures)
                .max(1),
            min_interval: def.notify_min_interval.or(settings.notify.min_interval),
        };
        let failures_before = match self.history.list_runs(
            &run.task,
            Some(run.id),
            rules.after_failures as usize,
        ) {
            Ok(previous) => previous
                .iter()
                .take_while(|earlier| earlier.status() != RunStatus::Success)
                .count(),
            Err(error) => {
                tracing::error!(task = %run.task, "cannot read history to decide on notifying: {error}");
                return;
            }
        };
        let now = end.finished_at;
        let situation = Situation {
            failed,
            failures_before: u32::try_from(failures_before).unwrap_or(u32::MAX),
            last_notified_at: self.last_notified.get(&run.task).copied(),
            now,
        };
        let alert = decide(&rules, &situation);
        let mut channels = Vec::new();
        if alert.is_some() {
            self.last_notified.insert(run.task.clone(), now);
            channels = self.channels(settings, def);
        }
        if alert == Some(Alert::Recovered) && settings.sentry_dsn.is_some() {
            tracing::info!(task = %run.task, run = %run.id, "recovered; its Sentry issue is left to Sentry (speedrack does not resolve issues)");
        }
        // Every failed run is an event for Sentry, which groups them by task itself.
        if let (true, Some(dsn)) = (failed, &settings.sentry_dsn) {
            channels.push(Channel::Sentry(dsn.clone()));
        }
        if channels.is_empty() {
            return;
        }
        let notice = Notice {
            app_name: settings.app_name.clone(),
            alert: alert.unwrap_or(Alert::Failed),
            run: run.clone(),
            end,
            link: run_link(&settings.email_url_prefix, &settings.script_name, run),
            excerpt: String::new(),
        };
        let delivery = Delivery {
            history: Arc::clone(&self.history),
            announcer: self.announcer.clone(),
            http: self.http.clone(),
            settings: settings.clone(),
            retries: settings.notify.retries,
            backoff: settings.notify.retry_backoff,
        };
        tokio::spawn(async move { delivery.deliver(channels, notice).await });
    }

    /// Where this task's notifications go; a missing mail server or sender is logged once.
    fn channels(&mut self, settings: &Settings, def: &TaskDef) -> Vec<Channel> {
        let mut channels = Vec::new();
        let mut to: Vec<String> = def.email.clone();
        for address in &settings.email.to_global {
            if !to.contains(address) {
                to.push(address.clone());
            }
        }
        if !to.is_empty() && !settings.email.disabled {
            if settings.email.smtp_host.is_some() && settings.email.from.is_some() {
                channels.push(Channel::Email { to });
            } else if self.warned.insert(def.name.clone()) {
                tracing::warn!(task = %def.name, "task has email recipients but the settings name no email.smtp_host or email.from: no mail is sent");
            }
        }
        for url in settings.notify.webhooks.iter().chain(&def.webhooks) {
            channels.push(Channel::Webhook(url.clone()));
        }
        channels
    }

    /// Sends a test notice for a task through every configured channel, once, and reports each.
    pub async fn test(
        &mut self,
        settings: &Settings,
        def: &TaskDef,
        run: RunRecord,
        end: RunEnd,
    ) -> Vec<ChannelOutcome> {
        let mut channels = self.channels(settings, def);
        if let Some(dsn) = &settings.sentry_dsn {
            channels.push(Channel::Sentry(dsn.clone()));
        }
        let notice = Notice {
            app_name: settings.app_name.clone(),
            alert: Alert::Succeeded,
            link: run_link(&settings.email_url_prefix, &settings.script_name, &run),
            run,
            end,
            excerpt: "This is a test notification from speedrackctl test-notify.".to_owned(),
        };
        let delivery = Delivery {
            history: Arc::clone(&self.history),
            announcer: None,
            http: self.http.clone(),
            settings: settings.clone(),
            retries: 0,
            backoff: Duration::ZERO,
        };
        let mut outcomes = Vec::new();
        for channel in channels {
            let result = delivery.send_once(&channel, &notice).await;
            outcomes.push(ChannelOutcome {
                channel: channel.describe(),
                result,
            });
        }
        outcomes
    }
}

/// One notice on its way, owned by its own task.
struct Delivery {
    history: Arc<dyn Store>,
    announcer: Option<Announcer>,
    http: reqwest::Client,
    settings: Settings,
    retries: u32,
    backoff: Duration,
}

impl Delivery {
    async fn deliver(self, channels: Vec<Channel>, mut notice: Notice) {
        notice.excerpt = excerpt(self.history.data_dir(), &notice.run, &notice.end);
        let mut failures = Vec::new();
        for channel in &channels {
            if let Err(error) = self.send_with_retries(channel, &notice).await {
                tracing::warn!(task = %notice.run.task, run = %notice.run.id, "notification failed: {}: {error}", channel.describe());
                failures.push(format!("{}: {error}", channel.describe()));
                if let Some(announcer) = &self.announcer {
                    announcer.metrics.notification_failed(&notice.run.task);
                }
            }
        }
        if !failures.is_empty() {
            let text = format!("notification failed: {}", failures.join("; "));
            if let Err(error) = self.history.set_notification_error(notice.run.id, &text) {
                tracing::error!(run = %notice.run.id, "cannot record a notification failure: {error}");
            }
        }
    }

    async fn send_with_retries(&self, channel: &Channel, notice: &Notice) -> Result<(), String> {
        let mut wait = self.backoff;
        let mut attempt = 0;
        loop {
            match self.send_once(channel, notice).await {
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

    async fn send_once(&self, channel: &Channel, notice: &Notice) -> Result<(), String> {
        match channel {
            Channel::Email { to } => email::send(&self.settings.email, to, notice).await,
            Channel::Webhook(url) => webhook::send(&self.http, url, notice).await,
            Channel::Sentry(dsn) => sentry_event::send(dsn, notice).await,
        }
    }
}

/// The first bytes of stderr, or of stdout when stderr is empty, as text.
fn excerpt(data_dir: &std::path::Path, run: &RunRecord, end: &RunEnd) -> String {
    let stream = if end.stderr_bytes > 0 {
        Stream::Stderr
    } else {
        Stream::Stdout
    };
    let path = stream_path(data_dir, &run.task, run.id, stream);
    let bytes = read_slice(&path, 0, EXCERPT_BYTES)
        .map(|slice| slice.data)
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}
