//! GET /metrics: the daemon's Prometheus text, streamed into the body as ScrapeMetrics sends it.
//!
//! The gateway neither computes nor rewrites metrics, holds no more than a chunk of them, and
//! serves no HTML here: a scraper gets the text, or a one-line plain-text error with the status
//! of the API error (503 while the daemon is unreachable). A stream that fails midway aborts
//! the response, so a scraper never takes a cut text for the whole. Like every GET it changes
//! nothing, so the CSRF check lets it through. With `metrics.token_file` set, a scrape must
//! present that bearer token (and needs no UI sign-in); `metrics_access.rs` has the rules.

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio_stream::StreamExt;

use crate::state::AppState;

/// The content type of the Prometheus text exposition format, version 0.0.4.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = state.metrics_token()
        && !token.admits(&headers)
    {
        return (
            StatusCode::UNAUTHORIZED,
            [
                (CONTENT_TYPE, "text/plain; charset=utf-8"),
                (WWW_AUTHENTICATE, "Bearer realm=\"speedrack metrics\""),
            ],
            "/metrics needs the bearer token of metrics.token_file\n",
        )
            .into_response();
    }
    match state.api().scrape_metrics().await {
        Ok(chunks) => {
            let body = chunks.map(|chunk| {
                chunk.map(|chunk| chunk.text).map_err(|status| {
                    tracing::warn!("/metrics: the scrape broke off: {}", status.message());
                    std::io::Error::other(status.message().to_owned())
                })
            });
            ([(CONTENT_TYPE, PROMETHEUS_TEXT)], Body::from_stream(body)).into_response()
        }
        Err(error) => (
            error.http_status(),
            [(CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{error}\n"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unreachable_daemon_is_a_plain_503() {
        let (_stop, stopping) = tokio::sync::watch::channel(false);
        let socket = std::env::temp_dir().join("speedrack-web-test-no-daemon-metrics.sock");
        let state = AppState::new(socket, stopping, crate::auth::Auth::None);
        let response = scrape(State(state), HeaderMap::new()).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let content_type = response.headers().get(CONTENT_TYPE).cloned();
        assert_eq!(
            content_type.as_ref().and_then(|value| value.to_str().ok()),
            Some("text/plain; charset=utf-8")
        );
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .expect("a short body");
        let body = String::from_utf8_lossy(&body);
        assert!(body.starts_with("speedrackd is unreachable at "), "{body}");
    }
}
