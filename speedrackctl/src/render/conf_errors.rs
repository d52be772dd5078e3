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
    use expect_test::{Expect, expect};

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

    /// Both forms of one error's line, the one without the task first.
    fn check_line(error: &ConfError, expect: Expect) {
        expect.assert_eq(&format!("{}\n{}\n", without_task(error), with_task(error)));
    }

    #[test]
    fn a_full_line_names_file_line_task_and_key() {
        check_line(
            &conf_error("tasks.yaml", 12, "b", "schedule", "bad unit"),
            expect![[r#"
                tasks.yaml:12: schedule: bad unit
                tasks.yaml:12: b: schedule: bad unit
            "#]],
        );
    }

    #[test]
    fn an_unknown_line_and_no_key_are_left_out() {
        check_line(
            &conf_error("tasks.yaml", 0, "b", "", "duplicate name"),
            expect![[r#"
                tasks.yaml: duplicate name
                tasks.yaml: b: duplicate name
            "#]],
        );
    }

    #[test]
    fn an_error_outside_any_task_reads_the_same_both_ways() {
        check_line(
            &conf_error("tasks.yaml", 3, "", "", "not a mapping"),
            expect![[r#"
                tasks.yaml:3: not a mapping
                tasks.yaml:3: not a mapping
            "#]],
        );
    }

    #[test]
    fn sections() {
        assert_eq!(section(&[], with_task), "", "no errors, no heading");
        let errors = [
            conf_error("t.yaml", 1, "a", "command", "missing"),
            conf_error("t.yaml", 9, "b", "", "duplicate name"),
        ];
        expect![[r#"
            conf errors:
              t.yaml:1: a: command: missing
              t.yaml:9: b: duplicate name
        "#]]
        .assert_eq(&section(&errors, with_task));
    }
}
