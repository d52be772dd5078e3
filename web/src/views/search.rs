//! The output search page: a shell rendered whole and cut in two around where the hits go,
//! so that the route can send the top, then each run's hits as the daemon finds them, then
//! how the search ended and the bottom.
//!
//! Pure: markup only. Asking the daemon and streaming is `routes/search.rs`.

use maud::{Markup, PreEscaped, html};
use speedrack_proto::v1 as pb;

use crate::names::StreamKind;
use crate::views::layout::{Chrome, Nav, Page, render, task_breadcrumb};
use crate::views::runs::search_form;
use crate::views::time::bytes;

/// Where the hits go; a comment no escaped text can contain.
const HITS_HERE: &str = "<!--sr-search-hits-->";

/// The page above and below the hits, for `text` in `task`.
pub fn shell(chrome: &Chrome, task: &str, text: &str) -> (String, String) {
    let title = format!("Search {task}");
    let page = render(
        chrome,
        Page {
            nav: Nav::Other,
            title: &title,
            events: None,
            live: html! {},
            rest: html! {
                (task_breadcrumb(&chrome.urls, task, html! { "search" }))
                h1.h4 { "Lines of " (task) "’s output with “" (text) "”" }
                (search_form(chrome, task, text))
                p.small.text-body-secondary {
                    "Newest run first; at most 200 runs, 64 MiB of output and 200 lines. "
                    a href=(chrome.urls.history(task, None)) { "All runs" }
                }
                ol.list-unstyled.sr-hits data-hits { (PreEscaped(HITS_HERE)) }
            },
        },
    )
    .into_string();
    match page.split_once(HITS_HERE) {
        Some((top, bottom)) => (top.to_owned(), bottom.to_owned()),
        None => (page, String::new()),
    }
}

/// One run's hits, each linking to the run (at the line) and to the whole file.
pub fn hits(chrome: &Chrome, task: &str, hits: &[pb::SearchHit]) -> Markup {
    html! {
        @for hit in hits {
            @let kind = stream_kind(hit.stream());
            li.mb-2 data-hit=(hit.run_id) {
                a href={
                    (chrome.urls.run(task, hit.run_id)) "?stream=" (kind.segment())
                    "#" (kind.segment()) "-L" (hit.line_number)
                } {
                    "Run #" (hit.run_id) " · " (kind.segment()) " line " (hit.line_number)
                }
                " · "
                a.small href=(chrome.urls.file(task, hit.run_id, kind)) { "whole file" }
                pre.mb-0.sr-hit-line { code data-line { (hit.line) @if hit.line_cut { " …" } } }
            }
        }
    }
}

/// How the search ended, below the hits.
pub fn summary(summary: &pb::SearchSummary) -> Markup {
    let why = match summary.end() {
        pb::SearchEnd::AllSearched => "every run kept was searched",
        pb::SearchEnd::RunLimit => "stopped at the run limit; older runs were not searched",
        pb::SearchEnd::ByteLimit => "stopped at the byte limit; older output was not searched",
        pb::SearchEnd::HitLimit => "stopped at the line limit; there may be more",
        pb::SearchEnd::Unspecified => "ended for a reason this gateway does not know",
    };
    html! {
        li.text-body-secondary data-search-end=(summary.end().as_str_name()) {
            @if summary.hits == 0 { strong { "No line matches. " } }
            (summary.hits) " lines in " (summary.runs_searched) " runs, "
            (bytes(summary.bytes_read)) " read: " (why) "."
        }
    }
}

/// The search broke off: the daemon failed or stopped answering.
pub fn broken(message: &str) -> Markup {
    html! { li.text-danger data-search-error { "The search stopped: " (message) } }
}

