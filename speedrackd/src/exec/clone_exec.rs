//! Starting processes: `clone` with the daemon's memory shared until each child execs, on
//! stacks each spawning thread maps once, with the pidfd from the same call.
//!
//! std's `Command` goes through glibc's `posix_spawn`, which maps a fresh child stack and
//! unmaps it again on every call (the unmap makes the kernel flush the other CPUs' TLBs), asks
//! for the open-file limit once per file action, and leaves the pidfd to a `pidfd_open` of its
//! own: about a third of what starting a run cost the spawning thread (BENCHMARKS.md).
//!
//! Between clone and exec a child runs in the daemon's memory, on its stack, while the spawning
//! thread clones the next ones: up to [`SIDE_BY_SIDE`] are in flight before the thread waits
//! until the kernel says each has exec'd or exited (it clears a word of the child's,
//! CLONE_CHILD_CLEARTID). `vfork`'s wait for each child in turn put the thread to sleep and
//! woke it again for every run. A child may only make system calls, none through libc
//! (`child_calls`): it allocates nothing, takes no lock, and reports a failure by writing it
//! where the parent reads it once the child is gone. What the child gets is what std gives
//! one: its signal mask emptied, signals the daemon catches and SIGPIPE back to their default
//! action, the other ignored ones kept ignored.
//!
//! When the daemon reserved slots for it (`spawn_slots`), the child also shares the daemon's
//! descriptor table at clone and keeps only its bottom, where the slots hold its stdio;
//! otherwise clone copies the whole table for it.
#![allow(
    unsafe_code,
    reason = "clone and the code between it and exec are system calls on raw pointers"
)]

use std::cell::RefCell;
use std::ffi::{CStr, c_int, c_void};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};

use super::child_calls;
use super::image::{Image, Pointers};
use super::spawn_slots::{self, CGROUP_PROCS, Lent, Slots};

/// The child's stack: the child only makes system calls on it, through libc's wrappers.
const STACK_SIZE: usize = 64 << 10;

/// What the child sets up before it execs.
pub struct Setup<'a> {
    pub image: &'a Image,
    pub working_dir: Option<&'a CStr>,
    /// Become the child's descriptors 0, 1 and 2, in that order.
    pub stdio: [BorrowedFd<'a>; 3],
    /// `cgroup.procs` of the cgroup the child joins before it execs, so that nothing the
    /// command runs exists outside it even for an instant (moving it from the parent after
    /// the spawn would race with its first fork).
    pub cgroup_procs: Option<BorrowedFd<'a>>,
}

/// A child that has exec'd its program; it is ours to reap.
#[derive(Debug)]
pub struct Child {
    pub pid: i32,
    pub pidfd: OwnedFd,
}

/// The step a child failed at, before its program ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
enum Step {
    None = 0,
    Descriptors,
    Stdio,
    ProcessGroup,
    Cgroup,
    WorkingDir,
    Exec,
}

/// Inputs the child reads and the failure it writes, shared through the common memory.
#[repr(C)]
struct Shared {
    program: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    working_dir: *const libc::c_char,
    stdio: [c_int; 3],
    cgroup_procs: c_int,
    /// Set when the child shares the daemon's descriptor table: it keeps the descriptors
    /// below this one (`spawn_slots`) and no others, before it touches any.
    kept_below: c_int,
    failed_at: Step,
    errno: c_int,
}

/// Children a spawning thread starts before it waits for them to exec: each holds a stack of
/// the thread's and, to share the descriptor table, a group of slots meanwhile. Waiting for
/// each in turn (`vfork`) put the thread to sleep and woke it again for every run, about a
/// quarter of what starting one cost it (BENCHMARKS.md).
pub const SIDE_BY_SIDE: usize = if child_calls::SIDE_BY_SIDE { 16 } else { 1 };

