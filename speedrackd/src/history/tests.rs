//! The history interface (`Store`): one suite, every backend. Each test is a function of a
//! `Subject` (a history, and how to open it again) that `conformance!` runs against SQLite on a
//! file in a temp dir and against PostgreSQL on a fresh database of the throwaway server (a
//! test that finds PostgreSQL not installed returns early and says so).

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};

use super::*;

conformance!(
    a_run_round_trips_from_start_to_end,
    runs_list_newest_first_in_pages_per_task,
    a_task_list_reads_each_tasks_count_and_newest_runs_in_order,
    runs_left_running_are_closed_as_interrupted_with_their_groups,
    suspension_is_persisted_and_reopened,
    run_ids_are_never_reused_after_deletion,
    the_quota_picks_the_oldest_finished_runs_and_deletion_removes_their_files,
    summaries_count_runs_and_bytes_and_find_the_last_success,
    totals_follow_inserts_output_and_deletions,
    a_batch_of_runs_and_last_fires_is_written_in_order,
    a_replaced_run_learns_which_run_replaced_it,
    retention_reads_each_tasks_runs_past_the_newest_it_keeps_unread,
);

/// A history under test: its data dir, and its database when it is not the dir's SQLite file.
pub struct Subject {
    dir: tempfile::TempDir,
    postgres: Option<String>,
}

impl Subject {
    pub fn sqlite() -> Subject {
        Subject {
            dir: tempfile::tempdir().expect("temp dir"),
            postgres: None,
        }
    }

    /// A fresh database on the throwaway server; `None` when PostgreSQL is not installed.
    pub fn postgres() -> Option<Subject> {
        let url = crate::postgres::throwaway::server()?.database();
        Some(Subject {
            dir: tempfile::tempdir().expect("temp dir"),
            postgres: Some(url),
        })
    }

    /// The history, opened (again) on the same data.
    pub fn open(&self) -> Box<dyn Store> {
        match &self.postgres {
            None => Box::new(SqliteStore::open(self.dir()).expect("open history")),
            Some(url) => Box::new(pg::tests::connect(url, "a", self.dir())),
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Whether the history is PostgreSQL's. The backends differ where the interface says so:
    /// only PostgreSQL keeps ended runs' output itself, and only SQLite takes imports.
    pub fn on_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

/// Runs each named `fn(&Subject)` as two tests, `NAME::sqlite` and `NAME::postgres`.
macro_rules! conformance {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[test]
            fn sqlite() {
                super::$test(&$crate::history::tests::Subject::sqlite());
            }

            #[test]
            fn postgres() {
                if let Some(subject) = $crate::history::tests::Subject::postgres() {
                    super::$test(&subject);
                }
            }
        }
    )+};
}
pub(crate) use conformance;

/// An instant `seconds` from a fixed origin, with a fraction of a second that history keeps.
pub(super) fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 123_456_000)
        .single()
        .expect("valid instant")
}

pub(super) fn name(text: &str) -> TaskName {
    TaskName::normalise(text).expect("valid name")
}

/// A run of `task` recorded as started, as a fire at `scheduled` that started at `started`.
pub(super) fn insert(
    history: &dyn Store,
    task: &str,
    trigger: &Trigger,
    scheduled: i64,
    started: i64,
) -> RunId {
    let task = name(task);
    let run = NewRun {
        task: &task,
        trigger,
        scheduled_at: at(scheduled),
        started_at: at(started),
        definition: "name: x\n",
        pays_owed: false,
        claim: crate::history::Claim::None,
    };
    history.insert_run(&run).expect("insert")
}

fn end(status: RunStatus, exit: Option<Exit>) -> RunEnd {
    RunEnd {
        finished_at: at(5),
        exit,
        status,
        stdout_bytes: 10,
        stderr_bytes: 2,
        op_error: String::new(),
        reason: "why".into(),
        killed_by: "alice".into(),
        kill_cause: Some(KillCause::User),
        replaced_by: None,
        usage: Usage {
            max_rss_bytes: 4096,
            cpu_user: Duration::from_millis(15),
            cpu_system: Duration::from_micros(2500),
        },
        output_dropped_bytes: 7,
    }
}

