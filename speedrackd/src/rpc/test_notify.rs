//! TestNotify: a test message through every channel a task would notify, each outcome reported.

use speedrack_proto::v1 as pb;
use tonic::Status;

use super::{Service, tasks};
use crate::config::TaskEntry;
use crate::notify;
use crate::run::{RunEnd, RunId, RunRecord, RunStatus, Trigger};

pub async fn test_notify(
    service: &Service,
    request: pb::TestNotifyRequest,
) -> Result<pb::TestNotifyResponse, Status> {
    let task = tasks::known_task(service, &request.task).await?;
    let snapshot = service.snapshot().await?;
    let def = snapshot.tasks.entries.iter().find_map(|entry| match entry {
        TaskEntry::Valid(def) if def.name == task => Some(def.clone()),
        _ => None,
    });
    let def = def.ok_or_else(|| {
        Status::failed_precondition(format!(
            "task {task} has conf errors or is no longer in the tasks file"
        ))
    })?;
    // The newest run gives the message real content; a task that never ran gets a blank one.
    let now = snapshot.last_reload_at.unwrap_or(snapshot.started_at);
    let run = match service.history.list_runs(&task, None, 1)?.pop() {
        Some(run) => run,
        None => RunRecord {
            id: RunId(0),
            task: task.clone(),
            trigger: Trigger::Schedule,
            scheduled_at: now,
            started_at: now,
            definition: def.definition.clone(),
            notification_error: String::new(),
            node: String::new(),
            end: None,
        },
    };
    let end = run
        .end
        .clone()
        .unwrap_or_else(|| RunEnd::bare(now, RunStatus::Success, String::new()));
    let outcomes = notify::send_test(&snapshot.settings, &def, run, end).await;
    Ok(pb::TestNotifyResponse {
        outcomes: outcomes
            .into_iter()
            .map(|outcome| pb::ChannelOutcome {
                channel: outcome.channel,
                ok: outcome.result.is_ok(),
                error: outcome
                    .result
                    .err()
                    .map(|error| error.to_string())
                    .unwrap_or_default(),
            })
            .collect(),
    })
}
