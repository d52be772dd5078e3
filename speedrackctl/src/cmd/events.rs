//! A WatchEvents stream that outlives a broken connection: it remembers the last event's
//! epoch and sequence and, when the stream ends or fails, reconnects and resumes after it, as
//! the web gateway's relay does. The pacing of reconnection is shared with the other streams
//! that resume (`output --follow`). What the events mean is each command's business.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use speedrack_proto::v1::speedrack_client::SpeedrackClient;
use speedrack_proto::v1::{WatchEventsRequest, WatchEventsResponse};
use tonic::Streaming;
use tonic::transport::Channel;

/// The pause before the first reconnection attempt; it doubles after each failed one, up to
/// [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(200);
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// How long the daemon may stay unreachable (a restart, an upgrade) before a command that
/// follows it gives up.
pub const RESTART_PATIENCE: Duration = Duration::from_secs(300);

/// What the stream brought.
pub enum News {
    /// The next event, in order (events_dropped included).
    Event(Box<WatchEventsResponse>),
    /// The stream broke and was opened again: events in between may be missing unless the
    /// daemon replays them, so a caller that cannot tell re-reads what it needs.
    Resumed,
}

/// Tries `attempt` (a connection and what is opened on it) until it succeeds, pausing longer
/// after each failure, until `patience` has passed; then the last error is the caller's.
pub async fn reconnect<T, F: Future<Output = anyhow::Result<T>>>(
    patience: Duration,
    mut attempt: impl FnMut() -> F,
) -> anyhow::Result<T> {
    let mut pause = FIRST_PAUSE;
    let mut waited = Duration::ZERO;
    loop {
        // Even the first attempt waits: a daemon that is stopping may still accept a stream
        // only to end it at once, and reconnecting must not spin on that.
        tokio::time::sleep(pause).await;
        waited += pause;
        match attempt().await {
            Ok(opened) => return Ok(opened),
            Err(err) if waited >= patience => return Err(err),
            Err(_) => pause = (pause * 2).min(MAX_PAUSE),
        }
    }
}

/// A resuming event stream.
pub struct Watcher {
    socket: PathBuf,
    /// The connection the stream came on, replaced with the stream.
    client: SpeedrackClient<Channel>,
    stream: Streaming<WatchEventsResponse>,
    epoch: u64,
    sequence: u64,
    /// How long the daemon may stay unreachable before `next` gives up.
    patience: Duration,
}

impl Watcher {
    /// Opens the stream on `client`: events from now on.
    pub async fn open(
        mut client: SpeedrackClient<Channel>,
        socket: PathBuf,
        patience: Duration,
    ) -> anyhow::Result<Watcher> {
        let stream = client
            .watch_events(WatchEventsRequest::default())
            .await?
            .into_inner();
        Ok(Watcher {
            socket,
            client,
            stream,
            epoch: 0,
            sequence: 0,
            patience,
        })
    }

    /// The next event, or word that the stream was opened again after a break.
    pub async fn next(&mut self) -> anyhow::Result<News> {
        match self.stream.message().await {
            Ok(Some(message)) => {
                // EventsDropped carries no number: the last numbered event stays the resume point.
                if message.sequence != 0 {
                    (self.epoch, self.sequence) = (message.epoch, message.sequence);
                }
                Ok(News::Event(Box::new(message)))
            }
            Ok(None) | Err(_) => {
                self.reopen().await?;
                Ok(News::Resumed)
            }
        }
    }

    /// Reconnects, pausing longer after each failure, until the daemon answers or `patience`
    /// has passed; then the last error is the caller's.
    async fn reopen(&mut self) -> anyhow::Result<()> {
        (self.client, self.stream) = reconnect(self.patience, || self.try_reopen()).await?;
        Ok(())
    }

    async fn try_reopen(
        &self,
    ) -> anyhow::Result<(SpeedrackClient<Channel>, Streaming<WatchEventsResponse>)> {
        let mut client = speedrack_proto::connect(&self.socket).await?;
        let request = WatchEventsRequest {
            after_sequence: self.sequence,
            epoch: self.epoch,
        };
        let stream = client.watch_events(request).await?.into_inner();
        Ok((client, stream))
    }

    /// A connection to the daemon the stream is on now, for the reads a caller makes between
    /// events.
    pub fn client(&mut self) -> &mut SpeedrackClient<Channel> {
        &mut self.client
    }
}
