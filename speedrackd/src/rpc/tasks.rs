//! ListTasks and GetTask: each task as the file defines it, joined with what the runtime knows
//! now and what history remembers. Tasks that only history knows are listed as inactive.
//!
//! ListTasks is paged by encoded size (`paging`); a page token says where the next page starts
//! and which configuration it belongs to. Reading pages is `list_pages`' business.

use std::collections::HashSet;
use std::sync::Arc;

use speedrack_proto::v1 as pb;
use tonic::Status;

use super::list_pages::{Cursor, generation};
use super::paging::Budget;
use super::{Service, convert, limits};
use crate::config::{TaskEntry, TaskName};
use crate::events::TaskChange;
use crate::history::{Store, TaskHead};
use crate::runtime::{LiveState, Snapshot};

/// Most recent runs a ListTasks call may ask for per task.
const MAX_RECENT_RUNS: usize = 100;
/// Tasks whose history one read brings: a page stops within a chunk, so at most this many
/// are read in vain.
const HEADS_AT_ONCE: usize = 100;

/// What a view of a task carries besides what every list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fields {
    /// What a list or an event shows: no command.
    Summary,
    /// The command too: a list whose client asked for it.
    WithCommand,
    /// The command and the definition: GetTask.
    Whole,
}

pub async fn list_tasks(
    service: &Service,
    request: pb::ListTasksRequest,
) -> Result<pb::ListTasksResponse, Status> {
    limits::free_text("page_token", &request.page_token, limits::MAX_NAME)?;
    let snapshot = service.snapshot().await?;
    let cursor = Cursor::parse(&request.page_token, generation(&snapshot))?;
    let page = PageRequest {
        recent: (request.recent_runs as usize).min(MAX_RECENT_RUNS),
        fields: if request.with_command {
            Fields::WithCommand
        } else {
            Fields::Summary
        },
    };
    let history = Arc::clone(&service.history);
    // A listing reads history for every task (a read per hundred tasks on PostgreSQL, a few
    // per task on SQLite): with a thousand tasks that is long enough to stall the runtime loop
    // and the hosted gateway, which share the async worker threads.
    tokio::task::spawn_blocking(move || task_page(&snapshot, history.as_ref(), cursor, page))
        .await
        .map_err(|error| Status::internal(format!("task listing failed: {error}")))?
}

/// What every task on a ListTasks page carries.
#[derive(Debug, Clone, Copy)]
struct PageRequest {
    recent: usize,
    fields: Fields,
}

/// One page from `cursor` on: the file's tasks in file order, then history's others by name.
fn task_page(
    snapshot: &Snapshot,
    history: &dyn Store,
    cursor: Cursor,
    page: PageRequest,
) -> Result<pb::ListTasksResponse, Status> {
    let generation = generation(snapshot);
    let mut budget = Budget::page();
    let mut tasks = Vec::new();
    let mut after_name = match cursor {
        Cursor::File(from) => {
            let entries: Vec<(usize, &TaskEntry)> = snapshot
                .tasks
                .entries
                .iter()
                .enumerate()
                .skip(from)
                .collect();
            for chunk in entries.chunks(HEADS_AT_ONCE) {
                let names: Vec<TaskName> = chunk
                    .iter()
                    .filter_map(|(_, entry)| entry_name(entry).cloned())
                    .collect();
                let mut heads = history.task_heads(&names, page.recent)?.into_iter();
                for (index, entry) in chunk {
                    // A broken entry without a name has no history to show.
                    let head = match entry_name(entry) {
                        Some(_) => heads.next().unwrap_or_default(),
                        None => TaskHead::default(),
                    };
                    let mut task = entry_view(entry, live_of(snapshot, entry), &head, page.fields);
                    add_recent(&mut task, &head, page.recent);
                    if !budget.admit(&task) {
                        return Ok(page_of(tasks, Cursor::File(*index), generation));
                    }
                    tasks.push(task);
                }
            }
            None
        }
        Cursor::History(after) => after,
    };
    let listed: HashSet<&TaskName> = snapshot
        .tasks
        .entries
        .iter()
        .filter_map(entry_name)
        .collect();
    let inactive: Vec<TaskName> = history
        .task_names()?
        .into_iter()
        .filter(|name| {
            !listed.contains(name) && after_name.as_ref().is_none_or(|after| name > after)
        })
        .collect();
    for chunk in inactive.chunks(HEADS_AT_ONCE) {
        let heads = history.task_heads(chunk, page.recent)?;
        for (name, head) in chunk.iter().zip(heads) {
            let mut task = inactive_view(name, &head);
            add_recent(&mut task, &head, page.recent);
            if !budget.admit(&task) {
                return Ok(page_of(tasks, Cursor::History(after_name), generation));
            }
            tasks.push(task);
            after_name = Some(name.clone());
        }
    }
    Ok(pb::ListTasksResponse {
        tasks,
        next_page_token: String::new(),
    })
}

