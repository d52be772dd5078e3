//! History writes the database refused (a full disk, mostly), kept in a bounded queue and
//! retried with backoff from the loop: a full disk delays the record of a run's end or of a
//! fire, and loses it only if space does not come back before the daemon stops (the run is then
//! closed as interrupted at the next start) or the queue overflows.
//!
//! It owns no timer and never blocks: the loop sleeps until `retry_at` alongside the fires.
//! What to write is decided by the callers; this queue only keeps and replays.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::config::TaskName;
use crate::history::{HistoryError, LostRun, Store};
use crate::run::RunRecord;

/// Writes kept at most; beyond, new ones are dropped (and logged) rather than grow memory.
pub const CAPACITY: usize = 10_000;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// A full disk is cheap to ask again; space that returns is noticed within this.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One refused write.
#[derive(Debug, Clone)]
pub enum Write {
    /// How a run ended: the run, with its end.
    Finish(Box<RunRecord>),
    /// Fires whose runs never started because they could not be recorded.
    Lost {
        last_fires: Vec<(TaskName, DateTime<Utc>)>,
        /// Fires of the same batch queued to start later: owed, so that moving the last fires
        /// does not lose them.
        owed: Vec<(TaskName, DateTime<Utc>)>,
        runs: Vec<LostRun>,
    },
}

/// A write that landed on a retry: the runs it recorded, as history now holds them.
#[derive(Debug)]
pub enum Landed {
    Finish(Box<RunRecord>),
    Lost(Vec<RunRecord>),
}

#[derive(Debug, Default)]
pub struct PendingWrites {
    queue: VecDeque<Write>,
    backoff: Duration,
    retry_at: Option<Instant>,
}

impl PendingWrites {
    /// Keeps a refused write for later; gives it back when the queue is full.
    pub fn push(&mut self, write: Write, now: Instant) -> Result<(), Box<Write>> {
        if self.queue.len() >= CAPACITY {
            return Err(Box::new(write));
        }
        self.queue.push_back(write);
        if self.retry_at.is_none() {
            self.backoff = FIRST_BACKOFF;
            self.retry_at = Some(now + self.backoff);
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// When the loop should call `retry`; `None` with nothing pending.
    pub fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// Replays writes in order until one is refused again (then backs off) or none is left.
    pub fn retry(
        &mut self,
        history: &dyn Store,
        now: Instant,
    ) -> (Vec<Landed>, Option<HistoryError>) {
        let mut landed = Vec::new();
        while let Some(write) = self.queue.pop_front() {
            match apply(history, &write) {
                Ok(done) => landed.push(done),
                Err(error) => {
                    self.queue.push_front(write);
                    self.backoff = (self.backoff * 2).clamp(FIRST_BACKOFF, MAX_BACKOFF);
                    self.retry_at = Some(now + self.backoff);
                    return (landed, Some(error));
                }
            }
        }
        self.retry_at = None;
        (landed, None)
    }
}

/// Performs one write.
pub fn apply(history: &dyn Store, write: &Write) -> Result<Landed, HistoryError> {
    match write {
        Write::Finish(record) => {
            if let Some(end) = &record.end {
                history.finish_run(record.id, end)?;
            }
            Ok(Landed::Finish(record.clone()))
        }
        Write::Lost {
            last_fires,
            owed,
            runs,
        } => {
            let ids = history.record_lost(last_fires, owed, runs)?;
            Ok(Landed::Lost(
                ids.into_iter()
                    .zip(runs)
                    .filter_map(|(id, run)| Some(run.record(id?)))
                    .collect(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_is_bounded_and_backs_off_up_to_its_cap() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = crate::history::SqliteStore::open(dir.path()).expect("open");
        let now = Instant::now();
        let mut writes = PendingWrites::default();
        let lost = || Write::Lost {
            last_fires: Vec::new(),
            owed: Vec::new(),
            runs: Vec::new(),
        };
        for _ in 0..CAPACITY {
            assert!(writes.push(lost(), now).is_ok());
        }
        assert!(writes.push(lost(), now).is_err(), "full");
        assert_eq!(writes.retry_at(), Some(now + FIRST_BACKOFF));
        let (landed, error) = writes.retry(&history, now);
        assert_eq!((landed.len(), error.is_none()), (CAPACITY, true));
        assert_eq!((writes.len(), writes.retry_at()), (0, None));
    }
}
