//! Every file that can make the daemon run something is guarded: the settings file, the shell
//! and password files it names, and the tasks file. Tried before: a settings file another user
//! could write named `shell: /tmp/evil.sh`, a SIGHUP later evil.sh ran as root. Now such a file
//! is refused at start (exit 78, saying how to fix it) and at reload (the running configuration
//! stays), and the evil shell never runs. Needs root, to give files to another user (65534).

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use nix::sys::signal::Signal;
use nix::unistd::{Gid, Pid, Uid};
use speedrack_proto::v1::WatchEventsRequest;
use speedrack_tests::{Daemon, EventWatch, WAIT, binary};

/// The uid and gid of `nobody`, standing for another local user.
const OTHER: u32 = 65534;

const TASKS: &str = "tasks:\n  - {name: t, command: 'echo ran', interval: 1h}\n";

/// A temp dir with the tasks file and an evil shell, which leaves a marker when it runs.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("tasks.yaml"), TASKS).expect("tasks");
        let setup = Setup { dir };
        let evil = format!("#!/bin/sh\ntouch {}\n", setup.marker().display());
        setup.write("evil.sh", &evil, 0o755, OTHER, OTHER);
        setup
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn marker(&self) -> PathBuf {
        self.path("evil-ran")
    }

    /// Writes a file and gives it a mode and an owner.
    fn write(&self, name: &str, text: &str, mode: u32, uid: u32, gid: u32) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write");
        give(&path, mode, uid, gid);
        path
    }

    fn command(&self, settings: &Path) -> Command {
        Daemon::command(self.dir.path(), Some(settings))
    }
}

fn give(path: &Path, mode: u32, uid: u32, gid: u32) {
    nix::unistd::chown(path, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid))).expect("chown");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn a_settings_file_another_user_can_write_is_refused_at_start() {
    let setup = Setup::new();
    let evil = setup.path("evil.sh");
    let text = format!(
        "shell: {}\nallow_insecure_tasks_file: true\n",
        evil.display()
    );
    let settings = setup.write("settings.yaml", &text, 0o666, OTHER, OTHER);
    let stderr = Daemon::refusal(setup.command(&settings));
    let shown = settings.display();
    assert!(
        stderr.contains(&format!(
            "refusing the settings file {shown}: it is owned by uid 65534, another user and \
             everyone can write it (mode 0666); fix with: chown root {shown} && chmod go-w {shown}"
        )),
        "{stderr}"
    );
    assert!(!setup.marker().exists(), "the evil shell never runs");
}

