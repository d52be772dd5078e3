//! `speedrack_tasks.yaml`: the list of tasks, each validated on its own.
//!
//! The file as a whole must be YAML with a `tasks:` list; anything else is an error for the
//! whole file. Inside the list, a task that is wrong (no command, no schedule, both schedules,
//! an unknown key, a bad value, an unknown time zone, two names with one key) becomes a
//! [`BrokenTask`] carrying every reason with its file, line and key, and the rest load. Files
//! written for Speedrack 0.6.1 load as it read them (`sudo_user`, PyYAML's scalars); what it
//! read loosely loads with a warning (see [`TaskSet::warnings`]).

use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use serde::Deserialize;
use serde_yaml::Value;

use super::fields::{Fields, kind};
use super::limits::{MAX_COMMAND_BYTES, MAX_NAME_BYTES};
use super::schedule_field::{Crontabs, schedule_of};
use super::task_def::{OnMissed, OutputPattern, Overlap, TaskDef};
use super::task_name::TaskName;
use super::tasks_keys::mark_duplicates;
use super::yaml_lines::{self, Node};

/// Every key a task may have.
pub const TASK_KEYS: &[&str] = &[
    "name",
    "description",
    "command",
    "interval",
    "cron",
    "timezone",
    "email",
    "email_recipients",
    "spam",
    "spam_fail",
    "max_keep",
    "retain_failures",
    "fail_by_retcode",
    "fail_by_stderr",
    "sudo",
    "sudo_user",
    "timeout",
    "working_dir",
    "env",
    "overlap",
    "on_missed",
    "suspended",
    "ok_exit_codes",
    "fail_on_exit_codes",
    "fail_if_output_matches",
    "output_max_bytes",
    "missed_deadline",
    "webhooks",
    "notify_after_failures",
    "notify_min_interval",
];

/// One problem that keeps a task from being scheduled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfError {
    pub file: PathBuf,
    /// 1-based; `None` when the position is not known.
    pub line: Option<usize>,
    /// The offending key (a path like `cron.minute` inside a mapping), `None` when the problem
    /// is the task as a whole.
    pub key: Option<String>,
    pub message: String,
}

/// A task listed in the file that cannot be scheduled.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokenTask {
    /// The normalised name, when the task has a usable one.
    pub name: Option<TaskName>,
    /// What to call it on screen: its name, or its position in the file.
    pub label: String,
    pub description: String,
    pub command: String,
    pub errors: Vec<ConfError>,
}

/// One entry of the tasks file, in file order.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one entry per task, built once per load"
)]
pub enum TaskEntry {
    Valid(TaskDef),
    Broken(BrokenTask),
}

impl TaskEntry {
    pub fn name(&self) -> Option<&TaskName> {
        match self {
            TaskEntry::Valid(def) => Some(&def.name),
            TaskEntry::Broken(broken) => broken.name.as_ref(),
        }
    }

    /// The name as written in the file (for a broken task without one, "task #N").
    pub fn written_name(&self) -> &str {
        match self {
            TaskEntry::Valid(def) => &def.written_name,
            TaskEntry::Broken(broken) => &broken.label,
        }
    }
}

/// Something that loads but may not mean what it says, e.g. `spam: oh hell yes` read as true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskWarning {
    /// The task's name as written, or "task #N".
    pub task: String,
    pub warning: ConfError,
}

/// Everything the tasks file defines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskSet {
    pub path: PathBuf,
    pub entries: Vec<TaskEntry>,
    /// Shown by `speedrackd check`, logged at start and at each reload; never fatal.
    pub warnings: Vec<TaskWarning>,
}

impl TaskSet {
    pub fn valid(&self) -> impl Iterator<Item = &TaskDef> {
        self.entries.iter().filter_map(|entry| match entry {
            TaskEntry::Valid(def) => Some(def),
            TaskEntry::Broken(_) => None,
        })
    }

