//! Instants, ages, durations and sizes in words, and the zone absolute times are shown in.
//! Pure: `now` is always a parameter. `assets/speedrack.js` keeps the same words ticking in the
//! browser (`data-relative`, `data-elapsed-from`) and shows the instants on hover in the zone
//! chosen here.

use chrono::{DateTime, SecondsFormat, Utc};
use maud::{Markup, html};

/// A protobuf timestamp as an instant; `None` when absent or out of range.
pub fn instant(at: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    let at = at?;
    DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).ok()?)
}

/// "12 s ago", "in 3 min", "now".
pub fn relative(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let delta = then.signed_duration_since(now).num_seconds();
    let span = delta.unsigned_abs();
    if span < 1 {
        return "now".to_owned();
    }
    let amount = match span {
        0..60 => format!("{span} s"),
        60..3600 => format!("{} min", span / 60),
        3600..86400 => format!("{} h", span / 3600),
        _ => format!("{} d", span / 86400),
    };
    if delta < 0 {
        format!("{amount} ago")
    } else {
        format!("in {amount}")
    }
}

/// The zone absolute times are shown in, as this browser chose (a cookie).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    #[default]
    Utc,
    /// The browser's own zone, which only its script knows: the server still writes UTC.
    Local,
}

impl Zone {
    /// From its cookie value; anything else is UTC.
    pub fn parse(value: Option<&str>) -> Zone {
        match value {
            Some("local") => Zone::Local,
            _ => Zone::Utc,
        }
    }

    /// Its cookie value, and `data-times` on the page.
    pub fn slug(self) -> &'static str {
        match self {
            Zone::Utc => "utc",
            Zone::Local => "local",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Zone::Utc => "UTC",
            Zone::Local => "local time",
        }
    }

    pub fn other(self) -> Zone {
        match self {
            Zone::Utc => Zone::Local,
            Zone::Local => Zone::Utc,
        }
    }
}

/// A task's zone to print after its schedule's description, unless that already names it (a
/// calendar's description ends with "(ZONE)"), so that the zone is printed once.
pub fn zone_once<'a>(description: &str, zone: &'a str) -> Option<&'a str> {
    let named = description.contains(&format!("({zone})"));
    (!zone.is_empty() && !named).then_some(zone)
}

/// The exact instant, as a tooltip and in lists.
pub fn exact(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A `<time>` showing how long ago (or until), with the exact instant on hover.
pub fn moment(now: DateTime<Utc>, at: Option<&prost_types::Timestamp>, absent: &str) -> Markup {
    match instant(at) {
        Some(at) => html! {
            time datetime=(rfc3339(at)) title=(exact(at)) data-relative {
                (relative(now, at))
            }
        },
        None => html! { span.text-body-secondary { (absent) } },
    }
}

/// The exact instant as a `<time>` that the page's script shows in the zone the reader chose.
pub fn absolute(at: DateTime<Utc>) -> Markup {
    html! { time datetime=(rfc3339(at)) data-absolute { (exact(at)) } }
}

/// The instant as `datetime` attributes and scripts read it.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// How long since `since` ("12 s", "5 min 3 s"), counting on in the browser; empty when unknown.
pub fn elapsed(now: DateTime<Utc>, since: Option<&prost_types::Timestamp>) -> Markup {
    match instant(since) {
        Some(since) => {
            let whole = now.signed_duration_since(since).num_seconds().max(0);
            html! { span data-elapsed-from=(rfc3339(since)) { (whole_seconds(whole.unsigned_abs())) } }
        }
        None => html! {},
    }
}

/// "12 s", "5 min 3 s", "2 h 5 min".
fn whole_seconds(whole: u64) -> String {
    match whole {
        0..60 => format!("{whole} s"),
        60..3600 => format!("{} min {} s", whole / 60, whole % 60),
        _ => format!("{} h {} min", whole / 3600, whole % 3600 / 60),
    }
}

/// A duration in seconds (negative or absent as zero).
pub fn seconds(length: Option<&prost_types::Duration>) -> f64 {
    length.map_or(0.0, |length| {
        (length.seconds as f64 + f64::from(length.nanos) / 1e9).max(0.0)
    })
}

/// "0.25 s", "12.3 s", "5 min 3 s", "2 h 5 min".
pub fn duration(length: Option<&prost_types::Duration>) -> String {
    let Some(length) = length else {
        return String::new();
    };
    let total = seconds(Some(length));
    let whole = total as u64;
    match whole {
        0 => format!("{total:.2} s"),
        1..60 => format!("{total:.1} s"),
        _ => whole_seconds(whole),
    }
}

/// "512 B", "1.5 KiB", "3.0 MiB".
pub fn bytes(count: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if count < 1024 {
        return format!("{count} B");
    }
    let mut value = count as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::views::snapshot::check;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).expect("in range")
    }

    #[test]
    fn ages_in_words() {
        let now = at(1_000_000);
        let cases = [
            (0, "now"),
            (-5, "5 s ago"),
            (7, "in 7 s"),
            (-125, "2 min ago"),
            (3 * 3600, "in 3 h"),
            (-2 * 86400 - 5, "2 d ago"),
        ];
        for (offset, expected) in cases {
            assert_eq!(relative(now, at(1_000_000 + offset)), expected, "{offset}");
        }
    }

    #[test]
    fn durations_in_words() {
        let d = |seconds, nanos| prost_types::Duration { seconds, nanos };
        let cases = [
            (d(0, 250_000_000), "0.25 s"),
            (d(12, 300_000_000), "12.3 s"),
            (d(303, 0), "5 min 3 s"),
            (d(7500, 0), "2 h 5 min"),
        ];
        for (length, expected) in cases {
            assert_eq!(duration(Some(&length)), expected);
        }
        assert_eq!(duration(None), "");
    }

    #[test]
    fn sizes_in_words() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 << 20), "3.0 MiB");
    }

    #[test]
    fn a_moment_has_the_exact_time_on_hover() {
        let then = prost_types::Timestamp {
            seconds: 999_990,
            nanos: 0,
        };
        let html = moment(at(1_000_000), Some(&then), "never");
        check(
            &html,
            expect![[r#"
                <time datetime="1970-01-12T13:46:30Z" title="1970-01-12 13:46:30 UTC" data-relative>10 s ago</time>
            "#]],
        );
        assert!(moment(at(0), None, "never").into_string().contains("never"));
    }

    #[test]
    fn elapsed_time_counts_whole_seconds_from_its_start() {
        let since = prost_types::Timestamp {
            seconds: 1_000_000 - 303,
            nanos: 500,
        };
        check(
            &elapsed(at(1_000_000), Some(&since)),
            expect![[r#"
                <span data-elapsed-from="1970-01-12T13:41:37Z">5 min 2 s</span>
            "#]],
        );
        assert_eq!(elapsed(at(0), None).into_string(), "");
    }

    #[test]
    fn a_tasks_zone_is_printed_once() {
        let calendar = "at second 5 of every minute (Europe/Paris)";
        assert_eq!(zone_once(calendar, "Europe/Paris"), None);
        assert_eq!(zone_once("every 7s", "Europe/Paris"), Some("Europe/Paris"));
        assert_eq!(zone_once("every 7s", ""), None);
    }

    #[test]
    fn the_zone_is_utc_unless_local_was_chosen() {
        assert_eq!(Zone::parse(Some("local")), Zone::Local);
        assert_eq!(Zone::parse(Some("Mars/Olympus")), Zone::Utc);
        assert_eq!(Zone::parse(None), Zone::Utc);
        assert_eq!(Zone::Local.other(), Zone::Utc);
    }
}
