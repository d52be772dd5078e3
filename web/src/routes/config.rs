//! GET /config (the configuration and debug facts) and POST /reload, which always redirects
//! back to the config page with what happened (a refused reload included).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use speedrack_proto::v1 as pb;

use super::{api_error, html, see_other};
use crate::context::Ctx;
use crate::flash::{Flash, FlashKind};
use crate::state::AppState;
use crate::views;
use crate::views::config::ConfigPage;

pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let api = state.api();
    let (status, config, tasks) =
        tokio::join!(api.get_status(), api.get_config(), api.list_tasks(0));
    let status = match status {
        Ok(status) => status,
        Err(error) => return api_error(&ctx, &error),
    };
    let tasks = tasks.unwrap_or_default();
    let data = ConfigPage {
        status: Some(&status),
        config: config.as_ref().map_err(ToString::to_string),
        tasks: &tasks,
        gateway: state.facts(),
    };
    html(StatusCode::OK, views::config::page(&ctx.chrome, &data))
}

pub async fn reload(State(state): State<AppState>, ctx: Ctx) -> Response {
    let who = ctx.chrome.user.clone().unwrap_or_default();
    let reloaded = state.api().reload(&who).await;
    state.forget_display();
    match reloaded {
        Ok(diff) => {
            let kind = if diff.other_nodes.iter().any(|node| !node.error.is_empty()) {
                FlashKind::Danger
            } else if diff.conf_errors.is_empty() {
                FlashKind::Success
            } else {
                FlashKind::Info
            };
            see_other(
                &ctx,
                "/config",
                Some(&Flash::new(kind, reload_summary(&diff))),
            )
        }
        // Post/redirect/get: the reason shows on the config page, and F5 there never re-posts.
        Err(error) => see_other(
            &ctx,
            "/config",
            Some(&Flash::new(FlashKind::Danger, reload_refused(&error))),
        ),
    }
}

/// Why a reload changed nothing, and what to do.
fn reload_refused(error: &crate::api::ApiError) -> String {
    format!("Reload refused, nothing changed: {error}. Fix the file and reload again.")
}

/// "Reloaded: added a; removed b; changed c; 3 unchanged; 1 conf error."
pub fn reload_summary(diff: &pb::ReloadResponse) -> String {
    let mut parts = Vec::new();
    for (word, names) in [
        ("added", &diff.added),
        ("removed", &diff.removed),
        ("changed", &diff.changed),
    ] {
        if !names.is_empty() {
            parts.push(format!("{word} {}", names.join(", ")));
        }
    }
    parts.push(format!("{} unchanged", diff.unchanged.len()));
    match diff.conf_errors.len() {
        0 => {}
        1 => parts.push("1 conf error".to_owned()),
        count => parts.push(format!("{count} conf errors")),
    }
    let mut said = format!("Reloaded: {}.", parts.join("; "));
    for node in &diff.other_nodes {
        match node.error.as_str() {
            "" => said.push_str(&format!(" Node {} reloaded too.", node.node)),
            error => said.push_str(&format!(
                " Node {} did not confirm a reload: {error}.",
                node.node
            )),
        }
    }
    said
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reload_result_in_one_line() {
        let diff = pb::ReloadResponse {
            added: vec!["a".to_owned(), "b".to_owned()],
            removed: vec![],
            changed: vec!["c".to_owned()],
            unchanged: vec!["d".to_owned(); 3],
            conf_errors: vec![pb::ConfError::default()],
            ..pb::ReloadResponse::default()
        };
        assert_eq!(
            reload_summary(&diff),
            "Reloaded: added a, b; changed c; 3 unchanged; 1 conf error."
        );
        let nodes = pb::ReloadResponse {
            other_nodes: vec![
                pb::NodeReload {
                    node: "b".to_owned(),
                    changed: 1,
                    ..pb::NodeReload::default()
                },
                pb::NodeReload {
                    node: "c".to_owned(),
                    error: "its tasks file: line 3: no command".to_owned(),
                    ..pb::NodeReload::default()
                },
            ],
            ..pb::ReloadResponse::default()
        };
        assert_eq!(
            reload_summary(&nodes),
            "Reloaded: 0 unchanged. Node b reloaded too. Node c did not confirm a reload: its \
             tasks file: line 3: no command."
        );
        assert_eq!(
            reload_summary(&pb::ReloadResponse::default()),
            "Reloaded: 0 unchanged."
        );
    }
}
