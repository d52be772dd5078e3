//! The system calls a new child makes between clone and exec, made without libc where the
//! daemon knows how.
//!
//! The child runs in the daemon's memory, thread-local storage included, so libc's wrappers
//! would write `errno` into the spawning thread's own. That thread goes on running beside its
//! children (`clone_exec.rs`), and its errors would read what a child wrote. On x86_64 and
//! aarch64 these calls are made by instruction: each returns its error number and touches no
//! memory but its arguments. Elsewhere they go through libc, and [`SIDE_BY_SIDE`] is false:
//! the spawning thread then waits for each child to exec before it does anything else.
#![allow(
    unsafe_code,
    reason = "raw system calls, on pointers the caller vouches for"
)]

use std::ffi::{c_char, c_int, c_long};

/// Whether a spawning thread may go on while its children run towards exec.
pub const SIDE_BY_SIDE: bool = cfg!(any(target_arch = "x86_64", target_arch = "aarch64"));

/// The kernel's `struct sigaction` where the handler comes first and the signal mask is 64
/// bits: 32 bytes on x86_64 and aarch64, as the kernel copies it.
#[repr(C)]
#[derive(Default)]
struct KernelAction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// The size of the kernel's signal set, which `rt_sigaction` and `rt_sigprocmask` check.
const SIGSET_BYTES: usize = 8;
const SIG_DFL: usize = 0;
const SIG_IGN: usize = 1;

/// `number` with `args`; the result, or the error number.
///
/// # Safety
/// The arguments must be what the call expects: any pointer valid for what it reads or writes.
#[cfg(target_arch = "x86_64")]
unsafe fn call(number: c_long, args: [usize; 6]) -> Result<usize, c_int> {
    let result: isize;
    // SAFETY: the kernel's x86_64 calling convention; it clobbers rcx and r11 alone.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") number as isize => result,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            in("r10") args[3],
            in("r8") args[4],
            in("r9") args[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
        );
    }
    returned(result)
}

/// See the x86_64 version.
///
/// # Safety
/// As there.
#[cfg(target_arch = "aarch64")]
unsafe fn call(number: c_long, args: [usize; 6]) -> Result<usize, c_int> {
    let result: isize;
    // SAFETY: the kernel's aarch64 calling convention; it clobbers nothing else.
    unsafe {
        std::arch::asm!(
            "svc 0",
            in("x8") number,
            inlateout("x0") args[0] as isize => result,
            in("x1") args[1],
            in("x2") args[2],
            in("x3") args[3],
            in("x4") args[4],
            in("x5") args[5],
            options(nostack, preserves_flags),
        );
    }
    returned(result)
}

/// Through libc, for the other architectures (with [`SIDE_BY_SIDE`] false).
///
/// # Safety
/// As for the x86_64 version.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
unsafe fn call(number: c_long, args: [usize; 6]) -> Result<usize, c_int> {
    // SAFETY: as the caller vouches; errno is read right after the call.
    unsafe {
        let result = libc::syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
        if result == -1 {
            return Err(*libc::__errno_location());
        }
        Ok(result as usize)
    }
}

/// The kernel returns an error as its negated number, from -4095 to -1.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn returned(result: isize) -> Result<usize, c_int> {
    if (-4095..0).contains(&result) {
        #[allow(clippy::cast_possible_truncation, reason = "from -4095 to -1: it fits")]
        return Err(-result as c_int);
    }
    Ok(result.cast_unsigned())
}

/// Whether `signal` has a handler, or is ignored, or neither; `None` when it cannot be read
/// (a number the kernel does not know).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn action(signal: c_int) -> Option<usize> {
    let mut current = KernelAction::default();
    let address = (&raw mut current).addr();
    // SAFETY: a valid place for the kernel to write the action; no new action is set.
    let read = unsafe {
        call(
            libc::SYS_rt_sigaction,
            [signal as usize, 0, address, SIGSET_BYTES, 0, 0],
        )
    };
    read.ok().map(|_| current.handler)
}

/// As above, through libc, whose `struct sigaction` fits every architecture.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn action(signal: c_int) -> Option<usize> {
    // SAFETY: a zeroed sigaction is plain data, and sigaction only fills it.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        (libc::sigaction(signal, std::ptr::null(), &mut current) == 0)
            .then_some(current.sa_sigaction)
    }
}

