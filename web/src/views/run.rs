//! The run view: what happened in one run, with tabs for stdout, stderr, op error and the task
//! definition it executed. It opens on the tab that explains the outcome; the tabs are links
//! (`?stream=…`), so every stream is reachable without scripts. A running run's page has its
//! Kill button. How one stream is shown is `output.rs`.

use maud::{Markup, html};
use speedrack_proto::v1 as pb;

use crate::names::{Action, StreamKind};
use crate::views::forms::hidden;
use crate::views::killed;
use crate::views::layout::{Chrome, Nav, Page, render, task_breadcrumb};
use crate::views::output::{Order, Output, pane};
use crate::views::runs::{exit, trigger};
use crate::views::status::run_status;
use crate::views::time::{absolute, bytes, duration, elapsed, instant, moment};

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

/// A tab of the run view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Stream(StreamKind),
    /// The task definition the run executed.
    Params,
}

impl Tab {
    /// From `?stream=` (a stream's URL segment, or `params`).
    pub fn parse(value: &str) -> Option<Tab> {
        match value {
            "params" => Some(Tab::Params),
            other => StreamKind::parse(other).map(Tab::Stream),
        }
    }

    fn segment(self) -> &'static str {
        match self {
            Tab::Stream(kind) => kind.segment(),
            Tab::Params => "params",
        }
    }

    /// The tab that explains how the run went: speedrack's own error, else stderr when the
    /// command wrote any (a failure by stderr always did), else stdout (as Speedrack 0.6.1).
    pub fn explaining(outputs: &[Output]) -> Tab {
        let written = |kind| {
            outputs
                .iter()
                .any(|output| output.kind == kind && output.size > 0)
        };
        if written(StreamKind::OpError) {
            Tab::Stream(StreamKind::OpError)
        } else if written(StreamKind::Stderr) {
            Tab::Stream(StreamKind::Stderr)
        } else {
            Tab::Stream(StreamKind::Stdout)
        }
    }
}

/// The run page (linkable, e.g. from emails), open on `open` or else on the tab that explains
/// the outcome.
pub fn page(chrome: &Chrome, view: &RunView<'_>, open: Option<Tab>) -> Markup {
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
                (view_of(chrome, view, open, Controls::Kill))
            },
        },
    )
}

/// What the view offers besides showing the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Controls {
    /// Nothing: the task page around it has the task's actions.
    None,
    /// A Kill button while the run is running.
    Kill,
}

/// The run view itself, as the task page shows its newest run.
pub fn section(chrome: &Chrome, view: &RunView<'_>) -> Markup {
    view_of(chrome, view, None, Controls::None)
}

fn view_of(chrome: &Chrome, view: &RunView<'_>, open: Option<Tab>, controls: Controls) -> Markup {
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
    let open = open.unwrap_or_else(|| Tab::explaining(&view.outputs));
    html! {
        section #run-view data-run=(run.id) data-status=(run_status(run.status()).slug)
            sse-connect=[source] sse-close=[source.map(|_| "finished")]
            hx-get=[refresh_on.map(|_| view.refresh.as_str())]
            hx-select=[refresh_on.map(|_| "#run-view")]
            hx-swap=[refresh_on.map(|_| "outerHTML")]
            hx-trigger=[refresh_on] {
            // On the task page this is the page's one heading for the newest run, not a
            // heading under another.
            h2.h5.mt-4[view.follow == Follow::NewestRun] {
                @if view.follow == Follow::NewestRun { "Newest run: " }
                a href=(chrome.urls.run(&run.task, run.id)) { "Run #" (run.id) }
                " " (killed::run_badge(run))
            }
            @if running && controls == Controls::Kill {
                (kill_button(chrome, run))
            }
            (facts(chrome, run))
            (tabs(chrome, view, open))
        }
    }
}

