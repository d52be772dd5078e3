//! `peers`: what one run costs speedrackd beside what it costs two cron daemons that record
//! nothing, on this machine and under one load: [`JOBS`] jobs due at every minute, each
//! appending a line to a file, so that every scheduler's runs are counted the same way.
//!
//! Each scheduler gets one minute boundary inside a window that opens [`BEFORE`] it and lasts
//! a minute; its CPU is its own (utime + stime of all its threads, from /proc), never its
//! children's. Peers run in the foreground as root, which they need to run a job as its user:
//! busybox's `crond` (Debian's `busybox-static`: the plain `busybox` package has none) and
//! Debian's `cron` (Vixie cron 3.0). Debian's cron reads its jobs from `/etc/cron.d`, so it
//! runs in a mount namespace of its own where the bench's directory is mounted there: nothing
//! is written under `/etc`. A peer is killed when the bench ends or dies; one that cannot run
//! here is reported as not measured, with what it needs.
//!
//! Debian's cron forks a helper for each job that waits for it and collects its output for
//! mail; the helper is a child, so its CPU is not counted as cron's.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use super::daemon::{BenchDaemon, SERVICE_ENV};
use super::guarded::{Guarded, KILL_AT_EOF};
use super::procfs::cpu_time;
use super::report::Report;

/// Jobs due at every minute: enough that a minute's CPU is hundreds of clock ticks.
const JOBS: usize = 6000;
/// How long before the minute boundary a window opens; the burst ends well within the
/// remaining 40 s of it.
const BEFORE: Duration = Duration::from_secs(20);
const WINDOW: Duration = Duration::from_secs(60);
/// Time a scheduler is given to read its jobs before a window may open.
const SETTLE: Duration = Duration::from_secs(5);

/// A scheduler's runs and CPU over one window.
struct Measured {
    runs: u64,
    cpu_ms_per_run: f64,
}

/// The job every scheduler runs: the shell's own `echo`, appending to `count`.
fn job(count: &Path) -> String {
    format!("echo >> {}", count.display())
}

fn lines_in(path: &Path) -> Result<u64> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(bytes.iter().filter(|byte| **byte == b'\n').count() as u64),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// How long after `now` (since the epoch) a window may open: [`BEFORE`] the next minute
/// boundary that leaves [`SETTLE`] after `now`.
fn until_window(now: Duration) -> Duration {
    const MINUTE_MS: u128 = 60_000;
    let opens_at = MINUTE_MS - BEFORE.as_millis();
    let into_minute = now.as_millis() % MINUTE_MS;
    let until = Duration::from_millis(((opens_at + MINUTE_MS - into_minute) % MINUTE_MS) as u64);
    if until < SETTLE {
        until + Duration::from_secs(60)
    } else {
        until
    }
}

/// `pid`'s CPU per run over one window, runs counted as lines of `count`.
async fn measure(pid: u32, count: &Path) -> Result<Measured> {
    #[allow(
        clippy::disallowed_methods,
        reason = "the schedulers fire at the wall clock's minute boundaries, which the window is placed around"
    )]
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the clock is before 1970")?;
    tokio::time::sleep(until_window(now)).await;
    let (cpu_before, runs_before) = (cpu_time(pid)?, lines_in(count)?);
    tokio::time::sleep(WINDOW).await;
    let (cpu_after, runs_after) = (cpu_time(pid)?, lines_in(count)?);
    let runs = runs_after.saturating_sub(runs_before);
    if runs == 0 {
        bail!("no job ran in the window");
    }
    let cpu_ms = cpu_after.saturating_sub(cpu_before).as_secs_f64() * 1e3;
    Ok(Measured {
        runs,
        cpu_ms_per_run: cpu_ms / runs as f64,
    })
}

async fn speedrackd(dir: &Path) -> Result<Measured> {
    let count = dir.join("speedrackd.count");
    let mut yaml = String::from("tasks:\n");
    for index in 0..JOBS {
        yaml.push_str(&format!(
            "  - name: p_{index}\n    command: '{}'\n    cron: '* * * * *'\n",
            job(&count)
        ));
    }
    let daemon = BenchDaemon::start(&yaml, None)?;
    measure(daemon.pid(), &count).await
}

/// An executable named `name` on the service PATH.
fn program(name: &str) -> Option<PathBuf> {
    let (_, path) = SERVICE_ENV[0];
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// busybox with its crond applet: `SPEEDRACK_BUSYBOX`, else `busybox` on the service PATH.
fn busybox_with_crond() -> Result<PathBuf> {
    let busybox = std::env::var_os("SPEEDRACK_BUSYBOX")
        .map(PathBuf::from)
        .or_else(|| program("busybox"))
        .context("no busybox (apt-get install busybox-static, or set SPEEDRACK_BUSYBOX)")?;
    let applets = Command::new(&busybox)
        .arg("--list")
        .output()
        .with_context(|| format!("cannot run {}", busybox.display()))?;
    if !String::from_utf8_lossy(&applets.stdout)
        .lines()
        .any(|applet| applet == "crond")
    {
        bail!(
            "{} has no crond applet (Debian's busybox-static has one)",
            busybox.display()
        );
    }
    Ok(busybox)
}

fn need_root() -> Result<()> {
    if !rustix::process::geteuid().is_root() {
        bail!("runs its jobs as root, so the bench must run as root");
    }
    Ok(())
}

/// Whether a process named `name` runs here.
fn running(name: &str) -> bool {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("comm")).ok())
        .any(|comm| comm.trim_end() == name)
}

