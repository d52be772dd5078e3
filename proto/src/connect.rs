//! Connecting a gRPC client to speedrackd's Unix socket.
//!
//! Only transport set-up lives here; what a client does with the channel is its own business.

use std::path::{Path, PathBuf};

use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint, Uri};
use tower::service_fn;

use crate::socket_denied::SocketDenied;
use crate::v1::speedrack_client::SpeedrackClient;

/// The daemon's socket could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Nothing answered at the socket.
    #[error("cannot reach speedrackd at {}: {reason} (is the service running?)", path.display())]
    Unreachable {
        /// The socket that was tried.
        path: PathBuf,
        /// The innermost cause, e.g. "No such file or directory (os error 2)".
        reason: String,
    },
    /// The socket's permissions keep this client out: the daemon may well be running.
    #[error(transparent)]
    Denied(#[from] SocketDenied),
}

/// Connects to the daemon listening on `socket`.
///
/// The connection is made now, so an absent or dead daemon is reported here rather than at
/// the first call.
pub async fn connect(socket: &Path) -> Result<SpeedrackClient<Channel>, ConnectError> {
    let path = socket.to_path_buf();
    let connector_path = path.clone();
    // Over a Unix socket the URI only names the HTTP/2 authority; `localhost` is what other
    // gRPC implementations send too.
    let endpoint = Endpoint::from_static("http://localhost");
    let channel = endpoint
        .connect_with_connector(service_fn(move |_: Uri| {
            let path = connector_path.clone();
            async move { UnixStream::connect(path).await.map(TokioIo::new) }
        }))
        .await
        .map_err(|err| {
            if permission_denied(&err) {
                ConnectError::Denied(SocketDenied::examine(&path))
            } else {
                ConnectError::Unreachable {
                    reason: innermost_cause(&err),
                    path,
                }
            }
        })?;
    // Said explicitly rather than left to tonic's 4 MiB default, so that both clients accept
    // the same replies as the daemon sends.
    Ok(SpeedrackClient::new(channel)
        .max_decoding_message_size(crate::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(crate::MAX_MESSAGE_BYTES))
}

/// Whether the kernel refused the connection (EACCES on the socket or its directory).
fn permission_denied(err: &tonic::transport::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = cause {
        if current
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied)
        {
            return true;
        }
        cause = current.source();
    }
    false
}

fn innermost_cause(err: &tonic::transport::Error) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
