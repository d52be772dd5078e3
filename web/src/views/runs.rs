//! Lists of runs: the table on the task page and the paged, filtered "show all" history
//! with its search form.

use maud::{Markup, html};
use speedrack_proto::v1 as pb;

use crate::history_query::{HistoryQuery, STATUSES, TRIGGERS};
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

/// Runs newest first, each linking to its run page; with the node that ran each when the
/// store is shared (`Chrome::nodes`).
pub fn table(chrome: &Chrome, task: &str, runs: &[pb::Run]) -> Markup {
    if runs.is_empty() {
        return html! { p.text-body-secondary data-no-runs { "No runs yet." } };
    }
    html! {
        div.table-responsive {
            table.table.table-sm.table-hover.sr-table data-runs {
                thead {
                    tr {
                        // Trigger, exit and notes give way on phones, where a row must fit one
                        // line; the run's page has them all.
                        th { "Run" } th { "Status" }
                        @if chrome.nodes { th data-node-column { "Node" } }
                        th.d-none.d-md-table-cell { "Trigger" }
                        th { "Started" } th { "Duration" } th.d-none.d-md-table-cell { "Exit" }
                        th.d-none.d-md-table-cell { "Notes" }
                    }
                }
                tbody {
                    @for run in runs {
                        tr data-run=(run.id) data-status=(run_status(run.status()).slug) {
                            td { a href=(chrome.urls.run(task, run.id)) { "#" (run.id) } }
                            td { (killed::run_badge(run)) }
                            @if chrome.nodes { td data-node=(run.node) { (run.node) } }
                            td.d-none.d-md-table-cell { (trigger(run)) }
                            td { (moment(chrome.now, run.started_at.as_ref(), "?")) }
                            td { (duration(run.duration.as_ref())) }
                            td.d-none.d-md-table-cell { (exit(run)) }
                            td.d-none.d-md-table-cell { (killed::notes(chrome, run)) }
                        }
                    }
                }
            }
        }
    }
}

/// One page of a task's history, as asked for.
pub struct History<'a> {
    pub task: &'a str,
    pub query: &'a HistoryQuery,
    pub page: &'a pb::ListRunsResponse,
}

/// The history of a task, one page at a time, filtered as asked, with the output search.
pub fn history_page(chrome: &Chrome, history: &History<'_>) -> Markup {
    let (urls, task, page) = (&chrome.urls, history.task, history.page);
    let title = format!("History of {task}");
    let filters = history.query.query_string(None);
    render(
        chrome,
        Page {
            nav: Nav::Other,
            title: &title,
            events: None,
            live: html! {},
            rest: html! {
                (task_breadcrumb(urls, task, html! { "all runs" }))
                h1.h4 data-heading {
                    @if history.query.filtered() {
                        (page.matching) " of " (page.total) " runs of " (task) " match"
                    } @else {
                        "All " (page.total) " runs of " (task)
                    }
                }
                (filter_form(chrome, task, history.query))
                (search_form(chrome, task, ""))
                @if history.query.filtered() && page.runs.is_empty() {
                    p.text-body-secondary data-no-match {
                        "No run matches these filters. "
                        a href=(urls.history(task, None)) { "Show every run" }
                    }
                } @else {
                    (table(chrome, task, &page.runs))
                }
                div.d-flex.gap-3 {
                    @if !history.query.page.is_empty() {
                        a href=(urls.history_query(task, &filters)) data-newest { "← Newest runs" }
                    }
                    @if !page.next_page_token.is_empty() {
                        a href=(urls.history_query(task, &history.query.query_string(Some(&page.next_page_token))))
                            data-older { "Older runs →" }
                    }
                }
            },
        },
    )
}

