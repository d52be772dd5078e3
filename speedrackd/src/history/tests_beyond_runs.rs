//! The `Store` suite beyond a run's own start and end (`tests.rs` runs it against every
//! backend): failure streaks, notification errors, fire claims, stored output, imports and the
//! checkpoint.

use std::collections::{HashMap, HashSet};
use std::fmt::Debug;

use super::output::{Stream, stream_path};
use super::tests::{Subject, at, conformance, insert, name};
use super::*;

conformance!(
    a_failure_streak_counts_the_runs_since_the_last_success,
    a_failure_streak_follows_the_order_runs_finished_in,
    a_task_that_never_succeeded_counts_every_finished_run_in_its_streak,
    runs_still_running_do_not_count_in_a_failure_streak,
    a_notification_error_is_kept_with_its_run_alone_and_the_latest_wins,
    fires_no_run_claimed_for_the_cluster_read_as_unclaimed_in_order,
    a_running_or_unknown_run_has_no_stored_output,
    an_ended_runs_output_is_stored_as_its_files_held_it_only_where_history_keeps_output,
    an_import_batch_is_recorded_all_or_none,
    imported_sources_are_read_per_group,
    an_imported_source_is_remembered_after_its_run_is_deleted,
    settling_finishes_the_moves_an_interrupted_import_left,
    a_checkpoint_keeps_every_write_readable_after_reopening,
);

/// A run of `task` fired by its schedule at `second`, still running.
fn start(history: &dyn Store, task: &TaskName, second: i64) -> RunId {
    insert(history, task.as_str(), &Trigger::Schedule, second, second)
}

/// A run of `task` fired at `second` and ended a second later with `status`.
fn ended(history: &dyn Store, task: &TaskName, second: i64, status: RunStatus) -> RunId {
    let run = start(history, task, second);
    history
        .finish_run(run, &RunEnd::bare(at(second + 1), status, String::new()))
        .expect("finish");
    run
}

fn streaks(pairs: &[(&TaskName, u32)]) -> HashMap<TaskName, u32> {
    pairs
        .iter()
        .map(|(task, streak)| ((*task).clone(), *streak))
        .collect()
}

fn a_failure_streak_counts_the_runs_since_the_last_success(subject: &Subject) {
    let history = subject.open();
    let (flaky, fixed) = (name("flaky"), name("fixed"));
    // Interleaved, so that a streak read across tasks would show.
    let runs = [
        (&flaky, RunStatus::Failure),
        (&fixed, RunStatus::Failure),
        (&flaky, RunStatus::Success),
        (&fixed, RunStatus::Failure),
        (&flaky, RunStatus::Failure),
        (&fixed, RunStatus::Success),
        (&flaky, RunStatus::ExecutionError),
    ];
    for (second, (task, status)) in (0..).step_by(10).zip(runs) {
        ended(history.as_ref(), task, second, status);
    }
    assert_eq!(
        history.failure_streaks().expect("read"),
        streaks(&[(&flaky, 2), (&fixed, 0)])
    );
}

/// Runs that overlap end out of the order they started in; the running daemon counts a streak
/// as they end, and a restarted one must read the same count back.
fn a_failure_streak_follows_the_order_runs_finished_in(subject: &Subject) {
    let history = subject.open();
    let (healed, broke) = (name("healed"), name("broke"));
    for (task, first_end, second_end) in [
        (&healed, RunStatus::Success, RunStatus::Failure),
        (&broke, RunStatus::Failure, RunStatus::Success),
    ] {
        let first = start(history.as_ref(), task, 0);
        let second = start(history.as_ref(), task, 10);
        history
            .finish_run(second, &RunEnd::bare(at(20), second_end, String::new()))
            .expect("finish the later run first");
        history
            .finish_run(first, &RunEnd::bare(at(30), first_end, String::new()))
            .expect("finish the earlier run last");
    }
    assert_eq!(
        history.failure_streaks().expect("read"),
        streaks(&[(&healed, 0), (&broke, 1)])
    );
}

