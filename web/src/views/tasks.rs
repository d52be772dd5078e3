//! The tasks page: every task with its status label, next fire, last run, success rate and a
//! sparkline of recent durations; inactive tasks can be hidden. Rows have ids, so that a changed
//! task's row alone can be swapped in from the event stream (`rows`, see `sse/relay.rs`).

use maud::{Markup, html};
use speedrack_proto::v1 as pb;

use crate::names::{Action, TaskName};
use crate::views::forms::{self, Reason};
use crate::views::layout::{Chrome, Nav, Page, render};
use crate::views::sparkline::{Point, sparkline};
use crate::views::status::{badge, run_status, task_status, task_status_meaning};
use crate::views::task::shown_name;
use crate::views::time::{moment, seconds};

pub fn page(chrome: &Chrome, tasks: &[pb::Task], hide_inactive: bool) -> Markup {
    render(
        chrome,
        Page {
            nav: Nav::Tasks,
            title: "Tasks",
            events: Some(chrome.urls.task_rows_events()),
            live: live(chrome, tasks, hide_inactive),
            // Rows arrive as out-of-band swaps: each finds its own row by id.
            rest: html! { div hidden sse-swap=(ROWS_EVENT) hx-swap="none" {} },
        },
    )
}

/// The SSE event that carries changed rows.
pub const ROWS_EVENT: &str = "rows";

/// Changed rows, each replacing the row of the same id wherever the page shows it; rows of tasks
/// whose names cannot be ids (see `row_id`) are left out, for a refresh of the page to show.
pub fn rows_patch(chrome: &Chrome, tasks: &[pb::Task]) -> Markup {
    html! {
        @for task in tasks.iter().filter(|task| row_id(&task.name).is_some()) {
            (row(chrome, task, Placement::OutOfBand))
        }
    }
}

/// The id of a task's row; names that are not task names (a conf error's label) have none.
pub fn row_id(name: &str) -> Option<String> {
    TaskName::parse(name).map(|name| format!("task-row-{}", name.as_str()))
}

/// Where a row goes: into the table as it is rendered, or over its older self by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    InTable,
    OutOfBand,
}

/// Successful and finished runs among the recent ones (running runs are not counted).
pub fn success_rate(runs: &[pb::Run]) -> Option<(usize, usize)> {
    let finished: Vec<&pb::Run> = runs
        .iter()
        .filter(|run| run.status() != pb::RunStatus::Running)
        .collect();
    let ok = finished
        .iter()
        .filter(|run| run.status() == pb::RunStatus::Success)
        .count();
    (!finished.is_empty()).then_some((ok, finished.len()))
}

/// Finished runs as sparkline points, oldest first (the API lists newest first).
pub fn duration_points(runs: &[pb::Run]) -> Vec<Point> {
    runs.iter()
        .rev()
        .filter(|run| run.duration.is_some())
        .map(|run| Point {
            seconds: seconds(run.duration.as_ref()),
            ok: run.status() == pb::RunStatus::Success,
        })
        .collect()
}

fn live(chrome: &Chrome, tasks: &[pb::Task], hide_inactive: bool) -> Markup {
    let inactive = tasks
        .iter()
        .filter(|task| task.status() == pb::TaskStatus::Inactive)
        .count();
    let shown: Vec<&pb::Task> = tasks
        .iter()
        .filter(|task| !(hide_inactive && task.status() == pb::TaskStatus::Inactive))
        .collect();
    html! {
        div.d-flex.flex-wrap.align-items-center.gap-3.mb-2 {
            h1.h4.mb-0 { "Tasks" }
            span.text-body-secondary data-count=(shown.len()) {
                (shown.len()) " shown of " (tasks.len())
            }
            form.ms-auto method="post" action=(chrome.urls.hide_inactive()) {
                (forms::hidden(chrome, None))
                input type="hidden" name="hide" value=(if hide_inactive { "0" } else { "1" });
                button.btn.btn-sm.btn-outline-secondary type="submit" data-toggle-inactive {
                    @if hide_inactive { "Show inactive tasks (" (inactive) ")" }
                    @else { "Hide inactive tasks (" (inactive) ")" }
                }
            }
        }
        @if shown.is_empty() {
            p.text-body-secondary { "No tasks. Add some to the tasks file and reload." }
        } @else {
            div.table-responsive {
                table.table.table-sm.table-hover.sr-table {
                    thead {
                        tr {
                            th { "Task" } th { "Status" } th { "Schedule" } th { "Next run" }
                            th { "Last run" } th { "Success" } th { "Recent durations" } th {}
                        }
                    }
                    tbody {
                        @for task in shown { (row(chrome, task, Placement::InTable)) }
                    }
                }
            }
        }
    }
}