/// Starts `program` with `args` as a peer, killed when the bench drops it or dies. With
/// `cron_d`, it sees that directory as `/etc/cron.d`, in a mount namespace of its own.
fn start(program: &Path, args: &[&OsStr], cron_d: Option<&Path>) -> Result<Guarded> {
    // $1 is the directory to mount (or nothing), the rest the peer's command line.
    let script = format!(
        r#"dir=$1; shift
[ -z "$dir" ] || mount --bind "$dir" /etc/cron.d || exit
"$@" </dev/null >/dev/null 2>&1 &
{KILL_AT_EOF}"#
    );
    let mut shell = Command::new("unshare");
    shell
        .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg(script)
        .arg("sh")
        .arg(cron_d.map_or(OsStr::new(""), Path::as_os_str))
        .arg(program)
        .args(args)
        .env_clear()
        .envs(SERVICE_ENV)
        .stderr(Stdio::null());
    let what = format!("{} (through util-linux's unshare)", program.display());
    Guarded::start(shell, &what)
}

async fn busybox_crond(dir: &Path) -> Result<Measured> {
    need_root()?;
    let busybox = busybox_with_crond()?;
    let count = dir.join("busybox.count");
    let crontabs = dir.join("crontabs");
    std::fs::create_dir(&crontabs)?;
    let line = format!("* * * * * {}\n", job(&count));
    std::fs::write(crontabs.join("root"), line.repeat(JOBS))?;
    let log = dir.join("crond.log");
    let args = [
        OsStr::new("crond"),
        OsStr::new("-f"),
        OsStr::new("-c"),
        crontabs.as_os_str(),
        OsStr::new("-L"),
        log.as_os_str(),
    ];
    let peer = start(&busybox, &args, None)?;
    measure(peer.pid(), &count).await
}

async fn debian_cron(dir: &Path) -> Result<Measured> {
    need_root()?;
    let cron = program("cron").context("no cron (apt-get install --no-install-recommends cron)")?;
    if running("cron") || running("crond") {
        // Debian's cron runs once per machine (it locks /run/crond.pid).
        bail!("a cron daemon already runs here, and Debian's cron starts only once per machine");
    }
    let count = dir.join("cron.count");
    let cron_d = dir.join("cron.d");
    std::fs::create_dir(&cron_d)?;
    let line = format!("* * * * * root {}\n", job(&count));
    // Debian's cron skips a file whose name has a dot, and one writable by group or others.
    let jobs = cron_d.join("speedrack-bench");
    std::fs::write(&jobs, line.repeat(JOBS))?;
    std::fs::set_permissions(&jobs, std::fs::Permissions::from_mode(0o644))?;
    let peer = start(&cron, &[OsStr::new("-f")], Some(&cron_d))?;
    measure(peer.pid(), &count).await
}

/// Runs the scenario: speedrackd, then each peer, one window each.
pub async fn run() -> Result<Report> {
    let dir = tempfile::tempdir().context("cannot create a temp dir")?;
    let ours = speedrackd(dir.path()).await?;
    let mut report = Report::new("peers");
    report.add("speedrackd CPU per run", ours.cpu_ms_per_run, "ms");
    report.add("speedrackd runs in the window", ours.runs as f64, "runs");
    let peers = [
        ("busybox crond", busybox_crond(dir.path()).await),
        ("cron (Debian)", debian_cron(dir.path()).await),
    ];
    for (name, measured) in peers {
        match measured {
            Ok(peer) => {
                report.add(&format!("{name} CPU per run"), peer.cpu_ms_per_run, "ms");
                report.add(
                    &format!("{name} runs in the window"),
                    peer.runs as f64,
                    "runs",
                );
                report.add(
                    &format!("speedrackd / {name}"),
                    ours.cpu_ms_per_run / peer.cpu_ms_per_run,
                    "x",
                );
            }
            Err(error) => report.note(format!("{name} not measured: {error:#}")),
        }
    }
    report.note(format!(
        "{JOBS} jobs due every minute, each `{}`; one minute boundary per scheduler, CPU its own (not its children's)",
        job(Path::new("COUNT"))
    ));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_opens_before_the_next_boundary_that_leaves_time_to_settle() {
        let minute = 1_800_000_000 / 60 * 60;
        let at = |seconds: u64| Duration::from_secs(minute + seconds);
        // (seconds into the minute, seconds until the window opens, 40 s into a minute)
        for (now, until) in [(0, 40), (10, 30), (34, 6), (36, 64), (40, 60), (50, 50)] {
            assert_eq!(until_window(at(now)), Duration::from_secs(until), "{now}");
        }
        assert_eq!(
            until_window(at(12) + Duration::from_millis(500)),
            Duration::from_millis(27_500)
        );
    }
}
