//! Waiting for a file to appear, through inotify on its directory, so no test looks for it
//! on a timer; and gates, fifos that hold a run until the test lets it go, so no test needs
//! its commands to finish inside a run's `sleep`. It only waits: what the file must hold, and
//! when to open a gate, is each test's own business.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::inotify;

use crate::WAIT;

/// A fifo that a run's command waits on ([`Gate::wait`]) until the test opens it.
pub struct Gate {
    dir: tempfile::TempDir,
}

impl Gate {
    pub fn new() -> Gate {
        let dir = tempfile::tempdir().expect("temp dir");
        nix::unistd::mkfifo(&dir.path().join("gate"), nix::sys::stat::Mode::S_IRWXU)
            .expect("make the gate's fifo");
        Gate { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("gate")
    }

    /// A shell command that waits until the gate opens. A test that fails before opening it
    /// leaves the run waiting a minute at most.
    pub fn wait(&self) -> String {
        // `--foreground` keeps it in the run's process group, where a kill of the run reaches it.
        format!(
            "timeout --foreground 60 cat {} >/dev/null",
            self.path().display()
        )
    }

    /// Lets every run waiting on the gate go: they read an end of file once it is closed.
    /// Waits, up to `WAIT`, for a run to be waiting, so a run that has started but not yet
    /// reached its wait is let go as well.
    pub fn open(&self) {
        drop(self.hold());
    }

    /// Waits, up to `WAIT`, until a run waits on the gate, and keeps it waiting until the
    /// returned handle is dropped.
    pub fn hold(&self) -> std::fs::File {
        let path = self.path();
        let (done, opened) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(std::fs::OpenOptions::new().write(true).open(&path));
        });
        opened
            .recv_timeout(WAIT)
            .expect("a run waits on the gate")
            .expect("open the gate's fifo")
    }
}

/// Lets go whatever run waits on the gate when the test ends, so none is left waiting its
/// minute: opening without blocking fails when no run waits, which is fine here.
impl Drop for Gate {
    fn drop(&mut self) {
        let flags = rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::NONBLOCK;
        let _ = rustix::fs::open(self.path(), flags, rustix::fs::Mode::empty());
    }
}

impl Default for Gate {
    fn default() -> Gate {
        Gate::new()
    }
}

/// Waits until `path` exists, up to `limit`; whether it does.
pub fn wait_for_file(path: &Path, limit: Duration) -> bool {
    let dir = path.parent().expect("a file has a directory");
    wait_for_change(dir, limit, || path.exists())
}

/// Waits until `done` holds, up to `limit`, looking again whenever a file in `dir` is made,
/// renamed into place, written (a database commit writes its log) or removed; whether it holds.
pub fn wait_for_change(dir: &Path, limit: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    let watch = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)
        .expect("an inotify instance");
    // Made, renamed into place, written, closed after writing or removed: any may be the last
    // step.
    let wanted = inotify::WatchFlags::CREATE
        | inotify::WatchFlags::MOVED_TO
        | inotify::WatchFlags::MODIFY
        | inotify::WatchFlags::CLOSE_WRITE
        | inotify::WatchFlags::DELETE;
    inotify::add_watch(&watch, dir, wanted)
        .unwrap_or_else(|error| panic!("watch {}: {error}", dir.display()));
    // Looked at only once the watch exists, so a change made in between is not missed.
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if done() {
            return true;
        }
        if left.is_zero() {
            return false;
        }
        let timeout = Timespec::try_from(left).expect("a test's wait fits in a timespec");
        let mut polled = [PollFd::new(&watch, PollFlags::IN)];
        match rustix::event::poll(&mut polled, Some(&timeout)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(error) => panic!("poll the watch on {}: {error}", dir.display()),
        }
        drain(&watch);
    }
}

/// Reads every event queued, so the next poll blocks until a new one.
fn drain(watch: &impl std::os::fd::AsFd) {
    let mut buffer = [0_u8; 4096];
    while rustix::io::read(watch, &mut buffer).is_ok_and(|read| read > 0) {}
}
