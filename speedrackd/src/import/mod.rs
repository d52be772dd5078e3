//! `speedrackd import-history`: Speedrack 0.6.1's job tree and suspended tasks into a stopped
//! daemon's data dir. Each execution directory becomes a finished run with trigger `imported`,
//! its status by 0.6.1's rules (`status.rs`), its output copied under the output cap
//! (`staging.rs`), its `op_params.txt` kept as the run's definition (`params.rs`), recorded in
//! batches of one transaction through `history::Store::import_runs`, each under its source
//! (`TASK_DIR/STAMP`) so that importing again adds nothing and an interrupted import continues
//! where it stopped. 0.6.1's suspended tasks start suspended here, unless a state is already set.
//!
//! It neither reads the tasks file nor applies retention: the daemon prunes imported runs by
//! its tasks' `max_keep` like any others, at its next sweep. Printing is the caller's (a
//! progress callback and the returned `Summary`).

mod params;
mod scan;
mod sources;
mod staging;
mod stamp;
mod status;
mod summary;
mod suspended;
mod trust;

use std::path::{Path, PathBuf};

use chrono_tz::Tz;

use crate::config::TaskName;
use crate::data_dir_lock::DataDirLock;
use crate::history::{HistoryError, ImportedRun, Store};
use crate::run::{RunEnd, Trigger};
use scan::{Execution, list_dirs, read_execution};
pub use sources::{Sources, resolve_sources};
pub use summary::{Summary, SuspendedOutcome, TaskOutcome};

/// Runs recorded per transaction: a crash loses at most one batch's work, and a commit per run
/// would be most of the cost.
const BATCH: usize = 256;

/// What to import, and the settings that judge it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOptions {
    /// 0.6.1's `JOB_ROOT_DIR`.
    pub jobs: PathBuf,
    /// 0.6.1's `SUSPENDED_FILE`, when there is one to import.
    pub suspended: Option<PathBuf>,
    /// The zone 0.6.1's local start times were written in.
    pub time_zone: Tz,
    /// The settings' rules, for executions whose parameters set none.
    pub fail_by_retcode: bool,
    pub fail_by_stderr: bool,
    /// Output kept per stream (`output_max_bytes`; 0 keeps all).
    pub output_max_bytes: u64,
}

/// How far an import is: executions looked at, of all found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "no job directory to import: give Speedrack 0.6.1's JOB_ROOT_DIR with --jobs (by default SPEEDRACK_DIR/jobs)"
    )]
    NoJobs,
    #[error("cannot read the job directory {}: {} (give Speedrack 0.6.1's JOB_ROOT_DIR with --jobs)", path.display(), scan::describe(source))]
    Jobs {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}; nothing more was imported, run the import again once it is fixed")]
    Suspended(String),
    #[error("refusing to import: {0}")]
    Untrusted(String),
    #[error("{0}; the import stopped here and continues where it stopped when run again")]
    Staging(String),
    #[error("{0}; the import stopped here and continues where it stopped when run again")]
    History(#[from] HistoryError),
}

/// Imports into `store`'s data dir, which `_lock` proves no daemon uses. `progress` hears how
/// far it is after each batch.
pub fn import_history(
    _lock: &DataDirLock,
    store: &dyn Store,
    options: &ImportOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Summary, ImportError> {
    let mut summary = Summary {
        jobs: options.jobs.clone(),
        resumed: store.settle_imports()?,
        ..Summary::default()
    };
    let euid = rustix::process::geteuid().as_raw();
    trust::check_sources(&options.jobs, options.suspended.as_deref(), euid)
        .map_err(ImportError::Untrusted)?;
    staging::reset(store.data_dir()).map_err(ImportError::Staging)?;
    if let Some(file) = &options.suspended {
        summary.suspended = Some(import_suspended(store, file)?);
    }
    let (tasks, total) = list_tasks(&options.jobs, &mut summary)?;
    let mut importer = Importer {
        store,
        options,
        batch: Vec::new(),
        batch_dirs: Vec::new(),
        staged: 0,
        progress: Progress { done: 0, total },
        summary,
    };
    for (dir, task, executions) in &tasks {
        importer.task(dir, task, executions, progress)?;
    }
    importer.flush()?;
    progress(importer.progress);
    staging::reset(store.data_dir()).map_err(ImportError::Staging)?;
    Ok(importer.summary)
}

/// Suspends here the tasks 0.6.1 had suspended, unless a state is already recorded for them.
fn import_suspended(store: &dyn Store, file: &Path) -> Result<SuspendedOutcome, ImportError> {
    let list = suspended::read_suspended(file).map_err(ImportError::Suspended)?;
    let states = store.suspension_states()?;
    let mut outcome = SuspendedOutcome {
        file: file.to_path_buf(),
        unreadable: list.unreadable,
        ..SuspendedOutcome::default()
    };
    for task in list.tasks {
        if states.contains_key(&task) {
            outcome.kept.push(task);
        } else {
            store.set_suspended(&task, true)?;
            outcome.suspended.push(task);
        }
    }
    Ok(outcome)
}

/// A task directory, its task key and its execution directories' names, in order.
type TaskDir = (String, TaskName, Vec<String>);

/// Every task directory with its executions, and how many executions there are in all; what is
/// not a task directory (or not readable) goes into the summary.
fn list_tasks(jobs: &Path, summary: &mut Summary) -> Result<(Vec<TaskDir>, u64), ImportError> {
    let failed = |source| ImportError::Jobs {
        path: jobs.to_path_buf(),
        source,
    };
    let (dirs, others) = list_dirs(jobs).map_err(failed)?;
    summary.unreadable = others;
    let mut tasks = Vec::new();
    let mut total = 0;
    let mut keys: std::collections::HashMap<TaskName, String> = std::collections::HashMap::new();
    for dir in dirs {
        let Some(task) = TaskName::normalise(&dir) else {
            summary
                .unreadable
                .push((dir, "its name leaves no task key".to_owned()));
            continue;
        };
        // Two directories that 0.6.1 kept apart must not be merged into one task's history.
        if let Some(first) = keys.get(&task) {
            let why = format!("its task key {task} is also {first:?}'s: rename one of them");
            summary.unreadable.push((dir, why));
            continue;
        }
        keys.insert(task.clone(), dir.clone());
        let (executions, others) = match list_dirs(&jobs.join(&dir)) {
            Ok(listed) => listed,
            Err(error) => {
                let why = format!("cannot read it: {}", scan::describe(&error));
                summary.unreadable.push((dir, why));
                continue;
            }
        };
        total += executions.len() as u64;
        let mut outcome = TaskOutcome::new(task.clone());
        outcome.unreadable = others;
        summary.tasks.insert(dir.clone(), outcome);
        tasks.push((dir, task, executions));
    }
    Ok((tasks, total))
}

/// The import in progress: the batch being gathered and what was done so far.
struct Importer<'a> {
    store: &'a dyn Store,
    options: &'a ImportOptions,
    batch: Vec<ImportedRun>,
    /// The task directory of each run in `batch`, to count it there once recorded.
    batch_dirs: Vec<String>,
    /// Staging directories used so far (their names).
    staged: u64,
    progress: Progress,
    summary: Summary,
}

