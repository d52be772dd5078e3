//! Why the kernel refused a client the daemon's socket, in words that say what to do.
//!
//! A refusal is the socket's mode at work, not a daemon that is down: the usual cause is a user
//! outside `socket_group` reaching for the system socket. This reads the socket's (or, when its
//! directory cannot be entered, that directory's) owner, group and mode to name who may get in;
//! detecting the refusal is `connect`'s business.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The kernel refused the client its connection to the socket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("permission denied on {}: {}", path.display(), advice(.who))]
pub struct SocketDenied {
    /// The socket that was tried.
    pub path: PathBuf,
    /// Who the socket lets in besides root.
    pub who: Admitted,
}

/// Who a socket (or its directory) lets in besides root, as far as the client can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admitted {
    /// Its owner and the members of this group (a name, or the gid when it has none).
    Group(String),
    /// Only its owner (a name, or the uid when it has none).
    Owner(String),
    /// The client could not read who: not even the directory above could be examined.
    Unknown,
}

fn advice(who: &Admitted) -> String {
    match who {
        Admitted::Group(group) => format!(
            "you are not in group {group} (the socket's group); ask an admin to add you, or use \
             sudo"
        ),
        Admitted::Owner(owner) => format!(
            "only its owner, {owner}, may use it; use sudo, or ask an admin to set socket_group \
             in speedrackd's settings"
        ),
        Admitted::Unknown => "use sudo, or ask an admin which group may use it".to_owned(),
    }
}

impl SocketDenied {
    /// Describes a refusal to connect to `path`, from what its metadata shows.
    pub fn examine(path: &Path) -> SocketDenied {
        let inspected = std::fs::metadata(path)
            .map(|meta| (meta, 0o060))
            .or_else(|_| {
                // The directory cannot be entered: it is what keeps the client out.
                let dir = path.parent().unwrap_or(Path::new("/"));
                std::fs::metadata(dir).map(|meta| (meta, 0o050))
            });
        let who = match inspected {
            Ok((meta, group_bits)) => admitted(meta.mode(), group_bits, meta.uid(), meta.gid()),
            Err(_) => Admitted::Unknown,
        };
        SocketDenied {
            path: path.to_path_buf(),
            who,
        }
    }
}

/// A group that has the bits it needs (`group_bits`) is let in; otherwise only the owner is.
fn admitted(mode: u32, group_bits: u32, uid: u32, gid: u32) -> Admitted {
    if mode & group_bits == group_bits {
        Admitted::Group(group_name(gid))
    } else {
        Admitted::Owner(user_name(uid))
    }
}

fn group_name(gid: u32) -> String {
    match nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(gid)) {
        Ok(Some(group)) => group.name,
        _ => format!("gid {gid}"),
    }
}

fn user_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => user.name,
        _ => format!("uid {uid}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_with_the_bits_it_needs_is_named() {
        assert_eq!(
            admitted(0o140660, 0o060, 0, 0),
            Admitted::Group("root".into())
        );
        assert_eq!(
            admitted(0o040750, 0o050, 0, 0),
            Admitted::Group("root".into())
        );
    }

    #[test]
    fn without_them_only_the_owner_is() {
        assert_eq!(
            admitted(0o140600, 0o060, 0, 0),
            Admitted::Owner("root".into())
        );
        // Read alone does not let a group connect.
        assert_eq!(
            admitted(0o140640, 0o060, 0, 0),
            Admitted::Owner("root".into())
        );
        assert_eq!(
            admitted(0o040700, 0o050, 0, 0),
            Admitted::Owner("root".into())
        );
    }

    #[test]
    fn the_message_says_what_to_do() {
        let denied = SocketDenied {
            path: "/run/speedrack/speedrackd.sock".into(),
            who: Admitted::Group("speedrack".into()),
        };
        assert_eq!(
            denied.to_string(),
            "permission denied on /run/speedrack/speedrackd.sock: you are not in group \
             speedrack (the socket's group); ask an admin to add you, or use sudo"
        );
    }
}
