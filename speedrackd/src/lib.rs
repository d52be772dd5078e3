//! speedrackd: schedules tasks, runs them, keeps their history, and serves the speedrack.v1 API
//! on a Unix socket.
//!
//! The daemon owns all state; clients (speedrackctl, the web gateway) see it only through the
//! API. Pure logic (config validation, schedules, the scheduler, failure rules, reload diffs)
//! lives apart from I/O (runtime loop, processes, SQLite, the socket), so it can be tested
//! without any of them. The binary's `main` decides exit codes; nothing in here exits.

pub mod check;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod data_dir_lock;
pub mod demo;
mod disk;
mod events;
mod exec;
pub mod history;
pub mod import;
pub mod init;
mod legacy_keys;
mod memory;
mod metrics;
mod metrics_process;
mod nodes;
mod notify;
mod overlap;
pub mod postgres;
pub mod preview;
mod recovery;
mod reload;
pub mod retention;
mod rpc;
pub mod run;
mod runtime;
pub mod schedule;
pub mod scheduler;
pub mod socket;
pub mod startup;
mod sweep_clock;
mod verdict;
mod watchdog;
pub mod web_host;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use speedrack_proto::v1::speedrack_server::SpeedrackServer;
use tokio::net::UnixListener;
use tokio::sync::{mpsc, watch};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Server;

use crate::clock::Clock;
use crate::config::{Settings, TaskName, TaskSet};
use crate::exec::LiveOutput;
use crate::history::{HistoryError, SqliteStore, Store};
use crate::metrics::Metrics;
use crate::rpc::{DaemonInfo, Service, authorize};
use crate::runtime::{Command, LoopControl, Restored, Runtime};
pub use crate::runtime::{Hosted, LoopError};

/// For `main`, before it starts any thread.
pub use crate::exec::hold_child_signal;

/// The environment a run gets, for tools that must start the same processes as the daemon:
/// the benchmarks' machine floor (a child given `LANG` loads its locale, so a floor without
/// it would start cheaper children than the daemon does).
pub use crate::exec::environment::{Environment, RunFacts, run_environment};

/// Everything the daemon starts from, already validated.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub settings: Settings,
    pub settings_path: Option<PathBuf>,
    pub tasks: TaskSet,
    pub tasks_path: PathBuf,
    pub socket_path: PathBuf,
    pub data_dir: PathBuf,
    pub demo_mode: bool,
    /// The group of `socket_group`, whose members may use the API too.
    pub socket_group: Option<u32>,
    /// The settings resolved at start from flags, the settings file or defaults, as GetConfig
    /// reports them.
    pub effective: Vec<config::effective::Effective>,
}