fn page_of(tasks: Vec<pb::Task>, next: Cursor, generation: i64) -> pb::ListTasksResponse {
    pb::ListTasksResponse {
        tasks,
        next_page_token: next.token(generation),
    }
}

/// The task's `recent` newest runs, as its head holds them.
fn add_recent(task: &mut pb::Task, head: &TaskHead, recent: usize) {
    task.recent_runs = head.recent.iter().take(recent).map(convert::run).collect();
}

pub async fn get_task(
    service: &Service,
    request: pb::GetTaskRequest,
) -> Result<pb::GetTaskResponse, Status> {
    let task = task_by_name(service, &request.name).await?;
    Ok(pb::GetTaskResponse { task: Some(task) })
}

/// The whole view of one task by name, whether configured, broken or only in history.
pub async fn task_by_name(service: &Service, name: &str) -> Result<pb::Task, Status> {
    task_view(service, name, Fields::Whole).await
}

/// The row of a task that changed, exactly as ListTasks shows it with the newest runs the
/// change names, from what the runtime loop announced and what history holds: the loop is not
/// asked again.
pub fn changed_row(change: &TaskChange, history: &dyn Store) -> Result<pb::Task, Status> {
    let recent = change.recent_runs.min(MAX_RECENT_RUNS);
    let head = head_with(&change.task, history, recent)?;
    let mut task = match change.entry() {
        Some(entry) => entry_view(entry, change.live.as_ref(), &head, Fields::Summary),
        None => inactive_view(&change.task, &head),
    };
    add_recent(&mut task, &head, recent);
    Ok(task)
}

/// One task's head: its count and newest run.
fn head_of(task: &TaskName, history: &dyn Store) -> Result<TaskHead, Status> {
    head_with(task, history, 1)
}

/// One task's head with its `recent` newest runs (at least one).
fn head_with(task: &TaskName, history: &dyn Store, recent: usize) -> Result<TaskHead, Status> {
    let heads = history.task_heads(std::slice::from_ref(task), recent)?;
    Ok(heads.into_iter().next().unwrap_or_default())
}

async fn task_view(service: &Service, name: &str, fields: Fields) -> Result<pb::Task, Status> {
    limits::task_name(name)?;
    let not_found =
        || Status::not_found(format!("no task named {name:?} (see speedrackctl tasks)"));
    let task = TaskName::parse_normalised(name).ok_or_else(not_found)?;
    let snapshot = service.snapshot().await?;
    if let Some(entry) = snapshot
        .tasks
        .entries
        .iter()
        .find(|entry| entry_name(entry) == Some(&task))
    {
        let head = head_of(&task, service.history.as_ref())?;
        return Ok(entry_view(entry, live_of(&snapshot, entry), &head, fields));
    }
    let head = head_of(&task, service.history.as_ref())?;
    if head.runs > 0 {
        return Ok(inactive_view(&task, &head));
    }
    Err(not_found())
}

/// A task that the tasks file lists (valid or not) or that history remembers.
pub async fn known_task(service: &Service, name: &str) -> Result<TaskName, Status> {
    limits::task_name(name)?;
    let not_found =
        || Status::not_found(format!("no task named {name:?} (see speedrackctl tasks)"));
    let task = TaskName::parse_normalised(name).ok_or_else(not_found)?;
    let snapshot = service.snapshot().await?;
    let listed = snapshot
        .tasks
        .entries
        .iter()
        .any(|entry| entry_name(entry) == Some(&task));
    if listed || service.history.count_runs(&task)? > 0 {
        Ok(task)
    } else {
        Err(not_found())
    }
}

fn entry_name(entry: &TaskEntry) -> Option<&TaskName> {
    match entry {
        TaskEntry::Valid(def) => Some(&def.name),
        TaskEntry::Broken(broken) => broken.name.as_ref(),
    }
}

/// What the runtime knows of a listed task now; `None` for one it does not schedule.
fn live_of<'a>(snapshot: &'a Snapshot, entry: &TaskEntry) -> Option<&'a LiveState> {
    snapshot.live.get(entry_name(entry)?)
}

