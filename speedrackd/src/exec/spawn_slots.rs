//! Descriptor numbers reserved at the bottom of the daemon's table, where a spawn puts what its
//! child needs (stdin, stdout, stderr, cgroup.procs) just before clone, so that the child can
//! keep the bottom of the table and nothing else.
//!
//! A child given its own copy of the table at clone (no CLONE_FILES) costs the spawning thread
//! a reference taken on every open descriptor, and every run in flight holds three (its output
//! pipes and its pidfd): with 6 000 runs due together, copying tables was most of what a run
//! cost the daemon (BENCHMARKS.md). A child that shares the table instead and first copies its
//! bottom alone (`close_range` with CLOSE_RANGE_UNSHARE) costs the same however many runs are
//! in flight.
//!
//! A group of slots is lent to one spawn at a time. What the spawn put in it is replaced by
//! /dev/null once the child has exec'd: a pipe's write end left there would keep the run's
//! output from ever ending.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::{Mutex, OnceLock, PoisonError};

use rustix::io::{DupFlags, dup3, fcntl_dupfd_cloexec};

/// stdin, stdout, stderr and cgroup.procs, in that order.
pub const PER_SPAWN: usize = 4;
/// The slot of a group that holds cgroup.procs; the stdio are 0, 1 and 2, as in the child.
pub const CGROUP_PROCS: usize = 3;

/// The daemon's groups, once reserved.
static RESERVED: OnceLock<Slots> = OnceLock::new();

/// Groups of reserved descriptors, each holding /dev/null while no spawn borrows it.
#[derive(Debug)]
pub struct Slots {
    free: Mutex<Vec<[OwnedFd; PER_SPAWN]>>,
    null: OwnedFd,
    /// The lowest descriptor above every slot: what a child keeps is below it.
    kept_below: RawFd,
}

/// Reserves `groups` groups, one for each child that may be between clone and exec at once,
/// for the life of the daemon. Called once at start, while the bottom of the table is all the
/// daemon holds.
pub fn reserve(groups: usize) -> io::Result<()> {
    let slots = Slots::new(groups)?;
    // A second call keeps the first groups; the new ones are closed.
    let _ = RESERVED.set(slots);
    Ok(())
}

/// The daemon's groups, if it reserved any.
pub fn reserved() -> Option<&'static Slots> {
    RESERVED.get()
}

impl Slots {
    /// `groups` groups of [`PER_SPAWN`] descriptors, numbered 3 or above (a child's stdio is
    /// copied from them onto 0, 1 and 2, which must not be among them).
    pub fn new(groups: usize) -> io::Result<Slots> {
        let null = fcntl_dupfd_cloexec(std::fs::File::open("/dev/null")?, 3)?;
        let mut free = Vec::with_capacity(groups);
        let mut kept_below = null.as_raw_fd() + 1;
        for _ in 0..groups {
            let group: [OwnedFd; PER_SPAWN] = [
                fcntl_dupfd_cloexec(&null, 3)?,
                fcntl_dupfd_cloexec(&null, 3)?,
                fcntl_dupfd_cloexec(&null, 3)?,
                fcntl_dupfd_cloexec(&null, 3)?,
            ];
            for slot in &group {
                kept_below = kept_below.max(slot.as_raw_fd() + 1);
            }
            free.push(group);
        }
        Ok(Slots {
            free: Mutex::new(free),
            null,
            kept_below,
        })
    }

    /// A group for one spawn; `None` while every group is lent.
    pub fn lend(&self) -> Option<Lent<'_>> {
        let group = self
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()?;
        Some(Lent {
            slots: self,
            group: Some(group),
            used: [false; PER_SPAWN],
        })
    }
}

/// A group lent to one spawn; given back, emptied, when dropped.
pub struct Lent<'a> {
    slots: &'a Slots,
    group: Option<[OwnedFd; PER_SPAWN]>,
    used: [bool; PER_SPAWN],
}

impl Lent<'_> {
    /// The first descriptor a child sharing the table does not keep.
    pub fn kept_below(&self) -> RawFd {
        self.slots.kept_below
    }

    /// Puts a copy of `fd` in slot `index` (close-on-exec, as the daemon's own are); returns
    /// the slot's number.
    pub fn put(&mut self, index: usize, fd: BorrowedFd<'_>) -> io::Result<RawFd> {
        let slot = self
            .group
            .as_mut()
            .and_then(|group| group.get_mut(index))
            .ok_or_else(|| io::Error::other(format!("no spawn slot {index}")))?;
        dup3(fd, slot, DupFlags::CLOEXEC)?;
        self.used[index] = true;
        Ok(slot.as_raw_fd())
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        let Some(mut group) = self.group.take() else {
            return;
        };
        let emptied = group
            .iter_mut()
            .zip(self.used)
            .filter(|(_, used)| *used)
            .all(|(slot, _)| dup3(self.slots.null.as_fd(), slot, DupFlags::CLOEXEC).is_ok());
        if emptied {
            self.slots
                .free
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(group);
        }
        // Otherwise the group is closed as it drops, with whatever it held: its numbers may be
        // taken by anything after, so it is never lent again.
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// What descriptor `number` of this process is, as /proc names it.
    fn what_is(number: RawFd) -> String {
        let link = std::fs::read_link(format!("/proc/self/fd/{number}")).expect("open");
        link.to_string_lossy().into_owned()
    }

    fn close_on_exec(number: RawFd) -> bool {
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{number}")).expect("open");
        let flags = info
            .lines()
            .find_map(|line| line.strip_prefix("flags:"))
            .expect("flags");
        let flags = i32::from_str_radix(flags.trim(), 8).expect("octal");
        flags & libc::O_CLOEXEC != 0
    }

    #[test]
    fn a_lent_group_holds_what_was_put_and_null_again_once_given_back() {
        let slots = Slots::new(1).expect("reserved");
        let (mut reader, writer) = io::pipe().expect("pipe");
        let pipe = what_is(writer.as_raw_fd());
        let number = {
            let mut lent = slots.lend().expect("a free group");
            assert!(slots.lend().is_none(), "one group, lent");
            let number = lent.put(1, writer.as_fd()).expect("put");
            assert!(number > 2 && number < lent.kept_below());
            assert_eq!(what_is(number), pipe);
            assert!(close_on_exec(number));
            number
        };
        assert_eq!(what_is(number), "/dev/null");
        // The slot no longer holds the write end: the pipe ends with the last one, here.
        drop(writer);
        let mut read = String::new();
        reader.read_to_string(&mut read).expect("end of the pipe");
        assert!(slots.lend().is_some(), "the group is free again");
    }
}
