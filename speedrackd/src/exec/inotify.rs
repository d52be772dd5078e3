//! Waiting, without polling, for a file to be modified: used on a cgroup's `cgroup.events`,
//! which the kernel marks modified when the cgroup empties. Reading the file is the caller's.

use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
use tokio::io::unix::AsyncFd;

/// An inotify watch for modifications of one file.
pub struct Watch {
    fd: AsyncFd<OwnedFd>,
}

impl Watch {
    pub fn modified(path: &Path) -> io::Result<Watch> {
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)?;
        inotify::add_watch(&fd, path, WatchFlags::MODIFY)?;
        Ok(Watch {
            fd: super::reap::register(fd)?,
        })
    }

    /// Resolves at the next modification (or at once if one is pending).
    pub async fn changed(&self) -> io::Result<()> {
        // Room for a few events; what they say does not matter, only that they came.
        let mut events = [0_u8; 1024];
        loop {
            let mut ready = self.fd.readable().await?;
            match ready.try_io(|fd| {
                rustix::io::read(fd.get_ref(), &mut events[..]).map_err(io::Error::from)
            }) {
                Ok(read) => return read.map(drop),
                Err(_would_block) => continue,
            }
        }
    }
}
