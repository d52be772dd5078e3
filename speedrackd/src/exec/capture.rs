//! Copying one output pipe of a run into its file, with a cap: all at once when the run has
//! ended within 10 ms, else as the child writes it.
//!
//! Up to `cap` bytes the file holds everything. Past it, the file keeps its first half (the
//! head) and the newest `cap / 2` bytes go round a ring file beside it; when the stream ends the
//! ring is appended in order after a marker saying how much was dropped. Disk use stays bounded
//! however much a runaway task prints, and memory use is one read buffer.
//!
//! It also watches lines for the task's `fail_if_output_matches` pattern, and announces what it
//! writes to tailers (`live_output`) without ever waiting for them.
//!
//! The pipe is always read to its end, whatever happens to the file: a full disk or any other
//! write error costs the rest of the output, never the job (a reader that stopped would leave the
//! child blocked on a full pipe, or killed by SIGPIPE). What was lost, and why, is reported.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::Duration;

use regex::bytes::Regex;
use tokio::io::unix::AsyncFd;

use super::live_output::Publisher;

/// How often a pipe the runtime refused to watch is read.
const POLL_EVERY: Duration = Duration::from_millis(10);
/// Reads of a pipe before it is registered, each into a buffer on the stack of this size.
const READY_READS: usize = 8;
const READY_CHUNK: usize = 4 << 10;
/// The first read buffer once a pipe is registered. Most tasks print little, and every running
/// run holds two buffers for its whole life: 170 runs in flight held 22 MB of 64 KB buffers in
/// the `scale` benchmark.
const FIRST_CHUNK: usize = 4 << 10;
/// The buffer once a read fills the first one: a full pipe (Linux's default pipe capacity).
const CHUNK: usize = 64 << 10;
/// Longest partial line kept for matching; a longer line is matched in pieces.
const MAX_LINE: usize = 64 << 10;
/// Longest matched line quoted in a run's reason.
const QUOTE: usize = 160;

/// What one stream produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// Bytes the child wrote in all.
    pub written: u64,
    /// Bytes dropped from the middle by the cap.
    pub dropped: u64,
    /// The first line that matched the pattern, shortened.
    pub matched: Option<String>,
    /// Bytes the child wrote that are not in the file because saving failed.
    pub lost: u64,
    /// Why saving failed, e.g. `no space left on device`; set when `lost` is.
    pub lost_because: Option<String>,
}

impl Captured {
    /// Bytes of the stream that reached the file (before the cap's middle drop).
    pub fn kept(&self) -> u64 {
        self.written - self.lost
    }
}

/// An output pipe's read end, non-blocking, and not registered with the runtime until a read
/// finds it open and empty (or a few reads have not emptied it): most runs print little or
/// nothing and have ended by the time their pipes are first read, which then takes a read or
/// two and no registration.
/// Registering, waking on and deregistering two pipes per run was about a twentieth of what a
/// run cost the daemon (BENCHMARKS.md).
pub struct Unwatched(OwnedFd);

impl Unwatched {
    /// Takes a pipe's read end and makes it non-blocking.
    pub fn new(fd: OwnedFd) -> io::Result<Unwatched> {
        rustix::fs::fcntl_setfl(&fd, rustix::fs::OFlags::NONBLOCK)?;
        Ok(Unwatched(fd))
    }
}

/// When a run's captures start reading: the supervisor opens it when the run has exited, or
/// has run long enough that its output should be followed as it comes.
///
/// A capture waiting for it registers no waker: the supervisor polls the captures in its own
/// task, and polls them again right after it opens it.
#[derive(Debug, Default)]
pub struct ReadStart(AtomicBool);

