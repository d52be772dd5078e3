//! TailOutput: a run's output as it grows, until the run has finished and all was sent.
//!
//! What the file holds is read first; then the capture's broadcast (`exec::LiveOutput`) brings
//! each write as it happens, and its closing says the file is complete. The last message waits
//! until history holds the run's end. A tailer that fell behind the broadcast reads what it
//! missed from the file. Nothing polls: between writes a tailer only waits. A run running on
//! another node is followed by asking that node for what follows, through the cluster's relay.
//! Where the file is and how it is capped is `history::output`'s and `exec`'s business.

use std::sync::Arc;

use speedrack_proto::v1 as pb;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc, watch};
use tonic::Status;

use super::Service;
use super::event_feed::Slot;
use crate::exec::{Chunk, Subscription};
use crate::history::output::{Stream, read_slice, stream_path};
use crate::run::{RunId, RunRecord, RunStatus};

const CHUNK: usize = 64 << 10;
/// How often a tail of a run on another node asks it again while the run writes nothing.
const RELAYED_POLL: std::time::Duration = std::time::Duration::from_millis(500);

pub type TailStream =
    tokio_stream::wrappers::ReceiverStream<Result<pb::TailOutputResponse, Status>>;

type Sender = mpsc::Sender<Result<pb::TailOutputResponse, Status>>;

pub fn tail_output(service: &Service, request: pb::TailOutputRequest) -> TailStream {
    let (sender, receiver) = mpsc::channel(4);
    let service = service.clone();
    tokio::spawn(async move {
        if let Err(status) = tail(&service, &request, &sender).await {
            let _ = sender.send(Err(status)).await;
        }
    });
    TailStream::new(receiver)
}

/// Why a tail stopped early.
enum Stop {
    /// The client went away: nothing more to say.
    Gone,
    Failed(Status),
}

impl From<Status> for Stop {
    fn from(status: Status) -> Stop {
        Stop::Failed(status)
    }
}

async fn tail(
    service: &Service,
    request: &pb::TailOutputRequest,
    sender: &Sender,
) -> Result<(), Status> {
    let mut tailer = Tailer {
        service,
        run: RunId(request.run_id),
        // Before the run is read, so that its start or end cannot slip by unseen.
        events: service.feed.subscribe(),
        stopping: service.stopping.clone(),
        offset: request.offset,
        sender,
    };
    let outcome = match request.stream() {
        pb::OutputStream::Stdout => tailer.file(Stream::Stdout).await,
        pb::OutputStream::Stderr => tailer.file(Stream::Stderr).await,
        pb::OutputStream::OpError => tailer.op_error().await,
        pb::OutputStream::Unspecified => {
            return Err(Status::invalid_argument(
                "say which output to tail: stdout, stderr or op_error",
            ));
        }
    };
    match outcome {
        Ok(()) | Err(Stop::Gone) => Ok(()),
        Err(Stop::Failed(status)) => Err(status),
    }
}

struct Tailer<'a> {
    service: &'a Service,
    run: RunId,
    events: broadcast::Receiver<Arc<Slot>>,
    stopping: watch::Receiver<bool>,
    /// Where the next byte to send starts.
    offset: u64,
    sender: &'a Sender,
}

