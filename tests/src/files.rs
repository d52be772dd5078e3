//! Waiting for a file to appear, through inotify on its directory, so no test looks for it
//! on a timer. It only waits: what the file must hold is each test's own business.

use std::path::Path;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::inotify;

/// Waits until `path` exists, up to `limit`; whether it does.
pub fn wait_for_file(path: &Path, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let dir = path.parent().expect("a file has a directory");
    let watch = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)
        .expect("an inotify instance");
    // Made, renamed into place, or closed after writing: any of them may be the last step.
    let wanted = inotify::WatchFlags::CREATE
        | inotify::WatchFlags::MOVED_TO
        | inotify::WatchFlags::CLOSE_WRITE;
    inotify::add_watch(&watch, dir, wanted)
        .unwrap_or_else(|error| panic!("watch {}: {error}", dir.display()));
    // Looked at only once the watch exists, so a file made in between is not missed.
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if path.exists() || left.is_zero() {
            return path.exists();
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
