//! `speedrackd check`: validate the settings and tasks files the way `run` would, and say what
//! would happen: each task with its schedule in words and its next fire, and every conf error.
//! Like `nginx -t`, it only reads files; no daemon is needed. Warnings (values read the loose
//! way Speedrack 0.6.1 read them) are listed too, and logged by the daemon at start and reload.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::config::{ConfError, TaskEntry, TaskSet};

/// The report on a task set as of `now`, and whether it is free of conf errors.
pub fn report(tasks: &TaskSet, now: DateTime<Utc>) -> (String, bool) {
    let mut out = String::new();
    let broken = tasks.broken().count();
    let _ = writeln!(
        out,
        "{}: {} tasks, {} with conf errors",
        tasks.path.display(),
        tasks.entries.len(),
        broken
    );
    let width = tasks
        .entries
        .iter()
        .map(|entry| label(entry).len())
        .max()
        .unwrap_or(0);
    for entry in &tasks.entries {
        let line = match entry {
            TaskEntry::Valid(def) => {
                let next = def.schedule.next_after(now, now).map_or_else(
                    || "never fires again".to_owned(),
                    |at| {
                        let local = at.with_timezone(&def.schedule.time_zone());
                        format!("next {}", local.to_rfc3339_opts(SecondsFormat::Secs, false))
                    },
                );
                let suspended = if def.suspended {
                    ", starts suspended"
                } else {
                    ""
                };
                let words = def.schedule.describe();
                let schedule = if words == def.schedule_text {
                    words
                } else {
                    format!("{}: {words}", def.schedule_text)
                };
                format!("ok          {schedule} — {next}{suspended}")
            }
            TaskEntry::Broken(broken) => {
                format!("conf error  {} problem(s), see below", broken.errors.len())
            }
        };
        let _ = writeln!(out, "  {:width$}  {line}", label(entry));
    }
    if broken > 0 {
        out.push_str("conf errors:\n");
        for broken in tasks.broken() {
            for error in &broken.errors {
                let _ = writeln!(out, "  {}", describe_error(&broken.label, error));
            }
        }
    }
    if !tasks.warnings.is_empty() {
        out.push_str("warnings:\n");
        for warning in &tasks.warnings {
            let _ = writeln!(out, "  {}", describe_error(&warning.task, &warning.warning));
        }
    }
    (out, broken == 0)
}

/// Logs each warning of a task set just loaded, with its position.
pub fn log_warnings(tasks: &TaskSet) {
    for warning in &tasks.warnings {
        tracing::warn!("{}", describe_error(&warning.task, &warning.warning));
    }
}

fn label(entry: &TaskEntry) -> String {
    entry.written_name().to_owned()
}

/// `FILE:LINE: TASK: KEY: message`, leaving out what is unknown.
pub fn describe_error(task: &str, error: &ConfError) -> String {
    let mut text = error.file.display().to_string();
    if let Some(line) = error.line {
        let _ = write!(text, ":{line}");
    }
    let _ = write!(text, ": {task}");
    if let Some(key) = &error.key {
        let _ = write!(text, ": {key}");
    }
    let _ = write!(text, ": {}", error.message);
    text
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::TimeZone;

    use super::*;
    use crate::config::parse_tasks;

    #[test]
    fn reports_each_task_and_every_conf_error_with_its_position() {
        let text = "tasks:
  - {name: hourly, command: x, interval: 1h}
  - {name: nightly, command: x, cron: {hour: 3}}
  - name: broken
    command: x
    interval: 1h
    colour: blue
";
        let tasks = parse_tasks(text, Path::new("t.yaml"), chrono_tz::Tz::UTC).expect("valid file");
        let now = Utc
            .with_ymd_and_hms(2026, 11, 29, 12, 0, 0)
            .single()
            .expect("instant");
        let (report, clean) = report(&tasks, now);
        assert!(!clean);
        assert!(
            report.starts_with("t.yaml: 3 tasks, 1 with conf errors\n"),
            "{report}"
        );
        assert!(
            report.contains("hourly   ok          every 1h — next 2026-11-29T13:00:00+00:00"),
            "{report}"
        );
        assert!(
            report.contains("next 2026-11-30T03:00:00+00:00"),
            "{report}"
        );
        assert!(
            report.contains("t.yaml:7: broken: colour: unknown key \"colour\""),
            "{report}"
        );
    }

    #[test]
    fn warnings_are_listed_with_their_position_and_the_name_as_written() {
        let text = "tasks:
  - name: Interval Failer Later Spammer
    command: x
    interval: 1h
    spam: oh hell yes
";
        let tasks = parse_tasks(text, Path::new("t.yaml"), chrono_tz::Tz::UTC).expect("valid file");
        let now = Utc
            .with_ymd_and_hms(2026, 11, 29, 12, 0, 0)
            .single()
            .expect("instant");
        let (report, clean) = report(&tasks, now);
        assert!(clean, "a warning is not a conf error: {report}");
        assert!(
            report.contains("  Interval Failer Later Spammer  ok "),
            "{report}"
        );
        assert!(
            report.contains(
                "warnings:\n  t.yaml:5: Interval Failer Later Spammer: spam: \"oh hell yes\" \
                 is not true or false; read as true"
            ),
            "{report}"
        );
    }
}
