//! The pure scheduler: which tasks are due at `now`, and when to wake up next.
//!
//! A state machine over data. It does not read the clock, spawn processes, or know whether a
//! task is running; the runtime asks it `due(now)` and `next_wakeup()` and acts on the answers.
//! It is public so benchmarks can drive it directly; the daemon itself uses it only from the
//! runtime loop.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use crate::config::TaskName;
use crate::schedule::Schedule;

/// A task that the schedule says should start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fire {
    /// The task to start.
    pub task: TaskName,
    /// The instant the schedule named (the run may start a little after it).
    pub due: DateTime<Utc>,
    /// Older fires that were due too but passed unseen, oldest first.
    pub missed: Vec<DateTime<Utc>>,
}

#[derive(Debug)]
struct Entry {
    schedule: Schedule,
    /// The instant the schedule's phase counts from (load time for intervals).
    anchor: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
    suspended: bool,
}

/// Next fire times of every scheduled task, ordered for cheap `due` and `next_wakeup`.
#[derive(Debug, Default)]
pub struct Scheduler {
    entries: HashMap<TaskName, Entry>,
    queue: BTreeSet<(DateTime<Utc>, TaskName)>,
}

impl Scheduler {
    /// Schedules a task whose phase starts at `anchor` (for intervals: load time, or the last
    /// fire before a restart), first firing after `now`; replaces any earlier schedule of it.
    pub fn add(
        &mut self,
        task: TaskName,
        schedule: Schedule,
        anchor: DateTime<Utc>,
        now: DateTime<Utc>,
        suspended: bool,
    ) {
        self.remove(&task);
        let next = schedule.next_after(anchor, now);
        let entry = Entry {
            schedule,
            anchor,
            next,
            suspended,
        };
        if let (Some(next), false) = (next, suspended) {
            self.queue.insert((next, task.clone()));
        }
        self.entries.insert(task, entry);
    }

    /// Forgets a task and its queued fire; unknown tasks are ignored.
    pub fn remove(&mut self, task: &TaskName) {
        if let Some(entry) = self.entries.remove(task)
            && let Some(next) = entry.next
        {
            self.queue.remove(&(next, task.clone()));
        }
    }

    /// The schedule a task is known by, if it is scheduled.
    pub fn schedule_of(&self, task: &TaskName) -> Option<&Schedule> {
        self.entries.get(task).map(|entry| &entry.schedule)
    }

    /// Stops or restarts scheduled fires. Resuming keeps the phase: the next fire is the first
    /// one of the original schedule after `now`. Returns false for an unknown task.
    pub fn set_suspended(&mut self, task: &TaskName, suspended: bool, now: DateTime<Utc>) -> bool {
        let Some(entry) = self.entries.get_mut(task) else {
            return false;
        };
        if let Some(next) = entry.next {
            self.queue.remove(&(next, task.clone()));
        }
        entry.suspended = suspended;
        if !suspended {
            entry.next = entry.schedule.next_after(entry.anchor, now);
            if let Some(next) = entry.next {
                self.queue.insert((next, task.clone()));
            }
        }
        true
    }

    /// When the task fires next; `None` when suspended, unknown, or never again.
    pub fn next_fire(&self, task: &TaskName) -> Option<DateTime<Utc>> {
        self.entries
            .get(task)
            .filter(|entry| !entry.suspended)
            .and_then(|entry| entry.next)
    }

    /// The next `count` fires of a task after `now` by its schedule and phase, suspended or not;
    /// `None` for an unknown task.
    pub fn upcoming(
        &self,
        task: &TaskName,
        now: DateTime<Utc>,
        count: usize,
    ) -> Option<Vec<DateTime<Utc>>> {
        let entry = self.entries.get(task)?;
        Some(entry.schedule.upcoming(entry.anchor, now, count))
    }

    /// Takes every fire due at or before `now`, and schedules each task's following fire.
    ///
    /// Fires missed while the caller was not looking (a clock jump, a stalled machine) collapse
    /// into one for the newest instant that is due, listing the older ones in `missed`; the task
    /// then continues on its phase.
    pub fn due(&mut self, now: DateTime<Utc>) -> Vec<Fire> {
        let mut fires = Vec::new();
        while let Some((at, _)) = self.queue.first()
            && *at <= now
        {
            let Some((due, task)) = self.queue.pop_first() else {
                break;
            };
            let Some(entry) = self.entries.get_mut(&task) else {
                continue;
            };
            let mut missed = fires_between(&entry.schedule, entry.anchor, due, now);
            let latest_due = missed.pop().unwrap_or(due);
            entry.next = entry.schedule.next_after(entry.anchor, now);
            if let Some(next) = entry.next {
                self.queue.insert((next, task.clone()));
            }
            fires.push(Fire {
                task,
                due: latest_due,
                missed,
            });
        }
        fires
    }

    /// The earliest instant at which `due` will return something.
    pub fn next_wakeup(&self) -> Option<DateTime<Utc>> {
        self.queue.first().map(|(at, _)| *at)
    }
}

/// Fires missed catching up are counted up to this many; a task more behind than that is
/// treated as if this many were missed.
pub const MAX_MISSED: usize = 1000;

