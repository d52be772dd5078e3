//! Control from any node: a request made on one node's API (run now, kill, a suspension, a
//! reload, a piece of a running run's output) reaches the node that must act through
//! PostgreSQL's LISTEN/NOTIFY, and its answer comes back the same way. Each node listens on one
//! channel on a connection of its own; messages name their addressee (or `*` for every node)
//! and carry a request id that the answer repeats.
//!
//! What a request does is the API's business: this module carries it and waits for the
//! answer, at most [`ANSWER_WITHIN`], with at most [`MAX_WAITING`] requests waiting at once, of
//! which output reads may hold only [`MAX_WAITING_OUTPUT`]: tails that any web page opens
//! must not crowd out a kill.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::config::NodeName;
use crate::history::pg::news::{RUNS_CHANNEL, RunNews};
use crate::postgres::PgTarget;

/// The NOTIFY channel every node listens on.
const CHANNEL: &str = "speedrack_control";
/// How long a node waits for another's answer before telling its caller it did not come.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);
/// Requests waiting for answers at once; more are refused, not queued.
const MAX_WAITING: usize = 64;
/// Of those, output reads (`Relayed::ReadOutput`).
const MAX_WAITING_OUTPUT: usize = 32;
/// The longest refusal text sent back: paths in a config error can be long, and a NOTIFY
/// payload must stay under 8000 bytes.
const MAX_REFUSAL: usize = 2000;
/// Requests received and not yet handled; a flood beyond it is dropped (and the senders time
/// out) rather than kept in memory.
const MAX_RECEIVED: usize = 256;
/// Requests from other nodes carried out at once; more are refused at once, so that the
/// answers this node waits for are never held up behind them.
const MAX_HANDLING: usize = 16;
/// Output bytes one answer carries: base64 makes them a third larger, and a NOTIFY payload
/// must stay under 8000 bytes.
pub const OUTPUT_PIECE: usize = 5000;
/// How long the listener waits before reconnecting after its connection failed.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// What one node asks of another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Relayed {
    /// Run the task now, as `by` asked (RunNow on a node the task may not run on).
    RunNow { task: String, by: String },
    /// Kill the task's runs on the addressee, or only `run`.
    Kill {
        task: String,
        run: Option<i64>,
        by: String,
    },
    /// The task was suspended or resumed on the sender: suspension is cluster-wide.
    Suspended { task: String, suspended: bool },
    /// Up to [`OUTPUT_PIECE`] bytes of a run's stdout (or stderr) from `offset`, read by the
    /// node that runs it: a running run's output is in that node's data dir only.
    ReadOutput { run: i64, stderr: bool, offset: u64 },
    /// Re-read the settings and tasks files, as a reload asked on the sender did there.
    Reload,
}

/// The addressee's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    Started {
        run: i64,
    },
    Queued {
        behind: Vec<i64>,
    },
    Killed {
        runs: Vec<i64>,
    },
    Done,
    /// Output bytes (base64: payloads are text), the stream's size, and whether the run is
    /// still running (more may come).
    Output {
        data: String,
        total_size: u64,
        running: bool,
    },
    /// Reloaded: how many tasks were added, removed, changed, and have conf errors.
    Reloaded {
        added: u32,
        removed: u32,
        changed: u32,
        conf_errors: u32,
    },
    /// Refused, with the gRPC code and message the addressee's own API would have answered.
    Refused {
        code: i32,
        message: String,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    id: u64,
    from: String,
    /// A node's name, or `*` for every node but the sender.
    to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request: Option<Relayed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    answer: Option<Answer>,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("node {node} did not answer within {}s (down, or its database connection is); see speedrackctl nodes", ANSWER_WITHIN.as_secs())]
    NoAnswer { node: String },
    #[error("too many requests to other nodes are waiting for answers; try again")]
    Busy,
    #[error("cannot send a request to node {node} through PostgreSQL: {source}")]
    Send {
        node: String,
        #[source]
        source: tokio_postgres::Error,
    },
}

/// What handles the requests addressed to this node: the API, given at start.
pub type Handler =
    Arc<dyn Fn(Relayed) -> Pin<Box<dyn Future<Output = Answer> + Send>> + Send + Sync>;

/// This node's end of the relay.
#[derive(Clone)]
pub struct Relay {
    node: NodeName,
    pool: deadpool_postgres::Pool,
    next_id: Arc<AtomicU64>,
    /// Each request waiting for its answer, and whether it is an output read.
    waiting: Arc<Mutex<HashMap<u64, Waiting>>>,
}

