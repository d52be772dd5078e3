//! Starting a task's command and waiting for it.
//!
//! Each run is `sh -c COMMAND` in a process group of its own, so that the whole tree can be
//! signalled at once. stdout and stderr go straight to files: the child never waits on a reader.
//! This module reports what happened; judging success and recording it happen elsewhere.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

use crate::run::Exit;

/// The shell that runs task commands.
pub const SHELL: &str = "/bin/sh";

/// What to start, and where its output goes.
#[derive(Debug, Clone)]
pub struct Launch {
    pub command: String,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

/// A started process and the group it leads.
#[derive(Debug)]
pub struct Started {
    pub child: Child,
    pub process_group: i32,
}

/// Starts the command. Errors mean it never ran (no shell, output files not writable, …).
pub fn start(launch: &Launch) -> io::Result<Started> {
    for path in [&launch.stdout, &launch.stderr] {
        if let Some(dir) = path.parent() {
            DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        }
    }
    let stdout = create_output(&launch.stdout)?;
    let stderr = create_output(&launch.stderr)?;
    let child = Command::new(SHELL)
        .arg("-c")
        .arg(&launch.command)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        .spawn()
        .map_err(|error| io::Error::new(error.kind(), format!("cannot start {SHELL}: {error}")))?;
    let pid = child
        .id()
        .ok_or_else(|| io::Error::other("the child exited before its pid was read"))?;
    let process_group =
        i32::try_from(pid).map_err(|_| io::Error::other(format!("pid {pid} out of range")))?;
    Ok(Started {
        child,
        process_group,
    })
}

fn create_output(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("cannot create {}: {error}", path.display()),
            )
        })
}

/// Waits for the process to end and reaps it.
pub async fn wait(child: &mut Child) -> io::Result<Exit> {
    let status = child.wait().await?;
    match (status.code(), status.signal()) {
        (Some(code), _) => Ok(Exit::Code(code)),
        (None, Some(signal)) => Ok(Exit::Signal(signal)),
        (None, None) => Err(io::Error::other(format!(
            "unrecognised exit status {status}"
        ))),
    }
}

/// Sends `signal` to every process of a run's group. A group that is already gone is not an
/// error: the point is that nothing of the run is left.
pub fn signal_group(process_group: i32, signal: Signal) -> io::Result<()> {
    match killpg(Pid::from_raw(process_group), signal) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(errno) => Err(io::Error::from(errno)),
    }
}

/// The size of an output file now; a missing file is empty.
pub fn output_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0)
}
