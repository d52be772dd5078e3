//! A real HTTP listener that records every POST body, standing in for a webhook or Sentry.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use tokio::sync::mpsc;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub body: Vec<u8>,
}

/// A running receiver; it stops when dropped with the test's runtime.
pub struct Receiver {
    pub url: String,
    requests: mpsc::UnboundedReceiver<Received>,
}

impl Receiver {
    /// Binds a free loopback port and serves every path, answering `status`.
    pub async fn start(status: StatusCode) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a port");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (sender, requests) = mpsc::unbounded_channel();
        let app = Router::new().fallback(record).with_state((sender, status));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, requests }
    }

    pub async fn next(&mut self, timeout: Duration) -> Option<Received> {
        tokio::time::timeout(timeout, self.requests.recv())
            .await
            .ok()
            .flatten()
    }
}

async fn record(
    State((sender, status)): State<(mpsc::UnboundedSender<Received>, StatusCode)>,
    uri: Uri,
    body: Bytes,
) -> StatusCode {
    let _ = sender.send(Received {
        path: uri.path().to_owned(),
        body: body.to_vec(),
    });
    status
}
