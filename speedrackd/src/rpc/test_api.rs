//! A `Service` for handler tests: real history in a temp dir, its event feed for the test to
//! announce into, and a runtime-loop queue that nothing answers (a handler that asks the loop waits).
//! It runs no runtime loop and serves no socket.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::{DaemonInfo, Service};
use crate::events::Announce;
use crate::exec::LiveOutput;
use crate::history::{SqliteStore, Store};
use crate::runtime::Command;

pub struct TestApi {
    pub service: Service,
    pub events: Arc<dyn Announce>,
    /// What handlers asked the runtime loop.
    pub loop_queue: mpsc::Receiver<Command>,
    pub history: Arc<dyn Store>,
    pub live_output: LiveOutput,
    _stop: watch::Sender<bool>,
    pub dir: tempfile::TempDir,
}

/// The epoch the test daemon's events carry.
pub const EPOCH: u64 = 42;
/// The test daemon's node name.
pub const NODE: &str = "test-node";

pub fn start() -> TestApi {
    let dir = tempfile::tempdir().expect("temp dir");
    let history: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).expect("history"));
    let live_output = LiveOutput::default();
    let (commands, loop_queue) = mpsc::channel(8);
    let (stop, stopping) = watch::channel(false);
    let info = DaemonInfo {
        settings_path: None,
        tasks_path: dir.path().join("tasks.yaml"),
        socket_path: dir.path().join("socket"),
        data_dir: dir.path().to_path_buf(),
        demo_mode: false,
        effective: Vec::new(),
        epoch: EPOCH,
        node: crate::config::NodeName::parse(NODE).expect("a node name"),
        store: crate::config::StoreUrl::Sqlite,
    };
    let service = Service::new(
        commands,
        Arc::clone(&history),
        stopping,
        info,
        crate::metrics::Metrics::new(),
        live_output.clone(),
    );
    TestApi {
        events: service.announcer(),
        service,
        loop_queue,
        history,
        live_output,
        _stop: stop,
        dir,
    }
}
