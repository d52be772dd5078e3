//! A member of `socket_group` reaches the system daemon with no flags: clients look for the
//! system socket before their per-user one. Someone outside the group is told it is a matter
//! of group membership, with its own exit code, not that the daemon may be down. The system
//! socket is moved into the test's directory with `$SPEEDRACK_SYSTEM_SOCKET`, so no real
//! /run is touched. Runs speedrackctl as other uids through `setpriv`, so it needs root.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use speedrack_tests::{DaemonBuilder, binary};

/// `speedrackctl status` as `uid` (primary group the same number), with no flag, no
/// `$SPEEDRACK_SOCKET` and no runtime dir: only the system socket can lead it to `socket`.
fn status_as(uid: u32, socket: &Path) -> Output {
    Command::new("setpriv")
        .args([
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
        ])
        .arg(binary("speedrackctl"))
        .arg("status")
        .env_remove("SPEEDRACK_SOCKET")
        .env_remove("XDG_RUNTIME_DIR")
        .env("SPEEDRACK_SYSTEM_SOCKET", socket)
        .env("HOME", "/nonexistent")
        .stdin(Stdio::null())
        .output()
        .expect("setpriv runs")
}

#[test]
fn a_group_member_reaches_the_system_socket_with_no_flags_and_others_are_told_why_not() {
    // nogroup (65534) stands for the operators' group; nobody (65534) is in it.
    let daemon = DaemonBuilder::new("tasks: []\n")
        .settings("socket_group: nogroup\n")
        .start();
    std::fs::set_permissions(daemon.dir(), std::fs::Permissions::from_mode(0o755))
        .expect("let others reach it");
    let socket = daemon.socket();

    let member = status_as(65534, &socket);
    let said = String::from_utf8_lossy(&member.stderr);
    assert!(member.status.success(), "a member gets in: {said}");
    assert!(
        String::from_utf8_lossy(&member.stdout).contains(&socket.display().to_string()),
        "status names the system socket it reached"
    );

    let stranger = status_as(12345, &socket);
    let said = String::from_utf8_lossy(&stranger.stderr);
    assert_eq!(stranger.status.code(), Some(5), "{said}");
    assert_eq!(
        said.trim_end(),
        format!(
            "speedrackctl: permission denied on {}: you are not in group nogroup (the socket's \
             group); ask an admin to add you, or use sudo",
            socket.display()
        )
    );
}
