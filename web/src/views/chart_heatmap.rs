//! The task page's success heat map: one square per UTC day of the last eight weeks (weeks as
//! columns, Monday on top), coloured by the share of that day's runs that failed, each with a
//! title giving its counts, and a legend.
//!
//! Pure: the window of days for a `today`, shades, and markup from the daemon's per-day counts
//! (CountRuns); asking for them is the route's business.

use chrono::{Datelike, NaiveDate, TimeDelta};
use maud::{Markup, html};
use speedrack_proto::v1 as pb;

use crate::views::chart_duration::{FAIL_FILL, OK_FILL};

/// Weeks shown, this one included.
pub const WEEKS: i64 = 8;
const CELL: f64 = 18.0;
const GAP: f64 = 3.0;
const LEFT: f64 = 30.0;
const TOP: f64 = 16.0;

/// The days shown: from the Monday `WEEKS - 1` weeks before this week's, through `today`.
pub fn window(today: NaiveDate) -> (NaiveDate, u32) {
    let weekday = i64::from(today.weekday().num_days_from_monday());
    let first = today - TimeDelta::days(weekday + 7 * (WEEKS - 1));
    let days = (today - first).num_days() + 1;
    (first, u32::try_from(days).unwrap_or(0))
}

/// How a day looks: by whether it had runs and what share of them failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shade {
    NoRuns,
    AllSucceeded,
    /// Up to a quarter failed.
    FewFailed,
    /// Up to half failed.
    SomeFailed,
    /// More than half failed.
    MostFailed,
}

impl Shade {
    pub const ALL: [Shade; 5] = [
        Shade::NoRuns,
        Shade::AllSucceeded,
        Shade::FewFailed,
        Shade::SomeFailed,
        Shade::MostFailed,
    ];

    pub fn of(count: &pb::RunCount) -> Shade {
        let total = u64::from(count.succeeded) + u64::from(count.failed);
        let failed = u64::from(count.failed);
        match () {
            () if total == 0 => Shade::NoRuns,
            () if failed == 0 => Shade::AllSucceeded,
            () if failed * 4 <= total => Shade::FewFailed,
            () if failed * 2 <= total => Shade::SomeFailed,
            () => Shade::MostFailed,
        }
    }

    fn fill(self) -> &'static str {
        match self {
            Shade::NoRuns => "#e9ecef",
            Shade::AllSucceeded => OK_FILL,
            Shade::FewFailed => "#ffc107",
            Shade::SomeFailed => "#fd7e14",
            Shade::MostFailed => FAIL_FILL,
        }
    }

    fn legend(self) -> &'static str {
        match self {
            Shade::NoRuns => "no runs",
            Shade::AllSucceeded => "all succeeded",
            Shade::FewFailed => "up to 25 % failed",
            Shade::SomeFailed => "up to 50 % failed",
            Shade::MostFailed => "over 50 % failed",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Shade::NoRuns => "none",
            Shade::AllSucceeded => "ok",
            Shade::FewFailed => "few",
            Shade::SomeFailed => "some",
            Shade::MostFailed => "most",
        }
    }
}

/// "Mon 2026-11-30: 24 runs, 3 failed (13 %)".
pub fn day_title(day: NaiveDate, count: &pb::RunCount) -> String {
    let total = u64::from(count.succeeded) + u64::from(count.failed);
    let date = day.format("%a %Y-%m-%d");
    match total {
        0 => format!("{date}: no runs"),
        _ => format!(
            "{date}: {total} run{}, {} failed ({} %)",
            if total == 1 { "" } else { "s" },
            count.failed,
            (u64::from(count.failed) * 100 + total / 2) / total
        ),
    }
}

