//! `speedrack_tasks.yaml`: the list of tasks, each validated on its own.
//!
//! The file as a whole must be YAML with a `tasks:` list; anything else is an error for the
//! whole file. Inside the list, a task that is wrong (no command, no schedule, an unknown key, a
//! bad value, a duplicate name) becomes a [`BrokenTask`] carrying its reasons, and the rest load.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::interval::parse_interval;
use super::task_name::TaskName;
use crate::schedule::Schedule;

/// A task that can be scheduled.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDef {
    pub name: TaskName,
    pub description: String,
    pub command: String,
    pub schedule: Schedule,
    /// Per-task override of the settings' `fail_by_retcode`.
    pub fail_by_retcode: Option<bool>,
    /// Per-task override of the settings' `fail_by_stderr`.
    pub fail_by_stderr: Option<bool>,
}

/// One problem that keeps a task from being scheduled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfError {
    pub file: PathBuf,
    /// 1-based; `None` when the position is not known.
    pub line: Option<usize>,
    /// The offending key, `None` when the problem is the task as a whole.
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
    Valid(TaskDef),
    Broken(BrokenTask),
}

/// Everything the tasks file defines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskSet {
    pub path: PathBuf,
    pub entries: Vec<TaskEntry>,
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
    tasks: Option<Vec<serde_yaml::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    interval: Option<String>,
    #[serde(default, alias = "FAIL_BY_NONZERO_STATUS_CODE")]
    fail_by_retcode: Option<bool>,
    #[serde(default, alias = "FAIL_BY_STDERR")]
    fail_by_stderr: Option<bool>,
}

/// Parses the tasks file text. `path` is only used to label conf errors.
pub fn parse_tasks(text: &str, path: &Path) -> Result<TaskSet, serde_yaml::Error> {
    let raw: Option<RawFile> = serde_yaml::from_str(text)?;
    let values = raw.and_then(|file| file.tasks).unwrap_or_default();
    let mut entries: Vec<TaskEntry> = values
        .into_iter()
        .enumerate()
        .map(|(index, value)| parse_task(value, index, path))
        .collect();
    mark_duplicates(&mut entries, path);
    Ok(TaskSet {
        path: path.to_path_buf(),
        entries,
    })
}

fn parse_task(value: serde_yaml::Value, index: usize, path: &Path) -> TaskEntry {
    let conf_error = |key: Option<&str>, message: String| ConfError {
        file: path.to_path_buf(),
        line: None,
        key: key.map(str::to_owned),
        message,
    };
    let written_name = value
        .get("name")
        .and_then(serde_yaml::Value::as_str)
        .map(str::to_owned);
    let label = written_name
        .clone()
        .unwrap_or_else(|| format!("task #{}", index + 1));
    let mut broken = BrokenTask {
        name: written_name.as_deref().and_then(TaskName::normalise),
        label,
        description: string_field(&value, "description"),
        command: string_field(&value, "command"),
        errors: Vec::new(),
    };
    let raw: RawTask = match serde_yaml::from_value(value) {
        Ok(raw) => raw,
        Err(error) => {
            let message = super::strip_location(&error.to_string());
            broken.errors.push(conf_error(None, message));
            return TaskEntry::Broken(broken);
        }
    };
    if broken.name.is_none() {
        let message = format!(
            "name {:?} has no letters or digits; give the task a name",
            raw.name
        );
        broken.errors.push(conf_error(Some("name"), message));
    }
    let command = raw.command.filter(|command| !command.trim().is_empty());
    if command.is_none() {
        broken.errors.push(conf_error(
            Some("command"),
            "no command: say what the task runs".into(),
        ));
    }
    let schedule = match raw.interval.as_deref().map(parse_interval) {
        Some(Ok(period)) => Some(Schedule::Interval(period)),
        Some(Err(error)) => {
            broken
                .errors
                .push(conf_error(Some("interval"), error.to_string()));
            None
        }
        None => {
            broken.errors.push(conf_error(
                None,
                "no schedule: give the task an interval".into(),
            ));
            None
        }
    };
    match (broken.name.clone(), command, schedule) {
        (Some(name), Some(command), Some(schedule)) if broken.errors.is_empty() => {
            TaskEntry::Valid(TaskDef {
                name,
                description: raw.description.unwrap_or_default(),
                command,
                schedule,
                fail_by_retcode: raw.fail_by_retcode,
                fail_by_stderr: raw.fail_by_stderr,
            })
        }
        _ => TaskEntry::Broken(broken),
    }
}

