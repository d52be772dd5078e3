//! The history schema, as an append-only list of migrations tracked by `PRAGMA user_version`.
//!
//! A migration, once released, is never edited: the schema only moves forward by adding one.

use rusqlite::Connection;

/// Each entry takes the schema from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: runs and per-task state.
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        task TEXT NOT NULL,
        trigger TEXT NOT NULL,
        requested_by TEXT NOT NULL DEFAULT '',
        scheduled_at_us INTEGER NOT NULL,
        started_at_us INTEGER NOT NULL,
        finished_at_us INTEGER,
        exit_code INTEGER,
        signal INTEGER,
        status TEXT NOT NULL,
        stdout_bytes INTEGER NOT NULL DEFAULT 0,
        stderr_bytes INTEGER NOT NULL DEFAULT 0,
        op_error TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        pgid INTEGER
    );
    CREATE INDEX runs_by_task ON runs (task, id DESC);
    CREATE INDEX runs_running ON runs (status) WHERE status = 'running';
    CREATE TABLE task_state (
        task TEXT PRIMARY KEY,
        suspended INTEGER NOT NULL DEFAULT 0
    );",
    // 2: what a run executed and used, who ended it, and per-task fire bookkeeping.
    "ALTER TABLE runs ADD COLUMN killed_by TEXT NOT NULL DEFAULT '';
    ALTER TABLE runs ADD COLUMN definition TEXT NOT NULL DEFAULT '';
    ALTER TABLE runs ADD COLUMN max_rss_bytes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN cpu_user_us INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN cpu_system_us INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN output_dropped_bytes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN pgid_start_ticks INTEGER;
    CREATE INDEX runs_by_start ON runs (started_at_us);
    CREATE TABLE task_fires (
        task TEXT PRIMARY KEY,
        last_fire_us INTEGER NOT NULL
    );",
    // 3: why notifying about a run failed.
    "ALTER TABLE runs ADD COLUMN notification_error TEXT NOT NULL DEFAULT '';",
    // 4: per-task totals kept by triggers, so listing tasks and scraping metrics do not scan
    // every run (2 s per scrape over a million runs before), and the last success by index.
    "CREATE TABLE task_totals (
        task TEXT PRIMARY KEY,
        runs INTEGER NOT NULL,
        output_bytes INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO task_totals (task, runs, output_bytes)
        SELECT task, COUNT(*), COALESCE(SUM(stdout_bytes + stderr_bytes), 0) FROM runs GROUP BY task;
    CREATE TRIGGER runs_total_insert AFTER INSERT ON runs BEGIN
        INSERT INTO task_totals (task, runs, output_bytes)
            VALUES (NEW.task, 1, NEW.stdout_bytes + NEW.stderr_bytes)
            ON CONFLICT (task) DO UPDATE
            SET runs = runs + 1, output_bytes = output_bytes + excluded.output_bytes;
    END;
    CREATE TRIGGER runs_total_output AFTER UPDATE OF stdout_bytes, stderr_bytes ON runs BEGIN
        UPDATE task_totals
            SET output_bytes = output_bytes - OLD.stdout_bytes - OLD.stderr_bytes
                + NEW.stdout_bytes + NEW.stderr_bytes
            WHERE task = NEW.task;
    END;
    CREATE TRIGGER runs_total_delete AFTER DELETE ON runs BEGIN
        UPDATE task_totals
            SET runs = runs - 1, output_bytes = output_bytes - OLD.stdout_bytes - OLD.stderr_bytes
            WHERE task = OLD.task;
        DELETE FROM task_totals WHERE task = OLD.task AND runs <= 0;
    END;
    CREATE INDEX runs_last_success ON runs (task, finished_at_us) WHERE status = 'success';",
    // 5: fires passed but not started yet (catch-up, queued), so a crash neither loses nor
    // repeats them.
    "CREATE TABLE owed_fires (
        task TEXT NOT NULL,
        due_us INTEGER NOT NULL,
        PRIMARY KEY (task, due_us)
    ) WITHOUT ROWID;",
    // 6: runs imported from Speedrack 0.6.1, by where they came from, so that an import never
    // adds one twice (even once retention deleted the run), and the output directories a crash
    // left staged, to move into place when the import resumes.
    "CREATE TABLE imported_runs (
        source TEXT PRIMARY KEY,
        run_id INTEGER NOT NULL,
        staged TEXT
    ) WITHOUT ROWID;
    CREATE INDEX imported_runs_staged ON imported_runs (run_id) WHERE staged IS NOT NULL;",
    // 7: each task's last failure, for the metrics scrape, without reading all its runs.
    "CREATE INDEX runs_last_failure ON runs (task, finished_at_us)
        WHERE status IN ('failure', 'execution_error', 'interrupted');",
    // 8: the totals count the output bytes kept on disk, not the bytes written: a run that
    // printed a gigabyte keeps its head and tail only, and must not weigh a gigabyte against
    // history_max_bytes.
    "DROP TRIGGER runs_total_insert;
    DROP TRIGGER runs_total_output;
    DROP TRIGGER runs_total_delete;
    CREATE TRIGGER runs_total_insert AFTER INSERT ON runs BEGIN
        INSERT INTO task_totals (task, runs, output_bytes)
            VALUES (NEW.task, 1, NEW.stdout_bytes + NEW.stderr_bytes - NEW.output_dropped_bytes)
            ON CONFLICT (task) DO UPDATE
            SET runs = runs + 1, output_bytes = output_bytes + excluded.output_bytes;
    END;
    CREATE TRIGGER runs_total_output
        AFTER UPDATE OF stdout_bytes, stderr_bytes, output_dropped_bytes ON runs BEGIN
        UPDATE task_totals
            SET output_bytes = output_bytes
                - (OLD.stdout_bytes + OLD.stderr_bytes - OLD.output_dropped_bytes)
                + (NEW.stdout_bytes + NEW.stderr_bytes - NEW.output_dropped_bytes)
            WHERE task = NEW.task;
    END;
    CREATE TRIGGER runs_total_delete AFTER DELETE ON runs BEGIN
        UPDATE task_totals
            SET runs = runs - 1,
                output_bytes = output_bytes
                    - (OLD.stdout_bytes + OLD.stderr_bytes - OLD.output_dropped_bytes)
            WHERE task = OLD.task;
        DELETE FROM task_totals WHERE task = OLD.task AND runs <= 0;
    END;
    UPDATE task_totals SET output_bytes = (
        SELECT COALESCE(SUM(stdout_bytes + stderr_bytes - output_dropped_bytes), 0)
        FROM runs WHERE runs.task = task_totals.task
    );",
    // 9: why a run was ended early (killed_by says who, in words, which a user's name could
    // imitate), and which run replaced it; runs killed before are classified by those words.
    "ALTER TABLE runs ADD COLUMN kill_cause TEXT NOT NULL DEFAULT '';
    ALTER TABLE runs ADD COLUMN replaced_by INTEGER;
    UPDATE runs SET kill_cause = CASE
        WHEN killed_by = 'shutdown' THEN 'shutdown'
        WHEN killed_by LIKE 'timeout after %' THEN 'timeout'
        WHEN killed_by LIKE '% (overlap: replace%' THEN 'replaced'
        ELSE 'user'
    END WHERE killed_by != '';",
    // 10: a task's runs by start time, for the history page's time filter and the runs per day
    // of the task page (8 weeks of a million-run task: 0.6 s without it, 0.05 s with it).
    "CREATE INDEX runs_by_task_start ON runs (task, started_at_us);",
    // 11: the failure index's condition without `IN`: SQLite tests a list of three or more
    // against a temporary table it builds and drops each time, so every insert, end and
    // delete of a run paid for one or two (a quarter of the store's time per run). A query uses the
    // index only when its condition is written the same way (`summary.rs`).
    "DROP INDEX runs_last_failure;
    CREATE INDEX runs_last_failure ON runs (task, finished_at_us)
        WHERE status = 'failure' OR status = 'execution_error' OR status = 'interrupted';",
    // 12: less to write per run. `runs_by_start` served no query once every read by start time
    // named its task (`runs_by_task_start`). The totals trigger of a run's deletion fails
    // rather than aborts: a statement that fires a trigger and may abort makes SQLite copy every
    // page it touches into a statement journal first, to undo that statement alone. The store
    // runs every write in a transaction it rolls back whole on any error, so the copy bought
    // nothing (`history::run_writes`; a run's end says `OR FAIL` itself, which its trigger
    // follows).
    "DROP INDEX runs_by_start;
    DROP TRIGGER runs_total_delete;
    CREATE TRIGGER runs_total_delete AFTER DELETE ON runs BEGIN
        UPDATE OR FAIL task_totals
            SET runs = runs - 1,
                output_bytes = output_bytes
                    - (OLD.stdout_bytes + OLD.stderr_bytes - OLD.output_dropped_bytes)
            WHERE task = OLD.task;
        DELETE FROM task_totals WHERE task = OLD.task AND runs <= 0;
    END;",
    // 13: a run's end leaves the totals alone when its kept output weighs what its row said
    // (nothing, for the many runs that print nothing): the update of the task's totals row was
    // about a third of what writing the end cost.
    "DROP TRIGGER runs_total_output;
    CREATE TRIGGER runs_total_output
        AFTER UPDATE OF stdout_bytes, stderr_bytes, output_dropped_bytes ON runs
        WHEN OLD.stdout_bytes + OLD.stderr_bytes - OLD.output_dropped_bytes
            != NEW.stdout_bytes + NEW.stderr_bytes - NEW.output_dropped_bytes
        BEGIN
        UPDATE task_totals
            SET output_bytes = output_bytes
                - (OLD.stdout_bytes + OLD.stderr_bytes - OLD.output_dropped_bytes)
                + (NEW.stdout_bytes + NEW.stderr_bytes - NEW.output_dropped_bytes)
            WHERE task = NEW.task;
    END;",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Brings the database up to [`SCHEMA_VERSION`], one transaction per migration.
