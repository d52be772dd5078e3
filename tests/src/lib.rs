//! Harness for black-box tests: the real `speedrackd` and `speedrackctl` binaries, started on a
//! temp socket and data dir, driven over the real gRPC API and command line.
//!
//! It only starts, waits and observes; what to assert lives in the tests. Waiting is always on
//! an event (a log line, an API event, a process exit) with a timeout, never a bare sleep.

mod binaries;
pub mod browser;
pub mod cluster;
mod daemon;
mod events;
pub mod files;
pub mod grpcio;
pub mod history_db;
pub mod procs;
pub mod receiver;
pub mod smtp;
pub mod sse;
pub mod web;
pub mod wide;

pub use binaries::{binary, build_binaries};
pub use daemon::{Ctl, Daemon, DaemonBuilder, wait_with_timeout};
pub use events::EventWatch;

/// The name of the user the tests run as, as the daemon records it.
pub fn current_user() -> String {
    let output = std::process::Command::new("id")
        .arg("-un")
        .output()
        .expect("id runs");
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// How long any single wait in a test may take before the test fails.
pub const WAIT: std::time::Duration = std::time::Duration::from_secs(15);
