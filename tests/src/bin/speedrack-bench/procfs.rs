//! What the kernel knows about the daemon: RSS, CPU time and context switches, from /proc and
//! the process's CPU clock.
//!
//! Reads only; it does not sample on its own, the scenarios decide when to look.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

/// One look at a process.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub rss_kib: u64,
    /// The part of RSS that is private memory (heap, stacks), not pages mapped from files.
    pub rss_anon_kib: u64,
    /// CPU time of the process, all its threads, ended ones included.
    pub cpu: Duration,
    /// Voluntary context switches summed over every thread: each is a sleep that ended.
    pub voluntary_switches: u64,
    pub involuntary_switches: u64,
}

/// The CPU time all of `pid`'s threads have used, ended ones included, to the nanosecond: the
/// kernel's own count, which /proc/PID/stat's utime + stime round to clock ticks (10 ms, a
/// few percent of a 20 s window of runs).
pub fn cpu_time(pid: u32) -> Result<Duration> {
    let pid = i32::try_from(pid).context("a pid fits in i32")?;
    let clock = nix::time::clock_getcpuclockid(nix::unistd::Pid::from_raw(pid))
        .with_context(|| format!("cannot find the CPU clock of process {pid}"))?;
    let time = nix::time::clock_gettime(clock)
        .with_context(|| format!("cannot read the CPU clock of process {pid}"))?;
    Ok(Duration::from(time))
}

/// The CPU time of `pid`'s live threads, summed by thread name (from /proc/PID/task/*/comm
/// and schedstat, in nanoseconds). A thread that ended is missing.
pub fn cpu_by_thread_name(pid: u32) -> Result<BTreeMap<String, Duration>> {
    let mut by_name = BTreeMap::new();
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .with_context(|| format!("cannot list the threads of process {pid}"))?;
    for task in tasks.filter_map(Result::ok) {
        // A thread may end between listing and reading: skip it.
        let (Ok(name), Ok(schedstat)) = (
            std::fs::read_to_string(task.path().join("comm")),
            std::fs::read_to_string(task.path().join("schedstat")),
        ) else {
            continue;
        };
        let Some(ns) = schedstat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse().ok())
        else {
            continue;
        };
        *by_name
            .entry(name.trim_end().to_owned())
            .or_insert(Duration::ZERO) += Duration::from_nanos(ns);
    }
    Ok(by_name)
}

fn status_field(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Reads RSS, CPU time and context switches of `pid`.
pub fn sample(pid: u32) -> Result<Sample> {
    let proc_dir = Path::new("/proc").join(pid.to_string());
    let status = std::fs::read_to_string(proc_dir.join("status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    let mut voluntary = 0;
    let mut involuntary = 0;
    for entry in std::fs::read_dir(proc_dir.join("task"))?.filter_map(Result::ok) {
        // A thread may end between listing and reading: skip it.
        let Ok(thread) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        voluntary += status_field(&thread, "voluntary_ctxt_switches:").unwrap_or(0);
        involuntary += status_field(&thread, "nonvoluntary_ctxt_switches:").unwrap_or(0);
    }
    Ok(Sample {
        rss_kib: status_field(&status, "VmRSS:").context("no VmRSS")?,
        rss_anon_kib: status_field(&status, "RssAnon:").context("no RssAnon")?,
        cpu: cpu_time(pid)?,
        voluntary_switches: voluntary,
        involuntary_switches: involuntary,
    })
}

/// Where a process's resident memory is, in KiB, grouped by what maps it (from
/// `/proc/PID/smaps`): the program's own file, shared libraries, the main heap, anonymous
/// mappings (other malloc arenas, thread stacks, large allocations) and other files.
pub fn rss_breakdown(pid: u32) -> Result<Vec<(&'static str, u64)>> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps"))
        .with_context(|| format!("cannot read /proc/{pid}/smaps"))?;
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))?;
    let exe = exe.to_string_lossy().into_owned();
    let groups = [
        "program file",
        "shared libraries",
        "main heap ([heap])",
        "anonymous (arenas, stacks, large allocations)",
        "other files and kernel mappings",
    ];
    let mut totals = [0u64; 5];
    let mut group = 4;
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        if first.contains('-') && first.chars().next().is_some_and(|c| c.is_ascii_hexdigit()) {
            let name = words.nth(4).unwrap_or("");
            group = match name {
                "" => 3,
                "[heap]" => 2,
                name if name == exe => 0,
                name if name.contains(".so") => 1,
                _ => 4,
            };
        } else if first == "Rss:" {
            totals[group] += words.next().and_then(|kib| kib.parse().ok()).unwrap_or(0);
        }
    }
    Ok(groups.into_iter().zip(totals).collect())
}

/// The machine: CPU model and count, for the report.
pub fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    format!("{cpus} × {model}")
}