struct Waiting {
    answered: oneshot::Sender<Answer>,
    output: bool,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay").field("node", &self.node).finish()
    }
}

impl Relay {
    /// Starts listening as `node`; requests addressed to it go to `handler`, which is set
    /// later (the API is built after the history it needs), and the names of the tasks whose
    /// runs other nodes started or ended to `news` (none named: any task). News that finds
    /// `news` full is dropped: it only says which rows to show again.
    pub fn start(
        target: PgTarget,
        node: NodeName,
        pool: deadpool_postgres::Pool,
        handler: tokio::sync::watch::Receiver<Option<Handler>>,
        news: mpsc::Sender<Vec<String>>,
    ) -> Relay {
        let relay = Relay {
            node,
            pool,
            next_id: Arc::new(AtomicU64::new(1)),
            waiting: Arc::new(Mutex::new(HashMap::new())),
        };
        let (received_tx, received) = mpsc::channel(MAX_RECEIVED);
        tokio::spawn(listen(target, relay.node.clone(), received_tx, news));
        tokio::spawn(dispatch(relay.clone(), received, handler));
        relay
    }

    /// Sends `request` to `to` and waits for its answer.
    pub async fn ask(&self, to: &NodeName, request: Relayed) -> Result<Answer, RelayError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (answered, answer) = oneshot::channel();
        let output = matches!(request, Relayed::ReadOutput { .. });
        {
            let mut waiting = self.lock_waiting();
            let outputs = waiting.values().filter(|waiting| waiting.output).count();
            if waiting.len() >= MAX_WAITING || (output && outputs >= MAX_WAITING_OUTPUT) {
                return Err(RelayError::Busy);
            }
            waiting.insert(id, Waiting { answered, output });
        }
        let envelope = Envelope {
            id,
            from: self.node.to_string(),
            to: to.to_string(),
            request: Some(request),
            answer: None,
        };
        let sent = self.notify(&envelope).await;
        let outcome = match sent {
            Ok(()) => match tokio::time::timeout(ANSWER_WITHIN, answer).await {
                Ok(Ok(answer)) => Ok(answer),
                _ => Err(RelayError::NoAnswer {
                    node: to.to_string(),
                }),
            },
            Err(source) => Err(RelayError::Send {
                node: to.to_string(),
                source,
            }),
        };
        self.lock_waiting().remove(&id);
        outcome
    }

    /// Tells every other node `request`, without waiting for answers.
    pub async fn tell_all(&self, request: Relayed) -> Result<(), RelayError> {
        let envelope = Envelope {
            id: 0,
            from: self.node.to_string(),
            to: "*".to_owned(),
            request: Some(request),
            answer: None,
        };
        self.notify(&envelope)
            .await
            .map_err(|source| RelayError::Send {
                node: "*".to_owned(),
                source,
            })
    }

    async fn notify(&self, envelope: &Envelope) -> Result<(), tokio_postgres::Error> {
        // Serialising these plain types cannot fail.
        let payload = serde_json::to_string(envelope).unwrap_or_default();
        let client = match self.pool.get().await {
            Ok(client) => client,
            Err(deadpool_postgres::PoolError::Backend(error)) => return Err(error),
            Err(other) => {
                tracing::warn!("no PostgreSQL connection to relay a request: {other}");
                return Ok(());
            }
        };
        client
            .execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
            .await
            .map(|_| ())
    }

    fn lock_waiting(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Waiting>> {
        // A panic while holding this lock leaves a plain map behind: still usable.
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `answer` with a refusal's text cut to [`MAX_REFUSAL`] bytes, so that it fits a payload.
fn bounded(answer: Answer) -> Answer {
    match answer {
        Answer::Refused { code, mut message } if message.len() > MAX_REFUSAL => {
            let mut cut = MAX_REFUSAL;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
            Answer::Refused { code, message }
        }
        answer => answer,
    }
}

/// Keeps a LISTEN connection open (reconnecting after failures) and passes on every message
/// addressed to this node or to all.
async fn listen(
    target: PgTarget,
    node: NodeName,
    received: mpsc::Sender<Envelope>,
    news: mpsc::Sender<Vec<String>>,
) {
    loop {
        if let Err(error) = listen_once(&target, &node, &received, &news).await {
            tracing::warn!(node = %node, "the cluster's control channel failed, reconnecting: {error}");
        }
        if received.is_closed() {
            return;
        }
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}

async fn listen_once(
    target: &PgTarget,
    node: &NodeName,
    received: &mpsc::Sender<Envelope>,
    news: &mpsc::Sender<Vec<String>>,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut notifications) = target.connect_listening(MAX_RECEIVED).await?;
    client
        .batch_execute(&format!("LISTEN {CHANNEL}; LISTEN {RUNS_CHANNEL}"))
        .await?;
    while let Some(notification) = notifications.recv().await {
        if notification.channel() == RUNS_CHANNEL {
            if let Ok(told) = serde_json::from_str::<RunNews>(notification.payload())
                && told.node != node.as_str()
            {
                let _ = news.try_send(told.tasks);
            }
            continue;
        }
        let Ok(envelope) = serde_json::from_str::<Envelope>(notification.payload()) else {
            tracing::warn!("ignored a malformed message on the cluster's control channel");
            continue;
        };
        let mine =
            envelope.to == node.as_str() || (envelope.to == "*" && envelope.from != node.as_str());
        if mine && received.try_send(envelope).is_err() {
            tracing::warn!("dropped a control message: too many are waiting to be handled");
        }
    }
    Ok(())
}

/// Hands requests to the handler (each in a task of its own, answering when done) and answers
/// to whoever waits for them.
async fn dispatch(
    relay: Relay,
    mut received: mpsc::Receiver<Envelope>,
    handler: tokio::sync::watch::Receiver<Option<Handler>>,
) {
    let handling = Arc::new(tokio::sync::Semaphore::new(MAX_HANDLING));
    while let Some(envelope) = received.recv().await {
        if let Some(answer) = envelope.answer {
            if let Some(waiter) = relay.lock_waiting().remove(&envelope.id) {
                let _ = waiter.answered.send(answer);
            }
            continue;
        }
        let (Some(request), Some(handle)) = (envelope.request, handler.borrow().clone()) else {
            continue;
        };
        let relay = relay.clone();
        let permit = Arc::clone(&handling).try_acquire_owned().ok();
        tokio::spawn(async move {
            let answer = match permit {
                Some(permit) => {
                    let answer = handle(request).await;
                    drop(permit);
                    answer
                }
                None => Answer::Refused {
                    code: tonic::Code::Unavailable as i32,
                    message: format!(
                        "node {} is carrying out {MAX_HANDLING} requests of other nodes; try again",
                        relay.node
                    ),
                },
            };
            let answer = bounded(answer);
            if envelope.to == "*" {
                return;
            }
            let reply = Envelope {
                id: envelope.id,
                from: relay.node.to_string(),
                to: envelope.from,
                request: None,
                answer: Some(answer),
            };
            if let Err(error) = relay.notify(&reply).await {
                tracing::warn!(to = %reply.to, "cannot answer another node's request: {error}");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_back_as_written() {
        let envelope = Envelope {
            id: 7,
            from: "a".into(),
            to: "b".into(),
            request: Some(Relayed::Kill {
                task: "backup".into(),
                run: Some(12),
                by: "ann (via speedrack)".into(),
            }),
            answer: None,
        };
        let text = serde_json::to_string(&envelope).expect("serialise");
        let back: Envelope = serde_json::from_str(&text).expect("parse");
        assert_eq!(back.request, envelope.request);
        assert!(
            text.len() < 8000,
            "NOTIFY payloads must stay under 8000 bytes"
        );
    }

    #[test]
    fn a_long_refusal_is_cut_to_fit_a_notification() {
        let long = Answer::Refused {
            code: 9,
            message: "é".repeat(5000),
        };
        let Answer::Refused { message, .. } = bounded(long) else {
            panic!("still a refusal");
        };
        assert!(
            message.len() <= MAX_REFUSAL + '…'.len_utf8(),
            "{}",
            message.len()
        );
        assert!(message.ends_with('…'));
        let short = Answer::Refused {
            code: 9,
            message: "no".into(),
        };
        assert_eq!(bounded(short.clone()), short);
    }

    #[test]
    fn a_full_piece_of_output_fits_in_one_notification() {
        use base64::Engine as _;
        let envelope = Envelope {
            id: u64::MAX,
            from: "n".repeat(64),
            to: "m".repeat(64),
            request: None,
            answer: Some(Answer::Output {
                data: base64::engine::general_purpose::STANDARD.encode([0xff; OUTPUT_PIECE]),
                total_size: u64::MAX,
                running: true,
            }),
        };
        let text = serde_json::to_string(&envelope).expect("serialise");
        assert!(text.len() < 8000, "{} bytes", text.len());
    }
}
