//! The socket is private: mode 0600, other users refused by peer credentials, and a second
//! daemon cannot steal a live socket.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use speedrack_tests::{Daemon, binary};

#[test]
fn the_socket_is_owner_only() {
    let daemon = Daemon::start("tasks: []\n");
    let mode = std::fs::metadata(daemon.socket())
        .expect("socket exists")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn callers_of_another_uid_are_refused_even_if_they_reach_the_socket() {
    let daemon = Daemon::start("tasks: []\n");
    // Open the path up so that only the peer-credential check stands in the way.
    for path in [daemon.dir().to_path_buf(), daemon.socket()] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    }
    let output = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(binary("speedrackctl"))
        .arg("--socket")
        .arg(daemon.socket())
        .arg("status")
        .output()
        .expect("setpriv runs");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("uid 65534 may not use this speedrackd"),
        "{stderr}"
    );
    assert!(
        daemon
            .log_text()
            .contains("refused an API call from another user")
    );
}

#[test]
fn a_second_daemon_refuses_a_live_socket() {
    let daemon = Daemon::start("tasks: []\n");
    let output = Command::new(binary("speedrackd"))
        .args(["run", "--tasks"])
        .arg(daemon.dir().join("tasks.yaml"))
        .arg("--socket")
        .arg(daemon.socket())
        .arg("--data-dir")
        .arg(daemon.dir().join("other-data"))
        .stderr(Stdio::piped())
        .output()
        .expect("second daemon runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("another speedrackd is already listening")
    );
    daemon.ctl().ok(&["status"]);
}
