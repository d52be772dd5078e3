//! Looking at processes through /proc, so tests need no procps on the machine.

use std::path::Path;

/// `(pid, parent pid, process group)` of every process visible now.
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
    let _state = fields.next()?;
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

/// Kills a whole process group, for tests that leave one behind on purpose.
pub fn kill_group(group: i32) {
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(group),
        nix::sys::signal::Signal::SIGKILL,
    );
}
