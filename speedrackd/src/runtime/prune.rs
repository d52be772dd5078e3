//! The loop's side of retention: which policy applies to a task, asking the pruner
//! (`pruner.rs`) after a run ends and every hour, and deleting the rows it chose, because
//! the loop owns the one writer. The hourly sweep also checkpoints SQLite's write-ahead log.

use std::collections::HashMap;

use super::Runtime;
use super::pruner::{Deletion, Job};
use crate::config::TaskName;
use crate::retention::Policy;

impl Runtime {
    fn policy(&self, task: &TaskName) -> Policy {
        let def = self.def(task);
        Policy {
            max_keep: def.and_then(|def| def.max_keep).or(self.settings.max_keep),
            retain_failures: def.and_then(|def| def.retain_failures),
            max_age: self.settings.history_max_age,
        }
    }

    /// Asks the pruner to apply a task's retention and the global quota; a full queue leaves
    /// it to the hourly sweep.
    pub(super) fn request_prune(&mut self, task: &TaskName) {
        let policy = self.policy(task);
        let quota = self.settings.history_max_bytes;
        if policy.keeps_everything() && quota.is_none() {
            return;
        }
        let job = Job::Task {
            task: task.clone(),
            policy,
            quota,
            now: self.clock.now(),
        };
        if self.prune_jobs.try_send(job).is_err() {
            tracing::debug!(task = %task, "the pruner is busy; the hourly sweep prunes this task");
        }
    }

    /// The hourly sweep: every task with history (removed ones too), the global quota, the WAL.
    pub(super) fn sweep(&mut self) {
        let policies: HashMap<TaskName, Policy> = self
            .tasks
            .valid()
            .map(|def| (def.name.clone(), self.policy(&def.name)))
            .collect();
        let job = Job::Sweep {
            policies,
            defaults: Policy {
                max_keep: self.settings.max_keep,
                retain_failures: None,
                max_age: self.settings.history_max_age,
            },
            quota: self.settings.history_max_bytes,
            now: self.clock.now(),
        };
        if self.prune_jobs.try_send(job).is_err() {
            tracing::warn!("the pruner is busy; the next hourly sweep prunes history");
        }
        if let Err(error) = self.history.checkpoint() {
            tracing::warn!("cannot checkpoint the history database: {error}");
        }
    }

    /// Deletes the rows the pruner chose.
    pub(super) fn delete(&mut self, deletion: Deletion) {
        let result = self.history.delete_runs(&deletion.runs);
        // The pruner gone means shutdown; nothing waits for the answer then.
        let _ = deletion.done.send(result);
    }
}
