//! Filtered lists, their counts and per-span counts, tested through `&dyn Store` against every
//! backend as the rest of the history is (`tests.rs`).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::tests::{Subject, conformance};
use super::*;

conformance!(
    filters_pass_only_their_runs_and_count_them,
    runs_are_counted_per_span_by_outcome_and_start,
);

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 0)
        .single()
        .expect("valid instant")
}

/// Runs of task "f" started at 0, 100, 200, ... s, with these triggers and ends (`None`: still
/// running); returns their ids.
fn history_of(history: &dyn Store, runs: &[(Trigger, Option<RunStatus>)]) -> Vec<RunId> {
    let task = TaskName::normalise("f").expect("valid name");
    let mut ids = Vec::new();
    for (index, (trigger, status)) in runs.iter().enumerate() {
        let started = at(100 * index as i64);
        let id = history
            .insert_run(&NewRun {
                task: &task,
                trigger,
                scheduled_at: started,
                started_at: started,
                definition: "",
                pays_owed: false,
                claim: crate::history::Claim::None,
            })
            .expect("insert");
        if let Some(status) = status {
            let end = RunEnd::bare(started, *status, String::new());
            history.finish_run(id, &end).expect("finish");
        }
        ids.push(id);
    }
    ids
}

fn ids_of(records: &[RunRecord]) -> Vec<RunId> {
    records.iter().map(|record| record.id).collect()
}

fn filters_pass_only_their_runs_and_count_them(subject: &Subject) {
    let history = subject.open();
    let manual = Trigger::Manual { by: "ann".into() };
    let ids = history_of(
        history.as_ref(),
        &[
            (Trigger::Schedule, Some(RunStatus::Success)),
            (manual.clone(), Some(RunStatus::Failure)),
            (Trigger::Schedule, Some(RunStatus::Failure)),
            (Trigger::Imported, Some(RunStatus::Interrupted)),
            (manual, None),
        ],
    );
    let task = TaskName::normalise("f").expect("valid name");
    let check = |filter: RunFilter, expected: &[usize]| {
        let listed = history
            .list_matching(&task, &filter, None, 50)
            .expect("list");
        let wanted: Vec<RunId> = expected.iter().rev().map(|&index| ids[index]).collect();
        assert_eq!(ids_of(&listed), wanted, "{filter:?}");
        let count = history.count_matching(&task, &filter).expect("count");
        assert_eq!(count, expected.len() as u64, "{filter:?}");
    };
    check(RunFilter::default(), &[0, 1, 2, 3, 4]);
    let failed = RunFilter {
        statuses: vec![RunStatus::Failure, RunStatus::Interrupted],
        ..RunFilter::default()
    };
    check(failed.clone(), &[1, 2, 3]);
    check(
        RunFilter {
            triggers: vec![TriggerKind::Manual],
            ..failed.clone()
        },
        &[1],
    );
    check(
        RunFilter {
            triggers: vec![TriggerKind::Schedule, TriggerKind::Imported],
            ..RunFilter::default()
        },
        &[0, 2, 3],
    );
    check(
        RunFilter {
            started_from: Some(at(100)),
            started_before: Some(at(300)),
            ..RunFilter::default()
        },
        &[1, 2],
    );
    check(
        RunFilter {
            statuses: vec![RunStatus::Running],
            ..RunFilter::default()
        },
        &[4],
    );
    // Pages of a filtered list go on below the token with the same filter.
    let older = history
        .list_matching(&task, &failed, Some(ids[3]), 50)
        .expect("list");
    assert_eq!(ids_of(&older), [ids[2], ids[1]]);
}

fn runs_are_counted_per_span_by_outcome_and_start(subject: &Subject) {
    let history = subject.open();
    history_of(
        history.as_ref(),
        &[
            (Trigger::Schedule, Some(RunStatus::Success)), // 0 s
            (Trigger::Schedule, Some(RunStatus::Failure)), // 100 s
            (Trigger::Schedule, Some(RunStatus::Success)), // 200 s
            (Trigger::Schedule, Some(RunStatus::ExecutionError)), // 300 s
            (Trigger::Schedule, None),                     // 400 s, running: not counted
            (Trigger::Schedule, Some(RunStatus::Success)), // 500 s, after the last span
        ],
    );
    let task = TaskName::normalise("f").expect("valid name");
    let counts = history
        .count_by_span(&task, at(-150), TimeDelta::seconds(150), 4)
        .expect("count");
    let pairs: Vec<(u32, u32)> = counts.iter().map(|c| (c.succeeded, c.failed)).collect();
    // Spans: [-150, 0), [0, 150), [150, 300), [300, 450).
    assert_eq!(pairs, [(0, 0), (1, 1), (1, 0), (0, 1)]);
    let none = TaskName::normalise("other").expect("valid name");
    let empty = history
        .count_by_span(&none, at(0), TimeDelta::days(1), 2)
        .expect("count");
    assert_eq!(empty, [SpanCount::default(); 2]);
}
