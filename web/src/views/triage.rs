//! Failures first: what the tasks page counts (failing, running, conf errors, suspended, late),
//! which of those the table is filtered to, how it is sorted, and the worst state that the page
//! title and favicon carry.
//!
//! Pure: `now` is a parameter and the query is already split into its values. It renders
//! nothing (`tasks.rs` does) and reads no request (`routes/tasks.rs` does).

use std::cmp::Reverse;

use chrono::{DateTime, Duration, Utc};
use speedrack_proto::v1 as pb;

use crate::views::task::shown_name;
use crate::views::time::instant;

/// A task whose next fire is further in the past than this is late: the daemon is behind (a
/// loop stuck, a clock jump) rather than merely about to fire.
pub const LATE_AFTER: Duration = Duration::seconds(60);

/// What the counts at the top of the list count, each also a filter of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// The last run failed or could not be started or tracked.
    Failing,
    Running,
    ConfErrors,
    Suspended,
    /// See `LATE_AFTER`.
    Late,
}

impl Filter {
    /// In the order the counts are shown: the worst first.
    pub const ALL: [Filter; 5] = [
        Filter::Failing,
        Filter::ConfErrors,
        Filter::Late,
        Filter::Running,
        Filter::Suspended,
    ];

    /// The value of `?show=`.
    pub fn slug(self) -> &'static str {
        match self {
            Filter::Failing => "failing",
            Filter::Running => "running",
            Filter::ConfErrors => "conf-errors",
            Filter::Suspended => "suspended",
            Filter::Late => "late",
        }
    }

    /// `?show=` read back; anything else shows every task.
    pub fn parse(slug: &str) -> Option<Filter> {
        Filter::ALL.into_iter().find(|filter| filter.slug() == slug)
    }

    /// The words beside a count: "failing", "conf errors".
    pub fn label(self) -> &'static str {
        match self {
            Filter::ConfErrors => "conf errors",
            _ => self.slug(),
        }
    }

    /// "2 failing", "1 conf error".
    pub fn describe(self, count: usize) -> String {
        match (self, count) {
            (Filter::ConfErrors, 1) => "1 conf error".to_owned(),
            _ => format!("{count} {}", self.label()),
        }
    }

    /// What an empty filtered list says.
    pub fn none_text(self) -> &'static str {
        match self {
            Filter::Failing => "Nothing is failing.",
            Filter::Running => "Nothing is running.",
            Filter::ConfErrors => "No task has a conf error.",
            Filter::Suspended => "Nothing is suspended.",
            Filter::Late => "Nothing is late.",
        }
    }

    pub fn matches(self, task: &pb::Task, now: DateTime<Utc>) -> bool {
        match self {
            Filter::Failing => matches!(
                task.status(),
                pb::TaskStatus::Failure | pb::TaskStatus::ExecutionError
            ),
            Filter::Running => task.status() == pb::TaskStatus::Running,
            Filter::ConfErrors => task.status() == pb::TaskStatus::ConfError,
            Filter::Suspended => task.suspended,
            Filter::Late => is_late(task, now),
        }
    }
}

/// Whether the task should have fired by now and has not (a running or suspended task is not:
/// its fires wait by design).
pub fn is_late(task: &pb::Task, now: DateTime<Utc>) -> bool {
    let waiting = task.suspended || task.status() == pb::TaskStatus::Running;
    match instant(task.next_fire.as_ref()) {
        Some(next) => !waiting && next + LATE_AFTER < now,
        None => false,
    }
}

/// How many tasks each filter matches, in `Filter::ALL` order.
pub fn counts(tasks: &[pb::Task], now: DateTime<Utc>) -> Vec<(Filter, usize)> {
    Filter::ALL
        .into_iter()
        .map(|filter| {
            let count = tasks
                .iter()
                .filter(|task| filter.matches(task, now))
                .count();
            (filter, count)
        })
        .collect()
}

/// The state a glance should get: the page title's words and the favicon's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worst {
    Failing,
    ConfErrors,
    Late,
    Running,
    Ok,
}

impl Worst {
    /// Every state, for the favicon route.
    pub const ALL: [Worst; 5] = [
        Worst::Failing,
        Worst::ConfErrors,
        Worst::Late,
        Worst::Running,
        Worst::Ok,
    ];

