//! Where the daemon's socket lives when nobody says otherwise.
//!
//! The daemon and its clients must agree on this without talking, so the rule lives here, in
//! the one crate both depend on.

use std::path::{Path, PathBuf};

/// File name of the socket inside its directory.
pub const SOCKET_FILE_NAME: &str = "speedrackd.sock";

/// Environment variable that clients read for the socket path.
pub const SOCKET_ENV: &str = "SPEEDRACK_SOCKET";

/// The system daemon's socket, which clients look for before their own per-user one.
pub const SYSTEM_SOCKET: &str = "/run/speedrack/speedrackd.sock";

/// Environment variable that moves the system socket clients look for. Only the black-box
/// tests set it: they cannot use /run, and must not reach a real daemon there.
pub const SYSTEM_SOCKET_ENV: &str = "SPEEDRACK_SYSTEM_SOCKET";

/// Where clients look for the system daemon: `$SPEEDRACK_SYSTEM_SOCKET`, else [`SYSTEM_SOCKET`].
pub fn system_socket_path() -> PathBuf {
    std::env::var_os(SYSTEM_SOCKET_ENV)
        .filter(|path| !path.is_empty())
        .map_or_else(|| PathBuf::from(SYSTEM_SOCKET), PathBuf::from)
}

/// The default socket: `/run/speedrack/` for root, `$XDG_RUNTIME_DIR/speedrack/` for other
/// users, and `/tmp/speedrack-$UID/` when the runtime dir is not set.
pub fn default_socket_path() -> PathBuf {
    let uid = nix::unistd::getuid();
    let runtime_dir = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from);
    socket_path_for(uid.as_raw(), runtime_dir.as_deref())
}

/// `/tmp/speedrack-$UID`, the directory of a user without a runtime dir. Anyone can create it
/// first, so the daemon uses it only when `uid` owns it with mode 0700.
pub fn fallback_socket_dir(uid: u32) -> PathBuf {
    PathBuf::from(format!("/tmp/speedrack-{uid}"))
}

fn socket_path_for(uid: u32, runtime_dir: Option<&Path>) -> PathBuf {
    let dir = match (uid, runtime_dir) {
        (0, _) => return PathBuf::from(SYSTEM_SOCKET),
        (_, Some(dir)) if dir.is_absolute() => dir.join("speedrack"),
        (uid, _) => fallback_socket_dir(uid),
    };
    dir.join(SOCKET_FILE_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_uses_run_regardless_of_runtime_dir() {
        assert_eq!(
            socket_path_for(0, Some(Path::new("/run/user/0"))),
            Path::new("/run/speedrack/speedrackd.sock")
        );
    }

    #[test]
    fn users_use_their_runtime_dir() {
        assert_eq!(
            socket_path_for(1000, Some(Path::new("/run/user/1000"))),
            Path::new("/run/user/1000/speedrack/speedrackd.sock")
        );
    }

    #[test]
    fn users_without_runtime_dir_fall_back_to_tmp() {
        assert_eq!(
            socket_path_for(1000, None),
            Path::new("/tmp/speedrack-1000/speedrackd.sock")
        );
        // A relative XDG_RUNTIME_DIR is invalid by the spec and ignored.
        assert_eq!(
            socket_path_for(1000, Some(Path::new("run"))),
            Path::new("/tmp/speedrack-1000/speedrackd.sock")
        );
    }
}
