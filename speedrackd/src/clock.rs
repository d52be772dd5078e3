//! The only code that reads wall-clock time.
//!
//! Everything else receives `now` as a parameter. Tests run the runtime on tokio's paused time
//! with [`TokioClock`], whose wall time advances exactly as tokio's virtual time does.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// How early the system clock's user wakes before a deadline to land on it with `settle`.
/// tokio's timer counts whole milliseconds and epoll rounds its timeout up, so an async sleep
/// ends up to about 2 ms after its deadline.
const SYSTEM_SLACK: Duration = Duration::from_millis(2);

/// A source of the current wall-clock instant.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// How long before a deadline an async sleep should end, for [`Clock::settle`] to take
    /// over. Zero for clocks that move with tokio's own (virtual) time.
    fn slack(&self) -> Duration {
        Duration::ZERO
    }

    /// Returns at `at` exactly, when that is at most [`Clock::slack`] away, by blocking the
    /// calling thread until then; otherwise returns at once.
    fn settle(&self, _at: DateTime<Utc>) {}
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

    fn slack(&self) -> Duration {
        SYSTEM_SLACK
    }

    fn settle(&self, at: DateTime<Utc>) {
        let Ok(wait) = (at - self.now()).to_std() else {
            return;
        };
        if wait > SYSTEM_SLACK {
            return;
        }
        let request = rustix::thread::Timespec {
            tv_sec: at.timestamp(),
            tv_nsec: at.timestamp_subsec_nanos().into(),
        };
        // An absolute sleep on the real-time clock ends at `at` even if the clock is set
        // meanwhile. Interrupted or refused, it costs only the precision it was for.
        let _ =
            rustix::thread::clock_nanosleep_absolute(rustix::thread::ClockId::Realtime, &request);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settling_never_returns_before_the_instant_and_never_waits_beyond_the_slack() {
        let clock = SystemClock;
        let soon = clock.now() + chrono::Duration::milliseconds(1);
        clock.settle(soon);
        assert!(clock.now() >= soon);

        let later = clock.now() + chrono::Duration::hours(1);
        clock.settle(later);
        assert!(
            clock.now() < later,
            "an instant past the slack is not waited for"
        );

        let past = clock.now() - chrono::Duration::seconds(1);
        clock.settle(past);
    }
}
