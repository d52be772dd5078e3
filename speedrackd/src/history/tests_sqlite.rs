//! What only the SQLite backend promises, beyond the `Store` tests every backend passes.

use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::Connection;

use super::*;

/// What SQLite says of `sql` on a fresh database of the current schema, asked with `how`
/// (`EXPLAIN`: one row per opcode, its name in column 1; `EXPLAIN QUERY PLAN`: one row per
/// step, said in column 3): that column of every row.
pub(super) fn explain<T: rusqlite::types::FromSql>(
    how: &str,
    sql: &str,
    params: impl rusqlite::Params,
    column: usize,
) -> Vec<T> {
    migrated()
        .prepare(&format!("{how} {sql}"))
        .expect("explain")
        .query_map(params, |row| row.get(column))
        .expect("explained")
        .collect::<Result<_, _>>()
        .expect("explained rows")
}

/// As [`explain`] with `EXPLAIN`, every parameter of `sql` left NULL: the program of a
/// statement the store prepares as it is.
pub(super) fn explain_unbound<T: rusqlite::types::FromSql>(sql: &str, column: usize) -> Vec<T> {
    let count = migrated().prepare(sql).expect("prepare").parameter_count();
    let nulls = rusqlite::params_from_iter(std::iter::repeat_n(rusqlite::types::Null, count));
    explain("EXPLAIN", sql, nulls, column)
}

/// A fresh in-memory database of the current schema.
fn migrated() -> Connection {
    let mut conn = Connection::open_in_memory().expect("in-memory database");
    super::migrations::migrate(&mut conn).expect("migrate");
    conn
}

/// Set by the writer's busy handler: someone made the writer wait.
static WAITED: AtomicBool = AtomicBool::new(false);

fn note_wait(_attempt: i32) -> bool {
    WAITED.store(true, Ordering::SeqCst);
    false
}

/// The housekeeping checkpoint runs on the writer's connection, which the runtime loop needs
/// for every fire: it copies what it can and never waits for a reader still on an older
/// snapshot. A FULL checkpoint, in the same spot, does wait (the control half of the test).
#[test]
fn the_checkpoint_never_waits_for_readers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path()).expect("open");
    let task = TaskName::normalise("t").expect("name");
    let run = |second| NewRun {
        task: &task,
        trigger: &Trigger::Schedule,
        scheduled_at: DateTime::from_timestamp(second, 0).expect("instant"),
        started_at: DateTime::from_timestamp(second, 0).expect("instant"),
        definition: "name: t\n",
        pays_owed: false,
        claim: crate::history::Claim::None,
    };
    store.record_starts(&[], &[], &[run(1)]).expect("write");
    let mut reader = Connection::open(dir.path().join(DATABASE_FILE)).expect("reader");
    let snapshot = reader.transaction().expect("read transaction");
    let _: i64 = snapshot
        .query_row("SELECT count(*) FROM runs", [], |row| row.get(0))
        .expect("read");
    store
        .record_starts(&[], &[], &[run(2)])
        .expect("a newer commit");

    WAITED.store(false, Ordering::SeqCst);
    store.conn().busy_handler(Some(note_wait)).expect("handler");
    store.checkpoint().expect("a checkpoint copies what it can");
    assert!(!WAITED.load(Ordering::SeqCst), "the checkpoint waited");

    let _ = store
        .conn()
        .query_row("PRAGMA wal_checkpoint(FULL)", [], |_| Ok(()));
    assert!(
        WAITED.load(Ordering::SeqCst),
        "a FULL checkpoint would have waited: the reader did hold the snapshot"
    );
    drop(snapshot);
}

/// The database holds every task's definition, `env` values included: a data dir made by
/// hand with mode 0755, or a file an earlier version left 0644, must not show it to others.
#[test]
fn the_database_and_its_logs_are_the_owners_alone_whatever_the_dir_and_umask() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| {
        std::fs::metadata(path)
            .expect("the file exists")
            .permissions()
            .mode()
            & 0o777
    };
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = dir.path().join(DATABASE_FILE);
    std::fs::write(&path, b"").expect("an empty database file, as an older version made it");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");

    let store = SqliteStore::open(dir.path()).expect("open");
    let task = TaskName::normalise("t").expect("name");
    let at = DateTime::from_timestamp(1, 0).expect("instant");
    let run = NewRun {
        task: &task,
        trigger: &Trigger::Schedule,
        scheduled_at: at,
        started_at: at,
        definition: "name: t\nenv: {TOKEN: hunter2}\n",
        pays_owed: false,
        claim: crate::history::Claim::None,
    };
    store.record_starts(&[], &[], &[run]).expect("write");
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.path().join(format!("{DATABASE_FILE}{suffix}"));
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}
