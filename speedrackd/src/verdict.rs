//! The failure rules, as a pure function: did a finished run succeed, and if not, every reason
//! why in words.

use crate::run::{Exit, RunStatus};

/// Which signs of failure count for a task (settings defaults merged with per-task keys).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureRules {
    /// Non-zero exit status or death by a signal fails the run (seed).
    pub by_retcode: bool,
    /// Any byte on stderr fails the run (seed).
    pub by_stderr: bool,
    /// Exit codes that count as success, whatever `by_retcode` says.
    pub ok_exit_codes: Vec<i32>,
    /// Exit codes that count as failure, whatever `by_retcode` says.
    pub fail_on_exit_codes: Vec<i32>,
}

/// What was observed of a run that ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evidence<'a> {
    pub exit: Exit,
    pub stderr_bytes: u64,
    /// Who ended it early (`timeout after 30s`, a user, `shutdown`).
    pub killed_by: Option<&'a str>,
    /// The first output line that matched `fail_if_output_matches`.
    pub matched_line: Option<&'a str>,
}

/// The status of a run whose process ended, and the reasons when it failed (empty on success).
pub fn judge(rules: &FailureRules, evidence: &Evidence<'_>) -> (RunStatus, String) {
    let mut reasons = Vec::new();
    if let Some(by) = evidence.killed_by {
        reasons.push(if by.starts_with("timeout") {
            format!("timed out ({by})")
        } else {
            format!("killed by {by}")
        });
    }
    match evidence.exit {
        Exit::Code(code) if rules.ok_exit_codes.contains(&code) => {}
        Exit::Code(code) if rules.fail_on_exit_codes.contains(&code) => {
            reasons.push(format!("exit status {code}"))
        }
        Exit::Code(code) if rules.by_retcode && code != 0 => {
            reasons.push(format!("exit status {code}"))
        }
        Exit::Signal(signal) if rules.by_retcode && evidence.killed_by.is_none() => {
            reasons.push(format!("killed by signal {signal}"));
        }
        Exit::Code(_) | Exit::Signal(_) => {}
    }
    if rules.by_stderr && evidence.stderr_bytes > 0 {
        reasons.push(format!(
            "stderr not empty ({} bytes)",
            evidence.stderr_bytes
        ));
    }
    if let Some(line) = evidence.matched_line {
        reasons.push(format!("output matches fail_if_output_matches: {line:?}"));
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

    fn rules(by_retcode: bool, by_stderr: bool) -> FailureRules {
        FailureRules {
            by_retcode,
            by_stderr,
            ..FailureRules::default()
        }
    }

    fn exited(code: i32, stderr_bytes: u64) -> Evidence<'static> {
        Evidence {
            exit: Exit::Code(code),
            stderr_bytes,
            killed_by: None,
            matched_line: None,
        }
    }

    #[test]
    fn applies_the_seed_rules() {
        let signal = Evidence {
            exit: Exit::Signal(9),
            ..exited(0, 0)
        };
        let cases = [
            (rules(true, true), exited(0, 0), RunStatus::Success, ""),
            (
                rules(true, true),
                exited(3, 0),
                RunStatus::Failure,
                "exit status 3",
            ),
            (
                rules(true, true),
                exited(0, 42),
                RunStatus::Failure,
                "stderr not empty (42 bytes)",
            ),
            (
                rules(true, true),
                exited(1, 5),
                RunStatus::Failure,
                "exit status 1; stderr not empty (5 bytes)",
            ),
            (
                rules(true, true),
                signal,
                RunStatus::Failure,
                "killed by signal 9",
            ),
            (rules(true, false), exited(0, 42), RunStatus::Success, ""),
            (
                rules(true, false),
                exited(2, 42),
                RunStatus::Failure,
                "exit status 2",
            ),
            (rules(false, true), exited(2, 0), RunStatus::Success, ""),
            (rules(false, false), exited(2, 42), RunStatus::Success, ""),
        ];
        for (rules, evidence, status, reason) in cases {
            assert_eq!(
                judge(&rules, &evidence),
                (status, reason.to_owned()),
                "{rules:?} {evidence:?}"
            );
        }
    }

    #[test]
    fn exit_code_lists_override_the_retcode_rule() {
        let lists = FailureRules {
            ok_exit_codes: vec![0, 1],
            fail_on_exit_codes: vec![4],
            ..rules(true, false)
        };
        let lenient = FailureRules {
            fail_on_exit_codes: vec![4],
            ..rules(false, false)
        };
        let cases = [
            (&lists, 1, RunStatus::Success, ""),
            (&lists, 2, RunStatus::Failure, "exit status 2"),
            (&lists, 4, RunStatus::Failure, "exit status 4"),
            (&lenient, 2, RunStatus::Success, ""),
            (&lenient, 4, RunStatus::Failure, "exit status 4"),
        ];
        for (rules, code, status, reason) in cases {
            assert_eq!(
                judge(rules, &exited(code, 0)),
                (status, reason.to_owned()),
                "{rules:?} {code}"
            );
        }
    }

    #[test]
    fn kills_timeouts_and_matches_say_why() {
        let timeout = Evidence {
            exit: Exit::Signal(15),
            killed_by: Some("timeout after 30s"),
            ..exited(0, 0)
        };
        assert_eq!(
            judge(&rules(true, true), &timeout),
            (
                RunStatus::Failure,
                "timed out (timeout after 30s)".to_owned()
            )
        );
        let killed = Evidence {
            exit: Exit::Signal(15),
            killed_by: Some("alice"),
            ..exited(0, 0)
        };
        assert_eq!(
            judge(&rules(false, false), &killed),
            (RunStatus::Failure, "killed by alice".to_owned())
        );
        let matched = Evidence {
            matched_line: Some("ERROR: disk full"),
            ..exited(0, 0)
        };
        assert_eq!(
            judge(&rules(false, false), &matched),
            (
                RunStatus::Failure,
                "output matches fail_if_output_matches: \"ERROR: disk full\"".to_owned()
            )
        );
    }
}