/// A page of runs that does not exist (a token the daemon never gave, or one past the oldest
/// run): says which, and leads back to the newest runs instead of claiming there are none.
pub fn no_such_page(chrome: &Chrome, task: &str, total: Option<u64>) -> Markup {
    let newest = chrome.urls.history(task, None);
    render(
        chrome,
        Page {
            nav: Nav::Other,
            title: "No such page of runs",
            events: None,
            live: html! {},
            rest: html! {
                (task_breadcrumb(&chrome.urls, task, html! { "all runs" }))
                div.py-4 data-error="404" {
                    h1.h3 { "404 Not Found" }
                    @match total {
                        Some(total) => p.lead data-past-end {
                            "This page is past the oldest of the " (total) " runs of " (task) " asked for. "
                            a href=(newest) data-newest { "← Newest runs" }
                        },
                        None => p.lead {
                            "There is no such page of runs: page numbers come from the "
                            "“Older runs” links. "
                            a href=(newest) data-newest { "← Newest runs" }
                        },
                    }
                }
            },
        },
    )
}

/// Filters by status, trigger and start time, sent as a GET so that the page is a link.
fn filter_form(chrome: &Chrome, task: &str, query: &HistoryQuery) -> Markup {
    let typed = |at: &Option<(String, chrono::DateTime<chrono::Utc>)>| {
        at.as_ref()
            .map(|(typed, _)| typed.clone())
            .unwrap_or_default()
    };
    html! {
        form.row.g-2.align-items-end.mb-3 method="get" action=(chrome.urls.history(task, None)) data-filters {
            fieldset.col-auto {
                legend.form-label.small.mb-1 { "Status" }
                @for (value, status) in STATUSES {
                    div.form-check.form-check-inline {
                        input.form-check-input type="checkbox" name="status" value=(value)
                            id={ "status-" (value) } checked[query.statuses.contains(&value)];
                        label.form-check-label for={ "status-" (value) } { (run_status(status).text) }
                    }
                }
            }
            fieldset.col-auto {
                legend.form-label.small.mb-1 { "Trigger" }
                @for (value, _) in TRIGGERS {
                    div.form-check.form-check-inline {
                        input.form-check-input type="checkbox" name="trigger" value=(value)
                            id={ "trigger-" (value) } checked[query.triggers.contains(&value)];
                        label.form-check-label for={ "trigger-" (value) } { (value) }
                    }
                }
            }
            div.col-auto {
                label.form-label.small.mb-1 for="from" { "Started from (UTC)" }
                input.form-control.form-control-sm type="date" name="from" id="from" value=(typed(&query.from));
            }
            div.col-auto {
                label.form-label.small.mb-1 for="to" { "through (UTC)" }
                input.form-control.form-control-sm type="date" name="to" id="to" value=(typed(&query.to));
            }
            div.col-auto {
                button.btn.btn-sm.btn-primary type="submit" { "Filter" }
                " "
                a.btn.btn-sm.btn-outline-secondary href=(chrome.urls.history(task, None)) { "Clear" }
            }
        }
    }
}

