//! A Speedrack 0.6.1 execution's status, by 0.6.1's own rules, as a pure function of what its
//! directory holds: an `op_error.txt` makes it an execution error whatever else is there; a
//! `.is_running` left behind means 0.6.1 stopped mid-run (interrupted here, its end unknown);
//! otherwise `fail_by_stderr` fails it on a non-empty `std_err.txt`, and `fail_by_retcode` on a
//! missing status code or one that is not 0. The per-execution values come from its
//! `op_params.txt` when set there, else from the settings (`params.rs` reads them).
//!
//! The exit-status and stderr rules are the daemon's own (`verdict::judge`), so imported and
//! native runs give the same reasons in the same words. Reading the files is `scan.rs`'s.

use crate::run::{Exit, RunStatus};
use crate::verdict::{Evidence, FailureRules, judge};

/// What an execution directory says about how the run ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    /// The text of `op_error.txt`, when there is one.
    pub op_error: Option<String>,
    /// `.is_running` is there.
    pub running: bool,
    /// `status_code.txt`, read; `None` when missing or empty.
    pub exit: Option<Exit>,
    /// The size of `std_err.txt` (0 when missing).
    pub stderr_bytes: u64,
}

/// A judged execution: what its run records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub status: RunStatus,
    /// Why it failed, in the daemon's words; empty otherwise.
    pub reason: String,
    /// What went wrong in 0.6.1's own handling; empty when nothing did.
    pub op_error: String,
}

/// The status 0.6.1 gave an execution with these facts, under these failure rules.
pub fn judge_execution(facts: &Facts, by_retcode: bool, by_stderr: bool) -> Judged {
    if let Some(text) = &facts.op_error {
        return Judged {
            status: RunStatus::ExecutionError,
            reason: String::new(),
            // Its first line on the first line: that is the one a table of runs shows.
            op_error: format!(
                "Speedrack 0.6.1 could not run it (op_error.txt): {}",
                text.trim_start()
            ),
        };
    }
    if facts.running {
        return Judged {
            status: RunStatus::Interrupted,
            reason: String::new(),
            op_error:
                "Speedrack 0.6.1 stopped while this run was in flight (it left .is_running); \
                       its end is unknown"
                    .to_owned(),
        };
    }
    let rules = FailureRules {
        by_retcode,
        by_stderr,
        ..FailureRules::default()
    };
    let (status, reason) = match facts.exit {
        Some(exit) => judge(
            &rules,
            &Evidence {
                exit,
                stderr_bytes: facts.stderr_bytes,
                killed_by: None,
                matched_line: None,
            },
        ),
        None => without_exit(by_retcode, by_stderr, facts.stderr_bytes),
    };
    Judged {
        status,
        reason,
        op_error: String::new(),
    }
}

/// 0.6.1 counts a run without a status code as failed when `fail_by_retcode` is on.
fn without_exit(by_retcode: bool, by_stderr: bool, stderr_bytes: u64) -> (RunStatus, String) {
    let mut reasons = Vec::new();
    if by_retcode {
        reasons.push("no exit status recorded (status_code.txt missing or empty)".to_owned());
    }
    if by_stderr && stderr_bytes > 0 {
        reasons.push(format!("stderr not empty ({stderr_bytes} bytes)"));
    }
    match reasons.is_empty() {
        true => (RunStatus::Success, String::new()),
        false => (RunStatus::Failure, reasons.join("; ")),
    }
}

