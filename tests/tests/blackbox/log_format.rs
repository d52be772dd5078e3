//! The form of speedrackd's and speedrack-web's log lines on their real stderr: no colour on a
//! pipe, journald's form only when JOURNAL_STREAM names that very pipe, JSON lines on request,
//! no start-up chatter from the sweep clock at info, and one line per reload.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use speedrack_tests::web::web_binary;
use speedrack_tests::{Daemon, WAIT};

const TASKS: &str = "tasks:\n  - {name: a, command: 'true', interval: 400w}\n";

/// A process whose stderr lines arrive on a channel, in order.
struct Logged {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Logged {
    /// Starts `command` with stderr on a pipe of the test's own.
    fn start(mut command: Command) -> Logged {
        let mut child = command
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stderr = child.stderr.take().expect("piped stderr");
        Logged::reading(child, stderr)
    }

    fn reading(child: Child, stderr: impl Read + Send + 'static) -> Logged {
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Logged { child, lines }
    }

    /// Every line up to and including the first that contains `needle`.
    fn until(&self, needle: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            match self.lines.recv_timeout(WAIT) {
                Ok(line) => {
                    let found = line.contains(needle);
                    seen.push(line);
                    if found {
                        return seen;
                    }
                }
                Err(error) => panic!("no line with {needle:?} ({error}) after:\n{seen:#?}"),
            }
        }
    }

    /// SIGTERM, then every line left until stderr closes.
    fn stop(mut self) -> Vec<String> {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).expect("pid"));
        nix::sys::signal::kill(pid, Signal::SIGTERM).expect("signal");
        let mut rest = Vec::new();
        loop {
            match self.lines.recv_timeout(WAIT) {
                Ok(line) => rest.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("stderr still open {WAIT:?} after SIGTERM; lines so far: {rest:#?}")
                }
            }
        }
        let _ = self.child.wait();
        rest
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// speedrackd on a fresh dir, with colour left to its own judgement.
fn daemon_command(dir: &Path) -> Command {
    std::fs::write(dir.join("tasks.yaml"), TASKS).expect("write tasks file");
    let mut command = Daemon::command(dir, None);
    command.env_remove("NO_COLOR").env_remove("JOURNAL_STREAM");
    command
}

/// speedrack-web for the daemon in `dir`, with colour left to its own judgement.
fn web_command(dir: &Path) -> Command {
    let mut command = Command::new(web_binary());
    command
        .arg("--socket")
        .arg(dir.join("speedrackd.sock"))
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .env_remove("JOURNAL_STREAM")
        .stdin(Stdio::null());
    command
}

#[test]
fn no_colour_on_a_pipe_from_the_daemon_or_the_web() {
    let dir = tempfile::tempdir().expect("temp dir");
    let daemon = Logged::start(daemon_command(dir.path()));
    let mut lines = daemon.until("speedrackd is ready");
    let web = Logged::start(web_command(dir.path()));
    lines.extend(web.until("listening on http://"));
    for line in lines {
        assert!(!line.contains('\u{1b}'), "an ANSI escape in {line:?}");
        assert!(line.contains(" INFO "), "plain text form: {line:?}");
    }
}

/// The first lines speedrackd writes into a pipe of ours until ready, with JOURNAL_STREAM set
/// to that pipe's device and inode, the inode moved by `inode_offset`.
fn daemon_lines_with_journal_stream(inode_offset: u64) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let (reader, writer) = std::io::pipe().expect("a pipe");
    let stat = nix::sys::stat::fstat(&writer).expect("fstat the pipe");
    let journal_stream = format!("{}:{}", stat.st_dev, stat.st_ino + inode_offset);
    let mut command = daemon_command(dir.path());
    command.env("JOURNAL_STREAM", journal_stream).stderr(writer);
    let child = command.spawn().expect("speedrackd starts");
    // The child holds the write end now; ours would keep the pipe open after it exits.
    drop(command);
    Logged::reading(child, reader).until("speedrackd is ready")
}

