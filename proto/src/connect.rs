//! Connecting a gRPC client to speedrackd's Unix socket.
//!
//! Only transport set-up lives here; what a client does with the channel is its own business.

use std::path::{Path, PathBuf};

use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint, Uri};
use tower::service_fn;

use crate::v1::speedrack_client::SpeedrackClient;

/// The daemon's socket could not be reached.
#[derive(Debug, thiserror::Error)]
#[error("cannot reach speedrackd at {}: {reason} (is the service running?)", path.display())]
pub struct ConnectError {
    /// The socket that was tried.
    pub path: PathBuf,
    /// The innermost cause, e.g. "No such file or directory (os error 2)".
    pub reason: String,
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
        .map_err(|err| ConnectError {
            path,
            reason: innermost_cause(&err),
        })?;
    // Said explicitly rather than left to tonic's 4 MiB default, so that both clients accept
    // the same replies as the daemon sends.
    Ok(SpeedrackClient::new(channel)
        .max_decoding_message_size(crate::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(crate::MAX_MESSAGE_BYTES))
}

fn innermost_cause(err: &tonic::transport::Error) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
