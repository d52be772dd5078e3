//! Retention off the loop. The loop names a task whose run just ended (or, hourly, asks for a
//! sweep); the pruner reads what it needs from history on its own connection, chooses with
//! the pure `retention::prunable`, and hands the rows to delete back to the loop, which owns
//! the one writer. Output directories are removed here, after the rows are gone.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use crate::config::TaskName;
use crate::history::{HistoryError, Store};
use crate::retention::{Policy, prunable};
use crate::run::RunId;

/// Jobs waiting for the pruner at most; beyond, a task's prune waits for the hourly sweep.
pub const JOBS: usize = 1024;

/// What to prune.
#[derive(Debug)]
pub enum Job {
    /// One task's runs, after one of them ended.
    Task {
        task: TaskName,
        policy: Policy,
        now: DateTime<Utc>,
    },
    /// Every task with history (removed ones too, under `defaults`), then the global quota.
    Sweep {
        policies: HashMap<TaskName, Policy>,
        defaults: Policy,
        quota: Option<u64>,
        now: DateTime<Utc>,
    },
}

/// Rows for the loop to delete; it answers once they are gone.
#[derive(Debug)]
pub struct Deletion {
    pub runs: Vec<(TaskName, RunId)>,
    pub done: oneshot::Sender<Result<(), HistoryError>>,
}

/// Serves jobs until the loop drops its sender.
pub async fn serve(
    history: Arc<dyn Store>,
    mut jobs: mpsc::Receiver<Job>,
    deletions: mpsc::Sender<Deletion>,
) {
    while let Some(first) = jobs.recv().await {
        // Runs end in bursts: everything asked meanwhile is one pass, each task once.
        let mut waiting = vec![first];
        while let Ok(job) = jobs.try_recv() {
            waiting.push(job);
        }
        let batch = coalesce(waiting);
        let reader = Arc::clone(&history);
        let chosen = tokio::task::spawn_blocking(move || {
            let mut doomed = Vec::new();
            for job in &batch {
                doomed.extend(choose(reader.as_ref(), job)?);
            }
            Ok::<_, HistoryError>(doomed)
        })
        .await;
        let runs = match chosen {
            Ok(Ok(runs)) => runs,
            Ok(Err(error)) => {
                tracing::error!("cannot read history to prune it: {error}");
                continue;
            }
            Err(error) => {
                tracing::error!("pruning history failed: {error}");
                continue;
            }
        };
        if runs.is_empty() {
            continue;
        }
        let (done, deleted) = oneshot::channel();
        if deletions
            .send(Deletion {
                runs: runs.clone(),
                done,
            })
            .await
            .is_err()
        {
            return;
        }
        match deleted.await {
            Ok(Ok(())) => {
                let data_dir = history.data_dir().to_path_buf();
                let _ = tokio::task::spawn_blocking(move || {
                    crate::history::output::remove_run_dirs(&data_dir, &runs)
                })
                .await;
            }
            Ok(Err(error)) => tracing::error!("cannot prune history: {error}"),
            Err(_) => return,
        }
    }
}

/// Jobs to do for `jobs`: one sweep at most (it covers every task), else each task once, with
/// the newest policy asked for it.
fn coalesce(jobs: Vec<Job>) -> Vec<Job> {
    let mut sweep = None;
    let mut tasks: HashMap<TaskName, Job> = HashMap::new();
    for job in jobs {
        match job {
            Job::Sweep { .. } => sweep = Some(job),
            Job::Task { ref task, .. } => {
                tasks.insert(task.clone(), job);
            }
        }
    }
    match sweep {
        Some(sweep) => vec![sweep],
        None => tasks.into_values().collect(),
    }
}

/// The runs a job prunes.
fn choose(history: &dyn Store, job: &Job) -> Result<Vec<(TaskName, RunId)>, HistoryError> {
    match job {
        Job::Task { task, policy, now } => of_task(history, task, policy, *now),
        Job::Sweep {
            policies,
            defaults,
            quota,
            now,
        } => {
            let mut doomed = Vec::new();
            for task in history.task_names()? {
                let policy = policies.get(&task).unwrap_or(defaults);
                doomed.extend(of_task(history, &task, policy, *now)?);
            }
            if let Some(quota) = quota {
                let over = history.oldest_over_quota(*quota)?;
                if !over.is_empty() {
                    tracing::info!(
                        pruned = over.len(),
                        quota,
                        "pruning the oldest runs to keep history under history_max_bytes"
                    );
                }
                doomed.extend(over);
            }
            doomed.sort_by_key(|(_, run)| *run);
            doomed.dedup();
            Ok(doomed)
        }
    }
}

fn of_task(
    history: &dyn Store,
    task: &TaskName,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<Vec<(TaskName, RunId)>, HistoryError> {
    if policy.keeps_everything() {
        return Ok(Vec::new());
    }
    let doomed: Vec<(TaskName, RunId)> = prunable(&history.run_metas(task)?, policy, now)
        .into_iter()
        .map(|run| (task.clone(), run))
        .collect();
    if !doomed.is_empty() {
        tracing::debug!(task = %task, pruned = doomed.len(), "pruning history");
    }
    Ok(doomed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task_job(name: &str, max_keep: u32) -> Job {
        Job::Task {
            task: TaskName::normalise(name).expect("name"),
            policy: Policy {
                max_keep: Some(max_keep),
                ..Policy::default()
            },
            now: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_burst_prunes_each_task_once_with_its_newest_policy_and_a_sweep_covers_all() {
        let jobs = coalesce(vec![task_job("a", 5), task_job("b", 5), task_job("a", 3)]);
        let mut seen: Vec<(String, Option<u32>)> = jobs
            .iter()
            .map(|job| match job {
                Job::Task { task, policy, .. } => (task.to_string(), policy.max_keep),
                Job::Sweep { .. } => ("sweep".to_owned(), None),
            })
            .collect();
        seen.sort();
        assert_eq!(seen, [("a".to_owned(), Some(3)), ("b".to_owned(), Some(5))]);
        let sweep = Job::Sweep {
            policies: HashMap::new(),
            defaults: Policy::default(),
            quota: None,
            now: DateTime::<Utc>::UNIX_EPOCH,
        };
        let jobs = coalesce(vec![task_job("a", 5), sweep]);
        assert!(matches!(jobs.as_slice(), [Job::Sweep { .. }]));
    }
}
