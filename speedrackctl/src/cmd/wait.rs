//! Waiting for one run: for a queued run to start, for a run to end, and what its end means
//! for the exit status (`run-now --wait`, `output --follow`).
//!
//! Events say when; GetRun confirms whenever events may have been missed (a reconnection,
//! events_dropped), so a lost event can delay the answer but never lose it. The bound on the
//! whole wait is the caller's.

use speedrack_proto::v1::watch_events_response::Event;
use speedrack_proto::v1::{GetRunRequest, ListRunsRequest, Run, RunStatus, Trigger};

use super::events::{News, Watcher};
use super::required;
use crate::render::kill;

/// Waits for the end of run `run_id` and returns it as the daemon recorded it.
pub async fn end_of(watcher: &mut Watcher, run_id: i64) -> anyhow::Result<Run> {
    // The run may have ended before the stream opened.
    if let Some(run) = ended(watcher, run_id).await? {
        return Ok(run);
    }
    loop {
        match watcher.next().await? {
            News::Event(message) => match message.event {
                Some(Event::RunFinished(run)) if run.id == run_id => return Ok(run),
                Some(Event::EventsDropped(_)) => {}
                _ => continue,
            },
            News::Resumed => {}
        }
        if let Some(run) = ended(watcher, run_id).await? {
            return Ok(run);
        }
    }
}

/// The run, when it is no longer running.
async fn ended(watcher: &mut Watcher, run_id: i64) -> anyhow::Result<Option<Run>> {
    let reply = watcher.client().get_run(GetRunRequest { run_id }).await?;
    let run = required(reply.into_inner().run, "run")?;
    Ok((run.status() != RunStatus::Running).then_some(run))
}

/// Waits for the manual run of `task` queued behind `behind` to start; returns its id.
pub async fn start_of_queued(
    watcher: &mut Watcher,
    task: &str,
    behind: &[i64],
) -> anyhow::Result<i64> {
    // A queued run is younger than every run it waits for.
    let after = behind.iter().copied().max().unwrap_or(0);
    let ours = |run: &Run| run.task == task && run.trigger() == Trigger::Manual && run.id > after;
    loop {
        match watcher.next().await? {
            News::Event(message) => match message.event {
                Some(Event::RunStarted(run)) if ours(&run) => return Ok(run.id),
                Some(Event::EventsDropped(_)) => {}
                _ => continue,
            },
            News::Resumed => {}
        }
        let reply = watcher
            .client()
            .list_runs(ListRunsRequest {
                task: task.to_owned(),
                page_size: 10,
                page_token: String::new(),
                ..Default::default()
            })
            .await?;
        // Newest first: the oldest of ours is the one this request queued.
        if let Some(run) = reply.into_inner().runs.iter().rev().find(|run| ours(run)) {
            return Ok(run.id);
        }
    }
}

/// Success is `Ok`; any other end is an error saying why, for stderr and exit status 1.
pub fn verdict(run: &Run) -> anyhow::Result<()> {
    let first_note = run.op_error.lines().next().unwrap_or("no reason recorded");
    let (Run { id, task, .. }, reason) = (run, run.reason.as_str());
    match run.status() {
        RunStatus::Success => Ok(()),
        RunStatus::Failure if kill::is_killed(run) => {
            anyhow::bail!("run {id} of {task} was killed: {}", kill::reason(run))
        }
        RunStatus::Failure => anyhow::bail!("run {id} of {task} failed: {reason}"),
        RunStatus::ExecutionError => {
            anyhow::bail!("run {id} of {task} could not be run or tracked: {first_note}")
        }
        RunStatus::Interrupted => anyhow::bail!(
            "run {id} of {task} was interrupted: speedrackd stopped while it ran, so its end is \
             unknown"
        ),
        RunStatus::Running | RunStatus::Unspecified => anyhow::bail!(
            "run {id} of {task} has an end speedrackctl does not know; check that speedrackd \
             and speedrackctl are the same version"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended_as(status: RunStatus, reason: &str, op_error: &str) -> Run {
        Run {
            id: 7,
            task: "backup".into(),
            status: status.into(),
            reason: reason.into(),
            op_error: op_error.into(),
            ..Run::default()
        }
    }

    #[test]
    fn only_success_is_ok_and_failures_say_why() {
        assert!(verdict(&ended_as(RunStatus::Success, "", "")).is_ok());
        let cases = [
            (
                ended_as(RunStatus::Failure, "exit status 3", ""),
                "run 7 of backup failed: exit status 3",
            ),
            (
                ended_as(RunStatus::ExecutionError, "", "cannot run sh\nmore"),
                "run 7 of backup could not be run or tracked: cannot run sh",
            ),
            (
                Run {
                    kill_cause: speedrack_proto::v1::KillCause::User.into(),
                    killed_by: "alice".into(),
                    ..ended_as(RunStatus::Failure, "killed by alice", "")
                },
                "run 7 of backup was killed: by alice",
            ),
            (
                ended_as(RunStatus::Interrupted, "", ""),
                "run 7 of backup was interrupted: speedrackd stopped while it ran, so its end is \
                 unknown",
            ),
        ];
        for (run, expected) in cases {
            let err = verdict(&run).expect_err("not a success");
            assert_eq!(err.to_string(), expected);
        }
    }
}
