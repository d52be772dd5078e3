//! GET /live: every live subscription of one browser on one stream, so that any number of tabs
//! costs one of the browser's few connections per host (six in Chrome over HTTP/1.1).
//!
//! The browser's side (`assets/speedrack-worker.js`, one SharedWorker for all tabs) lists the
//! subscriptions in `s`, one per line: `SUB URL [ID]`, where URL is a stream a page names
//! (`/events?...` or a run's `/tail`, as in its `sse-connect`), SUB the number the worker gave
//! it, and ID the last event id it received there, to resume after. Each subscription gets its
//! own relay, as on a stream of its own; their messages come back tagged with SUB
//! (`Message::tagged`). When the set changes the worker opens a new stream with the ids it has.
//!
//! It owns the parsing of that list and nothing of what the relays send.

use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use super::event_id::EventId;
use super::message::{Message, Sink};
use super::tail::{TailQuery, resume_point};
use super::{EventsQuery, listener, relay, sse_of, tail};
use crate::context::Ctx;
use crate::state::AppState;
use crate::urls::decode;

/// Subscriptions one stream may carry: a few per tab for dozens of tabs, each an upstream call.
pub const MAX_SUBSCRIPTIONS: usize = 48;

/// Messages waiting for a slow browser, for all its subscriptions together.
const BUFFERED: usize = 64;

#[derive(Debug, Deserialize)]
pub struct LiveQuery {
    #[serde(default)]
    s: String,
}

/// One line of `s`.
#[derive(Debug, PartialEq)]
struct Subscription {
    sub: u32,
    target: Target,
    resume: Option<String>,
}

#[derive(Debug, PartialEq)]
enum Target {
    Events {
        task: Option<String>,
        rows: Option<String>,
    },
    Tail {
        task: String,
        run: String,
        out: Option<u64>,
        err: Option<u64>,
    },
}

/// GET /live?s=SUBSCRIPTIONS (see above); 400 for a list it cannot read.
pub async fn live(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<LiveQuery>,
) -> Response {
    let prefix = ctx.chrome.urls.path("");
    let subscriptions = match parse(&query.s, &prefix) {
        Ok(subscriptions) => subscriptions,
        Err(why) => return (StatusCode::BAD_REQUEST, why).into_response(),
    };
    let (sender, receiver) = mpsc::channel(BUFFERED);
    for subscription in subscriptions {
        let sink = Sink::new(sender.clone(), subscription.sub);
        start(&state, &ctx, subscription, sink);
    }
    sse_of(ReceiverStream::new(receiver).filter_map(Message::tagged))
}

/// Starts one subscription's relay; one that names nothing of ours is left out.
fn start(state: &AppState, ctx: &Ctx, subscription: Subscription, sink: Sink) {
    let resume = subscription.resume.as_deref();
    match subscription.target {
        Target::Events { task, rows } => {
            if let Some(listener) = listener(ctx, &EventsQuery { task, rows }) {
                let resume = resume.and_then(EventId::parse);
                tokio::spawn(relay::relay(state.clone(), listener, resume, sink));
            }
        }
        Target::Tail {
            task,
            run,
            out,
            err,
        } => {
            let from = resume.and_then(resume_point).unwrap_or([out, err]);
            let state = state.clone();
            tokio::spawn(async move { tail::start(state, &task, &run, from, sink).await });
        }
    }
}

/// Reads the list, each URL under `prefix`.
fn parse(list: &str, prefix: &str) -> Result<Vec<Subscription>, String> {
    let lines: Vec<&str> = list.lines().filter(|line| !line.is_empty()).collect();
    if lines.len() > MAX_SUBSCRIPTIONS {
        return Err(format!(
            "{} live subscriptions asked for, at most {MAX_SUBSCRIPTIONS} are served on one stream \
             (close some tabs)",
            lines.len()
        ));
    }
    lines
        .into_iter()
        .map(|line| {
            parse_line(line, prefix).ok_or_else(|| format!("not a live subscription: {line:?}"))
        })
        .collect()
}

fn parse_line(line: &str, prefix: &str) -> Option<Subscription> {
    let mut parts = line.split(' ');
    let sub = parts.next()?.parse().ok()?;
    let url = parts.next()?.strip_prefix(prefix)?;
    let resume = parts.next().filter(|id| !id.is_empty()).map(str::to_owned);
    if parts.next().is_some() {
        return None;
    }
    let uri: Uri = url.parse().ok()?;
    let segments: Vec<&str> = uri.path().split('/').collect();
    let target = match segments.as_slice() {
        ["", "events"] => {
            let Query(query) = Query::<super::EventsQuery>::try_from_uri(&uri).ok()?;
            Target::Events {
                task: query.task,
                rows: query.rows,
            }
        }
        ["", "tasks", task, "runs", run, "tail"] => {
            let Query(query) = Query::<TailQuery>::try_from_uri(&uri).ok()?;
            Target::Tail {
                task: decode(task, false)?,
                run: (*run).to_owned(),
                out: query.out,
                err: query.err,
            }
        }
        _ => return None,
    };
    Some(Subscription {
        sub,
        target,
        resume,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(task: Option<&str>, rows: Option<&str>) -> Target {
        Target::Events {
            task: task.map(str::to_owned),
            rows: rows.map(str::to_owned),
        }
    }

    #[test]
    fn a_list_names_the_streams_pages_use() {
        let list = "1 /sr/events?rows=tasks\n2 /sr/events?task=a%20b 7-42\n\
                    3 /sr/tasks/a%2Fb/runs/9/tail?out=10 12:-\n4 /sr/events";
        let parsed = parse(list, "/sr").expect("a good list");
        let expected = [
            (1, events(None, Some("tasks")), None),
            (2, events(Some("a b"), None), Some("7-42")),
            (
                3,
                Target::Tail {
                    task: "a/b".to_owned(),
                    run: "9".to_owned(),
                    out: Some(10),
                    err: None,
                },
                Some("12:-"),
            ),
            (4, events(None, None), None),
        ];
        assert_eq!(parsed.len(), expected.len());
        for (got, (sub, target, resume)) in parsed.into_iter().zip(expected) {
            assert_eq!(
                got,
                Subscription {
                    sub,
                    target,
                    resume: resume.map(str::to_owned)
                }
            );
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for list in [
            "x /events",
            "1 /other/events",
            "1 /sr/config",
            "1 /sr/tasks/a/runs/9/stdout",
            "1 /sr/events 1-2 extra",
            "1 /sr/tasks/a/runs/9/tail?out=minus",
        ] {
            assert!(parse(list, "/sr").is_err(), "{list}");
        }
        let many = (0..=MAX_SUBSCRIPTIONS)
            .map(|sub| format!("{sub} /events"))
            .collect::<Vec<_>>()
            .join("\n");
        let refused = parse(&many, "").expect_err("too many");
        assert!(refused.contains("close some tabs"), "{refused}");
        assert_eq!(parse("", "").map(|list| list.len()), Ok(0));
    }
}
