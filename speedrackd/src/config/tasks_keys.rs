//! One key per task: two names with the same key are conf errors, and a task whose key changed
//! when keys began keeping `-` and `.` stays filed under its old key while its history is there.
//!
//! History rows and output directories are filed under the key, not under the name as written.
//! Renaming them to the new key would mean moving rows and directories together, which no
//! transaction covers; instead a task keeps its legacy key (the one the history holds) for as
//! long as history holds anything under it. This module decides which key; it reads no
//! history itself.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use super::task_name::TaskName;
use super::tasks::{BrokenTask, ConfError, TaskEntry, TaskSet};
use super::yaml_lines::Node;

/// Two tasks with one key would share history and output: both become broken, each error
/// quoting both names as written.
pub(super) fn mark_duplicates(entries: &mut [TaskEntry], nodes: &[Node], path: &Path) {
    let mut holders: HashMap<TaskName, Vec<usize>> = HashMap::new();
    for (index, entry) in entries.iter().enumerate() {
        if let Some(name) = entry.name() {
            holders.entry(name.clone()).or_default().push(index);
        }
    }
    for indexes in holders.values().filter(|indexes| indexes.len() > 1) {
        for &index in indexes {
            let Some(&other) = indexes.iter().find(|&&other| other != index) else {
                continue;
            };
            let other = entries[other].written_name().to_owned();
            let node = nodes.get(index);
            let error = ConfError {
                file: path.to_path_buf(),
                line: node
                    .and_then(|node| node.line_of("name"))
                    .or(node.map(Node::line)),
                key: Some("name".into()),
                message: collision_message(&entries[index], &other),
            };
            break_entry(&mut entries[index], error);
        }
    }
}

fn collision_message(entry: &TaskEntry, other: &str) -> String {
    let written = entry.written_name();
    let key = entry.name().map(TaskName::as_str).unwrap_or_default();
    if written == other {
        format!("duplicate task name \"{written}\": every task needs its own name")
    } else {
        format!(
            "task names \"{written}\" and \"{other}\" both make the key \"{key}\" (history and \
             output are filed under it): rename one"
        )
    }
}

fn break_entry(entry: &mut TaskEntry, error: ConfError) {
    match entry {
        TaskEntry::Broken(broken) => broken.errors.push(error),
        TaskEntry::Valid(def) => {
            *entry = TaskEntry::Broken(BrokenTask {
                name: Some(def.name.clone()),
                label: def.written_name.clone(),
                description: def.description.clone(),
                command: def.command.clone(),
                errors: vec![error],
            })
        }
    }
}

/// A task that stays filed under its legacy key: `(legacy key, new key, name as written)`.
pub type KeptKey = (TaskName, TaskName, String);

impl TaskSet {
    /// Files each task under its legacy key when `with_history` (the keys history holds
    /// anything under) has that key and not the new one, and no other task has that key, so
    /// that an upgrade orphans no history. Returns the tasks so kept, for the log.
    pub fn keep_legacy_keys(&mut self, with_history: &HashSet<TaskName>) -> Vec<KeptKey> {
        let mut taken: HashMap<TaskName, usize> = HashMap::new();
        for name in self.entries.iter().filter_map(TaskEntry::name) {
            *taken.entry(name.clone()).or_default() += 1;
        }
        let mut kept = Vec::new();
        for entry in &mut self.entries {
            let Some(current) = entry.name().cloned() else {
                continue;
            };
            let Some(legacy) = TaskName::legacy(entry.written_name()) else {
                continue;
            };
            let keep = legacy != current
                && taken.get(&current) == Some(&1)
                && !taken.contains_key(&legacy)
                && with_history.contains(&legacy)
                && !with_history.contains(&current);
            if keep {
                set_name(entry, legacy.clone());
                taken.insert(legacy.clone(), 1);
                kept.push((legacy, current, entry.written_name().to_owned()));
            }
        }
        kept
    }
}

fn set_name(entry: &mut TaskEntry, name: TaskName) {
    match entry {
        TaskEntry::Valid(def) => Arc::make_mut(def).name = name,
        TaskEntry::Broken(broken) => broken.name = Some(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_tasks;

    fn set(names: &[&str]) -> TaskSet {
        let mut text = String::from("tasks:\n");
        for name in names {
            text.push_str(&format!(
                "  - {{name: '{name}', command: x, interval: 1h}}\n"
            ));
        }
        parse_tasks(&text, Path::new("t.yaml"), chrono_tz::Tz::UTC).expect("valid file")
    }

    fn key(text: &str) -> TaskName {
        TaskName::parse_normalised(text).expect("a key")
    }

    fn keys(set: &TaskSet) -> Vec<String> {
        set.entries
            .iter()
            .map(|entry| entry.name().map(ToString::to_string).unwrap_or_default())
            .collect()
    }

    #[test]
    fn a_task_whose_history_is_under_its_legacy_key_keeps_that_key() {
        let mut tasks = set(&["db-dump.daily", "cron failer!!", "fresh-task", "plain"]);
        let history = HashSet::from([key("db_dump_daily"), key("cron_failer_"), key("plain")]);
        let kept = tasks.keep_legacy_keys(&history);
        assert_eq!(
            keys(&tasks),
            ["db_dump_daily", "cron_failer_", "fresh-task", "plain"]
        );
        assert_eq!(kept.len(), 2);
        assert_eq!(
            kept[0],
            (
                key("db_dump_daily"),
                key("db-dump.daily"),
                "db-dump.daily".to_owned()
            )
        );
        assert!(tasks.broken().next().is_none());
    }

    #[test]
    fn history_under_the_new_key_wins() {
        let mut tasks = set(&["a-b"]);
        let history = HashSet::from([key("a_b"), key("a-b")]);
        assert!(tasks.keep_legacy_keys(&history).is_empty());
        assert_eq!(keys(&tasks), ["a-b"]);
    }

    #[test]
    fn a_legacy_key_another_task_holds_is_not_taken() {
        let mut tasks = set(&["a-b", "a_b"]);
        let history = HashSet::from([key("a_b")]);
        assert!(tasks.keep_legacy_keys(&history).is_empty());
        assert_eq!(keys(&tasks), ["a-b", "a_b"]);
    }

    #[test]
    fn two_names_with_one_key_are_both_broken_and_quoted() {
        let tasks = set(&["trailing!", "trailing", "twice", "twice"]);
        let messages: Vec<String> = tasks
            .broken()
            .map(|broken| broken.errors[0].message.clone())
            .collect();
        assert_eq!(
            messages,
            [
                "task names \"trailing!\" and \"trailing\" both make the key \"trailing\" \
                 (history and output are filed under it): rename one",
                "task names \"trailing\" and \"trailing!\" both make the key \"trailing\" \
                 (history and output are filed under it): rename one",
                "duplicate task name \"twice\": every task needs its own name",
                "duplicate task name \"twice\": every task needs its own name",
            ]
        );
        let lines: Vec<Option<usize>> =
            tasks.broken().map(|broken| broken.errors[0].line).collect();
        assert_eq!(lines, [Some(2), Some(3), Some(4), Some(5)]);
    }
}