fn string_field(value: &serde_yaml::Value, key: &str) -> String {
    value
        .get(key)
        .and_then(serde_yaml::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Two tasks whose names normalise alike would share history and output: both become broken.
fn mark_duplicates(entries: &mut [TaskEntry], path: &Path) {
    let mut seen: HashMap<TaskName, usize> = HashMap::new();
    for entry in entries.iter() {
        if let Some(name) = entry_name(entry) {
            *seen.entry(name.clone()).or_default() += 1;
        }
    }
    for entry in entries.iter_mut() {
        let Some(name) = entry_name(entry).cloned() else {
            continue;
        };
        if seen.get(&name).copied().unwrap_or(0) < 2 {
            continue;
        }
        let error = ConfError {
            file: path.to_path_buf(),
            line: None,
            key: Some("name".into()),
            message: format!("duplicate task name {name:?}: every task needs its own name"),
        };
        match entry {
            TaskEntry::Broken(broken) => broken.errors.push(error),
            TaskEntry::Valid(def) => {
                *entry = TaskEntry::Broken(BrokenTask {
                    name: Some(def.name.clone()),
                    label: def.name.to_string(),
                    description: def.description.clone(),
                    command: def.command.clone(),
                    errors: vec![error],
                })
            }
        }
    }
}

fn entry_name(entry: &TaskEntry) -> Option<&TaskName> {
    match entry {
        TaskEntry::Valid(def) => Some(&def.name),
        TaskEntry::Broken(broken) => broken.name.as_ref(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn parse(text: &str) -> TaskSet {
        parse_tasks(text, Path::new("tasks.yaml")).expect("the file as a whole is valid")
    }

    fn errors_of(set: &TaskSet) -> Vec<(String, Option<String>)> {
        set.broken()
            .flat_map(|broken| {
                broken
                    .errors
                    .iter()
                    .map(|e| (broken.label.clone(), e.key.clone()))
            })
            .collect()
    }

    #[test]
    fn a_valid_task_loads_with_its_schedule() {
        let set =
            parse("tasks:\n  - name: Long Runner\n    command: sleep 20\n    interval: 21s\n");
        let defs: Vec<_> = set.valid().collect();
        assert_eq!(defs.len(), 1);
        assert_eq!(defs[0].name.as_str(), "long_runner");
        assert_eq!(
            defs[0].schedule,
            Schedule::Interval(Duration::from_secs(21))
        );
        assert_eq!(set.broken().count(), 0);
    }

    #[test]
    fn each_broken_task_is_reported_and_the_others_load() {
        let text = "tasks:
  - name: ok
    command: 'true'
    interval: 1m
  - name: no command
    interval: 1m
  - name: no schedule
    command: 'true'
  - name: bad interval
    command: 'true'
    interval: 5x
  - name: unknown key
    command: 'true'
    interval: 1m
    minutes: 30
  - command: 'true'
    interval: 1m
";
        let set = parse(text);
        assert_eq!(
            set.valid().map(|d| d.name.as_str()).collect::<Vec<_>>(),
            ["ok"]
        );
        assert_eq!(
            errors_of(&set),
            [
                ("no command".to_owned(), Some("command".to_owned())),
                ("no schedule".to_owned(), None),
                ("bad interval".to_owned(), Some("interval".to_owned())),
                ("unknown key".to_owned(), None),
                ("task #6".to_owned(), None),
            ]
        );
        let unknown = set.broken().nth(3).expect("unknown key task");
        assert!(
            unknown.errors[0].message.contains("minutes"),
            "{:?}",
            unknown.errors
        );
    }

    #[test]
    fn duplicate_names_break_both_copies() {
        let text = "tasks:
  - {name: Backup, command: a, interval: 1m}
  - {name: backup, command: b, interval: 1m}
  - {name: other, command: c, interval: 1m}
";
        let set = parse(text);
        assert_eq!(set.valid().count(), 1);
        assert_eq!(set.broken().count(), 2);
        assert!(
            set.broken()
                .all(|b| b.errors[0].message.contains("duplicate"))
        );
    }

    #[test]
    fn a_file_that_is_not_a_task_list_is_an_error_for_the_whole_file() {
        for text in ["tasks: [unclosed", "tasks: 5", "jobs: []", "- a\n- b"] {
            assert!(parse_tasks(text, Path::new("t.yaml")).is_err(), "{text}");
        }
        assert_eq!(parse("").entries.len(), 0);
        assert_eq!(parse("tasks:\n").entries.len(), 0);
    }
}
