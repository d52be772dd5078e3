//! Running one task's command from start to reaped exit.
//!
//! Each run is `SHELL -c COMMAND` (or through `sudo -n -u USER`) in a process group of its own,
//! so a timeout or kill reaches the whole tree, and contained beyond it (`contain.rs`: a cgroup
//! per run, or the daemon as subreaper and an environment marker) so that nothing escapes by
//! leaving the group. Output is copied from pipes into capped files as the child writes it (a
//! run that ends within 10 ms has its pipes read once, at its exit). A timeout or kill sends
//! SIGTERM to the group, then SIGKILL after the kill grace; once the command has exited,
//! whatever is left of the run, in its group or not, is killed too, and the run says so. The
//! process is reaped with its resource usage: no zombies.
//!
//! This module reports what happened; judging success and recording it happen elsewhere.

pub(crate) mod capture;
mod cgroup;
mod child_calls;
mod clone_exec;
mod command;
mod contain;
pub mod environment;
mod group;
mod image;
mod inotify;
mod live_output;
mod orphans;
mod reap;
mod spawn_slots;
mod spawner;

use std::future::Future;
use std::io::Read;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use nix::sys::signal::Signal;
use regex::bytes::Regex;
use tokio::sync::oneshot;

pub use capture::Captured;
pub use command::{Invocation, StartError};
pub use contain::{end_all as kill_everything_left, init as contain_runs};
pub use group::{groups_with_environment, signal_group, start_ticks};
pub use live_output::{Chunk, LiveOutput, Subscription};
pub use orphans::hold_child_signal;

use crate::run::{Exit, Kill, KillCause, Usage};

/// How long a run's output may wait in its pipes before it is read as it comes: a run that
/// ends sooner has its pipes read once, at its exit (`capture::Unwatched`). Up to a pipe's
/// capacity (64 KiB) is written without waiting meanwhile; tailers see output this much later.
const READ_AFTER: Duration = Duration::from_millis(10);
/// How long to wait for the output pipes to close after the command exited, before looking for
/// processes it left behind.
const PIPE_CLOSE_WAIT: Duration = Duration::from_millis(50);
/// How long output may still be read after the group was killed; a process outside the group
/// (it called setsid) may hold the pipes open forever.
const DRAIN_WAIT: Duration = Duration::from_secs(2);

/// Everything needed to run one command.
#[derive(Debug, Clone)]
pub struct Launch {
    pub invocation: Invocation,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    pub timeout: Option<Duration>,
    pub kill_grace: Duration,
    pub output_max_bytes: u64,
    pub pattern: Option<Regex>,
    /// Where tailers follow the output as it is written; `None`: nobody can.
    pub live: Option<LiveOutput>,
}

/// A started command, not yet supervised.
pub struct Started {
    child: reap::Child,
    stdout: capture::Unwatched,
    stderr: capture::Unwatched,
    live: Tailed,
    /// The group id, which is the command's pid.
    pub process_group: i32,
    scope: contain::Scope,
}

/// How a supervised run ended.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// `None` when the process could not be tracked to its end.
    pub exit: Option<Exit>,
    pub usage: Usage,
    pub stdout: Captured,
    pub stderr: Captured,
    /// Who ended the run early: a user, `timeout after 30s`, `shutdown`, …
    pub killed_by: Option<String>,
    /// Why it was ended early, when it was.
    pub kill_cause: Option<KillCause>,
    /// True when a timeout ended the run.
    pub timed_out: bool,
    /// Notes for the run's op-error text: what speedrack had to do or could not do.
    pub notes: Vec<String>,
}

/// A command's process, started but not yet handed to the tokio runtime.
pub struct Process {
    spawned: command::Spawned,
    scope: contain::Scope,
    live: Tailed,
}

/// The run's output files as tailers see them, registered before the run is announced, so
/// that a tailer told of the run finds them.
#[derive(Default)]
struct Tailed {
    stdout: Option<live_output::Publisher>,
    stderr: Option<live_output::Publisher>,
}

