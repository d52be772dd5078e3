//! What an import did, per task and in all, and its rendering for the terminal. Plain data.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::config::TaskName;

/// Reasons shown per task (and DST notes in all); the rest are counted.
const SHOWN: usize = 20;

/// One task directory's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskOutcome {
    /// The task key its runs were recorded under.
    pub task: TaskName,
    pub imported: u64,
    /// Imported by an earlier import: left as they are.
    pub skipped: u64,
    /// Entries not imported: name and why.
    pub unreadable: Vec<(String, String)>,
    /// Executions not imported because speedrack has run the task already (see `HELD_BACK`).
    pub held_back: u64,
}

/// Why executions of a task speedrack has run are not imported.
pub const HELD_BACK: &str = "speedrack has run this task already, and a task's history is \
    ordered by when runs were recorded (retention keeps the newest): import before the daemon \
    first runs the task";

impl TaskOutcome {
    pub fn new(task: TaskName) -> TaskOutcome {
        TaskOutcome {
            task,
            imported: 0,
            skipped: 0,
            unreadable: Vec::new(),
            held_back: 0,
        }
    }
}

/// What became of 0.6.1's suspended tasks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SuspendedOutcome {
    pub file: PathBuf,
    /// Suspended here now.
    pub suspended: Vec<TaskName>,
    /// Already suspended or resumed here: that choice is kept.
    pub kept: Vec<TaskName>,
    /// Lines that name no task, and why.
    pub unreadable: Vec<(String, String)>,
}

/// Everything an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub jobs: PathBuf,
    /// By task directory name.
    pub tasks: BTreeMap<String, TaskOutcome>,
    /// Entries of the job directory that are no task's, and why.
    pub unreadable: Vec<(String, String)>,
    /// `None` when no suspended-tasks file was given or found.
    pub suspended: Option<SuspendedOutcome>,
    /// Runs an interrupted import had recorded whose output it now put in place.
    pub resumed: usize,
    /// Start times read around a DST change, and how.
    pub time_notes: Vec<String>,
}

impl Summary {
    pub fn imported(&self) -> u64 {
        self.tasks.values().map(|task| task.imported).sum()
    }

    pub fn skipped(&self) -> u64 {
        self.tasks.values().map(|task| task.skipped).sum()
    }

    pub fn unreadable(&self) -> usize {
        self.unreadable.len()
            + self
                .tasks
                .values()
                .map(|task| task.unreadable.len())
                .sum::<usize>()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "imported {} runs from {}: {} skipped as already imported, {} unreadable",
            self.imported(),
            self.jobs.display(),
            self.skipped(),
            self.unreadable()
        )?;
        if self.resumed > 0 {
            writeln!(
                f,
                "finished placing the output of {} runs an interrupted import left",
                self.resumed
            )?;
        }
        for (dir, outcome) in &self.tasks {
            let key = match outcome.task.as_str() == dir {
                true => String::new(),
                false => format!(" (as task {})", outcome.task),
            };
            writeln!(
                f,
                "  {dir}{key}: {} imported, {} skipped, {} unreadable",
                outcome.imported,
                outcome.skipped,
                outcome.unreadable.len()
            )?;
            reasons(f, "    ", &outcome.unreadable)?;
            if outcome.held_back > 0 {
                writeln!(f, "    {} not imported: {HELD_BACK}", outcome.held_back)?;
            }
        }
        if !self.unreadable.is_empty() {
            writeln!(f, "  not task directories:")?;
            reasons(f, "    ", &self.unreadable)?;
        }
        match &self.suspended {
            Some(outcome) => suspended(f, outcome)?,
            None => writeln!(
                f,
                "suspended tasks: none imported (no suspended-tasks file given or found)"
            )?,
        }
        if !self.time_notes.is_empty() {
            writeln!(f, "start times read around a DST change:")?;
            lines(f, "  ", self.time_notes.iter())?;
        }
        Ok(())
    }
}

fn suspended(f: &mut fmt::Formatter<'_>, outcome: &SuspendedOutcome) -> fmt::Result {
    // " (a, b)", or nothing for none.
    let names = |tasks: &[TaskName]| match tasks {
        [] => String::new(),
        tasks => {
            let names: Vec<&str> = tasks.iter().map(TaskName::as_str).collect();
            format!(" ({})", names.join(", "))
        }
    };
    writeln!(
        f,
        "suspended tasks from {}: {} suspended{}, {} kept as already set here{}",
        outcome.file.display(),
        outcome.suspended.len(),
        names(&outcome.suspended),
        outcome.kept.len(),
        names(&outcome.kept)
    )?;
    reasons(f, "  ", &outcome.unreadable)
}

fn reasons(f: &mut fmt::Formatter<'_>, indent: &str, reasons: &[(String, String)]) -> fmt::Result {
    lines(
        f,
        indent,
        reasons.iter().map(|(name, why)| format!("{name}: {why}")),
    )
}

fn lines<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    indent: &str,
    lines: impl ExactSizeIterator<Item = T>,
) -> fmt::Result {
    let total = lines.len();
    for line in lines.take(SHOWN) {
        writeln!(f, "{indent}{line}")?;
    }
    if total > SHOWN {
        writeln!(f, "{indent}... and {} more", total - SHOWN)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_totals_tasks_reasons_and_suspension() {
        let task = |name: &str| TaskName::normalise(name).expect("name");
        let mut summary = Summary {
            jobs: PathBuf::from("/old/jobs"),
            ..Summary::default()
        };
        summary.tasks.insert(
            "backup".to_owned(),
            TaskOutcome {
                task: task("backup"),
                imported: 3,
                skipped: 1,
                unreadable: vec![("yesterday".to_owned(), "not a start time".to_owned())],
                held_back: 0,
            },
        );
        summary.suspended = Some(SuspendedOutcome {
            file: PathBuf::from("/old/speedrack.suspended"),
            suspended: vec![task("backup")],
            kept: Vec::new(),
            unreadable: Vec::new(),
        });
        assert_eq!(
            summary.to_string(),
            "imported 3 runs from /old/jobs: 1 skipped as already imported, 1 unreadable\n\
             \x20 backup: 3 imported, 1 skipped, 1 unreadable\n\
             \x20   yesterday: not a start time\n\
             suspended tasks from /old/speedrack.suspended: 1 suspended (backup), 0 kept as already set here\n"
        );
    }

    #[test]
    fn long_lists_are_cut_with_a_count() {
        let summary = Summary {
            time_notes: (0..25).map(|n| format!("note {n}")).collect(),
            ..Summary::default()
        };
        let text = summary.to_string();
        assert!(text.contains("  note 19\n  ... and 5 more\n"), "{text}");
        assert!(!text.contains("note 20"), "{text}");
    }
}
