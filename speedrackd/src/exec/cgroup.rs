//! A cgroup v2 per run, under a cgroup the daemon may manage: finding that cgroup, making the
//! run's, killing all of it at once (`cgroup.kill`), reading what it used, and removing it.
//!
//! The parent is the daemon's own cgroup when systemd delegated it (`Delegate=yes`, which
//! systemd marks with the `trusted.delegate` or `user.delegate` xattr), or a directory the
//! settings name (`run_cgroup`). Nothing here decides when to kill; `contain` does.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the daemon moves itself when the parent is its own cgroup: cgroup v2 lets a cgroup
/// with processes in it enable no controller for its children ("no internal processes").
const DAEMON_LEAF: &str = "speedrackd";
/// Prefix of the runs' cgroups, `run-OWNER-ID` (see [`run_prefix`]).
const RUN_PREFIX: &str = "run-";
/// Controllers worth having per run: `memory` gives `memory.peak`.
const WANTED_CONTROLLERS: &[&str] = &["memory", "pids"];

/// The cgroup whose children are the runs' cgroups.
#[derive(Debug, Clone)]
pub struct Parent {
    dir: PathBuf,
    /// This daemon's runs' cgroups are named with it; others sharing `dir` have their own.
    prefix: String,
}

/// One run's cgroup.
#[derive(Debug)]
pub struct Run {
    dir: PathBuf,
    /// `cgroup.procs`, opened before the spawn: the child writes `0` into it before exec.
    /// Closed once the child is spawned ([`Run::joined`]).
    procs: Option<OwnedFd>,
}

/// What a run's cgroup used, read once it is empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// `memory.peak`; `None` without the memory controller (or before Linux 5.19).
    pub memory_peak: Option<u64>,
    pub cpu_user: Duration,
    pub cpu_system: Duration,
}

impl Parent {
    /// The daemon's own cgroup if systemd delegated it to the daemon; `Ok(None)` otherwise.
    /// `data_dir` is the daemon's, which names its runs' cgroups.
    pub fn delegated(data_dir: &Path) -> io::Result<Option<Parent>> {
        let cgroup = std::fs::read_to_string("/proc/self/cgroup")?;
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")?;
        let Some(dir) = own_cgroup_dir(&cgroup, &mountinfo) else {
            return Ok(None);
        };
        if !is_delegated(&dir) {
            return Ok(None);
        }
        Parent::at(&dir, data_dir).map(Some)
    }

    /// Runs' cgroups under `dir`, which must be a cgroup v2 directory with `cgroup.kill`
    /// (Linux 5.14). When the daemon itself is in `dir`, it moves into a leaf of its own first.
    /// `data_dir` is the daemon's, which names its runs' cgroups.
    pub fn at(dir: &Path, data_dir: &Path) -> io::Result<Parent> {
        for file in ["cgroup.procs", "cgroup.kill", "cgroup.subtree_control"] {
            if !dir.join(file).exists() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "{} is not a cgroup v2 directory with {file} (Linux 5.14 or later)",
                        dir.display()
                    ),
                ));
            }
        }
        let me = std::process::id().to_string();
        let procs = std::fs::read_to_string(dir.join("cgroup.procs"))?;
        if procs.lines().any(|pid| pid == me) {
            let leaf = dir.join(DAEMON_LEAF);
            mkdir(&leaf)?;
            std::fs::write(leaf.join("cgroup.procs"), &me)?;
        }
        let parent = Parent {
            dir: dir.to_path_buf(),
            prefix: run_prefix(data_dir),
        };
        parent.enable_controllers();
        Ok(parent)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Turns on the wanted controllers the parent offers; one refused (other processes in the
    /// parent, say) only costs its figures.
    fn enable_controllers(&self) {
        let offered =
            std::fs::read_to_string(self.dir.join("cgroup.controllers")).unwrap_or_default();
        for controller in offered
            .split_whitespace()
            .filter(|name| WANTED_CONTROLLERS.contains(name))
        {
            let control = self.dir.join("cgroup.subtree_control");
            if let Err(error) = std::fs::write(&control, format!("+{controller}")) {
                tracing::info!(
                    "cannot enable the {controller} controller in {}: {error}; runs' figures go without it",
                    control.display()
                );
            }
        }
    }

    /// Creates the cgroup of run `run`. A leftover of that name (a crash) is emptied first.
    pub fn create_run(&self, run: i64) -> io::Result<Run> {
        let dir = self.dir.join(format!("{}{run}", self.prefix));
        let left_over = mkdir(&dir)?;
        let procs = OpenOptions::new()
            .write(true)
            .open(dir.join("cgroup.procs"))?;
        let cgroup = Run {
            dir,
            procs: Some(procs.into()),
        };
        if left_over {
            cgroup.kill()?;
        }
        Ok(cgroup)
    }

    /// Kills what is left in every cgroup of this daemon's runs (at shutdown, or after a crash)
    /// and removes the empty ones; returns how many held processes. Other daemons' runs sharing
    /// the parent are left alone.
    pub fn kill_all_runs(&self) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut killed = 0;
        for entry in entries.filter_map(Result::ok) {
            if !entry
                .file_name()
                .to_string_lossy()
                .starts_with(&self.prefix)
            {
                continue;
            }
            let dir = entry.path();
            if populated(&dir) {
                killed += 1;
                let _ = std::fs::write(dir.join("cgroup.kill"), "1");
            }
            // Still busy right after the kill: removed when the run of that id is made again,
            // or at the next start.
            let _ = std::fs::remove_dir(&dir);
        }
        killed
    }
}