    pub fn broken(&self) -> impl Iterator<Item = &BrokenTask> {
        self.entries.iter().filter_map(|entry| match entry {
            TaskEntry::Broken(broken) => Some(broken),
            TaskEntry::Valid(_) => None,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    tasks: Option<Vec<Value>>,
}

/// Parses the tasks file text. `path` labels conf errors; `default_tz` is the zone of tasks
/// that name none.
pub fn parse_tasks(text: &str, path: &Path, default_tz: Tz) -> Result<TaskSet, serde_yaml::Error> {
    let raw: Option<RawFile> = serde_yaml::from_str(text)?;
    let values = raw.and_then(|file| file.tasks).unwrap_or_default();
    let positions = yaml_lines::positions(text);
    let nodes = positions
        .as_ref()
        .and_then(|root| root.entry("tasks"))
        .map_or(&[][..], |entry| entry.value.items());
    let mut crontabs = Crontabs::default();
    let mut entries = Vec::with_capacity(values.len());
    let mut warnings = Vec::new();
    for (index, value) in values.iter().enumerate() {
        let (entry, found) = parse_task(
            value,
            index,
            nodes.get(index),
            path,
            (default_tz, &mut crontabs),
        );
        warnings.extend(found.into_iter().map(|warning| TaskWarning {
            task: entry.written_name().to_owned(),
            warning,
        }));
        entries.push(entry);
    }
    mark_duplicates(&mut entries, nodes, path);
    Ok(TaskSet {
        path: path.to_path_buf(),
        entries,
        warnings,
    })
}

fn parse_task(
    value: &Value,
    index: usize,
    node: Option<&Node>,
    path: &Path,
    (default_tz, crontabs): (Tz, &mut Crontabs),
) -> (TaskEntry, Vec<ConfError>) {
    let label = value
        .get("name")
        .and_then(Value::as_str)
        .map_or_else(|| format!("task #{}", index + 1), str::to_owned);
    let Value::Mapping(map) = value else {
        let error = ConfError {
            file: path.to_path_buf(),
            line: node.map(Node::line),
            key: None,
            message: format!(
                "a task must be a mapping of keys (name, command, interval, …), not {}",
                kind(value)
            ),
        };
        let broken = TaskEntry::Broken(BrokenTask {
            name: None,
            label,
            description: String::new(),
            command: String::new(),
            errors: vec![error],
        });
        return (broken, Vec::new());
    };
    let mut fields = Fields::new(map, node, path);
    fields.check_keys(TASK_KEYS);
    let name = task_name(&mut fields);
    let description = fields.text("description").unwrap_or_default();
    let command = fields
        .text_at_most("command", MAX_COMMAND_BYTES)
        .filter(|command| !command.trim().is_empty());
    if command.is_none()
        && fields
            .errors
            .iter()
            .all(|error| error.key.as_deref() != Some("command"))
    {
        fields.error(None, "no command: say what the task runs");
    }
    let tz = time_zone(&mut fields, default_tz);
    let schedule = schedule_of(&mut fields, tz, crontabs);
    let mut options = Options::read(&mut fields);
    options.definition = serde_yaml::to_string(value).unwrap_or_default();
    let entry = match (name, command, schedule) {
        (Some(name), Some(command), Some((schedule, schedule_text)))
            if fields.errors.is_empty() =>
        {
            let names = (name, label);
            TaskEntry::Valid(options.into_def(names, description, command, schedule, schedule_text))
        }
        (name, command, _) => TaskEntry::Broken(BrokenTask {
            name,
            label,
            description,
            command: command.unwrap_or_default(),
            errors: fields.errors,
        }),
    };
    (entry, fields.warnings)
}

fn task_name(fields: &mut Fields<'_>) -> Option<TaskName> {
    let Some(written) = fields.text_at_most("name", MAX_NAME_BYTES) else {
        match fields.get("name") {
            None => fields.error(None, "no name: every task needs one"),
            Some(Value::Null) => fields.error(Some("name"), "name is empty: every task needs one"),
            // `text_at_most` has said what is wrong with it.
            Some(_) => {}
        }
        return None;
    };
    let name = TaskName::normalise(&written);
    if name.is_none() {
        fields.error(
            Some("name"),
            format!("name {written:?} has no letters or digits; give the task a name"),
        );
    }
    name
}

fn time_zone(fields: &mut Fields<'_>, default_tz: Tz) -> Tz {
    let Some(text) = fields.text("timezone") else {
        return default_tz;
    };
    match text.parse::<Tz>() {
        Ok(tz) => tz,
        Err(_) => {
            fields.error(
                Some("timezone"),
                format!("unknown time zone {text:?} (use an IANA name like Europe/Berlin)"),
            );
            default_tz
        }
    }
}

/// The options of a task besides its name, command and schedule.
struct Options {
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
    definition: String,
}

impl Options {
    fn read(fields: &mut Fields<'_>) -> Options {
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
            definition: String::new(),
        }
    }

    fn into_def(
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

pub(super) mod pyyaml;
#[cfg(test)]
mod tests;
