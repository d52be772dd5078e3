//! The daemon as a child subreaper: processes that a run left behind (`setsid cmd &`, a double
//! fork) become the daemon's children instead of init's, so they stay findable under it, and
//! the daemon reaps them when they exit.
//!
//! The reaper looks for exited orphans once a second while the daemon has any child, and
//! sleeps while it has none (nothing can be adopted then) until the next spawn. It does not
//! listen for SIGCHLD: with a handler installed, every run's exit interrupted a thread of the
//! daemon to run it and woke the runtime, a few percent of what a run cost the daemon
//! (BENCHMARKS.md), for orphans that are rare and harmless for a second. Every thread blocks
//! it instead ([`hold_child_signal`]).
//!
//! Reaping must never take the exit status of a run's own process, which its supervisor reaps
//! with `wait4` on its pid (`reap.rs`). So every child the daemon starts is registered here as
//! *owned* from its spawn to its reaping, and the reaper reaps only children that are not owned:
//! the adopted ones, and those a supervisor gave up. A spawn holds the gate shared, the reaper
//! holds it exclusively, so no child is ever seen between its fork and its registration. Every
//! process the daemon starts must go through [`spawn_owned`].
//!
//! This module does not decide what to kill or when; `contain` does.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use nix::sys::wait::{WaitPidFlag, waitpid};
use rustix::process::{Pid, PidfdFlags, Signal, pidfd_open, pidfd_send_signal};

/// Held shared while a child is spawned and registered; exclusively while reaping.
static GATE: RwLock<()> = RwLock::new(());
/// Children the daemon started and has not reaped.
static OWNED: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());
/// Children given up to the reaper by their supervisor ([`disown`]). They stay on the list of
/// the thread that spawned them, which the reaper does not read, so it asks for them by pid.
static DISOWNED: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());
/// Children started so far, counted so that the reaper, idle for want of children, wakes for
/// the next one.
static SPAWNS: Mutex<u64> = Mutex::new(0);
static SPAWNED: Condvar = Condvar::new();
/// How often exited orphans are looked for while the daemon has children: how long one stays
/// a zombie at most.
const REAP_EVERY: Duration = Duration::from_secs(1);
/// Passes over the tree when killing: a process may fork while its siblings are killed.
const KILL_PASSES: usize = 8;

fn owned() -> MutexGuard<'static, BTreeSet<i32>> {
    OWNED.lock().unwrap_or_else(PoisonError::into_inner)
}

fn disowned() -> MutexGuard<'static, BTreeSet<i32>> {
    DISOWNED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Makes the daemon the subreaper of everything it starts, and starts the thread that reaps
/// the orphans it adopts.
pub fn adopt_orphans() -> io::Result<()> {
    default_child_signal()?;
    rustix::process::set_child_subreaper(Some(rustix::process::getpid()))?;
    warn_if_children_unlisted();
    // Reaping waits for the gate, which spawning threads hold through fork and exec: it runs
    // on a thread of its own, never on a runtime worker.
    std::thread::Builder::new()
        .name("orphan-reaper".to_owned())
        .spawn(reap_forever)?;
    Ok(())
}

/// Blocks SIGCHLD in the calling thread, and so in every thread it starts after. Called first
/// thing in `main`, before any other thread exists.
///
/// A run's exit sends SIGCHLD to the thread that spawned it. Ignored by default, the kernel
/// drops it, but not while that thread blocks it, as it does through each clone
/// (`clone_exec.rs`): the kernel then queues it and wakes another thread, one that does not
/// block it, only to drop it there. That was half of all runs when many start together, and
/// a seventh of what a run cost the daemon (BENCHMARKS.md). Blocked everywhere, the first stays
/// pending and the kernel adds nothing to it nor wakes anyone. Nothing waits for the signal:
/// pidfds tell of exits, and the reaper looks on a period. A run starts with nothing blocked.
pub fn hold_child_signal() -> io::Result<()> {
    use nix::sys::signal::{SigSet, SigmaskHow, Signal as Number, pthread_sigmask};
    pthread_sigmask(
        SigmaskHow::SIG_BLOCK,
        Some(&SigSet::from(Number::SIGCHLD)),
        None,
    )
    .map_err(io::Error::from)
}

