//! The options of a task besides its name, command and schedule, read key by key: mail,
//! retention, failure rules, how the command runs, overlap and catch-up. Keys written the
//! Speedrack 0.6.1 way (`sudo_user`, `max_keep: 0`) are read as it read them. The name, command
//! and schedule are read in `tasks.rs`.

use std::path::PathBuf;

use crate::config::cluster_settings::NodeName;
use crate::config::fields::Fields;
use crate::config::task_def::{OnMissed, OutputPattern, Overlap, RunOn, TaskDef};
use crate::config::task_name::TaskName;

/// The options of a task besides its name, command and schedule.
pub(super) struct Options {
    email: Vec<String>,
    spam: bool,
    spam_fail: bool,
    max_keep: Option<u32>,
    retain_failures: Option<u32>,
    fail_by_retcode: Option<bool>,
    fail_by_stderr: Option<bool>,
    sudo: Option<String>,
    timeout: Option<std::time::Duration>,
    working_dir: Option<PathBuf>,
    env: std::collections::BTreeMap<String, String>,
    overlap: Overlap,
    on_missed: OnMissed,
    suspended: bool,
    ok_exit_codes: Vec<i32>,
    fail_on_exit_codes: Vec<i32>,
    fail_if_output_matches: Option<OutputPattern>,
    output_max_bytes: Option<u64>,
    missed_deadline: Option<std::time::Duration>,
    webhooks: Vec<String>,
    notify_after_failures: Option<u32>,
    notify_min_interval: Option<std::time::Duration>,
    run_on: RunOn,
    pub(super) definition: String,
}

impl Options {
    pub(super) fn read(fields: &mut Fields<'_>) -> Options {
        Options {
            email: email(fields),
            spam: fields.flag("spam").unwrap_or(false),
            spam_fail: fields.flag("spam_fail").unwrap_or(false),
            max_keep: max_keep(fields),
            retain_failures: fields.count("retain_failures"),
            fail_by_retcode: fields.flag("fail_by_retcode"),
            fail_by_stderr: fields.flag("fail_by_stderr"),
            sudo: sudo_user(fields),
            timeout: fields.duration("timeout"),
            working_dir: fields.absolute_path("working_dir"),
            env: environment(fields),
            overlap: fields
                .choice("overlap", Overlap::CHOICES)
                .unwrap_or_default(),
            on_missed: fields
                .choice("on_missed", OnMissed::CHOICES)
                .unwrap_or_default(),
            suspended: fields.flag("suspended").unwrap_or(false),
            ok_exit_codes: fields.int_list("ok_exit_codes"),
            fail_on_exit_codes: fields.int_list("fail_on_exit_codes"),
            fail_if_output_matches: output_pattern(fields),
            output_max_bytes: fields.count("output_max_bytes").map(u64::from),
            missed_deadline: fields.duration("missed_deadline"),
            webhooks: webhooks(fields),
            notify_after_failures: fields.count("notify_after_failures"),
            notify_min_interval: fields.duration("notify_min_interval"),
            run_on: run_on(fields),
            definition: String::new(),
        }
    }

    pub(super) fn into_def(
        self,
        (name, written_name): (TaskName, String),
        description: String,
        command: String,
        schedule: crate::schedule::Schedule,
        schedule_text: String,
    ) -> TaskDef {
        TaskDef {
            name,
            written_name,
            description,
            command,
            schedule,
            schedule_text,
            email: self.email,
            spam: self.spam,
            spam_fail: self.spam_fail,
            max_keep: self.max_keep,
            retain_failures: self.retain_failures,
            fail_by_retcode: self.fail_by_retcode,
            fail_by_stderr: self.fail_by_stderr,
            sudo: self.sudo,
            timeout: self.timeout,
            working_dir: self.working_dir,
            env: self.env,
            overlap: self.overlap,
            on_missed: self.on_missed,
            suspended: self.suspended,
            ok_exit_codes: self.ok_exit_codes,
            fail_on_exit_codes: self.fail_on_exit_codes,
            fail_if_output_matches: self.fail_if_output_matches,
            output_max_bytes: self.output_max_bytes,
            missed_deadline: self.missed_deadline,
            webhooks: self.webhooks,
            notify_after_failures: self.notify_after_failures,
            notify_min_interval: self.notify_min_interval,
            run_on: self.run_on,
            definition: self.definition,
        }
    }
}