#[test]
fn journald_form_only_when_journal_stream_is_this_stderr() {
    let journal = daemon_lines_with_journal_stream(0);
    let ready = journal.last().expect("the ready line");
    assert_eq!(ready, "<6>speedrackd: speedrackd is ready", "{journal:#?}");
    assert!(
        journal.iter().all(|line| line.starts_with('<')),
        "every line has a priority: {journal:#?}"
    );

    let elsewhere = daemon_lines_with_journal_stream(1);
    let ready = elsewhere.last().expect("the ready line");
    assert!(
        ready.contains(" INFO speedrackd: speedrackd is ready")
            && ready.starts_with(|first: char| first.is_ascii_digit()),
        "a timestamped text line when the journal is some other stream: {ready:?}"
    );
}

/// Each line as a JSON object with string `level` and `message`.
fn json_lines(lines: &[String]) -> Vec<(String, String)> {
    lines
        .iter()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("not JSON ({error}): {line:?}"));
            let field = |name: &str| {
                value[name]
                    .as_str()
                    .unwrap_or_else(|| panic!("no string {name:?} in {line}"))
                    .to_owned()
            };
            (field("level"), field("message"))
        })
        .collect()
}

#[test]
fn json_lines_when_asked_by_variable_or_flag() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = daemon_command(dir.path());
    command.env("SPEEDRACK_LOG_FORMAT", "json");
    let daemon = Logged::start(command);
    let lines = json_lines(&daemon.until("speedrackd is ready"));
    assert_eq!(
        lines.last(),
        Some(&("INFO".to_owned(), "speedrackd is ready".to_owned()))
    );

    let mut command = web_command(dir.path());
    command.args(["--log-format", "json"]);
    let web = Logged::start(command);
    let lines = json_lines(&web.until("listening on http://"));
    let (level, message) = lines.last().expect("the listening line");
    assert!(
        level == "INFO" && message.starts_with("speedrack-web listening on http://"),
        "{lines:?}"
    );
}

/// Everything speedrackd logs from start to exit at `rust_log`.
fn whole_log(rust_log: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = daemon_command(dir.path());
    command.env("RUST_LOG", rust_log);
    let daemon = Logged::start(command);
    let mut lines = daemon.until("speedrackd is ready");
    lines.extend(daemon.stop());
    lines
}

#[test]
fn the_sweep_clocks_start_up_chatter_is_left_to_debug() {
    let chatter = |lines: &[String]| {
        lines
            .iter()
            .filter(|line| line.contains("tokio_cron_scheduler"))
            .count()
    };
    let info = whole_log("info");
    assert_eq!(chatter(&info), 0, "{info:#?}");
    assert!(
        info.iter().any(|line| line.contains("SIGTERM")),
        "the log is whole: {info:#?}"
    );
    let debug = whole_log("debug");
    assert!(chatter(&debug) > 0, "heard at debug: {debug:#?}");
}

#[tokio::test]
async fn a_reload_is_one_line_saying_what_changed() {
    let mut daemon = Daemon::start(TASKS);
    daemon.write_tasks(
        "tasks:
  - {name: a, command: 'true', interval: 400w}
  - {name: b, command: 'true', interval: 400w}
",
    );
    let pid = Pid::from_raw(i32::try_from(daemon.pid()).expect("pid"));
    nix::sys::signal::kill(pid, Signal::SIGHUP).expect("SIGHUP");
    daemon
        .wait_for_log(WAIT, |line| line.contains("configuration reloaded"))
        .expect("the SIGHUP reload is logged");
    daemon.ctl().ok(&["reload"]);
    daemon.stop_with(Signal::SIGTERM);
    daemon
        .wait_for_log(WAIT, |line| line.contains("SIGTERM: shutting down"))
        .expect("the shutdown is logged after both reloads");
    let log = daemon.log_text();
    let reload_lines: Vec<&str> = log
        .lines()
        .filter(|line| line.to_ascii_lowercase().contains("reload"))
        .collect();
    assert_eq!(
        reload_lines.len(),
        2,
        "one line per reload: {reload_lines:#?}"
    );
    assert!(
        reload_lines[0].ends_with("configuration reloaded: added b")
            && reload_lines[1].ends_with("configuration reloaded: no task changed"),
        "{reload_lines:#?}"
    );
}
