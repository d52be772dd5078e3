//! The task page's chart of run durations: one bar per finished run, oldest left, failures in
//! red with a mark above, on the shared duration scale (`chart_scale.rs`), as inline SVG.
//!
//! Pure: markup from runs. It does not choose which runs; the route passes the newest ones.

use maud::{Markup, html};
use speedrack_proto::v1 as pb;

use crate::urls::Urls;
use crate::views::chart_scale::Axis;
use crate::views::time::seconds;

const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 36.0;
pub const OK_FILL: &str = "#198754";
pub const FAIL_FILL: &str = "#dc3545";

/// One bar: which run, how long it took, whether it succeeded.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub run: i64,
    pub seconds: f64,
    pub ok: bool,
}

/// Finished runs of `runs` (newest first, as the API lists them) as bars, oldest first.
pub fn bars(runs: &[pb::Run]) -> Vec<Bar> {
    runs.iter()
        .rev()
        .filter(|run| run.status() != pb::RunStatus::Running && run.duration.is_some())
        .map(|run| Bar {
            run: run.id,
            seconds: seconds(run.duration.as_ref()),
            ok: run.status() == pb::RunStatus::Success,
        })
        .collect()
}

/// The chart, or a note when no run has finished.
pub fn chart(urls: &Urls, task: &str, bars: &[Bar]) -> Markup {
    if bars.is_empty() {
        return html! { p.text-body-secondary.small data-duration-chart="empty" { "No finished run to chart yet." } };
    }
    let longest = bars.iter().map(|bar| bar.seconds).fold(0.0, f64::max);
    let axis = Axis::for_longest(longest);
    let failed = bars.iter().filter(|bar| !bar.ok).count();
    let title = format!(
        "Durations of the last {} finished runs, {failed} failed; longest {:.2} s",
        bars.len(),
        longest
    );
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let slot = plot_width / bars.len() as f64;
    let y = |seconds: f64| TOP + plot_height * (1.0 - axis.fraction(seconds));
    html! {
        svg.sr-chart xmlns="http://www.w3.org/2000/svg" width="100%"
            viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(title)
            data-duration-chart data-top=(axis.top_seconds) {
            title { (title) }
            @for (at, label) in axis.ticks() {
                line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(fixed(y(at))) y2=(fixed(y(at)))
                    stroke="currentColor" stroke-opacity="0.15" {}
                text x=(LEFT - 6.0) y=(fixed(y(at) + 4.0)) text-anchor="end" font-size="12"
                    fill="currentColor" data-tick { (label) }
            }
            text transform={ "translate(12 " (fixed(TOP + plot_height / 2.0)) ") rotate(-90)" }
                text-anchor="middle" font-size="12" fill="currentColor" { "duration (" (axis.unit) ")" }
            text x=(fixed(LEFT + plot_width / 2.0)) y=(HEIGHT - 6.0) text-anchor="middle" font-size="12"
                fill="currentColor" { "last " (bars.len()) " finished runs, oldest left" }
            @for (index, bar) in bars.iter().enumerate() {
                @let top = y(bar.seconds).min(TOP + plot_height - 1.0);
                @let x = LEFT + slot * index as f64 + slot * 0.15;
                a href=(urls.run(task, bar.run)) data-bar=(bar.run) data-ok=(bar.ok) {
                    title { "Run #" (bar.run) ": " (format!("{:.2}", bar.seconds)) " s, "
                        (if bar.ok { "succeeded" } else { "failed" }) }
                    rect x=(fixed(x)) y=(fixed(top)) width=(fixed(slot * 0.7))
                        height=(fixed(TOP + plot_height - top))
                        fill=(if bar.ok { OK_FILL } else { FAIL_FILL }) {}
                    @if !bar.ok {
                        path d={ "M" (fixed(x + slot * 0.35)) " " (fixed(top - 2.0)) " l-4 -7 h8 z" }
                            fill=(FAIL_FILL) data-failure-mark {}
                    }
                }
            }
            line x1=(LEFT) x2=(LEFT) y1=(TOP) y2=(TOP + plot_height) stroke="currentColor" {}
            line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(TOP + plot_height) y2=(TOP + plot_height)
                stroke="currentColor" {}
        }
    }
}

fn fixed(value: f64) -> String {
    format!("{value:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: i64, status: pb::RunStatus, duration: Option<f64>) -> pb::Run {
        pb::Run {
            id,
            status: status.into(),
            duration: duration.map(|seconds| prost_types::Duration {
                seconds: seconds.trunc() as i64,
                nanos: (seconds.fract() * 1e9) as i32,
            }),
            ..pb::Run::default()
        }
    }

    #[test]
    fn finished_runs_become_bars_oldest_first() {
        let runs = [
            run(3, pb::RunStatus::Running, None),
            run(2, pb::RunStatus::Failure, Some(0.5)),
            run(1, pb::RunStatus::Success, Some(0.25)),
        ];
        assert_eq!(
            bars(&runs),
            [
                Bar {
                    run: 1,
                    seconds: 0.25,
                    ok: true
                },
                Bar {
                    run: 2,
                    seconds: 0.5,
                    ok: false
                },
            ]
        );
    }

    #[test]
    fn failures_are_marked_and_the_axis_is_labelled_with_its_unit() {
        let bars = [
            Bar {
                run: 1,
                seconds: 0.0,
                ok: true,
            },
            Bar {
                run: 2,
                seconds: 0.01,
                ok: false,
            },
        ];
        let html = chart(&Urls::new(""), "t", &bars).into_string();
        assert!(
            html.contains(r#"data-top="1""#),
            "a second at least: {html}"
        );
        assert!(html.contains("duration (s)"), "{html}");
        assert!(html.contains(">0.5 s</text>"), "{html}");
        assert_eq!(html.matches("data-failure-mark").count(), 1, "{html}");
        assert!(html.contains(r#"href="/tasks/t/runs/2""#), "{html}");
        assert!(html.contains("Run #2: 0.01 s, failed"), "{html}");
        let empty = chart(&Urls::new(""), "t", &[]).into_string();
        assert!(empty.contains("No finished run"), "{empty}");
    }
}
