//! The task page: what the task is, what can be done with it, charts of its runs and its
//! recent runs; below, the newest run's view.

use chrono::NaiveDate;
use maud::{Markup, html};
use speedrack_proto::v1 as pb;

use crate::names::Action;
use crate::views::chart_duration::{self, Bar};
use crate::views::chart_heatmap;
use crate::views::forms::{self, Reason};
use crate::views::layout::{Chrome, Nav, Page, render};
use crate::views::run::{self, RunView};
use crate::views::runs;
use crate::views::status::{badge, task_status, task_status_meaning};
use crate::views::time::{moment, zone_once};

/// Everything the task page shows.
pub struct TaskPage<'a> {
    pub task: &'a pb::Task,
    /// The newest runs: the table shows the first `shown` (`execution_display`).
    pub recent: &'a pb::ListRunsResponse,
    pub shown: usize,
    pub charts: Charts<'a>,
    pub newest: Option<RunView<'a>>,
}

/// What the charts draw: the newest runs' durations, and runs per day from `first_day` (or
/// why they could not be counted).
pub struct Charts<'a> {
    pub bars: Vec<Bar>,
    pub first_day: NaiveDate,
    pub days: Result<&'a [pb::RunCount], &'a String>,
}

pub fn page(chrome: &Chrome, data: &TaskPage<'_>) -> Markup {
    let task = data.task;
    render(
        chrome,
        Page {
            nav: Nav::Other,
            title: shown_name(task),
            events: Some(chrome.urls.events(Some(&task.name))),
            live: live(chrome, data),
            rest: html! {
                // Outside the live part, so that a run finishing never resets what is typed.
                (runs::search_form(chrome, &task.name, ""))
                h2.h5.mt-4 { "Newest run" }
                @match &data.newest {
                    Some(view) => (run::section(chrome, view)),
                    None => (run::placeholder(&chrome.urls.task(&task.name))),
                }
            },
        },
    )
}

/// What a task is called on screen: its name as the file writes it, else its key.
pub fn shown_name(task: &pb::Task) -> &str {
    if task.display_name.is_empty() {
        &task.name
    } else {
        &task.display_name
    }
}

/// A conf error as `file:line: task: key: message`, leaving out what is unknown.
pub fn conf_error_line(error: &pb::ConfError) -> String {
    let mut parts = Vec::new();
    match (error.file.is_empty(), error.line) {
        (true, _) => {}
        (false, 0) => parts.push(error.file.clone()),
        (false, line) => parts.push(format!("{}:{line}", error.file)),
    }
    for part in [&error.task, &error.key, &error.message] {
        if !part.is_empty() {
            parts.push(part.clone());
        }
    }
    parts.join(": ")
}

fn live(chrome: &Chrome, data: &TaskPage<'_>) -> Markup {
    let task = data.task;
    let urls = &chrome.urls;
    let label = task_status(task.status());
    html! {
        nav aria-label="breadcrumb" {
            ol.breadcrumb {
                li.breadcrumb-item { a href=(urls.tasks()) { "Tasks" } }
                li.breadcrumb-item.active aria-current="page" { (shown_name(task)) }
            }
        }
        div data-task=(task.name) data-status=(label.slug) {
            h1.h4 { (shown_name(task)) " " span title=(task_status_meaning(task.status())) { (badge(label)) } }
            @if task.description.is_empty() {
                p.text-body-secondary.fst-italic data-description { "No description available" }
            } @else {
                p data-description { (task.description) }
            }
            div.mb-3 {
                @for action in Action::ALL {
                    (forms::action_button(chrome, task, action, &chrome.here, Reason::Shown))
                }
            }
            @if !task.conf_errors.is_empty() {
                div.alert.alert-dark data-conf-errors {
                    strong { "Conf errors" }
                    ul.mb-0 {
                        @for error in &task.conf_errors { li { code { (conf_error_line(error)) } } }
                    }
                }
            }
            (facts(chrome, task))
        }
        (charts(chrome, &task.name, &data.charts))
        h2.h5.mt-3 { "Recent runs" }
        @let shown = &data.recent.runs[..data.recent.runs.len().min(data.shown)];
        (runs::table(chrome, &task.name, shown))
        @if data.recent.total > shown.len() as u64 {
            a href=(urls.history(&task.name, None)) data-show-all {
                "Show all " (data.recent.total) " runs"
            }
        }
    }
}

