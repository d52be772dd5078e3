//! The statements that write a run's row in the loop's transactions: its start, its end, and
//! its deletion by retention. Each fires a totals trigger, so a statement that may abort has
//! SQLite copy every page it touches into a statement journal first. The end (`OR FAIL`, which
//! its trigger follows) and the deletion (its trigger's own `OR FAIL`, migration 12) cannot
//! abort; the start's trigger upserts, which always may, and splitting it cost more than the
//! journal (BENCHMARKS.md).

/// A run's row at its start; its end is written by [`FINISH`].
pub const INSERT: &str = "INSERT INTO runs
    (task, trigger, requested_by, scheduled_at_us, started_at_us, status, definition)
    VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6)";

/// How a run ended. `OR FAIL`: a broken constraint stops the statement without undoing what it
/// did; the store's rollback of the whole transaction does that instead.
pub const FINISH: &str = "UPDATE OR FAIL runs SET finished_at_us = ?1, exit_code = ?2, signal = ?3,
    status = ?4, stdout_bytes = ?5, stderr_bytes = ?6, op_error = ?7, reason = ?8,
    killed_by = ?9, max_rss_bytes = ?10, cpu_user_us = ?11, cpu_system_us = ?12,
    output_dropped_bytes = ?13, kill_cause = ?14
    WHERE id = ?15";

/// Forgets a finished run; a running one is never deleted.
pub const DELETE: &str = "DELETE FROM runs WHERE id = ?1 AND status != 'running'";

#[cfg(test)]
mod tests {
    use super::super::tests_sqlite::explain_unbound;

    /// What the halts of `sql`'s program, its triggers' included, check when they end the
    /// statement with ABORT (which undoes the statement alone, so needs its journal): a column
    /// such as `task_totals.runs` for a NOT NULL check.
    fn aborting_halts(sql: &str) -> Vec<String> {
        const OE_ABORT: i64 = 2;
        let opcodes: Vec<String> = explain_unbound(sql, 1);
        let on_error: Vec<i64> = explain_unbound(sql, 3);
        let checked: Vec<Option<String>> = explain_unbound(sql, 5);
        opcodes
            .into_iter()
            .zip(on_error)
            .zip(checked)
            .filter(|((opcode, on_error), _)| opcode.starts_with("Halt") && *on_error == OE_ABORT)
            .map(|(_, checked)| checked.unwrap_or_default())
            .collect()
    }

    #[test]
    fn a_runs_end_and_deletion_cannot_abort_their_statement() {
        for sql in [super::FINISH, super::DELETE] {
            assert_eq!(aborting_halts(sql), Vec::<String>::new(), "{sql}");
        }
    }

    /// The control: the halts of a trigger's program are seen, here the start's upsert.
    #[test]
    fn a_runs_start_may_abort_in_its_trigger() {
        let checked = aborting_halts(super::INSERT);
        assert!(
            checked.iter().any(|column| column == "task_totals.runs"),
            "{checked:?}"
        );
    }
}
