//! One output stream of a run as its tab shows it: whole with line numbers, or, too big for
//! that, its head and its tail around a "… N KiB skipped … [whole file]" marker (the tail
//! first when the run failed, since that is where a failure usually shows); a running run's
//! stream shown whole grows live.
//!
//! Which bytes make the head and the tail is decided in `excerpt.rs`; reading them in
//! `routes/run.rs`.

use maud::{Markup, html};
use speedrack_proto::v1 as pb;

use crate::names::StreamKind;
use crate::views::layout::Chrome;
use crate::views::time::bytes;

/// What is shown of one output stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub kind: StreamKind,
    /// The stream's whole size now.
    pub size: u64,
    /// Its beginning (all of it unless `tail` is set), as text.
    pub text: String,
    /// Its end, when the stream is too big to show whole.
    pub tail: Option<Tail>,
    /// Where the live tail continues, for a running run's stream shown whole.
    pub tail_from: Option<u64>,
}

/// The end of a stream too big to show whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    /// Bytes between the head and the tail, not shown.
    pub skipped: u64,
    pub text: String,
    /// The number of the tail's first line; `None` when the skipped part was too big to count.
    pub first_line: Option<u64>,
}

/// Which part of a truncated stream comes first. With the tail first, output boxes also open
/// scrolled to their end (`sr-from-end`: the stylesheet reverses their flow, no script).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    HeadFirst,
    /// For runs that failed: their end usually says why.
    TailFirst,
}

impl Order {
    pub fn of(run: &pb::Run) -> Order {
        match run.status() {
            pb::RunStatus::Failure | pb::RunStatus::ExecutionError | pb::RunStatus::Interrupted => {
                Order::TailFirst
            }
            _ => Order::HeadFirst,
        }
    }
}

/// The contents of a stream's tab.
pub fn pane(chrome: &Chrome, run: &pb::Run, output: &Output, order: Order) -> Markup {
    let file = chrome.urls.file(&run.task, run.id, output.kind);
    let segment = output.kind.segment();
    match (&output.tail, output.tail_from) {
        (Some(tail), _) => truncated(&file, segment, output, tail, order),
        (None, Some(_)) => html! {
            pre.sr-output.mb-1 data-stream=(segment) sse-swap=(segment) hx-swap="beforeend" {
                (output.text)
            }
        },
        (None, None) if output.size == 0 => html! {
            p.text-body-secondary.mb-0 data-empty { "(empty)" }
        },
        (None, None) => html! {
            pre.sr-output.mb-1.sr-from-end[order == Order::TailFirst] data-stream=(segment) {
                (numbered(&output.text, Some(1), segment))
            }
            @if output.kind != StreamKind::OpError {
                a.small href=(file) { "plain text" }
            }
        },
    }
}

fn truncated(file: &str, segment: &str, output: &Output, tail: &Tail, order: Order) -> Markup {
    let marker = html! {
        div.small.text-body-secondary.my-1 data-truncated data-skipped=(tail.skipped) {
            "… " (bytes(tail.skipped)) " skipped … " a href=(file) { "[whole file]" }
        }
    };
    let head = html! {
        pre.sr-output.mb-1 data-stream=(segment) data-part="head" {
            (numbered(&output.text, Some(1), segment))
        }
    };
    let end = html! {
        pre.sr-output.mb-1.sr-from-end[order == Order::TailFirst] data-stream=(segment) data-part="tail" {
            (numbered(&tail.text, tail.first_line, segment))
        }
    };
    match order {
        Order::HeadFirst => html! { (head) (marker) (end) },
        Order::TailFirst => html! {
            (marker)
            (end)
            details.small {
                summary { "The first " (bytes(output.text.len() as u64)) " of " (bytes(output.size)) }
                (head)
            }
        },
    }
}

