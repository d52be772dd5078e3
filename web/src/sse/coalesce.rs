//! Coalescing task rows for the tasks page: changes of the same task within a short window
//! become one row render, however many events the daemon sent.
//!
//! Pure: it takes `now` and says when the rows are due; the relay (`relay.rs`) sleeps until then
//! and renders them, each with the runs its event carried.

use std::time::Duration;

use speedrack_proto::v1 as pb;
use tokio::time::Instant;

/// How long the first change of a burst waits for more. A run's start and the first changes
/// after it arrive together; the page then swaps once.
pub const WINDOW: Duration = Duration::from_millis(150);

/// Distinct rows held at most. Past this, a patch nears the size of the page itself, and the
/// relay has the page refreshed instead.
pub const MAX_ROWS: usize = 32;

/// Rows waiting to be rendered, each with its newest state.
#[derive(Debug, Default)]
pub struct PendingRows {
    rows: Vec<pb::Task>,
    due: Option<Instant>,
}

/// What adding a row did.
#[derive(Debug, PartialEq, Eq)]
pub enum Added {
    /// Held, to be rendered when due.
    Held,
    /// Too many distinct rows: nothing is held any more, the caller refreshes the whole page.
    Overflow,
}

impl PendingRows {
    /// Holds `task`'s newest state; the first row of a burst makes the rows due `WINDOW` later.
    pub fn add(&mut self, task: pb::Task, now: Instant) -> Added {
        if let Some(held) = self.rows.iter_mut().find(|held| held.name == task.name) {
            *held = task;
            return Added::Held;
        }
        if self.rows.len() == MAX_ROWS {
            self.clear();
            return Added::Overflow;
        }
        self.rows.push(task);
        self.due.get_or_insert(now + WINDOW);
        Added::Held
    }

    /// When the held rows are to be rendered; `None` when none are held.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// The held rows, in the order their tasks first changed; nothing is held afterwards.
    pub fn take(&mut self) -> Vec<pb::Task> {
        self.due = None;
        std::mem::take(&mut self.rows)
    }

    /// Forgets the held rows (a refresh of the whole page shows them anyway).
    pub fn clear(&mut self) {
        self.take();
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(name: &str, runs: u64) -> pb::Task {
        pb::Task {
            name: name.to_owned(),
            runs_since_start: runs,
            ..pb::Task::default()
        }
    }

    #[test]
    fn a_burst_of_one_task_is_one_row_with_its_newest_state() {
        let start = Instant::now();
        let mut pending = PendingRows::default();
        assert_eq!(pending.due(), None);
        for runs in 1..=5 {
            let now = start + Duration::from_millis(runs * 10);
            assert_eq!(pending.add(task("a", runs), now), Added::Held);
        }
        assert_eq!(pending.add(task("b", 1), start), Added::Held);
        assert_eq!(
            pending.due(),
            Some(start + Duration::from_millis(10) + WINDOW),
            "later changes do not push the first one back"
        );
        let rows = pending.take();
        let shown: Vec<(&str, u64)> = rows
            .iter()
            .map(|row| (row.name.as_str(), row.runs_since_start))
            .collect();
        assert_eq!(shown, [("a", 5), ("b", 1)]);
        assert!(pending.is_empty());
        assert_eq!(pending.due(), None);
    }

    #[test]
    fn too_many_distinct_rows_become_one_refresh() {
        let now = Instant::now();
        let mut pending = PendingRows::default();
        for n in 0..MAX_ROWS {
            assert_eq!(pending.add(task(&format!("t{n}"), 1), now), Added::Held);
        }
        assert_eq!(pending.add(task("t0", 2), now), Added::Held, "a held task");
        assert_eq!(pending.add(task("one_more", 1), now), Added::Overflow);
        assert!(pending.is_empty());
        assert_eq!(pending.due(), None);
    }
}
