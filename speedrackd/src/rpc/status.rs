//! GetStatus: who this daemon is, what it was started with, how many tasks are in which state,
//! whether its data dir is running out of space, and what is wrong in its cluster.

use speedrack_proto::v1 as pb;
use tonic::Status;

use super::{Service, convert};
use crate::disk::DiskSpace;

pub async fn get_status(service: &Service) -> Result<pb::GetStatusResponse, Status> {
    let snapshot = service.snapshot().await?;
    let nodes = service.nodes(&snapshot).await?;
    let info = &service.info;
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let path_text = |path: &std::path::Path| path.display().to_string();
    let space = DiskSpace::of(&info.data_dir)
        .inspect_err(|error| {
            tracing::warn!(dir = %info.data_dir.display(), "cannot read the data dir's free space: {error}")
        })
        .ok();
    Ok(pb::GetStatusResponse {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        protocol_version: speedrack_proto::PROTOCOL_VERSION,
        pid: std::process::id(),
        started_at: Some(convert::timestamp(snapshot.started_at)),
        settings_path: info
            .settings_path
            .as_deref()
            .map(path_text)
            .unwrap_or_default(),
        tasks_path: path_text(&info.tasks_path),
        socket_path: path_text(&info.socket_path),
        data_dir: path_text(&info.data_dir),
        demo_mode: info.demo_mode,
        task_count: count(snapshot.tasks.entries.len()),
        running_count: count(snapshot.live.values().map(|live| live.running.len()).sum()),
        suspended_count: count(snapshot.live.values().filter(|live| live.suspended).count()),
        conf_error_count: count(snapshot.tasks.broken().count()),
        last_reload_at: snapshot.last_reload_at.map(convert::timestamp),
        data_dir_free_bytes: space.map_or(0, |space| space.free_bytes),
        data_dir_total_bytes: space.map_or(0, |space| space.total_bytes),
        low_disk: space.is_some_and(|space| space.is_low()),
        pending_history_writes: count(snapshot.pending_history_writes),
        node: info.node.to_string(),
        store: info.store.to_string(),
        cluster_warnings: service.warnings(&nodes).cluster,
    })
}