fn charts(chrome: &Chrome, task: &str, charts: &Charts<'_>) -> Markup {
    html! {
        div.row.g-3.mt-1 data-charts {
            div.col-md-7.col-xl-6 {
                h2.h6 { "Durations" }
                (chart_duration::chart(&chrome.urls, task, &charts.bars))
            }
            div.col-md-5.col-xl-6 {
                h2.h6 { "Runs per day (UTC)" }
                @match charts.days {
                    Ok(days) => (chart_heatmap::heatmap(charts.first_day, days)),
                    Err(error) => p.small.text-body-secondary data-heatmap="unavailable" {
                        "Not available: " (error)
                    },
                }
            }
        }
    }
}

fn facts(chrome: &Chrome, task: &pb::Task) -> Markup {
    html! {
        dl.row.small {
            @if !task.command.is_empty() {
                dt.col-sm-2 { "Command" } dd.col-sm-10 { pre.mb-0 { code { (task.command) } } }
            }
            @if !task.schedule.is_empty() {
                dt.col-sm-2 { "Schedule" }
                dd.col-sm-10 {
                    code { (task.schedule) }
                    @if !task.schedule_description.is_empty() && task.schedule_description != task.schedule {
                        " — " (task.schedule_description)
                    }
                    @if let Some(zone) = zone_once(&task.schedule_description, &task.timezone) {
                        " (" (zone) ")"
                    }
                }
            }
            dt.col-sm-2 { "Next scheduled run" }
            dd.col-sm-10 data-next-fire { (moment(chrome.now, task.next_fire.as_ref(), "none")) }
            dt.col-sm-2 { "Runs since startup" }
            dd.col-sm-10 data-runs-since-start { (task.runs_since_start) }
            dt.col-sm-2 { "Runs retained" }
            dd.col-sm-10 data-runs-retained { (task.runs_retained) }
            @if task.skipped_fires > 0 {
                dt.col-sm-2 { "Skipped fires" }
                dd.col-sm-10 { (task.skipped_fires) " (still running when due)" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::layout::tests::chrome;

    #[test]
    fn conf_errors_read_like_compiler_errors() {
        let error = pb::ConfError {
            file: "tasks.yaml".to_owned(),
            line: 12,
            key: "cron".to_owned(),
            message: "unknown key minutes".to_owned(),
            task: "cron unknown key".to_owned(),
        };
        assert_eq!(
            conf_error_line(&error),
            "tasks.yaml:12: cron unknown key: cron: unknown key minutes"
        );
        let vague = pb::ConfError {
            file: "tasks.yaml".to_owned(),
            message: "not a list".to_owned(),
            ..pb::ConfError::default()
        };
        assert_eq!(conf_error_line(&vague), "tasks.yaml: not a list");
    }

    #[test]
    fn a_task_without_description_says_so() {
        let task = pb::Task {
            name: "t".to_owned(),
            status: pb::TaskStatus::ConfError.into(),
            ..pb::Task::default()
        };
        let recent = pb::ListRunsResponse::default();
        let html = page(
            &chrome(""),
            &TaskPage {
                task: &task,
                recent: &recent,
                shown: 20,
                charts: Charts {
                    bars: Vec::new(),
                    first_day: NaiveDate::MIN,
                    days: Ok(&[]),
                },
                newest: None,
            },
        )
        .into_string();
        assert!(html.contains("No description available"));
        assert!(html.contains("conf error: fix the tasks file and reload"));
        assert!(html.contains(r#"sse-connect="/events?task=t""#));
    }

    #[test]
    fn a_daemon_without_run_counts_still_gets_its_task_page() {
        let task = pb::Task {
            name: "t".to_owned(),
            ..pb::Task::default()
        };
        let recent = pb::ListRunsResponse::default();
        let error = "unknown method CountRuns".to_owned();
        let html = page(
            &chrome(""),
            &TaskPage {
                task: &task,
                recent: &recent,
                shown: 20,
                charts: Charts {
                    bars: Vec::new(),
                    first_day: NaiveDate::MIN,
                    days: Err(&error),
                },
                newest: None,
            },
        )
        .into_string();
        assert!(
            html.contains("Not available: unknown method CountRuns"),
            "{html}"
        );
    }
}
