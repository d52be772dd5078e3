//! TailOutput: a run's output as it grows, until the run has finished and all was sent.
//!
//! While the run is in flight the file is re-read every [`POLL`] for as long as a client watches
//! (nothing runs when nobody tails); the run's end, announced on the event channel, ends the
//! wait at once.

use std::time::Duration;

use speedrack_proto::v1 as pb;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tonic::Status;

use super::Api;
use crate::events::Event;
use crate::history::output::{Stream, read_slice, stream_path};
use crate::run::{RunId, RunStatus};

const POLL: Duration = Duration::from_millis(250);
const CHUNK: usize = 64 << 10;

pub type TailStream =
    tokio_stream::wrappers::ReceiverStream<Result<pb::TailOutputResponse, Status>>;

pub fn tail_output(api: &Api, request: pb::TailOutputRequest) -> TailStream {
    let (sender, receiver) = mpsc::channel(4);
    let api = api.clone();
    tokio::spawn(async move {
        if let Err(status) = tail(&api, &request, &sender).await {
            let _ = sender.send(Err(status)).await;
        }
    });
    TailStream::new(receiver)
}

async fn tail(
    api: &Api,
    request: &pb::TailOutputRequest,
    sender: &mpsc::Sender<Result<pb::TailOutputResponse, Status>>,
) -> Result<(), Status> {
    let run = RunId(request.run_id);
    let mut events = api.events.subscribe();
    let mut stopping = api.stopping.clone();
    let mut offset = request.offset;
    loop {
        let record = api
            .history
            .get_run(run)?
            .ok_or_else(|| Status::not_found(format!("no run with id {run}")))?;
        let finished = record.status() != RunStatus::Running;
        let stream = match request.stream() {
            pb::OutputStream::Stdout => Stream::Stdout,
            pb::OutputStream::Stderr => Stream::Stderr,
            pb::OutputStream::OpError => {
                if finished {
                    let mut data = record.op_error().as_bytes().to_vec();
                    let start = usize::try_from(offset)
                        .unwrap_or(usize::MAX)
                        .min(data.len());
                    let data = data.split_off(start);
                    let _ = sender
                        .send(Ok(pb::TailOutputResponse {
                            data,
                            offset,
                            finished: true,
                        }))
                        .await;
                    return Ok(());
                }
                wait_for_change(&mut events, &mut stopping, run).await;
                continue;
            }
            pb::OutputStream::Unspecified => {
                return Err(Status::invalid_argument(
                    "say which output to tail: stdout, stderr or op_error",
                ));
            }
        };
        let path = stream_path(api.history.data_dir(), &record.task, record.id, stream);
        loop {
            let slice = read_slice(&path, offset, CHUNK).map_err(|error| {
                Status::internal(format!("cannot read the output of run {run}: {error}"))
            })?;
            if slice.data.is_empty() {
                break;
            }
            let length = slice.data.len() as u64;
            let message = pb::TailOutputResponse {
                data: slice.data,
                offset,
                finished: false,
            };
            if sender.send(Ok(message)).await.is_err() {
                return Ok(()); // the client went away
            }
            offset += length;
        }
        if finished {
            let _ = sender
                .send(Ok(pb::TailOutputResponse {
                    data: Vec::new(),
                    offset,
                    finished: true,
                }))
                .await;
            return Ok(());
        }
        if !wait_for_change(&mut events, &mut stopping, run).await {
            return Err(Status::unavailable("speedrackd is shutting down"));
        }
    }
}

/// Waits for the poll interval or the run's end; false when the daemon is stopping.
async fn wait_for_change(
    events: &mut tokio::sync::broadcast::Receiver<crate::events::Stamped>,
    stopping: &mut tokio::sync::watch::Receiver<bool>,
    run: RunId,
) -> bool {
    let deadline = tokio::time::sleep(POLL);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut deadline => return true,
            _ = stopping.wait_for(|stopping| *stopping) => return false,
            received = events.recv() => match received {
                Ok(stamped) => {
                    if let Event::RunFinished(record) = stamped.event && record.id == run {
                        return true;
                    }
                }
                Err(RecvError::Lagged(_)) => return true,
                Err(RecvError::Closed) => return false,
            },
        }
    }
}