/// A task the file lists, joined with its live state and history: the one place a row is built.
fn entry_view(
    entry: &TaskEntry,
    live: Option<&LiveState>,
    head: &TaskHead,
    fields: Fields,
) -> pb::Task {
    let command = |text: &str| match fields {
        Fields::WithCommand | Fields::Whole => convert::bounded_text(text),
        Fields::Summary => String::new(),
    };
    match entry {
        TaskEntry::Valid(def) => {
            let live = live.cloned().unwrap_or_default();
            let mut task = pb::Task {
                name: def.name.to_string(),
                display_name: def.written_name.clone(),
                description: convert::bounded_text(&def.description),
                command: command(&def.command),
                schedule: def.schedule_text.clone(),
                schedule_description: def.schedule.describe(),
                timezone: def.schedule.time_zone().to_string(),
                next_fire: live.next_fire.map(convert::timestamp),
                runs_since_start: live.runs_since_start,
                skipped_fires: live.skipped_fires,
                suspended: live.suspended,
                running_run_ids: live.running.iter().map(|run| run.0).collect(),
                overlap: convert::overlap(def.overlap).into(),
                definition: match fields {
                    Fields::Whole => convert::bounded_text(&def.definition),
                    Fields::WithCommand | Fields::Summary => String::new(),
                },
                ..pb::Task::default()
            };
            add_history(&mut task, head);
            task.status = live_status(&live, task.last_run.as_ref()).into();
            task
        }
        TaskEntry::Broken(broken) => {
            let mut task = pb::Task {
                name: broken
                    .name
                    .as_ref()
                    .map_or_else(|| broken.label.clone(), ToString::to_string),
                display_name: broken.label.clone(),
                description: convert::bounded_text(&broken.description),
                command: command(&broken.command),
                status: pb::TaskStatus::ConfError.into(),
                conf_errors: broken
                    .errors
                    .iter()
                    .map(|error| convert::conf_error(&broken.label, error))
                    .collect(),
                ..pb::Task::default()
            };
            add_history(&mut task, head);
            task
        }
    }
}

fn inactive_view(name: &TaskName, head: &TaskHead) -> pb::Task {
    let mut task = pb::Task {
        name: name.to_string(),
        status: pb::TaskStatus::Inactive.into(),
        ..pb::Task::default()
    };
    add_history(&mut task, head);
    task
}

fn add_history(task: &mut pb::Task, head: &TaskHead) {
    task.runs_retained = head.runs;
    task.last_run = head.recent.first().map(convert::run);
}

/// A schedulable task's label: running, then suspended, then its last run's outcome.
fn live_status(live: &LiveState, last_run: Option<&pb::Run>) -> pb::TaskStatus {
    if !live.running.is_empty() {
        return pb::TaskStatus::Running;
    }
    if live.suspended {
        return pb::TaskStatus::Suspended;
    }
    let Some(last_run) = last_run else {
        return pb::TaskStatus::NeverRun;
    };
    match last_run.status() {
        pb::RunStatus::Success => pb::TaskStatus::Success,
        pb::RunStatus::Failure => pb::TaskStatus::Failure,
        // A running last run that the runtime does not know is one it lost track of.
        pb::RunStatus::ExecutionError
        | pb::RunStatus::Interrupted
        | pb::RunStatus::Running
        | pb::RunStatus::Unspecified => pb::TaskStatus::ExecutionError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::RunStatus;

    fn run_with(status: RunStatus) -> pb::Run {
        pb::Run {
            status: convert::run_status(status).into(),
            ..pb::Run::default()
        }
    }

    #[test]
    fn status_prefers_running_then_suspended_then_last_outcome() {
        let running = LiveState {
            running: vec![crate::run::RunId(1)],
            suspended: true,
            ..LiveState::default()
        };
        let suspended = LiveState {
            suspended: true,
            ..LiveState::default()
        };
        let idle = LiveState::default();
        let success = run_with(RunStatus::Success);
        let failure = run_with(RunStatus::Failure);
        let interrupted = run_with(RunStatus::Interrupted);
        let cases = [
            (&running, Some(&failure), pb::TaskStatus::Running),
            (&suspended, Some(&failure), pb::TaskStatus::Suspended),
            (&idle, None, pb::TaskStatus::NeverRun),
            (&idle, Some(&success), pb::TaskStatus::Success),
            (&idle, Some(&failure), pb::TaskStatus::Failure),
            (&idle, Some(&interrupted), pb::TaskStatus::ExecutionError),
        ];
        for (live, last, expected) in cases {
            assert_eq!(live_status(live, last), expected, "{live:?} {last:?}");
        }
    }
}
