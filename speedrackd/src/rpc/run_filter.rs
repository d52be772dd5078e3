//! ListRuns' filters into a history `RunFilter`, and CountRuns: the questions a task's history
//! page asks beyond "the newest runs".
//!
//! Only request checking and conversion live here; the queries are the history's.

use chrono::{DateTime, TimeDelta, Utc};
use speedrack_proto::v1 as pb;
use tonic::Status;

use super::{Service, tasks};
use crate::history::{RunFilter, TriggerKind};
use crate::run::RunStatus;

/// The shortest and longest span CountRuns counts in, and the most spans in one reply.
const MIN_SPAN_SECONDS: u32 = 60;
const MAX_SPAN_SECONDS: u32 = 7 * 86_400;
const MAX_SPANS: u32 = 1000;

/// The filters of a ListRuns request; INVALID_ARGUMENT for values this daemon does not know.
pub fn filter_of(request: &pb::ListRunsRequest) -> Result<RunFilter, Status> {
    let statuses = request
        .statuses
        .iter()
        .map(|&value| run_status(value))
        .collect::<Result<_, _>>()?;
    let triggers = request
        .triggers
        .iter()
        .map(|&value| trigger(value))
        .collect::<Result<_, _>>()?;
    Ok(RunFilter {
        statuses,
        triggers,
        started_from: instant("started_from", request.started_from.as_ref())?,
        started_before: instant("started_before", request.started_before.as_ref())?,
    })
}

fn run_status(value: i32) -> Result<RunStatus, Status> {
    match pb::RunStatus::try_from(value) {
        Ok(pb::RunStatus::Running) => Ok(RunStatus::Running),
        Ok(pb::RunStatus::Success) => Ok(RunStatus::Success),
        Ok(pb::RunStatus::Failure) => Ok(RunStatus::Failure),
        Ok(pb::RunStatus::ExecutionError) => Ok(RunStatus::ExecutionError),
        Ok(pb::RunStatus::Interrupted) => Ok(RunStatus::Interrupted),
        Ok(pb::RunStatus::Unspecified) | Err(_) => Err(Status::invalid_argument(format!(
            "statuses holds {value}, which is no run status this daemon knows; \
             leave statuses empty for any"
        ))),
    }
}

fn trigger(value: i32) -> Result<TriggerKind, Status> {
    match pb::Trigger::try_from(value) {
        Ok(pb::Trigger::Schedule) => Ok(TriggerKind::Schedule),
        Ok(pb::Trigger::Manual) => Ok(TriggerKind::Manual),
        Ok(pb::Trigger::Imported) => Ok(TriggerKind::Imported),
        Ok(pb::Trigger::Unspecified) | Err(_) => Err(Status::invalid_argument(format!(
            "triggers holds {value}, which is no trigger this daemon knows; \
             leave triggers empty for any"
        ))),
    }
}

fn instant(
    field: &str,
    at: Option<&prost_types::Timestamp>,
) -> Result<Option<DateTime<Utc>>, Status> {
    let Some(at) = at else { return Ok(None) };
    u32::try_from(at.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(at.seconds, nanos))
        .map(Some)
        .ok_or_else(|| Status::invalid_argument(format!("{field} is not a valid instant")))
}

pub async fn count_runs(
    service: &Service,
    request: pb::CountRunsRequest,
) -> Result<pb::CountRunsResponse, Status> {
    let task = tasks::known_task(service, &request.task).await?;
    let from = instant("from", request.from.as_ref())?
        .ok_or_else(|| Status::invalid_argument("from is required: where the first span starts"))?;
    if !(MIN_SPAN_SECONDS..=MAX_SPAN_SECONDS).contains(&request.span_seconds) {
        return Err(Status::invalid_argument(format!(
            "span_seconds is {}; it must be {MIN_SPAN_SECONDS} to {MAX_SPAN_SECONDS}",
            request.span_seconds
        )));
    }
    if !(1..=MAX_SPANS).contains(&request.spans) {
        return Err(Status::invalid_argument(format!(
            "spans is {}; it must be 1 to {MAX_SPANS}",
            request.spans
        )));
    }
    let span = TimeDelta::seconds(i64::from(request.span_seconds));
    let spans = request.spans as usize;
    let counts = service
        .read(move |history| history.count_by_span(&task, from, span, spans))
        .await?;
    Ok(pb::CountRunsResponse {
        counts: counts
            .into_iter()
            .map(|count| pb::RunCount {
                succeeded: count.succeeded,
                failed: count.failed,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    #[test]
    fn unknown_statuses_and_triggers_are_refused_and_known_ones_kept() {
        let request = pb::ListRunsRequest {
            statuses: vec![pb::RunStatus::Failure.into()],
            triggers: vec![pb::Trigger::Manual.into()],
            started_from: Some(prost_types::Timestamp {
                seconds: 60,
                nanos: 0,
            }),
            ..pb::ListRunsRequest::default()
        };
        let filter = filter_of(&request).expect("valid filter");
        assert_eq!(filter.statuses, [RunStatus::Failure]);
        assert_eq!(filter.triggers, [TriggerKind::Manual]);
        assert_eq!(filter.started_from.map(|at| at.timestamp()), Some(60));
        for bad in [
            pb::ListRunsRequest {
                statuses: vec![0],
                ..pb::ListRunsRequest::default()
            },
            pb::ListRunsRequest {
                triggers: vec![99],
                ..pb::ListRunsRequest::default()
            },
            pb::ListRunsRequest {
                started_before: Some(prost_types::Timestamp {
                    seconds: 0,
                    nanos: -1,
                }),
                ..pb::ListRunsRequest::default()
            },
        ] {
            let error = filter_of(&bad).expect_err("refused");
            assert_eq!(error.code(), Code::InvalidArgument, "{bad:?}");
        }
    }
}
