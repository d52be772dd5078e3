//! The environment a task runs in: a small, documented base, never the daemon's whole
//! environment (which under systemd holds nothing a task should depend on, and may hold
//! secrets), with the task's own `env` on top.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// PATH when the daemon's own is unset.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Variables passed through from the daemon when it has them.
const PASSED_THROUGH: &[&str] = &["HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ"];

/// Facts about the run that a task may want.
#[derive(Debug, Clone)]
pub struct RunFacts<'a> {
    pub task: &'a str,
    pub run_id: i64,
    /// `schedule` or `manual`.
    pub trigger: &'a str,
    /// RFC 3339.
    pub scheduled_at: String,
    /// The daemon's data dir: with the run id, it names the run for crash recovery.
    pub data_dir: &'a str,
}

/// The daemon's own value of a variable a run may get (`PATH` and [`PASSED_THROUGH`]), as it
/// was the first time a run asked: the daemon never changes its environment, and reading it
/// (a lock and two allocations per variable) for every run was a visible part of a run's cost.
pub fn daemon_var(name: &str) -> Option<String> {
    static SNAPSHOT: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();
    SNAPSHOT
        .get_or_init(|| {
            std::iter::once("PATH")
                .chain(PASSED_THROUGH.iter().copied())
                .filter_map(|name| Some((name, std::env::var(name).ok()?)))
                .collect()
        })
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, value)| value.clone())
}

/// Builds the run's environment from a lookup into the daemon's own, the run's facts and the
/// task's `env`, which wins over everything but the run's marker (task, run id, data dir).
pub fn run_environment(
    daemon_env: impl Fn(&str) -> Option<String>,
    shell: &str,
    facts: &RunFacts<'_>,
    task_env: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert(
        "PATH".to_owned(),
        daemon_env("PATH").unwrap_or_else(|| DEFAULT_PATH.to_owned()),
    );
    env.insert("SHELL".to_owned(), shell.to_owned());
    for name in PASSED_THROUGH {
        if let Some(value) = daemon_env(name) {
            env.insert((*name).to_owned(), value);
        }
    }
    env.insert("SPEEDRACK_TASK".to_owned(), facts.task.to_owned());
    env.insert("SPEEDRACK_RUN_ID".to_owned(), facts.run_id.to_string());
    env.insert("SPEEDRACK_TRIGGER".to_owned(), facts.trigger.to_owned());
    env.insert(
        "SPEEDRACK_SCHEDULED_AT".to_owned(),
        facts.scheduled_at.clone(),
    );
    env.insert("SPEEDRACK_DATA_DIR".to_owned(), facts.data_dir.to_owned());
    env.extend(
        task_env
            .iter()
            .map(|(name, value)| (name.clone(), value.clone())),
    );
    // These three mark the run's processes (containment, crash recovery): never the task's.
    env.insert("SPEEDRACK_TASK".to_owned(), facts.task.to_owned());
    env.insert("SPEEDRACK_RUN_ID".to_owned(), facts.run_id.to_string());
    env.insert("SPEEDRACK_DATA_DIR".to_owned(), facts.data_dir.to_owned());
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_base_the_run_facts_and_the_task_env_on_top() {
        let daemon = |name: &str| match name {
            "HOME" => Some("/var/lib/speedrack".to_owned()),
            "SECRET_TOKEN" => Some("hunter2".to_owned()),
            _ => None,
        };
        let facts = RunFacts {
            task: "backup",
            run_id: 7,
            trigger: "manual",
            scheduled_at: "2026-11-29T12:00:00Z".into(),
            data_dir: "/var/lib/speedrack",
        };
        let task_env = BTreeMap::from([
            ("PATH".to_owned(), "/opt/bin".to_owned()),
            ("MODE".to_owned(), "full".to_owned()),
            ("SPEEDRACK_RUN_ID".to_owned(), "1".to_owned()),
        ]);
        let env = run_environment(daemon, "/bin/sh", &facts, &task_env);
        assert_eq!(
            env.get("PATH").map(String::as_str),
            Some("/opt/bin"),
            "the task wins"
        );
        assert_eq!(
            env.get("HOME").map(String::as_str),
            Some("/var/lib/speedrack")
        );
        assert_eq!(
            env.get("SPEEDRACK_RUN_ID").map(String::as_str),
            Some("7"),
            "the marker is the run's"
        );
        assert_eq!(env.get("MODE").map(String::as_str), Some("full"));
        assert!(
            !env.contains_key("SECRET_TOKEN"),
            "the daemon's environment is not leaked"
        );
        assert!(!env.contains_key("USER"));
        let without_path = run_environment(|_| None, "/bin/sh", &facts, &BTreeMap::new());
        assert_eq!(
            without_path.get("PATH").map(String::as_str),
            Some(DEFAULT_PATH)
        );
    }
}
