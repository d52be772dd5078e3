//! The run view: what happened in one run, with tabs for stdout, stderr, op error and the task
//! definition it executed. Large output shows its beginning and links to the whole file; a
//! running run's output grows live (the tail SSE appends to the `<pre>`s).

use maud::{Markup, html};
use speedrack_proto::v1 as pb;

use crate::names::StreamKind;
use crate::views::layout::{Chrome, Nav, Page, render, task_breadcrumb};
use crate::views::runs::{exit, trigger};
use crate::views::status::{badge, run_status};
use crate::views::time::{bytes, duration, elapsed, exact, instant, moment};

/// What is shown of one output stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub kind: StreamKind,
    /// The stream's whole size now.
    pub size: u64,
    /// Its beginning (all of it unless `truncated`), as text.
    pub text: String,
    /// True when only the first `fsize_summary` bytes are shown.
    pub truncated: bool,
    /// Where the live tail continues, for a running run's stream shown in full.
    pub tail_from: Option<u64>,
}

/// Everything the run view shows.
pub struct RunView<'a> {
    pub run: &'a pb::Run,
    /// stdout, stderr, op error, in that order.
    pub outputs: Vec<Output>,
    /// The page this view sits on, to fetch it again once the run finishes.
    pub refresh: String,
    /// Whether the view moves on to the next run when one starts (the task page's "newest run").
    pub follow: Follow,
}

/// What a finished run's view does when the task runs again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// Stays: it shows one run for good (the run page).
    Stay,
    /// Shows the new run (needs the page's event stream, which says `started`).
    NewestRun,
}

/// The run page (linkable, e.g. from emails).
pub fn page(chrome: &Chrome, view: &RunView<'_>) -> Markup {
    let run = view.run;
    let urls = &chrome.urls;
    let title = format!("Run {} of {}", run.id, run.task);
    render(
        chrome,
        Page {
            nav: Nav::Other,
            title: &title,
            events: None,
            live: html! {},
            rest: html! {
                (task_breadcrumb(urls, &run.task, html! { "run " (run.id) }))
                (section(chrome, view))
            },
        },
    )
}

/// The run view itself, also shown on the task page for the newest run.
pub fn section(chrome: &Chrome, view: &RunView<'_>) -> Markup {
    let run = view.run;
    let running = run.status() == pb::RunStatus::Running;
    let tail = running.then(|| {
        let from = |kind| {
            view.outputs
                .iter()
                .find(|output| output.kind == kind)
                .and_then(|output| output.tail_from)
        };
        chrome.urls.tail(
            &run.task,
            run.id,
            from(StreamKind::Stdout),
            from(StreamKind::Stderr),
        )
    });
    // A running run tails its output and is fetched again once it finishes; a finished run
    // that follows the newest is fetched again when the next one starts.
    let (refresh_on, source) = match (&tail, view.follow) {
        (Some(tail), _) => (Some("sse:finished"), Some(tail.as_str())),
        (None, Follow::NewestRun) => (Some("sse:started"), None),
        (None, Follow::Stay) => (None, None),
    };
    html! {
        section #run-view data-run=(run.id) data-status=(run_status(run.status()).slug)
            sse-connect=[source] sse-close=[source.map(|_| "finished")]
            hx-get=[refresh_on.map(|_| view.refresh.as_str())]
            hx-select=[refresh_on.map(|_| "#run-view")]
            hx-swap=[refresh_on.map(|_| "outerHTML")]
            hx-trigger=[refresh_on] {
            h2.h5 {
                a href=(chrome.urls.run(&run.task, run.id)) { "Run #" (run.id) }
                " " (badge(run_status(run.status())))
            }
            (facts(chrome, run))
            (tabs(chrome, view))
        }
    }
}

