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

/// An interceptor admitting `daemon_uid` and root.
pub fn authorize(
    daemon_uid: u32,
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
        if uid != 0 && uid != daemon_uid {
            tracing::warn!(uid, pid = ?peer.pid(), "refused an API call from another user");
            return Err(Status::permission_denied(format!(
                "uid {uid} may not use this speedrackd (it admits uid {daemon_uid} and root)"
            )));
        }
        request.extensions_mut().insert(Caller { uid });
        Ok(request)
    }
}
