//! Ended runs' output, copied from this node's files into `run_output` so that every node can
//! show any run's output whoever ran it. The files stay the owner's to serve and prune; the
//! copy goes with its run's row (`ON DELETE CASCADE`). Live output of a running run is not
//! here: only ended runs have a copy.

use std::io::Read;
use std::path::Path;

use deadpool_postgres::Transaction;

use super::PgStore;
use super::worker::JobResult;
use crate::config::TaskName;
use crate::history::HistoryError;
use crate::history::output::{Stream, stream_path};
use crate::run::RunId;

/// Bytes of one stream copied at most: the files are already capped by `output_max_bytes`
/// (10 MiB by default), and one ended run must not load the database with more than this.
const STORED_STREAM_MAX: u64 = 16 << 20;

const STREAMS: [Stream; 2] = [Stream::Stdout, Stream::Stderr];

/// One stream's bytes, as a `run_output` row holds them.
type StoredStream = (RunId, &'static str, Vec<u8>);

/// `run_output.stream` of a stream.
fn stream_key(stream: Stream) -> &'static str {
    match stream {
        Stream::Stdout => "stdout",
        Stream::Stderr => "stderr",
    }
}

/// Copies the output files of `runs`, which ended in `tx`, into `run_output`; a stream that
/// stayed empty has no row.
pub(super) async fn store(
    tx: &Transaction<'_>,
    data_dir: &Path,
    runs: &[(RunId, TaskName)],
) -> JobResult<()> {
    if runs.is_empty() {
        return Ok(());
    }
    // The store's runtime is multi-threaded: its other worker goes on meanwhile.
    let files = tokio::task::block_in_place(|| read_files(data_dir, runs))?;
    if files.is_empty() {
        return Ok(());
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO run_output (run_id, stream, bytes) VALUES ($1, $2, $3)
             ON CONFLICT (run_id, stream) DO UPDATE SET bytes = EXCLUDED.bytes",
        )
        .await?;
    for (run, stream, bytes) in &files {
        tx.execute(&stmt, &[&run.0, stream, bytes]).await?;
    }
    Ok(())
}

/// The non-empty streams of `runs` on this node's disk, each cut at `STORED_STREAM_MAX`.
fn read_files(
    data_dir: &Path,
    runs: &[(RunId, TaskName)],
) -> Result<Vec<StoredStream>, HistoryError> {
    let mut files = Vec::new();
    for (run, task) in runs {
        for stream in STREAMS {
            let path = stream_path(data_dir, task, *run, stream);
            let bytes = read_head(&path).map_err(|source| HistoryError::Output {
                path: path.clone(),
                source,
            })?;
            if !bytes.is_empty() {
                files.push((*run, stream_key(stream), bytes));
            }
        }
    }
    Ok(files)
}

/// A missing file reads as empty: a stream that stayed empty, or a run that never started.
fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut bytes = Vec::new();
    file.take(STORED_STREAM_MAX).read_to_end(&mut bytes)?;
    Ok(bytes)
}

impl PgStore {
    /// A stream of an ended run as it was copied when it ended: empty when it printed
    /// nothing; `None` for a run still running or unknown.
    pub(super) fn stored_output(
        &self,
        run: RunId,
        stream: Stream,
    ) -> Result<Option<Vec<u8>>, HistoryError> {
        let key = stream_key(stream);
        self.worker
            .call("read stored run output", move |client| async move {
                let row = client
                    .query_opt(
                        "SELECT output.bytes FROM runs
                         LEFT JOIN run_output AS output
                             ON output.run_id = runs.id AND output.stream = $2
                         WHERE runs.id = $1 AND runs.status != 'running'",
                        &[&run.0, &key],
                    )
                    .await?;
                Ok(match row {
                    Some(row) => Some(row.try_get::<_, Option<Vec<u8>>>(0)?.unwrap_or_default()),
                    None => None,
                })
            })
    }
}
