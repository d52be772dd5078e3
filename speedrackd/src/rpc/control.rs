//! RunNow, Suspend and Resume: requests that change what the runtime does.

use speedrack_proto::v1 as pb;
use tonic::{Request, Status};

use super::auth::Caller;
use super::{Api, convert, tasks};
use crate::config::TaskName;
use crate::runtime::{Command, ControlError};

pub async fn run_now(
    api: &Api,
    request: Request<pb::RunNowRequest>,
) -> Result<pb::RunNowResponse, Status> {
    let by = request
        .extensions()
        .get::<Caller>()
        .map_or_else(|| "unknown".to_owned(), |caller| caller.user_name());
    let task = known_name(&request.get_ref().task)?;
    let record = api
        .ask(|reply| Command::RunNow { task, by, reply })
        .await??;
    Ok(pb::RunNowResponse {
        run: Some(convert::run(&record)),
    })
}

pub async fn set_suspended(api: &Api, name: &str, suspended: bool) -> Result<pb::Task, Status> {
    let task = known_name(name)?;
    api.ask(|reply| Command::SetSuspended {
        task,
        suspended,
        reply,
    })
    .await??;
    tasks::task_by_name(api, name).await
}

/// A name from a client must already be in normal form; anything else names no task.
fn known_name(name: &str) -> Result<TaskName, Status> {
    TaskName::parse_normalised(name)
        .ok_or_else(|| ControlError::UnknownTask(name.to_owned()).into())
}
