//! The PostgreSQL history schema, as an append-only list of migrations recorded in
//! `schema_version`, one row per version applied.
//!
//! Nodes starting together migrate once: the whole upgrade is one transaction that first takes
//! a transaction-scoped advisory lock, so the others wait and then find nothing to do. A
//! migration, once released, is never edited. What the tables mean to each node (which rows are
//! its own) is for the queries in the files of each concern.

use deadpool_postgres::Object;

use super::worker::JobResult;
use crate::history::HistoryError;

/// The advisory lock key every node migrates under ("speedrac" in ASCII).
const MIGRATION_LOCK: i64 = 0x7370_6565_6472_6163;

/// Each entry takes the schema from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: the runs of every node, as SQLite keeps them plus the node and its claim on the fire;
    // per-node fire bookkeeping; cluster-wide suspension; nodes and stored output for the
    // cluster module and the nodes that show another node's runs.
    r#"CREATE TABLE runs (
        id BIGSERIAL PRIMARY KEY,
        node TEXT NOT NULL,
        claim TEXT,
        task TEXT NOT NULL,
        trigger TEXT NOT NULL,
        requested_by TEXT NOT NULL DEFAULT '',
        scheduled_at_us BIGINT NOT NULL,
        started_at_us BIGINT NOT NULL,
        finished_at_us BIGINT,
        exit_code INTEGER,
        signal INTEGER,
        status TEXT NOT NULL,
        stdout_bytes BIGINT NOT NULL DEFAULT 0,
        stderr_bytes BIGINT NOT NULL DEFAULT 0,
        op_error TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        pgid INTEGER,
        pgid_start_ticks BIGINT,
        killed_by TEXT NOT NULL DEFAULT '',
        definition TEXT NOT NULL DEFAULT '',
        max_rss_bytes BIGINT NOT NULL DEFAULT 0,
        cpu_user_us BIGINT NOT NULL DEFAULT 0,
        cpu_system_us BIGINT NOT NULL DEFAULT 0,
        output_dropped_bytes BIGINT NOT NULL DEFAULT 0,
        notification_error TEXT NOT NULL DEFAULT '',
        kill_cause TEXT NOT NULL DEFAULT '',
        replaced_by BIGINT
    );
    -- Each fire once: once in the cluster (claim ''), or once per node (claim = its name).
    CREATE UNIQUE INDEX runs_one_per_fire ON runs (task, scheduled_at_us, claim)
        WHERE claim IS NOT NULL;
    CREATE INDEX runs_by_task ON runs (task, id DESC);
    CREATE INDEX runs_by_task_start ON runs (task, started_at_us);
    CREATE INDEX runs_running ON runs (node) WHERE status = 'running';
    CREATE INDEX runs_by_node ON runs (node, id);
    CREATE INDEX runs_last_success ON runs (task, finished_at_us) WHERE status = 'success';
    CREATE INDEX runs_last_failure ON runs (task, finished_at_us)
        WHERE status IN ('failure', 'execution_error', 'interrupted');

    -- Runs and kept output bytes per task and node, kept by triggers: listing tasks and the
    -- metrics scrape must not count every run, and each node's quota counts its own disk.
    CREATE TABLE task_totals (
        task TEXT NOT NULL,
        node TEXT NOT NULL,
        runs BIGINT NOT NULL,
        output_bytes BIGINT NOT NULL,
        PRIMARY KEY (task, node)
    );
    CREATE FUNCTION speedrack_count_runs() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO task_totals AS totals (task, node, runs, output_bytes)
                VALUES (NEW.task, NEW.node, 1,
                        NEW.stdout_bytes + NEW.stderr_bytes - NEW.output_dropped_bytes)
                ON CONFLICT (task, node) DO UPDATE
                SET runs = totals.runs + 1,
                    output_bytes = totals.output_bytes + EXCLUDED.output_bytes;
            RETURN NEW;
        ELSIF TG_OP = 'UPDATE' THEN
            UPDATE task_totals
                SET output_bytes = output_bytes
                    - (OLD.stdout_bytes + OLD.stderr_bytes - OLD.output_dropped_bytes)
                    + (NEW.stdout_bytes + NEW.stderr_bytes - NEW.output_dropped_bytes)
                WHERE task = NEW.task AND node = NEW.node;
            RETURN NEW;
        END IF;
        UPDATE task_totals
            SET runs = runs - 1,
                output_bytes = output_bytes
                    - (OLD.stdout_bytes + OLD.stderr_bytes - OLD.output_dropped_bytes)
            WHERE task = OLD.task AND node = OLD.node;
        DELETE FROM task_totals WHERE task = OLD.task AND node = OLD.node AND runs <= 0;
        RETURN OLD;
    END $$;
    CREATE TRIGGER runs_counted AFTER INSERT OR DELETE ON runs
        FOR EACH ROW EXECUTE FUNCTION speedrack_count_runs();
    CREATE TRIGGER runs_output_counted
        AFTER UPDATE OF stdout_bytes, stderr_bytes, output_dropped_bytes ON runs
        FOR EACH ROW EXECUTE FUNCTION speedrack_count_runs();

    CREATE TABLE task_fires (
        node TEXT NOT NULL,
        task TEXT NOT NULL,
        last_fire_us BIGINT NOT NULL,
        PRIMARY KEY (node, task)
    );
    CREATE TABLE owed_fires (
        node TEXT NOT NULL,
        task TEXT NOT NULL,
        due_us BIGINT NOT NULL,
        PRIMARY KEY (node, task, due_us)
    );
    CREATE TABLE task_state (
        task TEXT PRIMARY KEY,
        suspended BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE TABLE nodes (
        name TEXT PRIMARY KEY,
        version TEXT NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        heartbeat_at TIMESTAMPTZ NOT NULL,
        lease_expires_at TIMESTAMPTZ NOT NULL,
        running INTEGER NOT NULL DEFAULT 0,
        tasks_file_hash TEXT NOT NULL DEFAULT '',
        clock_offset_ms BIGINT NOT NULL DEFAULT 0,
        incarnation BIGINT NOT NULL DEFAULT 0
    );
    CREATE TABLE run_output (
        run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        stream TEXT NOT NULL,
        bytes BYTEA NOT NULL,
        PRIMARY KEY (run_id, stream)
    );"#,
    // 2: a node busy by its `busy` settings yields its share of fires to idle nodes.
    r#"ALTER TABLE nodes ADD COLUMN busy BOOLEAN NOT NULL DEFAULT FALSE;"#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Brings the database up to [`SCHEMA_VERSION`] in one transaction, under the migration lock;
/// refuses a database a newer speedrackd has migrated.
pub(super) async fn migrate(mut client: Object, url: &str) -> JobResult<()> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
            version INTEGER PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .await?;
    let current: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
        .await?
        .try_get(0)?;
    let current = usize::try_from(current).unwrap_or(0);
    if current > SCHEMA_VERSION {
        return Err(HistoryError::PgTooNew {
            url: url.to_owned(),
            found: current,
            known: SCHEMA_VERSION,
        }
        .into());
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.batch_execute(sql).await?;
        let version = i32::try_from(version + 1).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&version],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
