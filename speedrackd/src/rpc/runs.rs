//! ListRuns, GetRun and ReadOutput: history and output files, read without the runtime loop.
//!
//! A ListRuns page ends at the count asked for or at the byte budget (`paging`), whichever
//! comes first; only GetRun carries a run's definition.

use speedrack_proto::v1 as pb;
use tonic::Status;

use super::paging::Budget;
use super::{Service, convert, limits, run_filter, tasks};
use crate::config::NodeName;
use crate::history::output::{Stream, read_slice, stream_path};
use crate::run::{RunId, RunRecord};

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 1000;
const DEFAULT_READ: u64 = 1 << 20;
/// Leaves room for the reply's other fields and framing: gRPC clients refuse messages over
/// 4 MiB by default, so a read of a full 4 MiB would fail in the client.
const MAX_READ: u64 = (4 << 20) - 1024;
/// The most one ReadOutput reads of a run running on another node: it comes a few KB per
/// round trip through the database.
const RELAYED_READ: u64 = 256 << 10;
/// The longest one ReadOutput spends reading from another node.
const RELAYED_READ_WITHIN: std::time::Duration = std::time::Duration::from_secs(15);

pub async fn list_runs(
    service: &Service,
    request: pb::ListRunsRequest,
) -> Result<pb::ListRunsResponse, Status> {
    limits::free_text("page_token", &request.page_token, limits::MAX_NAME)?;
    let task = tasks::known_task(service, &request.task).await?;
    let filter = run_filter::filter_of(&request)?;
    let before = page_start(&request.page_token)?;
    let page_size = match request.page_size as usize {
        0 => DEFAULT_PAGE,
        size => size.min(MAX_PAGE),
    };
    // One extra row tells whether an older page exists without a second query.
    let (records, total, matching) = service
        .read(move |history| {
            let records = history.list_matching(&task, &filter, before, page_size + 1)?;
            let matching = history.count_matching(&task, &filter)?;
            Ok((records, history.count_runs(&task)?, matching))
        })
        .await?;
    let (runs, next_page_token) = page_of_runs(&records, page_size, Budget::page());
    Ok(pb::ListRunsResponse {
        runs,
        next_page_token,
        total,
        matching,
    })
}

/// The run a page starts below; `None` for the newest. A token is a run id this daemon gave
/// out, so anything else (a negative number, zero, text) is refused rather than read as an
/// empty page.
fn page_start(token: &str) -> Result<Option<RunId>, Status> {
    if token.is_empty() {
        return Ok(None);
    }
    match token.parse::<i64>() {
        Ok(id) if id > 0 => Ok(Some(RunId(id))),
        _ => Err(Status::invalid_argument(format!(
            "page token {token:?} is not one this daemon gave out; \
             start from the newest runs with an empty token"
        ))),
    }
}

/// The first `page_size` of `records` that fit in `budget`, and the token of the next page
/// (empty when none is left).
fn page_of_runs(
    records: &[RunRecord],
    page_size: usize,
    mut budget: Budget,
) -> (Vec<pb::Run>, String) {
    let mut runs = Vec::new();
    for record in records {
        let run = convert::run(record);
        if runs.len() == page_size || !budget.admit(&run) {
            let token = runs
                .last()
                .map(|run: &pb::Run| run.id.to_string())
                .unwrap_or_default();
            return (runs, token);
        }
        runs.push(run);
    }
    (runs, String::new())
}

pub async fn get_run(
    service: &Service,
    request: pb::GetRunRequest,
) -> Result<pb::GetRunResponse, Status> {
    let record = find_run(service, RunId(request.run_id)).await?;
    Ok(pb::GetRunResponse {
        run: Some(convert::run_detail(&record)),
    })
}

async fn find_run(service: &Service, run: RunId) -> Result<RunRecord, Status> {
    service
        .read(move |history| history.get_run(run))
        .await?
        .ok_or_else(|| Status::not_found(format!("no run with id {run}")))
}

pub async fn read_output(
    service: &Service,
    request: pb::ReadOutputRequest,
) -> Result<pb::ReadOutputResponse, Status> {
    let record = find_run(service, RunId(request.run_id)).await?;
    let length = match request.length {
        0 => DEFAULT_READ,
        length => length.min(MAX_READ),
    };
    let stream = match request.stream() {
        pb::OutputStream::Stdout => Stream::Stdout,
        pb::OutputStream::Stderr => Stream::Stderr,
        pb::OutputStream::OpError => {
            return Ok(op_error_slice(record.op_error(), request.offset, length));
        }
        pb::OutputStream::Unspecified => {
            return Err(Status::invalid_argument(
                "say which output to read: stdout, stderr or op_error",
            ));
        }
    };
    let offset = request.offset;
    if service.node_of_run(record.id)?.is_some() {
        return stored_slice(service, &record, stream, offset, length).await;
    }
    let path = stream_path(service.history.data_dir(), &record.task, record.id, stream);
    let slice = tokio::task::spawn_blocking(move || {
        read_slice(&path, offset, usize::try_from(length).unwrap_or(usize::MAX))
    })
    .await
    .map_err(|error| Status::internal(format!("output reader failed: {error}")))?
    .map_err(|error| {
        Status::internal(format!(
            "cannot read the output of run {}: {error}",
            record.id
        ))
    })?;
    let eof = offset + slice.data.len() as u64 >= slice.total_size;
    Ok(pb::ReadOutputResponse {
        data: slice.data,
        total_size: slice.total_size,
        eof,
    })
}

