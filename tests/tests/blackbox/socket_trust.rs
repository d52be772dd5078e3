//! Another local user cannot impersonate the daemon through the per-user fallback directory
//! `/tmp/speedrack-$UID`: anyone can create it first. The daemon uses it only when its own user
//! owns it with mode 0700; clients (speedrackctl, speedrack-web) refuse a socket at the default
//! path that neither root nor they own, unless it is named explicitly. Runs the binaries as
//! unused uids through `setpriv`, so it needs root.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;

use nix::unistd::{Gid, Uid};
use speedrack_tests::{WAIT, binary, web::web_binary};

/// The uid and gid of `nobody`, the impersonator.
const OTHER: u32 = 65534;

/// `/tmp/speedrack-UID`, removed before and after the test (uids are unique per test).
struct FallbackDir(PathBuf);

impl FallbackDir {
    fn new(uid: u32) -> FallbackDir {
        let dir = FallbackDir(PathBuf::from(format!("/tmp/speedrack-{uid}")));
        let _ = std::fs::remove_dir_all(&dir.0);
        dir
    }

    /// Creates it as `owner` with `mode`.
    fn make(&self, owner: u32, mode: u32) {
        std::fs::create_dir_all(&self.0).expect("mkdir");
        give(&self.0, owner, mode);
    }
}

impl Drop for FallbackDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn give(path: &Path, owner: u32, mode: u32) {
    let (uid, gid) = (Uid::from_raw(owner), Gid::from_raw(owner));
    nix::unistd::chown(path, Some(uid), Some(gid)).expect("chown");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// `program ARGS` as `uid`, without a runtime dir or a socket named in the environment.
fn as_user(uid: u32, program: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("setpriv");
    command
        .args([
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
        ])
        .arg(program)
        .args(args)
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("SPEEDRACK_SOCKET")
        .env("HOME", "/nonexistent")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    command
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn the_daemon_uses_the_fallback_dir_only_when_it_is_its_own_and_private() {
    let uid = 54_321;
    let fallback = FallbackDir::new(uid);
    let files = tempfile::tempdir().expect("temp dir");
    give(files.path(), 0, 0o755);
    let tasks = files.path().join("tasks.yaml");
    std::fs::write(&tasks, "tasks: []\n").expect("tasks");
    let data = files.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    give(&data, uid, 0o700);
    let tasks = tasks.to_str().expect("utf-8");
    let data = data.to_str().expect("utf-8");
    let args = ["run", "--no-web", "--tasks", tasks, "--data-dir", data];
    let daemon = || Started::spawn(as_user(uid, &binary("speedrackd"), &args));

    fallback.make(OTHER, 0o777);
    let said = daemon().refused();
    assert!(
        said.contains(&format!(
            "refusing the socket directory {}: it is owned by uid 65534",
            fallback.0.display()
        )),
        "{said}"
    );

    give(&fallback.0, uid, 0o755);
    let said = daemon().refused();
    assert!(
        said.contains(&format!("fix with: chmod 0700 {}", fallback.0.display())),
        "{said}"
    );

    give(&fallback.0, uid, 0o700);
    let Started::Ready(mut child) = daemon() else {
        panic!("a private dir of its own is used");
    };
    assert!(fallback.0.join("speedrackd.sock").exists());
    let _ = child.kill();
    let _ = child.wait();
}

/// A daemon that became ready, or one that exited first with what it said.
enum Started {
    Ready(Child),
    Exited(Option<i32>, String),
}

impl Started {
    fn spawn(mut command: Command) -> Started {
        let mut child = command
            .stderr(Stdio::piped())
            .spawn()
            .expect("speedrackd starts");
        let lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        let mut said = String::new();
        loop {
            match receiver.recv_timeout(WAIT) {
                Ok(line) if line.contains("speedrackd is ready") => return Started::Ready(child),
                Ok(line) => said.push_str(&line),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().expect("wait");
                    return Started::Exited(status.code(), said);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("neither ready nor exited: {said}"),
            }
        }
    }

    /// What a daemon that refused to start said; it must have exited with 1.
    fn refused(self) -> String {
        match self {
            Started::Exited(code, said) => {
                assert_eq!(code, Some(1), "{said}");
                said
            }
            Started::Ready(mut child) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the daemon started");
            }
        }
    }
}

#[test]
fn clients_refuse_a_default_socket_another_user_owns_unless_it_is_named() {
    let uid = 54_322;
    let fallback = FallbackDir::new(uid);
    fallback.make(OTHER, 0o755);
    let socket = fallback.0.join("speedrackd.sock");
    // The impersonator's socket; closed again, so that a client that trusted it would say
    // "connection refused" rather than hang.
    drop(UnixListener::bind(&socket).expect("bind"));
    give(&socket, OTHER, 0o777);
    let refusal = format!(
        "refusing the socket {}: it is owned by uid 65534, neither root nor you",
        socket.display()
    );

    let ctl = as_user(uid, &binary("speedrackctl"), &["status"])
        .output()
        .expect("speedrackctl runs");
    assert_eq!(ctl.status.code(), Some(1), "{}", stderr(&ctl));
    assert!(stderr(&ctl).contains(&refusal), "{}", stderr(&ctl));

    let shown = socket.to_str().expect("utf-8");
    let named = as_user(uid, &binary("speedrackctl"), &["--socket", shown, "status"])
        .output()
        .expect("speedrackctl runs");
    assert_eq!(named.status.code(), Some(3), "{}", stderr(&named));
    assert!(!stderr(&named).contains("refusing"), "{}", stderr(&named));

    let web = as_user(uid, &web_binary(), &["--listen", "127.0.0.1:0"])
        .output()
        .expect("speedrack-web runs");
    assert_eq!(web.status.code(), Some(1), "{}", stderr(&web));
    assert!(stderr(&web).contains(&refusal), "{}", stderr(&web));
}
