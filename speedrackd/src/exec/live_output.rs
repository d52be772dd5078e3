//! Output of running runs as it is written: the capture of each stream sends what it appends to
//! the stream's file into a bounded broadcast, and tailers (TailOutput) subscribe to it by the
//! file's path. The channel closes when the capture ends and the file is final.
//!
//! A send never waits: a tailer that falls behind is told it lagged and reads what it missed
//! from the file. Nothing is copied while nobody tails, and a file nobody tails has no channel:
//! the first tailer makes it (most runs are never tailed, and each channel is LAG slots). It
//! does not read files or decide what a tailer is sent; `rpc/tail.rs` does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use tokio::sync::broadcast;

/// Chunks a tailer may fall behind before it reads from the file instead: with pipe-sized
/// chunks, at most 1 MiB held per stream while a tailer lags.
const LAG: usize = 16;

/// Bytes appended to an output file: `data` starts at `offset` in the file.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub offset: u64,
    pub data: Arc<[u8]>,
}

impl Chunk {
    /// The file offset just past this chunk.
    pub fn end(&self) -> u64 {
        self.offset + self.data.len() as u64
    }
}

/// The output files being written now, by path, each with the channel of what is appended.
#[derive(Clone, Default)]
pub struct LiveOutput {
    files: Arc<Mutex<HashMap<PathBuf, Channel>>>,
}

impl std::fmt::Debug for LiveOutput {
    /// Short: every run's `Launch` holds the registry, and its files are other runs' business.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("LiveOutput")
    }
}

#[derive(Debug, Clone)]
struct Channel {
    /// Made by the first tailer; shared by the registry and the publisher, so it closes once
    /// both have let go.
    sender: Arc<OnceLock<broadcast::Sender<Chunk>>>,
    settled: u64,
}

/// A tailer's view of a file being written.
#[derive(Debug)]
pub struct Subscription {
    pub chunks: broadcast::Receiver<Chunk>,
    /// Bytes of the file before this offset stay as they are; past it the output cap may still
    /// replace them (the file keeps its head, then the newest bytes after a marker), so a
    /// tailer reads them only once the channel has closed.
    pub settled: u64,
}

impl LiveOutput {
    /// Registers `path` as being written with at most `cap` bytes kept in order (0: no cap);
    /// the registration ends when the publisher is dropped.
    pub fn publish(&self, path: &Path, cap: u64) -> Publisher {
        let settled = if cap == 0 { u64::MAX } else { cap - cap / 2 };
        let channel = Channel {
            sender: Arc::default(),
            settled,
        };
        self.files().insert(path.to_path_buf(), channel.clone());
        Publisher {
            files: self.clone(),
            path: path.to_path_buf(),
            channel,
        }
    }

    /// Follows `path` while it is being written; `None` when it is not (not yet, or no more).
    pub fn subscribe(&self, path: &Path) -> Option<Subscription> {
        let files = self.files();
        let channel = files.get(path)?;
        let sender = channel.sender.get_or_init(|| broadcast::channel(LAG).0);
        Some(Subscription {
            chunks: sender.subscribe(),
            settled: channel.settled,
        })
    }

    fn files(&self) -> MutexGuard<'_, HashMap<PathBuf, Channel>> {
        self.files.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The capture's end of one file's channel.
#[derive(Debug)]
pub struct Publisher {
    files: LiveOutput,
    path: PathBuf,
    channel: Channel,
}

impl Publisher {
    /// Announces that `data` was written at `offset`; the part past the settled bytes is left
    /// for tailers to read at the end.
    pub fn written(&self, offset: u64, data: &[u8]) {
        let settled = self.channel.settled;
        let Some(sender) = self.channel.sender.get() else {
            return;
        };
        if offset >= settled || sender.receiver_count() == 0 {
            return;
        }
        let length = usize::try_from(settled - offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let chunk = Chunk {
            offset,
            data: Arc::from(&data[..length]),
        };
        // A tailer that left between the count and the send is no error.
        let _ = sender.send(chunk);
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let mut files = self.files.files();
        let ours = files
            .get(&self.path)
            .is_some_and(|channel| Arc::ptr_eq(&channel.sender, &self.channel.sender));
        if ours {
            files.remove(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(subscription: &mut Subscription) -> Vec<(u64, Vec<u8>)> {
        std::iter::from_fn(|| subscription.chunks.try_recv().ok())
            .map(|chunk| (chunk.offset, chunk.data.to_vec()))
            .collect()
    }

    #[test]
    fn tailers_get_what_is_written_until_the_capture_ends() {
        let live = LiveOutput::default();
        let path = Path::new("/data/runs/a/1/stdout");
        assert!(live.subscribe(path).is_none(), "not written yet");
        let publisher = live.publish(path, 0);
        publisher.written(0, b"nobody listens");
        let mut tailer = live.subscribe(path).expect("being written");
        publisher.written(14, b"hello");
        drop(publisher);
        assert_eq!(received(&mut tailer), [(14, b"hello".to_vec())]);
        assert!(matches!(
            tailer.chunks.try_recv(),
            Err(broadcast::error::TryRecvError::Closed)
        ));
        assert!(live.subscribe(path).is_none(), "no more");
    }

    #[test]
    fn a_channel_is_made_by_the_first_tailer_and_shared_by_the_next() {
        let live = LiveOutput::default();
        let path = Path::new("/data/runs/a/3/stdout");
        let publisher = live.publish(path, 0);
        publisher.written(0, b"unheard");
        assert!(publisher.channel.sender.get().is_none(), "nobody tails");
        let mut first = live.subscribe(path).expect("being written");
        let mut second = live.subscribe(path).expect("being written");
        publisher.written(7, b"heard");
        let expected = [(7, b"heard".to_vec())];
        assert_eq!(
            (received(&mut first), received(&mut second)),
            (expected.to_vec(), expected.to_vec())
        );
    }

    #[test]
    fn bytes_the_cap_may_replace_are_not_sent() {
        let live = LiveOutput::default();
        let path = Path::new("/data/runs/a/2/stderr");
        let publisher = live.publish(path, 10);
        let mut tailer = live.subscribe(path).expect("being written");
        assert_eq!(tailer.settled, 5);
        publisher.written(0, b"abc");
        publisher.written(3, b"defg");
        publisher.written(7, b"hij");
        assert_eq!(
            received(&mut tailer),
            [(0, b"abc".to_vec()), (3, b"de".to_vec())]
        );
    }
}
