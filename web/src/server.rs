//! The gateway's HTTP/1 server: an accept loop that holds at most a fixed number of
//! connections, answers 503 beyond them, and gives every connection a deadline for its request
//! headers (also while it idles between requests), so that slow or silent clients cannot pile
//! up sockets. Each request learns its peer's address (`ConnectInfo`) for authentication.
//!
//! On shutdown it stops accepting and lets open requests finish (live streams end on their own
//! signal, see `state.rs`). Which numbers to use is `limits.rs`'s decision; what a request gets
//! is the router's.

use std::future::Future;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

use crate::limits::{REFUSAL_LINGER, REFUSAL_SLOTS};

/// How long to wait before accepting again when the process is out of descriptors; retrying at
/// once would spin on the same error.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(250);

/// What a connection over the cap reads.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Retry-After: 5\r\n\
Connection: close\r\n\
Content-Length: 76\r\n\
\r\n\
the web UI is serving as many connections as it may; try again in a moment\r\n";

/// The limits the accept loop enforces.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    pub header_timeout: Duration,
    /// Connections served at once.
    pub cap: usize,
}

/// Serves `app` on `listener` until `shutdown` completes, then waits for open requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) {
    let served = Arc::new(Semaphore::new(limits.cap));
    let refusing = Arc::new(Semaphore::new(REFUSAL_SLOTS));
    let saturated = AtomicBool::new(false);
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(&error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        match Arc::clone(&served).try_acquire_owned() {
            Ok(permit) => {
                saturated.store(false, Ordering::Relaxed);
                spawn_connection(&http, &graceful, &app, (stream, peer), permit);
            }
            Err(_) => {
                if !saturated.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        "the web UI holds its {} connections; answering 503 to more",
                        limits.cap
                    );
                }
                refuse(stream, &refusing);
            }
        }
    }
    graceful.shutdown().await;
}

/// Serves one connection in a task of its own, which frees `permit` when the connection ends.
fn spawn_connection(
    http: &http1::Builder,
    graceful: &GracefulShutdown,
    app: &Router,
    (stream, peer): (TcpStream, SocketAddr),
    permit: OwnedSemaphorePermit,
) {
    let app = app.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(request)
    });
    let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!("web connection from {peer} ended: {error}");
        }
        drop(permit);
    });
}

/// Answers 503 and closes, holding at most [`REFUSAL_SLOTS`] sockets for it; beyond those, the
/// connection is closed unanswered.
fn refuse(stream: TcpStream, refusing: &Arc<Semaphore>) {
    let Ok(permit) = Arc::clone(refusing).try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _ = tokio::time::timeout(REFUSAL_LINGER, answer_busy(stream, permit)).await;
    });
}

async fn answer_busy(mut stream: TcpStream, _slot: OwnedSemaphorePermit) -> std::io::Result<()> {
    stream.write_all(BUSY).await?;
    stream.shutdown().await?;
    // Reads what the client sent, so that closing does not reset the connection before the
    // client has read the answer.
    let mut sink = [0_u8; 1024];
    while stream.read(&mut sink).await? > 0 {}
    Ok(())
}

/// Errors of one connection are its own; running out of descriptors needs a pause.
async fn accept_failed(error: &std::io::Error) {
    if matches!(
        error.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused
    ) {
        return;
    }
    tracing::error!("the web UI cannot accept connections: {error}");
    tokio::time::sleep(ACCEPT_BACKOFF).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_says_its_length_right() {
        let text = std::str::from_utf8(BUSY).expect("ascii");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        assert!(
            head.contains(&format!("Content-Length: {}", body.len())),
            "{text}"
        );
    }
}