impl ReadStart {
    pub fn open(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_open(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    async fn opened(&self) {
        std::future::poll_fn(|_| match self.is_open() {
            true => Poll::Ready(()),
            false => Poll::Pending,
        })
        .await;
    }
}

/// Copies `pipe` into `path` from when `start` opens until end of file, keeping at most about
/// `cap` bytes (0: no cap). Only reading the pipe can fail: a file that cannot be written is
/// reported in the result. `live` hears of every write; dropped at the end, once the file is
/// final, it tells tailers the file is complete.
pub async fn capture(
    pipe: Unwatched,
    start: &ReadStart,
    path: &Path,
    cap: u64,
    pattern: Option<&Regex>,
    live: Option<Publisher>,
) -> io::Result<Captured> {
    let mut output = Output {
        saving: Saving::start(path, cap),
        matcher: pattern.map(LineMatcher::new),
        live,
    };
    start.opened().await;
    if let Some(open) = output.take_ready(pipe.0)? {
        match super::reap::register_or_return(open) {
            Ok(watched) => output.take_watched(&watched).await?,
            Err((open, error)) => {
                // Still read to its end: a reader that stopped would leave the child blocked
                // on a full pipe, or killed by SIGPIPE.
                tracing::warn!(
                    "cannot watch a run's output pipe ({error}); reading it every {} ms instead",
                    POLL_EVERY.as_millis()
                );
                output.take_polling(open).await?;
            }
        }
    }
    let mut captured = output.saving.finish();
    captured.matched = output.matcher.and_then(LineMatcher::finish);
    Ok(captured)
}

/// Where a stream's bytes go: its file, the pattern's matcher, its tailers.
struct Output<'a> {
    saving: Saving,
    matcher: Option<LineMatcher<'a>>,
    live: Option<Publisher>,
}

impl Output<'_> {
    fn take(&mut self, chunk: &[u8]) {
        let offset = self.saving.written;
        self.saving.write(chunk);
        if let (Some(live), true) = (&self.live, self.saving.sink.is_some()) {
            live.written(offset, chunk);
        }
        if let Some(matcher) = self.matcher.as_mut() {
            matcher.feed(chunk);
        }
    }

    /// Takes what the pipe holds as it comes, until its end.
    async fn take_watched(&mut self, pipe: &AsyncFd<OwnedFd>) -> io::Result<()> {
        let mut buffer = vec![0; FIRST_CHUNK];
        loop {
            let mut ready = pipe.readable().await?;
            let read = match ready.try_io(|pipe| read_some(pipe.get_ref(), &mut buffer)) {
                Ok(read) => read?,
                Err(_not_ready) => continue,
            };
            if read == 0 {
                return Ok(());
            }
            self.take(&buffer[..read]);
            if read == buffer.len() {
                buffer.resize(CHUNK, 0);
            }
        }
    }

