//! The speedrack.v1 service: one handler per RPC, each in the file named for what it serves.
//!
//! Handlers read history on their own read-only connections (`history::Store`), never through
//! the loop, and ask the runtime loop for everything live through its command channel; events
//! reach watchers through one feed (`event_feed.rs`). This module is the only one that sees
//! proto types.

mod auth;
mod config;
mod control;
mod convert;
mod error;
mod event_feed;
mod limits;
mod list_pages;
mod metrics;
mod next_fires;
mod nodes;
mod paging;
mod relayed;
mod reload;
mod remote_runs;
mod run_filter;
mod runs;
mod search;
mod standard;
mod status;
mod tail;
mod tasks;
#[cfg(test)]
mod test_api;
mod test_notify;
mod watch_events;

use std::path::PathBuf;
use std::sync::Arc;

use speedrack_proto::v1 as pb;
use speedrack_proto::v1::speedrack_server::Speedrack;
use tokio::sync::{mpsc, oneshot, watch};
use tonic::{Request, Response, Status};

pub use auth::authorize;
pub use relayed::{ClusterLink, handler as relay_handler};
pub use reload::reload as reload_files;
pub use standard::add_standard_services;

use crate::config::{NodeName, StoreUrl};
use crate::events::Announce;
use crate::history::{HistoryError, Store};
use crate::metrics::Metrics;
use crate::runtime::{Command, Snapshot};

/// Facts about this daemon that never change while it runs.
#[derive(Debug, Clone)]
pub struct DaemonInfo {
    pub settings_path: Option<PathBuf>,
    pub tasks_path: PathBuf,
    pub socket_path: PathBuf,
    pub data_dir: PathBuf,
    pub demo_mode: bool,
    /// See `DaemonConfig::effective`.
    pub effective: Vec<crate::config::effective::Effective>,
    /// Names this run of the daemon in WatchEvents: its start instant in microseconds since the
    /// Unix epoch.
    pub epoch: u64,
    /// This daemon's node name (`Settings::node_name`), read at start.
    pub node: NodeName,
    /// Where history lives, read at start.
    pub store: StoreUrl,
}

/// The service implementation handed to tonic.
#[derive(Clone)]
pub struct Service {
    commands: mpsc::Sender<Command>,
    history: Arc<dyn Store>,
    /// The daemon's events, numbered and converted once for every WatchEvents stream.
    feed: event_feed::EventFeed,
    /// Output files of running runs as they are written, for TailOutput.
    live_output: crate::exec::LiveOutput,
    /// Turns true when the daemon stops, so that open event streams end.
    stopping: watch::Receiver<bool>,
    info: Arc<DaemonInfo>,
    /// What the runtime counts since start, rendered by GetMetrics.
    metrics: Metrics,
    /// The cluster as this node's heartbeat last read it, and the relay to the other nodes;
    /// `None` for a daemon alone.
    cluster: Option<relayed::ClusterLink>,
}

impl Service {
    pub fn new(
        commands: mpsc::Sender<Command>,
        history: Arc<dyn Store>,
        stopping: watch::Receiver<bool>,
        info: DaemonInfo,
        metrics: Metrics,
        live_output: crate::exec::LiveOutput,
    ) -> Service {
        convert::set_runs_node(&info.node);
        let feed = event_feed::EventFeed::new(Arc::clone(&history), info.epoch);
        Service {
            commands,
            history,
            feed,
            live_output,
            stopping,
            info: Arc::new(info),
            metrics,
            cluster: None,
        }
    }

    /// Where the runtime loop announces its events: this service's feed, which hands them to
    /// every watcher.
    pub fn announcer(&self) -> Arc<dyn Announce> {
        Arc::new(self.feed.clone())
    }

    /// Serves the cluster's nodes table as the node list (ListNodes, status, metrics), and
    /// passes to other nodes what is theirs to do.
    pub fn with_cluster(mut self, link: relayed::ClusterLink) -> Service {
        self.cluster = Some(link);
        self
    }

    /// Sends a command to the runtime loop and waits for its reply.
    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, Status> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| error::shutting_down())?;
        answer.await.map_err(|_| error::shutting_down())
    }

    /// Runs `read` on history off the async workers, which the runtime loop shares: a slow
    /// read (a long page, a busy disk) then delays no fire.
    async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&dyn Store) -> Result<T, HistoryError> + Send + 'static,
    ) -> Result<T, Status> {
        let history = Arc::clone(&self.history);
        tokio::task::spawn_blocking(move || read(history.as_ref()))
            .await
            .map_err(|error| Status::internal(format!("a history read failed: {error}")))?
            .map_err(Status::from)
    }

    async fn snapshot(&self) -> Result<Snapshot, Status> {
        self.ask(|reply| Command::Snapshot { reply }).await
    }
}

type EventStream = tokio_stream::wrappers::ReceiverStream<Result<pb::WatchEventsResponse, Status>>;

