//! The duration scale every chart of run durations shares (the task page's chart and the
//! list's sparklines): from zero to a round top, never less than a second, in a unit that
//! suits the longest run. So a task whose runs take 0.00 to 0.01 s draws a flat line near
//! zero rather than spikes that fill the chart.
//!
//! Pure numbers and labels; drawing is each chart's business.

/// The shortest top a duration axis has, in seconds.
pub const MIN_TOP_SECONDS: f64 = 1.0;

/// A duration axis: 0 at the bottom, `top_seconds` at the top, labelled in `unit`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    pub top_seconds: f64,
    /// "s", "min" or "h".
    pub unit: &'static str,
    /// Seconds per unit.
    pub per_unit: f64,
}

impl Axis {
    /// The axis for runs whose longest took `longest` seconds (negative or not a number: 0).
    pub fn for_longest(longest: f64) -> Axis {
        let longest = if longest.is_finite() {
            longest.max(0.0)
        } else {
            0.0
        };
        let (unit, per_unit) = match longest {
            l if l >= 7200.0 => ("h", 3600.0),
            l if l >= 120.0 => ("min", 60.0),
            _ => ("s", 1.0),
        };
        let top = nice_ceiling((longest / per_unit).max(MIN_TOP_SECONDS / per_unit));
        Axis {
            top_seconds: top * per_unit,
            unit,
            per_unit,
        }
    }

    /// Where `seconds` sits between the bottom (0) and the top (1), clamped.
    pub fn fraction(&self, seconds: f64) -> f64 {
        if !seconds.is_finite() || self.top_seconds <= 0.0 {
            return 0.0;
        }
        (seconds / self.top_seconds).clamp(0.0, 1.0)
    }

    /// Tick positions in seconds with their labels: bottom, middle and top.
    pub fn ticks(&self) -> [(f64, String); 3] {
        [0.0, 0.5, 1.0].map(|share| {
            let seconds = self.top_seconds * share;
            (
                seconds,
                format!("{} {}", number(seconds / self.per_unit), self.unit),
            )
        })
    }
}

/// The smallest of 1, 2, 2.5 and 5 times a power of ten that is at least `value` (> 0).
pub fn nice_ceiling(value: f64) -> f64 {
    if !(value.is_finite() && value > 0.0) {
        return 1.0;
    }
    let base = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|step| step * base)
        .find(|candidate| *candidate >= value * (1.0 - 1e-9))
        .unwrap_or(10.0 * base)
}

/// `value` with at most two decimals and no trailing zeros: "0", "0.5", "2.5", "120".
fn number(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(longest: f64, expected: (f64, &str), labels: [&str; 3]) {
        let axis = Axis::for_longest(longest);
        assert_eq!((axis.top_seconds, axis.unit), expected, "longest {longest}");
        let shown: Vec<String> = axis.ticks().into_iter().map(|(_, label)| label).collect();
        assert_eq!(shown, labels, "longest {longest}");
    }

    #[test]
    fn the_top_is_round_from_zero_and_never_below_a_second() {
        check(0.0, (1.0, "s"), ["0 s", "0.5 s", "1 s"]);
        check(0.01, (1.0, "s"), ["0 s", "0.5 s", "1 s"]);
        check(1.2, (2.0, "s"), ["0 s", "1 s", "2 s"]);
        check(2.0, (2.0, "s"), ["0 s", "1 s", "2 s"]);
        check(2.1, (2.5, "s"), ["0 s", "1.25 s", "2.5 s"]);
        check(37.0, (50.0, "s"), ["0 s", "25 s", "50 s"]);
        check(119.0, (200.0, "s"), ["0 s", "100 s", "200 s"]);
        check(150.0, (150.0, "min"), ["0 min", "1.25 min", "2.5 min"]);
        check(3.0 * 3600.0, (5.0 * 3600.0, "h"), ["0 h", "2.5 h", "5 h"]);
        check(f64::NAN, (1.0, "s"), ["0 s", "0.5 s", "1 s"]);
        check(-3.0, (1.0, "s"), ["0 s", "0.5 s", "1 s"]);
    }

    #[test]
    fn noise_near_zero_stays_near_the_bottom() {
        let axis = Axis::for_longest(0.01);
        assert_eq!(axis.fraction(0.0), 0.0);
        assert!(axis.fraction(0.01) <= 0.01, "{}", axis.fraction(0.01));
        assert_eq!(axis.fraction(5.0), 1.0, "clamped");
        assert_eq!(axis.fraction(f64::INFINITY), 0.0);
    }

    #[test]
    fn nice_ceilings() {
        let cases = [
            (0.3, 0.5),
            (1.0, 1.0),
            (3.0, 5.0),
            (6.0, 10.0),
            (11.0, 20.0),
            (240.0, 250.0),
        ];
        for (value, expected) in cases {
            assert_eq!(nice_ceiling(value), expected, "{value}");
        }
    }
}
