//! `speedrack_tasks.yaml`: the list of tasks, each validated on its own.
//!
//! The file as a whole must be YAML with a `tasks:` list; anything else is an error for the
//! whole file. Inside the list, a task that is wrong (no command, no schedule, both schedules,
//! an unknown key, a bad value, an unknown time zone, two names with one key) becomes a
//! [`BrokenTask`] carrying every reason with its file, line and key, and the rest load. Files
//! written for Speedrack 0.6.1 load as it read them (`sudo_user`, PyYAML's scalars); what it
//! read loosely loads with a warning (see [`TaskSet::warnings`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono_tz::Tz;
use serde::Deserialize;
use serde_yaml::Value;

use super::fields::{Fields, kind};
use super::limits::{MAX_COMMAND_BYTES, MAX_NAME_BYTES};
use super::schedule_field::{Crontabs, schedule_of};
use super::task_def::TaskDef;
use super::task_name::TaskName;
use super::tasks_keys::mark_duplicates;
use super::yaml_lines::{self, Node};
use options::Options;

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
    "run_on",
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
pub enum TaskEntry {
    /// Shared: each fire's start request holds its task's definition, and a copy per fire
    /// cost a dozen allocations (BENCHMARKS.md).
    Valid(Arc<TaskDef>),
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
    /// Lowercase hex SHA-256 of the file's bytes, set by `load_tasks`: nodes of a cluster
    /// compare it to tell that they run different files. Empty for text parsed otherwise.
    pub file_hash: String,
}

impl TaskSet {
    pub fn valid(&self) -> impl Iterator<Item = &TaskDef> {
        self.entries.iter().filter_map(|entry| match entry {
            TaskEntry::Valid(def) => Some(&**def),
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
        file_hash: String::new(),
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
            TaskEntry::Valid(Arc::new(options.into_def(
                names,
                description,
                command,
                schedule,
                schedule_text,
            )))
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

mod options;
pub(super) mod pyyaml;
#[cfg(test)]
mod tests;
