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
    use expect_test::expect;

    use super::*;
    use crate::names::StreamKind;
    use crate::views::layout::tests::{ago, chrome};
    use crate::views::output::Output;
    use crate::views::run::Follow;
    use crate::views::snapshot::check_page;

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

    fn report_run(id: i64, status: pb::RunStatus, exit_code: i32, started_ago: i64) -> pb::Run {
        pb::Run {
            id,
            task: "report".to_owned(),
            trigger: pb::Trigger::Schedule.into(),
            status: status.into(),
            scheduled_at: Some(ago(started_ago)),
            started_at: Some(ago(started_ago)),
            finished_at: Some(ago(started_ago - 3)),
            duration: Some(prost_types::Duration {
                seconds: 3,
                nanos: 0,
            }),
            exit_code: Some(exit_code),
            reason: if exit_code == 0 {
                String::new()
            } else {
                format!("exit status {exit_code}")
            },
            ..pb::Run::default()
        }
    }

    fn stream(kind: StreamKind, text: &str) -> Output {
        Output {
            kind,
            size: text.len() as u64,
            text: text.to_owned(),
            tail: None,
            tail_from: None,
        }
    }

    #[test]
    fn a_failing_tasks_page_shows_its_facts_charts_recent_runs_and_newest_run() {
        let task = pb::Task {
            name: "report".to_owned(),
            description: "Mails the day's figures to ops".to_owned(),
            command: "python3 report.py --since yesterday && mail -s report ops".to_owned(),
            schedule: "*/15 * * * *".to_owned(),
            schedule_description: "every 15 minutes".to_owned(),
            timezone: "Europe/Paris".to_owned(),
            status: pb::TaskStatus::Failure.into(),
            next_fire: Some(ago(-600)),
            runs_since_start: 3,
            runs_retained: 40,
            ..pb::Task::default()
        };
        let recent = pb::ListRunsResponse {
            runs: vec![
                report_run(31, pb::RunStatus::Failure, 1, 300),
                report_run(30, pb::RunStatus::Success, 0, 1_200),
                report_run(29, pb::RunStatus::Success, 0, 2_100),
            ],
            total: 40,
            ..pb::ListRunsResponse::default()
        };
        let days = [
            pb::RunCount {
                succeeded: 96,
                failed: 0,
            },
            pb::RunCount {
                succeeded: 60,
                failed: 2,
            },
        ];
        let mut chrome = chrome("");
        chrome.here = "/tasks/report".to_owned();
        let html = page(
            &chrome,
            &TaskPage {
                task: &task,
                recent: &recent,
                shown: 2,
                charts: Charts {
                    bars: chart_duration::bars(&recent.runs[..2]),
                    // Two days show where the map goes; chart_heatmap's tests cover a window.
                    first_day: chart_heatmap::window(chrome.now.date_naive()).0,
                    days: Ok(&days),
                },
                newest: Some(RunView {
                    run: &recent.runs[0],
                    outputs: vec![
                        stream(StreamKind::Stdout, "rows: 120\n"),
                        stream(StreamKind::Stderr, "KeyError: '<total>' & no figures\n"),
                        stream(StreamKind::OpError, ""),
                    ],
                    refresh: "/tasks/report".to_owned(),
                    follow: Follow::NewestRun,
                }),
            },
        );
        check_page(
            &html,
            expect![[r##"
                <title>report · Speedrack</title>
                <main class="container-fluid py-3">
                <div sse-connect="/events?task=report">
                <div id="live" hx-get="/tasks/report" hx-select="#live" hx-swap="outerHTML" hx-trigger="sse:changed delay:150ms">
                <nav aria-label="breadcrumb">
                <ol class="breadcrumb">
                <li class="breadcrumb-item">
                <a href="/">Tasks</a>
                </li>
                <li class="breadcrumb-item active" aria-current="page">report</li>
                </ol>
                </nav>
                <div data-task="report" data-status="failure">
                <h1 class="h4">report <span title="the last run failed: a non-zero exit, a signal, or output on stderr">
                <span class="badge sr-status text-bg-danger" data-status="failure">failure</span>
                </span>
                </h1>
                <p data-description>Mails the day's figures to ops</p>
                <div class="mb-3">
                <form class="d-inline-block me-2 mb-1" method="post" action="/tasks/report/run">
                <input type="hidden" name="csrf" value="t0k3n">
                <input type="hidden" name="back" value="/tasks/report">
                <button type="submit" class="btn btn-sm btn-primary" data-action="run">Run Now</button>
                </form>
                <form class="d-inline-block me-2 mb-1" method="post" action="/tasks/report/suspend">
                <input type="hidden" name="csrf" value="t0k3n">
                <input type="hidden" name="back" value="/tasks/report">
                <button type="submit" class="btn btn-sm btn-warning" data-action="suspend">Suspend</button>
                </form>
                <form class="d-inline-block me-2 mb-1" method="post" action="/tasks/report/resume">
                <input type="hidden" name="csrf" value="t0k3n">
                <input type="hidden" name="back" value="/tasks/report">
                <button type="submit" class="btn btn-sm btn-success" data-action="resume" disabled title="not suspended">Resume</button>
                <small class="ms-1 text-body-secondary" data-reason>not suspended</small>
                </form>
                <form class="d-inline-block me-2 mb-1" method="post" action="/tasks/report/kill">
                <input type="hidden" name="csrf" value="t0k3n">
                <input type="hidden" name="back" value="/tasks/report">
                <button type="submit" class="btn btn-sm btn-danger" data-action="kill" disabled title="not running">Kill</button>
                <small class="ms-1 text-body-secondary" data-reason>not running</small>
                </form>
                </div>
                <dl class="row small">
                <dt class="col-sm-2">Command</dt>
                <dd class="col-sm-10">
                <pre class="mb-0">
                <code>python3 report.py --since yesterday &amp;&amp; mail -s report ops</code>
                </pre>
                </dd>
                <dt class="col-sm-2">Schedule</dt>
                <dd class="col-sm-10">
                <code>*/15 * * * *</code> — every 15 minutes (Europe/Paris)</dd>
                <dt class="col-sm-2">Next scheduled run</dt>
                <dd class="col-sm-10" data-next-fire>
                <time datetime="1970-01-12T13:56:40Z" title="1970-01-12 13:56:40 UTC" data-relative>in 10 min</time>
                </dd>
                <dt class="col-sm-2">Runs since startup</dt>
                <dd class="col-sm-10" data-runs-since-start>3</dd>
                <dt class="col-sm-2">Runs retained</dt>
                <dd class="col-sm-10" data-runs-retained>40</dd>
                </dl>
                </div>
                <div class="row g-3 mt-1" data-charts>
                <div class="col-md-7 col-xl-6">
                <h2 class="h6">Durations</h2>
                <svg class="sr-chart" xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 480 180" role="img" aria-label="Durations of the last 2 finished runs, 1 failed; longest 3.00 s" data-duration-chart data-top="5">
                <title>Durations of the last 2 finished runs, 1 failed; longest 3.00 s</title>
                <line x1="60" x2="472" y1="144.0" y2="144.0" stroke="currentColor" stroke-opacity="0.15">
                </line>
                <text x="54" y="148.0" text-anchor="end" font-size="12" fill="currentColor" data-tick>0 s</text>
                <line x1="60" x2="472" y1="79.0" y2="79.0" stroke="currentColor" stroke-opacity="0.15">
                </line>
                <text x="54" y="83.0" text-anchor="end" font-size="12" fill="currentColor" data-tick>2.5 s</text>
                <line x1="60" x2="472" y1="14.0" y2="14.0" stroke="currentColor" stroke-opacity="0.15">
                </line>
                <text x="54" y="18.0" text-anchor="end" font-size="12" fill="currentColor" data-tick>5 s</text>
                <text transform="translate(12 79.0) rotate(-90)" text-anchor="middle" font-size="12" fill="currentColor">duration (s)</text>
                <text x="266.0" y="174" text-anchor="middle" font-size="12" fill="currentColor">last 2 finished runs, oldest left</text>
                <a href="/tasks/report/runs/30" data-bar="30" data-ok="true">
                <title>Run #30: 3.00 s, succeeded</title>
                <rect x="90.9" y="66.0" width="144.2" height="78.0" fill="#198754">
                </rect>
                </a>
                <a href="/tasks/report/runs/31" data-bar="31" data-ok="false">
                <title>Run #31: 3.00 s, failed</title>
                <rect x="296.9" y="66.0" width="144.2" height="78.0" fill="#dc3545">
                </rect>
                <path d="M369.0 64.0 l-4 -7 h8 z" fill="#dc3545" data-failure-mark>
                </path>
                </a>
                <line x1="60" x2="60" y1="14" y2="144" stroke="currentColor">
                </line>
                <line x1="60" x2="472" y1="144" y2="144" stroke="currentColor">
                </line>
                </svg>
                </div>
                <div class="col-md-5 col-xl-6">
                <h2 class="h6">Runs per day (UTC)</h2>
                <figure class="mb-0" data-heatmap>
                <svg class="sr-heatmap" xmlns="http://www.w3.org/2000/svg" width="198" height="163" viewBox="0 0 198 163" role="img" aria-label="Runs per day over the last eight weeks, by share failed">
                <title>Runs per day (UTC) over the last eight weeks, by share failed</title>
                <text x="0" y="31" font-size="10" fill="currentColor">Mon</text>
                <text x="0" y="73" font-size="10" fill="currentColor">Wed</text>
                <text x="0" y="115" font-size="10" fill="currentColor">Fri</text>
                <text x="0" y="157" font-size="10" fill="currentColor">Sun</text>
                <text x="30" y="10" font-size="10" fill="currentColor">Nov 24</text>
                <text x="72" y="10" font-size="10" fill="currentColor">Dec 8</text>
                <text x="114" y="10" font-size="10" fill="currentColor">Dec 22</text>
                <text x="156" y="10" font-size="10" fill="currentColor">Jan 5</text>
                <rect x="30" y="16" width="18" height="18" rx="2" fill="#198754" data-day="1969-11-24" data-shade="ok">
                <title>Mon 1969-11-24: 96 runs, 0 failed (0 %)</title>
                </rect>
                <rect x="30" y="37" width="18" height="18" rx="2" fill="#ffc107" data-day="1969-11-25" data-shade="few">
                <title>Tue 1969-11-25: 62 runs, 2 failed (3 %)</title>
                </rect>
                </svg>
                <figcaption class="small text-body-secondary d-flex flex-wrap gap-2 mt-1" data-legend>
                <span class="text-nowrap">
                <svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" aria-hidden="true">
                <rect width="10" height="10" rx="2" fill="#e9ecef">
                </rect>
                </svg> no runs</span>
                <span class="text-nowrap">
                <svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" aria-hidden="true">
                <rect width="10" height="10" rx="2" fill="#198754">
                </rect>
                </svg> all succeeded</span>
                <span class="text-nowrap">
                <svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" aria-hidden="true">
                <rect width="10" height="10" rx="2" fill="#ffc107">
                </rect>
                </svg> up to 25 % failed</span>
                <span class="text-nowrap">
                <svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" aria-hidden="true">
                <rect width="10" height="10" rx="2" fill="#fd7e14">
                </rect>
                </svg> up to 50 % failed</span>
                <span class="text-nowrap">
                <svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" aria-hidden="true">
                <rect width="10" height="10" rx="2" fill="#dc3545">
                </rect>
                </svg> over 50 % failed</span>
                </figcaption>
                </figure>
                </div>
                </div>
                <h2 class="h5 mt-3">Recent runs</h2>
                <div class="table-responsive">
                <table class="table table-sm table-hover sr-table" data-runs>
                <thead>
                <tr>
                <th>Run</th>
                <th>Status</th>
                <th class="d-none d-md-table-cell">Trigger</th>
                <th>Started</th>
                <th>Duration</th>
                <th class="d-none d-md-table-cell">Exit</th>
                <th class="d-none d-md-table-cell">Notes</th>
                </tr>
                </thead>
                <tbody>
                <tr data-run="31" data-status="failure">
                <td>
                <a href="/tasks/report/runs/31">#31</a>
                </td>
                <td>
                <span class="badge sr-status text-bg-danger" data-status="failure">failure</span>
                </td>
                <td class="d-none d-md-table-cell">schedule</td>
                <td>
                <time datetime="1970-01-12T13:41:40Z" title="1970-01-12 13:41:40 UTC" data-relative>5 min ago</time>
                </td>
                <td>3.0 s</td>
                <td class="d-none d-md-table-cell">exit 1</td>
                <td class="d-none d-md-table-cell">exit status 1</td>
                </tr>
                <tr data-run="30" data-status="success">
                <td>
                <a href="/tasks/report/runs/30">#30</a>
                </td>
                <td>
                <span class="badge sr-status text-bg-success" data-status="success">success</span>
                </td>
                <td class="d-none d-md-table-cell">schedule</td>
                <td>
                <time datetime="1970-01-12T13:26:40Z" title="1970-01-12 13:26:40 UTC" data-relative>20 min ago</time>
                </td>
                <td>3.0 s</td>
                <td class="d-none d-md-table-cell">exit 0</td>
                <td class="d-none d-md-table-cell">
                </td>
                </tr>
                </tbody>
                </table>
                </div>
                <a href="/tasks/report/runs" data-show-all>Show all 40 runs</a>
                </div>
                <form class="d-flex gap-2 mb-3" method="get" action="/tasks/report/search" role="search" data-search>
                <label class="visually-hidden" for="q">Text to find in the output</label>
                <input class="form-control form-control-sm" type="search" name="q" id="q" value="" required maxlength="200" placeholder="Find text in stdout and stderr">
                <button class="btn btn-sm btn-outline-primary text-nowrap" type="submit">Search output</button>
                </form>
                <section id="run-view" data-run="31" data-status="failure" hx-get="/tasks/report" hx-select="#run-view" hx-swap="outerHTML" hx-trigger="sse:started">
                <h2 class="h5 mt-4">Newest run: <a href="/tasks/report/runs/31">Run #31</a> <span class="badge sr-status text-bg-danger" data-status="failure">failure</span>
                </h2>
                <dl class="row small mb-2">
                <dt class="col-sm-2">Trigger</dt>
                <dd class="col-sm-10" data-trigger>schedule</dd>
                <dt class="col-sm-2">Due</dt>
                <dd class="col-sm-10">
                <time datetime="1970-01-12T13:41:40Z" data-absolute>1970-01-12 13:41:40 UTC</time>
                </dd>
                <dt class="col-sm-2">Started</dt>
                <dd class="col-sm-10">
                <time datetime="1970-01-12T13:41:40Z" title="1970-01-12 13:41:40 UTC" data-relative>5 min ago</time>
                </dd>
                <dt class="col-sm-2">Finished</dt>
                <dd class="col-sm-10">
                <time datetime="1970-01-12T13:41:43Z" title="1970-01-12 13:41:43 UTC" data-relative>4 min ago</time> after 3.0 s</dd>
                <dt class="col-sm-2">Exit</dt>
                <dd class="col-sm-10">exit 1</dd>
                <dt class="col-sm-2">Reason</dt>
                <dd class="col-sm-10" data-reason>exit status 1</dd>
                </dl>
                <ul class="nav nav-tabs" role="tablist">
                <li class="nav-item" role="presentation">
                <a role="tab" data-bs-toggle="tab" href="/tasks/report/runs/31?stream=stdout" data-bs-target="#run-31-stdout" class="nav-link" aria-selected="false" data-tab="stdout">stdout <span class="badge text-bg-light border" data-size="10">10 B</span>
                </a>
                </li>
                <li class="nav-item" role="presentation">
                <a role="tab" data-bs-toggle="tab" href="/tasks/report/runs/31?stream=stderr" data-bs-target="#run-31-stderr" class="nav-link active" aria-selected="true" data-tab="stderr">stderr <span class="badge text-bg-light border" data-size="33">33 B</span>
                </a>
                </li>
                <li class="nav-item" role="presentation">
                <a role="tab" data-bs-toggle="tab" href="/tasks/report/runs/31?stream=operror" data-bs-target="#run-31-operror" class="nav-link" aria-selected="false" data-tab="operror">op error <span class="badge text-bg-light border" data-size="0">0 B</span>
                </a>
                </li>
                <li class="nav-item" role="presentation">
                <a role="tab" data-bs-toggle="tab" href="/tasks/report/runs/31?stream=params" data-bs-target="#run-31-params" class="nav-link" aria-selected="false" data-tab="params">params</a>
                </li>
                </ul>
                <div class="tab-content border border-top-0 p-2 mb-3">
                <div id="run-31-stdout" role="tabpanel" data-pane="stdout" class="tab-pane">
                <pre class="sr-output mb-1 sr-from-end" data-stream="stdout">
                <span class="sr-lines">
                <span class="sr-line" id="stdout-L1" data-line="1">rows: 120
                </span>
                </span>
                </pre>
                <a class="small" href="/tasks/report/runs/31/stdout">plain text</a>
                </div>
                <div id="run-31-stderr" role="tabpanel" data-pane="stderr" class="tab-pane show active">
                <pre class="sr-output mb-1 sr-from-end" data-stream="stderr">
                <span class="sr-lines">
                <span class="sr-line" id="stderr-L1" data-line="1">KeyError: '&lt;total&gt;' &amp; no figures
                </span>
                </span>
                </pre>
                <a class="small" href="/tasks/report/runs/31/stderr">plain text</a>
                </div>
                <div id="run-31-operror" role="tabpanel" data-pane="operror" class="tab-pane">
                <p class="text-body-secondary mb-0" data-empty>(empty)</p>
                </div>
                <div id="run-31-params" role="tabpanel" data-pane="params" class="tab-pane">
                <p class="text-body-secondary mb-0">The daemon did not record this run's task definition.</p>
                </div>
                </div>
                </section>
                </div>
                </main>
            "##]],
        );
    }

    #[test]
    fn a_task_with_conf_errors_offers_no_action_and_waits_for_its_first_run() {
        let task = pb::Task {
            name: "cleanup".to_owned(),
            command: "find /tmp -mtime +7 -delete".to_owned(),
            status: pb::TaskStatus::ConfError.into(),
            conf_errors: vec![pb::ConfError {
                file: "tasks.yaml".to_owned(),
                line: 22,
                task: "cleanup".to_owned(),
                key: "schedule".to_owned(),
                message: "expected 5 fields, found 4".to_owned(),
            }],
            ..pb::Task::default()
        };
        let recent = pb::ListRunsResponse::default();
        let mut chrome = chrome("");
        chrome.here = "/tasks/cleanup".to_owned();
        let html = page(
            &chrome,
            &TaskPage {
                task: &task,
                recent: &recent,
                shown: 20,
                charts: Charts {
                    bars: Vec::new(),
                    first_day: chart_heatmap::window(chrome.now.date_naive()).0,
                    days: Ok(&[]),
                },
                newest: None,
            },
        );
        check_page(
            &html,
            expect![[r##"
                <title>cleanup · Speedrack</title>
                <main class="container-fluid py-3">
                <div sse-connect="/events?task=cleanup">
                <div id="live" hx-get="/tasks/cleanup" hx-select="#live" hx-swap="outerHTML" hx-trigger="sse:changed delay:150ms">
                <nav aria-label="breadcrumb">
                <ol class="breadcrumb">
                <li class="breadcrumb-item">
                <a href="/">Tasks</a>
                </li>
                <li class="breadcrumb-item active" aria-current="page">cleanup</li>
                </ol>
                </nav>
                <div data-task="cleanup" data-status="conf-error">
                <h1 class="h4">cleanup <span title="the task is misconfigured and is not scheduled">
                <span class="badge sr-status text-bg-dark" data-status="conf-error">conf error</span>
                </span>
                </h1>
                <p class="text-body-secondary fst-italic" data-description>No description available</p>
                <div class="mb-3">
                <form class="d-inline-block me-2 mb-1" method="post" action="/tasks/cleanup/run">
                <input type="hidden" name="csrf" value="t0k3n">
                <input type="hidden" name="back" value="/tasks/cleanup">
                <button type="submit" class="btn btn-sm btn-primary" data-action="run" disabled title="conf error: fix the tasks file and reload">Run Now</button>
                <small class="ms-1 text-body-secondary" data-reason>conf error: fix the tasks file and reload</small>
                </form>
                <form class="d-inline-block me-2 mb-1" method="post" action="/tasks/cleanup/suspend">
                <input type="hidden" name="csrf" value="t0k3n">
                <input type="hidden" name="back" value="/tasks/cleanup">
                <button type="submit" class="btn btn-sm btn-warning" data-action="suspend" disabled title="conf error: fix the tasks file and reload">Suspend</button>
                <small class="ms-1 text-body-secondary" data-reason>conf error: fix the tasks file and reload</small>
                </form>
                <form class="d-inline-block me-2 mb-1" method="post" action="/tasks/cleanup/resume">
                <input type="hidden" name="csrf" value="t0k3n">
                <input type="hidden" name="back" value="/tasks/cleanup">
                <button type="submit" class="btn btn-sm btn-success" data-action="resume" disabled title="conf error: fix the tasks file and reload">Resume</button>
                <small class="ms-1 text-body-secondary" data-reason>conf error: fix the tasks file and reload</small>
                </form>
                <form class="d-inline-block me-2 mb-1" method="post" action="/tasks/cleanup/kill">
                <input type="hidden" name="csrf" value="t0k3n">
                <input type="hidden" name="back" value="/tasks/cleanup">
                <button type="submit" class="btn btn-sm btn-danger" data-action="kill" disabled title="not running">Kill</button>
                <small class="ms-1 text-body-secondary" data-reason>not running</small>
                </form>
                </div>
                <div class="alert alert-dark" data-conf-errors>
                <strong>Conf errors</strong>
                <ul class="mb-0">
                <li>
                <code>tasks.yaml:22: cleanup: schedule: expected 5 fields, found 4</code>
                </li>
                </ul>
                </div>
                <dl class="row small">
                <dt class="col-sm-2">Command</dt>
                <dd class="col-sm-10">
                <pre class="mb-0">
                <code>find /tmp -mtime +7 -delete</code>
                </pre>
                </dd>
                <dt class="col-sm-2">Next scheduled run</dt>
                <dd class="col-sm-10" data-next-fire>
                <span class="text-body-secondary">none</span>
                </dd>
                <dt class="col-sm-2">Runs since startup</dt>
                <dd class="col-sm-10" data-runs-since-start>0</dd>
                <dt class="col-sm-2">Runs retained</dt>
                <dd class="col-sm-10" data-runs-retained>0</dd>
                </dl>
                </div>
                <div class="row g-3 mt-1" data-charts>
                <div class="col-md-7 col-xl-6">
                <h2 class="h6">Durations</h2>
                <p class="text-body-secondary small" data-duration-chart="empty">No finished run to chart yet.</p>
                </div>
                <div class="col-md-5 col-xl-6">
                <h2 class="h6">Runs per day (UTC)</h2>
                <figure class="mb-0" data-heatmap>
                <svg class="sr-heatmap" xmlns="http://www.w3.org/2000/svg" width="198" height="163" viewBox="0 0 198 163" role="img" aria-label="Runs per day over the last eight weeks, by share failed">
                <title>Runs per day (UTC) over the last eight weeks, by share failed</title>
                <text x="0" y="31" font-size="10" fill="currentColor">Mon</text>
                <text x="0" y="73" font-size="10" fill="currentColor">Wed</text>
                <text x="0" y="115" font-size="10" fill="currentColor">Fri</text>
                <text x="0" y="157" font-size="10" fill="currentColor">Sun</text>
                <text x="30" y="10" font-size="10" fill="currentColor">Nov 24</text>
                <text x="72" y="10" font-size="10" fill="currentColor">Dec 8</text>
                <text x="114" y="10" font-size="10" fill="currentColor">Dec 22</text>
                <text x="156" y="10" font-size="10" fill="currentColor">Jan 5</text>
                </svg>
                <figcaption class="small text-body-secondary d-flex flex-wrap gap-2 mt-1" data-legend>
                <span class="text-nowrap">
                <svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" aria-hidden="true">
                <rect width="10" height="10" rx="2" fill="#e9ecef">
                </rect>
                </svg> no runs</span>
                <span class="text-nowrap">
                <svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" aria-hidden="true">
                <rect width="10" height="10" rx="2" fill="#198754">
                </rect>
                </svg> all succeeded</span>
                <span class="text-nowrap">
                <svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" aria-hidden="true">
                <rect width="10" height="10" rx="2" fill="#ffc107">
                </rect>
                </svg> up to 25 % failed</span>
                <span class="text-nowrap">
                <svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" aria-hidden="true">
                <rect width="10" height="10" rx="2" fill="#fd7e14">
                </rect>
                </svg> up to 50 % failed</span>
                <span class="text-nowrap">
                <svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" aria-hidden="true">
                <rect width="10" height="10" rx="2" fill="#dc3545">
                </rect>
                </svg> over 50 % failed</span>
                </figcaption>
                </figure>
                </div>
                </div>
                <h2 class="h5 mt-3">Recent runs</h2>
                <p class="text-body-secondary" data-no-runs>No runs yet.</p>
                </div>
                <form class="d-flex gap-2 mb-3" method="get" action="/tasks/cleanup/search" role="search" data-search>
                <label class="visually-hidden" for="q">Text to find in the output</label>
                <input class="form-control form-control-sm" type="search" name="q" id="q" value="" required maxlength="200" placeholder="Find text in stdout and stderr">
                <button class="btn btn-sm btn-outline-primary text-nowrap" type="submit">Search output</button>
                </form>
                <section id="run-view" hx-get="/tasks/cleanup" hx-select="#run-view" hx-swap="outerHTML" hx-trigger="sse:started">
                <h2 class="h5 mt-4">Newest run</h2>
                <p class="text-body-secondary">The task has not run yet.</p>
                </section>
                </div>
                </main>
            "##]],
        );
    }
}