/// Where the newest run's view will be, for a task that has not run yet.
pub fn placeholder(refresh: &str) -> Markup {
    html! {
        section #run-view hx-get=(refresh) hx-select="#run-view" hx-swap="outerHTML"
            hx-trigger="sse:started" {
            p.text-body-secondary { "The task has not run yet." }
        }
    }
}

fn facts(chrome: &Chrome, run: &pb::Run) -> Markup {
    let now = chrome.now;
    let scheduled = instant(run.scheduled_at.as_ref());
    html! {
        dl.row.small.mb-2 {
            dt.col-sm-2 { "Trigger" } dd.col-sm-10 data-trigger { (trigger(run)) }
            @if !run.killed_by.is_empty() {
                dt.col-sm-2 { "Killed by" } dd.col-sm-10 data-killed-by { (run.killed_by) }
            }
            @if let Some(at) = scheduled {
                dt.col-sm-2 { "Due" } dd.col-sm-10 { (exact(at)) }
            }
            dt.col-sm-2 { "Started" } dd.col-sm-10 { (moment(now, run.started_at.as_ref(), "?")) }
            dt.col-sm-2 { "Finished" }
            dd.col-sm-10 {
                (moment(now, run.finished_at.as_ref(), "still running"))
                @if run.finished_at.is_none() { " for " (elapsed(now, run.started_at.as_ref())) }
                @if run.duration.is_some() { " after " (duration(run.duration.as_ref())) }
            }
            @if !exit(run).is_empty() {
                dt.col-sm-2 { "Exit" } dd.col-sm-10 { (exit(run)) }
            }
            @if !run.reason.is_empty() {
                dt.col-sm-2 { "Reason" } dd.col-sm-10 data-reason { (run.reason) }
            }
            @if run.finished_at.is_some() && (run.max_rss_bytes > 0 || run.cpu_user.is_some()) {
                dt.col-sm-2 { "Resources" }
                dd.col-sm-10 data-resources {
                    "peak memory "
                    @if run.max_rss_bytes > 0 { (bytes(run.max_rss_bytes)) } @else { "not measured" }
                    ", CPU user " (duration(run.cpu_user.as_ref()))
                    ", system " (duration(run.cpu_system.as_ref()))
                }
            }
            @if run.output_dropped_bytes > 0 {
                dt.col-sm-2 { "Output cap" }
                dd.col-sm-10 {
                    (bytes(run.output_dropped_bytes)) " dropped from the middle of the output"
                }
            }
        }
    }
}

fn tabs(chrome: &Chrome, view: &RunView<'_>) -> Markup {
    let id = view.run.id;
    let pane = |name: &str| format!("run-{id}-{name}");
    html! {
        ul.nav.nav-tabs role="tablist" {
            @for (index, output) in view.outputs.iter().enumerate() {
                li.nav-item role="presentation" {
                    button type="button" role="tab" data-bs-toggle="tab"
                        class={ "nav-link" @if index == 0 { " active" } }
                        data-bs-target={ "#" (pane(output.kind.segment())) }
                        data-tab=(output.kind.segment()) {
                        (output.kind.label()) " "
                        span.badge.text-bg-light.border data-size=(output.size) { (bytes(output.size)) }
                    }
                }
            }
            li.nav-item role="presentation" {
                button.nav-link type="button" role="tab" data-bs-toggle="tab"
                    data-bs-target={ "#" (pane("params")) } data-tab="params" { "params" }
            }
        }
        div.tab-content.border.border-top-0.p-2.mb-3 {
            @for (index, output) in view.outputs.iter().enumerate() {
                div id=(pane(output.kind.segment())) role="tabpanel"
                    class={ "tab-pane" @if index == 0 { " show active" } } {
                    (output_pane(chrome, view.run, output))
                }
            }
            div.tab-pane id=(pane("params")) role="tabpanel" {
                @if view.run.definition.is_empty() {
                    p.text-body-secondary.mb-0 { "The daemon did not record this run's task definition." }
                } @else {
                    pre.sr-output.mb-0 data-definition { (view.run.definition) }
                }
            }
        }
    }
}

