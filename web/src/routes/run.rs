//! GET /tasks/{name}/runs/{id} (the run page) and /tasks/{name}/runs/{id}/{stdout|stderr|operror}
//! (a whole output file as plain text, streamed), plus loading a run view for the task page.

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use speedrack_proto::v1 as pb;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::{api_error, html, not_found_page};
use crate::api::{Api, ApiError};
use crate::context::Ctx;
use crate::display::Display;
use crate::names::{RunId, StreamKind, TaskName};
use crate::sse::{complete_utf8_len, output_text};
use crate::state::AppState;
use crate::views;
use crate::views::run::{Follow, Output, RunView};

/// Bytes per ReadOutput call when streaming a whole file.
const CHUNK: u64 = 1 << 20;

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let run = match find_run(&state, path).await {
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
    html(StatusCode::OK, views::run::page(&ctx.chrome, &view))
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

/// What the run view shows of each stream: the beginning, up to the display limits.
pub async fn load_outputs(api: &Api, display: &Display, run: &pb::Run) -> Vec<Output> {
    let running = run.status() == pb::RunStatus::Running;
    let mut outputs = Vec::with_capacity(3);
    for (kind, known) in [
        (StreamKind::Stdout, run.stdout_bytes),
        (StreamKind::Stderr, run.stderr_bytes),
    ] {
        // A finished run's size is known: read only what will be shown.
        let length = if !running && known > display.fsize_max {
            display.fsize_summary
        } else {
            display.fsize_max
        };
        let output = match api.read_output(run.id, kind.to_pb(), 0, length).await {
            Ok(slice) => shown(kind, slice.data, slice.total_size, display, running),
            Err(error) => Output {
                kind,
                size: known,
                text: format!("[could not read this output: {error}]"),
                truncated: false,
                tail_from: None,
            },
        };
        outputs.push(output);
    }
    let op_error = run.op_error.as_bytes().to_vec();
    let size = op_error.len() as u64;
    outputs.push(shown(StreamKind::OpError, op_error, size, display, false));
    outputs
}

fn shown(kind: StreamKind, mut data: Vec<u8>, size: u64, display: &Display, live: bool) -> Output {
    let truncated = size > display.fsize_max;
    if truncated {
        data.truncate(usize::try_from(display.fsize_summary).unwrap_or(usize::MAX));
    }
    let tail_from = (live && !truncated).then(|| {
        // Tailing continues after the last whole character shown.
        data.truncate(complete_utf8_len(&data));
        data.len() as u64
    });
    Output {
        kind,
        size,
        text: output_text(&data),
        truncated,
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
    fn big_output_shows_its_summary() {
        let display = Display {
            fsize_max: 10,
            fsize_summary: 4,
            ..Display::default()
        };
        let output = shown(
            StreamKind::Stdout,
            b"0123456789AB".to_vec(),
            12,
            &display,
            true,
        );
        assert_eq!(output.text, "0123");
        assert!(output.truncated);
        assert_eq!(output.tail_from, None, "truncated output is not tailed");
        let small = shown(
            StreamKind::Stdout,
            "ab€".as_bytes()[..4].to_vec(),
            4,
            &display,
            true,
        );
        assert_eq!(small.text, "ab");
        assert_eq!(
            small.tail_from,
            Some(2),
            "the tail resumes at the cut character"
        );
    }
}
