//! Whether a client may trust the socket it found at the default path.
//!
//! The per-user fallback directory lives in `/tmp`, where any local user can create
//! `/tmp/speedrack-$UID/` first and put a socket of their own in it to impersonate the daemon
//! (and read what clients send, or answer with lies). A socket at the default path is trusted
//! only when root or the client's own user owns it; one named explicitly (`--socket`,
//! `$SPEEDRACK_SOCKET`) is the caller's choice and not second-guessed. Connecting is
//! `connect`'s business; this only judges ownership.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use crate::socket_path::default_socket_path;

/// A socket at the default path that another user owns.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing the socket {}: it is owned by uid {owner}, neither root nor you, so it may not be \
     speedrackd (if you trust it, name it with --socket or ${})",
    path.display(),
    crate::SOCKET_ENV
)]
pub struct UntrustedSocket {
    pub path: PathBuf,
    pub owner: u32,
}

/// The socket to use: the one named explicitly, else the default path once its owner is
/// trusted. A socket that does not exist yet is left for `connect` to report.
pub fn choose_socket(named: Option<PathBuf>) -> Result<PathBuf, UntrustedSocket> {
    if let Some(path) = named {
        return Ok(path);
    }
    let path = default_socket_path();
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if !trusted_owner(meta.uid(), nix::unistd::getuid().as_raw()) => {
            Err(UntrustedSocket {
                path,
                owner: meta.uid(),
            })
        }
        Ok(_) | Err(_) => Ok(path),
    }
}

/// Root runs the system daemon; the client's own user runs a per-user one.
fn trusted_owner(owner: u32, me: u32) -> bool {
    owner == 0 || owner == me
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_root_and_the_clients_own_user_are_trusted() {
        assert!(trusted_owner(0, 1000));
        assert!(trusted_owner(1000, 1000));
        assert!(!trusted_owner(1001, 1000));
        assert!(trusted_owner(0, 0));
        assert!(!trusted_owner(65534, 0));
    }

    #[test]
    fn a_named_socket_is_taken_as_named() {
        let named = PathBuf::from("/nowhere/at/all.sock");
        assert_eq!(choose_socket(Some(named.clone())).ok(), Some(named));
    }
}