    /// Takes what the pipe holds until its end, looking every [`POLL_EVERY`]: for a pipe the
    /// runtime refused to watch.
    async fn take_polling(&mut self, mut pipe: OwnedFd) -> io::Result<()> {
        loop {
            match self.take_ready(pipe)? {
                Some(open) => pipe = open,
                None => return Ok(()),
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// Takes what the pipe holds without the runtime, up to [`READY_READS`] reads; returns
    /// the pipe when it is still open then, to be read as it fills.
    fn take_ready(&mut self, pipe: OwnedFd) -> io::Result<Option<OwnedFd>> {
        let mut buffer = [0; READY_CHUNK];
        for _ in 0..READY_READS {
            match read_some(&pipe, &mut buffer) {
                Ok(0) => return Ok(None),
                Ok(read) => self.take(&buffer[..read]),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        Ok(Some(pipe))
    }
}

/// One `read` of the non-blocking pipe.
fn read_some(pipe: &OwnedFd, buffer: &mut [u8]) -> io::Result<usize> {
    rustix::io::read(pipe, buffer).map_err(io::Error::from)
}

/// The sink while it works; after its first error, only a count of what the child wrote.
///
/// The file (and the run's directory) is created with the first byte: most runs print
/// nothing on at least one stream, and creating inodes was the largest part of what a run
/// cost the daemon (BENCHMARKS.md). A stream that stays empty leaves no file, which readers
/// take as empty output.
struct Saving {
    sink: Option<Sink>,
    /// Where the file goes, until the first byte creates it.
    unopened: Option<(PathBuf, u64)>,
    written: u64,
    /// Bytes that reached the file when saving failed.
    kept: u64,
    failure: Option<io::Error>,
}

impl Saving {
    fn start(path: &Path, cap: u64) -> Saving {
        Saving {
            sink: None,
            unopened: Some((path.to_path_buf(), cap)),
            written: 0,
            kept: 0,
            failure: None,
        }
    }

    fn write(&mut self, chunk: &[u8]) {
        if let Some((path, cap)) = self.unopened.take() {
            match Sink::create(&path, cap) {
                Ok(sink) => self.sink = Some(sink),
                Err(error) => self.failure = Some(error),
            }
        }
        self.written += chunk.len() as u64;
        let Some(sink) = self.sink.as_mut() else {
            return;
        };
        if let Err(error) = sink.write(chunk) {
            self.kept = sink.stored();
            sink.abandon();
            self.sink = None;
            self.failure = Some(error);
        }
    }

    fn finish(self) -> Captured {
        let (kept, failure) = match self.sink {
            Some(sink) => {
                let head = sink.stored();
                match sink.finish() {
                    Ok((written, dropped)) => {
                        return Captured {
                            written,
                            dropped,
                            ..Captured::default()
                        };
                    }
                    Err(error) => (head, error),
                }
            }
            None if self.written == 0 => return Captured::default(),
            None => (
                self.kept,
                self.failure
                    .unwrap_or_else(|| io::Error::other("the file was not saved")),
            ),
        };
        Captured {
            written: self.written,
            lost: self.written - kept.min(self.written),
            lost_because: Some(describe(&failure)),
            ..Captured::default()
        }
    }
}

/// An I/O error in words, lowercase and without the `(os error N)` suffix.
fn describe(error: &io::Error) -> String {
    let text = match error.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_owned(),
        None => error.to_string(),
    };
    let mut chars = text.chars();
    chars.next().map_or(text.clone(), |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

/// The output file and, once the cap is passed, the ring holding the newest bytes.
struct Sink {
    file: File,
    path: PathBuf,
    cap: u64,
    written: u64,
    ring: Option<Ring>,
}

struct Ring {
    file: File,
    path: PathBuf,
    size: u64,
    /// Bytes written into the ring in all; `position % size` is where the next one goes.
    position: u64,
}

impl Sink {
    /// Creates the file, and the run's directory the first time one of its streams needs it.
    fn create(path: &Path, cap: u64) -> io::Result<Sink> {
        if let Some(dir) = path.parent() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|error| {
                    io::Error::new(
                        error.kind(),
                        format!("cannot create {}: {error}", dir.display()),
                    )
                })?;
        }
        Ok(Sink {
            file: create(path)?,
            path: path.to_path_buf(),
            cap,
            written: 0,
            ring: None,
        })
    }

    fn write(&mut self, mut chunk: &[u8]) -> io::Result<()> {
        self.written += chunk.len() as u64;
        if self.ring.is_none() {
            let room = if self.cap == 0 {
                u64::MAX
            } else {
                self.cap - (self.written - chunk.len() as u64)
            };
            let fits = usize::try_from(room).unwrap_or(usize::MAX).min(chunk.len());
            self.file.write_all(&chunk[..fits])?;
            chunk = &chunk[fits..];
            if chunk.is_empty() {
                return Ok(());
            }
            self.start_ring()?;
        }
        if let Some(ring) = self.ring.as_mut() {
            ring.write(chunk)?;
        }
        Ok(())
    }

    /// Counts `bytes` of the stream as written without them: they went round the ring and
    /// were overwritten. Only past the cap (the head is full), so the ring starts first.
    fn skip(&mut self, bytes: u64) -> io::Result<()> {
        self.written += bytes;
        if self.ring.is_none() {
            self.start_ring()?;
        }
        if let Some(ring) = self.ring.as_mut() {
            ring.position += bytes;
        }
        Ok(())
    }

    /// Bytes of the stream the file holds now (its length before the ring starts).
    fn stored(&self) -> u64 {
        match &self.ring {
            None => self.file.metadata().map_or(0, |meta| meta.len()),
            // Past the cap the head is complete; the ring's content is not kept on failure.
            Some(_) => self.cap - self.cap / 2,
        }
    }

    /// Gives up after a write error: the ring (which cannot be appended) is removed.
    fn abandon(&mut self) {
        if let Some(ring) = self.ring.take() {
            // Best effort: a ring file left behind is removed with its run's directory.
            let _ = std::fs::remove_file(&ring.path);
        }
    }

    /// The file holds `cap` bytes: its second half becomes the ring's first content, and the
    /// file is cut back to the head.
    fn start_ring(&mut self) -> io::Result<()> {
        let head = self.cap - self.cap / 2;
        let size = self.cap / 2;
        let path = self.path.with_extension("tail");
        let mut file = create(&path)?;
        // File to file, never through a buffer of the half's size: memory must not grow with
        // the cap. The half fills the ring exactly, so it starts at the ring's offset 0.
        self.file.seek(SeekFrom::Start(head))?;
        let position = io::copy(&mut (&self.file).take(size), &mut file)?;
        self.file.set_len(head)?;
        self.file.seek(SeekFrom::End(0))?;
        self.ring = Some(Ring {
            file,
            path,
            size,
            position,
        });
        Ok(())
    }

    /// Appends the marker and the ring, oldest byte first; returns `(written, dropped)`.
    fn finish(mut self) -> io::Result<(u64, u64)> {
        let Some(ring) = self.ring.take() else {
            return Ok((self.written, 0));
        };
        let appended = self.append_ring(&ring);
        // Removed whether or not the append worked: it is only ever a temporary file.
        let removed = std::fs::remove_file(&ring.path);
        let counts = appended?;
        removed?;
        Ok(counts)
    }

    fn append_ring(&mut self, ring: &Ring) -> io::Result<(u64, u64)> {
        let kept = self.cap - self.cap / 2 + ring.size;
        let dropped = self.written - kept;
        write!(
            self.file,
            "\n[... speedrack dropped {dropped} bytes here: output_max_bytes is {} ...]\n",
            self.cap
        )?;
        // A cap of 1 leaves an empty ring (size 0): nothing to rotate.
        let start = ring.position.checked_rem(ring.size).unwrap_or(0);
        (&ring.file).seek(SeekFrom::Start(start))?;
        io::copy(&mut (&ring.file).take(ring.size - start), &mut self.file)?;
        (&ring.file).seek(SeekFrom::Start(0))?;
        io::copy(&mut (&ring.file).take(start), &mut self.file)?;
        Ok((self.written, dropped))
    }
}

impl Ring {
    fn write(&mut self, mut chunk: &[u8]) -> io::Result<()> {
        if self.size == 0 {
            return Ok(());
        }
        // Only the newest `size` bytes of a large chunk can survive.
        if chunk.len() as u64 > self.size {
            let skip = chunk.len() - usize::try_from(self.size).unwrap_or(usize::MAX);
            self.position += skip as u64;
            chunk = &chunk[skip..];
        }
        while !chunk.is_empty() {
            let offset = self.position % self.size;
            let until_wrap = usize::try_from(self.size - offset)
                .unwrap_or(usize::MAX)
                .min(chunk.len());
            self.file.write_all_at(&chunk[..until_wrap], offset)?;
            self.position += until_wrap as u64;
            chunk = &chunk[until_wrap..];
        }
        Ok(())
    }
}

/// Copies a finished file (`len` bytes long) into `path` under the same cap as a live stream,
/// reading only what can be kept: beyond the head and the ring's share of the tail, the middle is
/// counted as written and skipped, so a huge file costs no more reading than its cap. Used to
/// import output written by another program; any I/O error is returned, nothing is half-reported.
pub(crate) fn copy_capped(
    source: &mut File,
    len: u64,
    path: &Path,
    cap: u64,
) -> io::Result<Captured> {
    let mut sink = Sink::create(path, cap)?;
    let tail = cap / 2;
    let skip = match cap {
        0 => 0,
        _ => len.saturating_sub(cap + tail),
    };
    let head = len - skip - tail.min(len - skip);
    io::copy(
        &mut Read::by_ref(source).take(head),
        &mut SinkWriter(&mut sink),
    )?;
    if skip > 0 {
        sink.skip(skip)?;
        source.seek(SeekFrom::Start(len - tail))?;
    }
    io::copy(
        &mut Read::by_ref(source).take(tail.min(len - skip)),
        &mut SinkWriter(&mut sink),
    )?;
    let (written, dropped) = sink.finish()?;
    Ok(Captured {
        written,
        dropped,
        ..Captured::default()
    })
}

/// A sink as a `Write`, for `io::copy`.
struct SinkWriter<'a>(&'a mut Sink);

impl Write for SinkWriter<'_> {
    fn write(&mut self, chunk: &[u8]) -> io::Result<usize> {
        self.0.write(chunk)?;
        Ok(chunk.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn create(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("cannot create {}: {error}", path.display()),
            )
        })
}

/// Finds the first line matching a pattern across chunk boundaries.
struct LineMatcher<'a> {
    pattern: &'a Regex,
    partial: Vec<u8>,
    matched: Option<String>,
}

impl<'a> LineMatcher<'a> {
    fn new(pattern: &'a Regex) -> LineMatcher<'a> {
        LineMatcher {
            pattern,
            partial: Vec::new(),
            matched: None,
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        if self.matched.is_some() {
            return;
        }
        for piece in chunk.split_inclusive(|byte| *byte == b'\n') {
            self.partial.extend_from_slice(piece);
            if piece.ends_with(b"\n") || self.partial.len() >= MAX_LINE {
                self.check_line();
            }
        }
    }

    fn check_line(&mut self) {
        let line = self.partial.strip_suffix(b"\n").unwrap_or(&self.partial);
        if self.matched.is_none() && self.pattern.is_match(line) {
            let text = String::from_utf8_lossy(line);
            self.matched = Some(text.chars().take(QUOTE).collect());
        }
        self.partial.clear();
    }

    fn finish(mut self) -> Option<String> {
        if !self.partial.is_empty() {
            self.check_line();
        }
        self.matched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pipe whose read end a capture takes, and whose write end a tokio task can fill.
    fn pipe_pair() -> (tokio::net::unix::pipe::Sender, Unwatched) {
        let (reader, writer) = io::pipe().expect("pipe");
        let sender =
            tokio::net::unix::pipe::Sender::from_owned_fd(writer.into()).expect("the write end");
        (sender, Unwatched::new(reader.into()).expect("the read end"))
    }

    fn opened() -> ReadStart {
        let start = ReadStart::default();
        start.open();
        start
    }

    #[test]
    fn a_capture_reads_nothing_before_its_start_and_an_ended_pipe_needs_no_runtime() {
        use std::future::Future;
        use std::task::{Context, Waker};

        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("stdout");
        let (reader, mut writer) = io::pipe().expect("pipe");
        writer.write_all(b"abc").expect("write");
        drop(writer);
        let start = ReadStart::default();
        let unwatched = Unwatched::new(reader.into()).expect("the read end");
        let mut capturing = std::pin::pin!(capture(unwatched, &start, &path, 0, None, None));
        // No runtime here: registering the pipe would fail. An ended pipe is read to its end
        // at once, so it never is.
        let mut context = Context::from_waker(Waker::noop());
        assert!(capturing.as_mut().poll(&mut context).is_pending());
        assert!(!path.exists(), "nothing read before the start");
        start.open();
        match capturing.as_mut().poll(&mut context) {
            Poll::Ready(Ok(captured)) => assert_eq!(captured.written, 3),
            other => panic!("not read at once: {other:?}"),
        }
        assert_eq!(std::fs::read(&path).expect("read"), b"abc");
    }

    /// Feeds `chunks` through a sink with `cap` and returns the file's final content.
    fn through_sink(cap: u64, chunks: &[&[u8]]) -> (String, u64, u64) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("stdout");
        let mut sink = Sink::create(&path, cap).expect("create");
        for chunk in chunks {
            sink.write(chunk).expect("write");
        }
        let (written, dropped) = sink.finish().expect("finish");
        assert!(
            !path.with_extension("tail").exists(),
            "the ring file is removed"
        );
        (
            std::fs::read_to_string(&path).expect("read"),
            written,
            dropped,
        )
    }

    #[test]
    fn keeps_everything_up_to_the_cap() {
        assert_eq!(
            through_sink(10, &[b"01234", b"56789"]),
            ("0123456789".to_owned(), 10, 0)
        );
        assert_eq!(
            through_sink(0, &[b"no cap at all"]),
            ("no cap at all".to_owned(), 13, 0)
        );
    }

    #[test]
    fn keeps_head_and_tail_with_a_marker_past_the_cap() {
        let marker = "\n[... speedrack dropped 16 bytes here: output_max_bytes is 10 ...]\n";
        let cases: &[&[&[u8]]] = &[
            &[b"abcdefghijklmnopqrstuvwxyz"],
            &[b"abcdefghij", b"klmnopqrstuvwxyz"],
            &[b"abc", b"defghijklm", b"nop", b"qrstuvw", b"xyz"],
            &[
                b"a",
                b"b",
                b"c",
                b"d",
                b"e",
                b"f",
                b"g",
                b"h",
                b"i",
                b"j",
                b"k",
                b"l",
                b"m",
                b"nopqrstuvwxyz",
            ],
        ];
        for chunks in cases {
            let (content, written, dropped) = through_sink(10, chunks);
            assert_eq!(content, format!("abcde{marker}vwxyz"), "{chunks:?}");
            assert_eq!((written, dropped), (26, 16));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_pipe_the_runtime_refused_is_still_read_to_its_end_by_looking_now_and_then() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("stdout");
        let (reader, mut writer) = io::pipe().expect("pipe");
        // More than a pipe holds: the writer blocks until the reads make room.
        let data: Vec<u8> = (0..300_000_u32).map(|i| (i % 251) as u8).collect();
        let writing = std::thread::spawn({
            let data = data.clone();
            move || writer.write_all(&data)
        });
        let mut output = Output {
            saving: Saving::start(&path, 0),
            matcher: None,
            live: None,
        };
        let unwatched = Unwatched::new(reader.into()).expect("the read end");
        output.take_polling(unwatched.0).await.expect("read");
        writing
            .join()
            .expect("the writer")
            .expect("every byte written");
        assert_eq!(output.saving.finish().written, 300_000);
        assert_eq!(std::fs::read(&path).expect("read"), data);
    }

    #[tokio::test]
    async fn copies_a_pipe_whole_through_small_and_full_reads() {
        use tokio::io::AsyncWriteExt;

        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("stdout");
        let (mut sender, receiver) = pipe_pair();
        // Several full pipes: the first small buffer fills and the larger one takes over.
        let data: Vec<u8> = (0..300_000_u32).map(|i| (i % 251) as u8).collect();
        let writer = tokio::spawn({
            let data = data.clone();
            async move { sender.write_all(&data).await.expect("write") }
        });
        let captured = capture(receiver, &opened(), &path, 0, None, None)
            .await
            .expect("capture");
        writer.await.expect("the writer finished");
        assert_eq!((captured.written, captured.dropped), (300_000, 0));
        assert_eq!(std::fs::read(&path).expect("read"), data);
    }

    #[tokio::test]
    async fn a_stream_that_stays_empty_creates_no_file_nor_directory() {
        let dir = tempfile::tempdir().expect("temp dir");
        let run_dir = dir.path().join("runs/task/7");
        let (sender, receiver) = pipe_pair();
        drop(sender);
        let captured = capture(receiver, &opened(), &run_dir.join("stdout"), 0, None, None)
            .await
            .expect("capture");
        assert_eq!(captured, Captured::default());
        assert!(!dir.path().join("runs").exists(), "nothing was created");

        let (mut sender, receiver) = pipe_pair();
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            sender.write_all(b"x").await.expect("write");
        });
        capture(receiver, &opened(), &run_dir.join("stderr"), 0, None, None)
            .await
            .expect("capture");
        writer.await.expect("the writer finished");
        assert_eq!(std::fs::read(run_dir.join("stderr")).expect("read"), b"x");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&run_dir).expect("run dir").permissions(),
        );
        assert_eq!(
            mode & 0o777,
            0o700,
            "the first byte made the run's private directory"
        );
    }

