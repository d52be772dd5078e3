//! A sparkline of recent run durations: a small inline SVG built from numbers only, on the
//! duration scale the task page's chart uses (`chart_scale.rs`).

use maud::{Markup, html};

use crate::views::chart_scale::Axis;

/// One finished run: how long it took, and whether it succeeded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub seconds: f64,
    pub ok: bool,
}

const WIDTH: f64 = 120.0;
const HEIGHT: f64 = 24.0;
const PAD: f64 = 3.0;

/// Points oldest first; empty markup for none. Heights are on the shared scale: from zero to
/// a round top of at least a second, so that noise near zero stays flat.
pub fn sparkline(points: &[Point]) -> Markup {
    if points.is_empty() {
        return html! {};
    }
    let longest = points.iter().map(|p| p.seconds).fold(0.0, f64::max);
    let axis = Axis::for_longest(longest);
    let step = if points.len() > 1 {
        (WIDTH - 2.0 * PAD) / (points.len() - 1) as f64
    } else {
        0.0
    };
    let xy: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .map(|(index, point)| {
            let x = if points.len() > 1 {
                PAD + step * index as f64
            } else {
                WIDTH / 2.0
            };
            (
                x,
                HEIGHT - PAD - axis.fraction(point.seconds) * (HEIGHT - 2.0 * PAD),
            )
        })
        .collect();
    let line: Vec<String> = xy.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let (_, top) = &axis.ticks()[2];
    let title = match points.len() {
        1 => format!("duration of the last run, {longest:.2} s (scale 0 to {top})"),
        runs => {
            format!("durations of the last {runs} runs, longest {longest:.2} s (scale 0 to {top})")
        }
    };
    html! {
        svg.sr-sparkline xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height=(HEIGHT)
            viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(title) {
            title { (title) }
            polyline fill="none" stroke="currentColor" stroke-width="1.5" points=(line.join(" ")) {}
            @for ((x, y), point) in xy.iter().zip(points) {
                circle class=(if point.ok { "sr-ok" } else { "sr-fail" })
                    cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="2" {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::views::snapshot::check;

    #[test]
    fn no_runs_no_line() {
        assert_eq!(sparkline(&[]).into_string(), "");
    }

    #[test]
    fn the_longest_run_reaches_the_top() {
        let points = [
            Point {
                seconds: 1.0,
                ok: true,
            },
            Point {
                seconds: 2.0,
                ok: false,
            },
            Point {
                seconds: 0.0,
                ok: true,
            },
        ];
        check(
            &sparkline(&points),
            expect![[r#"
                <svg class="sr-sparkline" xmlns="http://www.w3.org/2000/svg" width="120" height="24" viewBox="0 0 120 24" role="img" aria-label="durations of the last 3 runs, longest 2.00 s (scale 0 to 2 s)">
                <title>durations of the last 3 runs, longest 2.00 s (scale 0 to 2 s)</title>
                <polyline fill="none" stroke="currentColor" stroke-width="1.5" points="3.0,12.0 60.0,3.0 117.0,21.0">
                </polyline>
                <circle class="sr-ok" cx="3.0" cy="12.0" r="2">
                </circle>
                <circle class="sr-fail" cx="60.0" cy="3.0" r="2">
                </circle>
                <circle class="sr-ok" cx="117.0" cy="21.0" r="2">
                </circle>
                </svg>
            "#]],
        );
    }

    #[test]
    fn noise_near_zero_is_no_spike() {
        let points = [0.0, 0.01, 0.0].map(|seconds| Point { seconds, ok: true });
        let html = sparkline(&points).into_string();
        // 0.01 s on a scale of at least 1 s: 0.2 px above the others, not the full height.
        assert!(
            html.contains(r#"points="3.0,21.0 60.0,20.8 117.0,21.0""#),
            "{html}"
        );
    }

    #[test]
    fn one_run_is_a_centred_dot() {
        let one = sparkline(&[Point {
            seconds: 0.0,
            ok: true,
        }]);
        check(
            &one,
            expect![[r#"
                <svg class="sr-sparkline" xmlns="http://www.w3.org/2000/svg" width="120" height="24" viewBox="0 0 120 24" role="img" aria-label="duration of the last run, 0.00 s (scale 0 to 1 s)">
                <title>duration of the last run, 0.00 s (scale 0 to 1 s)</title>
                <polyline fill="none" stroke="currentColor" stroke-width="1.5" points="60.0,21.0">
                </polyline>
                <circle class="sr-ok" cx="60.0" cy="21.0" r="2">
                </circle>
                </svg>
            "#]],
        );
    }
}
