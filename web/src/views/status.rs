//! Status labels in the seed's colours: one table for tasks and one for runs, so that every page
//! (and the Help page's list, checked by a test) shows the same words in the same colours.

use maud::{Markup, html};
use speedrack_proto::v1 as pb;

use crate::views::time::bytes;

/// A status as shown: its words, a slug for selectors, and its Bootstrap colour class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label {
    pub text: &'static str,
    pub slug: &'static str,
    pub class: &'static str,
}

const fn label(text: &'static str, slug: &'static str, class: &'static str) -> Label {
    Label { text, slug, class }
}

/// Every task status a task can show, in the order the Help page explains them.
pub const TASK_STATUSES: [pb::TaskStatus; 8] = [
    pb::TaskStatus::Success,
    pb::TaskStatus::Failure,
    pb::TaskStatus::NeverRun,
    pb::TaskStatus::ExecutionError,
    pb::TaskStatus::ConfError,
    pb::TaskStatus::Running,
    pb::TaskStatus::Inactive,
    pb::TaskStatus::Suspended,
];

pub fn task_status(status: pb::TaskStatus) -> Label {
    match status {
        pb::TaskStatus::Success => label("success", "success", "text-bg-success"),
        pb::TaskStatus::Failure => label("failure", "failure", "text-bg-danger"),
        pb::TaskStatus::NeverRun => label("never run", "never-run", "text-bg-secondary"),
        pb::TaskStatus::ExecutionError => {
            label("execution error", "execution-error", "sr-bg-orange")
        }
        pb::TaskStatus::ConfError => label("conf error", "conf-error", "text-bg-dark"),
        pb::TaskStatus::Running => label("running", "running", "text-bg-info"),
        pb::TaskStatus::Inactive => label("inactive", "inactive", "text-bg-light border"),
        pb::TaskStatus::Suspended => label("suspended", "suspended", "text-bg-warning"),
        pb::TaskStatus::Unspecified => label("unknown", "unknown", "text-bg-secondary"),
    }
}

pub fn run_status(status: pb::RunStatus) -> Label {
    match status {
        pb::RunStatus::Running => label("running", "running", "text-bg-info"),
        pb::RunStatus::Success => label("success", "success", "text-bg-success"),
        pb::RunStatus::Failure => label("failure", "failure", "text-bg-danger"),
        pb::RunStatus::ExecutionError => {
            label("execution error", "execution-error", "sr-bg-orange")
        }
        pb::RunStatus::Interrupted => label("interrupted", "interrupted", "text-bg-dark"),
        pb::RunStatus::Unspecified => label("unknown", "unknown", "text-bg-secondary"),
    }
}

/// The data dir's free space as rows of the daemon's facts, flagged when low, and the history
/// writes the database refused when there are any.
pub fn disk_facts(status: &pb::GetStatusResponse) -> Markup {
    html! {
        tr {
            th { "Data directory free space" }
            td data-disk {
                @if status.data_dir_total_bytes == 0 {
                    "unknown"
                } @else {
                    (bytes(status.data_dir_free_bytes)) " of " (bytes(status.data_dir_total_bytes))
                    @if status.low_disk {
                        " " span.badge.text-bg-danger data-low-disk {
                            "low: history and output writes may fail; free some space"
                        }
                    }
                }
            }
        }
        @if status.pending_history_writes > 0 {
            tr {
                th { "History writes" }
                td data-pending-writes {
                    (status.pending_history_writes) " refused by the database, retrying"
                }
            }
        }
    }
}

/// The label as a badge.
pub fn badge(label: Label) -> Markup {
    html! {
        span class={ "badge sr-status " (label.class) } data-status=(label.slug) { (label.text) }
    }
}

/// What each task status means, for the Help page and tooltips.
pub fn task_status_meaning(status: pb::TaskStatus) -> &'static str {
    match status {
        pb::TaskStatus::Success => "the last run succeeded",
        pb::TaskStatus::Failure => {
            "the last run failed: a non-zero exit, a signal, or output on stderr"
        }
        pb::TaskStatus::NeverRun => "the task has not run yet",
        pb::TaskStatus::ExecutionError => {
            "speedrack could not start or track the last run, or the daemon stopped during it"
        }
        pb::TaskStatus::ConfError => "the task is misconfigured and is not scheduled",
        pb::TaskStatus::Running => "a run is in progress now",
        pb::TaskStatus::Inactive => "the task has history but is no longer in the tasks file",
        pb::TaskStatus::Suspended => "scheduled runs are paused until Resume",
        pb::TaskStatus::Unspecified => "the daemon did not say",
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::views::snapshot::check;

    #[test]
    fn the_seeds_colours() {
        let cases = [
            (pb::TaskStatus::Success, "success", "text-bg-success"),
            (pb::TaskStatus::Failure, "failure", "text-bg-danger"),
            (pb::TaskStatus::NeverRun, "never run", "text-bg-secondary"),
            (
                pb::TaskStatus::ExecutionError,
                "execution error",
                "sr-bg-orange",
            ),
            (pb::TaskStatus::ConfError, "conf error", "text-bg-dark"),
            (pb::TaskStatus::Running, "running", "text-bg-info"),
            (pb::TaskStatus::Inactive, "inactive", "text-bg-light border"),
            (pb::TaskStatus::Suspended, "suspended", "text-bg-warning"),
        ];
        for (status, text, class) in cases {
            let label = task_status(status);
            assert_eq!((label.text, label.class), (text, class), "{status:?}");
        }
    }

    #[test]
    fn a_badge_carries_its_slug() {
        let html = badge(task_status(pb::TaskStatus::NeverRun));
        check(
            &html,
            expect![[r#"
                <span class="badge sr-status text-bg-secondary" data-status="never-run">never run</span>
            "#]],
        );
    }
}