fn a_task_that_never_succeeded_counts_every_finished_run_in_its_streak(subject: &Subject) {
    let history = subject.open();
    let broken = name("broken");
    ended(history.as_ref(), &broken, 0, RunStatus::Failure);
    ended(history.as_ref(), &broken, 10, RunStatus::ExecutionError);
    start(history.as_ref(), &broken, 20);
    // As a restart after a crash closes it.
    history.close_interrupted(at(30)).expect("close");
    assert_eq!(
        history.failure_streaks().expect("read"),
        streaks(&[(&broken, 3)])
    );
}

fn runs_still_running_do_not_count_in_a_failure_streak(subject: &Subject) {
    let history = subject.open();
    let (busy, new) = (name("busy"), name("new"));
    ended(history.as_ref(), &busy, 0, RunStatus::Success);
    let slow = start(history.as_ref(), &busy, 10);
    ended(history.as_ref(), &busy, 20, RunStatus::Failure);
    start(history.as_ref(), &busy, 30);
    start(history.as_ref(), &new, 0);
    assert_eq!(
        history.failure_streaks().expect("read"),
        streaks(&[(&busy, 1), (&new, 0)]),
        "a task with history has a streak, if only of its running runs: none"
    );
    // The control: the same run counts once it has failed.
    history
        .finish_run(
            slow,
            &RunEnd::bare(at(40), RunStatus::Failure, String::new()),
        )
        .expect("finish");
    assert_eq!(
        history.failure_streaks().expect("read").get(&busy),
        Some(&2)
    );
}

fn a_notification_error_is_kept_with_its_run_alone_and_the_latest_wins(subject: &Subject) {
    let history = subject.open();
    let task = name("a");
    let noted = ended(history.as_ref(), &task, 0, RunStatus::Failure);
    let other = ended(history.as_ref(), &task, 10, RunStatus::Failure);
    history
        .set_notification_error(noted, "smtp: connection refused")
        .expect("note");
    history
        .set_notification_error(noted, "smtp: 550 mailbox unavailable")
        .expect("note again");
    drop(history);

    let reopened = subject.open();
    let error_of = |run| {
        reopened
            .get_run(run)
            .expect("read")
            .expect("exists")
            .notification_error
    };
    assert_eq!(error_of(noted), "smtp: 550 mailbox unavailable");
    assert_eq!(error_of(other), "");
    // The runs page reads it from the brief list.
    let listed: Vec<(RunId, String)> = reopened
        .list_runs_brief(&task, None, 10)
        .expect("list")
        .into_iter()
        .map(|run| (run.id, run.notification_error))
        .collect();
    assert_eq!(
        listed,
        [
            (other, String::new()),
            (noted, "smtp: 550 mailbox unavailable".to_owned())
        ]
    );
}

/// A claim this node made itself for the cluster is not asked about: SQLite, alone, records no
/// claims and answers none (as `Store` says), while PostgreSQL counts every node's.
fn fires_no_run_claimed_for_the_cluster_read_as_unclaimed_in_order(subject: &Subject) {
    let history = subject.open();
    let (task, chore) = (name("sync"), name("chore"));
    let manual = Trigger::Manual { by: "ann".into() };
    let run = |task, trigger, claim| NewRun {
        task,
        trigger,
        scheduled_at: at(0),
        started_at: at(0),
        definition: "",
        pays_owed: false,
        claim,
    };
    history
        .record_starts(
            &[],
            &[],
            &[
                run(&task, &manual, Claim::None),
                run(&chore, &Trigger::Schedule, Claim::PerNode),
            ],
        )
        .expect("record");
    let asked = [
        (task.clone(), at(0)),
        (chore.clone(), at(0)),
        (task.clone(), at(1)),
        (name("never"), at(0)),
        (task.clone(), at(0)),
    ];
    assert_eq!(
        history.fires_claimed(&asked).expect("read"),
        [false; 5],
        "neither a run-now nor a node's own chore is the cluster's run of its instant"
    );
    assert!(history.fires_claimed(&[]).expect("none").is_empty());
}

