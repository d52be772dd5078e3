//! At start and at each reload, keeps a task under the key its history was filed under before
//! keys began keeping `-` and `.` (`TaskSet::keep_legacy_keys` decides; this reads which keys
//! history holds runs under, and logs each task so kept). It writes nothing.

use std::collections::HashSet;

use crate::config::TaskSet;
use crate::history::{HistoryError, Store};

/// Files tasks under their legacy keys where history says so, logging each. A key counts as
/// held when it has runs, or a last fire or a suspension on record: a task whose runs were all
/// pruned must not lose its schedule's phase or its suspension by changing key.
pub fn keep_legacy_keys(tasks: &mut TaskSet, history: &dyn Store) -> Result<(), HistoryError> {
    let mut with_history: HashSet<_> = history.task_names()?.into_iter().collect();
    with_history.extend(history.last_fires()?.into_keys());
    with_history.extend(history.suspension_states()?.into_keys());
    for (legacy, new, written) in tasks.keep_legacy_keys(&with_history) {
        tracing::info!(
            task = %written,
            key = %legacy,
            "task kept under the key its history is filed under (new tasks get the key {new})"
        );
    }
    Ok(())
}
