//! Turning a launch into a process: shell or sudo, environment, working dir, own process group,
//! and the reasons it may fail to start, in words an admin can act on.

use std::borrow::Cow;
use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::clone_exec::{self, Setup};
use super::environment::{self, Environment};
use super::image::Image;

/// How a task's command is started.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub shell: PathBuf,
    pub command: String,
    /// Run as this user through `sudo -n -u USER`.
    pub sudo: Option<String>,
    pub working_dir: Option<PathBuf>,
    pub env: Environment,
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
    #[error("started pid {pid} but cannot watch it, so it was killed: {source}")]
    Watch {
        pid: i32,
        #[source]
        source: io::Error,
    },
}

/// A started process with its output pipes' read ends.
pub struct Spawned {
    pub pid: i32,
    /// Readable once the process has exited.
    pub pidfd: OwnedFd,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

/// Starts each command in a new process group, and in the cgroup whose `cgroup.procs` is given
/// with it when there is one, children side by side (`clone_exec::start_all`); the results
/// come in the order given. An error is an execution error: the text says what could not be
/// started and why.
pub fn spawn_all(
    requests: &[(&Invocation, Option<BorrowedFd<'_>>)],
) -> Vec<Result<Spawned, StartError>> {
    let prepared: Vec<Result<Prepared, StartError>> = requests
        .iter()
        .map(|(invocation, _)| prepare(invocation))
        .collect();
    let setups: Vec<Setup<'_>> = prepared
        .iter()
        .zip(requests)
        .filter_map(|(prepared, (_, cgroup))| Some(prepared.as_ref().ok()?.setup(*cgroup)))
        .collect();
    let mut started = clone_exec::start_all(&setups).into_iter();
    drop(setups);
    prepared
        .into_iter()
        .zip(requests)
        .map(|(prepared, (invocation, _))| {
            let prepared = prepared?;
            let failed = |source| start_error(prepared.program.clone(), invocation, source);
            let child = started
                .next()
                .unwrap_or_else(|| Err(io::Error::other("no process was started")))
                .map_err(failed)?;
            // The write ends are the child's alone now: the pipes end when its last writer exits.
            Ok(Spawned {
                pid: child.pid,
                pidfd: child.pidfd,
                stdout: prepared.stdout.0.into(),
                stderr: prepared.stderr.0.into(),
            })
        })
        .collect()
}

/// What a command needs before its process is cloned.
struct Prepared {
    program: PathBuf,
    image: Image,
    working_dir: Option<CString>,
    stdin: BorrowedFd<'static>,
    stdout: (io::PipeReader, io::PipeWriter),
    stderr: (io::PipeReader, io::PipeWriter),
}

impl Prepared {
    fn setup<'a>(&'a self, cgroup: Option<BorrowedFd<'a>>) -> Setup<'a> {
        Setup {
            image: &self.image,
            working_dir: self.working_dir.as_deref(),
            stdio: [self.stdin, self.stdout.1.as_fd(), self.stderr.1.as_fd()],
            cgroup_procs: cgroup,
        }
    }
}

fn prepare(invocation: &Invocation) -> Result<Prepared, StartError> {
    if let Some(dir) = &invocation.working_dir
        && !dir.is_dir()
    {
        return Err(StartError::NoWorkingDir { dir: dir.clone() });
    }
    let program = program(invocation);
    let failed = |source| start_error(program.to_path_buf(), invocation, source);
    let image = image(invocation).map_err(failed)?;
    let working_dir = invocation
        .working_dir
        .as_deref()
        .map(|dir| CString::new(dir.as_os_str().as_bytes()))
        .transpose()
        .map_err(|_| StartError::NoWorkingDir {
            dir: invocation.working_dir.clone().unwrap_or_default(),
        })?;
    Ok(Prepared {
        program: program.to_path_buf(),
        image,
        working_dir,
        stdin: null_stdin().map_err(failed)?,
        stdout: io::pipe().map_err(failed)?,
        stderr: io::pipe().map_err(failed)?,
    })
}

/// The run's stdin: one `/dev/null` descriptor the daemon keeps, which each child copies to
/// its descriptor 0. A failed open is tried again at the next run.
fn null_stdin() -> io::Result<BorrowedFd<'static>> {
    static DEV_NULL: OnceLock<File> = OnceLock::new();
    if let Some(file) = DEV_NULL.get() {
        return Ok(file.as_fd());
    }
    let opened = File::open("/dev/null").map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("cannot open /dev/null for the command's stdin: {error}"),
        )
    })?;
    // Another spawning thread may have set it meanwhile: then this copy is closed.
    Ok(DEV_NULL.get_or_init(|| opened).as_fd())
}

/// What is started: the shell itself, or sudo.
fn program(invocation: &Invocation) -> &Path {
    match &invocation.sudo {
        None => &invocation.shell,
        Some(_) => Path::new("sudo"),
    }
}