    /// The favicon's file name without `.svg`.
    pub fn slug(self) -> &'static str {
        match self {
            Worst::Failing => "failing",
            Worst::ConfErrors => "conf-errors",
            Worst::Late => "late",
            Worst::Running => "running",
            Worst::Ok => "ok",
        }
    }

    pub fn parse(slug: &str) -> Option<Worst> {
        Worst::ALL.into_iter().find(|worst| worst.slug() == slug)
    }
}

/// The worst state among `counts`, and the title's words for it ("2 failing"); a list with
/// nothing wrong and nothing running is titled "Tasks". Suspension is a choice, not a state to
/// warn about.
pub fn worst(counts: &[(Filter, usize)]) -> (Worst, String) {
    let ranked = [
        (Filter::Failing, Worst::Failing),
        (Filter::ConfErrors, Worst::ConfErrors),
        (Filter::Late, Worst::Late),
        (Filter::Running, Worst::Running),
    ];
    for (filter, worst) in ranked {
        let count = counts
            .iter()
            .find(|(counted, _)| *counted == filter)
            .map_or(0, |(_, count)| *count);
        if count > 0 {
            return (worst, filter.describe(count));
        }
    }
    (Worst::Ok, "Tasks".to_owned())
}

/// The table's order, chosen by its column headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// As the daemon lists them: the tasks file's order.
    #[default]
    File,
    /// Failures first, then conf errors, running, suspended, never run, success, inactive.
    Status,
    /// Newest last run first; tasks that never ran last.
    LastRun,
    /// Soonest next fire first; tasks without one last.
    NextRun,
    Name,
}

impl Sort {
    /// The value of `?sort=`; `None` for the file's order.
    pub fn slug(self) -> Option<&'static str> {
        match self {
            Sort::File => None,
            Sort::Status => Some("status"),
            Sort::LastRun => Some("last"),
            Sort::NextRun => Some("next"),
            Sort::Name => Some("name"),
        }
    }

    pub fn parse(slug: &str) -> Sort {
        [Sort::Status, Sort::LastRun, Sort::NextRun, Sort::Name]
            .into_iter()
            .find(|sort| sort.slug() == Some(slug))
            .unwrap_or_default()
    }

    /// Sorts `tasks` in place; ties keep the file's order (the sort is stable).
    pub fn apply(self, tasks: &mut [&pb::Task]) {
        match self {
            Sort::File => {}
            Sort::Status => tasks.sort_by_key(|task| status_rank(task.status())),
            Sort::LastRun => tasks.sort_by_key(|task| {
                let started = task
                    .last_run
                    .as_ref()
                    .and_then(|run| run.started_at.as_ref());
                Reverse(instant(started))
            }),
            Sort::NextRun => tasks.sort_by_key(|task| {
                let next = instant(task.next_fire.as_ref());
                (next.is_none(), next)
            }),
            Sort::Name => tasks.sort_by_key(|task| shown_name(task).to_lowercase()),
        }
    }
}

fn status_rank(status: pb::TaskStatus) -> u8 {
    match status {
        pb::TaskStatus::Failure => 0,
        pb::TaskStatus::ExecutionError => 1,
        pb::TaskStatus::ConfError => 2,
        pb::TaskStatus::Running => 3,
        pb::TaskStatus::Suspended => 4,
        pb::TaskStatus::NeverRun => 5,
        pb::TaskStatus::Success => 6,
        pb::TaskStatus::Inactive => 7,
        pb::TaskStatus::Unspecified => 8,
    }
}

/// What the list shows: an optional filter and an order, from `?show=` and `?sort=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct View {
    pub filter: Option<Filter>,
    pub sort: Sort,
}

impl View {
    pub fn parse(show: Option<&str>, sort: Option<&str>) -> View {
        View {
            filter: show.and_then(Filter::parse),
            sort: sort.map(Sort::parse).unwrap_or_default(),
        }
    }