/// Writes `bytes` as one stream of a run, as the runner leaves it in the data dir.
fn write_stream(history: &dyn Store, task: &TaskName, run: RunId, stream: Stream, bytes: &[u8]) {
    let path = stream_path(history.data_dir(), task, run, stream);
    std::fs::create_dir_all(path.parent().expect("run dir")).expect("run dir");
    std::fs::write(path, bytes).expect("stream");
}

fn a_running_or_unknown_run_has_no_stored_output(subject: &Subject) {
    let history = subject.open();
    let task = name("a");
    let running = start(history.as_ref(), &task, 0);
    // Live output is there on disk, but a running run's is not the history's to keep.
    write_stream(history.as_ref(), &task, running, Stream::Stdout, b"so far");
    let gone = start(history.as_ref(), &task, 10);
    write_stream(history.as_ref(), &task, gone, Stream::Stdout, b"gone");
    history
        .finish_run(
            gone,
            &RunEnd::bare(at(11), RunStatus::Success, String::new()),
        )
        .expect("finish");
    history.delete_runs(&[(task, gone)]).expect("delete");
    let unknown = RunId(running.0.max(gone.0) + 1);
    for run in [running, gone, unknown] {
        for stream in [Stream::Stdout, Stream::Stderr] {
            assert_eq!(
                history.stored_output(run, stream).expect("read"),
                None,
                "{run:?} {stream:?}"
            );
        }
    }
}

fn an_ended_runs_output_is_stored_as_its_files_held_it_only_where_history_keeps_output(
    subject: &Subject,
) {
    let history = subject.open();
    let task = name("a");
    let run = start(history.as_ref(), &task, 0);
    // Not text: stored output is served as bytes, as the files are.
    let printed = b"\x00\xffhello\n";
    write_stream(history.as_ref(), &task, run, Stream::Stdout, printed);
    let mut end = RunEnd::bare(at(1), RunStatus::Success, String::new());
    end.stdout_bytes = printed.len() as u64;
    history.finish_run(run, &end).expect("finish");
    let stored = |stream| history.stored_output(run, stream).expect("read");
    let expected = if subject.on_postgres() {
        (Some(printed.to_vec()), Some(Vec::new()))
    } else {
        (None, None)
    };
    assert_eq!(
        (stored(Stream::Stdout), stored(Stream::Stderr)),
        expected,
        "an empty stream is stored empty; SQLite leaves output to the files"
    );
}

/// A finished run of `task` imported from `source`, its output staged in `staged` when given.
fn imported(source: &str, task: &TaskName, second: i64, staged: Option<&str>) -> ImportedRun {
    ImportedRun {
        source: source.to_owned(),
        task: task.clone(),
        started_at: at(second),
        definition: "command: date\n".to_owned(),
        end: RunEnd {
            stdout_bytes: 5,
            reason: "exit status 2".to_owned(),
            exit: Some(Exit::Code(2)),
            ..RunEnd::bare(at(second + 3), RunStatus::Failure, String::new())
        },
        staged: staged.map(Into::into),
    }
}

/// Output staged for an import, as the import leaves it in the data dir.
fn stage(history: &dyn Store, staged: &str, stdout: &str) {
    let dir = history.data_dir().join(staged);
    std::fs::create_dir_all(&dir).expect("staging dir");
    std::fs::write(dir.join("stdout"), stdout).expect("staged stdout");
}

fn stdout_of(history: &dyn Store, task: &TaskName, run: RunId) -> String {
    let path = stream_path(history.data_dir(), task, run, Stream::Stdout);
    std::fs::read_to_string(path).expect("stdout in place")
}

fn sources(list: &[&str]) -> HashSet<String> {
    list.iter().map(|source| (*source).to_owned()).collect()
}

/// Imports work on a SQLite data dir only; anywhere else each asks is refused as such.
fn assert_refused<T: Debug>(result: Result<T, HistoryError>) {
    assert!(
        matches!(result, Err(HistoryError::SqliteOnly { .. })),
        "{result:?}"
    );
}