/// The program, its arguments and its environment as `execve` takes them.
fn image(invocation: &Invocation) -> io::Result<Image> {
    let path = invocation.env.get("PATH");
    let program = locate(program(invocation), path.map(OsStr::new))?;
    let mut image = Image::new(
        program.as_os_str(),
        2 * invocation.env.c_len() + invocation.command.len() + 64,
    )?;
    let shell = invocation.shell.as_os_str().as_bytes();
    match &invocation.sudo {
        None => {
            image.arg(&[shell])?;
            for (name, value) in invocation.env.iter() {
                image.var(name, value)?;
            }
        }
        Some(user) => {
            // sudo resets the environment by policy; `env` re-applies the task's own on the
            // other side. -n: a missing sudoers rule fails at once instead of asking for a password.
            for arg in ["sudo", "-n", "-u", user, "--", "env"] {
                image.arg(&[arg.as_bytes()])?;
            }
            for (name, value) in invocation.env.iter() {
                image.arg(&[name.as_bytes(), b"=", value.as_bytes()])?;
            }
            image.arg(&[shell])?;
            if let Some(path) = path {
                image.var("PATH", path)?;
            }
        }
    }
    image.arg(&[b"-c"])?.arg(&[invocation.command.as_bytes()])?;
    Ok(image)
}

/// Where a program named without a slash is, searched as `execvp` does: in the command's own
/// `PATH` when it has one, else in the daemon's. Only absolute entries are searched: a
/// relative one (or an empty one, the working directory) would be resolved from the daemon's
/// directory, not the run's.
fn locate<'a>(program: &'a Path, path: Option<&OsStr>) -> io::Result<Cow<'a, Path>> {
    if program.as_os_str().as_bytes().contains(&b'/') {
        return Ok(Cow::Borrowed(program));
    }
    let inherited = std::env::var_os("PATH");
    let search = path
        .or(inherited.as_deref())
        .unwrap_or(OsStr::new(environment::DEFAULT_PATH));
    std::env::split_paths(search)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(program))
        .find(|candidate| {
            candidate.is_file()
                && rustix::fs::access(candidate, rustix::fs::Access::EXEC_OK).is_ok()
        })
        .map(Cow::Owned)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "{} is not in PATH ({})",
                    program.display(),
                    search.to_string_lossy()
                ),
            )
        })
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

    /// One command alone.
    fn spawn(
        invocation: &Invocation,
        cgroup: Option<BorrowedFd<'_>>,
    ) -> Result<Spawned, StartError> {
        let mut spawned = spawn_all(&[(invocation, cgroup)]);
        spawned.pop().unwrap_or_else(|| {
            Err(start_error(
                program(invocation).to_path_buf(),
                invocation,
                io::Error::other("no process was started"),
            ))
        })
    }

    fn invocation(shell: &str, working_dir: Option<&str>) -> Invocation {
        Invocation {
            shell: PathBuf::from(shell),
            command: "true".to_owned(),
            sudo: None,
            working_dir: working_dir.map(PathBuf::from),
            env: Environment::default(),
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
            let spawned = spawn(&shell, None).expect("the shell starts");
            let mut out = String::new();
            File::from(spawned.stdout)
                .read_to_string(&mut out)
                .expect("stdout");
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

    #[test]
    fn a_program_without_a_slash_is_looked_for_in_the_commands_path_first() {
        let found = locate(Path::new("sh"), Some(OsStr::new("/nonexistent:/bin"))).expect("found");
        assert_eq!(found, Path::new("/bin/sh"));
        let error = locate(Path::new("sh"), Some(OsStr::new("/nonexistent:"))).expect_err("none");
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert_eq!(error.to_string(), "sh is not in PATH (/nonexistent:)");
        // A directory or a file that cannot be executed is no program; a relative entry is
        // never searched.
        let error = locate(Path::new("passwd"), Some(OsStr::new("/etc"))).expect_err("no x bit");
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        let error = locate(Path::new("sh"), Some(OsStr::new("bin:../../bin"))).expect_err("rel");
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_command_with_a_nul_byte_cannot_start_and_says_why() {
        let mut shell = invocation("/bin/sh", None);
        shell.command = "echo a\0b".to_owned();
        let error = spawn(&shell, None).err().expect("no NUL in argv");
        assert_eq!(
            error.to_string(),
            "cannot start /bin/sh: \"echo a\\0b\" holds a NUL byte, which no command line or \
             environment can"
        );
    }

    #[test]
    fn sudo_is_found_in_the_tasks_path() {
        use std::io::Read;
        // A link, not a script written here: exec'ing a file this test binary just wrote can
        // fail with ETXTBSY while another test's child still holds it open for writing.
        let dir = tempfile::tempdir().expect("dir");
        std::os::unix::fs::symlink("/bin/echo", dir.path().join("sudo")).expect("link");
        let mut shell = invocation("/bin/sh", None);
        shell.sudo = Some("nobody".to_owned());
        let path = dir.path().display().to_string();
        shell.env = [("PATH", path.as_str())].into_iter().collect();
        let spawned = spawn(&shell, None).expect("the fake sudo starts");
        let mut out = String::new();
        File::from(spawned.stdout)
            .read_to_string(&mut out)
            .expect("stdout");
        nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(spawned.pid), None).expect("reaped");
        // echo took the first argument, -n, as its own option.
        let path = dir.path().display();
        assert_eq!(out, format!("-u nobody -- env PATH={path} /bin/sh -c true"));
    }
}
