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

/// Jobs waiting for the pruner at most (one per run's end: [`GATHER`] of 2 000 ends a
/// second); beyond, a task's prune waits for the hourly sweep.
pub const JOBS: usize = 4096;
/// How long the pruner gathers jobs after the first one: a task that ran several times
/// meanwhile is read once, and the batch is deleted in one write, where a pass per end cost
/// more than a run's start (BENCHMARKS.md). A task may hold a run or two over `max_keep` for
/// this long.
pub const GATHER: std::time::Duration = std::time::Duration::from_secs(2);

/// What to prune.
#[derive(Debug)]
pub enum Job {
    /// One task's runs, after one of them ended, and the global quota.
    Task {
        task: TaskName,
        policy: Policy,
        quota: Option<u64>,
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
        tokio::time::sleep(GATHER).await;
        let mut waiting = vec![first];
        while let Ok(job) = jobs.try_recv() {
            waiting.push(job);
        }
        let batch = coalesce(waiting);
        let reader = Arc::clone(&history);
        let chosen = tokio::task::spawn_blocking(move || choose_all(reader.as_ref(), &batch)).await;
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

/// The runs a batch of jobs prunes: the tasks' runs are read together.
fn choose_all(history: &dyn Store, jobs: &[Job]) -> Result<Vec<(TaskName, RunId)>, HistoryError> {
    let mut doomed = Vec::new();
    let mut tasks = Vec::new();
    let mut over_quota = None;
    for job in jobs {
        match job {
            Job::Task {
                task,
                policy,
                quota,
                now,
            } => {
                tasks.push((task.clone(), *policy, *now));
                over_quota = over_quota.or(*quota);
            }
            Job::Sweep {
                policies,
                defaults,
                quota,
                now,
            } => {
                let names = history.task_names()?;
                tasks.extend(names.into_iter().map(|task| {
                    let policy = *policies.get(&task).unwrap_or(defaults);
                    (task, policy, *now)
                }));
                over_quota = over_quota.or(*quota);
            }
        }
    }
    // Checked with every batch, not only hourly: a chatty task must not fill the disk first.
    if let Some(quota) = over_quota {
        let over = history.oldest_over_quota(quota)?;
        if !over.is_empty() {
            tracing::info!(
                pruned = over.len(),
                quota,
                "pruning the oldest runs to keep history under history_max_bytes"
            );
        }
        doomed.extend(over);
    }
    tasks.retain(|(_, policy, _)| !policy.keeps_everything());
    let asked: Vec<(TaskName, u32)> = tasks
        .iter()
        .map(|(task, policy, _)| (task.clone(), policy.kept_unread()))
        .collect();
    let read = history.run_metas(&asked)?;
    for (((task, policy, now), (_, unread)), (_, metas)) in tasks.iter().zip(&asked).zip(read) {
        let before = doomed.len();
        doomed.extend(
            prunable(*unread, &metas, policy, *now)
                .into_iter()
                .map(|run| (task.clone(), run)),
        );
        if doomed.len() > before {
            tracing::debug!(task = %task, pruned = doomed.len() - before, "pruning history");
        }
    }
    doomed.sort_by_key(|(_, run)| *run);
    doomed.dedup();
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
            quota: None,
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