fn op_error_slice(text: &str, offset: u64, length: u64) -> pb::ReadOutputResponse {
    let bytes = text.as_bytes();
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let end = start
        .saturating_add(usize::try_from(length).unwrap_or(usize::MAX))
        .min(bytes.len());
    pb::ReadOutputResponse {
        data: bytes[start..end].to_vec(),
        total_size: bytes.len() as u64,
        eof: end == bytes.len(),
    }
}

/// A slice of the output of a run another node ran, as the shared history keeps it once the
/// run has ended; while it runs, as its node reads it (`running_slice`).
async fn stored_slice(
    service: &Service,
    record: &RunRecord,
    stream: Stream,
    offset: u64,
    length: u64,
) -> Result<pb::ReadOutputResponse, Status> {
    let history = std::sync::Arc::clone(&service.history);
    let run = record.id;
    let stored = tokio::task::spawn_blocking(move || history.stored_output(run, stream))
        .await
        .map_err(|error| Status::internal(format!("output reader failed: {error}")))?
        .map_err(|error| {
            Status::internal(format!("cannot read the output of run {run}: {error}"))
        })?;
    let Some(bytes) = stored else {
        return running_slice(service, record, stream, offset, length).await;
    };
    let total_size = bytes.len() as u64;
    let start = usize::try_from(offset.min(total_size)).unwrap_or(usize::MAX);
    let end = start
        .saturating_add(usize::try_from(length).unwrap_or(usize::MAX))
        .min(bytes.len());
    Ok(pb::ReadOutputResponse {
        data: bytes[start..end].to_vec(),
        total_size,
        eof: end as u64 >= total_size,
    })
}

/// A slice of the output of a run still running on another node, read there piece by piece,
/// at most [`RELAYED_READ`] of it and for at most [`RELAYED_READ_WITHIN`]: a reader wanting
/// more asks again from where it got to. A piece that fails after others came ends the slice
/// there.
async fn running_slice(
    service: &Service,
    record: &RunRecord,
    stream: Stream,
    offset: u64,
    length: u64,
) -> Result<pb::ReadOutputResponse, Status> {
    let node = NodeName::parse(&record.node)
        .map_err(|error| Status::internal(format!("run {} names no node: {error}", record.id)))?;
    let wanted = usize::try_from(length.min(RELAYED_READ)).unwrap_or(usize::MAX);
    let mut data = Vec::new();
    let mut total_size = offset;
    let started = tokio::time::Instant::now();
    while data.len() < wanted && started.elapsed() < RELAYED_READ_WITHIN {
        let asked = service
            .output_on(&node, record.id, stream, offset + data.len() as u64)
            .await;
        let piece = match asked {
            Ok(piece) => piece,
            Err(status) if data.is_empty() => return Err(status),
            Err(_) => break,
        };
        total_size = piece.total_size;
        if piece.data.is_empty() {
            break;
        }
        let room = wanted - data.len();
        data.extend_from_slice(&piece.data[..piece.data.len().min(room)]);
    }
    Ok(pb::ReadOutputResponse {
        eof: offset + data.len() as u64 >= total_size,
        data,
        total_size,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::config::TaskName;
    use crate::run::{RunEnd, RunStatus, Trigger};

    fn records(op_error_bytes: usize) -> Vec<RunRecord> {
        let task = TaskName::parse_normalised("paged").expect("a valid name");
        (0..5)
            .map(|n| RunRecord {
                id: RunId(10 - n),
                task: task.clone(),
                trigger: Trigger::Schedule,
                scheduled_at: DateTime::<Utc>::UNIX_EPOCH,
                started_at: DateTime::<Utc>::UNIX_EPOCH,
                definition: String::new(),
                notification_error: String::new(),
                node: String::new(),
                end: Some(RunEnd::bare(
                    DateTime::<Utc>::UNIX_EPOCH,
                    RunStatus::ExecutionError,
                    "e".repeat(op_error_bytes),
                )),
            })
            .collect()
    }

    fn ids(runs: &[pb::Run]) -> Vec<i64> {
        runs.iter().map(|run| run.id).collect()
    }

    #[test]
    fn only_tokens_this_daemon_gives_out_are_taken() {
        assert_eq!(page_start("").expect("the newest"), None);
        assert_eq!(page_start("12").expect("a run id"), Some(RunId(12)));
        for bad in ["-5", "0", "abc", "99999999999999999999", "1.5"] {
            let error = page_start(bad).expect_err(bad);
            assert_eq!(error.code(), tonic::Code::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn a_page_ends_at_its_size_or_its_byte_budget() {
        let (runs, token) = page_of_runs(&records(10), 3, Budget::of(1 << 20));
        assert_eq!((ids(&runs), token.as_str()), (vec![10, 9, 8], "8"));
        let (runs, token) = page_of_runs(&records(10), 50, Budget::of(1 << 20));
        assert_eq!((ids(&runs), token.as_str()), (vec![10, 9, 8, 7, 6], ""));
        // 400 KB each: two fit in 1 MiB, the third would pass it.
        let (runs, token) = page_of_runs(&records(400_000), 50, Budget::of(1 << 20));
        assert_eq!((ids(&runs), token.as_str()), (vec![10, 9], "9"));
    }
}
