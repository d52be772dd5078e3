//! The statements that write a run's row in the loop's transactions: its start, its end, and
//! its deletion by retention. Each fires a totals trigger, so a statement that may abort has
//! SQLite copy every page it touches into a statement journal first. The end and the deletion
//! cannot abort (migration 12); the start's trigger upserts, which always may, and splitting
//! it cost more than the journal (BENCHMARKS.md).

/// A run's row at its start; its end is written by [`FINISH`].
pub const INSERT: &str = "INSERT INTO runs
    (task, trigger, requested_by, scheduled_at_us, started_at_us, status, definition)
    VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6)";

/// How a run ended. `OR FAIL`: a broken constraint fails the statement without undoing it,
/// which is the same for one row, and the transaction around it is rolled back whole.
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

    /// The opcodes of `sql` (with its triggers' programs) that end the statement with ABORT,
    /// which undoes the statement alone and so needs its statement journal.
    fn aborting_halts(sql: &str) -> Vec<String> {
        let opcodes: Vec<String> = explain_unbound(sql, 1);
        let on_error: Vec<i64> = explain_unbound(sql, 3);
        const OE_ABORT: i64 = 2;
        opcodes
            .into_iter()
            .zip(on_error)
            .filter(|(opcode, on_error)| opcode.starts_with("Halt") && *on_error == OE_ABORT)
            .map(|(opcode, _)| opcode)
            .collect()
    }

    #[test]
    fn a_runs_end_and_deletion_cannot_abort_their_statement() {
        for sql in [super::FINISH, super::DELETE] {
            assert_eq!(aborting_halts(sql), Vec::<String>::new(), "{sql}");
        }
    }

    #[test]
    fn the_control_a_statement_firing_a_trigger_that_may_abort_is_seen() {
        let plain_finish = super::FINISH.replace("UPDATE OR FAIL", "UPDATE");
        assert!(!aborting_halts(&plain_finish).is_empty());
    }
}