fn a_run_round_trips_from_start_to_end(subject: &Subject) {
    let history = subject.open();
    let trigger = Trigger::Manual { by: "alice".into() };
    let run = insert(history.as_ref(), "a", &trigger, 0, 1);
    let started = history.get_run(run).expect("read").expect("exists");
    assert_eq!(started.status(), RunStatus::Running);
    assert_eq!(started.trigger, trigger);
    assert_eq!(started.started_at, at(1), "microsecond precision survives");
    assert_eq!(started.finished_at(), None);

    history
        .finish_run(run, &end(RunStatus::Failure, Some(Exit::Signal(9))))
        .expect("finish");
    let finished = history.get_run(run).expect("read").expect("exists");
    assert_eq!(finished.status(), RunStatus::Failure);
    assert_eq!(
        finished.end.as_ref().expect("an end").exit,
        Some(Exit::Signal(9))
    );
    assert_eq!(
        (
            finished.end.as_ref().expect("an end").stdout_bytes,
            finished.end.as_ref().expect("an end").stderr_bytes
        ),
        (10, 2)
    );
    assert_eq!(finished.finished_at(), Some(at(5)));
    assert_eq!(finished.end.as_ref().expect("an end").killed_by, "alice");
    assert_eq!(
        finished.end.as_ref().expect("an end").kill_cause,
        Some(KillCause::User)
    );
    assert_eq!(finished.definition, "name: x\n");
    assert_eq!(
        finished.end.as_ref().expect("an end").usage.cpu_system,
        Duration::from_micros(2500)
    );
    assert_eq!(
        (
            finished.end.as_ref().expect("an end").usage.max_rss_bytes,
            finished.end.as_ref().expect("an end").output_dropped_bytes
        ),
        (4096, 7)
    );
    assert_eq!(history.get_run(RunId(run.0 + 1)).expect("read"), None);
}

fn runs_list_newest_first_in_pages_per_task(subject: &Subject) {
    let history = subject.open();
    let ids: Vec<RunId> = (0..5)
        .map(|i| insert(history.as_ref(), "a", &Trigger::Schedule, i, i))
        .collect();
    insert(history.as_ref(), "b", &Trigger::Schedule, 9, 9);

    let page: Vec<RunId> = history
        .list_runs(&name("a"), None, 2)
        .expect("list")
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(page, [ids[4], ids[3]]);
    let older: Vec<RunId> = history
        .list_runs(&name("a"), Some(ids[3]), 10)
        .expect("list")
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(older, [ids[2], ids[1], ids[0]]);
    assert_eq!(history.count_runs(&name("a")).expect("count"), 5);
    assert_eq!(history.task_names().expect("names"), [name("a"), name("b")]);
}

fn a_task_list_reads_each_tasks_count_and_newest_runs_in_order(subject: &Subject) {
    let history = subject.open();
    let a: Vec<RunId> = (0..5)
        .map(|i| insert(history.as_ref(), "a", &Trigger::Schedule, i, i))
        .collect();
    let b = insert(history.as_ref(), "b", &Trigger::Schedule, 9, 9);
    let ids = |head: &TaskHead| head.recent.iter().map(|run| run.id).collect::<Vec<_>>();

    let heads = history
        .task_heads(&[name("b"), name("none"), name("a")], 3)
        .expect("heads");
    assert_eq!(heads.len(), 3, "one head per task asked, in order");
    assert_eq!((heads[0].runs, ids(&heads[0])), (1, vec![b]));
    assert_eq!((heads[1].runs, ids(&heads[1])), (0, vec![]));
    assert_eq!((heads[2].runs, ids(&heads[2])), (5, vec![a[4], a[3], a[2]]));
    assert!(heads[2].recent.iter().all(|run| run.definition.is_empty()));
    // No recent runs asked still gives the newest one, which the list's status needs.
    let newest = history.task_heads(&[name("a")], 0).expect("heads");
    assert_eq!(ids(&newest[0]), [a[4]]);
    assert_eq!(history.task_heads(&[], 5).expect("none"), []);
}

fn runs_left_running_are_closed_as_interrupted_with_their_groups(subject: &Subject) {
    let history = subject.open();
    let lost = insert(history.as_ref(), "a", &Trigger::Schedule, 0, 0);
    history
        .set_process_groups(&[ProcessGroup {
            run: lost,
            pgid: 4242,
            start_ticks: Some(99),
        }])
        .expect("pgid");
    let done = insert(history.as_ref(), "a", &Trigger::Schedule, 1, 1);
    history
        .finish_run(done, &end(RunStatus::Success, Some(Exit::Code(0))))
        .expect("finish");

    assert_eq!(
        history.close_interrupted(at(60)).expect("close"),
        [Orphan {
            run: lost,
            task: name("a"),
            process_group: Some(4242),
            start_ticks: Some(99)
        }]
    );
    let closed = history.get_run(lost).expect("read").expect("exists");
    assert_eq!(closed.status(), RunStatus::Interrupted);
    assert_eq!(closed.finished_at(), Some(at(60)));
    assert!(!closed.op_error().is_empty());
    assert_eq!(
        history
            .get_run(done)
            .expect("read")
            .expect("exists")
            .status(),
        RunStatus::Success
    );
    assert!(
        history
            .close_interrupted(at(61))
            .expect("close again")
            .is_empty()
    );
}

