//! Signalling a run's process group, and finding processes left in it.

use std::io;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Sends `signal` to every process of a group. A group that is already gone is not an error: the
/// point is that nothing of the run is left.
pub fn signal_group(process_group: i32, signal: Signal) -> io::Result<()> {
    match killpg(Pid::from_raw(process_group), signal) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(errno) => Err(io::Error::from(errno)),
    }
}

/// Process groups of the processes whose environment holds every one of `vars` (read from
/// /proc/PID/environ, which the daemon can read for its own user's processes).
pub fn groups_with_environment(vars: &[(&str, &str)]) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let wanted: Vec<Vec<u8>> = vars
        .iter()
        .map(|(name, value)| format!("{name}={value}").into_bytes())
        .collect();
    let mut groups: Vec<i32> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| has_environment(*pid, &wanted))
        .filter_map(group_of)
        .collect();
    groups.sort_unstable();
    groups.dedup();
    groups
}

/// Whether the environment of `pid` holds every `NAME=value` of `wanted`. A zombie's is empty.
pub(super) fn has_environment(pid: i32, wanted: &[Vec<u8>]) -> bool {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    let entries: Vec<&[u8]> = environ.split(|byte| *byte == 0).collect();
    wanted.iter().all(|want| entries.contains(&want.as_slice()))
}

/// How many processes other than `leader` are in the group now (read from /proc).
pub fn members_besides(process_group: i32, leader: i32) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != leader)
        .filter(|pid| group_of(*pid) == Some(process_group))
        .count()
}

/// The process group of `pid`, from /proc/PID/stat (the name field may hold spaces and
/// parentheses, so fields are counted from the last `)`).
pub(super) fn group_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].split(' ').nth(2)?.parse().ok()
}

/// When the process started, in clock ticks since boot (field 22 of /proc/PID/stat). With the
/// pid it identifies a process for good: a reused pid has another start time.
pub fn start_ticks(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..]
        .split(' ')
        .nth(19)?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_group_and_start_time() {
        let me = i32::try_from(std::process::id()).expect("pid fits");
        let group = nix::unistd::getpgrp().as_raw();
        assert_eq!(group_of(me), Some(group));
        assert!(start_ticks(me).is_some_and(|ticks| ticks > 0));
        assert_eq!(start_ticks(i32::MAX), None);
    }
}
