//! A running run's output relayed from TailOutput as SSE, for the run view's `<pre>`s.
//!
//! Text is sent HTML-escaped, split only between whole UTF-8 characters, and each event's id is
//! the position reached, so a browser that reconnects resumes without repeating anything.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use speedrack_proto::v1 as pb;
use speedrack_proto::v1::watch_events_response::Event as Watched;
use tokio::sync::mpsc;
use tonic::{Status, Streaming};

use super::message::{Message, Sink};
use super::{next_of, sse_response};
use crate::names::{RunId, StreamKind, TaskName};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct TailQuery {
    pub out: Option<u64>,
    pub err: Option<u64>,
}

/// Offsets from an event id of ours ("OUT:ERR", `-` for a stream not tailed).
pub fn resume_point(id: &str) -> Option<[Option<u64>; 2]> {
    let (out, err) = id.split_once(':')?;
    let parse = |part: &str| match part {
        "-" => Some(None),
        digits => digits.parse().ok().map(Some),
    };
    Some([parse(out)?, parse(err)?])
}

/// GET /tasks/{name}/runs/{id}/tail?out=N&err=M: the run's stdout (`stdout` events) and stderr
/// (`stderr` events) from those offsets, as HTML-escaped text to append; `finished` at the end.
pub async fn tail(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    Query(query): Query<TailQuery>,
    headers: HeaderMap,
) -> Response {
    let resume = headers
        .get("last-event-id")
        .and_then(|id| id.to_str().ok())
        .and_then(resume_point);
    let from = resume.unwrap_or([query.out, query.err]);
    let (sender, receiver) = mpsc::channel(16);
    match start(state, &name, &id, from, Sink::new(sender, 0)).await {
        Ok(()) => sse_response(receiver),
        Err(status) => status.into_response(),
    }
}

/// Starts relaying run `id` of task `name` into `sink` from the offsets `from`, once the run
/// is known to be that task's.
pub async fn start(
    state: AppState,
    name: &str,
    id: &str,
    from: [Option<u64>; 2],
    sink: Sink,
) -> Result<(), StatusCode> {
    let (Some(task), Some(run)) = (TaskName::parse(name), RunId::parse(id)) else {
        return Err(StatusCode::NOT_FOUND);
    };
    match state.api().get_run(run.0).await {
        Ok(found) if found.task == task.as_str() => {}
        Ok(_) => return Err(StatusCode::NOT_FOUND),
        Err(error) => return Err(error.http_status()),
    }
    let limit = state.cached_display().fsize_max;
    tokio::spawn(relay_tail(state, run.0, from, limit, sink));
    Ok(())
}

/// One output stream being relayed.
struct Tail {
    kind: StreamKind,
    stream: Option<Streaming<pb::TailOutputResponse>>,
    /// Where the next byte to send starts (bytes of a split character wait in `carry`).
    offset: Option<u64>,
    carry: Vec<u8>,
    /// The daemon said this stream is complete.
    complete: bool,
    /// Past `fsize_max`: no more text is sent (the page links the whole file).
    capped: bool,
}

impl Tail {
    async fn open(state: &AppState, run: i64, kind: StreamKind, from: Option<u64>) -> Tail {
        let stream = match from {
            Some(offset) => state.api().tail(run, kind.to_pb(), offset).await.ok(),
            None => None,
        };
        Tail {
            kind,
            stream,
            offset: from,
            carry: Vec::new(),
            complete: false,
            capped: false,
        }
    }

    /// Done when not tailed, or the daemon said it is complete.
    fn settled(&self) -> bool {
        self.offset.is_none() || self.complete
    }

    /// Takes one message; returns the text to append (escaped), if any.
    fn take(&mut self, message: pb::TailOutputResponse, limit: u64) -> Option<String> {
        let mut bytes = std::mem::take(&mut self.carry);
        bytes.extend_from_slice(&message.data);
        let end = message.offset + message.data.len() as u64;
        let cut = if message.finished {
            bytes.len()
        } else {
            complete_utf8_len(&bytes)
        };
        self.carry = bytes.split_off(cut);
        self.offset = Some(end - self.carry.len() as u64);
        if message.finished {
            self.complete = true;
            self.stream = None;
        }
        if self.capped || bytes.is_empty() {
            return None;
        }
        let mut text = escape(&output_text(&bytes));
        if self.offset.is_some_and(|offset| offset >= limit) {
            self.capped = true;
            text.push_str(&escape("\n[… more output: see the whole file]\n"));
        }
        Some(text)
    }
}

