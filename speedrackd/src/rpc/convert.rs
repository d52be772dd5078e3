//! Domain types into speedrack.v1 messages. The only place where both meet, so that neither
//! the runtime nor the history ever sees a prost struct.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use speedrack_proto::v1 as pb;

use crate::config::{ConfError, NodeName, Overlap};
use crate::reload::ReloadDiff;
use crate::run::{Exit, KillCause, RunEnd, RunRecord, RunStatus, Trigger};

pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn duration(length: chrono::Duration) -> prost_types::Duration {
    let seconds = length.num_seconds();
    let nanos = (length - chrono::Duration::seconds(seconds))
        .num_nanoseconds()
        .unwrap_or(0);
    prost_types::Duration {
        seconds,
        nanos: i32::try_from(nanos).unwrap_or(0),
    }
}

fn std_duration(length: std::time::Duration) -> prost_types::Duration {
    duration(chrono::Duration::from_std(length).unwrap_or(chrono::Duration::MAX))
}

pub fn run_status(status: RunStatus) -> pb::RunStatus {
    match status {
        RunStatus::Running => pb::RunStatus::Running,
        RunStatus::Success => pb::RunStatus::Success,
        RunStatus::Failure => pb::RunStatus::Failure,
        RunStatus::ExecutionError => pb::RunStatus::ExecutionError,
        RunStatus::Interrupted => pb::RunStatus::Interrupted,
    }
}

pub fn overlap(overlap: Overlap) -> pb::Overlap {
    match overlap {
        Overlap::Skip => pb::Overlap::Skip,
        Overlap::Queue => pb::Overlap::Queue,
        Overlap::Parallel => pb::Overlap::Parallel,
        Overlap::Replace => pb::Overlap::Replace,
    }
}

/// Free text from the tasks file (description, command, definition) past this many bytes is cut:
/// the file is the full record, and one item must stay far below a page (`LIST_PAGE_BYTES`).
pub const MAX_TEXT: usize = 256 << 10;

/// `text`, or its first `MAX_TEXT` bytes (at a character boundary) and a note saying so.
pub fn bounded_text(text: &str) -> String {
    if text.len() <= MAX_TEXT {
        return text.to_owned();
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n… (cut: {} bytes in all; the tasks file has the whole text)",
        &text[..end],
        text.len()
    )
}

/// A run as GetRun shows it: everything, the definition it executed included.
pub fn run_detail(record: &RunRecord) -> pb::Run {
    pb::Run {
        definition: bounded_text(&record.definition),
        ..run(record)
    }
}

/// The node of runs whose history does not say: a daemon on its own store (SQLite) ran them
/// all. Set once, at start, from the `node` setting.
static RUNS_NODE: OnceLock<String> = OnceLock::new();

/// Names this daemon's node as the node of every run; only the first call counts (the node
/// name is read once, at start).
pub fn set_runs_node(node: &NodeName) {
    let _ = RUNS_NODE.set(node.to_string());
}

/// A run as lists and events show it: everything but the definition, which only GetRun sends.
pub fn run(record: &RunRecord) -> pb::Run {
    let (trigger, requested_by) = match &record.trigger {
        Trigger::Schedule => (pb::Trigger::Schedule, String::new()),
        Trigger::Manual { by } => (pb::Trigger::Manual, by.clone()),
        Trigger::Imported => (pb::Trigger::Imported, String::new()),
    };
    let run = pb::Run {
        id: record.id.0,
        task: record.task.to_string(),
        trigger: trigger.into(),
        requested_by,
        scheduled_at: Some(timestamp(record.scheduled_at)),
        started_at: Some(timestamp(record.started_at)),
        status: run_status(record.status()).into(),
        notification_error: record.notification_error.clone(),
        node: if record.node.is_empty() {
            RUNS_NODE.get().cloned().unwrap_or_default()
        } else {
            record.node.clone()
        },
        ..pb::Run::default()
    };
    match &record.end {
        Some(end) => with_end(run, end, record.started_at),
        None => run,
    }
}