/// Starts every setup's program, [`SIDE_BY_SIDE`] children at a time; the results come in the
/// order of the setups, once every child has exec'd or exited.
pub fn start_all(setups: &[Setup<'_>]) -> Vec<io::Result<Child>> {
    start_all_with(setups, spawn_slots::reserved())
}

/// Children share the daemon's descriptor table while one of `slots`' groups is free for
/// each, else get a copy of the whole table.
fn start_all_with(setups: &[Setup<'_>], slots: Option<&Slots>) -> Vec<io::Result<Child>> {
    STACKS.with(|stacks| {
        let mut stacks = stacks.borrow_mut();
        let mut started = Vec::with_capacity(setups.len());
        for wave in setups.chunks(SIDE_BY_SIDE) {
            while stacks.len() < wave.len() {
                match ChildStack::map() {
                    Ok(stack) => stacks.push(stack),
                    Err(error) => {
                        let why = format!("cannot map a stack for the child: {error}");
                        started.extend(wave.iter().map(|_| Err(io::Error::other(why.clone()))));
                        break;
                    }
                }
            }
            if stacks.len() >= wave.len() {
                started.extend(start_wave(wave, &stacks, slots));
            }
        }
        started
    })
}

/// One child being started: what it reads and writes until it has exec'd or exited.
struct Flying<'a> {
    /// Owned through a raw pointer: the child writes it while the parent goes on.
    shared: *mut Shared,
    /// Cleared by the kernel (CLONE_CHILD_CLEARTID) once the child has exec'd or exited.
    running_before_exec: Box<AtomicU32>,
    /// What `shared` points into.
    _pointers: Pointers,
    /// What the child copies its descriptors from.
    _lent: Option<Lent<'a>>,
    _own: Option<[StdioSource<'a>; 3]>,
    cloned: Option<io::Result<(i32, OwnedFd)>>,
}

impl Drop for Flying<'_> {
    fn drop(&mut self) {
        if matches!(self.cloned, Some(Ok(_))) {
            wait_for_exec(&self.running_before_exec);
        }
        // SAFETY: made by `Box::into_raw` in `prepare`; no child reads it any more (it has
        // exec'd or exited, or was never cloned).
        drop(unsafe { Box::from_raw(self.shared) });
    }
}

/// Blocks until the kernel has cleared the word: the child has exec'd or exited.
fn wait_for_exec(word: &AtomicU32) {
    loop {
        let value = word.load(Ordering::Acquire);
        if value == 0 {
            return;
        }
        // The kernel wakes the word as a shared futex. An early return (the word changed
        // meanwhile, a signal) only looks again.
        let _ =
            rustix::thread::futex::wait(word, rustix::thread::futex::Flags::empty(), value, None);
    }
}

fn start_wave(
    wave: &[Setup<'_>],
    stacks: &[ChildStack],
    slots: Option<&Slots>,
) -> Vec<io::Result<Child>> {
    let mut flying: Vec<io::Result<Flying<'_>>> =
        wave.iter().map(|setup| prepare(setup, slots)).collect();
    // SAFETY: sigset_t is plain data that sigfillset initializes.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above; pthread_sigmask writes it.
    let mut before: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: both sets are valid. Every signal stays blocked through the clones, so that none
    // runs a handler of the daemon in a child before the child has reset them.
    unsafe {
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut before);
    }
    for (child, stack) in flying.iter_mut().zip(stacks) {
        if let Ok(child) = child {
            child.cloned = Some(clone_child(stack.top(), child));
        }
    }
    // SAFETY: restores the mask read above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &before, ptr::null_mut()) };
    flying.into_iter().map(|child| landed(child?)).collect()
}

/// What the child of `setup` needs, with descriptors in a free group of `slots` when there is
/// one; not cloned yet.
fn prepare<'a>(setup: &Setup<'a>, slots: Option<&'a Slots>) -> io::Result<Flying<'a>> {
    let pointers = setup.image.pointers();
    let mut shared = Shared {
        program: pointers.program,
        argv: pointers.argv(),
        envp: pointers.envp(),
        working_dir: setup.working_dir.map_or(ptr::null(), CStr::as_ptr),
        stdio: [-1; 3],
        cgroup_procs: -1,
        kept_below: -1,
        failed_at: Step::None,
        errno: 0,
    };
    let mut lent = slots.and_then(Slots::lend);
    let mut own = None;
    if let Some(lent) = &mut lent {
        for (index, fd) in setup.stdio.into_iter().enumerate() {
            shared.stdio[index] = lent.put(index, fd)?;
        }
        if let Some(procs) = setup.cgroup_procs {
            shared.cgroup_procs = lent.put(CGROUP_PROCS, procs)?;
        }
        shared.kept_below = lent.kept_below();
    } else {
        // Descriptors the child moves to 0, 1 and 2 must not be among those, or one dup2
        // would overwrite the source of the next.
        let [stdin, stdout, stderr] = setup.stdio;
        let stdio = [
            above_stdio(stdin)?,
            above_stdio(stdout)?,
            above_stdio(stderr)?,
        ];
        shared.stdio = stdio.each_ref().map(StdioSource::raw);
        shared.cgroup_procs = setup.cgroup_procs.map_or(-1, |fd| fd.as_raw_fd());
        own = Some(stdio);
    }
    Ok(Flying {
        shared: Box::into_raw(Box::new(shared)),
        running_before_exec: Box::new(AtomicU32::new(1)),
        _pointers: pointers,
        _lent: lent,
        _own: own,
        cloned: None,
    })
}

/// The child once it has exec'd, or why it did not; its descriptors' slots are emptied.
fn landed(mut child: Flying<'_>) -> io::Result<Child> {
    let cloned = child.cloned.take();
    if let Some(Ok(_)) = &cloned {
        wait_for_exec(&child.running_before_exec);
    }
    // SAFETY: the child has exec'd or exited, so nothing writes `shared` any more; the volatile
    // reads keep the compiler from assuming it unchanged since the clone.
    let (failed_at, errno) = unsafe {
        (
            ptr::read_volatile(&raw const (*child.shared).failed_at),
            ptr::read_volatile(&raw const (*child.shared).errno),
        )
    };
    drop(child);
    let (pid, pidfd) =
        cloned.unwrap_or_else(|| Err(io::Error::other("the child was not cloned")))?;
    if failed_at == Step::None {
        return Ok(Child { pid, pidfd });
    }
    // It exited without running anything: reap it here, so that no reaper sees it.
    let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
    let error = io::Error::from_raw_os_error(errno);
    Err(match failed_at {
        Step::Exec => error,
        // Not the OS error's kind: a working dir not found is no program not found.
        step => io::Error::other(format!("{}: {error}", step.doing())),
    })
}

impl Step {
    fn doing(self) -> &'static str {
        match self {
            Step::None | Step::Exec => "exec",
            Step::Descriptors => "cannot give the command a descriptor table of its own",
            Step::Stdio => "cannot give the command its stdin, stdout and stderr",
            Step::ProcessGroup => "cannot give the command a process group of its own",
            Step::Cgroup => "cannot move the command into its cgroup",
            Step::WorkingDir => "cannot enter the working_dir",
        }
    }
}

