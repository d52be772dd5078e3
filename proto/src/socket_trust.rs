//! Which socket a client uses when none is named, and whether it may trust it.
//!
//! The system daemon's socket (`/run/speedrack/speedrackd.sock`) comes first, so that a member
//! of `socket_group` reaches it with no flags; the client's own per-user socket is used when
//! there is no system socket, or when the client may not use it and has a daemon of its own.
//!
//! The per-user fallback directory lives in `/tmp`, where any local user can create
//! `/tmp/speedrack-$UID/` first and put a socket of their own in it to impersonate the daemon
//! (and read what clients send, or answer with lies). A socket at the default path is trusted
//! only when root or the client's own user owns it; one named explicitly (`--socket`,
//! `$SPEEDRACK_SOCKET`) is the caller's choice and not second-guessed. Connecting is
//! `connect`'s business; this only judges ownership.

use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::socket_path::{default_socket_path, system_socket_path};

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

/// The socket to use: the one named explicitly, else the system or the per-user one
/// (`discover`) once its owner is trusted. A socket that does not exist yet, or that the
/// client may not use, is left for `connect` to report.
pub fn choose_socket(named: Option<PathBuf>) -> Result<PathBuf, UntrustedSocket> {
    if let Some(path) = named {
        return Ok(path);
    }
    let path = discover(system_socket_path(), default_socket_path());
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

/// The system socket, unless it is absent, or the client may not use it and has a socket of
/// its own: then its own. With neither usable the system socket is kept, so that the refusal
/// reported is the one an admin can fix.
fn discover(system: PathBuf, own: PathBuf) -> PathBuf {
    let use_system = prefer_system(
        present(&system),
        nix::unistd::access(&system, nix::unistd::AccessFlags::W_OK).is_ok(),
        present(&own),
    );
    if use_system { system } else { own }
}

fn prefer_system(system_present: bool, system_usable: bool, own_present: bool) -> bool {
    system_present && (system_usable || !own_present)
}

/// Whether something is at `path`; a directory the client cannot enter hides what is in it,
/// which counts as there (a socket kept from the client is still the daemon's).
fn present(path: &Path) -> bool {
    match std::fs::symlink_metadata(path) {
        Ok(_) => true,
        Err(error) => error.kind() == ErrorKind::PermissionDenied,
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
    fn the_system_socket_comes_first_unless_it_is_absent_or_kept_from_a_client_with_its_own() {
        // (system present, system usable, own present) -> system?
        assert!(prefer_system(true, true, true));
        assert!(prefer_system(true, true, false));
        assert!(!prefer_system(true, false, true));
        assert!(prefer_system(true, false, false));
        assert!(!prefer_system(false, false, true));
        assert!(!prefer_system(false, false, false));
    }

    #[test]
    fn a_named_socket_is_taken_as_named() {
        let named = PathBuf::from("/nowhere/at/all.sock");
        assert_eq!(choose_socket(Some(named.clone())).ok(), Some(named));
    }
}
