//! The seed's failure rules, as a pure function: did a finished run succeed, and if not, why.

use crate::run::{Exit, RunStatus};

/// Which signs of failure count for a task (settings defaults merged with per-task overrides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureRules {
    /// Non-zero exit status or death by a signal fails the run.
    pub by_retcode: bool,
    /// Any byte on stderr fails the run.
    pub by_stderr: bool,
}

/// The status of a run whose process ended, and the reason when it failed (empty on success).
pub fn judge(rules: FailureRules, exit: Exit, stderr_bytes: u64) -> (RunStatus, String) {
    let mut reasons = Vec::new();
    if rules.by_retcode {
        match exit {
            Exit::Code(0) => {}
            Exit::Code(code) => reasons.push(format!("exit status {code}")),
            Exit::Signal(signal) => reasons.push(format!("killed by signal {signal}")),
        }
    }
    if rules.by_stderr && stderr_bytes > 0 {
        reasons.push(format!("stderr not empty ({stderr_bytes} bytes)"));
    }
    if reasons.is_empty() {
        (RunStatus::Success, String::new())
    } else {
        (RunStatus::Failure, reasons.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: FailureRules = FailureRules {
        by_retcode: true,
        by_stderr: true,
    };
    const RETCODE_ONLY: FailureRules = FailureRules {
        by_retcode: true,
        by_stderr: false,
    };
    const STDERR_ONLY: FailureRules = FailureRules {
        by_retcode: false,
        by_stderr: true,
    };
    const NEITHER: FailureRules = FailureRules {
        by_retcode: false,
        by_stderr: false,
    };

    #[test]
    fn applies_the_seed_rules() {
        let cases = [
            (BOTH, Exit::Code(0), 0, RunStatus::Success, ""),
            (BOTH, Exit::Code(3), 0, RunStatus::Failure, "exit status 3"),
            (
                BOTH,
                Exit::Code(0),
                42,
                RunStatus::Failure,
                "stderr not empty (42 bytes)",
            ),
            (
                BOTH,
                Exit::Code(1),
                5,
                RunStatus::Failure,
                "exit status 1; stderr not empty (5 bytes)",
            ),
            (
                BOTH,
                Exit::Signal(9),
                0,
                RunStatus::Failure,
                "killed by signal 9",
            ),
            (RETCODE_ONLY, Exit::Code(0), 42, RunStatus::Success, ""),
            (
                RETCODE_ONLY,
                Exit::Code(2),
                42,
                RunStatus::Failure,
                "exit status 2",
            ),
            (STDERR_ONLY, Exit::Code(2), 0, RunStatus::Success, ""),
            (
                STDERR_ONLY,
                Exit::Signal(15),
                1,
                RunStatus::Failure,
                "stderr not empty (1 bytes)",
            ),
            (NEITHER, Exit::Code(2), 42, RunStatus::Success, ""),
        ];
        for (rules, exit, stderr, status, reason) in cases {
            assert_eq!(
                judge(rules, exit, stderr),
                (status, reason.to_owned()),
                "{rules:?} {exit:?} {stderr}"
            );
        }
    }
}