    /// True for the list as it opens: its rows then stay in place as they change.
    pub fn is_plain(self) -> bool {
        self == View::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp { seconds, nanos: 0 })
    }

    fn task(name: &str, status: pb::TaskStatus) -> pb::Task {
        pb::Task {
            name: name.to_owned(),
            status: status.into(),
            ..pb::Task::default()
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_000_000, 0).expect("in range")
    }

    #[test]
    fn late_means_a_fire_a_minute_overdue_that_nothing_holds_back() {
        let check = |next: i64, status, suspended, expected: bool| {
            let task = pb::Task {
                next_fire: at(next),
                suspended,
                ..task("t", status)
            };
            assert_eq!(
                is_late(&task, now()),
                expected,
                "{next} {status:?} {suspended}"
            );
        };
        check(1_000_000 - 61, pb::TaskStatus::Success, false, true);
        check(1_000_000 - 60, pb::TaskStatus::Success, false, false);
        check(1_000_000 + 5, pb::TaskStatus::NeverRun, false, false);
        check(1_000_000 - 600, pb::TaskStatus::Running, false, false);
        check(1_000_000 - 600, pb::TaskStatus::Success, true, false);
        assert!(!is_late(&task("none", pb::TaskStatus::Success), now()));
    }

    #[test]
    fn counts_and_the_worst_state_in_words() {
        let mut suspended = task("s", pb::TaskStatus::Running);
        suspended.suspended = true;
        let tasks = [
            task("a", pb::TaskStatus::Failure),
            task("b", pb::TaskStatus::ExecutionError),
            task("c", pb::TaskStatus::ConfError),
            task("d", pb::TaskStatus::Success),
            suspended,
        ];
        let counts = counts(&tasks, now());
        let count = |filter| counts.iter().find(|(f, _)| *f == filter).map(|(_, n)| *n);
        assert_eq!(count(Filter::Failing), Some(2));
        assert_eq!(count(Filter::ConfErrors), Some(1));
        assert_eq!(count(Filter::Running), Some(1));
        assert_eq!(count(Filter::Suspended), Some(1));
        assert_eq!(count(Filter::Late), Some(0));
        assert_eq!(worst(&counts), (Worst::Failing, "2 failing".to_owned()));
        let calm = super::counts(&tasks[2..4], now());
        assert_eq!(worst(&calm), (Worst::ConfErrors, "1 conf error".to_owned()));
        let fine = super::counts(&tasks[3..4], now());
        assert_eq!(worst(&fine), (Worst::Ok, "Tasks".to_owned()));
    }

    #[test]
    fn sorts_put_what_needs_a_look_first() {
        let mut ok = task("Beta", pb::TaskStatus::Success);
        ok.next_fire = at(5);
        ok.last_run = Some(pb::Run {
            started_at: at(3),
            ..pb::Run::default()
        });
        let mut failed = task("alpha", pb::TaskStatus::Failure);
        failed.next_fire = at(9);
        failed.last_run = Some(pb::Run {
            started_at: at(7),
            ..pb::Run::default()
        });
        let never = task("gamma", pb::TaskStatus::NeverRun);
        let tasks = [ok, never, failed];
        let order = |sort: Sort| {
            let mut shown: Vec<&pb::Task> = tasks.iter().collect();
            sort.apply(&mut shown);
            shown
                .iter()
                .map(|task| task.name.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(order(Sort::File), ["Beta", "gamma", "alpha"]);
        assert_eq!(order(Sort::Status), ["alpha", "gamma", "Beta"]);
        assert_eq!(order(Sort::LastRun), ["alpha", "Beta", "gamma"]);
        assert_eq!(order(Sort::NextRun), ["Beta", "alpha", "gamma"]);
        assert_eq!(order(Sort::Name), ["alpha", "Beta", "gamma"]);
    }

    #[test]
    fn the_query_is_read_leniently() {
        assert!(View::parse(None, None).is_plain());
        assert!(View::parse(Some("nonsense"), Some("nonsense")).is_plain());
        let view = View::parse(Some("conf-errors"), Some("next"));
        assert_eq!(view.filter, Some(Filter::ConfErrors));
        assert_eq!(view.sort, Sort::NextRun);
        for filter in Filter::ALL {
            assert_eq!(Filter::parse(filter.slug()), Some(filter));
        }
        for worst in Worst::ALL {
            assert_eq!(Worst::parse(worst.slug()), Some(worst));
        }
    }
}