/// Reads `status_code.txt` as 0.6.1 did (`int()` of its first line); Python's `subprocess.call`
/// wrote `-N` for a death by signal N. `Ok(None)` for an empty file; `Err` says what it holds.
pub fn parse_status_code(text: &str) -> Result<Option<Exit>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let line = text.lines().next().unwrap_or_default().trim();
    let quoted: String = line.chars().take(40).collect();
    let not_status = || format!("status_code.txt holds {quoted:?}, not an exit status");
    let code: i64 = line.parse().map_err(|_| not_status())?;
    match code {
        -64..=-1 => Ok(Some(Exit::Signal(
            i32::try_from(-code).map_err(|_| not_status())?,
        ))),
        _ => Ok(Some(Exit::Code(
            i32::try_from(code).map_err(|_| not_status())?,
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(exit: Option<Exit>, stderr_bytes: u64) -> Facts {
        Facts {
            exit,
            stderr_bytes,
            ..Facts::default()
        }
    }

    #[test]
    fn follows_0_6_1s_rules() {
        let ok = Some(Exit::Code(0));
        let cases = [
            (facts(ok, 0), true, true, RunStatus::Success, ""),
            (
                facts(Some(Exit::Code(3)), 0),
                true,
                true,
                RunStatus::Failure,
                "exit status 3",
            ),
            (
                facts(Some(Exit::Code(3)), 0),
                false,
                true,
                RunStatus::Success,
                "",
            ),
            (
                facts(ok, 7),
                true,
                true,
                RunStatus::Failure,
                "stderr not empty (7 bytes)",
            ),
            (facts(ok, 7), true, false, RunStatus::Success, ""),
            (
                facts(Some(Exit::Signal(9)), 0),
                true,
                true,
                RunStatus::Failure,
                "killed by signal 9",
            ),
            (
                facts(None, 0),
                true,
                true,
                RunStatus::Failure,
                "no exit status recorded (status_code.txt missing or empty)",
            ),
            (facts(None, 0), false, true, RunStatus::Success, ""),
            (
                facts(None, 2),
                false,
                true,
                RunStatus::Failure,
                "stderr not empty (2 bytes)",
            ),
        ];
        for (facts, by_retcode, by_stderr, status, reason) in cases {
            let judged = judge_execution(&facts, by_retcode, by_stderr);
            assert_eq!(
                (judged.status, judged.reason.as_str()),
                (status, reason),
                "{facts:?} retcode {by_retcode} stderr {by_stderr}"
            );
        }
    }

    #[test]
    fn an_op_error_wins_over_running_and_running_over_the_exit() {
        let both = Facts {
            op_error: Some("\nsudo: a password is required\nTraceback: boom".to_owned()),
            running: true,
            exit: Some(Exit::Code(0)),
            stderr_bytes: 0,
        };
        let judged = judge_execution(&both, true, true);
        assert_eq!(judged.status, RunStatus::ExecutionError);
        // The first line says it all: a table of runs shows no other.
        assert_eq!(
            judged.op_error.lines().next(),
            Some("Speedrack 0.6.1 could not run it (op_error.txt): sudo: a password is required")
        );
        assert!(judged.op_error.ends_with("Traceback: boom"), "{judged:?}");
        let running = Facts {
            op_error: None,
            ..both
        };
        let judged = judge_execution(&running, true, true);
        assert_eq!(judged.status, RunStatus::Interrupted);
        assert!(judged.op_error.contains(".is_running"), "{judged:?}");
    }

    #[test]
    fn reads_status_codes_as_python_int_did() {
        let cases = [
            ("0", Ok(Some(Exit::Code(0)))),
            ("3\n", Ok(Some(Exit::Code(3)))),
            (" 1 \nignored", Ok(Some(Exit::Code(1)))),
            ("+2", Ok(Some(Exit::Code(2)))),
            ("-9", Ok(Some(Exit::Signal(9)))),
            ("-999", Ok(Some(Exit::Code(-999)))),
            ("", Ok(None)),
            (
                "abc",
                Err("status_code.txt holds \"abc\", not an exit status".to_owned()),
            ),
            (
                "\n",
                Err("status_code.txt holds \"\", not an exit status".to_owned()),
            ),
            (
                "99999999999",
                Err("status_code.txt holds \"99999999999\", not an exit status".to_owned()),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_status_code(text), expected, "{text:?}");
        }
    }
}
