//! Telling people about runs: deciding (pure, in `decision`), then delivering by email,
//! webhooks and Sentry in a task of its own (`delivery`), so sending never delays the scheduler.
//! Delivery is retried with backoff; what finally fails goes back to the runtime as a
//! [`NotificationFailure`], which records it on the run ("notification failed: …").
//!
//! Nothing here touches the history database: the caller keeps each task's failure streak
//! ([`failure_streak`]) and passes it in, and the delivery task reads the output excerpt from
//! the run's files.

mod decision;
mod delivery;
mod email;
mod human_duration;
mod message;
mod sentry_event;
mod webhook;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

pub use decision::failure_streak;
use decision::{Alert, Rules, Situation, decide};
pub use delivery::SendError;
use delivery::{Channel, Delivery, send_once};
use message::{Notice, run_link};

use crate::config::{Settings, TaskDef, TaskName};
use crate::metrics::Metrics;
use crate::run::{RunEnd, RunId, RunRecord, RunStatus};

/// A notice that could not be delivered on some channel, retries included, for the runtime to
/// record on the run and announce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationFailure {
    pub run: RunId,
    pub task: TaskName,
    /// `notification failed: CHANNEL: ERROR; …`
    pub text: String,
}

/// The outcome of one channel of a test notification.
#[derive(Debug)]
pub struct ChannelOutcome {
    pub channel: String,
    pub result: Result<(), SendError>,
}

/// Notification state kept by the runtime loop.
pub struct Notifier {
    /// Where the runs' output files are, for the excerpt.
    data_dir: PathBuf,
    failures: Option<mpsc::Sender<NotificationFailure>>,
    metrics: Option<Metrics>,
    http: reqwest::Client,
    /// The runtime the notifier was made on, where deliveries go: the daemon's multi-threaded
    /// one, not the loop's thread, whose fires a slow mail server must not delay.
    deliveries: Option<tokio::runtime::Handle>,
    last_notified: HashMap<TaskName, DateTime<Utc>>,
    /// Tasks already warned about (once each) that they have recipients but no mail server.
    warned: HashSet<TaskName>,
}

impl Notifier {
    /// `failures` gets what could not be delivered (a bounded queue: a failure that finds it
    /// full is logged and dropped); `metrics` counts the failed deliveries. Deliveries run on
    /// the tokio runtime this is called on.
    pub fn new(
        data_dir: PathBuf,
        failures: Option<mpsc::Sender<NotificationFailure>>,
        metrics: Option<Metrics>,
    ) -> Notifier {
        Notifier {
            data_dir,
            failures,
            metrics,
            http: reqwest::Client::new(),
            deliveries: tokio::runtime::Handle::try_current().ok(),
            last_notified: HashMap::new(),
            warned: HashSet::new(),
        }
    }

    /// Decides about a finished run and, if it is worth it, sends in the background.
    /// `failures_before` is the task's streak of non-successful runs just before `run`, as
    /// [`failure_streak`] keeps it.
    pub fn run_finished(
        &mut self,
        settings: &Settings,
        def: &TaskDef,
        run: &RunRecord,
        failures_before: u32,
    ) {
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
        let now = end.finished_at;
        let situation = Situation {
            failed,
            failures_before,
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
            host: host_name(),
            alert: alert.unwrap_or(Alert::Failed),
            run: run.clone(),
            end,
            link: run_link(&settings.email_url_prefix, run),
            excerpt: String::new(),
            excerpt_stream: None,
        };
        let delivery = Delivery {
            data_dir: self.data_dir.clone(),
            failures: self.failures.clone(),
            metrics: self.metrics.clone(),
            http: self.http.clone(),
            settings: settings.clone(),
            retries: settings.notify.retries,
            backoff: settings.notify.retry_backoff,
        };
        let delivering = delivery.deliver(channels, notice);
        match &self.deliveries {
            Some(runtime) => drop(runtime.spawn(delivering)),
            None => drop(tokio::spawn(delivering)),
        }
    }

    /// Where this task's notifications go; a missing mail server or sender is logged once.
    fn channels(&mut self, settings: &Settings, def: &TaskDef) -> Vec<Channel> {
        let (channels, mail_unsent) = channels(settings, def);
        if mail_unsent && self.warned.insert(def.name.clone()) {
            warn_mail_unsent(def);
        }
        channels
    }
}

/// Sends a test notice for a task through every configured channel, once, and reports each.
pub async fn send_test(
    settings: &Settings,
    def: &TaskDef,
    run: RunRecord,
    end: RunEnd,
) -> Vec<ChannelOutcome> {
    let (mut channels, mail_unsent) = channels(settings, def);
    if mail_unsent {
        warn_mail_unsent(def);
    }
    if let Some(dsn) = &settings.sentry_dsn {
        channels.push(Channel::Sentry(dsn.clone()));
    }
    let notice = Notice {
        app_name: settings.app_name.clone(),
        host: host_name(),
        alert: Alert::Succeeded,
        link: run_link(&settings.email_url_prefix, &run),
        run,
        end,
        excerpt: "This is a test notification from speedrackctl test-notify.".to_owned(),
        excerpt_stream: None,
    };
    let http = reqwest::Client::new();
    let mut outcomes = Vec::new();
    for channel in channels {
        let result = send_once(&http, settings, &channel, &notice).await;
        outcomes.push(ChannelOutcome {
            channel: channel.describe(),
            result,
        });
    }
    outcomes
}

/// Where a task's notifications go (Sentry aside), and whether it has mail recipients that
/// get nothing because the settings name no mail server or sender.
fn channels(settings: &Settings, def: &TaskDef) -> (Vec<Channel>, bool) {
    let mut channels = Vec::new();
    let mut mail_unsent = false;
    let mut to: Vec<String> = def.email.clone();
    for address in &settings.email.to_global {
        if !to.contains(address) {
            to.push(address.clone());
        }
    }
    if !to.is_empty() && !settings.email.disabled {
        if settings.email.smtp_host.is_some() && settings.email.from.is_some() {
            channels.push(Channel::Email { to });
        } else {
            mail_unsent = true;
        }
    }
    for url in settings.notify.webhooks.iter().chain(&def.webhooks) {
        channels.push(Channel::Webhook(url.clone()));
    }
    (channels, mail_unsent)
}

/// This machine's name as the kernel knows it (what `hostname` prints), read per notice so
/// that a renamed host says its new name; `localhost` when it cannot be read as text.
fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

fn warn_mail_unsent(def: &TaskDef) {
    tracing::warn!(task = %def.name, "task has email recipients but the settings name no email.smtp_host or email.from: no mail is sent");
}

#[cfg(test)]
mod tests_runtime;
