//! Looking at processes through /proc, so tests need no procps on the machine.

use std::path::Path;

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
pub fn wait_until_group_gone(group: i32, limit: std::time::Duration) -> Vec<i32> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let members = group_members(group);
        if members.is_empty() || std::time::Instant::now() >= deadline {
            return members;
        }
        // A short wait between reads of /proc, bounded by the deadline above.
        let (_, waited) = std::sync::mpsc::channel::<()>();
        let _ = waited.recv_timeout(std::time::Duration::from_millis(10));
    }
}
