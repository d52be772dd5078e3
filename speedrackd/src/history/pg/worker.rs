//! The bridge from the synchronous `Store` calls to PostgreSQL's asynchronous client: a tokio
//! runtime of the store's own (two worker threads) runs every query, and the calling thread
//! waits for the answer on a channel.
//!
//! The callers are tokio worker threads and current-thread test runtimes with a paused clock,
//! where `block_on` would panic and a paused timer would never fire: the queries, their pool
//! and their time limit live on this runtime, never on the caller's. It knows nothing of the
//! schema; the files of each concern write the queries.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Object, Pool};
use tokio::runtime::{Handle, Runtime};

use crate::history::HistoryError;

/// Worker threads of the store's runtime: queries mostly wait on the network.
const WORKER_THREADS: usize = 2;
/// Longest a call may take, waiting for a connection included, before it fails: a stuck
/// database must not stop the runtime loop for good.
const CALL_LIMIT: Duration = Duration::from_secs(30);

/// An error inside a query job, before the call says what it was doing.
#[derive(Debug)]
pub(super) enum JobError {
    Pg(tokio_postgres::Error),
    History(HistoryError),
}

impl From<tokio_postgres::Error> for JobError {
    fn from(error: tokio_postgres::Error) -> JobError {
        JobError::Pg(error)
    }
}

impl From<HistoryError> for JobError {
    fn from(error: HistoryError) -> JobError {
        JobError::History(error)
    }
}

pub(super) type JobResult<T> = Result<T, JobError>;

/// The store's runtime and pool. Dropping it stops the runtime without waiting, so that a
/// store can be dropped on any thread, async or not.
pub(super) struct Worker {
    runtime: Option<Runtime>,
    handle: Handle,
    pool: Pool,
    /// The store URL as `PgTarget::shown` writes it, for errors.
    url: Arc<str>,
}

impl Worker {
    pub(super) fn start(pool: impl FnOnce() -> Pool, url: &str) -> Result<Worker, HistoryError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("speedrack-pg")
            .enable_all()
            .build()
            .map_err(HistoryError::PgRuntime)?;
        Ok(Worker {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
            pool: pool(),
            url: url.into(),
        })
    }

    pub(super) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Runs `job` with a pooled connection on the store's runtime and waits for its answer,
    /// at most `CALL_LIMIT`; errors say they happened while `doing`.
    pub(super) fn call<T, F, Fut>(&self, doing: &'static str, job: F) -> Result<T, HistoryError>
    where
        T: Send + 'static,
        F: FnOnce(Object) -> Fut + Send + 'static,
        Fut: Future<Output = JobResult<T>> + Send,
    {
        let (answer, answered) = std::sync::mpsc::sync_channel(1);
        let pool = self.pool.clone();
        let url = Arc::clone(&self.url);
        self.handle.spawn(async move {
            let work = async {
                let client = pool.get().await.map_err(|source| HistoryError::PgConnect {
                    url: url.to_string(),
                    doing,
                    source,
                })?;
                job(client).await.map_err(|error| match error {
                    JobError::Pg(source) => HistoryError::Postgres { doing, source },
                    JobError::History(error) => error,
                })
            };
            // Built here, on this runtime: the caller's clock may be paused.
            let result = tokio::time::timeout(CALL_LIMIT, work).await.unwrap_or(Err(
                HistoryError::PgTimeout {
                    doing,
                    limit: CALL_LIMIT,
                },
            ));
            // The caller waits until it has this; it cannot have gone.
            let _ = answer.send(result);
        });
        answered
            .recv()
            .map_err(|_| HistoryError::PgStopped { doing })?
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