impl Importer<'_> {
    fn task(
        &mut self,
        dir: &str,
        task: &TaskName,
        executions: &[String],
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), ImportError> {
        let done = self.store.imported_sources(dir)?;
        let held_back = self.has_run_here(task)?;
        let path = self.options.jobs.join(dir);
        for (index, name) in executions.iter().enumerate() {
            let source = format!("{dir}/{name}");
            if done.contains(&source) {
                self.outcome(dir, task).skipped += 1;
            } else if held_back {
                self.outcome(dir, task).held_back += 1;
            } else {
                let later = &executions[index + 1..];
                match read_execution(&path.join(name), name, later, self.options.time_zone) {
                    Ok(execution) => {
                        let run = self.run(source, task, execution)?;
                        self.batch.push(run);
                        self.batch_dirs.push(dir.to_owned());
                    }
                    Err(why) => self.outcome(dir, task).unreadable.push((name.clone(), why)),
                }
            }
            self.progress.done += 1;
            if self.batch.len() >= BATCH {
                self.flush()?;
            }
            if self.progress.done.is_multiple_of(BATCH as u64) {
                progress(self.progress);
            }
        }
        Ok(())
    }

    /// The run an execution becomes, its output staged.
    fn run(
        &mut self,
        source: String,
        task: &TaskName,
        execution: Execution,
    ) -> Result<ImportedRun, ImportError> {
        let options = self.options;
        let judged = status::judge_execution(
            &execution.facts,
            execution
                .params
                .fail_by_retcode
                .unwrap_or(options.fail_by_retcode),
            execution
                .params
                .fail_by_stderr
                .unwrap_or(options.fail_by_stderr),
        );
        self.staged += 1;
        let staged = staging::stage(
            self.store.data_dir(),
            self.staged,
            execution.stdout.as_ref(),
            execution.stderr.as_ref(),
            options.output_max_bytes,
        )
        .map_err(ImportError::Staging)?;
        if let Some(note) = execution.stamp.note {
            self.summary.time_notes.push(format!("{source}: {note}"));
        }
        Ok(ImportedRun {
            source,
            task: task.clone(),
            started_at: execution.stamp.at,
            definition: execution.params.definition,
            end: RunEnd {
                finished_at: execution.finished_at,
                exit: execution.facts.exit,
                status: judged.status,
                stdout_bytes: staged.stdout_bytes,
                stderr_bytes: staged.stderr_bytes,
                op_error: judged.op_error,
                reason: judged.reason,
                output_dropped_bytes: staged.dropped_bytes,
                ..RunEnd::default()
            },
            staged: staged.dir,
        })
    }

    /// Records the gathered batch in one transaction and counts it.
    fn flush(&mut self) -> Result<(), ImportError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        self.store.import_runs(&self.batch)?;
        let runs = std::mem::take(&mut self.batch);
        for (dir, run) in std::mem::take(&mut self.batch_dirs).iter().zip(&runs) {
            self.outcome(dir, &run.task).imported += 1;
        }
        Ok(())
    }

    /// Whether the task's newest run is the daemon's own: runs imported now would be ordered
    /// after it (history orders by run id), so retention would prune the newer runs first.
    fn has_run_here(&self, task: &TaskName) -> Result<bool, ImportError> {
        let newest = self.store.list_runs_brief(task, None, 1)?;
        Ok(newest
            .first()
            .is_some_and(|run| run.trigger != Trigger::Imported))
    }

    fn outcome(&mut self, dir: &str, task: &TaskName) -> &mut TaskOutcome {
        self.summary
            .tasks
            .entry(dir.to_owned())
            .or_insert_with(|| TaskOutcome::new(task.clone()))
    }
}

#[cfg(test)]
mod tests;
