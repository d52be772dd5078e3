//! Conf errors as text lines, compiler style: `file:line: task: key: message`.
//!
//! Pure. Empty parts (unknown line, no key, no task) are left out rather than shown blank.

use speedrack_proto::v1::ConfError;

/// `file:line: key: message`, for lists where the task is already clear.
pub fn without_task(e: &ConfError) -> String {
    join(&[&location(e), &e.key, &e.message])
}

/// `file:line: task: key: message`.
pub fn with_task(e: &ConfError) -> String {
    join(&[&location(e), &e.task, &e.key, &e.message])
}

/// A "conf errors:" heading and one indented line per error; empty when there are none.
pub fn section<'a>(
    errors: impl IntoIterator<Item = &'a ConfError>,
    line: fn(&ConfError) -> String,
) -> String {
    let lines: String = errors
        .into_iter()
        .map(|e| format!("  {}\n", line(e)))
        .collect();
    if lines.is_empty() {
        lines
    } else {
        format!("conf errors:\n{lines}")
    }
}

fn location(e: &ConfError) -> String {
    match e.line {
        0 => e.file.clone(),
        line => format!("{}:{line}", e.file),
    }
}

fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|part| !part.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf_error(file: &str, line: u32, task: &str, key: &str, message: &str) -> ConfError {
        ConfError {
            file: file.into(),
            line,
            key: key.into(),
            message: message.into(),
            task: task.into(),
        }
    }

    #[test]
    fn lines() {
        let cases = [
            (
                conf_error("tasks.yaml", 12, "b", "schedule", "bad unit"),
                "tasks.yaml:12: schedule: bad unit",
                "tasks.yaml:12: b: schedule: bad unit",
            ),
            (
                conf_error("tasks.yaml", 0, "b", "", "duplicate name"),
                "tasks.yaml: duplicate name",
                "tasks.yaml: b: duplicate name",
            ),
            (
                conf_error("tasks.yaml", 3, "", "", "not a mapping"),
                "tasks.yaml:3: not a mapping",
                "tasks.yaml:3: not a mapping",
            ),
        ];
        for (e, without, with) in cases {
            assert_eq!(without_task(&e), without);
            assert_eq!(with_task(&e), with);
        }
    }

    #[test]
    fn sections() {
        assert_eq!(section(&[], with_task), "");
        let errors = [
            conf_error("t.yaml", 1, "a", "command", "missing"),
            conf_error("t.yaml", 9, "b", "", "duplicate name"),
        ];
        assert_eq!(
            section(&errors, with_task),
            "conf errors:\n  t.yaml:1: a: command: missing\n  t.yaml:9: b: duplicate name\n"
        );
    }
}