/// HTML-escaped text safe to put in an SSE data field (no raw carriage returns).
fn escape(text: &str) -> String {
    maud::html! { (text) }.into_string().replace('\r', "&#13;")
}

/// Output bytes as text for a page: what is not UTF-8 becomes U+FFFD, and so does NUL, which
/// HTML does not allow in text (browsers drop it, so the page would hide that it was written).
pub fn output_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.contains('\0') {
        text.replace('\0', "\u{fffd}")
    } else {
        text.into_owned()
    }
}

/// The length of `bytes` without a UTF-8 sequence cut off at its end.
pub fn complete_utf8_len(bytes: &[u8]) -> usize {
    let len = bytes.len();
    for back in 1..=len.min(4) {
        let byte = bytes[len - back];
        if byte & 0xC0 == 0x80 {
            continue;
        }
        let needed = match byte {
            0xF0.. => 4,
            0xE0.. => 3,
            0xC0.. => 2,
            _ => 1,
        };
        return if needed > back { len - back } else { len };
    }
    len
}

fn position_id(tails: &[Tail; 2]) -> String {
    let part = |tail: &Tail| {
        tail.offset
            .map_or_else(|| "-".to_owned(), |o| o.to_string())
    };
    format!("{}:{}", part(&tails[0]), part(&tails[1]))
}

/// What a watched event says about one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum News {
    Ended,
    Unrelated,
    /// Events were dropped, maybe this run's end among them: ask the daemon.
    Lost,
}

impl News {
    fn of(event: Option<&Watched>, run: i64) -> News {
        match event {
            Some(Watched::RunFinished(done)) if done.id == run => News::Ended,
            Some(Watched::EventsDropped(_)) => News::Lost,
            _ => News::Unrelated,
        }
    }
}

enum Step {
    Tail(usize, Option<Result<pb::TailOutputResponse, Status>>),
    /// Only what the event says about the run matters, and whether the stream still works.
    Watch(Option<News>),
    Stop,
}

/// Waits for whatever happens first: output, the end of the run, the browser leaving, shutdown.
async fn next_step(
    state: &AppState,
    run: i64,
    tails: &mut [Tail; 2],
    watch: &mut Option<Streaming<pb::WatchEventsResponse>>,
    sink: &Sink,
) -> Step {
    let [out, err] = tails;
    tokio::select! {
        message = next_of(&mut out.stream) => Step::Tail(0, message),
        message = next_of(&mut err.stream) => Step::Tail(1, message),
        message = next_of(watch) => Step::Watch(match message {
            Some(Ok(message)) => Some(News::of(message.event.as_ref(), run)),
            _ => None,
        }),
        () = sink.closed() => Step::Stop,
        () = state.stopping() => Step::Stop,
    }
}

/// Whether the run is no longer running (or cannot be read: nothing more would be learnt).
async fn ended(state: &AppState, run: i64) -> bool {
    state
        .api()
        .get_run(run)
        .await
        .map_or(true, |found| found.status() != pb::RunStatus::Running)
}

