//! ListNextFires: a task's coming fire times, with the offset of its zone at each.

use chrono::{Offset, TimeZone};
use speedrack_proto::v1 as pb;
use tonic::Status;

use super::{Service, convert, tasks};
use crate::config::TaskEntry;
use crate::runtime::Command;

const DEFAULT_COUNT: usize = 5;
const MAX_COUNT: usize = 1000;

pub async fn list_next_fires(
    service: &Service,
    request: pb::ListNextFiresRequest,
) -> Result<pb::ListNextFiresResponse, Status> {
    let task = tasks::known_task(service, &request.task).await?;
    let count = match request.count as usize {
        0 => DEFAULT_COUNT,
        count => count.min(MAX_COUNT),
    };
    let snapshot = service.snapshot().await?;
    let def = snapshot.tasks.entries.iter().find_map(|entry| match entry {
        TaskEntry::Valid(def) if def.name == task => Some(def.clone()),
        _ => None,
    });
    let Some(def) = def else {
        return Err(Status::failed_precondition(format!(
            "task {task} has no schedule: it has conf errors or is no longer in the tasks file"
        )));
    };
    let name = task.clone();
    let fires = service
        .ask(|reply| Command::NextFires {
            task: name,
            count,
            reply,
        })
        .await??;
    let tz = def.schedule.time_zone();
    Ok(pb::ListNextFiresResponse {
        fires: fires
            .into_iter()
            .map(|at| pb::Fire {
                at: Some(convert::timestamp(at)),
                utc_offset_seconds: tz
                    .offset_from_utc_datetime(&at.naive_utc())
                    .fix()
                    .local_minus_utc(),
            })
            .collect(),
        timezone: tz.to_string(),
        schedule: def.schedule_text.clone(),
    })
}