fn suspension_is_persisted_and_reopened(subject: &Subject) {
    let history = subject.open();
    history.set_suspended(&name("a"), true).expect("suspend");
    history.set_suspended(&name("b"), true).expect("suspend");
    history.set_suspended(&name("b"), false).expect("resume");
    drop(history);
    let reopened = subject.open();
    let states = reopened.suspension_states().expect("read");
    assert_eq!(
        states,
        [(name("a"), true), (name("b"), false)]
            .into_iter()
            .collect()
    );
}

fn run_ids_are_never_reused_after_deletion(subject: &Subject) {
    let history = subject.open();
    let first = insert(history.as_ref(), "a", &Trigger::Schedule, 0, 0);
    history
        .finish_run(first, &end(RunStatus::Success, Some(Exit::Code(0))))
        .expect("finish");
    history.delete_runs(&[(name("a"), first)]).expect("delete");
    let second = insert(history.as_ref(), "a", &Trigger::Schedule, 1, 1);
    assert!(
        second > first,
        "output directories are named by run id, so ids must not repeat"
    );
}

fn the_quota_picks_the_oldest_finished_runs_and_deletion_removes_their_files(subject: &Subject) {
    let history = subject.open();
    let mut runs = Vec::new();
    for i in 0..4 {
        let run = insert(history.as_ref(), "a", &Trigger::Schedule, i, i);
        let mut ended = end(RunStatus::Success, Some(Exit::Code(0)));
        (ended.stdout_bytes, ended.stderr_bytes) = (100, 0);
        history.finish_run(run, &ended).expect("finish");
        std::fs::create_dir_all(output::run_dir(subject.dir(), &name("a"), run))
            .expect("output dir");
        runs.push(run);
    }
    let running = insert(history.as_ref(), "a", &Trigger::Schedule, 9, 9);
    // 400 bytes in all; a 250-byte quota needs the two oldest gone.
    let doomed = history.oldest_over_quota(250).expect("quota");
    assert_eq!(doomed, [(name("a"), runs[0]), (name("a"), runs[1])]);
    history.delete_runs(&doomed).expect("delete");
    output::remove_run_dirs(subject.dir(), &doomed);
    assert_eq!(history.count_runs(&name("a")).expect("count"), 3);
    assert!(!output::run_dir(subject.dir(), &name("a"), runs[0]).exists());
    assert!(output::run_dir(subject.dir(), &name("a"), runs[2]).exists());
    history
        .delete_runs(&[(name("a"), running)])
        .expect("delete");
    assert!(
        history.get_run(running).expect("read").is_some(),
        "a running run is never deleted"
    );
    assert!(history.oldest_over_quota(1000).expect("quota").is_empty());
}

fn summaries_count_runs_and_bytes_and_find_the_last_success(subject: &Subject) {
    let history = subject.open();
    let finish = |run, status, finished: i64| {
        let mut ended = end(status, Some(Exit::Code(0)));
        ended.finished_at = at(finished);
        history.finish_run(run, &ended).expect("finish");
    };
    let first = insert(history.as_ref(), "a", &Trigger::Schedule, 0, 0);
    finish(first, RunStatus::Success, 10);
    let second = insert(history.as_ref(), "a", &Trigger::Schedule, 20, 20);
    finish(second, RunStatus::Success, 30);
    let third = insert(history.as_ref(), "a", &Trigger::Schedule, 40, 40);
    finish(third, RunStatus::Failure, 50);
    let failed = insert(history.as_ref(), "b", &Trigger::Schedule, 0, 0);
    finish(failed, RunStatus::Failure, 5);
    insert(history.as_ref(), "b", &Trigger::Schedule, 9, 9);

    let summaries = history.task_summaries().expect("summaries");
    let expected = [
        TaskSummary {
            task: name("a"),
            runs: 3,
            output_bytes: 15,
            last_success: Some(at(30)),
            last_failure: Some(at(50)),
            last_status: Some(RunStatus::Failure),
        },
        TaskSummary {
            task: name("b"),
            runs: 2,
            output_bytes: 5,
            last_success: None,
            last_failure: Some(at(5)),
            last_status: Some(RunStatus::Failure),
        },
    ];
    assert_eq!(summaries, expected);
}

