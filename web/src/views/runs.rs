//! Lists of runs: the table on the task page and the paged "show all" history.

use maud::{Markup, html};
use speedrack_proto::v1 as pb;

use crate::views::killed;
use crate::views::layout::{Chrome, Nav, Page, render, task_breadcrumb};
use crate::views::status::run_status;
use crate::views::time::{duration, moment};

/// "schedule", "manual, asked by X", or "imported from Speedrack 0.6.1".
pub fn trigger(run: &pb::Run) -> String {
    match run.trigger() {
        pb::Trigger::Manual if !run.requested_by.is_empty() => {
            format!("manual, asked by {}", run.requested_by)
        }
        pb::Trigger::Manual => "manual".to_owned(),
        pb::Trigger::Schedule => "schedule".to_owned(),
        pb::Trigger::Imported => "imported from Speedrack 0.6.1".to_owned(),
        pb::Trigger::Unspecified => "unknown".to_owned(),
    }
}

/// "exit 3", "signal 9", or nothing while running.
pub fn exit(run: &pb::Run) -> String {
    match (run.exit_code, run.signal) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => format!("signal {signal}"),
        (None, None) => String::new(),
    }
}

/// Runs newest first, each linking to its run page.
pub fn table(chrome: &Chrome, task: &str, runs: &[pb::Run]) -> Markup {
    if runs.is_empty() {
        return html! { p.text-body-secondary data-no-runs { "No runs yet." } };
    }
    html! {
        div.table-responsive {
            table.table.table-sm.table-hover.sr-table data-runs {
                thead {
                    tr {
                        th { "Run" } th { "Status" } th { "Trigger" } th { "Started" }
                        th { "Duration" } th { "Exit" } th { "Notes" }
                    }
                }
                tbody {
                    @for run in runs {
                        tr data-run=(run.id) data-status=(run_status(run.status()).slug) {
                            td { a href=(chrome.urls.run(task, run.id)) { "#" (run.id) } }
                            td { (killed::run_badge(run)) }
                            td { (trigger(run)) }
                            td { (moment(chrome.now, run.started_at.as_ref(), "?")) }
                            td { (duration(run.duration.as_ref())) }
                            td { (exit(run)) }
                            td { (killed::notes(chrome, run)) }
                        }
                    }
                }
            }
        }
    }
}

/// The whole history of a task, one page at a time.
pub fn history_page(
    chrome: &Chrome,
    task: &str,
    page: &pb::ListRunsResponse,
    paged: bool,
) -> Markup {
    let urls = &chrome.urls;
    let title = format!("History of {task}");
    render(
        chrome,
        Page {
            nav: Nav::Other,
            title: &title,
            events: None,
            live: html! {},
            rest: html! {
                (task_breadcrumb(urls, task, html! { "all runs" }))
                h1.h4 { "All " (page.total) " runs of " (task) }
                (table(chrome, task, &page.runs))
                div.d-flex.gap-3 {
                    @if paged {
                        a href=(urls.history(task, None)) { "← Newest runs" }
                    }
                    @if !page.next_page_token.is_empty() {
                        a href=(urls.history(task, Some(&page.next_page_token))) data-older {
                            "Older runs →"
                        }
                    }
                }
            },
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_asked_and_who_killed_are_shown() {
        let run = pb::Run {
            id: 7,
            trigger: pb::Trigger::Manual.into(),
            requested_by: "ann".to_owned(),
            killed_by: "<bob>".to_owned(),
            kill_cause: pb::KillCause::User.into(),
            reason: "killed by <bob>".to_owned(),
            status: pb::RunStatus::Failure.into(),
            signal: Some(15),
            ..pb::Run::default()
        };
        assert_eq!(trigger(&run), "manual, asked by ann");
        let imported = pb::Run {
            trigger: pb::Trigger::Imported.into(),
            ..pb::Run::default()
        };
        assert_eq!(trigger(&imported), "imported from Speedrack 0.6.1");
        assert_eq!(exit(&run), "signal 15");
        let chrome = crate::views::layout::tests::chrome("/p");
        let html = table(&chrome, "t", &[run]).into_string();
        assert!(html.contains(r#"href="/p/tasks/t/runs/7""#), "{html}");
        assert!(
            html.contains("killed by <span data-killed-by>&lt;bob&gt;</span>"),
            "{html}"
        );
    }
}