#[tonic::async_trait]
impl Speedrack for Service {
    async fn get_status(
        &self,
        _: Request<pb::GetStatusRequest>,
    ) -> Result<Response<pb::GetStatusResponse>, Status> {
        status::get_status(self).await.map(Response::new)
    }

    async fn list_tasks(
        &self,
        request: Request<pb::ListTasksRequest>,
    ) -> Result<Response<pb::ListTasksResponse>, Status> {
        tasks::list_tasks(self, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_task(
        &self,
        request: Request<pb::GetTaskRequest>,
    ) -> Result<Response<pb::GetTaskResponse>, Status> {
        tasks::get_task(self, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_runs(
        &self,
        request: Request<pb::ListRunsRequest>,
    ) -> Result<Response<pb::ListRunsResponse>, Status> {
        runs::list_runs(self, request.into_inner())
            .await
            .map(Response::new)
    }

    type SearchOutputStream = search::SearchStream;

    async fn search_output(
        &self,
        request: Request<pb::SearchOutputRequest>,
    ) -> Result<Response<Self::SearchOutputStream>, Status> {
        search::search_output(self, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn count_runs(
        &self,
        request: Request<pb::CountRunsRequest>,
    ) -> Result<Response<pb::CountRunsResponse>, Status> {
        run_filter::count_runs(self, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_run(
        &self,
        request: Request<pb::GetRunRequest>,
    ) -> Result<Response<pb::GetRunResponse>, Status> {
        runs::get_run(self, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn read_output(
        &self,
        request: Request<pb::ReadOutputRequest>,
    ) -> Result<Response<pb::ReadOutputResponse>, Status> {
        runs::read_output(self, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn run_now(
        &self,
        request: Request<pb::RunNowRequest>,
    ) -> Result<Response<pb::RunNowResponse>, Status> {
        control::run_now(self, request).await.map(Response::new)
    }

    async fn suspend(
        &self,
        request: Request<pb::SuspendRequest>,
    ) -> Result<Response<pb::SuspendResponse>, Status> {
        let request = request.into_inner();
        limits::on_behalf_of(&request.on_behalf_of)?;
        let task = control::set_suspended(self, &request.task, true).await?;
        Ok(Response::new(pb::SuspendResponse { task: Some(task) }))
    }

    async fn resume(
        &self,
        request: Request<pb::ResumeRequest>,
    ) -> Result<Response<pb::ResumeResponse>, Status> {
        let request = request.into_inner();
        limits::on_behalf_of(&request.on_behalf_of)?;
        let task = control::set_suspended(self, &request.task, false).await?;
        Ok(Response::new(pb::ResumeResponse { task: Some(task) }))
    }

    async fn reload(
        &self,
        request: Request<pb::ReloadRequest>,
    ) -> Result<Response<pb::ReloadResponse>, Status> {
        limits::on_behalf_of(&request.get_ref().on_behalf_of)?;
        reload::reload_everywhere(self).await.map(Response::new)
    }

    async fn list_next_fires(
        &self,
        request: Request<pb::ListNextFiresRequest>,
    ) -> Result<Response<pb::ListNextFiresResponse>, Status> {
        next_fires::list_next_fires(self, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn kill(
        &self,
        request: Request<pb::KillRequest>,
    ) -> Result<Response<pb::KillResponse>, Status> {
        control::kill(self, request).await.map(Response::new)
    }

    async fn get_config(
        &self,
        _: Request<pb::GetConfigRequest>,
    ) -> Result<Response<pb::GetConfigResponse>, Status> {
        config::get_config(self).await.map(Response::new)
    }

    type TailOutputStream = tail::TailStream;

    async fn tail_output(
        &self,
        request: Request<pb::TailOutputRequest>,
    ) -> Result<Response<tail::TailStream>, Status> {
        Ok(Response::new(tail::tail_output(self, request.into_inner())))
    }

    async fn test_notify(
        &self,
        request: Request<pb::TestNotifyRequest>,
    ) -> Result<Response<pb::TestNotifyResponse>, Status> {
        test_notify::test_notify(self, request.into_inner())
            .await
            .map(Response::new)
    }

    type WatchEventsStream = EventStream;

    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<EventStream>, Status> {
        Ok(Response::new(watch_events::watch_events(
            self,
            request.get_ref(),
        )))
    }

    async fn get_metrics(
        &self,
        _: Request<pb::GetMetricsRequest>,
    ) -> Result<Response<pb::GetMetricsResponse>, Status> {
        metrics::get_metrics(self).await.map(Response::new)
    }

    type ScrapeMetricsStream = metrics::MetricsStream;

    async fn scrape_metrics(
        &self,
        _: Request<pb::ScrapeMetricsRequest>,
    ) -> Result<Response<metrics::MetricsStream>, Status> {
        metrics::scrape_metrics(self).await.map(Response::new)
    }

    async fn list_nodes(
        &self,
        _: Request<pb::ListNodesRequest>,
    ) -> Result<Response<pb::ListNodesResponse>, Status> {
        nodes::list_nodes(self).await.map(Response::new)
    }
}
