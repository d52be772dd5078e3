//! How a run ended early reads: "killed" as its outcome in text, and who or what ended it, said
//! once ("by alice", "timeout after 30s", "replaced by run 12", "speedrackd shut down"),
//! apart from its other reasons. JSON keeps `status` as the daemon sends it and adds the cause.
//!
//! Pure. A run from a daemon that sends no cause reads as before, by its status and reason.

use speedrack_proto::v1::{KillCause, Run};

use super::names;

/// Whether the run was ended early.
pub fn is_killed(run: &Run) -> bool {
    !matches!(
        KillCause::try_from(run.kill_cause),
        Ok(KillCause::Unspecified)
    )
}

/// The run's outcome in words: "killed" for a run ended early, else its status.
pub fn outcome(run: &Run) -> String {
    if is_killed(run) {
        "killed".to_owned()
    } else {
        names::words(names::run_status(run.status))
    }
}

/// The cause in snake_case, for JSON; `None` for a run that was not killed.
pub fn cause_name(run: &Run) -> Option<&'static str> {
    match KillCause::try_from(run.kill_cause) {
        Ok(KillCause::Unspecified) => None,
        Ok(KillCause::User) => Some("user"),
        Ok(KillCause::Timeout) => Some("timeout"),
        Ok(KillCause::Replaced) => Some("replaced"),
        Ok(KillCause::Shutdown) => Some("shutdown"),
        Err(_) => Some("unknown"),
    }
}

/// Who or what ended the run; `None` for a run that was not killed.
pub fn why(run: &Run) -> Option<String> {
    let by = run.killed_by.as_str();
    Some(match KillCause::try_from(run.kill_cause) {
        Ok(KillCause::Unspecified) => return None,
        Ok(KillCause::User) => format!("by {by}"),
        Ok(KillCause::Replaced) if run.replaced_by_run_id > 0 => {
            format!("replaced by run {}", run.replaced_by_run_id)
        }
        Ok(KillCause::Replaced) => format!("replaced by {by}"),
        // Also the cause of a run whose node lost its lease, which its words tell apart.
        Ok(KillCause::Shutdown) if !by.is_empty() && by != "shutdown" => format!("by {by}"),
        Ok(KillCause::Shutdown) => "speedrackd shut down".to_owned(),
        Ok(KillCause::Timeout) | Err(_) => by.to_owned(),
    })
}

/// The run's reasons besides its kill, which the daemon lists first ("killed by alice",
/// "timed out (timeout after 30s)"); all of them for a run that was not killed.
pub fn other_reasons(run: &Run) -> String {
    if !is_killed(run) {
        return run.reason.clone();
    }
    let killer = format!("killed by {}", run.killed_by);
    let rest: Vec<&str> = run
        .reason
        .split("; ")
        .filter(|part| !part.is_empty() && *part != killer && !part.starts_with("timed out ("))
        .collect();
    rest.join("; ")
}

