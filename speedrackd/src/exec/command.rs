//! Turning a launch into a process: shell or sudo, environment, working dir, own process group,
//! and the reasons it may fail to start, in words an admin can act on.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// How a task's command is started.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub shell: PathBuf,
    pub command: String,
    /// Run as this user through `sudo -n -u USER`.
    pub sudo: Option<String>,
    pub working_dir: Option<PathBuf>,
    pub env: BTreeMap<String, String>,
}

/// Why a run's command did not start, or started but could not be supervised (then it was
/// killed at once). Each is an execution error of the run: the command never ran as asked.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("working_dir {} is not a directory that exists (create it, or fix the task's working_dir)", dir.display())]
    NoWorkingDir { dir: PathBuf },
    #[error(
        "cannot run as {user}: sudo is not installed (install it, or remove `sudo:` from the task)"
    )]
    NoSudo {
        user: String,
        #[source]
        source: io::Error,
    },
    #[error("the shell {} does not exist (check the `shell` setting)", shell.display())]
    NoShell {
        shell: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot start {}: {source}", program.display())]
    Start {
        program: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the kernel gave the command pid {0}, which is no valid process id (a bug: report it)")]
    PidOutOfRange(u32),
    #[error("the command started without its output pipes (a bug: report it)")]
    NoPipes,
    #[error("started pid {pid} but cannot watch it, so it was killed: {source}")]
    Watch {
        pid: i32,
        #[source]
        source: io::Error,
    },
}

/// A started process with its output pipes.
pub struct Spawned {
    pub pid: i32,
    pub stdout: std::process::ChildStdout,
    pub stderr: std::process::ChildStderr,
}

/// Starts the command in a new process group, and in the cgroup whose `cgroup.procs` is
/// `cgroup` when there is one. An error is an execution error: the text says what could not be
/// started and why.
pub fn spawn(
    invocation: &Invocation,
    cgroup: Option<BorrowedFd<'_>>,
) -> Result<Spawned, StartError> {
    if let Some(dir) = &invocation.working_dir
        && !dir.is_dir()
    {
        return Err(StartError::NoWorkingDir { dir: dir.clone() });
    }
    let mut command = build(invocation);
    command
        .stdin(null_stdin())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A group of its own, so a timeout or kill reaches the whole tree the command starts.
        .process_group(0);
    if let Some(procs) = cgroup {
        join_before_exec(&mut command, procs.as_raw_fd());
    }
    let program = PathBuf::from(command.get_program());
    let mut child = command
        .spawn()
        .map_err(|error| start_error(program, invocation, error))?;
    let pid = i32::try_from(child.id()).map_err(|_| StartError::PidOutOfRange(child.id()))?;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(StartError::NoPipes);
    };
    // The std handle is dropped without waiting: the run's supervisor reaps the pid itself.
    Ok(Spawned {
        pid,
        stdout,
        stderr,
    })
}

/// The run's stdin: a copy of one `/dev/null` descriptor the daemon keeps. Copying it is a
/// `dup`; `Stdio::null` opens the device again for every run, a path lookup and an open on
/// the spawning thread each time.
fn null_stdin() -> Stdio {
    static DEV_NULL: OnceLock<Option<File>> = OnceLock::new();
    DEV_NULL
        .get_or_init(|| File::open("/dev/null").ok())
        .as_ref()
        .and_then(|file| file.try_clone().ok())
        .map_or_else(Stdio::null, Stdio::from)
}

/// Makes the child move itself into a cgroup before it execs, so that nothing it runs exists
/// outside it even for an instant (moving it from the parent after the spawn would race with
/// its first fork).
#[allow(
    unsafe_code,
    reason = "pre_exec is the only way to run code in the child between fork and exec"
)]
fn join_before_exec(command: &mut Command, procs: RawFd) {
    let join = move || {
        // SAFETY: write(2) is async-signal-safe, and `procs` stays open in the parent (the
        // caller's borrow) until spawn returns; the buffer is a static byte string. Writing "0"
        // to cgroup.procs moves the writing process.
        let written = unsafe { libc::write(procs, b"0".as_ptr().cast(), 1) };
        if written == 1 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    };
    // SAFETY: the closure only calls write(2) and reads errno: no allocation, no lock.
    unsafe {
        command.pre_exec(join);
    }
}