fn an_import_batch_is_recorded_all_or_none(subject: &Subject) {
    let history = subject.open();
    let task = name("backup");
    stage(history.as_ref(), "staging/1", "first");
    stage(history.as_ref(), "staging/2", "later");
    let first = imported("backup/1", &task, 0, Some("staging/1"));
    let second = imported("backup/2", &task, 10, Some("staging/2"));
    if subject.on_postgres() {
        assert_refused(history.import_runs(std::slice::from_ref(&first)));
        assert_eq!(history.count_runs(&task).expect("count"), 0);
        assert!(history.data_dir().join("staging/1").exists());
        return;
    }
    history
        .import_runs(std::slice::from_ref(&first))
        .expect("import");
    assert!(
        history.import_runs(&[second.clone(), first]).is_err(),
        "a batch with a source imported before fails"
    );
    assert_eq!(history.count_runs(&task).expect("count"), 1);
    assert_eq!(
        history.imported_sources("backup").expect("read"),
        sources(&["backup/1"])
    );
    assert!(
        history.data_dir().join("staging/2").exists(),
        "the output of a batch not recorded stays staged"
    );

    let ids = history.import_runs(&[second]).expect("the new run alone");
    let run = history.get_run(ids[0]).expect("read").expect("exists");
    assert_eq!(
        (run.status(), run.finished_at(), run.trigger),
        (RunStatus::Failure, Some(at(13)), Trigger::Imported)
    );
    assert_eq!(stdout_of(history.as_ref(), &task, ids[0]), "later");
}

fn imported_sources_are_read_per_group(subject: &Subject) {
    let history = subject.open();
    if subject.on_postgres() {
        assert_refused(history.imported_sources("backup"));
        return;
    }
    let task = name("backup");
    // Groups whose names start alike, and sort just before and after `backup/`.
    let all = [
        "backup/2011-03-13_06:46:40",
        "backup/2011-03-14_06:46:40",
        "backups/2011-03-13_06:46:40",
        "backup-old/2011-03-13_06:46:40",
        "backup0/2011-03-13_06:46:40",
        "other/backup/2011-03-13_06:46:40",
    ];
    let runs: Vec<ImportedRun> = (0..)
        .zip(all)
        .map(|(second, source)| imported(source, &task, second, None))
        .collect();
    history.import_runs(&runs).expect("import");
    let read = |group| history.imported_sources(group).expect("read");
    assert_eq!(read("backup"), sources(&all[..2]));
    assert_eq!(read("backups"), sources(&all[2..3]));
    assert_eq!(read("backup-old"), sources(&all[3..4]));
    assert!(read("back").is_empty(), "a group is a whole path part");
    assert!(read("nothing").is_empty());
}

fn an_imported_source_is_remembered_after_its_run_is_deleted(subject: &Subject) {
    let history = subject.open();
    let task = name("backup");
    let old = imported("backup/2011-03-13_06:46:40", &task, 0, None);
    if subject.on_postgres() {
        assert_refused(history.import_runs(std::slice::from_ref(&old)));
        return;
    }
    let ids = history
        .import_runs(std::slice::from_ref(&old))
        .expect("import");
    history
        .delete_runs(&[(task.clone(), ids[0])])
        .expect("retention deletes it");
    assert_eq!(history.count_runs(&task).expect("count"), 0);
    assert_eq!(
        history.imported_sources("backup").expect("read"),
        sources(&["backup/2011-03-13_06:46:40"])
    );
    assert!(
        history.import_runs(&[old]).is_err(),
        "an import run again must not bring back what retention deleted"
    );
    assert_eq!(history.count_runs(&task).expect("count"), 0);
}