/// Puts SIGCHLD back to its default action. A launcher may start the daemon with it ignored,
/// which `exec` keeps: the kernel would then reap every child itself, so that no run's exit
/// could be read, and runs would start with it ignored too.
#[allow(
    unsafe_code,
    reason = "setting a signal's action is unsafe in nix, for handlers; the default runs no code"
)]
fn default_child_signal() -> io::Result<()> {
    use nix::sys::signal::{SigHandler, Signal as Number, signal};
    // SAFETY: SIG_DFL installs no handler, so no code of ours runs in signal context.
    unsafe { signal(Number::SIGCHLD, SigHandler::SigDfl) }
        .map(drop)
        .map_err(io::Error::from)
}

fn reap_forever() {
    loop {
        let seen = *spawns();
        if reap_adopted() {
            #[allow(
                clippy::disallowed_methods,
                reason = "an orphan's exit sends no event once SIGCHLD is not handled: the reaper looks on a period"
            )]
            std::thread::sleep(REAP_EVERY);
        } else {
            // A spawn counted after `seen` was read may have started a child the pass did
            // not see; the count has moved then, and there is no wait.
            let _spawned = SPAWNED
                .wait_while(spawns(), |spawns| *spawns == seen)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

fn spawns() -> MutexGuard<'static, u64> {
    SPAWNS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Says once, at start, when the kernel does not list a process's children
/// (`CONFIG_PROC_CHILDREN`): adopted processes are then neither reaped nor killed by the
/// environment marker, and only a cgroup per run contains a run.
fn warn_if_children_unlisted() {
    let tid = rustix::thread::gettid().as_raw_nonzero().get();
    let list = format!("/proc/{}/task/{tid}/children", me());
    if let Err(error) = std::fs::metadata(&list) {
        tracing::warn!(
            "cannot read {list}: {error}; this kernel does not list children (CONFIG_PROC_CHILDREN), so processes that leave a run's process group are neither reaped nor killed unless runs get a cgroup (run_cgroup)"
        );
    }
}

/// Runs `spawn` (which starts children, each with its handles or why it did not start) and
/// registers every child, by the pid `pid_of` reads, as owned before any reaper can see it.
pub fn spawn_owned<T, E>(
    spawn: impl FnOnce() -> Vec<Result<T, E>>,
    pid_of: impl Fn(&T) -> i32,
) -> Vec<Result<T, E>> {
    let _gate = GATE.read().unwrap_or_else(PoisonError::into_inner);
    let spawned = spawn();
    let mut owned = owned();
    let started = spawned
        .iter()
        .flatten()
        .map(|child| owned.insert(pid_of(child)))
        .count();
    drop(owned);
    if started > 0 {
        *spawns() += 1;
        SPAWNED.notify_one();
    }
    spawned
}

/// Reaps an owned child with `reap` (its `wait4`) and forgets it, with the reaper held off.
pub fn reap_owned<R>(pid: i32, reap: impl FnOnce() -> R) -> R {
    let mut owned = owned();
    let result = reap();
    owned.remove(&pid);
    result
}

/// Gives an owned child up to the reaper (its supervisor could not watch it).
pub fn disown(pid: i32) {
    owned().remove(&pid);
    disowned().insert(pid);
}

/// Reaps the adopted and disowned children that exited; returns whether the daemon may still
/// have children, owned, adopted or disowned (also when they could not be listed: the reaper
/// then tries again soon).
///
/// Adopted ones are on the main thread's list alone ([`main_thread_children`]). Reading every
/// thread's list instead, with spawns held off meanwhile, cost a pass ten opens and reads
/// (BENCHMARKS.md).
fn reap_adopted() -> bool {
    let _gate = GATE.write().unwrap_or_else(PoisonError::into_inner);
    // Listed before `owned` is locked: a kill locks them in that order. A child reaped by its
    // supervisor in between is no longer the daemon's, and its pid cannot come back as one
    // while spawns are held off.
    let listed = main_thread_list();
    let owned = owned();
    let mut disowned = disowned();
    let Ok(listed) = listed else {
        return true;
    };
    for pid in &listed {
        if !owned.contains(pid) {
            // A child still running answers StillAlive: nothing is taken from anyone.
            let _ = waitpid(nix::unistd::Pid::from_raw(*pid), Some(WaitPidFlag::WNOHANG));
        }
    }
    disowned.retain(|pid| {
        matches!(
            waitpid(nix::unistd::Pid::from_raw(*pid), Some(WaitPidFlag::WNOHANG)),
            Ok(nix::sys::wait::WaitStatus::StillAlive)
        )
    });
    !listed.is_empty() || !owned.is_empty() || !disowned.is_empty()
}

/// SIGKILL to every process under the adopted children whose environment holds all of
/// `marker` (never empty); returns how many of them were outside `process_group`. Once a run's
/// command has exited, whatever is left of it is there: its children were handed to the daemon
/// when it died.
pub fn kill_adopted_with(marker: &[(&str, &str)], process_group: i32) -> usize {
    if marker.is_empty() {
        return 0;
    }
    // Built only when some process was adopted: after most runs, none was.
    let wanted = std::cell::OnceCell::new();
    kill_passes(main_thread_children, |pid| {
        let wanted = wanted.get_or_init(|| {
            marker
                .iter()
                .map(|(name, value)| format!("{name}={value}").into_bytes())
                .collect::<Vec<Vec<u8>>>()
        });
        super::group::has_environment(pid, wanted)
    })
    .into_iter()
    .filter(|group| *group != Some(process_group))
    .count()
}

/// SIGKILL to every descendant of the daemon that is not a run's own unreaped process: what is
/// left when the daemon stops. Returns how many were killed.
pub fn kill_all_adopted() -> usize {
    kill_passes(|| children(me()), |_| true).len()
}

/// Kills the chosen processes of the adopted tree under `roots` until a pass finds none it has
/// not killed already (a killed process lingers a moment); returns the process group of each
/// one killed.
fn kill_passes(roots: impl Fn() -> Vec<i32>, chosen: impl Fn(i32) -> bool) -> Vec<Option<i32>> {
    let mut killed: BTreeMap<i32, Option<i32>> = BTreeMap::new();
    for _ in 0..KILL_PASSES {
        let before = killed.len();
        for pid in adopted_tree(roots()) {
            if killed.contains_key(&pid) {
                continue;
            }
            let group = super::group::group_of(pid);
            if chosen(pid) && kill(pid, &chosen) {
                killed.insert(pid, group);
            }
        }
        if killed.len() == before {
            break;
        }
    }
    killed.into_values().collect()
}

/// Kills through a pidfd, checking `chosen` again once the pidfd pins the process: a pid
/// reused in between is never hit.
fn kill(pid: i32, chosen: impl Fn(i32) -> bool) -> bool {
    let Some(fd) = Pid::from_raw(pid).and_then(|pid| pidfd_open(pid, PidfdFlags::empty()).ok())
    else {
        return false;
    };
    chosen(pid) && pidfd_send_signal(&fd, Signal::KILL).is_ok()
}

/// Every live process under those of `children` (the daemon's) that are not owned.
fn adopted_tree(children_of_daemon: Vec<i32>) -> Vec<i32> {
    let mut queue: VecDeque<i32> = {
        let owned = owned();
        children_of_daemon
            .into_iter()
            .filter(|pid| !owned.contains(pid))
            .collect()
    };
    let mut tree = Vec::new();
    while let Some(pid) = queue.pop_front() {
        queue.extend(children(pid));
        tree.push(pid);
    }
    tree
}

/// The children listed under the daemon's main thread, which is where every orphan it adopts
/// goes: the kernel hands an orphan to the subreaper's first live thread (`find_alive_thread`,
/// Linux 3.19 on), and the main thread lives as long as the daemon. None when the list cannot
/// be read.
fn main_thread_children() -> Vec<i32> {
    main_thread_list().unwrap_or_default()
}

/// [`main_thread_children`], or why the list could not be read. Reading one list instead of
/// one per thread after every run was a fifth of what a run cost the daemon (BENCHMARKS.md);
/// the shutdown still reads them all. The list is opened once and read again from its start
/// each time, which the kernel answers afresh: one system call per run where there were four
/// and a path lookup. One reader at a time: a read from the start by another thread makes the
/// kernel list afresh under a long list's later pieces.
fn main_thread_list() -> io::Result<Vec<i32>> {
    static LIST: Mutex<Option<File>> = Mutex::new(None);
    let mut opened = LIST.lock().unwrap_or_else(PoisonError::into_inner);
    let list = match &mut *opened {
        Some(list) => list,
        // Not opened (out of descriptors, say) is tried again next time.
        unopened @ None => {
            let pid = me();
            unopened.insert(File::open(format!("/proc/{pid}/task/{pid}/children"))?)
        }
    };
    let mut text = Vec::new();
    let mut piece = [0; 4096];
    loop {
        match list.read_at(&mut piece, text.len() as u64) {
            Ok(0) => break,
            Ok(read) => text.extend_from_slice(&piece[..read]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(parse_pids(&String::from_utf8_lossy(&text)))
}

/// Children of `pid`, from /proc/PID/task/*/children (each thread has its own list); none
/// when they cannot be listed. A thread that ended while being read had no children left to
/// list.
fn children(pid: i32) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| parse_pids(&list))
        .collect()
}

fn parse_pids(list: &str) -> Vec<i32> {
    list.split_whitespace()
        .filter_map(|child| child.parse().ok())
        .collect()
}

/// The daemon's own pid.
fn me() -> i32 {
    rustix::process::getpid().as_raw_nonzero().get()
}

#[cfg(test)]
mod tests {
    use nix::sys::wait::{Id, waitid};

    use super::*;

    /// Blocks until `pid` has exited, leaving it to be reaped.
    fn wait_for_exit(pid: i32) {
        let pid = nix::unistd::Pid::from_raw(pid);
        waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT).expect("exited");
    }

    #[test]
    fn a_disowned_child_is_reaped_though_another_thread_spawned_it() {
        // The spawning thread lives on through the reaping: a thread that ends hands its
        // children to the main thread, whose list the reaper reads anyway.
        let (spawned, pid) = std::sync::mpsc::channel();
        let (finish, finished) = std::sync::mpsc::channel::<()>();
        let spawner = std::thread::spawn(move || {
            // Its reaping is the test: the handle is dropped unwaited.
            let mut started = spawn_owned(
                || {
                    vec![
                        std::process::Command::new("true")
                            .spawn()
                            .map(|child| child.id()),
                    ]
                },
                |pid| i32::try_from(*pid).expect("a pid"),
            );
            let pid = started.pop().expect("one").expect("started");
            let pid = i32::try_from(pid).expect("a pid");
            spawned.send(pid).expect("sent");
            let _ = finished.recv();
        });
        let pid = pid.recv().expect("a pid");
        disown(pid);
        wait_for_exit(pid);
        reap_adopted();
        let left = waitpid(nix::unistd::Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
        drop(finish);
        spawner.join().expect("the spawner ended");
        assert_eq!(left, Err(nix::errno::Errno::ECHILD), "reaped already");
        assert!(!disowned().contains(&pid), "forgotten once reaped");
    }
}