pub fn migrate(conn: &mut Connection) -> Result<(), MigrateError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let current = usize::try_from(current).unwrap_or(usize::MAX);
    if current > SCHEMA_VERSION {
        return Err(MigrateError::TooNew {
            found: current,
            known: SCHEMA_VERSION,
        });
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(version + 1).unwrap_or(i64::MAX),
        )?;
        tx.commit()?;
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "the history database has schema version {found}, newer than this speedrackd knows ({known}); run a newer speedrackd or use another data dir"
    )]
    TooNew { found: usize, known: usize },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_an_empty_database_and_is_idempotent() {
        let mut conn = Connection::open_in_memory().expect("in-memory database");
        migrate(&mut conn).expect("first migration");
        migrate(&mut conn).expect("second call changes nothing");
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .expect("version");
        assert_eq!(version, SCHEMA_VERSION as i64);
    }

    #[test]
    fn a_database_of_the_first_schema_is_upgraded_with_its_rows() {
        let mut conn = Connection::open_in_memory().expect("in-memory database");
        conn.execute_batch(MIGRATIONS[0]).expect("schema 1");
        conn.pragma_update(None, "user_version", 1)
            .expect("version 1");
        conn.execute(
            "INSERT INTO runs (task, trigger, scheduled_at_us, started_at_us, status) VALUES ('a', 'schedule', 1, 2, 'success')",
            [],
        )
        .expect("a row of schema 1");
        migrate(&mut conn).expect("upgrade");
        let (killed_by, rss): (String, i64) = conn
            .query_row(
                "SELECT killed_by, max_rss_bytes FROM runs WHERE task = 'a'",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .expect("the old row reads with the new columns");
        assert_eq!((killed_by.as_str(), rss), ("", 0));
        let totals: (i64, i64) = conn
            .query_row(
                "SELECT runs, output_bytes FROM task_totals WHERE task = 'a'",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .expect("the old row is counted in the totals");
        assert_eq!(totals, (1, 0));
    }

    #[test]
    fn runs_killed_before_the_cause_was_kept_are_classified_by_their_words() {
        let mut conn = Connection::open_in_memory().expect("in-memory database");
        for (version, sql) in MIGRATIONS.iter().enumerate().take(8) {
            conn.execute_batch(sql).expect("an earlier schema");
            conn.pragma_update(None, "user_version", version as i64 + 1)
                .expect("version");
        }
        let killers = [
            ("", ""),
            ("alice", "user"),
            ("ann (via speedrack)", "user"),
            ("timeout after 30s", "timeout"),
            ("shutdown", "shutdown"),
            ("a newer fire (overlap: replace, due 14:05:00)", "replaced"),
            ("a manual run (overlap: replace)", "replaced"),
        ];
        for (killed_by, _) in killers {
            conn.execute(
                "INSERT INTO runs (task, trigger, scheduled_at_us, started_at_us, status, killed_by)
                 VALUES ('a', 'schedule', 1, 2, 'failure', ?1)",
                [killed_by],
            )
            .expect("a row of schema 8");
        }
        migrate(&mut conn).expect("upgrade");
        let mut stmt = conn
            .prepare("SELECT killed_by, kill_cause, replaced_by FROM runs ORDER BY id")
            .expect("select");
        let rows: Vec<(String, String, Option<i64>)> = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        for ((killed_by, cause, replaced_by), (expected_by, expected_cause)) in
            rows.iter().zip(killers)
        {
            assert_eq!(killed_by, expected_by);
            assert_eq!(cause, expected_cause, "{killed_by}");
            assert_eq!(*replaced_by, None);
        }
    }

    #[test]
    fn writing_a_run_builds_no_temporary_table() {
        // What the loop writes in a run's life, each touching every index on its status.
        use super::super::run_writes::{DELETE, FINISH, INSERT};
        for sql in [INSERT, FINISH, DELETE] {
            let opcodes: Vec<String> = super::super::tests_sqlite::explain_unbound(sql, 1);
            assert!(
                !opcodes.iter().any(|opcode| opcode == "OpenEphemeral"),
                "{sql}: {opcodes:?}"
            );
        }
    }

    #[test]
    fn a_runs_end_touches_its_tasks_totals_only_when_its_output_weighs_something() {
        let mut conn = Connection::open_in_memory().expect("in-memory database");
        migrate(&mut conn).expect("schema");
        conn.execute(
            "INSERT INTO runs (task, trigger, scheduled_at_us, started_at_us, status)
             VALUES ('a', 'schedule', 1, 2, 'running'), ('a', 'schedule', 1, 2, 'running')",
            [],
        )
        .expect("two runs");
        let end = |conn: &Connection, id: i64, stdout_bytes: i64| {
            let before = conn.total_changes();
            conn.execute(
                super::super::run_writes::FINISH,
                rusqlite::params![
                    3,
                    0,
                    None::<i32>,
                    "success",
                    stdout_bytes,
                    0,
                    "",
                    "",
                    "",
                    0,
                    0,
                    0,
                    0,
                    "",
                    id
                ],
            )
            .expect("the end");
            conn.total_changes() - before
        };
        assert_eq!(end(&conn, 1, 0), 1, "the run's row alone");
        assert_eq!(end(&conn, 2, 7), 2, "the run's row and its task's totals");
        let totals: (i64, i64) = conn
            .query_row(
                "SELECT runs, output_bytes FROM task_totals WHERE task = 'a'",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .expect("totals");
        assert_eq!(totals, (2, 7));
    }

    #[test]
    fn refuses_a_database_from_the_future() {
        let mut conn = Connection::open_in_memory().expect("in-memory database");
        conn.pragma_update(None, "user_version", SCHEMA_VERSION as i64 + 1)
            .expect("set version");
        assert!(matches!(
            migrate(&mut conn),
            Err(MigrateError::TooNew { .. })
        ));
    }
}