/// Why the daemon stopped with an error after starting.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("cannot build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("cannot start the clock of the hourly history sweep: {0}")]
    SweepClock(#[from] tokio_cron_scheduler::JobSchedulerError),
    #[error("the API server failed: {0}")]
    Server(#[from] tonic::transport::Error),
    #[error(transparent)]
    Store(#[from] postgres::PgSetupError),
    #[error(transparent)]
    Cluster(#[from] cluster::ClusterError),
    #[error("opening the PostgreSQL history stopped: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Loop(#[from] LoopError),
}

impl DaemonError {
    /// Whether the settings are at fault (exit 78): the store's files or the lease.
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            DaemonError::Store(_) | DaemonError::Cluster(cluster::ClusterError::Lease { .. })
        )
    }
}

/// How long open API streams get to close after shutdown begins.
const SERVER_STOP_GRACE: Duration = Duration::from_secs(5);

/// Runs the daemon on an already bound socket until `shutdown` completes, then stops firing,
/// lets running tasks finish for the shutdown grace, and returns. Each message on `reloads`
/// (SIGHUP, in the binary) re-reads the files as the Reload RPC does. `host_loop` is given the
/// runtime loop, to run ([`Hosted::run`]) on a thread outside this tokio runtime; it fails
/// only when nobody can take it.
pub async fn serve(
    mut config: DaemonConfig,
    listener: UnixListener,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()>,
    mut reloads: mpsc::UnboundedReceiver<()>,
    host_loop: impl FnOnce(Hosted) -> Result<(), LoopError>,
) -> Result<(), DaemonError> {
    let socket_group = config.socket_group;
    let (history, cluster) = open_history(&config, &clock).await?;
    legacy_keys::keep_legacy_keys(&mut config.tasks, history.as_ref())?;
    exec::contain_runs(&config.settings.run_cgroup, &config.data_dir);
    let interrupted = recovery::close_orphans(history.as_ref(), clock.now())?;
    let restored = Restored {
        suspension: history.suspension_states()?,
        last_fires: history.last_fires()?,
        owed: history.owed_fires()?,
        failure_streaks: history.failure_streaks()?,
    };
    let (commands, command_queue) = mpsc::channel(256);
    let (stopping, stopping_rx) = watch::channel(false);
    let info = DaemonInfo {
        settings_path: config.settings_path,
        tasks_path: config.tasks_path,
        socket_path: config.socket_path,
        data_dir: config.data_dir,
        demo_mode: config.demo_mode,
        effective: config.effective,
        epoch: u64::try_from(clock.now().timestamp_micros()).unwrap_or(0),
        node: config.settings.node_name(),
        store: config.settings.store.clone(),
    };
    let metrics = Metrics::new().with_data_dir(&info.data_dir);
    let live_output = LiveOutput::default();
    let service = Service::new(
        commands.clone(),
        Arc::clone(&history),
        stopping_rx,
        info,
        metrics.clone(),
        live_output.clone(),
    );
    let service = match &cluster {
        Some(node) => {
            let service = service.with_cluster(rpc::ClusterLink::new(
                node.joined.view.clone(),
                node.relay.clone(),
            ));
            node.handler
                .send_replace(Some(rpc::relay_handler(service.clone())));
            service
        }
        None => service,
    };
    let events = service.announcer();
    recovery::announce_closed(history.as_ref(), &interrupted, events.as_ref());
    let reload_service = service.clone();
    tokio::spawn(async move {
        while reloads.recv().await.is_some() {
            // A reload done and a file refused are logged where they happen (the runtime,
            // the reader), once whoever asked; only other failures are left to say here.
            if let Err(status) = rpc::reload_files(&reload_service).await
                && status.code() != tonic::Code::FailedPrecondition
            {
                tracing::warn!(
                    "reload on SIGHUP failed, running configuration kept: {}",
                    status.message()
                );
            }
        }
    });
    let runtime = Runtime::new(
        clock,
        config.settings,
        config.tasks,
        restored,
        history,
        events,
        metrics,
    )
    .with_live_output(live_output);
    let (runtime, cluster) = match cluster {
        Some(node) => {
            tokio::spawn(pass_on_run_news(node.news, commands.clone()));
            (
                runtime.with_cluster(
                    node.joined.view.clone(),
                    node.tasks_hash,
                    node.joined.takeovers.clone(),
                ),
                Some(node.joined),
            )
        }
        None => (runtime, None),
    };

    let uid = nix::unistd::getuid().as_raw();
    let mut server_stop = stopping.subscribe();
    let router = Server::builder().add_service(InterceptedService::new(
        SpeedrackServer::new(service).max_encoding_message_size(speedrack_proto::MAX_MESSAGE_BYTES),
        authorize(uid, socket_group),
    ));
    let (router, health) = rpc::add_standard_services(router, uid, socket_group).await?;
    let server = router.serve_with_incoming_shutdown(
        tokio_stream::wrappers::UnixListenerStream::new(listener),
        async move {
            let _ = server_stop.changed().await;
        },
    );
    let server = tokio::spawn(server);
    tracing::info!("speedrackd is ready");
    watchdog::ready();
    let runtime = match watchdog::interval() {
        Some(every) => runtime.with_watchdog(every),
        None => runtime,
    };

    let mut sweep_clock = sweep_clock::start(commands.clone()).await?;
    // Health turns NOT_SERVING as soon as shutdown begins, not once the tasks are done.
    let shutdown = async move {
        shutdown.await;
        health.stopping().await;
    };
    let (looping, hosted) = LoopControl::prepare(runtime, command_queue);
    host_loop(hosted)?;
    let loop_ended = looping.run_until(shutdown).await;
    if let Some(joined) = cluster {
        joined.leave().await;
    }
    let left = exec::kill_everything_left();
    if left > 0 {
        tracing::warn!(
            processes = left,
            "killed what runs left behind before exiting"
        );
    }
    watchdog::stopping();
    if let Err(error) = sweep_clock.shutdown().await {
        tracing::warn!("cannot stop the clock of the hourly history sweep: {error}");
    }
    stopping.send_replace(true);
    match tokio::time::timeout(SERVER_STOP_GRACE, server).await {
        Ok(Ok(result)) => result?,
        Ok(Err(join_error)) => tracing::error!("the API server task failed: {join_error}"),
        Err(_) => tracing::warn!("API connections did not close in time; exiting anyway"),
    }
    Ok(loop_ended?)
}

/// This daemon as a node of a cluster.
struct ClusterNode {
    joined: cluster::Joined,
    /// Where the runtime tells the heartbeat the tasks file's hash after a reload.
    tasks_hash: watch::Sender<String>,
    relay: cluster::Relay,
    /// Where the API hands the relay what carries out other nodes' requests, once built.
    handler: watch::Sender<Option<cluster::Handler>>,
    /// The tasks whose runs other nodes started or ended (none named: any).
    news: mpsc::Receiver<Vec<String>>,
}

/// News of other nodes' runs waiting to be passed on; more is dropped (it is a hint).
const RUN_NEWS_QUEUE: usize = 64;
/// How long news is gathered before the runtime is told, so that a busy cluster's hundred runs
/// a second make a few announcements, not hundreds.
const RUN_NEWS_EVERY: Duration = Duration::from_millis(250);

/// Tells the runtime which tasks' rows other nodes' runs changed, gathered over
/// [`RUN_NEWS_EVERY`], so that this node's watchers see them too.
async fn pass_on_run_news(mut news: mpsc::Receiver<Vec<String>>, commands: mpsc::Sender<Command>) {
    while let Some(first) = news.recv().await {
        tokio::time::sleep(RUN_NEWS_EVERY).await;
        let mut named = Some(std::collections::BTreeSet::new());
        for tasks in std::iter::once(first).chain(std::iter::from_fn(|| news.try_recv().ok())) {
            match (&mut named, tasks.is_empty()) {
                (_, true) => named = None,
                (Some(set), false) => set.extend(tasks),
                (None, false) => {}
            }
        }
        let tasks = named.map(|names| {
            names
                .iter()
                .filter_map(|name| TaskName::parse_normalised(name))
                .collect()
        });
        // A full queue means a busy loop: this news is a hint, and the next will come.
        let _ = commands.try_send(Command::OthersRan { tasks });
    }
}

/// The history the settings name: the data dir's SQLite database, or a PostgreSQL database
/// shared with other nodes, joined as this node.
async fn open_history(
    config: &DaemonConfig,
    clock: &Arc<dyn Clock>,
) -> Result<(Arc<dyn Store>, Option<ClusterNode>), DaemonError> {
    if config.settings.store == config::StoreUrl::Sqlite {
        return Ok((Arc::new(SqliteStore::open(&config.data_dir)?), None));
    }
    let target = postgres::PgTarget::from_settings(&config.settings)?;
    let node = config.settings.node_name();
    // Connecting and migrating block on the store's own runtime.
    let store = {
        let (target, node, data_dir) = (target.clone(), node.clone(), config.data_dir.clone());
        tokio::task::spawn_blocking(move || {
            history::pg::PgStore::connect(&target, &node, &data_dir)
        })
        .await??
    };
    tracing::info!(store = target.shown(), node = %node, "history is shared through PostgreSQL");
    let (tasks_hash, tasks_file_hash) = watch::channel(config.tasks.file_hash.clone());
    let (handler, handler_rx) = watch::channel(None);
    let (news_tx, news) = mpsc::channel(RUN_NEWS_QUEUE);
    let relay = cluster::Relay::start(
        target.clone(),
        node.clone(),
        store.pool().clone(),
        handler_rx,
        news_tx,
    );
    let joined = cluster::join(
        cluster::NodeConfig {
            target,
            node,
            lease: config.settings.lease,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            tasks_file_hash,
            busy: config.settings.busy,
        },
        Arc::clone(clock),
    )
    .await?;
    let node = ClusterNode {
        joined,
        tasks_hash,
        relay,
        handler,
        news,
    };
    Ok((Arc::new(store), Some(node)))
}