/// The fires in `[first, until]` by the schedule's phase, oldest first, at most [`MAX_MISSED`]
/// (the newest ones kept).
pub fn fires_between(
    schedule: &Schedule,
    anchor: DateTime<Utc>,
    first: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let mut fires = std::collections::VecDeque::new();
    let mut at = Some(first);
    while let Some(fire) = at.filter(|fire| *fire <= until) {
        if fires.len() == MAX_MISSED {
            fires.pop_front();
        }
        fires.push_back(fire);
        at = schedule.next_after(anchor, fire);
    }
    fires.into()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;

    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + seconds, 0)
            .single()
            .expect("valid instant")
    }

    fn name(text: &str) -> TaskName {
        TaskName::normalise(text).expect("valid name")
    }

    fn every(seconds: u64) -> Schedule {
        Schedule::Interval(Duration::from_secs(seconds))
    }

    fn fires(due: &[Fire]) -> Vec<(&str, DateTime<Utc>)> {
        due.iter()
            .map(|fire| (fire.task.as_str(), fire.due))
            .collect()
    }

    #[test]
    fn nothing_is_due_before_the_first_period() {
        let mut scheduler = Scheduler::default();
        scheduler.add(name("a"), every(10), at(0), at(0), false);
        assert_eq!(scheduler.next_wakeup(), Some(at(10)));
        assert!(scheduler.due(at(9)).is_empty());
        assert_eq!(fires(&scheduler.due(at(10))), [("a", at(10))]);
        assert_eq!(scheduler.next_wakeup(), Some(at(20)));
    }

    #[test]
    fn due_returns_every_task_due_in_time_order() {
        let mut scheduler = Scheduler::default();
        scheduler.add(name("slow"), every(30), at(0), at(0), false);
        scheduler.add(name("fast"), every(10), at(0), at(0), false);
        scheduler.add(name("mid"), every(20), at(0), at(0), false);
        assert_eq!(
            fires(&scheduler.due(at(20))),
            [("fast", at(20)), ("mid", at(20))]
        );
        assert_eq!(scheduler.next_wakeup(), Some(at(30)));
        assert_eq!(
            fires(&scheduler.due(at(30))),
            [("fast", at(30)), ("slow", at(30))]
        );
    }

    #[test]
    fn a_late_wakeup_fires_once_and_keeps_the_phase() {
        let mut scheduler = Scheduler::default();
        scheduler.add(name("a"), every(10), at(0), at(0), false);
        let due = scheduler.due(at(35));
        assert_eq!(fires(&due), [("a", at(30))]);
        assert_eq!(due[0].missed, [at(10), at(20)]);
        assert_eq!(scheduler.next_wakeup(), Some(at(40)));
    }

    #[test]
    fn a_phase_anchored_before_now_continues_after_a_restart() {
        let mut scheduler = Scheduler::default();
        // Last fired at 30 before the restart; the daemon is back at 47.
        scheduler.add(name("a"), every(10), at(30), at(47), false);
        assert_eq!(scheduler.next_fire(&name("a")), Some(at(50)));
    }

    #[test]
    fn fires_between_lists_the_phase_and_keeps_the_newest_when_capped() {
        assert_eq!(
            fires_between(&every(10), at(0), at(10), at(35)),
            [at(10), at(20), at(30)]
        );
        assert!(fires_between(&every(10), at(0), at(40), at(35)).is_empty());
        let many = fires_between(&every(1), at(0), at(1), at(5000));
        assert_eq!(
            (many.len(), many.first(), many.last()),
            (MAX_MISSED, Some(&at(4001)), Some(&at(5000)))
        );
    }

    #[test]
    fn suspended_tasks_never_fire_and_resume_on_their_phase() {
        let mut scheduler = Scheduler::default();
        scheduler.add(name("a"), every(10), at(0), at(0), false);
        assert!(scheduler.set_suspended(&name("a"), true, at(5)));
        assert_eq!(scheduler.next_wakeup(), None);
        assert_eq!(scheduler.next_fire(&name("a")), None);
        assert!(scheduler.due(at(100)).is_empty());
        assert!(scheduler.set_suspended(&name("a"), false, at(101)));
        assert_eq!(scheduler.next_fire(&name("a")), Some(at(110)));
        assert!(!scheduler.set_suspended(&name("unknown"), true, at(101)));
    }

    #[test]
    fn upcoming_fires_follow_the_phase_even_while_suspended() {
        let mut scheduler = Scheduler::default();
        scheduler.add(name("a"), every(10), at(0), at(0), true);
        assert_eq!(
            scheduler.upcoming(&name("a"), at(25), 3),
            Some(vec![at(30), at(40), at(50)])
        );
        assert_eq!(scheduler.upcoming(&name("b"), at(25), 3), None);
    }

    #[test]
    fn a_task_added_suspended_waits_for_resume() {
        let mut scheduler = Scheduler::default();
        scheduler.add(name("a"), every(10), at(0), at(0), true);
        assert_eq!(scheduler.next_wakeup(), None);
        scheduler.set_suspended(&name("a"), false, at(3));
        assert_eq!(scheduler.next_wakeup(), Some(at(10)));
    }

    #[test]
    fn removed_and_replaced_tasks_leave_no_stale_fires() {
        let mut scheduler = Scheduler::default();
        scheduler.add(name("a"), every(10), at(0), at(0), false);
        scheduler.add(name("b"), every(10), at(0), at(0), false);
        scheduler.remove(&name("a"));
        scheduler.add(name("b"), every(60), at(5), at(5), false);
        assert_eq!(scheduler.next_wakeup(), Some(at(65)));
        assert_eq!(fires(&scheduler.due(at(65))), [("b", at(65))]);
    }
}
