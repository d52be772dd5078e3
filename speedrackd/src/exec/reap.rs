//! Waiting for a run's process without reaping it, then reaping it with its resource usage.
//!
//! A pidfd tells us, asynchronously, that the process has exited; until we reap it the pid stays
//! a zombie, so its number (which is also the run's process group id) cannot be reused while we
//! clean up the group. Then `wait4` reaps it and reports CPU time, which neither std nor tokio
//! expose. Its peak RSS is kept in the usage but not trusted: the kernel counts the daemon's
//! memory, which the child shared until it exec'd (see `contain.rs`).

use std::io;
use std::os::fd::OwnedFd;
use std::time::Duration;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::run::{Exit, Usage};

/// A child we spawned and have not reaped.
#[derive(Debug)]
pub struct Child {
    pid: i32,
    exited: AsyncFd<OwnedFd>,
}

impl Child {
    /// Watches `pid`, which must be our own unreaped child, through its `pidfd`.
    pub fn watch(pid: i32, pidfd: OwnedFd) -> io::Result<Child> {
        Ok(Child {
            pid,
            exited: register(pidfd)?,
        })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Resolves once the process has exited; it is then a zombie until [`Child::reap`].
    pub async fn exited(&self) -> io::Result<()> {
        // A pidfd becomes readable when the process exits, and stays readable.
        let _guard = self.exited.readable().await?;
        Ok(())
    }

    /// Reaps the exited process, returning how it ended and what it used.
    pub fn reap(self) -> io::Result<(Exit, Usage)> {
        let (status, usage) = super::orphans::reap_owned(self.pid, || wait4(self.pid))?;
        let exit = if libc::WIFEXITED(status) {
            Exit::Code(libc::WEXITSTATUS(status))
        } else if libc::WIFSIGNALED(status) {
            Exit::Signal(libc::WTERMSIG(status))
        } else {
            return Err(io::Error::other(format!(
                "unexpected wait status {status:#x} of pid {}",
                self.pid
            )));
        };
        Ok((exit, usage))
    }
}

/// Registers a descriptor (a pidfd, an inotify, a pipe) with tokio's reactor, for reading.
pub(super) fn register(fd: OwnedFd) -> io::Result<AsyncFd<OwnedFd>> {
    register_or_return(fd).map_err(|(_, error)| error)
}

/// [`register`], giving the descriptor back with the error when the runtime refuses it.
#[allow(
    unsafe_code,
    reason = "tokio's registration is unsafe since it cannot check fd ownership"
)]
pub(super) fn register_or_return(fd: OwnedFd) -> Result<AsyncFd<OwnedFd>, (OwnedFd, io::Error)> {
    // SAFETY: the AsyncFd takes the OwnedFd, so the descriptor stays open, unshared and the same
    // for the AsyncFd's whole life, and `as_raw_fd` on an OwnedFd always returns it.
    unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
        .map_err(tokio::io::unix::AsyncFdRegisterError::into_parts)
}

/// `wait4(pid, &status, 0, &rusage)`.
#[allow(
    unsafe_code,
    reason = "wait4 is the only call that reaps a child with its rusage"
)]
fn wait4(pid: i32) -> io::Result<(libc::c_int, Usage)> {
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data, valid when zeroed; both pointers point to live, writable
    // locals for the duration of the call, and wait4 writes nothing else.
    let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: see above; `pid` is our own child, which has exited, so the call does not block.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut rusage) };
    if reaped != pid {
        return Err(io::Error::last_os_error());
    }
    let time = |tv: libc::timeval| {
        Duration::from_secs(u64::try_from(tv.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(tv.tv_usec).unwrap_or(0))
    };
    let usage = Usage {
        // Linux reports ru_maxrss in KiB.
        max_rss_bytes: u64::try_from(rusage.ru_maxrss).unwrap_or(0) * 1024,
        cpu_user: time(rusage.ru_utime),
        cpu_system: time(rusage.ru_stime),
    };
    Ok((status, usage))
}