impl Tailed {
    fn of(launch: &Launch) -> Tailed {
        let Some(live) = &launch.live else {
            return Tailed::default();
        };
        Tailed {
            stdout: Some(live.publish(&launch.stdout, launch.output_max_bytes)),
            stderr: Some(live.publish(&launch.stderr, launch.output_max_bytes)),
        }
    }
}

/// Starts the processes of `launches`, side by side (`clone_exec.rs`), each result in the
/// order given. Plain blocking work that needs no runtime, so a batch can be shared between
/// threads ([`spawn_all`]). An error means that run never ran.
fn spawn_share(launches: &[Launch]) -> Vec<Result<Process, StartError>> {
    // On any error below its scope is dropped, which removes the run's cgroup.
    let mut scopes: Vec<contain::Scope> = launches
        .iter()
        .map(|launch| contain::Scope::new(&launch.invocation.env))
        .collect();
    let spawned = orphans::spawn_owned(
        || {
            let requests: Vec<_> = launches
                .iter()
                .zip(&scopes)
                .map(|(launch, scope)| (&launch.invocation, scope.cgroup_procs()))
                .collect();
            command::spawn_all(&requests)
        },
        |spawned| spawned.pid,
    );
    for scope in &mut scopes {
        scope.spawned();
    }
    spawned
        .into_iter()
        .zip(scopes)
        .zip(launches)
        .map(|((spawned, scope), launch)| {
            Ok(Process {
                spawned: spawned?,
                scope,
                live: Tailed::of(launch),
            })
        })
        .collect()
}

/// Starts every launch's process, spread over a few threads; each launch comes back with its
/// result, in order.
///
/// Starting a process costs about as much as the kernel's fork and exec, so fires due at the
/// same instant would otherwise start one spawn-time apart; see BENCHMARKS.md.
pub fn spawn_all(launches: Vec<Launch>) -> Vec<(Launch, Result<Process, StartError>)> {
    type Spawning = spawner::Pool<Launch, Result<Process, StartError>>;
    static POOL: std::sync::OnceLock<Option<Spawning>> = std::sync::OnceLock::new();
    match POOL.get_or_init(|| spawner::Pool::start("spawner", spawn_share)) {
        Some(pool) => pool.run(launches),
        None => {
            let results = spawn_share(&launches);
            launches.into_iter().zip(results).collect()
        }
    }
}

/// Hands a started process to the runtime: its exit and output pipes become things a
/// supervisor can await. Must be called inside the tokio runtime.
pub fn watch(process: Process) -> Result<Started, StartError> {
    let Process {
        spawned,
        scope,
        live,
    } = process;
    let pid = spawned.pid;
    let lost = |source: std::io::Error| {
        // Nobody will supervise it: it must not run on unseen. Its cgroup, if any, is killed
        // and removed as the scope is dropped; the reaper reaps it.
        let _ = signal_group(pid, Signal::SIGKILL);
        orphans::disown(pid);
        StartError::Watch { pid, source }
    };
    let child = reap::Child::watch(spawned.pid, spawned.pidfd).map_err(lost)?;
    let stdout = capture::Unwatched::new(spawned.stdout).map_err(lost)?;
    let stderr = capture::Unwatched::new(spawned.stderr).map_err(lost)?;
    Ok(Started {
        process_group: child.pid(),
        child,
        stdout,
        stderr,
        live,
        scope,
    })
}

/// Who is told, once, that a run's command still runs `after` it started: `tell` gets the start
/// time of the group's leader (`group::start_ticks`), which with the group id identifies the
/// run's processes across a daemon restart.
///
/// Only runs that last are worth recording for a crash recovery: most end within milliseconds,
/// and reading /proc and writing a row for each was a tenth of what a run cost the daemon
/// (BENCHMARKS.md). A crash before then finds the run by its environment marker instead.
pub struct Lasting<F> {
    pub after: Duration,
    pub tell: F,
}

