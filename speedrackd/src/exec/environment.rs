//! The environment a task runs in: a small, documented base, never the daemon's whole
//! environment (which under systemd holds nothing a task should depend on, and may hold
//! secrets), with the task's own `env` on top.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Timelike, Utc};

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
    /// Given to the run in RFC 3339, to the second, in UTC.
    pub scheduled_at: DateTime<Utc>,
    /// The daemon's data dir: with the run id, it names the run for crash recovery.
    pub data_dir: &'a str,
}

/// The daemon's own value of a variable a run may get (`PATH` and [`PASSED_THROUGH`]), as it
/// was the first time a run asked: the daemon never changes its environment, and reading it
/// (a lock and two allocations per variable) for every run was a visible part of a run's cost.
pub fn daemon_var(name: &str) -> Option<&'static str> {
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
        .map(|(_, value)| value.as_str())
}

/// The variables that mark a run's processes (containment, crash recovery): set from the run's
/// facts, never from the task's `env`.
pub const MARKER: [&str; 3] = ["SPEEDRACK_RUN_ID", "SPEEDRACK_TASK", "SPEEDRACK_DATA_DIR"];

/// A run's environment: each name once, with its value.
///
/// The names and values share one string: as a map of owned strings, a run's dozen variables
/// cost some thirty allocations, a few per cent of what a run cost the daemon (BENCHMARKS.md).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// Every name and value, back to back.
    text: String,
    /// Each variable's name end and value end in `text`; a variable starts where the one
    /// before ends.
    ends: Vec<(usize, usize)>,
}

impl Environment {
    /// The variables, in the order they were set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|(_, end)| *end));
        starts.zip(&self.ends).map(|(start, (name_end, end))| {
            (&self.text[start..*name_end], &self.text[*name_end..*end])
        })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(known, _)| *known == name)
            .map(|(_, value)| value)
    }

    /// Bytes of every `NAME=value` with its terminating NUL, as `execve` takes them.
    pub fn c_len(&self) -> usize {
        self.text.len() + 2 * self.ends.len()
    }

    /// Adds a variable; the caller makes sure the name is not there yet.
    fn push(&mut self, name: &str, value: &str) {
        self.text.push_str(name);
        let name_end = self.text.len();
        self.text.push_str(value);
        self.ends.push((name_end, self.text.len()));
    }

    /// Adds `at` as RFC 3339 to the second, in UTC (`2026-11-29T12:00:00Z`). Written field
    /// by field: chrono's formatting parses its pattern and allocates, for every run.
    fn push_time(&mut self, name: &str, at: DateTime<Utc>) {
        use std::fmt::Write;
        self.text.push_str(name);
        let name_end = self.text.len();
        let (date, time) = (at.date_naive(), at.time());
        // Writing to a String cannot fail.
        let _ = write!(
            self.text,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            date.year(),
            date.month(),
            date.day(),
            time.hour(),
            time.minute(),
            time.second()
        );
        self.ends.push((name_end, self.text.len()));
    }

    fn push_number(&mut self, name: &str, value: i64) {
        self.push(name, itoa::Buffer::new().format(value));
    }
}

/// An environment of exactly these variables, in this order (names unique).
#[cfg(test)]
impl<'a> FromIterator<(&'a str, &'a str)> for Environment {
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a str)>>(variables: I) -> Environment {
        let mut env = Environment::default();
        for (name, value) in variables {
            env.push(name, value);
        }
        env
    }
}

const SCHEDULED_AT: &str = "SPEEDRACK_SCHEDULED_AT";

/// Builds the run's environment from a lookup into the daemon's own, the run's facts and the
/// task's `env`, which wins over everything but the run's marker (task, run id, data dir).
pub fn run_environment<'d>(
    daemon_env: impl Fn(&str) -> Option<&'d str>,
    shell: &str,
    facts: &RunFacts<'_>,
    task_env: &BTreeMap<String, String>,
) -> Environment {
    let passed = PASSED_THROUGH
        .iter()
        .filter_map(|name| Some((*name, daemon_env(name)?)));
    let base = [
        ("PATH", daemon_env("PATH").unwrap_or(DEFAULT_PATH)),
        ("SHELL", shell),
    ]
    .into_iter()
    .chain(passed)
    .chain([("SPEEDRACK_TRIGGER", facts.trigger)]);
    let own = task_env
        .iter()
        .filter(|(name, _)| !MARKER.contains(&name.as_str()));
    let mut env = Environment {
        text: String::with_capacity(512),
        ends: Vec::with_capacity(PASSED_THROUGH.len() + 7 + task_env.len()),
    };
    for (name, value) in base {
        if !task_env.contains_key(name) {
            env.push(name, value);
        }
    }
    if !task_env.contains_key(SCHEDULED_AT) {
        env.push_time(SCHEDULED_AT, facts.scheduled_at);
    }
    for (name, value) in own {
        env.push(name, value);
    }
    let [run_id, task, data_dir] = MARKER;
    env.push(task, facts.task);
    env.push_number(run_id, facts.run_id);
    env.push(data_dir, facts.data_dir);
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_base_the_run_facts_and_the_task_env_on_top() {
        let daemon = |name: &str| match name {
            "HOME" => Some("/var/lib/speedrack"),
            "SECRET_TOKEN" => Some("hunter2"),
            _ => None,
        };
        let facts = RunFacts {
            task: "backup",
            run_id: 7,
            trigger: "manual",
            scheduled_at: "2026-11-29T12:00:00.250Z".parse().expect("an instant"),
            data_dir: "/var/lib/speedrack",
        };
        let task_env = BTreeMap::from([
            ("PATH".to_owned(), "/opt/bin".to_owned()),
            ("MODE".to_owned(), "full".to_owned()),
            ("SPEEDRACK_RUN_ID".to_owned(), "1".to_owned()),
        ]);
        let env = run_environment(daemon, "/bin/sh", &facts, &task_env);
        let expected = [
            ("SHELL", "/bin/sh"),
            ("HOME", "/var/lib/speedrack"),
            ("SPEEDRACK_TRIGGER", "manual"),
            ("SPEEDRACK_SCHEDULED_AT", "2026-11-29T12:00:00Z"),
            ("MODE", "full"),
            // The task wins over the daemon's PATH and the run's facts…
            ("PATH", "/opt/bin"),
            // …but not over the marker, which is the run's. No name twice.
            ("SPEEDRACK_TASK", "backup"),
            ("SPEEDRACK_RUN_ID", "7"),
            ("SPEEDRACK_DATA_DIR", "/var/lib/speedrack"),
        ];
        // The daemon's other variables (SECRET_TOKEN) are not leaked, nor unset ones invented.
        assert_eq!(env.iter().collect::<Vec<_>>(), expected);
        assert_eq!(env, expected.into_iter().collect::<Environment>());
        assert_eq!((env.get("MODE"), env.get("USER")), (Some("full"), None));
        assert_eq!(
            env.c_len(),
            expected
                .iter()
                .map(|(n, v)| n.len() + v.len() + 2)
                .sum::<usize>()
        );
        let without_path = run_environment(|_| None, "/bin/sh", &facts, &BTreeMap::new());
        assert_eq!(without_path.get("PATH"), Some(DEFAULT_PATH));
    }
}