/// `email` (seed) or its alias `email_recipients`: a comma-separated text or a list.
fn email(fields: &mut Fields<'_>) -> Vec<String> {
    let key = match (
        fields.get("email").is_some(),
        fields.get("email_recipients").is_some(),
    ) {
        (true, true) => {
            fields.error(
                Some("email_recipients"),
                "email and email_recipients are the same setting; keep one",
            );
            return Vec::new();
        }
        (false, true) => "email_recipients",
        _ => "email",
    };
    let addresses = fields.text_list(key).unwrap_or_default();
    for address in &addresses {
        if !looks_like_address(address) {
            fields.error(Some(key), format!("{address:?} is not an email address"));
        }
    }
    addresses
}

fn looks_like_address(address: &str) -> bool {
    let mut parts = address.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !local.is_empty() && domain.contains('.') && !address.contains(char::is_whitespace)
}

fn output_pattern(fields: &mut Fields<'_>) -> Option<OutputPattern> {
    let text = fields.text("fail_if_output_matches")?;
    match regex::bytes::Regex::new(&text) {
        Ok(pattern) => Some(OutputPattern(pattern)),
        Err(error) => {
            fields.error(
                Some("fail_if_output_matches"),
                format!("not a regular expression: {error}"),
            );
            None
        }
    }
}

fn webhooks(fields: &mut Fields<'_>) -> Vec<String> {
    let urls = fields.text_list("webhooks").unwrap_or_default();
    for url in &urls {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            fields.error(
                Some("webhooks"),
                format!("{url:?} is not an http:// or https:// URL"),
            );
        }
    }
    urls
}

/// Runs to keep; 0 keeps every run, as in Speedrack 0.6.1 (which pruned only when it was set).
fn max_keep(fields: &mut Fields<'_>) -> Option<u32> {
    fields
        .count("max_keep")
        .map(|keep| if keep == 0 { u32::MAX } else { keep })
}

/// `sudo`, or Speedrack 0.6.1's spelling `sudo_user`: one of them.
fn sudo_user(fields: &mut Fields<'_>) -> Option<String> {
    let key = match (
        fields.get("sudo").is_some(),
        fields.get("sudo_user").is_some(),
    ) {
        (true, true) => {
            fields.error(
                Some("sudo_user"),
                "sudo and sudo_user are the same setting (sudo_user is Speedrack 0.6.1's \
                 spelling); keep one",
            );
            return None;
        }
        (false, true) => "sudo_user",
        _ => "sudo",
    };
    let user = fields.text(key)?;
    let valid = !user.is_empty()
        && !user.starts_with('-')
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$'));
    if valid {
        Some(user)
    } else {
        fields.error(
            Some(key),
            format!("sudo user {user:?} is not a valid user name"),
        );
        None
    }
}

fn environment(fields: &mut Fields<'_>) -> std::collections::BTreeMap<String, String> {
    let env = fields.text_map("env").unwrap_or_default();
    for name in env.keys() {
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            fields.error(
                Some("env"),
                format!("{name:?} is not a valid environment variable name"),
            );
        }
    }
    env
}

/// `run_on`: `any`, `all`, or node names (one, or a list).
fn run_on(fields: &mut Fields<'_>) -> RunOn {
    let Some(names) = fields.text_list("run_on") else {
        return RunOn::Any;
    };
    match names.as_slice() {
        [one] if one == "any" => return RunOn::Any,
        [one] if one == "all" => return RunOn::All,
        [] => {
            fields.error(
                Some("run_on"),
                "run_on names no node; write any, all or node names",
            );
            return RunOn::Any;
        }
        _ => {}
    }
    let mut nodes = Vec::with_capacity(names.len());
    for name in &names {
        match NodeName::parse(name) {
            Ok(node) => nodes.push(node),
            Err(error) => fields.error(Some("run_on"), error),
        }
    }
    RunOn::Nodes(nodes)
}