/// Puts every signal with a handler, and SIGPIPE (which Rust programs ignore), back to its
/// default action; other ignored signals stay ignored, as `exec` would keep them.
///
/// # Safety
/// Only in a child, with every signal blocked.
pub unsafe fn reset_signals() {
    let default = KernelAction::default();
    let address = (&raw const default).addr();
    for signal in 1..=64 {
        if signal == libc::SIGKILL || signal == libc::SIGSTOP {
            continue;
        }
        let Some(handler) = action(signal) else {
            continue;
        };
        let keep = handler == SIG_DFL || (handler == SIG_IGN && signal != libc::SIGPIPE);
        if !keep {
            // SAFETY: an all-zero action is SIG_DFL with no flags and an empty mask.
            let _ = unsafe {
                call(
                    libc::SYS_rt_sigaction,
                    [signal as usize, address, 0, SIGSET_BYTES, 0, 0],
                )
            };
        }
    }
}

/// Unblocks every signal.
///
/// # Safety
/// Only in a child whose handlers [`reset_signals`] reset.
pub unsafe fn unblock_signals() -> Result<(), c_int> {
    let none: u64 = 0;
    // SAFETY: a valid signal set of the kernel's size.
    unsafe {
        call(
            libc::SYS_rt_sigprocmask,
            [
                libc::SIG_SETMASK as usize,
                (&raw const none).addr(),
                0,
                SIGSET_BYTES,
                0,
                0,
            ],
        )
    }
    .map(drop)
}

/// Gives the child a descriptor table of its own holding only the descriptors below `first`.
pub fn keep_below(first: c_int) -> Result<(), c_int> {
    // SAFETY: no pointers.
    unsafe {
        call(
            libc::SYS_close_range,
            [
                first as usize,
                c_int::MAX as usize,
                libc::CLOSE_RANGE_UNSHARE as usize,
                0,
                0,
                0,
            ],
        )
    }
    .map(drop)
}

/// Writes `bytes` to `fd`; how many were written.
pub fn write(fd: c_int, bytes: &[u8]) -> Result<usize, c_int> {
    // SAFETY: the slice is valid for its length.
    unsafe {
        call(
            libc::SYS_write,
            [fd as usize, bytes.as_ptr().addr(), bytes.len(), 0, 0, 0],
        )
    }
}

/// Makes `target` a copy of `source`, which must differ from it.
pub fn copy_to(source: c_int, target: c_int) -> Result<(), c_int> {
    // SAFETY: no pointers.
    unsafe {
        call(
            libc::SYS_dup3,
            [source as usize, target as usize, 0, 0, 0, 0],
        )
    }
    .map(drop)
}

/// Makes the child the leader of a new process group.
pub fn own_process_group() -> Result<(), c_int> {
    // SAFETY: no pointers.
    unsafe { call(libc::SYS_setpgid, [0; 6]) }.map(drop)
}

/// Changes the working directory.
///
/// # Safety
/// `dir` must be a NUL-terminated string.
pub unsafe fn chdir(dir: *const c_char) -> Result<(), c_int> {
    // SAFETY: as the caller vouches.
    unsafe { call(libc::SYS_chdir, [dir.addr(), 0, 0, 0, 0, 0]) }.map(drop)
}

/// Replaces the child's program; returns only on failure, with its error number.
///
/// # Safety
/// The pointers must be what `execve` takes: a NUL-terminated path, and null-terminated
/// arrays of NUL-terminated strings.
pub unsafe fn execve(
    program: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    // SAFETY: as the caller vouches.
    let result = unsafe {
        call(
            libc::SYS_execve,
            [program.addr(), argv.addr(), envp.addr(), 0, 0, 0],
        )
    };
    result.err().unwrap_or(libc::ENOEXEC)
}

/// Ends the child with `status`.
pub fn exit(status: c_int) -> ! {
    loop {
        // SAFETY: no pointers; the call does not return.
        let _ = unsafe { call(libc::SYS_exit_group, [status as usize, 0, 0, 0, 0, 0]) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_its_number_and_no_errno_is_written() {
        // SAFETY: errno is this thread's; a sentinel no call below sets.
        unsafe { *libc::__errno_location() = libc::EOWNERDEAD };
        assert_eq!(copy_to(-1, 10_000), Err(libc::EBADF));
        assert_eq!(write(-1, b"x"), Err(libc::EBADF));
        assert_eq!(action(0), None, "signal 0 is no signal");
        if SIDE_BY_SIDE {
            // SAFETY: as above.
            assert_eq!(unsafe { *libc::__errno_location() }, libc::EOWNERDEAD);
        }
    }

    #[test]
    fn a_signals_action_reads_as_the_kernel_has_it() {
        // The test harness, as every Rust program, ignores SIGPIPE; SIGUSR2 is left alone.
        assert_eq!(action(libc::SIGPIPE), Some(SIG_IGN));
        assert_eq!(action(libc::SIGUSR2), Some(SIG_DFL));
    }
}
