//! GET /tasks/{name}/search?q=TEXT: the task's retained output searched by the daemon
//! (SearchOutput), each run's hits sent to the browser as they arrive.
//!
//! Bounded on both sides: the daemon's caps (asked for here) end the search, a silent daemon
//! ends it after `QUIET`, and the body is a bounded channel. Rendering is `views/search.rs`.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use speedrack_proto::v1 as pb;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use super::{api_error, html, not_found_page};
use crate::context::Ctx;
use crate::names::TaskName;
use crate::state::AppState;
use crate::views;
use crate::views::layout::Chrome;

/// What the page asks of one search: the daemon caps these further.
const MAX_RUNS: u32 = 200;
const MAX_BYTES: u64 = 64 << 20;
const MAX_HITS: u32 = 200;
/// Longest text searched for, as the daemon accepts.
const MAX_TEXT: usize = 200;
/// How long the daemon may send nothing before the page gives up.
const QUIET: Duration = Duration::from_secs(20);

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    path: Result<Path<String>, PathRejection>,
    Query(query): Query<SearchQuery>,
) -> Response {
    let Some(name) = path.ok().and_then(|Path(name)| TaskName::parse(&name)) else {
        return not_found_page(&ctx, "There is no such task.");
    };
    let text = query.q.unwrap_or_default();
    if text.trim().is_empty() || text.len() > MAX_TEXT || text.chars().any(char::is_control) {
        let status = StatusCode::BAD_REQUEST;
        let message = format!(
            "Say what to search for: 1 to {MAX_TEXT} bytes of text on one line (the q field)."
        );
        return html(status, views::error::page(&ctx.chrome, status, &message));
    }
    let request = pb::SearchOutputRequest {
        task: name.as_str().to_owned(),
        text: text.clone(),
        max_runs: MAX_RUNS,
        max_bytes: MAX_BYTES,
        max_hits: MAX_HITS,
    };
    let found = state
        .api()
        .call(|mut client| async move { client.search_output(request).await })
        .await;
    let stream = match found {
        Ok(stream) => stream,
        Err(error) => return api_error(&ctx, &error),
    };
    let (top, bottom) = views::search::shell(&ctx.chrome, name.as_str(), &text);
    let (sender, receiver) = mpsc::channel::<String>(8);
    let chrome = ctx.chrome.clone();
    let task = name.as_str().to_owned();
    tokio::spawn(async move {
        if sender.send(top).await.is_ok() {
            relay(&chrome, &task, stream, &sender).await;
            // The browser may have gone; then there is no one to tell.
            let _ = sender.send(bottom).await;
        }
    });
    let body = Body::from_stream(ReceiverStream::new(receiver).map(Ok::<_, Infallible>));
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Sends each message of the search as markup until it ends, breaks, goes quiet, or the
/// browser stops reading.
async fn relay(
    chrome: &Chrome,
    task: &str,
    mut stream: tonic::Streaming<pb::SearchOutputResponse>,
    sender: &mpsc::Sender<String>,
) {
    loop {
        let markup = match tokio::time::timeout(QUIET, stream.message()).await {
            Ok(Ok(Some(reply))) => match &reply.summary {
                Some(summary) => {
                    let mut markup = views::search::hits(chrome, task, &reply.hits).into_string();
                    markup.push_str(&views::search::summary(summary).into_string());
                    let _ = sender.send(markup).await;
                    return;
                }
                None => views::search::hits(chrome, task, &reply.hits),
            },
            Ok(Ok(None)) => views::search::broken("speedrackd ended it without a summary"),
            Ok(Err(status)) => views::search::broken(status.message()),
            Err(_) => views::search::broken(&format!(
                "speedrackd sent nothing for {} s",
                QUIET.as_secs()
            )),
        };
        let last = markup.0.contains("data-search-error");
        if sender.send(markup.into_string()).await.is_err() || last {
            return;
        }
    }
}
