//! Looking at processes through /proc, so tests need no procps on the machine, and waiting
//! for them to go through pidfds, so no test polls /proc on a timer.

use std::path::Path;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::process::PidfdFlags;

/// `(pid, parent pid, process group)` of every live process (zombies are dead: left out).
fn processes() -> Vec<(i32, i32, i32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            stat_of(&Path::new("/proc").join(pid.to_string()).join("stat"))
                .map(|(ppid, pgrp)| (pid, ppid, pgrp))
        })
        .collect()
}

/// Parent pid and process group from a /proc/PID/stat file; the command name may hold spaces,
/// so fields are counted from the closing parenthesis.
fn stat_of(path: &Path) -> Option<(i32, i32)> {
    let stat = std::fs::read_to_string(path).ok()?;
    let mut fields = stat[stat.rfind(')')? + 2..].split(' ');
    if matches!(fields.next()?, "Z" | "X") {
        return None;
    }
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((ppid, pgrp))
}

/// Children of `parent` as `(pid, process group)`.
pub fn children_of(parent: u32) -> Vec<(i32, i32)> {
    let parent = i32::try_from(parent).expect("pid fits in i32");
    processes()
        .into_iter()
        .filter(|(_, ppid, _)| *ppid == parent)
        .map(|(pid, _, pgrp)| (pid, pgrp))
        .collect()
}

/// Live (not zombie-reaped) members of a process group.
pub fn group_members(group: i32) -> Vec<i32> {
    processes()
        .into_iter()
        .filter(|(_, _, pgrp)| *pgrp == group)
        .map(|(pid, _, _)| pid)
        .collect()
}

/// Waits until no live process is left in a group, up to `limit`; returns who is still there.
/// Killed processes take a moment to die, so a check right after a kill would race.
pub fn wait_until_group_gone(group: i32, limit: Duration) -> Vec<i32> {
    wait_until_none(|| group_members(group), limit)
}

/// Live processes whose environment holds every `NAME=value` of `vars` (the way the daemon
/// marks a run's processes: `SPEEDRACK_RUN_ID`, `SPEEDRACK_TASK`).
pub fn with_environment(vars: &[(&str, &str)]) -> Vec<i32> {
    let wanted: Vec<Vec<u8>> = vars
        .iter()
        .map(|(name, value)| format!("{name}={value}").into_bytes())
        .collect();
    processes()
        .into_iter()
        .map(|(pid, _, _)| pid)
        .filter(|pid| {
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            let entries: Vec<&[u8]> = environ.split(|byte| *byte == 0).collect();
            wanted.iter().all(|want| entries.contains(&want.as_slice()))
        })
        .collect()
}

/// Live processes whose command line holds `text` (arguments joined by spaces).
pub fn with_command_line(text: &str) -> Vec<i32> {
    processes()
        .into_iter()
        .map(|(pid, _, _)| pid)
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let joined: Vec<u8> = cmdline
                .iter()
                .map(|byte| if *byte == 0 { b' ' } else { *byte })
                .collect();
            String::from_utf8_lossy(&joined).contains(text)
        })
        .collect()
}

/// Zombies whose parent is `parent`: exited, and nobody reaped them.
pub fn zombies_of(parent: u32) -> Vec<i32> {
    let parent = i32::try_from(parent).expect("pid fits in i32");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let Some(close) = stat.rfind(')') else {
                return false;
            };
            let mut fields = stat[close + 2..].split(' ');
            fields.next() == Some("Z") && fields.next() == Some(parent.to_string().as_str())
        })
        .collect()
}

/// Waits until `find` (live processes) returns nothing, up to `limit`; returns what it found
/// last. Between two looks it blocks until one of the processes found exits.
pub fn wait_until_none(find: impl Fn() -> Vec<i32>, limit: Duration) -> Vec<i32> {
    wait_until_gone(find, Gone::Exited, limit)
}

/// Waits until `find` (zombies) returns nothing, up to `limit`; returns what it found last.
/// Between two looks it blocks until one of the zombies found is reaped by its parent.
pub fn wait_until_reaped(find: impl Fn() -> Vec<i32>, limit: Duration) -> Vec<i32> {
    wait_until_gone(find, Gone::Reaped, limit)
}

/// When a process no longer counts: once it exited (a live set), or once its parent reaped it
/// (a set of zombies, which have already exited).
#[derive(Clone, Copy)]
enum Gone {
    Exited,
    Reaped,
}

fn wait_until_gone(find: impl Fn() -> Vec<i32>, gone: Gone, limit: Duration) -> Vec<i32> {
    let deadline = Instant::now() + limit;
    loop {
        let found = find();
        let left = deadline.saturating_duration_since(Instant::now());
        if found.is_empty() || left.is_zero() {
            return found;
        }
        wait_for_any(&found, gone, left);
    }
}

/// Blocks until one of `pids` is gone, or `limit` passes. A pidfd is readable once its process
/// exited and reports a hang-up once it was reaped, so nothing here wakes up to look again.
fn wait_for_any(pids: &[i32], gone: Gone, limit: Duration) {
    let mut pidfds = Vec::with_capacity(pids.len());
    for pid in pids {
        let pidfd = rustix::process::Pid::from_raw(*pid)
            .and_then(|pid| rustix::process::pidfd_open(pid, PidfdFlags::empty()).ok());
        // No pidfd: the process is gone already, so the caller should look again now.
        let Some(pidfd) = pidfd else { return };
        pidfds.push(pidfd);
    }
    // A hang-up is reported whatever is asked for; readable is asked only for an exit.
    let wanted = match gone {
        Gone::Exited => PollFlags::IN,
        Gone::Reaped => PollFlags::empty(),
    };
    let mut polled: Vec<PollFd<'_>> = pidfds
        .iter()
        .map(|pidfd| PollFd::new(pidfd, wanted))
        .collect();
    let timeout = Timespec::try_from(limit).expect("a test's wait fits in a timespec");
    match rustix::event::poll(&mut polled, Some(&timeout)) {
        Ok(_) | Err(rustix::io::Errno::INTR) => {}
        Err(error) => panic!("poll the pidfds of {pids:?}: {error}"),
    }
}

/// What the open descriptors of `pid` point to (paths, `pipe:[…]`, `socket:[…]`).
pub fn open_files(pid: u32) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| std::fs::read_link(entry.path()).ok())
        .collect()
}
