//! How a run ended early reads: a "killed" badge rather than "failure", and who or what ended
//! it, said once ("by alice", "timeout after 30s", "replaced by run #12", "speedrackd shut
//! down"), apart from the run's other reasons. The run view and the runs table both use it.
//!
//! It reads `Run.kill_cause`; a run from a daemon that does not send it shows as before, by its
//! status and reason.

use maud::{Markup, html};
use speedrack_proto::v1 as pb;

use crate::views::layout::Chrome;
use crate::views::status::{Label, badge, run_status};

const KILLED: Label = Label {
    text: "killed",
    slug: "killed",
    class: "text-bg-danger",
};

/// Whether the run was ended early.
pub fn is_killed(run: &pb::Run) -> bool {
    run.kill_cause() != pb::KillCause::Unspecified
}

/// The run's outcome as a badge: "killed" for a run ended early, else its status.
pub fn run_badge(run: &pb::Run) -> Markup {
    if is_killed(run) {
        badge(KILLED)
    } else {
        badge(run_status(run.status()))
    }
}

/// Who or what ended the run, for a run that was ended early.
pub fn why(chrome: &Chrome, run: &pb::Run) -> Markup {
    let by = run.killed_by.as_str();
    html! {
        @match run.kill_cause() {
            pb::KillCause::User => { "by " span data-killed-by { (by) } }
            pb::KillCause::Timeout => span data-killed-by { (by) },
            pb::KillCause::Replaced if run.replaced_by_run_id > 0 => {
                "replaced by "
                a data-killed-by href=(chrome.urls.run(&run.task, run.replaced_by_run_id)) {
                    "run #" (run.replaced_by_run_id)
                }
            }
            pb::KillCause::Replaced => { "replaced by " span data-killed-by { (by) } }
            // Also the cause of a run whose node lost its lease, which its words tell apart.
            pb::KillCause::Shutdown if !by.is_empty() && by != "shutdown" => {
                "by " span data-killed-by { (by) }
            }
            pb::KillCause::Shutdown => span data-killed-by { "speedrackd shut down" },
            pb::KillCause::Unspecified => span data-killed-by { (by) },
        }
    }
}

/// The run's reasons besides its kill, which the daemon lists first ("killed by alice",
/// "timed out (timeout after 30s)"); all of them for a run that was not killed.
pub fn other_reasons(run: &pb::Run) -> String {
    if !is_killed(run) {
        return run.reason.clone();
    }
    let kill_part = |part: &&str| {
        part.starts_with(&format!("killed by {}", run.killed_by)) || part.starts_with("timed out (")
    };
    let rest: Vec<&str> = run
        .reason
        .split("; ")
        .filter(|part| !part.is_empty() && !kill_part(part))
        .collect();
    rest.join("; ")
}

/// A table cell's notes: who killed the run, then its other reasons.
pub fn notes(chrome: &Chrome, run: &pb::Run) -> Markup {
    let others = other_reasons(run);
    html! {
        @if is_killed(run) {
            "killed " (why(chrome, run))
            @if !others.is_empty() { "; " }
        }
        (others)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::layout::tests::chrome;

    fn killed(cause: pb::KillCause, by: &str, reason: &str, replaced_by: i64) -> pb::Run {
        pb::Run {
            id: 4,
            task: "t".to_owned(),
            status: pb::RunStatus::Failure.into(),
            kill_cause: cause.into(),
            killed_by: by.to_owned(),
            reason: reason.to_owned(),
            replaced_by_run_id: replaced_by,
            ..pb::Run::default()
        }
    }

    #[test]
    fn the_killer_is_named_once() {
        let run = killed(
            pb::KillCause::User,
            "ann (via speedrack)",
            "killed by ann (via speedrack); stderr not empty (3 bytes)",
            0,
        );
        let notes = notes(&chrome(""), &run).into_string();
        assert_eq!(
            notes,
            "killed by <span data-killed-by>ann (via speedrack)</span>; stderr not empty (3 bytes)"
        );
        assert!(run_badge(&run).into_string().contains(">killed<"));
    }

    #[test]
    fn each_cause_says_why() {
        let chrome = chrome("");
        let cases = [
            (
                killed(
                    pb::KillCause::Timeout,
                    "timeout after 30s",
                    "timed out (timeout after 30s)",
                    0,
                ),
                "<span data-killed-by>timeout after 30s</span>",
                "",
            ),
            (
                killed(
                    pb::KillCause::Replaced,
                    "a manual run (overlap: replace)",
                    "killed by a manual run (overlap: replace)",
                    12,
                ),
                r#"replaced by <a data-killed-by href="/tasks/t/runs/12">run #12</a>"#,
                "",
            ),
            (
                killed(
                    pb::KillCause::Shutdown,
                    "shutdown",
                    "killed by shutdown; exit status 1",
                    0,
                ),
                "<span data-killed-by>speedrackd shut down</span>",
                "exit status 1",
            ),
            (
                killed(
                    pb::KillCause::Shutdown,
                    "speedrackd, whose lease another node took over",
                    "killed by speedrackd, whose lease another node took over",
                    0,
                ),
                "by <span data-killed-by>speedrackd, whose lease another node took over</span>",
                "",
            ),
        ];
        for (run, why_html, others) in cases {
            assert_eq!(why(&chrome, &run).into_string(), why_html);
            assert_eq!(other_reasons(&run), others);
        }
        let failed = killed(pb::KillCause::Unspecified, "", "exit status 3", 0);
        assert_eq!(other_reasons(&failed), "exit status 3");
        assert!(run_badge(&failed).into_string().contains(">failure<"));
    }
}
