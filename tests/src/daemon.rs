//! A real speedrackd process on temp paths, and the real speedrackctl pointed at it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use speedrack_proto::v1::WatchEventsRequest;
use speedrack_proto::v1::speedrack_client::SpeedrackClient;
use tempfile::TempDir;
use tonic::transport::Channel;

use crate::{EventWatch, WAIT, binary};

/// The line speedrackd logs once its socket accepts calls.
const READY_LINE: &str = "speedrackd is ready";
/// What precedes the web UI's address in speedrackd's log.
const WEB_LINE: &str = "web UI on http://";
/// What precedes the metrics listener's address in speedrackd's log.
const METRICS_LINE: &str = "metrics on http://";

/// Configures a daemon before starting it.
pub struct DaemonBuilder {
    dir: Arc<TempDir>,
    settings: Option<String>,
    settings_name: String,
    launch: Launch,
    fd_limit: Option<u64>,
    ready_within: Duration,
}

/// How the daemon is told its tasks file and web port.
#[derive(Debug, Clone, Copy)]
struct Launch {
    /// `--tasks DIR/tasks.yaml`; without it the settings name the tasks file.
    tasks_arg: bool,
    /// `--port N` instead of `--listen 127.0.0.1:0`.
    port: Option<u16>,
    /// `--no-web`.
    no_web: bool,
    /// Started with SIGCHLD ignored, as a launcher may leave it.
    sigchld_ignored: bool,
    /// Started with descriptor 7 open on /dev/null and not close-on-exec, as a launcher may
    /// leave one.
    descriptor_left_open: bool,
}

impl Default for Launch {
    fn default() -> Self {
        Launch {
            tasks_arg: true,
            port: None,
            no_web: false,
            sigchld_ignored: false,
            descriptor_left_open: false,
        }
    }
}

/// A running speedrackd. Killed when dropped; its log is printed if the test panicked.
pub struct Daemon {
    child: Option<Child>,
    dir: Arc<TempDir>,
    log: Arc<Mutex<Vec<String>>>,
    /// Notified after each line added to `log`.
    logged: Arc<Condvar>,
    settings_path: Option<PathBuf>,
    launch: Launch,
    fd_limit: Option<u64>,
}

/// The address in a `web UI on http://ADDR` log line.
fn web_address(line: &str) -> Option<String> {
    address_after(line, WEB_LINE)
}

fn address_after(line: &str, marker: &str) -> Option<String> {
    let rest = line.split(marker).nth(1)?;
    Some(
        rest.chars()
            .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | ':'))
            .collect(),
    )
}

impl DaemonBuilder {
    /// A fresh temp dir holding the tasks file (written from `tasks_yaml`), socket and data.
    pub fn new(tasks_yaml: &str) -> DaemonBuilder {
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        std::fs::write(dir.path().join("tasks.yaml"), tasks_yaml).expect("write tasks file");
        DaemonBuilder {
            dir,
            settings: None,
            settings_name: "settings.yaml".to_owned(),
            launch: Launch::default(),
            fd_limit: None,
            ready_within: WAIT,
        }
    }

    /// The temp dir the daemon will use (its data dir is `data` inside), to prepare before start.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Starts the daemon under `prlimit` with this open-file limit (soft and hard).
    pub fn fd_limit(mut self, limit: u64) -> DaemonBuilder {
        self.fd_limit = Some(limit);
        self
    }

    /// How long the start may take (default `WAIT`): parsing megabytes of tasks takes seconds.
    pub fn ready_within(mut self, timeout: Duration) -> DaemonBuilder {
        self.ready_within = timeout;
        self
    }

    /// The data dir the daemon will use, for tests that fill it before the start.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn settings(mut self, yaml: &str) -> DaemonBuilder {
        self.settings = Some(yaml.to_owned());
        self
    }

    /// Settings written under `file_name` in the temp dir (e.g. `speedrack_settings.py`).
    pub fn settings_file(mut self, file_name: &str, text: &str) -> DaemonBuilder {
        self.settings_name = file_name.to_owned();
        self.settings(text)
    }

    /// Starts without `--tasks`: the settings name the tasks file.
    pub fn tasks_from_settings(mut self) -> DaemonBuilder {
        self.launch.tasks_arg = false;
        self
    }

    /// Starts with `--port N` (on the settings' address) instead of a free loopback port.
    pub fn port(mut self, port: u16) -> DaemonBuilder {
        self.launch.port = Some(port);
        self
    }

    /// `--no-web`: no web UI (`/metrics` may still have its own listener).
    pub fn no_web(mut self) -> DaemonBuilder {
        self.launch.no_web = true;
        self
    }

    /// Starts the daemon with SIGCHLD ignored (`env --ignore-signal=CHLD`), which `exec` keeps.
    pub fn sigchld_ignored(mut self) -> DaemonBuilder {
        self.launch.sigchld_ignored = true;
        self
    }

    /// Starts the daemon with descriptor 7 left open (`sh -c 'exec 7</dev/null; exec ...'`).
    pub fn descriptor_left_open(mut self) -> DaemonBuilder {
        self.launch.descriptor_left_open = true;
        self
    }

    /// Starts the daemon and waits until it is ready.
    pub fn start(self) -> Daemon {
        let settings_path = self.settings.map(|text| {
            let path = self.dir.path().join(&self.settings_name);
            std::fs::write(&path, text).expect("write settings file");
            path
        });
        Daemon::spawn(
            self.dir,
            settings_path,
            self.launch,
            self.fd_limit,
            self.ready_within,
        )
    }
}

