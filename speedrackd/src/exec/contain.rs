//! Keeping each run's processes from escaping it, beyond its process group, and measuring what
//! the run used.
//!
//! Chosen once at start ([`init`]) for the whole daemon:
//! - **cgroup**: each run gets a cgroup v2 of its own (`cgroup.rs`), which the child joins
//!   before it execs; nothing the run starts can leave it, `cgroup.kill` ends all of it, and
//!   `cpu.stat` / `memory.peak` say what all of it used.
//! - **marker** (the fallback, and always in addition): the daemon is a child subreaper
//!   (`orphans.rs`), so whatever leaves the run's group stays under the daemon, and once the
//!   command has exited every leftover whose environment carries the run's marker
//!   (`SPEEDRACK_RUN_ID`, `SPEEDRACK_TASK`, `SPEEDRACK_DATA_DIR`) is killed. A process that
//!   cleared its environment escapes this one until the daemon stops; peak memory is not
//!   measured (wait4's figure counts the daemon's memory, which the child shared until exec).
//!
//! The choice is process-wide state because both mechanisms are: a subreaper is a property of
//! the process, and the daemon moves itself out of its delegated cgroup.

use std::os::fd::BorrowedFd;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use super::cgroup::{self, Parent};
use super::environment::{Environment, MARKER};
use super::orphans;
use crate::config::RunCgroup;
use crate::run::Usage;

/// How long a killed run's cgroup gets to empty before it is left for the next start.
const EMPTY_WAIT: Duration = Duration::from_secs(2);

/// `None` until [`init`]: runs are then contained by their process group only.
static MODE: OnceLock<Option<Parent>> = OnceLock::new();

/// Sets containment up for the life of the daemon, runs inheriting none of the descriptors
/// its launcher left open; says in the log what it chose and why.
/// Only the daemon calls it, once; `data_dir` is its own, which names
/// its runs' cgroups apart from those of another daemon sharing the parent.
pub fn init(choice: &RunCgroup, data_dir: &Path) {
    match super::clone_exec::inherit_nothing() {
        // Only then may a child keep the bottom of the daemon's table: nothing in it passes on.
        Ok(()) => {
            // A group for each child in flight: each spawning thread's and the loop's.
            let groups = (super::spawner::threads() + 1) * super::clone_exec::SIDE_BY_SIDE;
            if let Err(error) = super::spawn_slots::reserve(groups) {
                tracing::warn!(
                    "cannot reserve descriptors for starting runs: {error}; each start copies the daemon's whole descriptor table"
                );
            }
        }
        Err(error) => tracing::warn!(
            "cannot mark the descriptors the daemon inherited close-on-exec: {error}; runs inherit them"
        ),
    }
    if let Err(error) = orphans::adopt_orphans() {
        tracing::error!(
            "cannot become the child subreaper of runs: {error}; a process that leaves its run's process group outlives the run"
        );
    }
    let parent = match choice {
        RunCgroup::Off => None,
        RunCgroup::Auto => Parent::delegated(data_dir).unwrap_or_else(|error| {
            tracing::warn!("cannot read the daemon's own cgroup: {error}");
            None
        }),
        RunCgroup::At(dir) => Parent::at(dir, data_dir)
            .map_err(|error| {
                tracing::error!(
                    "run_cgroup {} cannot hold runs: {error}; runs are contained by their environment marker instead",
                    dir.display()
                );
            })
            .ok(),
    };
    match &parent {
        Some(parent) => {
            let left = parent.kill_all_runs();
            tracing::info!(cgroup = %parent.dir().display(), left_by_an_earlier_daemon = left, "each run gets a cgroup of its own");
        }
        None => tracing::info!(
            "runs are contained by process group and environment marker (no delegated cgroup; see run_cgroup)"
        ),
    }
    let _ = MODE.set(parent);
}

/// Kills whatever is left of every run (the daemon is stopping); returns how many processes.
pub fn end_all() -> usize {
    let Some(mode) = MODE.get() else {
        return 0;
    };
    let cgroups = mode.as_ref().map_or(0, Parent::kill_all_runs);
    cgroups + orphans::kill_all_adopted()
}