fn stream_kind(stream: pb::OutputStream) -> StreamKind {
    match stream {
        pb::OutputStream::Stderr => StreamKind::Stderr,
        _ => StreamKind::Stdout,
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::views::layout::tests::chrome;
    use crate::views::snapshot::{check, check_page};

    #[test]
    fn the_shell_splits_around_the_hits_and_hits_are_escaped() {
        let chrome = chrome("/p");
        let (top, bottom) = shell(&chrome, "t", "<b>");
        assert!(top.contains("“&lt;b&gt;”"), "{top}");
        assert!(
            top.ends_with("<ol class=\"list-unstyled sr-hits\" data-hits>"),
            "{top}"
        );
        assert!(bottom.starts_with("</ol>"), "{bottom}");
        let hit = pb::SearchHit {
            run_id: 7,
            stream: pb::OutputStream::Stderr.into(),
            line_number: 3,
            line: "<script>x</script>".to_owned(),
            line_cut: true,
            offset: 10,
        };
        let html = hits(&chrome, "t", &[hit]).into_string();
        assert!(
            html.contains(r#"href="/p/tasks/t/runs/7?stream=stderr#stderr-L3""#),
            "{html}"
        );
        assert!(
            html.contains(r#"href="/p/tasks/t/runs/7/stderr""#),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt; …"), "{html}");
    }

    #[test]
    fn the_shell_is_cut_where_the_hits_go() {
        let (top, bottom) = shell(&chrome(""), "report", "KeyError & <total>");
        // The cut shows as a comment of its own, between the two halves.
        let joined = format!("{top}<!-- cut -->{bottom}");
        check_page(
            &PreEscaped(joined),
            expect![[r#"
            <title>Search report · Speedrack</title>
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
            <li class="breadcrumb-item active" aria-current="page">search</li>
            </ol>
            </nav>
            <h1 class="h4">Lines of report’s output with “KeyError &amp; &lt;total&gt;”</h1>
            <form class="d-flex gap-2 mb-3" method="get" action="/tasks/report/search" role="search" data-search>
            <label class="visually-hidden" for="q">Text to find in the output</label>
            <input class="form-control form-control-sm" type="search" name="q" id="q" value="KeyError &amp; &lt;total&gt;" required maxlength="200" placeholder="Find text in stdout and stderr">
            <button class="btn btn-sm btn-outline-primary text-nowrap" type="submit">Search output</button>
            </form>
            <p class="small text-body-secondary">Newest run first; at most 200 runs, 64 MiB of output and 200 lines. <a href="/tasks/report/runs">All runs</a>
            </p>
            <ol class="list-unstyled sr-hits" data-hits>
            <!-- cut -->
            </ol>
            </main>
        "#]],
        );
    }

    #[test]
    fn hits_link_to_their_line_and_file_and_the_summary_says_why_the_search_stopped() {
        let hit =
            |run_id: i64, stream: pb::OutputStream, line_number: u64, line: &str| pb::SearchHit {
                run_id,
                stream: stream.into(),
                line_number,
                line: line.to_owned(),
                line_cut: false,
                offset: 0,
            };
        let found = [
            hit(
                31,
                pb::OutputStream::Stderr,
                48_214,
                "KeyError: '<total>' & no figures",
            ),
            pb::SearchHit {
                line_cut: true,
                ..hit(
                    27,
                    pb::OutputStream::Stdout,
                    2,
                    "KeyError in row 4 of 120: ",
                )
            },
        ];
        let end = pb::SearchSummary {
            runs_searched: 200,
            bytes_read: 3 << 20,
            hits: 2,
            end: pb::SearchEnd::RunLimit.into(),
        };
        let shown = html! {
            (hits(&chrome(""), "report", &found))
            (summary(&end))
        };
        check(
            &shown,
            expect![[r#"
            <li class="mb-2" data-hit="31">
            <a href="/tasks/report/runs/31?stream=stderr#stderr-L48214">Run #31 · stderr line 48214</a> · <a class="small" href="/tasks/report/runs/31/stderr">whole file</a>
            <pre class="mb-0 sr-hit-line">
            <code data-line>KeyError: '&lt;total&gt;' &amp; no figures</code>
            </pre>
            </li>
            <li class="mb-2" data-hit="27">
            <a href="/tasks/report/runs/27?stream=stdout#stdout-L2">Run #27 · stdout line 2</a> · <a class="small" href="/tasks/report/runs/27/stdout">whole file</a>
            <pre class="mb-0 sr-hit-line">
            <code data-line>KeyError in row 4 of 120:  …</code>
            </pre>
            </li>
            <li class="text-body-secondary" data-search-end="SEARCH_END_RUN_LIMIT">2 lines in 200 runs, 3.0 MiB read: stopped at the run limit; older runs were not searched.</li>
        "#]],
        );
    }
}
