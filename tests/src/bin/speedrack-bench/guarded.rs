//! A process the bench starts under a shell that kills it once the bench's end of the shell's
//! stdin closes: when the bench drops it, and when the bench dies, however it dies (the kernel
//! closes the pipe). Nothing the bench started is left running after it, firing thousands of
//! runs a minute. `PR_SET_PDEATHSIG` would need no shell, but did not fire in the sandbox the
//! benchmarks were written in, even set straight through `prctl`.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStderr, Command, Stdio};

use anyhow::{Context, Result};

/// How the shell's script ends, after it started the process in the background: it says the
/// process's pid, then waits for the end of its stdin.
pub const KILL_AT_EOF: &str = "echo $!\nread _\nkill -KILL $!";

/// A process under its shell; killed when dropped.
pub struct Guarded {
    shell: Child,
    /// The process's own pid (the shell's child).
    pid: u32,
}

impl Guarded {
    /// Starts `shell`, whose script starts the process in the background and ends with
    /// [`KILL_AT_EOF`]; `what` names the process in errors. The shell's stdin and stdout are
    /// the bench's; its stderr is as `shell` set it.
    pub fn start(mut shell: Command, what: &str) -> Result<Guarded> {
        let mut shell = shell
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start the shell that starts {what}"))?;
        let mut line = String::new();
        if let Some(stdout) = shell.stdout.take() {
            BufReader::new(stdout).read_line(&mut line)?;
        }
        let pid = line
            .trim()
            .parse()
            .with_context(|| format!("{what} did not start (its shell said {line:?})"))?;
        Ok(Guarded { shell, pid })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The shell's stderr, which the process shares, if it was piped.
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.shell.stderr.take()
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        drop(self.shell.stdin.take());
        let _ = self.shell.wait();
    }
}