/// Each line in its own span, numbered from `first` by the stylesheet (so that copying the
/// text copies no numbers) and reachable as `#SEGMENT-LN` (the output search links there); not
/// numbered when `first` is unknown. One wrapper holds them, so that a box shown from its end
/// keeps the lines in order.
fn numbered(text: &str, first: Option<u64>, segment: &str) -> Markup {
    html! {
        span.sr-lines {
            @for (index, line) in text.split_inclusive('\n').enumerate() {
                @let number = first.map(|first| first + index as u64);
                span.sr-line id=[number.map(|number| format!("{segment}-L{number}"))]
                    data-line=[number] { (line) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::views::layout::tests::chrome;
    use crate::views::snapshot::check;

    fn run() -> pb::Run {
        pb::Run {
            id: 9,
            task: "t".to_owned(),
            ..pb::Run::default()
        }
    }

    fn big(order: Order) -> Markup {
        let output = Output {
            kind: StreamKind::Stderr,
            size: 10_000,
            text: "one\ntwo\n".to_owned(),
            tail: Some(Tail {
                skipped: 9_000,
                text: "<last> & final\n".to_owned(),
                first_line: Some(700),
            }),
            tail_from: None,
        };
        pane(&chrome(""), &run(), &output, order)
    }

    #[test]
    fn a_big_output_shows_head_and_tail_around_what_it_skips() {
        let html = big(Order::HeadFirst).into_string();
        let head = html.find(r#"data-part="head""#).expect("head");
        let marker = html.find("8.8 KiB skipped").expect("marker");
        let tail = html.find(r#"data-part="tail""#).expect("tail");
        assert!(head < marker && marker < tail, "{html}");
        assert!(html.contains(r#"<a href="/tasks/t/runs/9/stderr">[whole file]</a>"#));
        assert!(
            html.contains(r#"<span class="sr-line" id="stderr-L2" data-line="2">two"#),
            "{html}"
        );
        assert!(html.contains(r#"data-line="700">&lt;last&gt;"#), "{html}");
    }

    #[test]
    fn a_failed_run_shows_the_tail_first() {
        let html = big(Order::TailFirst).into_string();
        let tail = html.find(r#"data-part="tail""#).expect("tail");
        let head = html.find(r#"data-part="head""#).expect("head");
        assert!(tail < head, "{html}");
        assert!(
            html.contains(
                r#"class="sr-output mb-1 sr-from-end" data-stream="stderr" data-part="tail""#
            ),
            "the tail opens scrolled to its end: {html}"
        );
        assert!(html.contains("<details"), "the head is folded: {html}");
    }

    #[test]
    fn a_failed_runs_big_output_opens_on_its_tail_with_the_head_folded() {
        check(
            &big(Order::TailFirst),
            expect![[r#"
            <div class="small text-body-secondary my-1" data-truncated data-skipped="9000">… 8.8 KiB skipped … <a href="/tasks/t/runs/9/stderr">[whole file]</a>
            </div>
            <pre class="sr-output mb-1 sr-from-end" data-stream="stderr" data-part="tail">
            <span class="sr-lines">
            <span class="sr-line" id="stderr-L700" data-line="700">&lt;last&gt; &amp; final
            </span>
            </span>
            </pre>
            <details class="small">
            <summary>The first 8 B of 9.8 KiB</summary>
            <pre class="sr-output mb-1" data-stream="stderr" data-part="head">
            <span class="sr-lines">
            <span class="sr-line" id="stderr-L1" data-line="1">one
            </span>
            <span class="sr-line" id="stderr-L2" data-line="2">two
            </span>
            </span>
            </pre>
            </details>
        "#]],
        );
    }

    #[test]
    fn a_small_output_is_shown_whole_numbered_with_a_link_to_its_plain_text() {
        let text = "rows: 120\n<b>total</b> & 3\n";
        let output = Output {
            kind: StreamKind::Stdout,
            size: text.len() as u64,
            text: text.to_owned(),
            tail: None,
            tail_from: None,
        };
        check(
            &pane(&chrome(""), &run(), &output, Order::HeadFirst),
            expect![[r#"
                <pre class="sr-output mb-1" data-stream="stdout">
                <span class="sr-lines">
                <span class="sr-line" id="stdout-L1" data-line="1">rows: 120
                </span>
                <span class="sr-line" id="stdout-L2" data-line="2">&lt;b&gt;total&lt;/b&gt; &amp; 3
                </span>
                </span>
                </pre>
                <a class="small" href="/tasks/t/runs/9/stdout">plain text</a>
            "#]],
        );
    }

    #[test]
    fn lines_are_numbered_and_anchored_unless_unknown() {
        check(
            &numbered("a\nb", Some(1), "stdout"),
            expect![[r#"
            <span class="sr-lines">
            <span class="sr-line" id="stdout-L1" data-line="1">a
            </span>
            <span class="sr-line" id="stdout-L2" data-line="2">b</span>
            </span>
        "#]],
        );
        check(
            &numbered("a\n", None, "stdout"),
            expect![[r#"
            <span class="sr-lines">
            <span class="sr-line">a
            </span>
            </span>
        "#]],
        );
    }
}
