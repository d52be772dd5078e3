//! A release speedrackd on temp paths for the benchmarks, found next to the bench binary.
//!
//! The test harness's `Daemon` panics on failure and looks for binaries the way test binaries
//! are laid out (`target/PROFILE/deps`); a bench binary lives in `target/PROFILE` itself, so it
//! starts its daemons here, reporting errors instead of panicking. It does not drive the daemon.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use speedrack_proto::v1::speedrack_client::SpeedrackClient;
use tempfile::TempDir;
use tonic::transport::Channel;

use super::guarded::{Guarded, KILL_AT_EOF};

/// Settings under which history written for a scenario stays whole: no retention default
/// prunes it.
pub const KEEP_ALL_HISTORY: &str = "max_keep: 0\nhistory_max_bytes: 0\n";

/// The environment a daemon gets here, as systemd gives a system service: its default PATH
/// and the machine's locale, nothing of the shell the bench runs in. Runs take their PATH and
/// LANG from it, and the machine floors give their children the same
/// (`spawn_floor::run_environment`), so that both start the same processes.
pub const SERVICE_ENV: [(&str, &str); 2] = [
    ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"),
    ("LANG", "C.UTF-8"),
];

const READY_LINE: &str = "speedrackd is ready";
const WEB_LINE: &str = "web UI on http://";

/// The directory holding `speedrackd` and `speedrackctl`: `SPEEDRACK_BIN_DIR`, else the
/// directory of this binary (`target/release` under `cargo run --release`).
pub fn bin_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("SPEEDRACK_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe().context("cannot find the bench binary's path")?;
    exe.parent()
        .map(Path::to_path_buf)
        .context("the bench binary has no directory")
}

/// Path of `speedrackd` or `speedrackctl`, which must have been built in the same profile.
pub fn binary(name: &str) -> Result<PathBuf> {
    let path = bin_dir()?.join(name);
    if !path.exists() {
        bail!(
            "{} is missing (build it first: cargo build --release -p speedrackd -p speedrackctl)",
            path.display()
        );
    }
    Ok(path)
}

/// A running speedrackd, killed when dropped or when the bench dies.
pub struct BenchDaemon {
    process: Guarded,
    dir: TempDir,
    web: Option<String>,
}

impl BenchDaemon {
    /// Starts a daemon on `tasks_yaml` (and `settings_yaml` if any) and waits until it is ready.
    pub fn start(tasks_yaml: &str, settings_yaml: Option<&str>) -> Result<BenchDaemon> {
        let dir = tempfile::tempdir().context("cannot create a temp dir")?;
        BenchDaemon::start_in(dir, tasks_yaml, settings_yaml)
    }

    /// Like [`BenchDaemon::start`], in a directory the bench prepared: its `data/` may already
    /// hold history (see [`BenchDaemon::data_dir_of`]).
    pub fn start_in(
        dir: TempDir,
        tasks_yaml: &str,
        settings_yaml: Option<&str>,
    ) -> Result<BenchDaemon> {
        std::fs::write(dir.path().join("tasks.yaml"), tasks_yaml)?;
        // The daemon's stderr is its shell's, which the bench reads.
        let script = format!("\"$@\" </dev/null >/dev/null &\n{KILL_AT_EOF}");
        let mut shell = Command::new("/bin/sh");
        shell
            .args(["-c", &script, "sh"])
            .arg(binary("speedrackd")?)
            .arg("run")
            .arg("--tasks")
            .arg(dir.path().join("tasks.yaml"))
            .arg("--socket")
            .arg(dir.path().join("speedrackd.sock"))
            .arg("--data-dir")
            .arg(BenchDaemon::data_dir_of(dir.path()))
            .args(["--listen", "127.0.0.1:0"]);
        if let Some(yaml) = settings_yaml {
            let path = dir.path().join("settings.yaml");
            std::fs::write(&path, yaml)?;
            shell.arg("--settings").arg(path);
        }
        shell
            .env_clear()
            .envs(SERVICE_ENV)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stderr(Stdio::piped());
        let mut process = Guarded::start(shell, "speedrackd")?;
        let stderr = process
            .take_stderr()
            .context("speedrackd has no stderr pipe")?;
        let (line_tx, line_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // Once the bench stops listening, the log is only drained.
                let _ = line_tx.send(line);
            }
        });
        let mut daemon = BenchDaemon {
            process,
            dir,
            web: None,
        };
        loop {
            let line = line_rx
                .recv_timeout(Duration::from_secs(30))
                .context("speedrackd did not become ready within 30 s")?;
            if let Some(rest) = line.split(WEB_LINE).nth(1) {
                let address: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | ':'))
                    .collect();
                daemon.web = Some(format!("http://{address}"));
            }
            if line.contains(READY_LINE) {
                return Ok(daemon);
            }
        }
    }

    /// The data dir a daemon started in `dir` uses.
    pub fn data_dir_of(dir: &Path) -> PathBuf {
        dir.join("data")
    }

    pub fn data_dir(&self) -> PathBuf {
        BenchDaemon::data_dir_of(self.dir.path())
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("speedrackd.sock")
    }

    /// The web UI's base URL, if the daemon logged one.
    pub fn web_url(&self) -> Option<&str> {
        self.web.as_deref()
    }

    pub async fn client(&self) -> Result<SpeedrackClient<Channel>> {
        speedrack_proto::connect(&self.socket())
            .await
            .context("cannot connect to speedrackd")
    }
}