/// Supervises a started command to its reaped end. A kill sent on `kill` (why, and who asks)
/// ends the run like a timeout does; one is enough, so the channel takes one.
pub async fn supervise(
    started: Started,
    launch: &Launch,
    mut kill: oneshot::Receiver<Kill>,
    lasting: Lasting<impl FnOnce(Option<u64>)>,
) -> Outcome {
    let Started {
        child,
        stdout,
        stderr,
        live,
        process_group,
        scope,
        ..
    } = started;
    // The copies are polled in this task, beside the exit: a task of their own each cost a
    // spawn, a join and a wake-up more per run, for output that is mostly nothing.
    let (cap, pattern) = (launch.output_max_bytes, launch.pattern.as_ref());
    let reading = capture::ReadStart::default();
    let stdout_future =
        capture::capture(stdout, &reading, &launch.stdout, cap, pattern, live.stdout);
    let stderr_future =
        capture::capture(stderr, &reading, &launch.stderr, cap, pattern, live.stderr);
    tokio::pin!(stdout_future, stderr_future);
    let mut stdout_copy = Capturing::new(stdout_future);
    let mut stderr_copy = Capturing::new(stderr_future);
    let mut outcome = Outcome {
        notes: scope.notes.clone(),
        ..Outcome::default()
    };
    let mut terminate_at = launch
        .timeout
        .and_then(|timeout| tokio::time::Instant::now().checked_add(timeout));
    let mut kill_at: Option<tokio::time::Instant> = None;
    let mut tell = Some(lasting.tell);
    let mut kill_listened = true;
    {
        let exited = child.exited();
        // Made once: a timer made in the select below would be registered and cancelled again
        // at every wake-up of the run (each stream's end, its exit).
        let lasting_at = sleep_until(tokio::time::Instant::now().checked_add(lasting.after));
        let read_at = sleep_until(tokio::time::Instant::now().checked_add(READ_AFTER));
        tokio::pin!(exited, lasting_at, read_at);
        loop {
            tokio::select! {
                // The captures see it open when the loop polls them again, next.
                () = &mut read_at, if !reading.is_open() => reading.open(),
                () = stdout_copy.wait(), if !stdout_copy.ended() => {}
                () = stderr_copy.wait(), if !stderr_copy.ended() => {}
                result = &mut exited => {
                    if let Err(error) = result {
                        outcome.notes.push(format!("lost track of the process: {error}"));
                    }
                    break;
                }
                () = sleep_until(terminate_at), if outcome.killed_by.is_none() => {
                    let timeout = launch.timeout.unwrap_or_default();
                    outcome.timed_out = true;
                    outcome.kill_cause = Some(KillCause::Timeout);
                    outcome.killed_by = Some(format!("timeout after {}", humantime::format_duration(timeout)));
                    kill_at = terminate(process_group, launch.kill_grace, &mut outcome.notes);
                }
                asked = &mut kill, if kill_listened => {
                    // A closed channel (nobody can ask any more) is no kill.
                    kill_listened = false;
                    if let Ok(asked) = asked && outcome.killed_by.is_none() {
                        outcome.killed_by = Some(asked.by);
                        outcome.kill_cause = Some(asked.cause);
                        kill_at = terminate(process_group, launch.kill_grace, &mut outcome.notes);
                    }
                }
                () = &mut lasting_at, if tell.is_some() => {
                    if let Some(tell) = tell.take() {
                        // The leader is not reaped before the loop ends: its pid is its own.
                        tell(start_ticks(process_group));
                    }
                }
                () = sleep_until(kill_at) => {
                    kill_at = None;
                    if let Err(error) = signal_group(process_group, Signal::SIGKILL) {
                        outcome.notes.push(format!("cannot send SIGKILL to the process group: {error}"));
                    }
                }
            }
            terminate_at = terminate_at.filter(|_| outcome.killed_by.is_none());
        }
    }
    reading.open();
    // The command has exited but is not reaped, so its pid (the group id) cannot be reused yet.
    let pipes_closed = tokio::time::timeout(PIPE_CLOSE_WAIT, async {
        tokio::join!(stdout_copy.wait(), stderr_copy.wait())
    })
    .await
    .is_ok();
    if !pipes_closed {
        kill_leftovers(process_group, &mut outcome.notes);
    }
    let escaped = scope.kill_escaped(process_group, &launch.invocation.env);
    if escaped > 0 {
        outcome.notes.push(format!(
            "killed {escaped} process(es) of the run still running outside its process group after the command exited"
        ));
    }
    let reaped = match child.reap() {
        Ok((exit, usage)) => {
            outcome.exit = Some(exit);
            usage
        }
        Err(error) => {
            outcome
                .notes
                .push(format!("cannot reap the process: {error}"));
            Usage::default()
        }
    };
    outcome.usage = scope.close(reaped, &mut outcome.notes).await;
    // A process outside the run's group may hold a pipe open forever.
    let _ = tokio::time::timeout(DRAIN_WAIT, async {
        tokio::join!(stdout_copy.wait(), stderr_copy.wait())
    })
    .await;
    outcome.stdout = stdout_copy.finish("stdout", &mut outcome.notes);
    outcome.stderr = stderr_copy.finish("stderr", &mut outcome.notes);
    outcome
}