impl Daemon {
    /// Starts a daemon with default settings on `tasks_yaml`.
    pub fn start(tasks_yaml: &str) -> Daemon {
        DaemonBuilder::new(tasks_yaml).start()
    }

    fn spawn(
        dir: Arc<TempDir>,
        settings_path: Option<PathBuf>,
        launch: Launch,
        fd_limit: Option<u64>,
        ready_within: Duration,
    ) -> Daemon {
        let mut command =
            Daemon::launch_command(dir.path(), settings_path.as_deref(), launch, "127.0.0.1:0");
        if let Some(limit) = fd_limit {
            command = wrapped(
                &command,
                "prlimit",
                &[&format!("--nofile={limit}:{limit}"), "--"],
            );
        }
        if launch.sigchld_ignored {
            command = wrapped(&command, "env", &["--ignore-signal=CHLD"]);
        }
        if launch.descriptor_left_open {
            command = wrapped(
                &command,
                "sh",
                &["-c", "exec 7</dev/null; exec \"$@\"", "sh"],
            );
        }
        let mut child = command
            .stderr(Stdio::piped())
            .spawn()
            .expect("speedrackd starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("piped stderr");
        let thread_log = Arc::clone(&log);
        let logged = Arc::new(Condvar::new());
        let thread_logged = Arc::clone(&logged);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains(READY_LINE) {
                    let _ = ready_tx.send(());
                }
                thread_log.lock().expect("log lock").push(line);
                thread_logged.notify_all();
            }
        });
        let mut daemon = Daemon {
            child: Some(child),
            dir,
            log,
            logged,
            settings_path,
            launch,
            fd_limit,
        };
        if ready_rx.recv_timeout(ready_within).is_err() {
            let status = daemon
                .child
                .as_mut()
                .and_then(|child| child.try_wait().ok().flatten());
            panic!(
                "speedrackd did not become ready ({status:?}); log:\n{}",
                daemon.log_text()
            );
        }
        daemon
    }

    /// The command that starts a daemon on `dir`'s files, for tests that want to run it by hand.
    /// Its web UI listens on a free loopback port, so daemons of parallel tests never compete.
    pub fn command(dir: &Path, settings: Option<&Path>) -> Command {
        Daemon::command_listening(dir, settings, "127.0.0.1:0")
    }

    /// Runs a daemon command that must refuse to start with exit 78 (a configuration it cannot
    /// use), and returns what it said on stderr.
    pub fn refusal(mut command: Command) -> String {
        let output = command
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("speedrackd runs");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(78), "{stderr}");
        stderr
    }

    /// [`Daemon::command`] with the web UI on `listen`.
    pub fn command_listening(dir: &Path, settings: Option<&Path>, listen: &str) -> Command {
        Daemon::launch_command(dir, settings, Launch::default(), listen)
    }

    /// The daemon's command, its web UI on `listen` unless `launch` names a port.
    fn launch_command(
        dir: &Path,
        settings: Option<&Path>,
        launch: Launch,
        listen: &str,
    ) -> Command {
        let mut command = Command::new(binary("speedrackd"));
        command.arg("run");
        if launch.tasks_arg {
            command.arg("--tasks").arg(dir.join("tasks.yaml"));
        }
        match (launch.no_web, launch.port) {
            (true, _) => command.arg("--no-web"),
            (false, Some(port)) => command.args(["--port", &port.to_string()]),
            (false, None) => command.args(["--listen", listen]),
        };
        command
            .arg("--socket")
            .arg(dir.join("speedrackd.sock"))
            .arg("--data-dir")
            .arg(dir.join("data"))
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if let Some(settings) = settings {
            command.arg("--settings").arg(settings);
        }
        command
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("speedrackd.sock")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("daemon is running").id()
    }

    /// Replaces the tasks file (for reload tests).
    pub fn write_tasks(&self, yaml: &str) {
        std::fs::write(self.dir.path().join("tasks.yaml"), yaml).expect("write tasks file");
    }

    /// The web UI this daemon hosts, like `http://127.0.0.1:40123`.
    pub fn web_url(&self) -> String {
        let log = self.log.lock().expect("log lock");
        let address = log
            .iter()
            .find_map(|line| web_address(line))
            .expect("speedrackd logged where the web UI listens");
        format!("http://{address}")
    }

    /// The address of `metrics.listen`'s listener, like `http://127.0.0.1:40124`.
    pub fn metrics_url(&self) -> String {
        let log = self.log.lock().expect("log lock");
        let address = log
            .iter()
            .find_map(|line| address_after(line, METRICS_LINE))
            .expect("speedrackd logged where /metrics listens");
        format!("http://{address}")
    }

    /// Waits until the daemon logs a line for which `wanted` holds, and returns it.
    pub fn wait_for_log(&self, timeout: Duration, wanted: impl Fn(&str) -> bool) -> Option<String> {
        let log = self.log.lock().expect("log lock");
        let (log, _) = self
            .logged
            .wait_timeout_while(log, timeout, |log| !log.iter().any(|line| wanted(line)))
            .expect("log lock");
        log.iter().find(|line| wanted(line)).cloned()
    }

    /// How many lines the daemon logged so far: a mark for [`Daemon::wait_for_log_from`].
    pub fn log_len(&self) -> usize {
        self.log.lock().expect("log lock").len()
    }

    /// As `wait_for_log`, among the lines logged from line `start` (0-based) on.
    pub fn wait_for_log_from(
        &self,
        start: usize,
        timeout: Duration,
        wanted: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let later = |log: &Vec<String>| log.iter().skip(start).any(|line| wanted(line));
        let log = self.log.lock().expect("log lock");
        let (log, _) = self
            .logged
            .wait_timeout_while(log, timeout, |log| !later(log))
            .expect("log lock");
        log.iter().skip(start).find(|line| wanted(line)).cloned()
    }

    /// Everything the daemon logged so far.
    pub fn log_text(&self) -> String {
        self.log.lock().expect("log lock").join("\n")
    }

    pub async fn client(&self) -> SpeedrackClient<Channel> {
        speedrack_proto::connect(&self.socket())
            .await
            .expect("daemon accepts connections")
    }

    /// Runs `task` now through speedrackctl and waits for that run to finish.
    pub async fn run_now_and_wait(
        &self,
        events: &mut EventWatch,
        task: &str,
    ) -> speedrack_proto::v1::Run {
        self.ctl().ok(&["run-now", task]);
        events
            .run_finished(task, WAIT)
            .await
            .unwrap_or_else(|| panic!("{task} finishes"))
    }

    /// Runs `task` now and waits for the run to finish, watching events of its own.
    pub async fn run_to_end(&self, task: &str) -> speedrack_proto::v1::Run {
        let mut events = self.watch().await;
        self.run_now_and_wait(&mut events, task).await
    }

    /// Opens a WatchEvents stream.
    pub async fn watch(&self) -> EventWatch {
        let stream = self
            .client()
            .await
            .watch_events(WatchEventsRequest::default())
            .await
            .expect("watch events");
        EventWatch::new(stream.into_inner())
    }

    pub fn ctl(&self) -> Ctl {
        Ctl {
            socket: self.socket(),
        }
    }

    /// Sends a signal and waits for the process to exit.
    pub fn stop_with(&mut self, signal: Signal) -> ExitStatus {
        let mut child = self.child.take().expect("daemon is running");
        let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid fits in i32"));
        nix::sys::signal::kill(pid, signal).expect("signal the daemon");
        wait_with_timeout(&mut child, WAIT + Duration::from_secs(30))
            .expect("daemon exits after the signal")
    }

    /// Starts a new daemon on the same files (after `stop_with`).
    pub fn restart(self) -> Daemon {
        assert!(self.child.is_none(), "stop the daemon before restarting it");
        Daemon::spawn(
            Arc::clone(&self.dir),
            self.settings_path.clone(),
            self.launch,
            self.fd_limit,
            WAIT,
        )
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "--- speedrackd log ---\n{}\n--- end of log ---",
                self.log_text()
            );
        }
    }
}