#[test]
fn files_the_settings_name_are_guarded_like_the_settings_file() {
    let setup = Setup::new();
    let evil = setup.path("evil.sh");
    let settings = setup.write(
        "settings.yaml",
        &format!("app_name: x\nshell: {}\n", evil.display()),
        0o644,
        0,
        0,
    );
    let stderr = Daemon::refusal(setup.command(&settings));
    assert!(
        stderr.contains(&format!(
            "refusing shell (named at {}:2) {}: it is owned by uid 65534, another user; \
             fix with: chown root {}",
            settings.display(),
            evil.display(),
            evil.display()
        )),
        "{stderr}"
    );

    // A root-owned shell in a directory another user owns: they could swap it after the check.
    let bin = setup.path("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    let shell = bin.join("sh");
    std::fs::write(&shell, "#!/bin/sh\nexec /bin/sh \"$@\"\n").expect("shell");
    give(&shell, 0o755, 0, 0);
    give(&bin, 0o755, OTHER, OTHER);
    let text = format!("shell: {}\n", shell.display());
    setup.write("settings.yaml", &text, 0o644, 0, 0);
    let stderr = Daemon::refusal(setup.command(&settings));
    assert!(
        stderr.contains(&format!(
            "its directory {}: it is owned by uid 65534, another user; fix with: chown root {}",
            bin.display(),
            bin.display()
        )),
        "{stderr}"
    );

    let password = setup.write("password", "secret\n", 0o620, 0, OTHER);
    let text = format!(
        "email:\n  smtp_host: localhost\n  smtp_password_file: {}\n",
        password.display()
    );
    setup.write("settings.yaml", &text, 0o644, 0, 0);
    let stderr = Daemon::refusal(setup.command(&settings));
    assert!(
        stderr.contains(&format!(
            "refusing email.smtp_password_file (named at {}:3) {}: its group (gid 65534) can \
             write it (mode 0620); fix with: chmod g-w {}",
            settings.display(),
            password.display(),
            password.display()
        )),
        "{stderr}"
    );
    assert!(!setup.marker().exists(), "the evil shell never runs");
}

#[test]
fn group_writable_files_pass_only_for_roots_group() {
    let setup = Setup::new();
    let settings = setup.write("settings.yaml", "app_name: x\n", 0o664, 0, OTHER);
    let stderr = Daemon::refusal(setup.command(&settings));
    assert!(
        stderr.contains(&format!("fix with: chmod g-w {}", settings.display())),
        "{stderr}"
    );
    give(&settings, 0o664, 0, 0);
    give(&setup.path("tasks.yaml"), 0o664, 0, 0);
    let mut daemon = Logged::start(setup.command(&settings));
    daemon.wait_for("speedrackd is ready");
    daemon.stop();
}

#[tokio::test]
async fn a_reload_with_an_insecure_settings_file_keeps_the_running_configuration() {
    let setup = Setup::new();
    let settings = setup.write("settings.yaml", "app_name: x\n", 0o644, 0, 0);
    let mut daemon = Logged::start(setup.command(&settings));
    daemon.wait_for("speedrackd is ready");

    // What another user does with a settings file they can write.
    give(&settings, 0o666, OTHER, OTHER);
    let evil = setup.path("evil.sh");
    let text = format!(
        "shell: {}\nallow_insecure_tasks_file: true\n",
        evil.display()
    );
    std::fs::write(&settings, text).expect("rewrite");
    daemon.signal(Signal::SIGHUP);
    let refused = daemon.wait_for("reload refused");
    assert!(
        refused.contains("running configuration kept")
            && refused.contains("refusing the settings file")
            && refused.contains("fix with: chown root"),
        "{refused}"
    );

    // The old shell still runs the task; the evil one never does.
    let socket = setup.path("speedrackd.sock");
    let mut client = speedrack_proto::connect(&socket).await.expect("connect");
    let stream = client
        .watch_events(WatchEventsRequest::default())
        .await
        .expect("watch");
    let mut events = EventWatch::new(stream.into_inner());
    let ran = Command::new(binary("speedrackctl"))
        .arg("--socket")
        .arg(&socket)
        .args(["run-now", "t"])
        .output()
        .expect("speedrackctl runs");
    assert!(ran.status.success(), "{ran:?}");
    let run = events.run_finished("t", WAIT).await.expect("the run ends");
    assert_eq!(run.exit_code, Some(0), "{run:?}");
    assert!(!setup.marker().exists(), "the evil shell never runs");
    daemon.stop();
}

/// A daemon started by hand whose log lines can be waited for.
struct Logged {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Logged {
    fn start(mut command: Command) -> Logged {
        let mut child = command
            .stderr(Stdio::piped())
            .spawn()
            .expect("speedrackd starts");
        let stderr = child.stderr.take().expect("piped stderr");
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

    /// The first line from now on that contains `needle`.
    fn wait_for(&mut self, needle: &str) -> String {
        loop {
            match self.lines.recv_timeout(WAIT) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(error) => panic!("no log line with {needle:?}: {error}"),
            }
        }
    }

    fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).expect("pid"));
        nix::sys::signal::kill(pid, signal).expect("signal");
    }

    fn stop(&mut self) {
        self.signal(Signal::SIGTERM);
        let status = self.child.wait().expect("daemon exits");
        assert!(status.success(), "{status:?}");
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