    #[tokio::test]
    async fn a_file_that_cannot_be_written_loses_output_but_the_pipe_is_drained() {
        use tokio::io::AsyncWriteExt;

        // /dev/full fails every write with ENOSPC, like a full disk.
        let (mut sender, receiver) = pipe_pair();
        let writer =
            tokio::spawn(async move { sender.write_all(&[b'x'; 200_000]).await.expect("write") });
        let captured = capture(receiver, &opened(), Path::new("/dev/full"), 0, None, None)
            .await
            .expect("capture");
        writer
            .await
            .expect("every byte was read: the writer never blocked");
        assert_eq!((captured.written, captured.lost), (200_000, 200_000));
        assert_eq!(captured.kept(), 0);
        assert_eq!(
            captured.lost_because.as_deref(),
            Some("no space left on device")
        );
    }

    /// Copies `content` through `copy_capped` and returns what the file keeps.
    fn copied(cap: u64, content: &[u8]) -> (String, u64, u64) {
        let dir = tempfile::tempdir().expect("temp dir");
        let source_path = dir.path().join("source");
        std::fs::write(&source_path, content).expect("write");
        let mut source = File::open(&source_path).expect("open");
        let path = dir.path().join("stdout");
        let captured = copy_capped(&mut source, content.len() as u64, &path, cap).expect("copy");
        (
            std::fs::read_to_string(&path).expect("read"),
            captured.written,
            captured.dropped,
        )
    }

