//! ListTasks and GetTask: each task as the file defines it, joined with what the runtime knows
//! now and what history remembers. Tasks that only history knows are listed as inactive.

use std::collections::HashSet;
use std::sync::Arc;

use speedrack_proto::v1 as pb;
use tonic::Status;

use super::{Api, convert};
use crate::config::{TaskEntry, TaskName};
use crate::history::History;
use crate::runtime::{LiveState, Snapshot};

/// Most recent runs a ListTasks call may ask for per task.
const MAX_RECENT_RUNS: usize = 100;

pub async fn list_tasks(
    api: &Api,
    request: pb::ListTasksRequest,
) -> Result<pb::ListTasksResponse, Status> {
    let _turn = api
        .listings
        .acquire()
        .await
        .map_err(|_| super::error::shutting_down())?;
    let snapshot = api.snapshot().await?;
    let recent = (request.recent_runs as usize).min(MAX_RECENT_RUNS);
    let history = Arc::clone(&api.history);
    // A listing queries history a few times per task: with a thousand tasks that is long enough
    // to stall the runtime loop and the hosted gateway, which share the async worker threads.
    tokio::task::spawn_blocking(move || task_views(&snapshot, &history, recent))
        .await
        .map_err(|error| Status::internal(format!("task listing failed: {error}")))?
}

fn task_views(
    snapshot: &Snapshot,
    history: &History,
    recent: usize,
) -> Result<pb::ListTasksResponse, Status> {
    let mut tasks = Vec::new();
    let mut listed = HashSet::new();
    for entry in &snapshot.tasks.entries {
        tasks.push(entry_view(entry, snapshot, history)?);
        listed.extend(entry_name(entry).cloned());
    }
    for name in history.task_names()? {
        if !listed.contains(&name) {
            tasks.push(inactive_view(&name, history)?);
        }
    }
    if recent > 0 {
        for task in &mut tasks {
            if let Some(name) = TaskName::parse_normalised(&task.name) {
                task.recent_runs = history
                    .list_runs(&name, None, recent)?
                    .iter()
                    .map(convert::run)
                    .collect();
            }
        }
    }
    Ok(pb::ListTasksResponse { tasks })
}

pub async fn get_task(
    api: &Api,
    request: pb::GetTaskRequest,
) -> Result<pb::GetTaskResponse, Status> {
    let task = task_by_name(api, &request.name).await?;
    Ok(pb::GetTaskResponse { task: Some(task) })
}

/// The view of one task by name, whether configured, broken or only in history.
pub async fn task_by_name(api: &Api, name: &str) -> Result<pb::Task, Status> {
    let not_found =
        || Status::not_found(format!("no task named {name:?} (see speedrackctl tasks)"));
    let task = TaskName::parse_normalised(name).ok_or_else(not_found)?;
    let snapshot = api.snapshot().await?;
    if let Some(entry) = snapshot
        .tasks
        .entries
        .iter()
        .find(|entry| entry_name(entry) == Some(&task))
    {
        return entry_view(entry, &snapshot, &api.history);
    }
    if api.history.count_runs(&task)? > 0 {
        return inactive_view(&task, &api.history);
    }
    Err(not_found())
}

/// A task that the tasks file lists (valid or not) or that history remembers.
pub async fn known_task(api: &Api, name: &str) -> Result<TaskName, Status> {
    let not_found =
        || Status::not_found(format!("no task named {name:?} (see speedrackctl tasks)"));
    let task = TaskName::parse_normalised(name).ok_or_else(not_found)?;
    let snapshot = api.snapshot().await?;
    let listed = snapshot
        .tasks
        .entries
        .iter()
        .any(|entry| entry_name(entry) == Some(&task));
    if listed || api.history.count_runs(&task)? > 0 {
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

fn entry_view(
    entry: &TaskEntry,
    snapshot: &Snapshot,
    history: &History,
) -> Result<pb::Task, Status> {
    let task = match entry {
        TaskEntry::Valid(def) => {
            let live = snapshot.live.get(&def.name).cloned().unwrap_or_default();
            let mut task = pb::Task {
                name: def.name.to_string(),
                description: def.description.clone(),
                command: def.command.clone(),
                schedule: def.schedule_text.clone(),
                schedule_description: def.schedule.describe(),
                timezone: def.schedule.time_zone().to_string(),
                next_fire: live.next_fire.map(convert::timestamp),
                runs_since_start: live.runs_since_start,
                skipped_fires: live.skipped_fires,
                suspended: live.suspended,
                running_run_ids: live.running.iter().map(|run| run.0).collect(),
                ..pb::Task::default()
            };
            add_history(&mut task, &def.name, history)?;
            task.status = live_status(&live, task.last_run.as_ref()).into();
            task
        }
        TaskEntry::Broken(broken) => {
            let mut task = pb::Task {
                name: broken
                    .name
                    .as_ref()
                    .map_or_else(|| broken.label.clone(), ToString::to_string),
                description: broken.description.clone(),
                command: broken.command.clone(),
                status: pb::TaskStatus::ConfError.into(),
                conf_errors: broken
                    .errors
                    .iter()
                    .map(|error| convert::conf_error(&broken.label, error))
                    .collect(),
                ..pb::Task::default()
            };
            if let Some(name) = &broken.name {
                add_history(&mut task, name, history)?;
            }
            task
        }
    };
    Ok(task)
}

fn inactive_view(name: &TaskName, history: &History) -> Result<pb::Task, Status> {
    let mut task = pb::Task {
        name: name.to_string(),
        status: pb::TaskStatus::Inactive.into(),
        ..pb::Task::default()
    };
    add_history(&mut task, name, history)?;
    Ok(task)
}

fn add_history(task: &mut pb::Task, name: &TaskName, history: &History) -> Result<(), Status> {
    task.runs_retained = history.count_runs(name)?;
    task.last_run = history.list_runs(name, None, 1)?.first().map(convert::run);
    Ok(())
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
