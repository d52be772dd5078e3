//! Reload: read and validate both files away from the runtime loop, then hand the loop a
//! configuration that is known to be good. An invalid file changes nothing. Asked through
//! the API of a node among several, every other live node reloads too (its own files).

use speedrack_proto::v1 as pb;
use tonic::Status;

use super::{Service, convert};
use crate::config::{check_tasks_file, default_time_zone, load_settings, load_tasks};
use crate::legacy_keys::keep_legacy_keys;
use crate::runtime::Command;

/// Reloads this node, then asks every other live node to reload too and says how each went.
pub async fn reload_everywhere(service: &Service) -> Result<pb::ReloadResponse, Status> {
    let mut response = reload(service).await?;
    response.other_nodes = service.reload_others().await;
    Ok(response)
}

/// Reloads this node only (SIGHUP; a reload another node asked for).
pub async fn reload(service: &Service) -> Result<pb::ReloadResponse, Status> {
    let info = service.info.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let settings = load_settings(info.settings_path.as_deref())?;
        check_tasks_file(&info.tasks_path, settings.allow_insecure_tasks_file)?;
        let tasks = load_tasks(&info.tasks_path, default_time_zone(&settings))?;
        Ok::<_, crate::config::ConfigError>((settings, tasks))
    })
    .await
    .map_err(|error| Status::internal(format!("config reader failed: {error}")))?;
    let (settings, mut tasks) = loaded.map_err(|error| {
        tracing::warn!("reload refused, running configuration kept: {error}");
        Status::failed_precondition(error.to_string())
    })?;
    crate::check::log_warnings(&tasks);
    keep_legacy_keys(&mut tasks, service.history.as_ref())
        .map_err(|error| Status::unavailable(format!("cannot read history: {error}")))?;
    let diff = service
        .ask(|reply| Command::Reload {
            settings: Box::new(settings),
            tasks,
            reply,
        })
        .await?;
    // The file's parse is over and the loop holds the new set.
    crate::memory::release_freed();
    Ok(convert::reload_diff(&diff))
}
