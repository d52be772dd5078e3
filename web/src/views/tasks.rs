//! The tasks page: counts of what needs a look (failing, conf errors, late, running, suspended)
//! that filter the table, every task with its status label, next fire, last run, success rate
//! and a sparkline of recent durations, sortable by its column headers; inactive tasks can be
//! hidden. Rows have ids, so that a changed task's row alone can be swapped in from the event
//! stream (`rows`, see `sse/relay.rs`). Below 576 px the table is laid out as cards (CSS only).

use maud::{Markup, html};
use speedrack_proto::v1 as pb;

use crate::names::{Action, TaskName};
use crate::views::counts::{REFETCH, counts_bar};
use crate::views::favicon::Icon;
use crate::views::forms::{self, Reason};
use crate::views::layout::{Chrome, Nav, Page, render_with_icon};
use crate::views::sparkline::{Point, sparkline};
use crate::views::status::{badge, run_status, task_status, task_status_meaning};
use crate::views::task::shown_name;
use crate::views::time::{moment, seconds};
use crate::views::triage::{self, Filter, Sort, View};

/// The tasks page; `warnings` are the cluster's (GetStatus), shown above the list.
pub fn page(
    chrome: &Chrome,
    tasks: &[pb::Task],
    hide_inactive: bool,
    view: View,
    warnings: &[String],
) -> Markup {
    let counts = triage::counts(tasks, chrome.now);
    let (worst, title) = triage::worst(&counts);
    render_with_icon(
        chrome,
        Page {
            nav: Nav::Tasks,
            title: &title,
            events: Some(chrome.urls.task_rows_events()),
            live: html! {
                (crate::views::nodes::banner(warnings))
                (live(chrome, tasks, hide_inactive, view, &counts))
            },
            // Rows arrive as out-of-band swaps: each finds its own row by id.
            rest: html! { div hidden sse-swap=(ROWS_EVENT) hx-swap="none" {} },
        },
        Icon::State(worst),
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

fn live(
    chrome: &Chrome,
    tasks: &[pb::Task],
    hide_inactive: bool,
    view: View,
    counts: &[(Filter, usize)],
) -> Markup {
    let inactive = tasks
        .iter()
        .filter(|task| task.status() == pb::TaskStatus::Inactive)
        .count();
    let mut shown: Vec<&pb::Task> = tasks
        .iter()
        .filter(|task| !(hide_inactive && task.status() == pb::TaskStatus::Inactive))
        .filter(|task| {
            view.filter
                .is_none_or(|filter| filter.matches(task, chrome.now))
        })
        .collect();
    view.sort.apply(&mut shown);
    let list = html! {
        (counts_bar(chrome, view, counts, tasks.len()))
        @if shown.is_empty() {
            p.text-body-secondary data-empty {
                @match view.filter {
                    Some(filter) => {
                        (filter.none_text()) " "
                        a href=(chrome.urls.tasks_view(View { filter: None, ..view })) { "Show all tasks" }
                    }
                    None => "No tasks. Add some to the tasks file and reload.",
                }
            }
        } @else {
            (table(chrome, view, &shown))
        }
    };
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
        @if view.is_plain() {
            // Rows stay in place and are patched one by one; only the counts fetch themselves.
            div #sr-list { (list) }
        } @else {
            // A changed row may leave the filter or move in the order: fetch the list again.
            div #sr-list hx-get=(chrome.urls.path(&chrome.here)) hx-select="#sr-list"
                hx-swap="outerHTML" hx-trigger=(REFETCH) { (list) }
        }
    }
}

fn table(chrome: &Chrome, view: View, shown: &[&pb::Task]) -> Markup {
    html! {
        div.table-responsive {
            table.table.table-sm.table-hover.sr-table.sr-tasks {
                thead {
                    tr {
                        (sort_header(chrome, view, Sort::Name, "Task"))
                        (sort_header(chrome, view, Sort::Status, "Status"))
                        th { "Schedule" }
                        (sort_header(chrome, view, Sort::NextRun, "Next run"))
                        (sort_header(chrome, view, Sort::LastRun, "Last run"))
                        th { "Success" } th { "Recent durations" } th {}
                    }
                }
                tbody {
                    @for task in shown { (row(chrome, task, Placement::InTable)) }
                }
            }
        }
    }
}

/// A column header that sorts by its column; the current one sorts back to the file's order.
fn sort_header(chrome: &Chrome, view: View, sort: Sort, text: &str) -> Markup {
    let current = view.sort == sort;
    let target = View {
        sort: if current { Sort::File } else { sort },
        ..view
    };
    html! {
        th aria-sort=[current.then_some("ascending")] {
            a.link-body-emphasis.text-decoration-none href=(chrome.urls.tasks_view(target))
                data-sort=[sort.slug()] title=[(!current).then_some("sort by this column")] {
                (text) @if current { " ▾" }
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
            td.sr-c-name {
                @if TaskName::parse(&task.name).is_some() {
                    a.fw-semibold href=(urls.task(&task.name)) { (shown_name(task)) }
                } @else {
                    span.fw-semibold { (shown_name(task)) }
                }
                @if !task.description.is_empty() {
                    div.small.text-body-secondary.text-truncate { (task.description) }
                }
            }
            td.sr-c-status title=(task_status_meaning(task.status())) { (badge(label)) }
            td.sr-c-opt {
                @if task.schedule.is_empty() { span.text-body-secondary { "—" } }
                @else { code { (task.schedule) } }
                @if !task.schedule_description.is_empty() && task.schedule_description != task.schedule {
                    div.small.text-body-secondary { (task.schedule_description) }
                }
            }
            td.sr-c-next data-label="next" { (moment(chrome.now, task.next_fire.as_ref(), "—")) }
            td.sr-c-last data-label="last" { (last_run(chrome, task)) }
            td.sr-c-opt { (rate(&task.recent_runs)) }
            td.sr-c-opt { (sparkline(&duration_points(&task.recent_runs))) }
            td.sr-c-act.text-nowrap {
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
            span title=(rate_title(ok, finished)) data-rate {
                (ok * 100 / finished) " %"
            }
        },
        None => html! { span.text-body-secondary { "—" } },
    }
}

fn rate_title(ok: usize, finished: usize) -> String {
    match (ok, finished) {
        (1, 1) => "the last run succeeded".to_owned(),
        (0, 1) => "the last run did not succeed".to_owned(),
        _ => format!("{ok} of the last {finished} runs succeeded"),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::views::layout::tests::{ago, chrome};
    use crate::views::snapshot::{check, check_page};

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
        let shown = page(&chrome(""), &tasks, false, View::default(), &[]).into_string();
        assert!(shown.contains(r#"data-task="old""#));
        assert!(!shown.contains("<script>alert"), "{shown}");
        assert!(shown.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        let hidden = page(&chrome(""), &tasks, true, View::default(), &[]).into_string();
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
        let shown = page(&chrome(""), &tasks, false, View::default(), &[]).into_string();
        assert!(
            shown.contains(r#"<tr id="task-row-winner" data-task="winner""#),
            "{shown}"
        );
        assert_eq!(
            shown.matches("hx-swap-oob").count(),
            1,
            "only the favicon's: {shown}"
        );
        assert!(
            shown.contains(r#"sse-connect="/events?rows=tasks""#),
            "{shown}"
        );
        assert!(
            shown.contains(r#"sse-swap="rows" hx-swap="none""#),
            "{shown}"
        );
    }

    fn failing_and_fine() -> [pb::Task; 3] {
        let task = |name: &str, status: pb::TaskStatus| pb::Task {
            name: name.to_owned(),
            status: status.into(),
            ..pb::Task::default()
        };
        [
            task("fine", pb::TaskStatus::Success),
            task("bad", pb::TaskStatus::Failure),
            task("worse", pb::TaskStatus::ExecutionError),
        ]
    }

    #[test]
    fn the_cluster_warnings_are_a_banner_above_the_list() {
        let warning = "node beta is down: its last heartbeat was at 2026-12-01 05:00:00 UTC";
        let tasks = failing_and_fine();
        let shown = page(
            &chrome(""),
            &tasks,
            false,
            View::default(),
            &[warning.to_owned()],
        );
        let shown = shown.into_string();
        let banner = shown.find("data-cluster-warnings").expect("a banner");
        assert!(shown[banner..].contains(warning), "{shown}");
        assert!(
            banner < shown.find("data-count").expect("the list"),
            "{shown}"
        );
        let calm = page(&chrome(""), &tasks, false, View::default(), &[]).into_string();
        assert!(!calm.contains("data-cluster-warnings"), "{calm}");
    }

    #[test]
    fn the_title_and_favicon_carry_the_worst_state() {
        let shown = page(
            &chrome(""),
            &failing_and_fine(),
            false,
            View::default(),
            &[],
        )
        .into_string();
        assert!(
            shown.contains("<title>2 failing · Speedrack</title>"),
            "{shown}"
        );
        assert!(
            shown.contains(
                r#"<link id="sr-icon" rel="icon" type="image/svg+xml" href="/favicon/failing.svg">"#
            ),
            "{shown}"
        );
        let calm = page(
            &chrome(""),
            &failing_and_fine()[..1],
            false,
            View::default(),
            &[],
        )
        .into_string();
        assert!(calm.contains("<title>Tasks · Speedrack</title>"), "{calm}");
        assert!(calm.contains(r#"href="/favicon/ok.svg""#), "{calm}");
    }

    #[test]
    fn counts_are_links_that_filter_and_headers_sort() {
        let tasks = failing_and_fine();
        let view = View::parse(Some("failing"), Some("name"));
        let shown = page(&chrome(""), &tasks, false, view, &[]).into_string();
        assert!(
            shown.contains(r#"href="/?sort=name" data-filter="all" data-count="3""#),
            "all, keeping the order: {shown}"
        );
        assert!(
            shown.contains(
                r#"href="/?sort=name" data-filter="failing" data-count="2" aria-current="true""#
            ),
            "the current filter links back to all: {shown}"
        );
        assert!(
            shown.contains(
                r#"href="/?show=running&amp;sort=name" data-filter="running" data-count="0""#
            ),
            "{shown}"
        );
        assert!(
            !shown.contains(r#"data-task="fine""#),
            "filtered out: {shown}"
        );
        let bad = shown.find(r#"data-task="bad""#).expect("bad is shown");
        let worse = shown.find(r#"data-task="worse""#).expect("worse is shown");
        assert!(bad < worse, "sorted by name");
        assert!(
            shown.contains(r#"href="/?show=failing&amp;sort=status" data-sort="status""#),
            "{shown}"
        );
        assert!(
            shown.contains(r##"hx-select="#sr-list""##),
            "refetched when filtered: {shown}"
        );
        let none = page(
            &chrome(""),
            &tasks,
            false,
            View::parse(Some("late"), None),
            &[],
        )
        .into_string();
        assert!(none.contains("Nothing is late."), "{none}");
    }

    /// A finished run of `task`, started `started_ago` seconds before the test's now.
    fn ran(task: &str, id: i64, status: pb::RunStatus, secs: i64, started_ago: i64) -> pb::Run {
        pb::Run {
            id,
            task: task.to_owned(),
            trigger: pb::Trigger::Schedule.into(),
            started_at: Some(ago(started_ago)),
            finished_at: Some(ago(started_ago - secs)),
            exit_code: Some(if status == pb::RunStatus::Success {
                0
            } else {
                1
            }),
            ..run(status, Some(secs))
        }
    }

    #[test]
    fn the_list_shows_a_succeeding_task_a_failing_one_and_a_broken_conf() {
        let backup_runs = vec![
            ran("backup", 12, pb::RunStatus::Success, 40, 600),
            ran("backup", 11, pb::RunStatus::Success, 38, 87_000),
        ];
        let report_runs = vec![
            ran("report", 31, pb::RunStatus::Failure, 3, 300),
            ran("report", 30, pb::RunStatus::Success, 2, 1_200),
        ];
        let tasks = [
            pb::Task {
                name: "backup".to_owned(),
                display_name: "Nightly backup".to_owned(),
                description: "Dumps the database & uploads it".to_owned(),
                schedule: "0 3 * * *".to_owned(),
                schedule_description: "at 03:00".to_owned(),
                status: pb::TaskStatus::Success.into(),
                next_fire: Some(ago(-3_600)),
                last_run: backup_runs.first().cloned(),
                recent_runs: backup_runs,
                ..pb::Task::default()
            },
            pb::Task {
                name: "report".to_owned(),
                schedule: "*/15 * * * *".to_owned(),
                schedule_description: "every 15 minutes".to_owned(),
                status: pb::TaskStatus::Failure.into(),
                next_fire: Some(ago(-600)),
                last_run: report_runs.first().cloned(),
                recent_runs: report_runs,
                ..pb::Task::default()
            },
            pb::Task {
                name: "Broken Label".to_owned(),
                status: pb::TaskStatus::ConfError.into(),
                conf_errors: vec![pb::ConfError {
                    file: "tasks.yaml".to_owned(),
                    line: 14,
                    message: "schedule: not a cron expression".to_owned(),
                    ..pb::ConfError::default()
                }],
                ..pb::Task::default()
            },
        ];
        let mut chrome = chrome("");
        chrome.here = "/".to_owned();
        check_page(
            &page(&chrome, &tasks, false, View::default(), &[]),
            expect![[r##"
                <title>1 failing · Speedrack</title>
                <main class="container-fluid py-3">
                <div sse-connect="/events?rows=tasks">
                <div id="live" hx-get="/" hx-select="#live" hx-swap="outerHTML" hx-trigger="sse:changed delay:150ms">
                <div class="d-flex flex-wrap align-items-center gap-3 mb-2">
                <h1 class="h4 mb-0">Tasks</h1>
                <span class="text-body-secondary" data-count="3">3 shown of 3</span>
                <form class="ms-auto" method="post" action="/prefs/inactive">
                <input type="hidden" name="csrf" value="t0k3n">
                <input type="hidden" name="hide" value="1">
                <button class="btn btn-sm btn-outline-secondary" type="submit" data-toggle-inactive>Hide inactive tasks (0)</button>
                </form>
                </div>
                <div id="sr-list">
                <nav class="d-flex flex-wrap gap-2 mb-3" id="sr-counts" aria-label="Filter tasks" data-counts hx-get="/" hx-select="#sr-counts" hx-swap="outerHTML" hx-trigger="sse:rows delay:300ms">
                <link id="sr-icon" rel="icon" type="image/svg+xml" href="/favicon/failing.svg" hx-swap-oob="true">
                <a class="btn btn-sm btn-secondary" href="/" data-filter="all" data-count="3" aria-current="true">
                <span class="fw-semibold">3</span> all</a>
                <a class="btn btn-sm btn-outline-danger" href="/?show=failing" data-filter="failing" data-count="1">
                <span class="fw-semibold">1</span> failing</a>
                <a class="btn btn-sm btn-outline-dark" href="/?show=conf-errors" data-filter="conf-errors" data-count="1">
                <span class="fw-semibold">1</span> conf errors</a>
                <a class="btn btn-sm btn-outline-secondary" href="/?show=late" data-filter="late" data-count="0">
                <span class="fw-semibold">0</span> late</a>
                <a class="btn btn-sm btn-outline-secondary" href="/?show=running" data-filter="running" data-count="0">
                <span class="fw-semibold">0</span> running</a>
                <a class="btn btn-sm btn-outline-secondary" href="/?show=suspended" data-filter="suspended" data-count="0">
                <span class="fw-semibold">0</span> suspended</a>
                </nav>
                <div class="table-responsive">
                <table class="table table-sm table-hover sr-table sr-tasks">
                <thead>
                <tr>
                <th>
                <a class="link-body-emphasis text-decoration-none" href="/?sort=name" data-sort="name" title="sort by this column">Task</a>
                </th>
                <th>
                <a class="link-body-emphasis text-decoration-none" href="/?sort=status" data-sort="status" title="sort by this column">Status</a>
                </th>
                <th>Schedule</th>
                <th>
                <a class="link-body-emphasis text-decoration-none" href="/?sort=next" data-sort="next" title="sort by this column">Next run</a>
                </th>
                <th>
                <a class="link-body-emphasis text-decoration-none" href="/?sort=last" data-sort="last" title="sort by this column">Last run</a>
                </th>
                <th>Success</th>
                <th>Recent durations</th>
                <th>
                </th>
                </tr>
                </thead>
                <tbody>
                <tr id="task-row-backup" data-task="backup" data-status="success">
                <td class="sr-c-name">
                <a class="fw-semibold" href="/tasks/backup">Nightly backup</a>
                <div class="small text-body-secondary text-truncate">Dumps the database &amp; uploads it</div>
                </td>
                <td class="sr-c-status" title="the last run succeeded">
                <span class="badge sr-status text-bg-success" data-status="success">success</span>
                </td>
                <td class="sr-c-opt">
                <code>0 3 * * *</code>
                <div class="small text-body-secondary">at 03:00</div>
                </td>
                <td class="sr-c-next" data-label="next">
                <time datetime="1970-01-12T14:46:40Z" title="1970-01-12 14:46:40 UTC" data-relative>in 1 h</time>
                </td>
                <td class="sr-c-last" data-label="last">
                <a href="/tasks/backup/runs/12" data-last-run="12">
                <time datetime="1970-01-12T13:36:40Z" title="1970-01-12 13:36:40 UTC" data-relative>10 min ago</time>
                </a> <span class="badge sr-status text-bg-success" data-status="success">success</span>
                </td>
                <td class="sr-c-opt">
                <span title="2 of the last 2 runs succeeded" data-rate>100 %</span>
                </td>
                <td class="sr-c-opt">
                <svg class="sr-sparkline" xmlns="http://www.w3.org/2000/svg" width="120" height="24" viewBox="0 0 120 24" role="img" aria-label="durations of the last 2 runs, longest 40.00 s (scale 0 to 50 s)">
                <title>durations of the last 2 runs, longest 40.00 s (scale 0 to 50 s)</title>
                <polyline fill="none" stroke="currentColor" stroke-width="1.5" points="3.0,7.3 117.0,6.6">
                </polyline>
                <circle class="sr-ok" cx="3.0" cy="7.3" r="2">
                </circle>
                <circle class="sr-ok" cx="117.0" cy="6.6" r="2">
                </circle>
                </svg>
                </td>
                <td class="sr-c-act text-nowrap">
                <form class="d-inline-block me-2 mb-1" method="post" action="/tasks/backup/run">
                <input type="hidden" name="csrf" value="t0k3n">
                <input type="hidden" name="back" value="/">
                <button type="submit" class="btn btn-sm btn-primary" data-action="run">Run Now</button>
                </form>
                </td>
                </tr>
                <tr id="task-row-report" data-task="report" data-status="failure">
                <td class="sr-c-name">
                <a class="fw-semibold" href="/tasks/report">report</a>
                </td>
                <td class="sr-c-status" title="the last run failed: a non-zero exit, a signal, or output on stderr">
                <span class="badge sr-status text-bg-danger" data-status="failure">failure</span>
                </td>
                <td class="sr-c-opt">
                <code>*/15 * * * *</code>
                <div class="small text-body-secondary">every 15 minutes</div>
                </td>
                <td class="sr-c-next" data-label="next">
                <time datetime="1970-01-12T13:56:40Z" title="1970-01-12 13:56:40 UTC" data-relative>in 10 min</time>
                </td>
                <td class="sr-c-last" data-label="last">
                <a href="/tasks/report/runs/31" data-last-run="31">
                <time datetime="1970-01-12T13:41:40Z" title="1970-01-12 13:41:40 UTC" data-relative>5 min ago</time>
                </a> <span class="badge sr-status text-bg-danger" data-status="failure">failure</span>
                </td>
                <td class="sr-c-opt">
                <span title="1 of the last 2 runs succeeded" data-rate>50 %</span>
                </td>
                <td class="sr-c-opt">
                <svg class="sr-sparkline" xmlns="http://www.w3.org/2000/svg" width="120" height="24" viewBox="0 0 120 24" role="img" aria-label="durations of the last 2 runs, longest 3.00 s (scale 0 to 5 s)">
                <title>durations of the last 2 runs, longest 3.00 s (scale 0 to 5 s)</title>
                <polyline fill="none" stroke="currentColor" stroke-width="1.5" points="3.0,13.8 117.0,10.2">
                </polyline>
                <circle class="sr-ok" cx="3.0" cy="13.8" r="2">
                </circle>
                <circle class="sr-fail" cx="117.0" cy="10.2" r="2">
                </circle>
                </svg>
                </td>
                <td class="sr-c-act text-nowrap">
                <form class="d-inline-block me-2 mb-1" method="post" action="/tasks/report/run">
                <input type="hidden" name="csrf" value="t0k3n">
                <input type="hidden" name="back" value="/">
                <button type="submit" class="btn btn-sm btn-primary" data-action="run">Run Now</button>
                </form>
                </td>
                </tr>
                <tr data-task="Broken Label" data-status="conf-error">
                <td class="sr-c-name">
                <span class="fw-semibold">Broken Label</span>
                </td>
                <td class="sr-c-status" title="the task is misconfigured and is not scheduled">
                <span class="badge sr-status text-bg-dark" data-status="conf-error">conf error</span>
                </td>
                <td class="sr-c-opt">
                <span class="text-body-secondary">—</span>
                </td>
                <td class="sr-c-next" data-label="next">
                <span class="text-body-secondary">—</span>
                </td>
                <td class="sr-c-last" data-label="last">
                <span class="text-body-secondary">never</span>
                </td>
                <td class="sr-c-opt">
                <span class="text-body-secondary">—</span>
                </td>
                <td class="sr-c-opt">
                </td>
                <td class="sr-c-act text-nowrap">
                <form class="d-inline-block me-2 mb-1" method="post" action="/tasks/Broken%20Label/run">
                <input type="hidden" name="csrf" value="t0k3n">
                <input type="hidden" name="back" value="/">
                <button type="submit" class="btn btn-sm btn-primary" data-action="run" disabled title="conf error: fix the tasks file and reload">Run Now</button>
                </form>
                </td>
                </tr>
                </tbody>
                </table>
                </div>
                </div>
                </div>
                <div hidden sse-swap="rows" hx-swap="none">
                </div>
                </div>
                </main>
            "##]],
        );
    }

    #[test]
    fn a_running_tasks_row_is_sent_alone_with_run_now_disabled() {
        let started = pb::Run {
            id: 13,
            task: "backup".to_owned(),
            status: pb::RunStatus::Running.into(),
            trigger: pb::Trigger::Manual.into(),
            requested_by: "ann".to_owned(),
            started_at: Some(ago(5)),
            ..pb::Run::default()
        };
        let task = pb::Task {
            name: "backup".to_owned(),
            schedule: "0 3 * * *".to_owned(),
            status: pb::TaskStatus::Running.into(),
            running_run_ids: vec![13],
            next_fire: Some(ago(-3_600)),
            last_run: Some(started.clone()),
            recent_runs: vec![started, ran("backup", 12, pb::RunStatus::Success, 40, 600)],
            ..pb::Task::default()
        };
        let mut chrome = chrome("");
        chrome.here = "/".to_owned();
        check(
            &rows_patch(&chrome, &[task]),
            expect![[r#"
                <tr id="task-row-backup" hx-swap-oob="true" data-task="backup" data-status="running">
                <td class="sr-c-name">
                <a class="fw-semibold" href="/tasks/backup">backup</a>
                </td>
                <td class="sr-c-status" title="a run is in progress now">
                <span class="badge sr-status text-bg-info" data-status="running">running</span>
                </td>
                <td class="sr-c-opt">
                <code>0 3 * * *</code>
                </td>
                <td class="sr-c-next" data-label="next">
                <time datetime="1970-01-12T14:46:40Z" title="1970-01-12 14:46:40 UTC" data-relative>in 1 h</time>
                </td>
                <td class="sr-c-last" data-label="last">
                <a href="/tasks/backup/runs/13" data-last-run="13">
                <time datetime="1970-01-12T13:46:35Z" title="1970-01-12 13:46:35 UTC" data-relative>5 s ago</time>
                </a> <span class="badge sr-status text-bg-info" data-status="running">running</span>
                </td>
                <td class="sr-c-opt">
                <span title="the last run succeeded" data-rate>100 %</span>
                </td>
                <td class="sr-c-opt">
                <svg class="sr-sparkline" xmlns="http://www.w3.org/2000/svg" width="120" height="24" viewBox="0 0 120 24" role="img" aria-label="duration of the last run, 40.00 s (scale 0 to 50 s)">
                <title>duration of the last run, 40.00 s (scale 0 to 50 s)</title>
                <polyline fill="none" stroke="currentColor" stroke-width="1.5" points="60.0,6.6">
                </polyline>
                <circle class="sr-ok" cx="60.0" cy="6.6" r="2">
                </circle>
                </svg>
                </td>
                <td class="sr-c-act text-nowrap">
                <form class="d-inline-block me-2 mb-1" method="post" action="/tasks/backup/run">
                <input type="hidden" name="csrf" value="t0k3n">
                <input type="hidden" name="back" value="/">
                <button type="submit" class="btn btn-sm btn-primary" data-action="run" disabled title="already running">Run Now</button>
                </form>
                </td>
                </tr>
            "#]],
        );
    }
}