/// The search of the task's retained output, sent as a GET to the search page.
pub fn search_form(chrome: &Chrome, task: &str, text: &str) -> Markup {
    html! {
        form.d-flex.gap-2.mb-3 method="get" action=(chrome.urls.search(task, None)) role="search" data-search {
            label.visually-hidden for="q" { "Text to find in the output" }
            input.form-control.form-control-sm type="search" name="q" id="q" value=(text)
                required maxlength="200" placeholder="Find text in stdout and stderr";
            button.btn.btn-sm.btn-outline-primary.text-nowrap type="submit" { "Search output" }
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::views::layout::tests::{ago, chrome};
    use crate::views::snapshot::check_page;

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

    #[test]
    fn the_node_column_is_there_only_when_runs_name_their_node() {
        let run = pb::Run {
            id: 7,
            node: "beta".to_owned(),
            status: pb::RunStatus::Success.into(),
            ..pb::Run::default()
        };
        let mut chrome = crate::views::layout::tests::chrome("");
        let single = table(&chrome, "t", std::slice::from_ref(&run)).into_string();
        assert!(
            !single.contains("Node") && !single.contains("beta"),
            "{single}"
        );
        chrome.nodes = true;
        let cluster = table(&chrome, "t", &[run]).into_string();
        assert!(
            cluster.contains("<th data-node-column>Node</th>"),
            "{cluster}"
        );
        assert!(
            cluster.contains(r#"<td data-node="beta">beta</td>"#),
            "{cluster}"
        );
    }

    #[test]
    fn a_filtered_history_page_says_how_many_match_and_leads_to_newer_and_older_runs() {
        let pairs = [
            ("status", "failure"),
            ("trigger", "schedule"),
            ("from", "1970-01-05"),
            ("page", "28"),
        ];
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        let query = HistoryQuery::parse(&pairs).expect("a valid query");
        let failed = pb::Run {
            id: 27,
            task: "report".to_owned(),
            trigger: pb::Trigger::Schedule.into(),
            status: pb::RunStatus::Failure.into(),
            started_at: Some(ago(4_000)),
            duration: Some(prost_types::Duration {
                seconds: 3,
                nanos: 0,
            }),
            exit_code: Some(1),
            reason: "exit status 1; stderr not empty (212 bytes)".to_owned(),
            ..pb::Run::default()
        };
        let timed_out = pb::Run {
            id: 21,
            started_at: Some(ago(9_400)),
            duration: Some(prost_types::Duration {
                seconds: 30,
                nanos: 0,
            }),
            exit_code: None,
            signal: Some(15),
            killed_by: "timeout after 30s".to_owned(),
            kill_cause: pb::KillCause::Timeout.into(),
            reason: "timed out (timeout after 30s)".to_owned(),
            ..failed.clone()
        };
        let page = pb::ListRunsResponse {
            runs: vec![failed, timed_out],
            next_page_token: "21".to_owned(),
            total: 40,
            matching: 7,
        };
        let mut chrome = chrome("");
        chrome.here = "/tasks/report/runs?status=failure".to_owned();
        let history = History {
            task: "report",
            query: &query,
            page: &page,
        };
        check_page(
            &history_page(&chrome, &history),
            expect![[r#"
            <title>History of report · Speedrack</title>
            <main class="container-fluid py-3">
            <div id="live">
            </div>
            <nav aria-label="breadcrumb">
            <ol class="breadcrumb">
            <li class="breadcrumb-item">
            <a href="/">Tasks</a>
            </li>
            <li class="breadcrumb-item">
            <a href="/tasks/report">report</a>
            </li>
            <li class="breadcrumb-item active" aria-current="page">all runs</li>
            </ol>
            </nav>
            <h1 class="h4" data-heading>7 of 40 runs of report match</h1>
            <form class="row g-2 align-items-end mb-3" method="get" action="/tasks/report/runs" data-filters>
            <fieldset class="col-auto">
            <legend class="form-label small mb-1">Status</legend>
            <div class="form-check form-check-inline">
            <input class="form-check-input" type="checkbox" name="status" value="success" id="status-success">
            <label class="form-check-label" for="status-success">success</label>
            </div>
            <div class="form-check form-check-inline">
            <input class="form-check-input" type="checkbox" name="status" value="failure" id="status-failure" checked>
            <label class="form-check-label" for="status-failure">failure</label>
            </div>
            <div class="form-check form-check-inline">
            <input class="form-check-input" type="checkbox" name="status" value="execution-error" id="status-execution-error">
            <label class="form-check-label" for="status-execution-error">execution error</label>
            </div>
            <div class="form-check form-check-inline">
            <input class="form-check-input" type="checkbox" name="status" value="interrupted" id="status-interrupted">
            <label class="form-check-label" for="status-interrupted">interrupted</label>
            </div>
            <div class="form-check form-check-inline">
            <input class="form-check-input" type="checkbox" name="status" value="running" id="status-running">
            <label class="form-check-label" for="status-running">running</label>
            </div>
            </fieldset>
            <fieldset class="col-auto">
            <legend class="form-label small mb-1">Trigger</legend>
            <div class="form-check form-check-inline">
            <input class="form-check-input" type="checkbox" name="trigger" value="schedule" id="trigger-schedule" checked>
            <label class="form-check-label" for="trigger-schedule">schedule</label>
            </div>
            <div class="form-check form-check-inline">
            <input class="form-check-input" type="checkbox" name="trigger" value="manual" id="trigger-manual">
            <label class="form-check-label" for="trigger-manual">manual</label>
            </div>
            <div class="form-check form-check-inline">
            <input class="form-check-input" type="checkbox" name="trigger" value="imported" id="trigger-imported">
            <label class="form-check-label" for="trigger-imported">imported</label>
            </div>
            </fieldset>
            <div class="col-auto">
            <label class="form-label small mb-1" for="from">Started from (UTC)</label>
            <input class="form-control form-control-sm" type="date" name="from" id="from" value="1970-01-05">
            </div>
            <div class="col-auto">
            <label class="form-label small mb-1" for="to">through (UTC)</label>
            <input class="form-control form-control-sm" type="date" name="to" id="to" value="">
            </div>
            <div class="col-auto">
            <button class="btn btn-sm btn-primary" type="submit">Filter</button> <a class="btn btn-sm btn-outline-secondary" href="/tasks/report/runs">Clear</a>
            </div>
            </form>
            <form class="d-flex gap-2 mb-3" method="get" action="/tasks/report/search" role="search" data-search>
            <label class="visually-hidden" for="q">Text to find in the output</label>
            <input class="form-control form-control-sm" type="search" name="q" id="q" value="" required maxlength="200" placeholder="Find text in stdout and stderr">
            <button class="btn btn-sm btn-outline-primary text-nowrap" type="submit">Search output</button>
            </form>
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
            <tr data-run="27" data-status="failure">
            <td>
            <a href="/tasks/report/runs/27">#27</a>
            </td>
            <td>
            <span class="badge sr-status text-bg-danger" data-status="failure">failure</span>
            </td>
            <td class="d-none d-md-table-cell">schedule</td>
            <td>
            <time datetime="1970-01-12T12:40:00Z" title="1970-01-12 12:40:00 UTC" data-relative>1 h ago</time>
            </td>
            <td>3.0 s</td>
            <td class="d-none d-md-table-cell">exit 1</td>
            <td class="d-none d-md-table-cell">exit status 1; stderr not empty (212 bytes)</td>
            </tr>
            <tr data-run="21" data-status="failure">
            <td>
            <a href="/tasks/report/runs/21">#21</a>
            </td>
            <td>
            <span class="badge sr-status text-bg-danger" data-status="killed">killed</span>
            </td>
            <td class="d-none d-md-table-cell">schedule</td>
            <td>
            <time datetime="1970-01-12T11:10:00Z" title="1970-01-12 11:10:00 UTC" data-relative>2 h ago</time>
            </td>
            <td>30.0 s</td>
            <td class="d-none d-md-table-cell">signal 15</td>
            <td class="d-none d-md-table-cell">killed <span data-killed-by>timeout after 30s</span>
            </td>
            </tr>
            </tbody>
            </table>
            </div>
            <div class="d-flex gap-3">
            <a href="/tasks/report/runs?status=failure&amp;trigger=schedule&amp;from=1970-01-05" data-newest>← Newest runs</a>
            <a href="/tasks/report/runs?status=failure&amp;trigger=schedule&amp;from=1970-01-05&amp;page=21" data-older>Older runs →</a>
            </div>
            </main>
        "#]],
        );
    }

    #[test]
    fn a_page_past_the_oldest_run_says_so_and_leads_back_to_the_newest() {
        check_page(
            &no_such_page(&chrome(""), "report", Some(40)),
            expect![[r#"
            <title>No such page of runs · Speedrack</title>
            <main class="container-fluid py-3">
            <div id="live">
            </div>
            <nav aria-label="breadcrumb">
            <ol class="breadcrumb">
            <li class="breadcrumb-item">
            <a href="/">Tasks</a>
            </li>
            <li class="breadcrumb-item">
            <a href="/tasks/report">report</a>
            </li>
            <li class="breadcrumb-item active" aria-current="page">all runs</li>
            </ol>
            </nav>
            <div class="py-4" data-error="404">
            <h1 class="h3">404 Not Found</h1>
            <p class="lead" data-past-end>This page is past the oldest of the 40 runs of report asked for. <a href="/tasks/report/runs" data-newest>← Newest runs</a>
            </p>
            </div>
            </main>
        "#]],
        );
    }
}
