//! GET /tasks/{name}/runs/{id} (the run page) and /tasks/{name}/runs/{id}/{stdout|stderr|operror}
//! (a whole output file as plain text, streamed), plus loading a run view for the task page.

use axum::body::{Body, Bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use speedrack_proto::v1 as pb;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::{api_error, html, not_found_page};
use crate::api::{Api, ApiError};
use crate::context::Ctx;
use crate::display::Display;
use crate::excerpt;
use crate::names::{RunId, StreamKind, TaskName};
use crate::sse::{complete_utf8_len, output_text};
use crate::state::AppState;
use crate::views;
use crate::views::output::{Output, Tail};
use crate::views::run::{Follow, RunView, Tab};

/// Bytes per ReadOutput call when streaming a whole file or counting its lines.
const CHUNK: u64 = 1 << 20;
/// The most bytes read to number the lines of a tail; past it the tail's lines are not
/// numbered, so a page of a huge output costs at most this much reading.
const MAX_COUNTED: u64 = 32 << 20;

#[derive(Debug, Deserialize)]
pub struct RunQuery {
    /// The tab to open (`stdout`, `stderr`, `operror`, `params`); the one that explains the
    /// run's outcome otherwise (and for anything else).
    stream: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    mut ctx: Ctx,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<RunQuery>, QueryRejection>,
) -> Response {
    let (run, status) = tokio::join!(find_run(&state, path), state.api().get_status());
    ctx.chrome.nodes = super::nodes::shows_nodes(&status);
    let run = match run {
        Ok(run) => run,
        Err(Missing::Page) => return not_found_page(&ctx, "There is no such run."),
        Err(Missing::Api(error)) => return api_error(&ctx, &error),
    };
    let outputs = load_outputs(state.api(), &ctx.display, &run).await;
    let view = RunView {
        run: &run,
        outputs,
        refresh: ctx.chrome.urls.run(&run.task, run.id),
        follow: Follow::Stay,
    };
    let open = query
        .ok()
        .and_then(|Query(query)| query.stream)
        .as_deref()
        .and_then(Tab::parse);
    html(StatusCode::OK, views::run::page(&ctx.chrome, &view, open))
}

/// Why a run named by a URL cannot be shown.
enum Missing {
    /// The URL names no run of that task (malformed, or the run belongs to another task).
    Page,
    Api(ApiError),
}

/// The run the URL names, if it exists and belongs to the task the URL names.
async fn find_run(
    state: &AppState,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<pb::Run, Missing> {
    let Ok(Path((name, id))) = path else {
        return Err(Missing::Page);
    };
    let (Some(task), Some(id)) = (TaskName::parse(&name), RunId::parse(&id)) else {
        return Err(Missing::Page);
    };
    match state.api().get_run(id.0).await {
        Ok(run) if run.task == task.as_str() => Ok(run),
        Ok(_) => Err(Missing::Page),
        Err(error) => Err(Missing::Api(error)),
    }
}

/// What the run view shows of each stream: all of it up to the display limits, else its head
/// and its tail.
pub async fn load_outputs(api: &Api, display: &Display, run: &pb::Run) -> Vec<Output> {
    let mut outputs = Vec::with_capacity(3);
    for (kind, known) in [
        (StreamKind::Stdout, run.stdout_bytes),
        (StreamKind::Stderr, run.stderr_bytes),
    ] {
        let output = match load_stream(api, display, run, kind, known).await {
            Ok(output) => output,
            Err(error) => Output {
                kind,
                size: known,
                text: format!("[could not read this output: {error}]"),
                tail: None,
                tail_from: None,
            },
        };
        outputs.push(output);
    }
    let op_error = run.op_error.as_bytes().to_vec();
    let size = op_error.len() as u64;
    outputs.push(whole(StreamKind::OpError, op_error, size, false));
    outputs
}

async fn load_stream(
    api: &Api,
    display: &Display,
    run: &pb::Run,
    kind: StreamKind,
    known: u64,
) -> Result<Output, ApiError> {
    let running = run.status() == pb::RunStatus::Running;
    let (head_length, tail_length) = excerpt::halves(display.fsize_summary);
    // A finished run's size is known: read only what will be shown.
    let length = if !running && known > display.fsize_max {
        head_length
    } else {
        display.fsize_max
    };
    let first = api.read_output(run.id, kind.to_pb(), 0, length).await?;
    let size = first.total_size;
    if size <= display.fsize_max {
        return Ok(whole(kind, first.data, size, running));
    }
    let cut = first
        .data
        .len()
        .min(usize::try_from(head_length).unwrap_or(usize::MAX));
    let head = excerpt::head(&first.data[..cut]);
    let head = &head[..complete_utf8_len(head)];
    let head_end = head.len() as u64;
    // One byte before the tail tells whether the tail starts at a line start.
    let before_tail = size.saturating_sub(tail_length).max(head_end + 1) - 1;
    let slice = api
        .read_output(run.id, kind.to_pb(), before_tail, size - before_tail)
        .await?;
    let (left_out, tail) = excerpt::tail(&slice.data);
    let tail_offset = before_tail + left_out as u64;
    let skipped_lines = line_ends_between(api, run.id, kind, head_end, tail_offset).await;
    Ok(Output {
        kind,
        size,
        text: output_text(head),
        tail: Some(Tail {
            skipped: tail_offset - head_end,
            text: output_text(tail),
            first_line: skipped_lines.map(|skipped| 1 + excerpt::line_ends(head) + skipped),
        }),
        tail_from: None,
    })
}

/// The line ends in the part of an output that is not shown, counted in slices; `None` when it
/// is larger than `MAX_COUNTED` or cannot be read (the tail's lines are then not numbered).
async fn line_ends_between(
    api: &Api,
    run: i64,
    kind: StreamKind,
    from: u64,
    to: u64,
) -> Option<u64> {
    if to.saturating_sub(from) > MAX_COUNTED {
        return None;
    }
    let mut count = 0;
    let mut offset = from;
    while offset < to {
        let slice = api
            .read_output(run, kind.to_pb(), offset, CHUNK.min(to - offset))
            .await
            .ok()?;
        if slice.data.is_empty() {
            return None;
        }
        count += excerpt::line_ends(&slice.data);
        offset += slice.data.len() as u64;
    }
    Some(count)
}

/// An output shown whole; a running run's continues live from where this ends.
fn whole(kind: StreamKind, mut data: Vec<u8>, size: u64, live: bool) -> Output {
    let tail_from = live.then(|| {
        // Tailing continues after the last whole character shown.
        data.truncate(complete_utf8_len(&data));
        data.len() as u64
    });
    Output {
        kind,
        size,
        text: output_text(&data),
        tail: None,
        tail_from,
    }
}

pub async fn whole_file(
    State(state): State<AppState>,
    ctx: Ctx,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Response {
    let Ok(Path((name, id, stream))) = path else {
        return not_found_page(&ctx, "There is no such file.");
    };
    let Some(kind) = StreamKind::parse(&stream) else {
        return not_found_page(&ctx, "There is no such file.");
    };
    let run = match find_run(&state, Ok(Path((name, id)))).await {
        Ok(run) => run,
        Err(Missing::Page) => return not_found_page(&ctx, "There is no such run."),
        Err(Missing::Api(error)) => return api_error(&ctx, &error),
    };
    // The first slice is read here, so that an error is a proper error page.
    let first = match state
        .api()
        .read_output(run.id, kind.to_pb(), 0, CHUNK)
        .await
    {
        Ok(first) => first,
        Err(error) => return api_error(&ctx, &error),
    };
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    tokio::spawn(stream_rest(state, run.id, kind, first, sender));
    let mut response = Body::from_stream(ReceiverStream::new(receiver)).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Sends the file slice by slice until its end as of now.
async fn stream_rest(
    state: AppState,
    run: i64,
    kind: StreamKind,
    first: pb::ReadOutputResponse,
    sender: mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let mut slice = first;
    let mut offset = 0;
    loop {
        let length = slice.data.len() as u64;
        let done = slice.eof || length == 0;
        if length > 0 && sender.send(Ok(Bytes::from(slice.data))).await.is_err() {
            return;
        }
        if done {
            return;
        }
        offset += length;
        slice = match state
            .api()
            .read_output(run, kind.to_pb(), offset, CHUNK)
            .await
        {
            Ok(slice) => slice,
            Err(error) => {
                let _ = sender
                    .send(Err(std::io::Error::other(error.to_string())))
                    .await;
                return;
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_output_resumes_at_the_cut_character() {
        let shown = whole(StreamKind::Stdout, "ab€".as_bytes()[..4].to_vec(), 4, true);
        assert_eq!(shown.text, "ab");
        assert_eq!(shown.tail_from, Some(2));
        let finished = whole(StreamKind::Stdout, b"abc".to_vec(), 3, false);
        assert_eq!(finished.tail_from, None, "a finished run is not tailed");
    }
}