fn row(chrome: &Chrome, task: &pb::Task, placement: Placement) -> Markup {
    let label = task_status(task.status());
    let urls = &chrome.urls;
    let oob = (placement == Placement::OutOfBand).then_some("true");
    html! {
        tr id=[row_id(&task.name)] hx-swap-oob=[oob] data-task=(task.name) data-status=(label.slug) {
            td {
                @if TaskName::parse(&task.name).is_some() {
                    a.fw-semibold href=(urls.task(&task.name)) { (shown_name(task)) }
                } @else {
                    span.fw-semibold { (shown_name(task)) }
                }
                @if !task.description.is_empty() {
                    div.small.text-body-secondary.text-truncate { (task.description) }
                }
            }
            td title=(task_status_meaning(task.status())) { (badge(label)) }
            td {
                @if task.schedule.is_empty() { span.text-body-secondary { "—" } }
                @else { code { (task.schedule) } }
                @if !task.schedule_description.is_empty() && task.schedule_description != task.schedule {
                    div.small.text-body-secondary { (task.schedule_description) }
                }
            }
            td { (moment(chrome.now, task.next_fire.as_ref(), "—")) }
            td { (last_run(chrome, task)) }
            td { (rate(&task.recent_runs)) }
            td { (sparkline(&duration_points(&task.recent_runs))) }
            td.text-nowrap {
                (forms::action_button(chrome, task, Action::RunNow, &chrome.here, Reason::Tooltip))
            }
        }
    }
}

fn last_run(chrome: &Chrome, task: &pb::Task) -> Markup {
    let Some(run) = &task.last_run else {
        return html! { span.text-body-secondary { "never" } };
    };
    html! {
        a href=(chrome.urls.run(&task.name, run.id)) data-last-run=(run.id) {
            (moment(chrome.now, run.started_at.as_ref(), "?"))
        }
        " " (badge(run_status(run.status())))
    }
}

fn rate(runs: &[pb::Run]) -> Markup {
    match success_rate(runs) {
        Some((ok, finished)) => html! {
            span title={ (ok) " of the last " (finished) " runs succeeded" } data-rate {
                (ok * 100 / finished) " %"
            }
        },
        None => html! { span.text-body-secondary { "—" } },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::layout::tests::chrome;

    fn run(status: pb::RunStatus, secs: Option<i64>) -> pb::Run {
        pb::Run {
            status: status.into(),
            duration: secs.map(|seconds| prost_types::Duration { seconds, nanos: 0 }),
            ..pb::Run::default()
        }
    }

    #[test]
    fn success_rate_counts_finished_runs() {
        let runs = [
            run(pb::RunStatus::Running, None),
            run(pb::RunStatus::Success, Some(1)),
            run(pb::RunStatus::Failure, Some(2)),
            run(pb::RunStatus::Success, Some(3)),
        ];
        assert_eq!(success_rate(&runs), Some((2, 3)));
        assert_eq!(success_rate(&runs[..1]), None);
        let points = duration_points(&runs);
        assert_eq!(points.len(), 3);
        assert_eq!(points[0].seconds, 3.0, "oldest first");
    }

    #[test]
    fn inactive_tasks_can_be_hidden_and_names_are_escaped() {
        let tasks = [
            pb::Task {
                name: "old".to_owned(),
                status: pb::TaskStatus::Inactive.into(),
                ..pb::Task::default()
            },
            pb::Task {
                name: "new".to_owned(),
                description: "<script>alert(1)</script>".to_owned(),
                status: pb::TaskStatus::NeverRun.into(),
                ..pb::Task::default()
            },
        ];
        let shown = page(&chrome(""), &tasks, false).into_string();
        assert!(shown.contains(r#"data-task="old""#));
        assert!(!shown.contains("<script>alert"), "{shown}");
        assert!(shown.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        let hidden = page(&chrome(""), &tasks, true).into_string();
        assert!(!hidden.contains(r#"data-task="old""#));
        assert!(hidden.contains("Show inactive tasks (1)"));
    }

    #[test]
    fn a_changed_row_replaces_its_older_self_by_id() {
        let tasks = [
            pb::Task {
                name: "winner".to_owned(),
                status: pb::TaskStatus::Success.into(),
                ..pb::Task::default()
            },
            pb::Task {
                name: "Broken Label".to_owned(),
                status: pb::TaskStatus::ConfError.into(),
                ..pb::Task::default()
            },
        ];
        let patch = rows_patch(&chrome(""), &tasks).into_string();
        assert!(
            patch.starts_with(r#"<tr id="task-row-winner" hx-swap-oob="true" data-task="winner""#),
            "{patch}"
        );
        assert!(!patch.contains("Broken Label"), "no id to find: {patch}");
        let shown = page(&chrome(""), &tasks, false).into_string();
        assert!(
            shown.contains(r#"<tr id="task-row-winner" data-task="winner""#),
            "{shown}"
        );
        assert!(!shown.contains("hx-swap-oob"), "{shown}");
        assert!(
            shown.contains(r#"sse-connect="/events?rows=tasks""#),
            "{shown}"
        );
        assert!(
            shown.contains(r#"sse-swap="rows" hx-swap="none""#),
            "{shown}"
        );
    }
}