/// One run's containment, made before its process starts.
pub struct Scope {
    cgroup: Option<cgroup::Run>,
    /// Whether containment was set up, so that the run's marker in its environment counts.
    marked: bool,
    /// What went wrong setting it up, for the run's op-error.
    pub notes: Vec<String>,
}

impl Scope {
    /// The scope of a run whose environment is `env` (it holds the marker).
    pub fn new(env: &Environment) -> Scope {
        let mut scope = Scope {
            cgroup: None,
            marked: false,
            notes: Vec::new(),
        };
        let Some(mode) = MODE.get() else {
            return scope;
        };
        scope.marked = true;
        if let Some(parent) = mode
            && let Some(run) = env.get(MARKER[0]).and_then(|id| id.parse::<i64>().ok())
        {
            match parent.create_run(run) {
                Ok(cgroup) => scope.cgroup = Some(cgroup),
                Err(error) => scope.notes.push(format!(
                    "cannot create the run's cgroup in {}: {error}; contained by its environment marker instead",
                    parent.dir().display()
                )),
            }
        }
        scope
    }

    /// What the child writes `0` into before exec to join the run's cgroup.
    pub fn cgroup_procs(&self) -> Option<BorrowedFd<'_>> {
        self.cgroup.as_ref().and_then(cgroup::Run::procs)
    }

    /// The child is spawned, or failed to: `cgroup_procs` is not needed any more.
    pub fn spawned(&mut self) {
        if let Some(cgroup) = &mut self.cgroup {
            cgroup.joined();
        }
    }

    /// Once the command has exited: kills every process of the run outside its process group,
    /// wherever it went; returns how many there were. `env` is the run's environment, as for
    /// [`Scope::new`].
    pub fn kill_escaped(&self, process_group: i32, env: &Environment) -> usize {
        let Some(cgroup) = &self.cgroup else {
            if !self.marked {
                return 0;
            }
            // Read from the run's environment at its end, not copied at its start: most runs
            // leave nothing behind, and the copy cost allocations on every run.
            let values = MARKER.map(|name| env.get(name));
            let [Some(run), Some(task), Some(data_dir)] = values else {
                return 0;
            };
            let [run_name, task_name, data_dir_name] = MARKER;
            let marker = [
                (run_name, run),
                (task_name, task),
                (data_dir_name, data_dir),
            ];
            return orphans::kill_adopted_with(&marker, process_group);
        };
        let pids = cgroup.pids();
        let populated = !pids.is_empty();
        let escaped = pids
            .into_iter()
            .filter(|pid| super::group::group_of(*pid) != Some(process_group))
            .count();
        if populated {
            // Its group's stragglers too: the run is over.
            if let Err(error) = cgroup.kill() {
                tracing::error!(cgroup = %cgroup.dir().display(), "cannot kill what is left of a run: {error}");
            }
        }
        escaped
    }

    /// Closes the scope once the command is reaped: the run's usage, from its cgroup when it
    /// has one, else `reaped` (wait4's) with peak memory not measured.
    pub async fn close(self, reaped: Usage, notes: &mut Vec<String>) -> Usage {
        let without_memory = Usage {
            max_rss_bytes: 0,
            ..reaped
        };
        let Some(cgroup) = self.cgroup else {
            return without_memory;
        };
        if !cgroup.wait_empty(EMPTY_WAIT).await {
            notes.push(format!(
                "the run's cgroup {} still held processes {}s after they were killed",
                cgroup.dir().display(),
                EMPTY_WAIT.as_secs()
            ));
            return without_memory;
        }
        // Dropping the cgroup removes it.
        let figures = cgroup.figures();
        Usage {
            max_rss_bytes: figures.memory_peak.unwrap_or(0),
            cpu_user: figures.cpu_user,
            cpu_system: figures.cpu_system,
        }
    }
}