fn build(invocation: &Invocation) -> Command {
    let mut command = match &invocation.sudo {
        None => {
            let mut command = Command::new(&invocation.shell);
            command
                .arg("-c")
                .arg(&invocation.command)
                .env_clear()
                .envs(&invocation.env);
            command
        }
        Some(user) => {
            // sudo resets the environment by policy; `env` re-applies the task's own on the
            // other side. -n: a missing sudoers rule fails at once instead of asking for a password.
            let mut command = Command::new("sudo");
            command.args(["-n", "-u", user, "--", "env"]);
            command.args(
                invocation
                    .env
                    .iter()
                    .map(|(name, value)| format!("{name}={value}")),
            );
            command
                .arg(&invocation.shell)
                .arg("-c")
                .arg(&invocation.command);
            command.env_clear().envs(
                invocation
                    .env
                    .iter()
                    .filter(|(name, _)| name.as_str() == "PATH"),
            );
            command
        }
    };
    if let Some(dir) = &invocation.working_dir {
        command.current_dir(dir);
    }
    command
}

fn start_error(program: PathBuf, invocation: &Invocation, source: io::Error) -> StartError {
    match (source.kind(), &invocation.sudo) {
        (io::ErrorKind::NotFound, Some(user)) => StartError::NoSudo {
            user: user.clone(),
            source,
        },
        (io::ErrorKind::NotFound, None) => StartError::NoShell {
            shell: program,
            source,
        },
        _ => StartError::Start { program, source },
    }
}

/// A sudo refusal (no rule, a password needed) is an execution error, not a task failure:
/// the command never ran. sudo says so on stderr, prefixed `sudo:`, with exit status 1.
pub fn sudo_refusal(
    invocation: &Invocation,
    exit_code: Option<i32>,
    stderr_head: &[u8],
) -> Option<String> {
    invocation.sudo.as_ref()?;
    let text = String::from_utf8_lossy(stderr_head);
    let first = text.lines().next().unwrap_or_default();
    (exit_code == Some(1) && first.starts_with("sudo:"))
        .then(|| format!("sudo refused to run the command: {first}"))
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    fn invocation(shell: &str, working_dir: Option<&str>) -> Invocation {
        Invocation {
            shell: PathBuf::from(shell),
            command: "true".to_owned(),
            sudo: None,
            working_dir: working_dir.map(PathBuf::from),
            env: BTreeMap::new(),
        }
    }

    #[test]
    fn a_missing_shell_is_named_with_what_to_check_and_the_os_error_kept() {
        let error = spawn(&invocation("/nonexistent/sh", None), None)
            .err()
            .expect("no such shell");
        assert_eq!(
            error.to_string(),
            "the shell /nonexistent/sh does not exist (check the `shell` setting)"
        );
        let source = error
            .source()
            .and_then(|source| source.downcast_ref::<io::Error>())
            .expect("the OS error as the source");
        assert_eq!(source.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn every_run_reads_dev_null_as_stdin() {
        use std::io::Read;
        for _ in 0..2 {
            let mut shell = invocation("/bin/sh", None);
            shell.command = "readlink /proc/self/fd/0; cat".to_owned();
            let mut spawned = spawn(&shell, None).expect("the shell starts");
            let mut out = String::new();
            spawned.stdout.read_to_string(&mut out).expect("stdout");
            let pid = nix::unistd::Pid::from_raw(spawned.pid);
            nix::sys::wait::waitpid(pid, None).expect("reaped");
            assert_eq!(out, "/dev/null\n", "stdin is /dev/null, and empty");
        }
    }

    #[test]
    fn a_missing_working_dir_is_named_with_what_to_do() {
        let error = spawn(&invocation("/bin/sh", Some("/nonexistent/dir")), None)
            .err()
            .expect("no such dir");
        assert_eq!(
            error.to_string(),
            "working_dir /nonexistent/dir is not a directory that exists \
             (create it, or fix the task's working_dir)"
        );
    }
}