fn totals_follow_inserts_output_and_deletions(subject: &Subject) {
    let history = subject.open();
    let totals = |history: &dyn Store| -> Vec<(TaskName, u64, u64)> {
        history
            .task_summaries()
            .expect("summaries")
            .into_iter()
            .map(|summary| (summary.task, summary.runs, summary.output_bytes))
            .collect()
    };
    let first = insert(history.as_ref(), "a", &Trigger::Schedule, 0, 0);
    let second = insert(history.as_ref(), "a", &Trigger::Schedule, 1, 1);
    assert_eq!(totals(history.as_ref()), [(name("a"), 2, 0)]);
    history
        .finish_run(first, &end(RunStatus::Success, Some(Exit::Code(0))))
        .expect("finish");
    // What is kept on disk: 10 + 2 bytes written, 7 of them dropped by the cap.
    assert_eq!(totals(history.as_ref()), [(name("a"), 2, 5)]);
    history
        .finish_run(second, &end(RunStatus::Failure, Some(Exit::Code(1))))
        .expect("finish");
    assert_eq!(totals(history.as_ref()), [(name("a"), 2, 10)]);
    assert_eq!(history.count_runs(&name("a")).expect("count"), 2);

    history.delete_runs(&[(name("a"), first)]).expect("delete");
    assert_eq!(totals(history.as_ref()), [(name("a"), 1, 5)]);
    history.delete_runs(&[(name("a"), second)]).expect("delete");
    assert!(
        totals(history.as_ref()).is_empty(),
        "a task without runs drops out"
    );
    assert!(history.task_names().expect("names").is_empty());
    assert_eq!(history.count_runs(&name("a")).expect("count"), 0);
}

fn a_batch_of_runs_and_last_fires_is_written_in_order(subject: &Subject) {
    let history = subject.open();
    let (a, b) = (name("a"), name("b"));
    let batch: Vec<NewRun<'_>> = [&a, &b, &a]
        .into_iter()
        .enumerate()
        .map(|(index, task)| NewRun {
            task,
            trigger: &Trigger::Schedule,
            scheduled_at: at(index as i64),
            started_at: at(index as i64),
            definition: "name: x\n",
            pays_owed: false,
            claim: crate::history::Claim::None,
        })
        .collect();
    let ids = history
        .record_starts(&[(a.clone(), at(1)), (b.clone(), at(2))], &[], &batch)
        .expect("record");
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
    let tasks: Vec<TaskName> = ids
        .iter()
        .map(|id| {
            history
                .get_run(id.expect("claimed"))
                .expect("read")
                .expect("exists")
                .task
        })
        .collect();
    assert_eq!(tasks, [a.clone(), b.clone(), a.clone()]);

    history
        .record_starts(&[(a.clone(), at(3))], &[], &[])
        .expect("a fire that starts no run");
    let fires = history.last_fires().expect("read");
    assert_eq!(fires.get(&a), Some(&at(3)));
    assert_eq!(fires.get(&b), Some(&at(2)));
}

impl dyn Store + '_ {
    /// One run recorded as started, as `record_starts` does for a batch of one.
    pub fn insert_run(&self, run: &NewRun<'_>) -> Result<RunId, HistoryError> {
        let ids = self.record_starts(&[], &[], std::slice::from_ref(run))?;
        ids.first()
            .copied()
            .flatten()
            .ok_or_else(|| HistoryError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
    }
}

fn a_replaced_run_learns_which_run_replaced_it(subject: &Subject) {
    let history = subject.open();
    let old = insert(history.as_ref(), "a", &Trigger::Schedule, 0, 1);
    let replaced = RunEnd {
        kill_cause: Some(KillCause::Replaced),
        killed_by: "a manual run (overlap: replace)".into(),
        ..end(RunStatus::Failure, Some(Exit::Signal(15)))
    };
    history.finish_run(old, &replaced).expect("finish");
    let new = insert(history.as_ref(), "a", &Trigger::Schedule, 2, 2);
    history.set_replaced_by(&[old], new).expect("link");
    let read = history.get_run(old).expect("read").expect("exists");
    let read = read.end.expect("an end");
    assert_eq!(read.kill_cause, Some(KillCause::Replaced));
    assert_eq!(read.replaced_by, Some(new));
}

fn retention_reads_each_tasks_runs_past_the_newest_it_keeps_unread(subject: &Subject) {
    let history = subject.open();
    let runs: Vec<RunId> = (0..5)
        .map(|second| insert(history.as_ref(), "a", &Trigger::Schedule, second, second))
        .collect();
    history
        .finish_run(runs[0], &end(RunStatus::Failure, Some(Exit::Code(1))))
        .expect("finish");
    let other = insert(history.as_ref(), "b", &Trigger::Schedule, 9, 9);
    let read = history
        .run_metas(&[(name("a"), 2), (name("b"), 0), (name("a"), 9)])
        .expect("read");
    let seen: Vec<(String, Vec<(RunId, RunStatus)>)> = read
        .into_iter()
        .map(|(task, metas)| {
            let metas = metas.iter().map(|meta| (meta.id, meta.status)).collect();
            (task.to_string(), metas)
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "a".to_owned(),
                vec![
                    (runs[2], RunStatus::Running),
                    (runs[1], RunStatus::Running),
                    (runs[0], RunStatus::Failure),
                ]
            ),
            ("b".to_owned(), vec![(other, RunStatus::Running)]),
            ("a".to_owned(), vec![]),
        ]
    );
}
