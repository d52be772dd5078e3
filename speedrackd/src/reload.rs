//! What a reload changes: a pure comparison of the running task set and settings with the
//! new ones.

use std::collections::{HashMap, HashSet};

use crate::config::{ConfError, Settings, TaskDef, TaskName, TaskSet};

/// Task names by what happened to them, each list in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReloadDiff {
    pub added: Vec<TaskName>,
    pub removed: Vec<TaskName>,
    pub changed: Vec<TaskName>,
    pub unchanged: Vec<TaskName>,
    /// Conf errors of the new set, with the label of the task each belongs to.
    pub conf_errors: Vec<(String, ConfError)>,
    /// The settings file's keys whose value changed and is in effect now, in key order.
    pub settings_changed: Vec<String>,
    /// The keys whose value changed but is read at start only ([`READ_AT_START`]).
    pub settings_at_next_start: Vec<String>,
}

/// Settings the daemon reads at start alone: what it binds, where history is, how the web is
/// served. A reload keeps their running value.
pub const READ_AT_START: [&str; 12] = [
    "socket",
    "data_dir",
    "socket_group",
    "listen",
    "web",
    "metrics",
    "run_cgroup",
    "tasks_file",
    "store",
    "store_password_file",
    "store_ca_file",
    "node",
];

/// Task names a reload's log line spells out per kind of change; the rest are counted.
const NAMES_LOGGED: usize = 5;

impl ReloadDiff {
    /// What changed, for the one log line of a reload: `added a, b; changed c; 1 conf error`.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = [
            ("added", &self.added),
            ("removed", &self.removed),
            ("changed", &self.changed),
        ]
        .into_iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(what, names)| format!("{what} {}", name_list(names)))
        .collect();
        match self.conf_errors.len() {
            0 => {}
            1 => parts.push("1 conf error".to_owned()),
            count => parts.push(format!("{count} conf errors")),
        }
        if parts.is_empty() {
            parts.push("no task changed".to_owned());
        }
        if !self.settings_changed.is_empty() {
            parts.push(format!(
                "settings changed: {}",
                self.settings_changed.join(", ")
            ));
        }
        if !self.settings_at_next_start.is_empty() {
            parts.push(format!(
                "settings changed, in effect at the next start: {}",
                self.settings_at_next_start.join(", ")
            ));
        }
        parts.join("; ")
    }
}

fn name_list(names: &[TaskName]) -> String {
    let shown: Vec<&str> = names
        .iter()
        .take(NAMES_LOGGED)
        .map(TaskName::as_str)
        .collect();
    let mut text = shown.join(", ");
    if names.len() > NAMES_LOGGED {
        text.push_str(&format!(" and {} more", names.len() - NAMES_LOGGED));
    }
    text
}

/// The keys whose value differs between two settings, in key order: those in effect at once,
/// then those [`READ_AT_START`]. Secret values are compared but never shown: only their keys
/// are named.
pub fn changed_settings(old: &Settings, new: &Settings) -> (Vec<String>, Vec<String>) {
    let as_map = |settings: &Settings| match serde_json::to_value(settings) {
        Ok(serde_json::Value::Object(map)) => map,
        // Settings serialise to a map of their keys; nothing else can be compared key by key.
        _ => serde_json::Map::new(),
    };
    let (old, new) = (as_map(old), as_map(new));
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter(|key| old.get(*key) != new.get(*key))
        .cloned()
        .partition(|key| !READ_AT_START.contains(&key.as_str()))
}

/// Compares the schedulable tasks of two sets.
pub fn diff(old: &TaskSet, new: &TaskSet) -> ReloadDiff {
    let old_defs: HashMap<&TaskName, &TaskDef> = old.valid().map(|def| (&def.name, def)).collect();
    let new_names: HashSet<&TaskName> = new.valid().map(|def| &def.name).collect();
    let mut result = ReloadDiff::default();
    for def in new.valid() {
        match old_defs.get(&def.name) {
            None => result.added.push(def.name.clone()),
            Some(old_def) if *old_def == def => result.unchanged.push(def.name.clone()),
            Some(_) => result.changed.push(def.name.clone()),
        }
    }
    result.removed = old
        .valid()
        .filter(|def| !new_names.contains(&def.name))
        .map(|def| def.name.clone())
        .collect();
    result.conf_errors = new
        .broken()
        .flat_map(|broken| {
            broken
                .errors
                .iter()
                .map(|error| (broken.label.clone(), error.clone()))
        })
        .collect();
    result
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::parse_tasks;

    fn set(text: &str) -> TaskSet {
        parse_tasks(text, Path::new("tasks.yaml"), chrono_tz::Tz::UTC).expect("valid file")
    }

    fn names(list: &[TaskName]) -> Vec<&str> {
        list.iter().map(TaskName::as_str).collect()
    }

    #[test]
    fn a_long_list_of_names_is_cut_and_counted() {
        let many: String = (0..8)
            .map(|index| format!("  - {{name: t{index}, command: a, interval: 1m}}\n"))
            .collect();
        let result = diff(&set("tasks: []\n"), &set(&format!("tasks:\n{many}")));
        assert_eq!(result.summary(), "added t0, t1, t2, t3, t4 and 3 more");
    }

    #[test]
    fn sorts_tasks_into_added_removed_changed_unchanged() {
        let old = set("tasks:
  - {name: same, command: a, interval: 1m}
  - {name: edited, command: a, interval: 1m}
  - {name: gone, command: a, interval: 1m}
");
        let new = set("tasks:
  - {name: fresh, command: a, interval: 1m}
  - {name: edited, command: b, interval: 1m}
  - {name: same, command: a, interval: 1m}
  - {name: broken, interval: 1m}
");
        let result = diff(&old, &new);
        assert_eq!(names(&result.added), ["fresh"]);
        assert_eq!(names(&result.changed), ["edited"]);
        assert_eq!(names(&result.unchanged), ["same"]);
        assert_eq!(names(&result.removed), ["gone"]);
        assert_eq!(result.conf_errors.len(), 1);
        assert_eq!(
            result.summary(),
            "added fresh; removed gone; changed edited; 1 conf error"
        );
        assert_eq!(diff(&new, &new).summary(), "1 conf error");
        assert_eq!(diff(&old, &old).summary(), "no task changed");
        assert_eq!(result.conf_errors[0].0, "broken");
    }

    #[test]
    fn names_the_settings_whose_value_changed_and_only_those() {
        let parse = |text: &str| crate::config::parse_settings(text).expect("valid settings");
        let old = parse("shutdown_grace: 30s\nmax_keep: 10\napp_name: a\n");
        let new = parse("app_name: a\nshutdown_grace: 3s\nmax_keep: 20\nlisten: 127.0.0.1:9000\n");
        let (now, at_start) = changed_settings(&old, &new);
        assert_eq!(now, ["max_keep", "shutdown_grace"]);
        assert_eq!(at_start, ["listen"]);
        let (now, at_start) = changed_settings(&old, &old);
        assert!(now.is_empty() && at_start.is_empty());
        let result = ReloadDiff {
            settings_changed: vec!["max_keep".into()],
            settings_at_next_start: vec!["listen".into()],
            ..ReloadDiff::default()
        };
        assert_eq!(
            result.summary(),
            "no task changed; settings changed: max_keep; settings changed, in effect at the next start: listen"
        );
    }
}
