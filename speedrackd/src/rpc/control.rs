//! RunNow, Kill, Suspend and Resume: requests that change what the runtime does, attributed to
//! whoever asked.

use speedrack_proto::v1 as pb;
use tonic::{Request, Status};

use super::auth::Caller;
use super::{Service, convert, limits, tasks};
use crate::config::TaskName;
use crate::run::RunId;
use crate::runtime::{Command, ControlError, RunNowOutcome};

pub async fn run_now(
    service: &Service,
    request: Request<pb::RunNowRequest>,
) -> Result<pb::RunNowResponse, Status> {
    let by = who(&request, &request.get_ref().on_behalf_of)?;
    let task = known_name(&request.get_ref().task)?;
    if let Some(node) = service.run_now_elsewhere(&task).await? {
        return service.run_now_on(&node, &task, by).await;
    }
    let outcome = service
        .ask(|reply| Command::RunNow { task, by, reply })
        .await??;
    Ok(match outcome {
        RunNowOutcome::Started(record) => pb::RunNowResponse {
            run: Some(convert::run(&record)),
            queued: false,
            queued_behind_run_ids: Vec::new(),
        },
        RunNowOutcome::Queued { behind } => pb::RunNowResponse {
            run: None,
            queued: true,
            queued_behind_run_ids: behind.iter().map(|run| run.0).collect(),
        },
    })
}

pub async fn kill(
    service: &Service,
    request: Request<pb::KillRequest>,
) -> Result<pb::KillResponse, Status> {
    let by = who(&request, &request.get_ref().on_behalf_of)?;
    let task = known_name(&request.get_ref().task)?;
    let run = (request.get_ref().run_id != 0).then_some(RunId(request.get_ref().run_id));
    if let Some(run) = run
        && let Some(node) = service.node_of_run(run)?
    {
        let killed_run_ids = service.kill_on(&node, &task, Some(run), by).await?;
        return Ok(pb::KillResponse {
            killed_run_ids,
            unreached_nodes: Vec::new(),
        });
    }
    if run.is_none() && service.in_cluster() {
        return service.kill_everywhere(&task, by).await;
    }
    let killed = service
        .ask(|reply| Command::Kill {
            task,
            run,
            by,
            reply,
        })
        .await??;
    Ok(pb::KillResponse {
        killed_run_ids: killed.iter().map(|run| run.0).collect(),
        unreached_nodes: Vec::new(),
    })
}

pub async fn set_suspended(
    service: &Service,
    name: &str,
    suspended: bool,
) -> Result<pb::Task, Status> {
    let task = known_name(name)?;
    service
        .ask(|reply| Command::SetSuspended {
            task: task.clone(),
            suspended,
            reply,
        })
        .await??;
    service.tell_suspension(&task, suspended).await;
    tasks::task_by_name(service, name).await
}

/// Who asked: the person a gateway acts for, else the calling OS user. INVALID_ARGUMENT when
/// `on_behalf_of` is not a plausible name.
pub fn who<T>(request: &Request<T>, on_behalf_of: &str) -> Result<String, Status> {
    limits::on_behalf_of(on_behalf_of)?;
    let caller = request
        .extensions()
        .get::<Caller>()
        .map_or_else(|| "unknown".to_owned(), |caller| caller.user_name());
    Ok(match on_behalf_of.trim() {
        "" => caller,
        person => format!("{person} (via {caller})"),
    })
}

/// A name from a client must already be in normal form; anything else names no task.
fn known_name(name: &str) -> Result<TaskName, Status> {
    limits::task_name(name)?;
    TaskName::parse_normalised(name)
        .ok_or_else(|| ControlError::UnknownTask(name.to_owned()).into())
}
