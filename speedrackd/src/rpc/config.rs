//! GetConfig: the configuration in effect, as written and as understood, for the config page.

use speedrack_proto::v1 as pb;
use tonic::Status;

use super::{Service, convert};
use crate::config::effective::{Source, in_effect};
use crate::config::shown_settings_text;

pub async fn get_config(service: &Service) -> Result<pb::GetConfigResponse, Status> {
    let snapshot = service.snapshot().await?;
    let info = service.info.clone();
    // The files as they are on disk now; they may differ from what is in effect until a reload.
    let (settings_text, tasks_text) = tokio::task::spawn_blocking(move || {
        let read = |path: &std::path::Path| std::fs::read_to_string(path).unwrap_or_default();
        let settings = |path: &std::path::Path| shown_settings_text(&read(path), path);
        (
            info.settings_path
                .as_deref()
                .map(settings)
                .unwrap_or_default(),
            read(&info.tasks_path),
        )
    })
    .await
    .map_err(|error| Status::internal(format!("config reader failed: {error}")))?;
    let settings = &snapshot.settings;
    let conf_errors = snapshot
        .tasks
        .broken()
        .flat_map(|broken| {
            broken
                .errors
                .iter()
                .map(|error| convert::conf_error(&broken.label, error))
        })
        .collect();
    Ok(pb::GetConfigResponse {
        settings_path: service
            .info
            .settings_path
            .as_ref()
            .map(|path| path.display().to_string())
            .unwrap_or_default(),
        settings_text,
        tasks_path: service.info.tasks_path.display().to_string(),
        tasks_text,
        settings: in_effect(settings, &service.info.effective)
            .into_iter()
            .map(|row| pb::Setting {
                name: row.name,
                value: row.value,
                is_default: row.is_default,
                source: setting_source(row.source).into(),
            })
            .collect(),
        conf_errors,
        display: Some(pb::DisplaySettings {
            app_name: settings.app_name.clone(),
            script_name: settings.script_name.clone(),
            execution_display: settings.execution_display,
            fsize_max: settings.fsize_max,
            fsize_summary: settings.fsize_summary,
            email_url_prefix: settings.email_url_prefix.clone(),
        }),
        loaded_at: Some(convert::timestamp(
            snapshot.last_reload_at.unwrap_or(snapshot.started_at),
        )),
    })
}

fn setting_source(source: Source) -> pb::SettingSource {
    match source {
        Source::Default => pb::SettingSource::Default,
        Source::SettingsFile => pb::SettingSource::SettingsFile,
        Source::Flag => pb::SettingSource::Flag,
    }
}