/// Marks every descriptor from 3 up close-on-exec, so that runs inherit none that the
/// daemon's launcher left open (a terminal's, a wrapper's, a build tool's): a run gets its
/// stdio and nothing else. The daemon opens its own close-on-exec already. A kernel older
/// than Linux 5.11 refuses the call, and runs inherit what they did under std's `Command`.
pub fn inherit_nothing() -> io::Result<()> {
    // SAFETY: with CLOSE_RANGE_CLOEXEC the call closes nothing; it only sets each
    // descriptor's close-on-exec flag.
    let result = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    match result {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

thread_local! {
    /// Mapped at a thread's first spawns and kept: a child uses one only until it has exec'd,
    /// and its thread waits for that before it lends the stack again.
    static STACKS: RefCell<Vec<ChildStack>> = const { RefCell::new(Vec::new()) };
}

struct ChildStack {
    base: *mut c_void,
    len: usize,
}

impl ChildStack {
    /// The stack with an inaccessible page below it, so that an overflow faults.
    fn map() -> io::Result<ChildStack> {
        let guard = rustix::param::page_size();
        let len = STACK_SIZE + guard;
        // SAFETY: a new anonymous private mapping; no existing memory is touched.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = ChildStack { base, len };
        // SAFETY: the first page of the mapping just made, which nothing uses.
        if unsafe { libc::mprotect(base, guard, libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    /// Where the stack starts: it grows down from the end of the mapping (page aligned).
    fn top(&self) -> *mut c_void {
        self.base.wrapping_byte_add(self.len)
    }
}

impl Drop for ChildStack {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours, and no child runs on it once its thread is exiting.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

/// Clones the child that runs [`child`] on `stack_top` with what `flying` holds; the caller
/// blocks every signal meanwhile. The child runs beside the calling thread (with CLONE_VFORK
/// only where its system calls go through libc: `child_calls`).
fn clone_child(stack_top: *mut c_void, flying: &Flying<'_>) -> io::Result<(i32, OwnedFd)> {
    if stack_top.is_null() {
        return Err(io::Error::other("no stack for the child"));
    }
    let mut pidfd: c_int = -1;
    // SAFETY: `shared` is alive until the child has exec'd or exited (`Flying`'s drop waits).
    let files = if unsafe { (*flying.shared).kept_below } > 0 {
        libc::CLONE_FILES
    } else {
        0
    };
    let wait = if child_calls::SIDE_BY_SIDE {
        0
    } else {
        libc::CLONE_VFORK
    };
    let flags = libc::CLONE_VM
        | libc::CLONE_PIDFD
        | libc::CLONE_CHILD_CLEARTID
        | libc::SIGCHLD
        | files
        | wait;
    let running = ptr::from_ref::<AtomicU32>(&flying.running_before_exec).cast_mut();
    // SAFETY: the child runs `child` on a stack nothing else uses until it has exec'd, with
    // `shared` alive as long; CLONE_PIDFD stores the pidfd in `pidfd`, passed as parent_tid;
    // the kernel clears the atomic word at child_tid when the child execs or exits.
    let (pid, clone_error) = unsafe {
        let pid = libc::clone(
            child,
            stack_top,
            flags,
            flying.shared.cast::<c_void>(),
            &raw mut pidfd,
            ptr::null_mut::<c_void>(),
            running,
        );
        (pid, io::Error::last_os_error())
    };
    if pid <= 0 {
        return Err(clone_error);
    }
    if pidfd < 0 {
        // A kernel before Linux 5.2 ignores CLONE_PIDFD: the command would run unwatched.
        let pid = nix::unistd::Pid::from_raw(pid);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(pid, None);
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this kernel gives no pidfd for a new process (speedrackd needs Linux 5.3 or later)",
        ));
    }
    // SAFETY: the kernel just made this descriptor for us, and nothing else owns it.
    Ok((pid, unsafe { OwnedFd::from_raw_fd(pidfd) }))
}

/// The child, from clone to exec, in the parent's memory while the parent goes on. System
/// calls only, none through libc (`child_calls`), and a failure written to `shared` before it
/// exits.
extern "C" fn child(shared: *mut c_void) -> c_int {
    let shared = shared.cast::<Shared>();
    // SAFETY: `shared` points at the parent's `Shared`, which the parent keeps and does not
    // touch until this child has exec'd or exited; the calls take values from it, or locals.
    unsafe {
        child_calls::reset_signals();
        let kept_below = (*shared).kept_below;
        if kept_below > 0 {
            check(
                shared,
                Step::Descriptors,
                child_calls::keep_below(kept_below),
            );
        }
        // Before the stdio copies below, which may overwrite its descriptor if it is 0, 1 or 2.
        let procs = (*shared).cgroup_procs;
        if procs >= 0 {
            let written = child_calls::write(procs, b"0").and_then(|count| match count {
                1 => Ok(()),
                _ => Err(libc::EIO),
            });
            check(shared, Step::Cgroup, written);
        }
        let stdio = (*shared).stdio;
        for (target, source) in (0..).zip(stdio) {
            check(shared, Step::Stdio, child_calls::copy_to(source, target));
        }
        // A group of its own, so a timeout or kill reaches the whole tree the command starts.
        check(shared, Step::ProcessGroup, child_calls::own_process_group());
        let dir = (*shared).working_dir;
        if !dir.is_null() {
            check(shared, Step::WorkingDir, child_calls::chdir(dir));
        }
        check(shared, Step::Exec, child_calls::unblock_signals());
        let errno = child_calls::execve((*shared).program, (*shared).argv, (*shared).envp);
        check(shared, Step::Exec, Err(errno));
        0
    }
}

/// On an error, writes why the child failed and exits it with 127, as a shell does for a
/// command it cannot run.
///
/// # Safety
/// Only for the child, with `shared` its parent's.
unsafe fn check(shared: *mut Shared, step: Step, result: Result<(), c_int>) {
    if let Err(errno) = result {
        // SAFETY: see `child`.
        unsafe {
            (*shared).errno = errno;
            (*shared).failed_at = step;
        }
        child_calls::exit(127);
    }
}

/// A descriptor for the child's stdio: the one given, or a copy numbered 3 or above when it
/// is itself 0, 1 or 2 (a daemon started with those closed).
enum StdioSource<'a> {
    Given(BorrowedFd<'a>),
    Copied(OwnedFd),
}

impl StdioSource<'_> {
    fn raw(&self) -> RawFd {
        match self {
            StdioSource::Given(fd) => fd.as_raw_fd(),
            StdioSource::Copied(fd) => fd.as_raw_fd(),
        }
    }
}

fn above_stdio(fd: BorrowedFd<'_>) -> io::Result<StdioSource<'_>> {
    if fd.as_raw_fd() > 2 {
        return Ok(StdioSource::Given(fd));
    }
    Ok(StdioSource::Copied(rustix::io::fcntl_dupfd_cloexec(fd, 3)?))
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::io::Read;
    use std::os::fd::AsFd;
    use std::sync::OnceLock;

    use super::*;

    /// Both ways a child gets its descriptors: a copy of the daemon's whole table, and the
    /// bottom of the shared table, where slots hold its stdio.
    fn ways() -> [Option<&'static Slots>; 2] {
        static SLOTS: OnceLock<Slots> = OnceLock::new();
        [
            None,
            Some(SLOTS.get_or_init(|| Slots::new(16).expect("reserved"))),
        ]
    }

    fn start_one(setup: &Setup<'_>, slots: Option<&Slots>) -> io::Result<Child> {
        start_all_with(std::slice::from_ref(setup), slots)
            .pop()
            .expect("one result")
    }

    fn image(program: &str, script: &str) -> Image {
        let mut image = Image::new(program.as_ref(), 0).expect("no NUL");
        let args: [&[u8]; 3] = [program.as_bytes(), b"-c", script.as_bytes()];
        for arg in args {
            image.arg(&[arg]).expect("no NUL");
        }
        image.var("PATH", "/usr/bin:/bin").expect("no NUL");
        image.var("GREETING", "hello").expect("no NUL");
        image
    }

    /// Runs `image` with stdin and stderr on /dev/null; returns its pid and all it printed,
    /// once it exited and was reaped.
    fn run(
        image: &Image,
        working_dir: Option<&CStr>,
        slots: Option<&Slots>,
    ) -> io::Result<(Child, String)> {
        let null = File::open("/dev/null").expect("/dev/null");
        let (mut out, writer) = io::pipe().expect("pipe");
        let setup = Setup {
            image,
            working_dir,
            stdio: [null.as_fd(), writer.as_fd(), null.as_fd()],
            cgroup_procs: None,
        };
        let child = start_one(&setup, slots)?;
        drop(writer);
        let mut printed = String::new();
        out.read_to_string(&mut printed).expect("read");
        let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(child.pid), None);
        assert!(
            matches!(status, Ok(nix::sys::wait::WaitStatus::Exited(_, 0))),
            "{status:?}"
        );
        Ok((child, printed))
    }

    #[test]
    fn the_child_runs_with_its_own_arguments_environment_and_descriptors() {
        // The argument after the script is its $0; dash adds PWD to the environment.
        let script = "echo $0; env | grep -v ^PWD= | sort; \
                      readlink /proc/self/fd/0 /proc/self/fd/2; test -p /proc/self/fd/1";
        let mut image = image("/bin/sh", script);
        image.arg(&[b"first"]).expect("no NUL");
        for slots in ways() {
            let (_, printed) = run(&image, None, slots).expect("starts");
            assert_eq!(
                printed,
                "first\nGREETING=hello\nPATH=/usr/bin:/bin\n/dev/null\n/dev/null\n"
            );
        }
    }

    #[test]
    fn the_child_leads_a_process_group_of_its_own_in_the_working_dir() {
        let script = "echo $$ $(cut -d' ' -f5 /proc/$$/stat); pwd";
        for slots in ways() {
            let (child, printed) =
                run(&image("/bin/sh", script), Some(c"/proc"), slots).expect("starts");
            let pid = child.pid;
            assert_eq!(printed, format!("{pid} {pid}\n/proc\n"));
        }
    }

    #[test]
    fn the_child_starts_with_no_signal_blocked_and_sigpipe_at_its_default() {
        // The test harness, as any Rust program, ignores SIGPIPE (bit 13 of SigIgn).
        let script = "exec grep -E '^Sig(Blk|Ign)' /proc/self/status";
        let (_, printed) = run(&image("/bin/sh", script), None, ways()[1]).expect("starts");
        let mask = |name: &str| {
            let line = printed
                .lines()
                .find(|line| line.starts_with(name))
                .expect("the line");
            u64::from_str_radix(line.split_whitespace().nth(1).expect("a mask"), 16).expect("hex")
        };
        assert_eq!(mask("SigBlk:"), 0, "{printed}");
        assert_eq!(mask("SigIgn:") & (1 << (libc::SIGPIPE - 1)), 0, "{printed}");
    }

    #[test]
    fn the_child_joins_its_cgroup_by_writing_0_to_cgroup_procs_before_it_execs() {
        let null = File::open("/dev/null").expect("/dev/null");
        let fd = null.as_fd();
        for slots in ways() {
            let (mut joined, procs) = io::pipe().expect("pipe");
            let setup = Setup {
                image: &image("/bin/sh", "exit 0"),
                working_dir: None,
                stdio: [fd, fd, fd],
                cgroup_procs: Some(procs.as_fd()),
            };
            let child = start_one(&setup, slots).expect("starts");
            drop(procs);
            let mut written = String::new();
            joined.read_to_string(&mut written).expect("read");
            let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(child.pid), None);
            assert_eq!(written, "0");
        }
    }

    #[test]
    fn a_child_sharing_the_table_keeps_nothing_above_its_slots() {
        // Without close-on-exec, and high in the table: a copy of the whole table would pass it
        // on (were it not for `inherit_nothing`, which other tests here call).
        let null = File::open("/dev/null").expect("/dev/null");
        // SAFETY: a copy of an open descriptor, owned from here on.
        let leaked =
            unsafe { OwnedFd::from_raw_fd(libc::fcntl(null.as_raw_fd(), libc::F_DUPFD, 900)) };
        let number = leaked.as_raw_fd();
        let slots = Slots::new(1).expect("reserved");
        let kept_below = slots.lend().expect("a free group").kept_below();
        assert!(number >= kept_below);
        let script = format!("test -e /proc/self/fd/{number} && echo kept || echo gone");
        let (_, printed) = run(&image("/bin/sh", &script), None, Some(&slots)).expect("starts");
        assert_eq!(printed, "gone\n");
        assert!(slots.lend().is_some(), "the group was given back");
    }

    #[test]
    fn a_cgroup_descriptor_numbered_like_stdio_is_joined_before_stdio_replaces_it() {
        // A daemon started with 0, 1 or 2 closed may get cgroup.procs as one of them. Here the
        // test's own stderr stands in for it: the child's "0" must reach it, not the run's
        // stderr pipe that the child's descriptor 2 becomes.
        let null = File::open("/dev/null").expect("/dev/null");
        let (mut run_stderr, writer) = io::pipe().expect("pipe");
        // SAFETY: descriptor 2 is open for the whole test process's life.
        let numbered_like_stderr = unsafe { BorrowedFd::borrow_raw(2) };
        let setup = Setup {
            image: &image("/bin/sh", "exit 0"),
            working_dir: None,
            stdio: [null.as_fd(), null.as_fd(), writer.as_fd()],
            cgroup_procs: Some(numbered_like_stderr),
        };
        // Slots never hold 0, 1 or 2: the copy of the whole table is where this can happen.
        let child = start_one(&setup, None).expect("starts");
        drop(writer);
        let mut written = String::new();
        run_stderr.read_to_string(&mut written).expect("read");
        let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(child.pid), None);
        assert_eq!(written, "", "the join went into the run's stderr");
    }

    #[test]
    fn descriptors_the_daemon_inherited_are_not_passed_on() {
        let file = File::open("/dev/null").expect("/dev/null");
        // SAFETY: dup of an open descriptor; the copy lacks close-on-exec, as one a launcher
        // left open would.
        let inherited = unsafe { OwnedFd::from_raw_fd(libc::dup(file.as_raw_fd())) };
        let flags = |fd: &OwnedFd| rustix::io::fcntl_getfd(fd).expect("flags");
        assert!(!flags(&inherited).contains(rustix::io::FdFlags::CLOEXEC));
        inherit_nothing().expect("Linux 5.11 or later");
        assert!(flags(&inherited).contains(rustix::io::FdFlags::CLOEXEC));
    }

    #[test]
    fn the_pidfd_turns_readable_when_the_child_exits() {
        let (child, _) = run(&image("/bin/sh", "exit 0"), None, ways()[1]).expect("starts");
        let mut poll = libc::pollfd {
            fd: child.pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd; no wait (the child was reaped already).
        let ready = unsafe { libc::poll(&mut poll, 1, 0) };
        assert_eq!((ready, poll.revents & libc::POLLIN), (1, libc::POLLIN));
    }

    #[test]
    fn a_program_that_cannot_be_executed_fails_with_the_os_error() {
        for slots in ways() {
            let missing = start_alone(&image("/nonexistent/sh", "true"), None, slots);
            assert_eq!(missing.kind(), io::ErrorKind::NotFound, "{missing}");
            let not_executable = start_alone(&image("/etc/passwd", "true"), None, slots);
            assert_eq!(
                not_executable.kind(),
                io::ErrorKind::PermissionDenied,
                "{not_executable}"
            );
        }
    }

    #[test]
    fn children_started_side_by_side_each_get_their_own_stdio_and_their_own_failure() {
        // More children than go at once, and more than the slot groups: some share the table,
        // some get a copy of it.
        let slots = Slots::new(3).expect("reserved");
        let null = File::open("/dev/null").expect("/dev/null");
        let count = 2 * SIDE_BY_SIDE + 3;
        let images: Vec<Image> = (0..count)
            .map(|index| match index % 5 {
                4 => image("/nonexistent/sh", "true"),
                _ => image("/bin/sh", &format!("echo child {index}")),
            })
            .collect();
        let pipes: Vec<_> = (0..count).map(|_| io::pipe().expect("pipe")).collect();
        let setups: Vec<Setup<'_>> = images
            .iter()
            .zip(&pipes)
            .map(|(image, (_, writer))| Setup {
                image,
                working_dir: None,
                stdio: [null.as_fd(), writer.as_fd(), null.as_fd()],
                cgroup_procs: None,
            })
            .collect();
        let started = start_all_with(&setups, Some(&slots));
        drop(setups);
        assert_eq!(started.len(), count);
        for (index, (child, (mut reader, writer))) in started.into_iter().zip(pipes).enumerate() {
            drop(writer);
            let mut printed = String::new();
            reader.read_to_string(&mut printed).expect("read");
            match child {
                Ok(child) => {
                    assert_ne!(index % 5, 4, "child {index} started");
                    assert_eq!(printed, format!("child {index}\n"));
                    let status =
                        nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(child.pid), None);
                    assert!(matches!(
                        status,
                        Ok(nix::sys::wait::WaitStatus::Exited(_, 0))
                    ));
                }
                Err(error) => {
                    assert_eq!(index % 5, 4, "child {index}: {error}");
                    assert_eq!(error.kind(), io::ErrorKind::NotFound, "{error}");
                    assert_eq!(printed, "");
                }
            }
        }
        let groups: Vec<_> = std::iter::from_fn(|| slots.lend()).take(4).collect();
        assert_eq!(groups.len(), 3, "every group was given back");
    }

    #[test]
    fn a_child_that_fails_writes_nothing_into_the_spawning_threads_errno() {
        // The child shares this thread's memory, its errno included, and runs beside it.
        let errno = || {
            // SAFETY: this thread's errno, read.
            unsafe { *libc::__errno_location() }
        };
        // SAFETY: as above, written; no call below is expected to fail in this thread.
        unsafe { *libc::__errno_location() = libc::EOWNERDEAD };
        let error = start_alone(&image("/nonexistent/sh", "true"), None, ways()[1]);
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        if child_calls::SIDE_BY_SIDE {
            assert_eq!(errno(), libc::EOWNERDEAD, "the child's ENOENT is its own");
        }
    }

    #[test]
    fn a_working_dir_that_cannot_be_entered_says_so() {
        for slots in ways() {
            let error = start_alone(&image("/bin/sh", "true"), Some(c"/etc/passwd"), slots);
            assert_eq!(
                error.to_string(),
                "cannot enter the working_dir: Not a directory (os error 20)"
            );
        }
    }

    fn start_alone(image: &Image, working_dir: Option<&CStr>, slots: Option<&Slots>) -> io::Error {
        let null = File::open("/dev/null").expect("/dev/null");
        let fd = null.as_fd();
        let setup = Setup {
            image,
            working_dir,
            stdio: [fd, fd, fd],
            cgroup_procs: None,
        };
        start_one(&setup, slots).expect_err("does not start")
    }
}