fn output_pane(chrome: &Chrome, run: &pb::Run, output: &Output) -> Markup {
    let file = chrome.urls.file(&run.task, run.id, output.kind);
    let live = output.tail_from.is_some();
    html! {
        @if output.truncated {
            div.alert.alert-secondary.py-1.px-2.small data-truncated {
                "Showing the first " (bytes(output.text.len() as u64)) " of " (bytes(output.size)) ". "
                a href=(file) { "View whole file" }
            }
        }
        @if output.size == 0 && !live {
            p.text-body-secondary.mb-0 data-empty { "(empty)" }
        } @else {
            pre.sr-output.mb-1 data-stream=(output.kind.segment())
                sse-swap=[live.then(|| output.kind.segment())]
                hx-swap=[live.then_some("beforeend")] {
                (output.text)
            }
            @if !output.truncated && output.size > 0 {
                a.small href=(file) { "plain text" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::layout::tests::chrome;

    fn output(kind: StreamKind, text: &str, truncated: bool, tail: Option<u64>) -> Output {
        Output {
            kind,
            size: if truncated {
                1 << 30
            } else {
                text.len() as u64
            },
            text: text.to_owned(),
            truncated,
            tail_from: tail,
        }
    }

    fn run(status: pb::RunStatus) -> pb::Run {
        pb::Run {
            id: 9,
            task: "t".to_owned(),
            status: status.into(),
            definition: "command: echo <hi>\n".to_owned(),
            ..pb::Run::default()
        }
    }

    #[test]
    fn output_is_escaped_and_big_output_links_the_whole_file() {
        let run = run(pb::RunStatus::Success);
        let view = RunView {
            run: &run,
            outputs: vec![
                output(StreamKind::Stdout, "<script>alert(1)</script>", false, None),
                output(StreamKind::Stderr, "head", true, None),
                output(StreamKind::OpError, "", false, None),
            ],
            refresh: "/tasks/t/runs/9".to_owned(),
            follow: Follow::Stay,
        };
        let html = section(&chrome(""), &view).into_string();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains(r#"href="/tasks/t/runs/9/stderr""#));
        assert!(html.contains("View whole file"));
        assert!(html.contains("command: echo &lt;hi&gt;"));
        assert!(
            !html.contains("sse-connect"),
            "a finished run is not tailed"
        );
    }

    #[test]
    fn peak_memory_is_a_figure_or_not_measured_never_zero() {
        let resources = |max_rss_bytes: u64| {
            let run = pb::Run {
                finished_at: Some(prost_types::Timestamp::default()),
                cpu_user: Some(prost_types::Duration::default()),
                max_rss_bytes,
                ..run(pb::RunStatus::Success)
            };
            facts(&chrome(""), &run).into_string()
        };
        assert!(resources(0).contains("peak memory not measured"));
        let measured = resources(3 << 20);
        assert!(measured.contains("peak memory 3"), "{measured}");
        assert!(!measured.contains("not measured"));
    }

    #[test]
    fn a_running_run_tails_its_output() {
        let run = run(pb::RunStatus::Running);
        let view = RunView {
            run: &run,
            outputs: vec![
                output(StreamKind::Stdout, "abc", false, Some(3)),
                output(StreamKind::Stderr, "", false, Some(0)),
                output(StreamKind::OpError, "", false, None),
            ],
            refresh: "/sr/tasks/t".to_owned(),
            follow: Follow::NewestRun,
        };
        let html = section(&chrome("/sr"), &view).into_string();
        assert!(
            html.contains(r#"sse-connect="/sr/tasks/t/runs/9/tail?out=3&amp;err=0""#),
            "{html}"
        );
        assert!(
            html.contains(r#"sse-swap="stdout" hx-swap="beforeend""#),
            "{html}"
        );
        assert!(html.contains(r#"hx-get="/sr/tasks/t""#), "{html}");
    }
}