/// Relays both streams until the run is over and everything was sent.
async fn relay_tail(state: AppState, run: i64, from: [Option<u64>; 2], limit: u64, sink: Sink) {
    // Watching first: if TailOutput is unavailable, the end of the run still shows.
    let mut watch = state.api().watch(0, 0).await.ok();
    let mut run_over = ended(&state, run).await;
    let mut tails = [
        Tail::open(&state, run, StreamKind::Stdout, from[0]).await,
        Tail::open(&state, run, StreamKind::Stderr, from[1]).await,
    ];
    loop {
        let idle = tails.iter().all(|tail| tail.stream.is_none());
        if idle && (run_over || tails.iter().all(Tail::settled)) {
            sink.send(Message::new("finished", "1")).await;
            return;
        }
        if idle && watch.is_none() {
            // Nothing left to learn the end from; the browser reconnects and tries again.
            return;
        }
        match next_step(&state, run, &mut tails, &mut watch, &sink).await {
            Step::Stop => return,
            Step::Tail(index, Some(Ok(message))) => {
                let text = tails[index].take(message, limit);
                if let Some(text) = text {
                    let event =
                        Message::new(tails[index].kind.segment(), text).id(position_id(&tails));
                    if !sink.send(event).await {
                        return;
                    }
                }
            }
            Step::Tail(index, _) => tails[index].stream = None,
            Step::Watch(Some(News::Ended)) => run_over = true,
            Step::Watch(Some(News::Lost)) => run_over |= ended(&state, run).await,
            Step::Watch(Some(News::Unrelated)) => {}
            Step::Watch(None) => watch = None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_text_has_no_nul_and_no_invalid_utf8() {
        assert_eq!(output_text(b"plain"), "plain");
        assert_eq!(output_text(b"a\0b\xffc"), "a\u{fffd}b\u{fffd}c");
    }

    #[test]
    fn split_characters_wait_for_their_rest() {
        let euro = "€".as_bytes(); // 3 bytes
        assert_eq!(complete_utf8_len(b"abc"), 3);
        assert_eq!(complete_utf8_len(&euro[..2]), 0);
        assert_eq!(complete_utf8_len(&[b'a', euro[0]]), 1);
        assert_eq!(complete_utf8_len(&[b'a', euro[0], euro[1], euro[2]]), 4);
        assert_eq!(complete_utf8_len(b""), 0);
    }

    #[test]
    fn tail_text_is_escaped_and_reassembled() {
        let mut tail = Tail {
            kind: StreamKind::Stdout,
            stream: None,
            offset: Some(0),
            carry: Vec::new(),
            complete: false,
            capped: false,
        };
        let euro = "€".as_bytes();
        let first = pb::TailOutputResponse {
            data: [b"<b>\r".as_slice(), &euro[..1]].concat(),
            offset: 0,
            finished: false,
        };
        assert_eq!(tail.take(first, 1000).as_deref(), Some("&lt;b&gt;&#13;"));
        assert_eq!(tail.offset, Some(4));
        let second = pb::TailOutputResponse {
            data: euro[1..].to_vec(),
            offset: 5,
            finished: true,
        };
        assert_eq!(tail.take(second, 1000).as_deref(), Some("€"));
        assert!(tail.settled());
    }

    #[test]
    fn output_past_the_limit_is_cut_with_a_note() {
        let mut tail = Tail {
            kind: StreamKind::Stderr,
            stream: None,
            offset: Some(0),
            carry: Vec::new(),
            complete: false,
            capped: false,
        };
        let chunk = |offset| pb::TailOutputResponse {
            data: b"0123456789".to_vec(),
            offset,
            finished: false,
        };
        let text = tail.take(chunk(0), 5).expect("first chunk is sent");
        assert!(text.contains("see the whole file"), "{text}");
        assert_eq!(tail.take(chunk(10), 5), None);
    }

    #[test]
    fn dropped_events_send_the_relay_to_ask_whether_the_run_ended() {
        let finished = |id| {
            Watched::RunFinished(pb::Run {
                id,
                ..Default::default()
            })
        };
        assert_eq!(News::of(Some(&finished(7)), 7), News::Ended);
        assert_eq!(News::of(Some(&finished(8)), 7), News::Unrelated);
        assert_eq!(News::of(None, 7), News::Unrelated);
        let dropped = Watched::EventsDropped(pb::EventsDropped { count: 3 });
        assert_eq!(News::of(Some(&dropped), 7), News::Lost);
    }

    #[test]
    fn a_reconnect_resumes_where_it_was() {
        assert_eq!(resume_point("12:-"), Some([Some(12), None]));
        assert_eq!(resume_point("x:1"), None);
        assert_eq!(resume_point(""), None);
    }
}
