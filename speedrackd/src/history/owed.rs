//! Owed fires: scheduled instants the daemon has already passed (its task's last fire is at or
//! after them) whose run has not started yet — catch-up fires, and fires queued behind a run.
//!
//! With them, each scheduled instant is in exactly one of three states that survive kill -9:
//! not reached (after the task's last fire), owed (a row here), or started (a run row, written
//! in the same transaction that deletes its owed row). This module stores those rows; deciding
//! which fires are owed is the runtime's.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::{HistoryError, SqliteStore, instant};
use crate::config::TaskName;

/// What to persist for one task at start, once its missed fires are decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissedPlan {
    pub task: TaskName,
    /// Every instant up to here is decided (owed or dropped); `None` leaves the last fire alone.
    pub decided_until: Option<DateTime<Utc>>,
    /// The fires still to run, replacing whatever was owed before.
    pub owed: Vec<DateTime<Utc>>,
}

impl SqliteStore {
    /// Every owed fire, per task, oldest first.
    pub(super) fn owed_fires(&self) -> Result<HashMap<TaskName, Vec<DateTime<Utc>>>, HistoryError> {
        let conn = self.reader()?;
        let mut stmt =
            conn.prepare_cached("SELECT task, due_us FROM owed_fires ORDER BY due_us")?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        let mut out: HashMap<TaskName, Vec<DateTime<Utc>>> = HashMap::new();
        for row in rows {
            let (name, micros) = row?;
            if let Some(name) = TaskName::parse_normalised(&name) {
                out.entry(name).or_default().push(instant(micros));
            }
        }
        Ok(out)
    }

    /// Persists the start's decisions about missed fires, in one transaction, before any of
    /// them starts: a crash after this runs each owed fire once at the next start, and never a
    /// fire decided here again.
    pub(super) fn settle_missed(&self, plans: &[MissedPlan]) -> Result<(), HistoryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for plan in plans {
            tx.execute(
                "DELETE FROM owed_fires WHERE task = ?1",
                params![plan.task.as_str()],
            )?;
            let owed: Vec<(TaskName, DateTime<Utc>)> = plan
                .owed
                .iter()
                .map(|due| (plan.task.clone(), *due))
                .collect();
            insert_owed(&tx, &owed)?;
            if let Some(until) = plan.decided_until {
                set_last_fires(&tx, &[(plan.task.clone(), until)])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

/// Records fires as owed (a fire already owed stays one row).
pub(super) fn insert_owed(
    conn: &Connection,
    owed: &[(TaskName, DateTime<Utc>)],
) -> rusqlite::Result<()> {
    let mut stmt =
        conn.prepare_cached("INSERT OR IGNORE INTO owed_fires (task, due_us) VALUES (?1, ?2)")?;
    for (task, due) in owed {
        stmt.execute(params![task.as_str(), due.timestamp_micros()])?;
    }
    Ok(())
}

/// The owed fire a starting scheduled run pays, if it was one.
pub(super) fn pay_owed(
    conn: &Connection,
    task: &TaskName,
    due: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM owed_fires WHERE task = ?1 AND due_us = ?2")?
        .execute(params![task.as_str(), due.timestamp_micros()])?;
    Ok(())
}

/// Moves tasks' last fires forward (never back: a late owed fire must not rewind the phase).
pub(super) fn set_last_fires<'a>(
    conn: &Connection,
    fires: impl IntoIterator<Item = &'a (TaskName, DateTime<Utc>)>,
) -> rusqlite::Result<()> {
    // Fetched from the cache once for all: each fetch hashes the statement's text and
    // allocates its key again.
    let mut stmt = conn.prepare_cached(
        "INSERT INTO task_fires (task, last_fire_us) VALUES (?1, ?2)
         ON CONFLICT (task) DO UPDATE SET last_fire_us = MAX(last_fire_us, excluded.last_fire_us)",
    )?;
    for (task, at) in fires {
        stmt.execute(params![task.as_str(), at.timestamp_micros()])?;
    }
    Ok(())
}

impl MissedPlan {
    /// A task whose owed fires are forgotten: suspended, removed, or broken now.
    pub fn dropped(task: TaskName) -> MissedPlan {
        MissedPlan {
            task,
            decided_until: None,
            owed: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::history::NewRun;
    use crate::history::tests::{Subject, conformance};
    use crate::run::Trigger;

    conformance!(owed_fires_are_paid_by_their_scheduled_run_and_the_last_fire_never_goes_back);

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + seconds, 0)
            .single()
            .expect("valid instant")
    }

    fn owed_fires_are_paid_by_their_scheduled_run_and_the_last_fire_never_goes_back(
        subject: &Subject,
    ) {
        let history = subject.open();
        let task = TaskName::normalise("a").expect("name");
        let plan = MissedPlan {
            task: task.clone(),
            decided_until: Some(at(30)),
            owed: vec![at(10), at(20), at(30)],
        };
        history.settle_missed(&[plan]).expect("settle");
        let run = |due, trigger| NewRun {
            task: &task,
            trigger,
            scheduled_at: due,
            started_at: at(31),
            definition: "",
            pays_owed: *trigger == Trigger::Schedule,
            claim: crate::history::Claim::None,
        };
        history
            .insert_run(&run(at(10), &Trigger::Schedule))
            .expect("a catch-up run");
        let manual = Trigger::Manual { by: "x".into() };
        history
            .insert_run(&run(at(20), &manual))
            .expect("a manual run pays nothing");
        let owed = history.owed_fires().expect("read");
        assert_eq!(owed.get(&task), Some(&vec![at(20), at(30)]));
        history
            .record_starts(&[(task.clone(), at(5))], &[(task.clone(), at(40))], &[])
            .expect("a late fire");
        assert_eq!(
            history.last_fires().expect("read").get(&task),
            Some(&at(30))
        );
        history
            .settle_missed(&[MissedPlan::dropped(task.clone())])
            .expect("drop");
        assert!(history.owed_fires().expect("read").is_empty());
    }
}
