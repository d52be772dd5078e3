//! Keeping history bounded: pruning after each run and in the hourly sweep, which also
//! checkpoints SQLite's write-ahead log.

use super::Runtime;
use crate::config::TaskName;
use crate::retention::{Policy, prunable};

impl Runtime {
    fn policy(&self, task: &TaskName) -> Policy {
        let def = self.def(task);
        Policy {
            max_keep: def.and_then(|def| def.max_keep).or(self.settings.max_keep),
            retain_failures: def.and_then(|def| def.retain_failures),
            max_age: self.settings.history_max_age,
        }
    }

    /// Applies a task's retention to its history.
    pub(super) fn prune(&mut self, task: &TaskName) {
        let policy = self.policy(task);
        if policy.keeps_everything() {
            return;
        }
        let result = self.history.run_metas(task).and_then(|metas| {
            let doomed: Vec<(TaskName, crate::run::RunId)> =
                prunable(&metas, &policy, self.clock.now())
                    .into_iter()
                    .map(|run| (task.clone(), run))
                    .collect();
            if !doomed.is_empty() {
                tracing::debug!(task = %task, pruned = doomed.len(), "pruned history");
            }
            self.history.delete_runs(&doomed)
        });
        if let Err(error) = result {
            tracing::error!(task = %task, "cannot prune history: {error}");
        }
    }

    /// The hourly sweep: every task with history (removed ones too), the global quota, the WAL.
    pub(super) fn housekeeping(&mut self) {
        match self.history.task_names() {
            Ok(tasks) => {
                for task in tasks {
                    self.prune(&task);
                }
            }
            Err(error) => tracing::error!("cannot list tasks for the history sweep: {error}"),
        }
        if let Some(quota) = self.settings.history_max_bytes {
            let result = self.history.oldest_over_quota(quota).and_then(|doomed| {
                if !doomed.is_empty() {
                    tracing::info!(
                        pruned = doomed.len(),
                        quota,
                        "pruned the oldest runs to keep history under history_max_bytes"
                    );
                }
                self.history.delete_runs(&doomed)
            });
            if let Err(error) = result {
                tracing::error!("cannot prune history to its quota: {error}");
            }
        }
        if let Err(error) = self.history.checkpoint() {
            tracing::warn!("cannot checkpoint the history database: {error}");
        }
    }
}
