//! Micro-benchmarks of the pure core: the next fire of each kind of schedule, and the scheduler
//! holding 10 000 tasks (loading them, taking the fires due at one second, asking when to wake).
//!
//! Nothing here touches processes, files or the clock: instants are fixed, so runs compare. The
//! daemon's end-to-end lateness is measured by speedrack-bench (BENCHMARKS.md), not here.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use speedrackd::config::TaskName;
use speedrackd::schedule::apscheduler::ApsCron;
use speedrackd::schedule::{Crontab, Pattern, Schedule};
use speedrackd::scheduler::Scheduler;

const TASKS: usize = 10_000;

fn utc(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, minute, second)
        .single()
        .expect("a valid UTC instant")
}

fn crontab(text: &str, tz: Tz) -> Schedule {
    Schedule::Calendar {
        pattern: Pattern::Crontab(Arc::new(Crontab::parse(text).expect("a valid crontab"))),
        tz,
    }
}

fn mapping(fields: &[(&str, &str)], tz: Tz) -> Schedule {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    Schedule::Calendar {
        pattern: Pattern::Aps(ApsCron::from_fields(&fields).expect("a valid cron mapping")),
        tz,
    }
}

fn next_fire(c: &mut Criterion) {
    let anchor = utc(2026, 1, 1, 0, 0, 0);
    let ordinary = utc(2026, 6, 10, 12, 34, 56);
    let berlin = chrono_tz::Europe::Berlin;
    // Each case: a schedule and the instant asked about. The DST cases land in Berlin's missing
    // hour (found by bisection) and its repeated hour (candidates skipped until a later one).
    let cases = [
        (
            "interval 21s",
            Schedule::Interval(Duration::from_secs(21)),
            ordinary,
        ),
        (
            "mapping mon-fri 9-17 */15",
            mapping(
                &[
                    ("day_of_week", "mon-fri"),
                    ("hour", "9-17"),
                    ("minute", "*/15"),
                ],
                berlin,
            ),
            ordinary,
        ),
        (
            "mapping last sun 02:30",
            mapping(
                &[("day", "last sun"), ("hour", "2"), ("minute", "30")],
                berlin,
            ),
            ordinary,
        ),
        (
            "crontab */5 * * * *",
            crontab("*/5 * * * *", Tz::UTC),
            ordinary,
        ),
        (
            "crontab 30 2 * * * Berlin spring forward",
            crontab("30 2 * * *", berlin),
            utc(2026, 3, 28, 12, 0, 0),
        ),
        (
            // 02:05 on the second pass: 02:10 .. 02:50 already happened on the first, so each is
            // skipped on the way to the next day's 02:00.
            "crontab */10 2 * * * Berlin repeated hour",
            crontab("*/10 2 * * *", berlin),
            utc(2026, 10, 25, 1, 5, 0),
        ),
    ];
    let mut group = c.benchmark_group("next_fire");
    for (name, schedule, after) in &cases {
        group.bench_function(*name, |b| {
            b.iter(|| black_box(schedule).next_after(anchor, black_box(*after)))
        });
    }
    group.finish();
}

/// 10 000 tasks, a third each interval, crontab and cron mapping, every one firing once a minute
/// on its own second: so each second about 10 000 / 60 ≈ 167 fall due, as in a busy daemon.
fn tasks() -> Vec<(TaskName, Schedule)> {
    let berlin = chrono_tz::Europe::Berlin;
    (0..TASKS)
        .map(|index| {
            let second = index % 60;
            let schedule = match index % 3 {
                0 => Schedule::Interval(Duration::from_secs(60)),
                1 => crontab(&format!("{second} * * * * *"), berlin),
                _ => mapping(&[("second", &second.to_string())], berlin),
            };
            let name = TaskName::normalise(&format!("task {index}")).expect("a valid name");
            (name, schedule)
        })
        .collect()
}

/// Interval tasks are phased by their anchor, so they too spread over the minute.
fn load(tasks: Vec<(TaskName, Schedule)>, now: DateTime<Utc>) -> Scheduler {
    let mut scheduler = Scheduler::default();
    for (index, (name, schedule)) in tasks.into_iter().enumerate() {
        let phase = chrono::Duration::seconds(i64::try_from(index % 60).expect("under 60"));
        scheduler.add(name, schedule, now - phase, now, false);
    }
    scheduler
}

fn scheduler(c: &mut Criterion) {
    let tasks = tasks();
    let loaded_at = utc(2026, 6, 10, 12, 0, 0);
    let mut group = c.benchmark_group("scheduler_10k");
    group.sample_size(20);
    group.bench_function("load", |b| {
        b.iter_batched(
            || tasks.clone(),
            |tasks| load(tasks, loaded_at),
            BatchSize::LargeInput,
        )
    });

    // Each iteration is the next second: the fires due then are taken and requeued, as the
    // runtime does once a second in steady state.
    let mut scheduler = load(tasks, loaded_at);
    let mut now = loaded_at;
    let due_at_one_second = {
        now += chrono::Duration::seconds(1);
        scheduler.due(now).len()
    };
    assert!(
        (150..=190).contains(&due_at_one_second),
        "{due_at_one_second} due; the benchmark wants about 170"
    );
    group.sample_size(100);
    group.bench_function("due (~167 per second)", |b| {
        b.iter(|| {
            now += chrono::Duration::seconds(1);
            scheduler.due(black_box(now))
        })
    });
    group.bench_function("next_wakeup", |b| {
        b.iter(|| black_box(&scheduler).next_wakeup())
    });
    group.finish();
}

criterion_group!(benches, next_fire, scheduler);
criterion_main!(benches);