/// Asks the group to stop; returns when to insist (`None`: a grace past the clock's end).
fn terminate(
    process_group: i32,
    grace: Duration,
    notes: &mut Vec<String>,
) -> Option<tokio::time::Instant> {
    if let Err(error) = signal_group(process_group, Signal::SIGTERM) {
        notes.push(format!("cannot send SIGTERM to the process group: {error}"));
    }
    tokio::time::Instant::now().checked_add(grace)
}

fn kill_leftovers(process_group: i32, notes: &mut Vec<String>) {
    let left = group::members_besides(process_group, process_group);
    if left == 0 {
        return;
    }
    match signal_group(process_group, Signal::SIGKILL) {
        Ok(()) => notes.push(format!("killed {left} process(es) still running in the run's process group after the command exited")),
        Err(error) => notes.push(format!("cannot kill {left} process(es) left in the run's process group: {error}")),
    }
}

/// One stream's capture, polled by the supervisor, whose result is kept once it arrived, so
/// that waiting for it again (after a timed-out wait) never polls a finished future.
struct Capturing<'a, F: Future> {
    future: Pin<&'a mut F>,
    result: Option<F::Output>,
}

impl<'a, F: Future<Output = std::io::Result<Captured>>> Capturing<'a, F> {
    fn new(future: Pin<&'a mut F>) -> Capturing<'a, F> {
        Capturing {
            future,
            result: None,
        }
    }

    fn ended(&self) -> bool {
        self.result.is_some()
    }

    /// Waits for the capture to end; safe to cancel and call again.
    async fn wait(&mut self) {
        if self.result.is_none() {
            self.result = Some(self.future.as_mut().await);
        }
    }

    /// The capture's result; a capture still going (its pipe held open by a process outside
    /// the run's group after [`DRAIN_WAIT`]) is given up and said so.
    fn finish(self, name: &str, notes: &mut Vec<String>) -> Captured {
        match self.result {
            Some(Ok(captured)) => {
                if let Some(why) = &captured.lost_because {
                    notes.push(format!(
                        "output incomplete: {why} ({} bytes of {name} lost)",
                        captured.lost
                    ));
                }
                captured
            }
            Some(Err(error)) => {
                notes.push(format!("{name}: cannot save it: {error}"));
                Captured::default()
            }
            None => {
                notes.push(format!("{name} was still held open by a process outside the run's group; stopped capturing it"));
                Captured::default()
            }
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Whether a sudo run was refused by sudo itself rather than failing in the command. Only a
/// sudo run's stderr is read, and only its head.
pub fn sudo_refusal(launch: &Launch, exit: Option<Exit>) -> Option<String> {
    launch.invocation.sudo.as_ref()?;
    let code = match exit {
        Some(Exit::Code(code)) => Some(code),
        _ => None,
    };
    let mut head = Vec::new();
    if let Ok(file) = std::fs::File::open(&launch.stderr) {
        // An unreadable stderr reads as empty: no refusal is claimed without sudo's words.
        let _ = file.take(512).read_to_end(&mut head);
    }
    command::sudo_refusal(&launch.invocation, code, &head)
}

#[cfg(test)]
mod tests;
