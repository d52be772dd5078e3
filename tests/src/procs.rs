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

/// Waits until `find` returns nothing, up to `limit`; returns what it found last.
pub fn wait_until_none(find: impl Fn() -> Vec<i32>, limit: std::time::Duration) -> Vec<i32> {
    wait_for(
        || {
            let found = find();
            found.is_empty().then_some(()).ok_or(found)
        },
        limit,
    )
    .err()
    .unwrap_or_default()
}

/// Waits until `find` returns something, up to `limit`.
pub fn wait_until_some(find: impl Fn() -> Vec<i32>, limit: std::time::Duration) -> Vec<i32> {
    wait_for(
        || {
            let found = find();
            if found.is_empty() {
                Err(found)
            } else {
                Ok(found)
            }
        },
        limit,
    )
    .unwrap_or_default()
}

/// Polls `check` every 10 ms until it is `Ok`, up to `limit`; the last `Err` on timeout.
fn wait_for<T, E>(check: impl Fn() -> Result<T, E>, limit: std::time::Duration) -> Result<T, E> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let result = check();
        if result.is_ok() || std::time::Instant::now() >= deadline {
            return result;
        }
        // A short wait between reads of /proc, bounded by the deadline above.
        let (_, waited) = std::sync::mpsc::channel::<()>();
        let _ = waited.recv_timeout(std::time::Duration::from_millis(10));
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