fn with_end(run: pb::Run, end: &RunEnd, started_at: DateTime<Utc>) -> pb::Run {
    pb::Run {
        finished_at: Some(timestamp(end.finished_at)),
        exit_code: match end.exit {
            Some(Exit::Code(code)) => Some(code),
            _ => None,
        },
        signal: match end.exit {
            Some(Exit::Signal(signal)) => Some(signal),
            _ => None,
        },
        stdout_bytes: end.stdout_bytes,
        stderr_bytes: end.stderr_bytes,
        op_error: end.op_error.clone(),
        reason: end.reason.clone(),
        duration: Some(duration(end.finished_at - started_at)),
        killed_by: end.killed_by.clone(),
        kill_cause: kill_cause(end.kill_cause).into(),
        replaced_by_run_id: end.replaced_by.map_or(0, |run| run.0),
        max_rss_bytes: end.usage.max_rss_bytes,
        cpu_user: Some(std_duration(end.usage.cpu_user)),
        cpu_system: Some(std_duration(end.usage.cpu_system)),
        output_dropped_bytes: end.output_dropped_bytes,
        ..run
    }
}

fn kill_cause(cause: Option<KillCause>) -> pb::KillCause {
    match cause {
        None => pb::KillCause::Unspecified,
        Some(KillCause::User) => pb::KillCause::User,
        Some(KillCause::Timeout) => pb::KillCause::Timeout,
        Some(KillCause::Replaced) => pb::KillCause::Replaced,
        Some(KillCause::Shutdown) => pb::KillCause::Shutdown,
    }
}

pub fn conf_error(task: &str, error: &ConfError) -> pb::ConfError {
    pb::ConfError {
        file: error.file.display().to_string(),
        line: error
            .line
            .and_then(|line| u32::try_from(line).ok())
            .unwrap_or(0),
        key: error.key.clone().unwrap_or_default(),
        message: error.message.clone(),
        task: task.to_owned(),
    }
}

pub fn reload_diff(diff: &ReloadDiff) -> pb::ReloadResponse {
    let names = |list: &[crate::config::TaskName]| list.iter().map(ToString::to_string).collect();
    pb::ReloadResponse {
        added: names(&diff.added),
        removed: names(&diff.removed),
        changed: names(&diff.changed),
        unchanged: names(&diff.unchanged),
        conf_errors: diff
            .conf_errors
            .iter()
            .map(|(task, error)| conf_error(task, error))
            .collect(),
        other_nodes: Vec::new(),
        settings_changed: diff.settings_changed.clone(),
        settings_at_next_start: diff.settings_at_next_start.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_names_the_node_history_recorded_else_this_one() {
        // Every Service in this process names the same node (test_api), so the order in which
        // tests set it does not matter.
        set_runs_node(&NodeName::parse(super::super::test_api::NODE).expect("a node name"));
        let record = |node: &str| RunRecord {
            id: crate::run::RunId(1),
            task: crate::config::TaskName::parse_normalised("t").expect("a task name"),
            trigger: Trigger::Schedule,
            scheduled_at: DateTime::<Utc>::UNIX_EPOCH,
            started_at: DateTime::<Utc>::UNIX_EPOCH,
            definition: String::new(),
            notification_error: String::new(),
            node: node.to_owned(),
            end: None,
        };
        assert_eq!(run(&record("")).node, super::super::test_api::NODE);
        assert_eq!(run(&record("beta")).node, "beta");
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary_with_a_note() {
        assert_eq!(bounded_text("short"), "short");
        let exact = "a".repeat(MAX_TEXT);
        assert_eq!(bounded_text(&exact), exact);
        // A two-byte character straddles the limit: the cut falls before it.
        let long = format!("{}é{}", "a".repeat(MAX_TEXT - 1), "b".repeat(100));
        let cut = bounded_text(&long);
        assert!(cut.starts_with(&"a".repeat(MAX_TEXT - 1)), "kept the head");
        assert!(
            !cut.contains('é') && !cut.contains("bb"),
            "dropped the tail"
        );
        assert!(
            cut.ends_with(&format!(
                "(cut: {} bytes in all; the tasks file has the whole text)",
                long.len()
            )),
            "{}",
            &cut[MAX_TEXT - 10..]
        );
    }
}