    #[test]
    fn a_copied_file_keeps_what_a_live_stream_would() {
        let alphabet = b"abcdefghijklmnopqrstuvwxyz";
        for cap in [0, 1, 2, 3, 10, 11, 17, 25, 26, 39, 40, 100] {
            for len in [0, 1, 5, 10, 14, 15, 16, 26] {
                let content = &alphabet[..len];
                let live = through_sink(cap, &[content]);
                assert_eq!(copied(cap, content), live, "cap {cap}, {len} bytes");
            }
        }
    }

    #[test]
    fn a_cap_of_one_byte_keeps_one_byte() {
        let marker = "\n[... speedrack dropped 2 bytes here: output_max_bytes is 1 ...]\n";
        assert_eq!(
            through_sink(1, &[b"ab", b"c"]),
            (format!("a{marker}"), 3, 2)
        );
    }

    #[test]
    fn matches_lines_across_chunks() {
        let pattern = Regex::new("ERR(OR)?:").expect("regex");
        let mut matcher = LineMatcher::new(&pattern);
        matcher.feed(b"all good\nan ER");
        matcher.feed(b"ROR: disk full\nlater ERR: again\n");
        assert_eq!(matcher.finish().as_deref(), Some("an ERROR: disk full"));
        let mut unterminated = LineMatcher::new(&pattern);
        unterminated.feed(b"fine\nERR: no newline at the end");
        assert_eq!(
            unterminated.finish().as_deref(),
            Some("ERR: no newline at the end")
        );
        let mut clean = LineMatcher::new(&pattern);
        clean.feed(b"fine\nE\nRR:\n");
        assert_eq!(clean.finish(), None);
    }
}