fn settling_finishes_the_moves_an_interrupted_import_left(subject: &Subject) {
    let history = subject.open();
    if subject.on_postgres() {
        assert_refused(history.settle_imports());
        return;
    }
    let task = name("backup");
    // An import cut short between its commit and its moves, as a crash leaves it: the second
    // run's output cannot be moved (it is not staged yet), so the third's is never tried.
    stage(history.as_ref(), "staging/moved", "moved");
    stage(history.as_ref(), "staging/orphan", "orphan");
    let batch = [
        imported("backup/1", &task, 0, Some("staging/moved")),
        imported("backup/2", &task, 10, Some("staging/late")),
        imported("backup/3", &task, 20, Some("staging/orphan")),
    ];
    assert!(history.import_runs(&batch).is_err(), "the cut");
    let mut ids: Vec<RunId> = history
        .list_runs(&task, None, 10)
        .expect("list")
        .iter()
        .map(|run| run.id)
        .collect();
    ids.sort();
    let [moved, late, orphan] = ids[..] else {
        panic!("the batch was committed: {ids:?}")
    };
    stage(history.as_ref(), "staging/late", "late");
    history
        .delete_runs(&[(task.clone(), orphan)])
        .expect("its run deleted before the import resumed");

    assert_eq!(history.settle_imports().expect("settle"), 3);
    assert_eq!(stdout_of(history.as_ref(), &task, moved), "moved");
    assert_eq!(stdout_of(history.as_ref(), &task, late), "late");
    let orphan_dir = output::run_dir(history.data_dir(), &task, orphan);
    assert!(!orphan_dir.exists(), "output never exists without its run");
    for staged in ["staging/moved", "staging/late", "staging/orphan"] {
        assert!(!history.data_dir().join(staged).exists(), "{staged}");
    }
    assert_eq!(history.settle_imports().expect("settle again"), 0);
}

fn a_checkpoint_keeps_every_write_readable_after_reopening(subject: &Subject) {
    let history = subject.open();
    history
        .checkpoint()
        .expect("a checkpoint of an empty history");
    let task = name("a");
    let first = ended(history.as_ref(), &task, 0, RunStatus::Success);
    let batch: Vec<NewRun<'_>> = (1..=20)
        .map(|second| NewRun {
            task: &task,
            trigger: &Trigger::Schedule,
            scheduled_at: at(second),
            started_at: at(second),
            definition: "name: a\n",
            pays_owed: false,
            claim: Claim::None,
        })
        .collect();
    let ids = history
        .record_starts(&[(task.clone(), at(20))], &[(task.clone(), at(30))], &batch)
        .expect("record");
    let ends: Vec<(RunId, RunEnd)> = ids
        .iter()
        .map(|id| {
            let end = RunEnd::bare(at(25), RunStatus::Failure, String::new());
            (id.expect("recorded"), end)
        })
        .collect();
    let ends: Vec<(RunId, &RunEnd)> = ends.iter().map(|(id, end)| (*id, end)).collect();
    history.finish_runs(&ends).expect("finish");
    history
        .set_notification_error(first, "noted")
        .expect("note");
    history.set_suspended(&task, true).expect("suspend");
    history.checkpoint().expect("a checkpoint");
    history.checkpoint().expect("a checkpoint with nothing new");
    // A write after the last checkpoint too, which SQLite holds in its log alone.
    let last = start(history.as_ref(), &task, 40);
    drop(history);

    let reopened = subject.open();
    assert_eq!(reopened.count_runs(&task).expect("count"), 22);
    let runs = reopened.list_runs(&task, None, 100).expect("list");
    assert_eq!(runs.first().map(|run| run.id), Some(last));
    assert_eq!(runs.last().map(|run| run.id), Some(first));
    assert_eq!(runs[0].status(), RunStatus::Running);
    assert!(
        runs[1..21]
            .iter()
            .all(|run| run.status() == RunStatus::Failure)
    );
    assert_eq!(runs[21].status(), RunStatus::Success);
    assert_eq!(runs[21].notification_error, "noted");
    assert_eq!(
        reopened.failure_streaks().expect("read"),
        streaks(&[(&task, 20)])
    );
    assert_eq!(
        reopened.last_fires().expect("read").get(&task),
        Some(&at(20))
    );
    assert_eq!(
        reopened.owed_fires().expect("read").get(&task),
        Some(&vec![at(30)])
    );
    assert_eq!(
        reopened.suspension_states().expect("read").get(&task),
        Some(&true)
    );
}