impl Run {
    /// The descriptor a child writes `0` into to join the cgroup; `None` once [`Run::joined`].
    pub fn procs(&self) -> Option<BorrowedFd<'_>> {
        self.procs.as_ref().map(AsFd::as_fd)
    }

    /// The child is spawned (it joined before exec, or failed to start): the descriptor is
    /// not needed any more, and a run should hold no more descriptors than its pipes.
    pub fn joined(&mut self) {
        self.procs = None;
    }

    /// The processes in the cgroup now.
    pub fn pids(&self) -> Vec<i32> {
        // As long as the run has processes; the kernel's pids limit bounds it.
        std::fs::read_to_string(self.dir.join("cgroup.procs"))
            .map(|procs| procs.lines().filter_map(|pid| pid.parse().ok()).collect())
            .unwrap_or_default()
    }

    /// SIGKILL to every process in the cgroup, wherever it went in the process tree.
    pub fn kill(&self) -> io::Result<()> {
        std::fs::write(self.dir.join("cgroup.kill"), "1")
    }

    /// Waits until no process is left (killed ones take a moment to exit), up to `limit`.
    pub async fn wait_empty(&self, limit: Duration) -> bool {
        let events = self.dir.join("cgroup.events");
        let Ok(watch) = super::inotify::Watch::modified(&events) else {
            return !populated(&self.dir);
        };
        let wait = async {
            while populated(&self.dir) {
                if watch.changed().await.is_err() {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(limit, wait).await;
        !populated(&self.dir)
    }

    /// What the run used, in all its processes.
    pub fn figures(&self) -> Figures {
        let cpu = read_small(&self.dir.join("cpu.stat")).unwrap_or_default();
        let (cpu_user, cpu_system) = cpu_times(&cpu);
        let memory_peak = read_small(&self.dir.join("memory.peak"))
            .ok()
            .and_then(|text| text.trim().parse().ok());
        Figures {
            memory_peak,
            cpu_user,
            cpu_system,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Run {
    /// However the run ends (its spawn failed, it could not be watched, it finished), its
    /// cgroup goes with it: whatever is left in it is killed and the directory removed, best
    /// effort. One still busy is removed at the next start ([`Parent::kill_all_runs`]).
    fn drop(&mut self) {
        if populated(&self.dir) {
            let _ = self.kill();
        }
        if let Err(error) = std::fs::remove_dir(&self.dir) {
            tracing::warn!(
                "cannot remove the cgroup {} of a finished run: {error}; it is removed at the next start",
                self.dir.display()
            );
        }
    }
}

/// The prefix of the runs' cgroups of the daemon whose data dir is `data_dir`. Run ids start
/// at 1 in every database: daemons sharing a parent must never take each other's runs for
/// their own leftovers.
fn run_prefix(data_dir: &Path) -> String {
    let path = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    // FNV-1a: stable across builds and Rust versions (std's hasher is not), so a restarted
    // daemon finds its own leftovers.
    let hash = path
        .as_os_str()
        .as_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("{RUN_PREFIX}{hash:016x}-")
}

/// Creates `dir`; true when it was there already.
fn mkdir(dir: &Path) -> io::Result<bool> {
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(false),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(true),
        Err(error) => Err(error),
    }
}

fn populated(dir: &Path) -> bool {
    read_small(&dir.join("cgroup.events"))
        .map(|events| events.lines().any(|line| line == "populated 1"))
        .unwrap_or(false)
}

/// A cgroup interface file: a few lines, read in one go.
fn read_small(path: &Path) -> io::Result<String> {
    let mut text = String::new();
    File::open(path)?.take(4096).read_to_string(&mut text)?;
    Ok(text)
}

/// `user_usec` and `system_usec` of a `cpu.stat`.
fn cpu_times(stat: &str) -> (Duration, Duration) {
    let field = |name: &str| {
        stat.lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse::<u64>().ok())
            .map_or(Duration::ZERO, Duration::from_micros)
    };
    (field("user_usec "), field("system_usec "))
}

/// The daemon's cgroup v2 directory, from /proc/self/cgroup (`0::/PATH`) and the cgroup2 mount
/// in /proc/self/mountinfo; `None` in the root cgroup (never the daemon's to manage) or without
/// cgroup v2.
fn own_cgroup_dir(cgroup: &str, mountinfo: &str) -> Option<PathBuf> {
    let path = cgroup.lines().find_map(|line| line.strip_prefix("0::"))?;
    if path == "/" {
        return None;
    }
    let (root, mount_point) = mountinfo.lines().find_map(|line| {
        let (mount, fs) = line.split_once(" - ")?;
        if !fs.starts_with("cgroup2 ") {
            return None;
        }
        let fields: Vec<&str> = mount.split(' ').collect();
        Some((*fields.get(3)?, *fields.get(4)?))
    })?;
    // Inside a cgroup namespace the mount's root may be below the hierarchy's.
    let relative = path.strip_prefix(root.trim_end_matches('/'))?;
    Some(Path::new(mount_point).join(relative.trim_start_matches('/')))
}

/// Whether systemd delegated the cgroup (`Delegate=yes`): it sets these xattrs to "1".
fn is_delegated(dir: &Path) -> bool {
    ["trusted.delegate", "user.delegate"].iter().any(|name| {
        let mut value = [0_u8; 8];
        rustix::fs::getxattr(dir, *name, &mut value).is_ok_and(|len| &value[..len] == b"1")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn finds_the_daemons_cgroup_under_the_cgroup2_mount() {
        let check = |cgroup: &str, mountinfo: &str, expected: Option<&str>| {
            assert_eq!(
                own_cgroup_dir(cgroup, mountinfo),
                expected.map(PathBuf::from),
                "{cgroup}"
            );
        };
        check(
            "1:cpu:/\n0::/system.slice/speedrackd.service\n",
            MOUNTINFO,
            Some("/sys/fs/cgroup/unified/system.slice/speedrackd.service"),
        );
        check("0::/\n", MOUNTINFO, None);
        check("4:memory:/x\n", MOUNTINFO, None);
        check("0::/a/b\n", "1 2 0:1 / /proc rw - proc proc rw\n", None);
        let namespaced = "7 1 0:9 /lxc/c1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        check("0::/lxc/c1/svc\n", namespaced, Some("/sys/fs/cgroup/svc"));
    }

    #[test]
    fn each_data_dir_names_its_runs_cgroups_apart_and_always_the_same() {
        let one = run_prefix(Path::new("/nonexistent/speedrack/one"));
        let two = run_prefix(Path::new("/nonexistent/speedrack/two"));
        assert_ne!(one, two);
        assert_eq!(one, run_prefix(Path::new("/nonexistent/speedrack/one")));
        assert_eq!(run_prefix(Path::new("")), "run-cbf29ce484222325-");
        assert!(!two.starts_with(&one) && !one.starts_with(&two));
    }

    #[test]
    fn reads_user_and_system_time_of_cpu_stat() {
        let stat = "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnice_usec 0\n";
        assert_eq!(
            cpu_times(stat),
            (Duration::from_secs(2), Duration::from_millis(500))
        );
        assert_eq!(cpu_times(""), (Duration::ZERO, Duration::ZERO));
    }
}