/// Why the run ended as it did, in one phrase: who killed it, then its other reasons.
pub fn reason(run: &Run) -> String {
    let others = other_reasons(run);
    match (why(run), others.is_empty()) {
        (Some(why), true) => why,
        (Some(why), false) => format!("{why}; {others}"),
        (None, _) => others,
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use speedrack_proto::v1::RunStatus;

    use super::*;
    use crate::render::table::Table;

    fn killed(cause: KillCause, by: &str, reason: &str, replaced_by: i64) -> Run {
        Run {
            status: RunStatus::Failure as i32,
            kill_cause: cause as i32,
            killed_by: by.into(),
            reason: reason.into(),
            replaced_by_run_id: replaced_by,
            ..Run::default()
        }
    }

    #[test]
    fn a_killed_run_names_its_killer_once() {
        let cases = [
            (
                killed(
                    KillCause::User,
                    "alice",
                    "killed by alice; stderr not empty (3 bytes)",
                    0,
                ),
                "by alice; stderr not empty (3 bytes)",
            ),
            (
                killed(
                    KillCause::Timeout,
                    "timeout after 30s",
                    "timed out (timeout after 30s)",
                    0,
                ),
                "timeout after 30s",
            ),
            (
                killed(
                    KillCause::Replaced,
                    "a manual run (overlap: replace)",
                    "killed by a manual run (overlap: replace)",
                    12,
                ),
                "replaced by run 12",
            ),
            (
                killed(
                    KillCause::Replaced,
                    "a manual run (overlap: replace)",
                    "killed by a manual run (overlap: replace)",
                    0,
                ),
                "replaced by a manual run (overlap: replace)",
            ),
            (
                killed(KillCause::Shutdown, "shutdown", "killed by shutdown", 0),
                "speedrackd shut down",
            ),
            (
                killed(KillCause::Unspecified, "", "exit status 3", 0),
                "exit status 3",
            ),
        ];
        for (run, expected) in cases {
            assert_eq!(reason(&run), expected);
        }
        let user = killed(KillCause::User, "alice", "killed by alice", 0);
        assert_eq!(
            (outcome(&user), cause_name(&user)),
            ("killed".to_owned(), Some("user"))
        );
        let failed = killed(KillCause::Unspecified, "", "exit status 3", 0);
        assert_eq!(
            (outcome(&failed), cause_name(&failed)),
            ("failure".to_owned(), None)
        );
    }

    /// A run of each kind a user meets in `runs`, as the daemon records them: its status, cause,
    /// killer and reasons (the daemon lists the kill first).
    fn history() -> Vec<(i64, Run)> {
        let failure = RunStatus::Failure;
        let run = |status: RunStatus, cause: i32, by: &str, reason: &str, replaced_by: i64| Run {
            status: status as i32,
            kill_cause: cause,
            killed_by: by.into(),
            reason: reason.into(),
            replaced_by_run_id: replaced_by,
            ..Run::default()
        };
        let user = KillCause::User as i32;
        let replaced = KillCause::Replaced as i32;
        let shutdown = KillCause::Shutdown as i32;
        vec![
            (
                50,
                run(
                    failure,
                    user,
                    "alice",
                    "killed by alice; stderr not empty (42 bytes)",
                    0,
                ),
            ),
            (
                49,
                run(
                    failure,
                    user,
                    "ann (via speedrack)",
                    "killed by ann (via speedrack)",
                    0,
                ),
            ),
            (
                48,
                run(
                    failure,
                    KillCause::Timeout as i32,
                    "timeout after 30s",
                    "timed out (timeout after 30s); output matches fail_if_output_matches: \"ERROR\"",
                    0,
                ),
            ),
            (
                47,
                run(
                    failure,
                    replaced,
                    "a newer fire (overlap: replace, due 14:05:00)",
                    "killed by a newer fire (overlap: replace, due 14:05:00)",
                    51,
                ),
            ),
            (
                46,
                run(
                    failure,
                    replaced,
                    "a manual run (overlap: replace)",
                    "killed by a manual run (overlap: replace)",
                    0,
                ),
            ),
            (
                45,
                run(failure, shutdown, "shutdown", "killed by shutdown", 0),
            ),
            (
                44,
                run(
                    failure,
                    shutdown,
                    "speedrackd, whose lease another node took over",
                    "killed by speedrackd, whose lease another node took over",
                    0,
                ),
            ),
            // A cause newer than this client.
            (
                43,
                run(failure, 9, "the janitor", "killed by the janitor", 0),
            ),
            (
                42,
                run(
                    failure,
                    0,
                    "",
                    "exit status 3; stderr not empty (7 bytes)",
                    0,
                ),
            ),
            (41, run(RunStatus::Success, 0, "", "", 0)),
        ]
    }

    #[test]
    fn killed_runs_read_as_killed_with_cause_and_killer_once_while_others_keep_their_status() {
        let mut table = Table::new(["RUN", "OUTCOME", "CAUSE", "REASON"]);
        for (id, run) in history() {
            table.push([
                id.to_string(),
                outcome(&run),
                cause_name(&run).unwrap_or("-").to_owned(),
                reason(&run),
            ]);
        }
        expect![[r#"
            RUN  OUTCOME  CAUSE     REASON
            50   killed   user      by alice; stderr not empty (42 bytes)
            49   killed   user      by ann (via speedrack)
            48   killed   timeout   timeout after 30s; output matches fail_if_output_matches: "ERROR"
            47   killed   replaced  replaced by run 51
            46   killed   replaced  replaced by a manual run (overlap: replace)
            45   killed   shutdown  speedrackd shut down
            44   killed   shutdown  by speedrackd, whose lease another node took over
            43   killed   unknown   the janitor
            42   failure  -         exit status 3; stderr not empty (7 bytes)
            41   success  -
        "#]]
        .assert_eq(&table.render());
    }
}