impl Tailer<'_> {
    fn record(&self) -> Result<RunRecord, Status> {
        self.service
            .history
            .get_run(self.run)?
            .ok_or_else(|| Status::not_found(format!("no run with id {}", self.run)))
    }

    /// The run's op_error text once the run has finished: it is written only then.
    async fn op_error(&mut self) -> Result<(), Stop> {
        loop {
            let record = self.record()?;
            if record.status() != RunStatus::Running {
                let mut data = record.op_error().as_bytes().to_vec();
                let start = usize::try_from(self.offset)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                return self.send(data.split_off(start), true).await;
            }
            self.run_news().await?;
        }
    }

    /// A stdout or stderr file: what it holds, then each write as it happens, to its end.
    async fn file(&mut self, stream: Stream) -> Result<(), Stop> {
        if self.service.node_of_run(self.run)?.is_some() {
            return self.elsewhere(stream).await;
        }
        loop {
            let record = self.record()?;
            let path = stream_path(
                self.service.history.data_dir(),
                &record.task,
                self.run,
                stream,
            );
            if record.status() == RunStatus::Running
                && let Some(live) = self.service.live_output.subscribe(&path)
            {
                self.follow(&path, live).await?;
                self.recorded_end().await?;
                return self.send(Vec::new(), true).await;
            }
            if record.status() != RunStatus::Running {
                self.send_file(&path, u64::MAX).await?;
                return self.send(Vec::new(), true).await;
            }
            // Running, but its output is not being written: not yet, or no more.
            self.run_news().await?;
        }
    }

    /// A run another node ran: its output as the shared history kept it when it ended; while
    /// it runs, read from that node as it grows.
    async fn elsewhere(&mut self, stream: Stream) -> Result<(), Stop> {
        let record = self.record()?;
        let history = std::sync::Arc::clone(&self.service.history);
        let run = self.run;
        let stored = tokio::task::spawn_blocking(move || history.stored_output(run, stream))
            .await
            .map_err(|error| Status::internal(format!("output reader failed: {error}")))?
            .map_err(Status::from)?;
        let Some(bytes) = stored else {
            return self.relayed(&record.node, stream).await;
        };
        let start = usize::try_from(self.offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        for piece in bytes[start..].chunks(CHUNK) {
            self.send(piece.to_vec(), false).await?;
        }
        self.send(Vec::new(), true).await
    }

    /// Follows a run running on node `node`: asks it for what follows `offset` until the run
    /// has ended and all was sent. The other node's writes cannot be awaited from here, so an
    /// idle run is asked again every [`RELAYED_POLL`].
    async fn relayed(&mut self, node: &str, stream: Stream) -> Result<(), Stop> {
        let node = crate::config::NodeName::parse(node).map_err(|error| {
            Status::internal(format!("run {} names no node: {error}", self.run))
        })?;
        loop {
            let piece = self
                .service
                .output_on(&node, self.run, stream, self.offset)
                .await?;
            if !piece.data.is_empty() {
                self.send(piece.data, false).await?;
                continue;
            }
            if !piece.running {
                return self.send(Vec::new(), true).await;
            }
            tokio::select! {
                () = tokio::time::sleep(RELAYED_POLL) => {}
                () = self.sender.closed() => return Err(Stop::Gone),
                _ = self.stopping.wait_for(|stopping| *stopping) => return Err(shutting_down()),
            }
        }
    }

    /// Sends the file as the capture writes it, until the capture ends.
    async fn follow(&mut self, path: &std::path::Path, live: Subscription) -> Result<(), Stop> {
        let Subscription {
            mut chunks,
            settled,
        } = live;
        self.send_file(path, settled).await?;
        loop {
            let received = tokio::select! {
                received = chunks.recv() => received,
                _ = self.stopping.wait_for(|stopping| *stopping) => return Err(shutting_down()),
            };
            match received {
                Ok(chunk) => self.send_chunk(path, settled, &chunk).await?,
                Err(RecvError::Lagged(_)) => self.send_file(path, settled).await?,
                // The capture ended: the file is complete, cap marker and all.
                Err(RecvError::Closed) => return self.send_file(path, u64::MAX).await,
            }
        }
    }

    /// Sends what of `chunk` was not sent yet.
    async fn send_chunk(
        &mut self,
        path: &std::path::Path,
        settled: u64,
        chunk: &Chunk,
    ) -> Result<(), Stop> {
        if chunk.offset > self.offset {
            // Written before this tailer listened, yet not read: the file has it.
            self.send_file(path, chunk.offset.min(settled)).await?;
        }
        if chunk.end() <= self.offset || chunk.offset > self.offset {
            return Ok(());
        }
        let start = usize::try_from(self.offset - chunk.offset).unwrap_or(usize::MAX);
        self.send(chunk.data[start..].to_vec(), false).await
    }

    /// Sends the file from the offset up to `until` or its end.
    async fn send_file(&mut self, path: &std::path::Path, until: u64) -> Result<(), Stop> {
        while self.offset < until {
            let room = usize::try_from(until - self.offset).unwrap_or(usize::MAX);
            let slice = read_slice(path, self.offset, room.min(CHUNK)).map_err(|error| {
                Status::internal(format!(
                    "cannot read the output of run {}: {error}",
                    self.run
                ))
            })?;
            if slice.data.is_empty() {
                break;
            }
            self.send(slice.data, false).await?;
        }
        Ok(())
    }

    async fn send(&mut self, data: Vec<u8>, finished: bool) -> Result<(), Stop> {
        let length = data.len() as u64;
        let message = pb::TailOutputResponse {
            data,
            offset: self.offset,
            finished,
        };
        self.sender
            .send(Ok(message))
            .await
            .map_err(|_| Stop::Gone)?;
        self.offset += length;
        Ok(())
    }

    /// Waits until history holds the run's end. The capture closes before the loop writes
    /// it, and a client told `finished` reads the end next (for an exit status, a badge).
    async fn recorded_end(&mut self) -> Result<(), Stop> {
        while self.record()?.status() == RunStatus::Running {
            self.run_news().await?;
        }
        Ok(())
    }

    /// Waits until the run starts or ends (or events were missed, which may have said so).
    async fn run_news(&mut self) -> Result<(), Stop> {
        loop {
            let received = tokio::select! {
                received = self.events.recv() => received,
                _ = self.stopping.wait_for(|stopping| *stopping) => return Err(shutting_down()),
            };
            match received {
                Ok(slot) if slot.run() == Some(self.run) => return Ok(()),
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => return Ok(()),
                Err(RecvError::Closed) => return Err(shutting_down()),
            }
        }
    }
}

