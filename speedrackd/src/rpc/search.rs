//! SearchOutput: a task's retained output searched for a text, newest run first, each run's
//! hits sent as soon as they are found.
//!
//! Every search is bounded: runs searched, bytes read, lines found, and searches at once. The
//! file reading is the history's (`output_search.rs`); this walks runs and sends.

use std::sync::Arc;

use speedrack_proto::v1 as pb;
use tokio::sync::{Semaphore, SemaphorePermit, mpsc};
use tonic::Status;

use super::{Service, limits, tasks};
use crate::config::TaskName;
use crate::history::Store;
use crate::history::output::{Stream, stream_path};
use crate::history::output_search::{Budget, LineHit, Needle, search_file};
use crate::run::RunId;

pub type SearchStream =
    tokio_stream::wrappers::ReceiverStream<Result<pb::SearchOutputResponse, Status>>;

const MAX_TEXT: usize = 200;
const DEFAULT_RUNS: u32 = 200;
const MAX_RUNS: u32 = 1000;
const DEFAULT_BYTES: u64 = 64 << 20;
const MAX_BYTES: u64 = 256 << 20;
const DEFAULT_HITS: u32 = 100;
const MAX_HITS: u32 = 1000;
/// Searches read files off the async workers; this many at once, so they cannot take every
/// blocking thread or the disk.
const MAX_SEARCHES: usize = 2;
/// Runs read from history at a time while walking back.
const RUNS_PER_READ: usize = 50;

static SEARCHES: Semaphore = Semaphore::const_new(MAX_SEARCHES);

/// What one search may use, from a request's caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Caps {
    runs: u32,
    budget: Budget,
}

fn caps_of(request: &pb::SearchOutputRequest) -> Caps {
    let capped = |asked: u32, default: u32, max: u32| match asked {
        0 => default,
        asked => asked.min(max),
    };
    Caps {
        runs: capped(request.max_runs, DEFAULT_RUNS, MAX_RUNS),
        budget: Budget {
            bytes_left: match request.max_bytes {
                0 => DEFAULT_BYTES,
                asked => asked.min(MAX_BYTES),
            },
            hits_left: capped(request.max_hits, DEFAULT_HITS, MAX_HITS),
        },
    }
}

pub async fn search_output(
    service: &Service,
    request: pb::SearchOutputRequest,
) -> Result<SearchStream, Status> {
    let task = tasks::known_task(service, &request.task).await?;
    if request.text.is_empty() {
        return Err(Status::invalid_argument(
            "text is empty; say what to search for",
        ));
    }
    limits::free_text("text", &request.text, MAX_TEXT)?;
    let needle = Needle::new(&request.text).map_err(|error| {
        Status::invalid_argument(format!("cannot search for {:?}: {error}", request.text))
    })?;
    let permit = SEARCHES.try_acquire().map_err(|_| {
        Status::resource_exhausted(format!(
            "{MAX_SEARCHES} output searches are already running; try again when one has ended"
        ))
    })?;
    let caps = caps_of(&request);
    let (sender, receiver) = mpsc::channel(4);
    let history = Arc::clone(&service.history);
    tokio::task::spawn_blocking(move || {
        let search = Search {
            history: history.as_ref(),
            task: &task,
            needle: &needle,
            sender: &sender,
            _permit: permit,
        };
        let end = search.run(caps);
        // A client that has gone needs no summary; nothing else can be done with the error.
        let _ = sender.blocking_send(end.map(|summary| pb::SearchOutputResponse {
            hits: Vec::new(),
            summary: Some(summary),
        }));
    });
    Ok(SearchStream::new(receiver))
}

struct Search<'a> {
    history: &'a dyn Store,
    task: &'a TaskName,
    needle: &'a Needle,
    sender: &'a mpsc::Sender<Result<pb::SearchOutputResponse, Status>>,
    _permit: SemaphorePermit<'static>,
}

impl Search<'_> {
    /// Walks the task's runs newest first, sending each run's hits, until a cap, the oldest
    /// run, or a client that has gone.
    fn run(&self, caps: Caps) -> Result<pb::SearchSummary, Status> {
        let mut budget = caps.budget;
        let mut summary = pb::SearchSummary::default();
        let mut before = None;
        loop {
            let runs = self
                .history
                .list_runs_brief(self.task, before, RUNS_PER_READ)?;
            let Some(oldest) = runs.last() else {
                return Ok(ended(summary, budget, caps, pb::SearchEnd::AllSearched));
            };
            before = Some(oldest.id);
            for run in &runs {
                if summary.runs_searched == caps.runs {
                    return Ok(ended(summary, budget, caps, pb::SearchEnd::RunLimit));
                }
                summary.runs_searched += 1;
                let hits = self.search_run(run.id, &mut budget)?;
                if !hits.is_empty() && !self.send(run.id, &hits) {
                    return Err(Status::cancelled("the client stopped reading the search"));
                }
                if budget.hits_left == 0 {
                    return Ok(ended(summary, budget, caps, pb::SearchEnd::HitLimit));
                }
                if budget.bytes_left == 0 {
                    return Ok(ended(summary, budget, caps, pb::SearchEnd::ByteLimit));
                }
            }
        }
    }

    fn search_run(&self, run: RunId, budget: &mut Budget) -> Result<Vec<LineHit>, Status> {
        let mut hits = Vec::new();
        for stream in [Stream::Stdout, Stream::Stderr] {
            let path = stream_path(self.history.data_dir(), self.task, run, stream);
            let found = search_file(&path, stream, self.needle, budget).map_err(|error| {
                Status::internal(format!("cannot read {}: {error}", path.display()))
            })?;
            hits.extend(found);
        }
        Ok(hits)
    }

    /// Whether the client still reads.
    fn send(&self, run: RunId, hits: &[LineHit]) -> bool {
        let hits = hits
            .iter()
            .map(|hit| pb::SearchHit {
                run_id: run.0,
                stream: match hit.stream {
                    Stream::Stdout => pb::OutputStream::Stdout,
                    Stream::Stderr => pb::OutputStream::Stderr,
                }
                .into(),
                line_number: hit.line_number,
                line: hit.line.clone(),
                line_cut: hit.cut,
                offset: hit.offset,
            })
            .collect();
        let reply = pb::SearchOutputResponse {
            hits,
            summary: None,
        };
        self.sender.blocking_send(Ok(reply)).is_ok()
    }
}

fn ended(
    mut summary: pb::SearchSummary,
    budget: Budget,
    caps: Caps,
    end: pb::SearchEnd,
) -> pb::SearchSummary {
    summary.bytes_read = caps.budget.bytes_left - budget.bytes_left;
    summary.hits = caps.budget.hits_left - budget.hits_left;
    summary.end = end.into();
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_default_when_zero_and_never_pass_their_maximum() {
        let defaults = caps_of(&pb::SearchOutputRequest::default());
        assert_eq!(
            defaults,
            Caps {
                runs: DEFAULT_RUNS,
                budget: Budget {
                    bytes_left: DEFAULT_BYTES,
                    hits_left: DEFAULT_HITS
                }
            }
        );
        let greedy = caps_of(&pb::SearchOutputRequest {
            max_runs: u32::MAX,
            max_bytes: u64::MAX,
            max_hits: u32::MAX,
            ..pb::SearchOutputRequest::default()
        });
        assert_eq!(
            (
                greedy.runs,
                greedy.budget.bytes_left,
                greedy.budget.hits_left
            ),
            (MAX_RUNS, MAX_BYTES, MAX_HITS)
        );
    }
}
