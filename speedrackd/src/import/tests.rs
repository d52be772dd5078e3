//! The import as a whole, on a generated job tree: batches, skipping what was imported, and
//! continuing after new executions appear (as after an interrupted import).

use std::path::Path;

use super::*;
use crate::history::SqliteStore;
use crate::run::{RunStatus, Trigger};

fn execution(jobs: &Path, task: &str, n: u32, code: &str) {
    let dir = jobs.join(task).join(format!(
        "2013-01-{:02}_{:02}:{:02}:00",
        1 + n / 1440,
        n / 60 % 24,
        n % 60
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("status_code.txt"), code).expect("status");
    std::fs::write(dir.join("std_out.txt"), format!("run {n}\n")).expect("stdout");
}

fn options(jobs: &Path) -> ImportOptions {
    ImportOptions {
        jobs: jobs.to_path_buf(),
        suspended: None,
        time_zone: Tz::UTC,
        fail_by_retcode: true,
        fail_by_stderr: true,
        output_max_bytes: 1000,
    }
}

#[test]
fn imports_in_batches_and_a_second_import_adds_only_what_is_new() {
    let old = tempfile::tempdir().expect("temp dir");
    let data = tempfile::tempdir().expect("temp dir");
    let jobs = old.path().join("jobs");
    for n in 0..300 {
        execution(&jobs, "many", n, "0");
    }
    execution(&jobs, "one", 0, "1");
    let lock = DataDirLock::acquire(data.path()).expect("lock");
    let store = SqliteStore::open(data.path()).expect("store");
    let mut seen = Vec::new();
    let summary = import_history(&lock, &store, &options(&jobs), &mut |progress| {
        seen.push(progress)
    })
    .expect("import");
    assert_eq!(
        (summary.imported(), summary.skipped(), summary.unreadable()),
        (301, 0, 0)
    );
    assert_eq!(
        seen.last(),
        Some(&Progress {
            done: 301,
            total: 301
        })
    );
    assert!(seen.len() >= 2, "progress during the import too: {seen:?}");
    let many = TaskName::normalise("many").expect("name");
    let newest = &store.list_runs(&many, None, 1).expect("runs")[0];
    assert_eq!(newest.trigger, Trigger::Imported);
    assert_eq!(newest.status(), RunStatus::Success);
    assert!(
        !data.path().join(staging::STAGING_DIR).exists(),
        "staging emptied"
    );

    execution(&jobs, "one", 1, "0");
    let again = import_history(&lock, &store, &options(&jobs), &mut |_| {}).expect("again");
    assert_eq!((again.imported(), again.skipped()), (1, 301));
    assert_eq!(store.count_runs(&many).expect("count"), 300);
    let one = TaskName::normalise("one").expect("name");
    let statuses: Vec<RunStatus> = store
        .list_runs(&one, None, 10)
        .expect("runs")
        .iter()
        .map(|run| run.status())
        .collect();
    assert_eq!(statuses, [RunStatus::Success, RunStatus::Failure]);
}

#[test]
fn a_task_the_daemon_has_run_is_held_back_with_the_reason() {
    let old = tempfile::tempdir().expect("temp dir");
    let data = tempfile::tempdir().expect("temp dir");
    let jobs = old.path().join("jobs");
    execution(&jobs, "ran_here", 0, "0");
    execution(&jobs, "fresh", 0, "0");
    let lock = DataDirLock::acquire(data.path()).expect("lock");
    let store = SqliteStore::open(data.path()).expect("store");
    let ran = TaskName::normalise("ran_here").expect("name");
    let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("instant");
    store
        .record_starts(
            &[],
            &[],
            &[crate::history::NewRun {
                task: &ran,
                trigger: &Trigger::Schedule,
                scheduled_at: at,
                started_at: at,
                definition: "",
                pays_owed: false,
                claim: crate::history::Claim::None,
            }],
        )
        .expect("a run of the daemon's own");
    let summary = import_history(&lock, &store, &options(&jobs), &mut |_| {}).expect("import");
    assert_eq!(summary.imported(), 1);
    assert_eq!(summary.tasks["ran_here"].held_back, 1);
    assert!(
        summary
            .to_string()
            .contains(&format!("    1 not imported: {}\n", summary::HELD_BACK))
    );
    assert_eq!(store.count_runs(&ran).expect("count"), 1);
}

#[test]
fn a_missing_job_directory_is_an_error_naming_it() {
    let data = tempfile::tempdir().expect("temp dir");
    let lock = DataDirLock::acquire(data.path()).expect("lock");
    let store = SqliteStore::open(data.path()).expect("store");
    let missing = data.path().join("nope");
    let error = import_history(&lock, &store, &options(&missing), &mut |_| {})
        .expect_err("no such directory");
    assert_eq!(
        error.to_string(),
        format!(
            "cannot read the job directory {}: no such file or directory (give Speedrack 0.6.1's JOB_ROOT_DIR with --jobs)",
            missing.display()
        )
    );
}