fn shutting_down() -> Stop {
    Stop::Failed(Status::unavailable("speedrackd is shutting down"))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use chrono::{TimeZone, Utc};
    use tokio_stream::StreamExt;

    use super::*;
    use crate::config::TaskName;
    use crate::events::{Event, Stamped};
    use crate::history::NewRun;
    use crate::rpc::test_api;
    use crate::run::{RunEnd, Trigger};

    async fn next(tail: &mut TailStream) -> pb::TailOutputResponse {
        tail.next()
            .await
            .expect("the stream is open")
            .expect("the tail works")
    }

    /// A handler-test daemon with one run running, its stdout's directory made.
    fn running_run() -> (
        test_api::TestApi,
        RunId,
        std::path::PathBuf,
        chrono::DateTime<Utc>,
    ) {
        let test = test_api::start();
        let task = TaskName::normalise("talker").expect("name");
        let at = Utc
            .with_ymd_and_hms(2026, 3, 29, 0, 0, 0)
            .single()
            .expect("instant");
        let run = test
            .history
            .insert_run(&NewRun {
                task: &task,
                trigger: &Trigger::Schedule,
                scheduled_at: at,
                started_at: at,
                definition: "",
                pays_owed: false,
                claim: crate::history::Claim::None,
            })
            .expect("a running run");
        let path = stream_path(test.dir.path(), &task, run, Stream::Stdout);
        std::fs::create_dir_all(path.parent().expect("a run directory")).expect("run dir");
        (test, run, path, at)
    }

    /// On tokio's paused clock time moves only when every task waits on a timer: a tailer that
    /// polled would make it move before a write reached it.
    #[tokio::test(start_paused = true)]
    async fn a_write_reaches_the_tailer_with_no_timer_and_the_capture_end_ends_the_tail() {
        let (test, run, path, at) = running_run();
        let mut file = std::fs::File::create(&path).expect("output file");
        file.write_all(b"first\n").expect("write");
        let publisher = test.live_output.publish(&path, 0);
        let request = pb::TailOutputRequest {
            run_id: run.0,
            stream: pb::OutputStream::Stdout.into(),
            offset: 0,
        };
        let mut tail = tail_output(&test.service, request);
        assert_eq!(next(&mut tail).await.data, b"first\n");

        let before = tokio::time::Instant::now();
        file.write_all(b"second\n").expect("write");
        publisher.written(6, b"second\n");
        let second = next(&mut tail).await;
        assert_eq!((second.offset, &second.data[..]), (6, &b"second\n"[..]));
        assert_eq!(
            tokio::time::Instant::now(),
            before,
            "nothing waited for a timer"
        );

        drop(publisher);
        finish(&test, run, at);
        let last = next(&mut tail).await;
        assert_eq!((last.offset, last.data.len(), last.finished), (13, 0, true));
    }

    /// Records the run's end and announces it, as the runtime loop does after the capture.
    fn finish(test: &test_api::TestApi, run: RunId, at: chrono::DateTime<Utc>) {
        let end = RunEnd::bare(at, RunStatus::Success, String::new());
        test.history
            .finish_run(run, &end)
            .expect("the end is recorded");
        let mut record = test.history.get_run(run).expect("read").expect("the run");
        record.end = Some(end);
        test.events.announce(Stamped {
            at,
            event: Event::RunFinished(record),
        });
    }

    /// A client told `finished` reads the run's end next (`speedrackctl output --follow` does,
    /// for its exit status): the capture closes before the loop has written that end, so the
    /// last message waits for it.
    #[tokio::test(start_paused = true)]
    async fn the_last_message_waits_until_the_runs_end_is_recorded() {
        let (test, run, path, at) = running_run();
        std::fs::write(&path, b"all\n").expect("output file");
        let publisher = test.live_output.publish(&path, 0);
        let request = pb::TailOutputRequest {
            run_id: run.0,
            stream: pb::OutputStream::Stdout.into(),
            offset: 0,
        };
        let mut tail = tail_output(&test.service, request);
        assert_eq!(next(&mut tail).await.data, b"all\n");

        drop(publisher);
        let early = tokio::time::timeout(std::time::Duration::from_secs(60), tail.next()).await;
        assert!(
            early.is_err(),
            "said more before the end was recorded: {early:?}"
        );

        finish(&test, run, at);
        let last = next(&mut tail).await;
        assert_eq!((last.offset, last.data.len(), last.finished), (4, 0, true));
        let record = test.history.get_run(run).expect("read").expect("the run");
        assert_eq!(record.status(), RunStatus::Success);
    }
}
