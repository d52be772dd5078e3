//! Names of proto enum values: snake_case for JSON ("never_run"), words for text ("never run").
//!
//! Pure. A value this client does not know (from a newer daemon) is named "unknown" rather than
//! refused, so that an older speedrackctl keeps working.

use speedrack_proto::v1::{RunStatus, TaskStatus, Trigger};

/// A task's status in snake_case.
pub fn task_status(value: i32) -> &'static str {
    match TaskStatus::try_from(value) {
        Ok(TaskStatus::Unspecified) => "unspecified",
        Ok(TaskStatus::Success) => "success",
        Ok(TaskStatus::Failure) => "failure",
        Ok(TaskStatus::NeverRun) => "never_run",
        Ok(TaskStatus::ExecutionError) => "execution_error",
        Ok(TaskStatus::ConfError) => "conf_error",
        Ok(TaskStatus::Running) => "running",
        Ok(TaskStatus::Inactive) => "inactive",
        Ok(TaskStatus::Suspended) => "suspended",
        Err(_) => "unknown",
    }
}

/// A run's status in snake_case.
pub fn run_status(value: i32) -> &'static str {
    match RunStatus::try_from(value) {
        Ok(RunStatus::Unspecified) => "unspecified",
        Ok(RunStatus::Running) => "running",
        Ok(RunStatus::Success) => "success",
        Ok(RunStatus::Failure) => "failure",
        Ok(RunStatus::ExecutionError) => "execution_error",
        Ok(RunStatus::Interrupted) => "interrupted",
        Err(_) => "unknown",
    }
}

/// What started a run, in snake_case.
pub fn trigger(value: i32) -> &'static str {
    match Trigger::try_from(value) {
        Ok(Trigger::Unspecified) => "unspecified",
        Ok(Trigger::Schedule) => "schedule",
        Ok(Trigger::Manual) => "manual",
        Ok(Trigger::Imported) => "imported",
        Err(_) => "unknown",
    }
}

/// A snake_case name as words, for text output.
pub fn words(name: &str) -> String {
    name.replace('_', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_statuses() {
        let cases = [
            (TaskStatus::Success, "success"),
            (TaskStatus::Failure, "failure"),
            (TaskStatus::NeverRun, "never_run"),
            (TaskStatus::ExecutionError, "execution_error"),
            (TaskStatus::ConfError, "conf_error"),
            (TaskStatus::Running, "running"),
            (TaskStatus::Inactive, "inactive"),
            (TaskStatus::Suspended, "suspended"),
            (TaskStatus::Unspecified, "unspecified"),
        ];
        for (status, expected) in cases {
            assert_eq!(task_status(status as i32), expected);
        }
        assert_eq!(task_status(99), "unknown");
    }

    #[test]
    fn run_statuses_and_triggers() {
        let cases = [
            (run_status(RunStatus::Running as i32), "running"),
            (run_status(RunStatus::Success as i32), "success"),
            (run_status(RunStatus::Failure as i32), "failure"),
            (
                run_status(RunStatus::ExecutionError as i32),
                "execution_error",
            ),
            (run_status(RunStatus::Interrupted as i32), "interrupted"),
            (run_status(-1), "unknown"),
            (trigger(Trigger::Schedule as i32), "schedule"),
            (trigger(Trigger::Manual as i32), "manual"),
            (trigger(Trigger::Imported as i32), "imported"),
            (trigger(7), "unknown"),
        ];
        for (got, expected) in cases {
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn words_from_names() {
        assert_eq!(words("never_run"), "never run");
        assert_eq!(words("execution_error"), "execution error");
        assert_eq!(words("success"), "success");
    }
}