/// Ends this run (not the task's other runs), then comes back here.
fn kill_button(chrome: &Chrome, run: &pb::Run) -> Markup {
    let back = format!("/tasks/{}/runs/{}", crate::urls::encode(&run.task), run.id);
    html! {
        form.mb-2 method="post" action=(chrome.urls.action(&run.task, Action::Kill)) {
            (hidden(chrome, Some(&back)))
            input type="hidden" name="run" value=(run.id);
            button.btn.btn-sm.btn-danger type="submit" data-action="kill" { "Kill" }
        }
    }
}

/// Where the newest run's view will be, for a task that has not run yet.
pub fn placeholder(refresh: &str) -> Markup {
    html! {
        section #run-view hx-get=(refresh) hx-select="#run-view" hx-swap="outerHTML"
            hx-trigger="sse:started" {
            h2.h5.mt-4 { "Newest run" }
            p.text-body-secondary { "The task has not run yet." }
        }
    }
}

fn facts(chrome: &Chrome, run: &pb::Run) -> Markup {
    let now = chrome.now;
    let scheduled = instant(run.scheduled_at.as_ref());
    let reasons = killed::other_reasons(run);
    html! {
        dl.row.small.mb-2 {
            dt.col-sm-2 { "Trigger" } dd.col-sm-10 data-trigger { (trigger(run)) }
            @if chrome.nodes {
                dt.col-sm-2 { "Node" } dd.col-sm-10 data-node=(run.node) { (run.node) }
            }
            @if killed::is_killed(run) {
                dt.col-sm-2 { "Killed" } dd.col-sm-10 data-killed { (killed::why(chrome, run)) }
            }
            @if let Some(at) = scheduled {
                dt.col-sm-2 { "Due" } dd.col-sm-10 { (absolute(at)) }
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
            @if !reasons.is_empty() {
                dt.col-sm-2 { "Reason" } dd.col-sm-10 data-reason { (reasons) }
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

fn tabs(chrome: &Chrome, view: &RunView<'_>, open: Tab) -> Markup {
    let run = view.run;
    let pane_id = |tab: Tab| format!("run-{}-{}", run.id, tab.segment());
    let link = |tab: Tab| {
        format!(
            "{}?stream={}",
            chrome.urls.run(&run.task, run.id),
            tab.segment()
        )
    };
    let order = Order::of(run);
    html! {
        ul.nav.nav-tabs role="tablist" {
            @for output in &view.outputs {
                @let tab = Tab::Stream(output.kind);
                li.nav-item role="presentation" {
                    (tab_link(tab, open, &link(tab), &pane_id(tab), html! {
                        (output.kind.label()) " "
                        span.badge.text-bg-light.border data-size=(output.size) { (bytes(output.size)) }
                    }))
                }
            }
            li.nav-item role="presentation" {
                (tab_link(Tab::Params, open, &link(Tab::Params), &pane_id(Tab::Params), html! { "params" }))
            }
        }
        div.tab-content.border.border-top-0.p-2.mb-3 {
            @for output in &view.outputs {
                @let tab = Tab::Stream(output.kind);
                div id=(pane_id(tab)) role="tabpanel" data-pane=(tab.segment())
                    class={ "tab-pane" @if tab == open { " show active" } } {
                    (pane(chrome, run, output, order))
                }
            }
            div id=(pane_id(Tab::Params)) role="tabpanel" data-pane="params"
                class={ "tab-pane" @if open == Tab::Params { " show active" } } {
                @if run.definition.is_empty() {
                    p.text-body-secondary.mb-0 { "The daemon did not record this run's task definition." }
                } @else {
                    @match crate::views::mask::mask_env(&run.definition) {
                        Some(masked) => {
                            pre.sr-output.mb-0 data-definition { (masked) }
                            details.mt-2 data-reveal-env {
                                summary { "Reveal the values under env:" }
                                pre.sr-output.mb-0 { (run.definition) }
                            }
                        }
                        None => pre.sr-output.mb-0 data-definition { (run.definition) },
                    }
                }
            }
        }
    }
}

/// A tab: a link to the page open on it (without scripts), switched in place by Bootstrap.
fn tab_link(tab: Tab, open: Tab, href: &str, pane: &str, label: Markup) -> Markup {
    let active = tab == open;
    html! {
        a role="tab" data-bs-toggle="tab" href=(href) data-bs-target={ "#" (pane) }
            class={ "nav-link" @if active { " active" } }
            aria-selected=(if active { "true" } else { "false" })
            data-tab=(tab.segment()) {
            (label)
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::views::layout::tests::{ago, chrome};
    use crate::views::output::Tail;
    use crate::views::snapshot::check_page;

    fn output(kind: StreamKind, text: &str, truncated: bool, tail: Option<u64>) -> Output {
        Output {
            kind,
            size: if truncated {
                1 << 30
            } else {
                text.len() as u64
            },
            text: text.to_owned(),
            tail: truncated.then(|| crate::views::output::Tail {
                skipped: 1 << 29,
                text: "end".to_owned(),
                first_line: None,
            }),
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
        assert!(html.contains("[whole file]"));
        assert!(html.contains("command: echo &lt;hi&gt;"));
        assert!(
            !html.contains("sse-connect"),
            "a finished run is not tailed"
        );
    }

    #[test]
    fn the_definition_masks_env_values_until_revealed() {
        let run = pb::Run {
            definition: "command: psql\nenv:\n  PGPASSWORD: hunter2\n".to_owned(),
            ..run(pb::RunStatus::Success)
        };
        let view = RunView {
            run: &run,
            outputs: Vec::new(),
            refresh: "/tasks/t/runs/9".to_owned(),
            follow: Follow::Stay,
        };
        let html = section(&chrome(""), &view).into_string();
        let shown = html
            .split("data-definition")
            .nth(1)
            .expect("the definition");
        let shown = shown.split("</pre>").next().unwrap_or_default();
        assert!(shown.contains("PGPASSWORD: ••••••"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(html.contains("data-reveal-env"), "{html}");
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
    fn the_node_is_a_fact_only_when_runs_name_their_node() {
        let run = pb::Run {
            node: "beta".to_owned(),
            ..run(pb::RunStatus::Success)
        };
        let mut chrome = chrome("");
        assert!(!facts(&chrome, &run).into_string().contains("beta"));
        chrome.nodes = true;
        let shown = facts(&chrome, &run).into_string();
        assert!(
            shown.contains(
                r#"<dt class="col-sm-2">Node</dt><dd class="col-sm-10" data-node="beta">beta</dd>"#
            ),
            "{shown}"
        );
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

    fn view_of_outputs<'a>(run: &'a pb::Run, outputs: Vec<Output>) -> RunView<'a> {
        RunView {
            run,
            outputs,
            refresh: "/tasks/t/runs/9".to_owned(),
            follow: Follow::Stay,
        }
    }

    #[test]
    fn the_view_opens_on_the_stream_that_explains_the_outcome() {
        let with = |stdout: &str, stderr: &str, op_error: &str| {
            Tab::explaining(&[
                output(StreamKind::Stdout, stdout, false, None),
                output(StreamKind::Stderr, stderr, false, None),
                output(StreamKind::OpError, op_error, false, None),
            ])
        };
        let stream = Tab::Stream;
        assert_eq!(with("out", "", ""), stream(StreamKind::Stdout));
        assert_eq!(with("", "", ""), stream(StreamKind::Stdout));
        assert_eq!(with("out", "err", ""), stream(StreamKind::Stderr));
        assert_eq!(with("out", "err", "could not"), stream(StreamKind::OpError));
    }

    #[test]
    fn tabs_are_links_and_the_open_one_is_shown() {
        let run = run(pb::RunStatus::Failure);
        let view = view_of_outputs(
            &run,
            vec![
                output(StreamKind::Stdout, "", false, None),
                output(StreamKind::Stderr, "boom", false, None),
                output(StreamKind::OpError, "", false, None),
            ],
        );
        let html = page(&chrome(""), &view, None).into_string();
        assert!(
            html.contains(r##"href="/tasks/t/runs/9?stream=stderr" data-bs-target="#run-9-stderr" class="nav-link active""##),
            "{html}"
        );
        assert!(
            html.contains(r#"data-pane="stderr" class="tab-pane show active""#),
            "{html}"
        );
        assert!(
            html.contains(r#"data-pane="stdout" class="tab-pane""#),
            "{html}"
        );
        let params = page(&chrome(""), &view, Some(Tab::Params)).into_string();
        assert!(
            params.contains(r#"data-pane="params" class="tab-pane show active""#),
            "{params}"
        );
        assert!(
            params.contains(r#"data-pane="stderr" class="tab-pane""#),
            "{params}"
        );
        assert_eq!(
            Tab::parse("operror"),
            Some(Tab::Stream(StreamKind::OpError))
        );
        assert_eq!(Tab::parse("passwd"), None);
    }

    #[test]
    fn only_a_running_run_page_has_a_kill_button() {
        let outputs = || vec![output(StreamKind::Stdout, "", false, Some(0))];
        let running = run(pb::RunStatus::Running);
        let html = page(&chrome(""), &view_of_outputs(&running, outputs()), None).into_string();
        assert!(html.contains(r#"action="/tasks/t/kill""#), "{html}");
        assert!(
            html.contains(r#"name="back" value="/tasks/t/runs/9""#),
            "{html}"
        );
        assert!(html.contains(r#"name="run" value="9""#), "{html}");
        let on_task_page =
            section(&chrome(""), &view_of_outputs(&running, outputs())).into_string();
        assert!(
            !on_task_page.contains("/kill"),
            "the task page has its own: {on_task_page}"
        );
        let done = run(pb::RunStatus::Success);
        let html = page(&chrome(""), &view_of_outputs(&done, outputs()), None).into_string();
        assert!(!html.contains("/kill"), "{html}");
    }

    #[test]
    fn a_failed_run_page_opens_on_the_escaped_tail_of_its_big_stderr() {
        let run = pb::Run {
            id: 31,
            task: "report".to_owned(),
            trigger: pb::Trigger::Schedule.into(),
            status: pb::RunStatus::Failure.into(),
            scheduled_at: Some(ago(300)),
            started_at: Some(ago(299)),
            finished_at: Some(ago(296)),
            duration: Some(prost_types::Duration {
                seconds: 3,
                nanos: 0,
            }),
            exit_code: Some(1),
            reason: "exit status 1".to_owned(),
            max_rss_bytes: 24 << 20,
            cpu_user: Some(prost_types::Duration {
                seconds: 1,
                nanos: 200_000_000,
            }),
            cpu_system: Some(prost_types::Duration {
                seconds: 0,
                nanos: 100_000_000,
            }),
            definition:
                "command: python3 report.py && mail -s report ops\nschedule: '*/15 * * * *'\n"
                    .to_owned(),
            ..pb::Run::default()
        };
        let stderr = Output {
            kind: StreamKind::Stderr,
            size: 3 << 20,
            text: "reading figures\n".to_owned(),
            tail: Some(Tail {
                skipped: (3 << 20) - 120,
                text: "  File \"report.py\", line 9\nKeyError: '<total>' & no figures\n".to_owned(),
                first_line: Some(48_213),
            }),
            tail_from: None,
        };
        let view = view_of_outputs(
            &run,
            vec![
                output(StreamKind::Stdout, "rows: 120\n", false, None),
                stderr,
                output(StreamKind::OpError, "", false, None),
            ],
        );
        let mut chrome = chrome("");
        chrome.here = "/tasks/report/runs/31".to_owned();
        check_page(
            &page(&chrome, &view, None),
            expect![[r##"
                <title>Run 31 of report · Speedrack</title>
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
                <li class="breadcrumb-item active" aria-current="page">run 31</li>
                </ol>
                </nav>
                <section id="run-view" data-run="31" data-status="failure">
                <h2 class="h5">
                <a href="/tasks/report/runs/31">Run #31</a> <span class="badge sr-status text-bg-danger" data-status="failure">failure</span>
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
                <time datetime="1970-01-12T13:41:41Z" title="1970-01-12 13:41:41 UTC" data-relative>4 min ago</time>
                </dd>
                <dt class="col-sm-2">Finished</dt>
                <dd class="col-sm-10">
                <time datetime="1970-01-12T13:41:44Z" title="1970-01-12 13:41:44 UTC" data-relative>4 min ago</time> after 3.0 s</dd>
                <dt class="col-sm-2">Exit</dt>
                <dd class="col-sm-10">exit 1</dd>
                <dt class="col-sm-2">Reason</dt>
                <dd class="col-sm-10" data-reason>exit status 1</dd>
                <dt class="col-sm-2">Resources</dt>
                <dd class="col-sm-10" data-resources>peak memory 24.0 MiB, CPU user 1.2 s, system 0.10 s</dd>
                </dl>
                <ul class="nav nav-tabs" role="tablist">
                <li class="nav-item" role="presentation">
                <a role="tab" data-bs-toggle="tab" href="/tasks/report/runs/31?stream=stdout" data-bs-target="#run-31-stdout" class="nav-link" aria-selected="false" data-tab="stdout">stdout <span class="badge text-bg-light border" data-size="10">10 B</span>
                </a>
                </li>
                <li class="nav-item" role="presentation">
                <a role="tab" data-bs-toggle="tab" href="/tasks/report/runs/31?stream=stderr" data-bs-target="#run-31-stderr" class="nav-link active" aria-selected="true" data-tab="stderr">stderr <span class="badge text-bg-light border" data-size="3145728">3.0 MiB</span>
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
                <div class="small text-body-secondary my-1" data-truncated data-skipped="3145608">… 3.0 MiB skipped … <a href="/tasks/report/runs/31/stderr">[whole file]</a>
                </div>
                <pre class="sr-output mb-1 sr-from-end" data-stream="stderr" data-part="tail">
                <span class="sr-lines">
                <span class="sr-line" id="stderr-L48213" data-line="48213">  File &quot;report.py&quot;, line 9
                </span>
                <span class="sr-line" id="stderr-L48214" data-line="48214">KeyError: '&lt;total&gt;' &amp; no figures
                </span>
                </span>
                </pre>
                <details class="small">
                <summary>The first 16 B of 3.0 MiB</summary>
                <pre class="sr-output mb-1" data-stream="stderr" data-part="head">
                <span class="sr-lines">
                <span class="sr-line" id="stderr-L1" data-line="1">reading figures
                </span>
                </span>
                </pre>
                </details>
                </div>
                <div id="run-31-operror" role="tabpanel" data-pane="operror" class="tab-pane">
                <p class="text-body-secondary mb-0" data-empty>(empty)</p>
                </div>
                <div id="run-31-params" role="tabpanel" data-pane="params" class="tab-pane">
                <pre class="sr-output mb-0" data-definition>command: python3 report.py &amp;&amp; mail -s report ops
                schedule: '*/15 * * * *'
                </pre>
                </div>
                </div>
                </section>
                </main>
            "##]],
        );
    }

    #[test]
    fn a_running_run_page_tails_its_output_and_offers_to_kill_it() {
        let run = pb::Run {
            id: 32,
            task: "report".to_owned(),
            trigger: pb::Trigger::Manual.into(),
            requested_by: "ann".to_owned(),
            status: pb::RunStatus::Running.into(),
            started_at: Some(ago(75)),
            ..pb::Run::default()
        };
        let view = RunView {
            run: &run,
            outputs: vec![
                output(StreamKind::Stdout, "reading figures\n", false, Some(16)),
                output(StreamKind::Stderr, "", false, Some(0)),
                output(StreamKind::OpError, "", false, None),
            ],
            refresh: "/tasks/report/runs/32".to_owned(),
            follow: Follow::Stay,
        };
        let mut chrome = chrome("");
        chrome.here = "/tasks/report/runs/32".to_owned();
        check_page(
            &page(&chrome, &view, None),
            expect![[r##"
            <title>Run 32 of report · Speedrack</title>
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
            <li class="breadcrumb-item active" aria-current="page">run 32</li>
            </ol>
            </nav>
            <section id="run-view" data-run="32" data-status="running" sse-connect="/tasks/report/runs/32/tail?out=16&amp;err=0" sse-close="finished" hx-get="/tasks/report/runs/32" hx-select="#run-view" hx-swap="outerHTML" hx-trigger="sse:finished">
            <h2 class="h5">
            <a href="/tasks/report/runs/32">Run #32</a> <span class="badge sr-status text-bg-info" data-status="running">running</span>
            </h2>
            <form class="mb-2" method="post" action="/tasks/report/kill">
            <input type="hidden" name="csrf" value="t0k3n">
            <input type="hidden" name="back" value="/tasks/report/runs/32">
            <input type="hidden" name="run" value="32">
            <button class="btn btn-sm btn-danger" type="submit" data-action="kill">Kill</button>
            </form>
            <dl class="row small mb-2">
            <dt class="col-sm-2">Trigger</dt>
            <dd class="col-sm-10" data-trigger>manual, asked by ann</dd>
            <dt class="col-sm-2">Started</dt>
            <dd class="col-sm-10">
            <time datetime="1970-01-12T13:45:25Z" title="1970-01-12 13:45:25 UTC" data-relative>1 min ago</time>
            </dd>
            <dt class="col-sm-2">Finished</dt>
            <dd class="col-sm-10">
            <span class="text-body-secondary">still running</span> for <span data-elapsed-from="1970-01-12T13:45:25Z">1 min 15 s</span>
            </dd>
            </dl>
            <ul class="nav nav-tabs" role="tablist">
            <li class="nav-item" role="presentation">
            <a role="tab" data-bs-toggle="tab" href="/tasks/report/runs/32?stream=stdout" data-bs-target="#run-32-stdout" class="nav-link active" aria-selected="true" data-tab="stdout">stdout <span class="badge text-bg-light border" data-size="16">16 B</span>
            </a>
            </li>
            <li class="nav-item" role="presentation">
            <a role="tab" data-bs-toggle="tab" href="/tasks/report/runs/32?stream=stderr" data-bs-target="#run-32-stderr" class="nav-link" aria-selected="false" data-tab="stderr">stderr <span class="badge text-bg-light border" data-size="0">0 B</span>
            </a>
            </li>
            <li class="nav-item" role="presentation">
            <a role="tab" data-bs-toggle="tab" href="/tasks/report/runs/32?stream=operror" data-bs-target="#run-32-operror" class="nav-link" aria-selected="false" data-tab="operror">op error <span class="badge text-bg-light border" data-size="0">0 B</span>
            </a>
            </li>
            <li class="nav-item" role="presentation">
            <a role="tab" data-bs-toggle="tab" href="/tasks/report/runs/32?stream=params" data-bs-target="#run-32-params" class="nav-link" aria-selected="false" data-tab="params">params</a>
            </li>
            </ul>
            <div class="tab-content border border-top-0 p-2 mb-3">
            <div id="run-32-stdout" role="tabpanel" data-pane="stdout" class="tab-pane show active">
            <pre class="sr-output mb-1" data-stream="stdout" sse-swap="stdout" hx-swap="beforeend">reading figures
            </pre>
            </div>
            <div id="run-32-stderr" role="tabpanel" data-pane="stderr" class="tab-pane">
            <pre class="sr-output mb-1" data-stream="stderr" sse-swap="stderr" hx-swap="beforeend">
            </pre>
            </div>
            <div id="run-32-operror" role="tabpanel" data-pane="operror" class="tab-pane">
            <p class="text-body-secondary mb-0" data-empty>(empty)</p>
            </div>
            <div id="run-32-params" role="tabpanel" data-pane="params" class="tab-pane">
            <p class="text-body-secondary mb-0">The daemon did not record this run's task definition.</p>
            </div>
            </div>
            </section>
            </main>
        "##]],
        );
    }
}