/// `command` run through `prlimit`, which sets the open-file limit and then execs it (same pid).
/// `command` run by `wrapper` with `options` (which starts it with a limit or a signal set).
fn wrapped(command: &Command, wrapper: &str, options: &[&str]) -> Command {
    let mut outer = Command::new(wrapper);
    outer
        .args(options)
        .arg(command.get_program())
        .args(command.get_args())
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => outer.env(name, value),
            None => outer.env_remove(name),
        };
    }
    outer
}

/// Waits for a child to exit, without sleeping in a loop: a helper thread does the blocking wait.
pub fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let pid = child.id();
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let _ = done_tx.send(child.wait());
        });
        match done_rx.recv_timeout(timeout) {
            Ok(status) => status.ok(),
            Err(_) => {
                let pid = Pid::from_raw(i32::try_from(pid).expect("pid fits in i32"));
                let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
                None
            }
        }
    })
}

/// The real speedrackctl, pointed at one daemon's socket.
pub struct Ctl {
    socket: PathBuf,
}

impl Ctl {
    /// Runs `speedrackctl --socket SOCKET ARGS...`.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(binary("speedrackctl"))
            .arg("--socket")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("speedrackctl runs")
    }

    /// Runs a read command with `--json`, asserting success, and parses its output.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let output = self.run(&full);
        assert!(
            output.status.success(),
            "speedrackctl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("speedrackctl prints JSON")
    }

    /// Runs a command, asserting success, and returns its stdout as text.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "speedrackctl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8 output")
    }
}
