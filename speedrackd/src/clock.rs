//! The only code that reads wall-clock time.
//!
//! Everything else receives `now` as a parameter. Tests run the runtime on tokio's paused time
//! with [`TokioClock`], whose wall time advances exactly as tokio's virtual time does.

use chrono::{DateTime, Utc};

/// A source of the current wall-clock instant.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's real-time clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(
        clippy::disallowed_methods,
        reason = "this is the one place that reads the clock"
    )]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Wall time derived from tokio's monotonic clock: `start` plus tokio time elapsed since
/// creation. Under `tokio::time::pause` it moves only when tokio's time does.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start: DateTime<Utc>,
    origin: tokio::time::Instant,
}

impl TokioClock {
    pub fn starting_at(start: DateTime<Utc>) -> TokioClock {
        TokioClock {
            start,
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed =
            chrono::Duration::from_std(self.origin.elapsed()).unwrap_or(chrono::Duration::MAX);
        self.start + elapsed
    }
}