/// The map for days from `first` on, one count per day.
pub fn heatmap(first: NaiveDate, counts: &[pb::RunCount]) -> Markup {
    let width = LEFT + WEEKS as f64 * (CELL + GAP);
    let height = TOP + 7.0 * (CELL + GAP);
    let place = |index: usize| {
        let (column, row) = ((index / 7) as f64, (index % 7) as f64);
        (LEFT + column * (CELL + GAP), TOP + row * (CELL + GAP))
    };
    html! {
        figure.mb-0 data-heatmap {
            svg.sr-heatmap xmlns="http://www.w3.org/2000/svg" width=(width) height=(height)
                viewBox={ "0 0 " (width) " " (height) } role="img"
                aria-label="Runs per day over the last eight weeks, by share failed" {
                title { "Runs per day (UTC) over the last eight weeks, by share failed" }
                @for (row, name) in [(0, "Mon"), (2, "Wed"), (4, "Fri"), (6, "Sun")] {
                    text x="0" y=(TOP + row as f64 * (CELL + GAP) + CELL - 3.0) font-size="10"
                        fill="currentColor" { (name) }
                }
                @for week in (0..WEEKS).step_by(2) {
                    @let day = first + TimeDelta::days(7 * week);
                    text x=(place(week as usize * 7).0) y="10" font-size="10" fill="currentColor" {
                        (day.format("%b %-d"))
                    }
                }
                @for (index, count) in counts.iter().enumerate() {
                    @let day = first + TimeDelta::days(index as i64);
                    @let shade = Shade::of(count);
                    @let (x, y) = place(index);
                    rect x=(x) y=(y) width=(CELL) height=(CELL) rx="2" fill=(shade.fill())
                        data-day=(day.format("%Y-%m-%d")) data-shade=(shade.slug()) {
                        title { (day_title(day, count)) }
                    }
                }
            }
            figcaption.small.text-body-secondary.d-flex.flex-wrap.gap-2.mt-1 data-legend {
                @for shade in Shade::ALL {
                    span.text-nowrap {
                        svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" aria-hidden="true" {
                            rect width="10" height="10" rx="2" fill=(shade.fill()) {}
                        }
                        " " (shade.legend())
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
    }

    fn count(succeeded: u32, failed: u32) -> pb::RunCount {
        pb::RunCount { succeeded, failed }
    }

    #[test]
    fn the_window_is_whole_weeks_from_monday_through_today() {
        // 2026-12-01 is a Tuesday: seven whole weeks before this one, and two days of it.
        assert_eq!(window(day("2026-12-01")), (day("2026-10-12"), 51));
        // A Sunday ends a whole eighth week.
        assert_eq!(window(day("2026-12-06")), (day("2026-10-12"), 56));
        // A Monday starts one.
        assert_eq!(window(day("2026-12-07")), (day("2026-10-19"), 50));
    }

    #[test]
    fn days_are_shaded_by_the_share_that_failed() {
        let cases = [
            (count(0, 0), Shade::NoRuns),
            (count(5, 0), Shade::AllSucceeded),
            (count(3, 1), Shade::FewFailed),
            (count(2, 1), Shade::SomeFailed),
            (count(1, 1), Shade::SomeFailed),
            (count(1, 2), Shade::MostFailed),
            (count(0, 1), Shade::MostFailed),
        ];
        for (count, shade) in cases {
            assert_eq!(Shade::of(&count), shade, "{count:?}");
        }
    }

    #[test]
    fn each_day_says_its_counts_on_hover_and_the_legend_names_every_shade() {
        assert_eq!(
            day_title(day("2026-11-30"), &count(21, 3)),
            "Mon 2026-11-30: 24 runs, 3 failed (13 %)"
        );
        assert_eq!(
            day_title(day("2026-11-29"), &count(0, 0)),
            "Sun 2026-11-29: no runs"
        );
        assert_eq!(
            day_title(day("2026-11-28"), &count(0, 1)),
            "Sat 2026-11-28: 1 run, 1 failed (100 %)"
        );
        let html = heatmap(day("2026-10-12"), &[count(1, 0), count(0, 2)]).into_string();
        assert!(
            html.contains(r#"data-day="2026-10-13" data-shade="most""#),
            "{html}"
        );
        assert!(
            html.contains("<title>Tue 2026-10-13: 2 runs, 2 failed (100 %)</title>"),
            "{html}"
        );
        for shade in Shade::ALL {
            assert!(html.contains(shade.legend()), "{html}");
        }
    }
}
