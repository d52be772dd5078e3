//! Who may call: the daemon's own user and root, told by the kernel's peer credentials on the
//! Unix socket. Runs before every handler, so no handler can forget it.

use tonic::transport::server::UdsConnectInfo;
use tonic::{Request, Status};

/// The verified caller, put into the request for handlers that record who asked.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub uid: u32,
}

impl Caller {
    /// The caller's user name, or `uid N` when the system has no name for it.
    pub fn user_name(self) -> String {
        match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(self.uid)) {
            Ok(Some(user)) => user.name,
            _ => format!("uid {}", self.uid),
        }
    }
}

/// An interceptor admitting `daemon_uid`, root, and members of `group` (settings
/// `socket_group`) by their primary or supplementary groups.
pub fn authorize(
    daemon_uid: u32,
    group: Option<u32>,
) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
    move |mut request: Request<()>| {
        let peer = request
            .extensions()
            .get::<UdsConnectInfo>()
            .and_then(|info| info.peer_cred);
        let Some(peer) = peer else {
            return Err(Status::permission_denied(
                "cannot tell who is calling: no peer credentials on the socket",
            ));
        };
        let uid = peer.uid();
        if !admits(daemon_uid, group, uid, peer.gid(), || member_of(group, uid)) {
            tracing::warn!(uid, pid = ?peer.pid(), "refused an API call from another user");
            let also = group.map_or_else(String::new, |gid| format!(", members of group {gid}"));
            return Err(Status::permission_denied(format!(
                "uid {uid} may not use this speedrackd (it admits uid {daemon_uid}, root{also})"
            )));
        }
        request.extensions_mut().insert(Caller { uid });
        Ok(request)
    }
}

/// Who may call, as a pure rule; `is_member` is asked only when it matters.
fn admits(
    daemon_uid: u32,
    group: Option<u32>,
    uid: u32,
    gid: u32,
    is_member: impl FnOnce() -> bool,
) -> bool {
    uid == 0 || uid == daemon_uid || group.is_some_and(|group| group == gid || is_member())
}

/// Whether the user is a supplementary member of the group.
fn member_of(group: Option<u32>, uid: u32) -> bool {
    let (Some(gid), Ok(Some(user))) = (
        group,
        nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)),
    ) else {
        return false;
    };
    matches!(nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(gid)), Ok(Some(group)) if group.mem.contains(&user.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_the_daemon_root_and_the_socket_group() {
        let cases = [
            (None, 0, 0, false, true),
            (None, 1000, 1000, false, true),
            (None, 2000, 2000, false, false),
            (Some(500), 2000, 500, false, true), // primary group
            (Some(500), 2000, 2000, true, true), // supplementary member
            (Some(500), 2000, 2000, false, false),
        ];
        for (group, uid, gid, member, expected) in cases {
            assert_eq!(
                admits(1000, group, uid, gid, || member),
                expected,
                "{group:?} uid={uid} gid={gid}"
            );
        }
    }
}
