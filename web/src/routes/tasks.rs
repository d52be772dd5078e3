//! GET / — the tasks page, filtered by `?show=` and sorted by `?sort=` (see `views/triage.rs`),
//! under the cluster's warnings.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{api_error, html};
use crate::context::Ctx;
use crate::state::AppState;
use crate::views;
use crate::views::triage::View;

/// The list's query; values it does not know show the list as it opens.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    show: Option<String>,
    sort: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let view = View::parse(query.show.as_deref(), query.sort.as_deref());
    let api = state.api();
    let (tasks, status) = tokio::join!(api.list_tasks(ctx.display.row_runs()), api.get_status());
    // The cluster's warnings are an extra: without them the list is still the list.
    let warnings = status
        .map(|status| status.cluster_warnings)
        .unwrap_or_default();
    match tasks {
        Ok(tasks) => html(
            StatusCode::OK,
            views::tasks::page(&ctx.chrome, &tasks, ctx.hide_inactive, view, &warnings),
        ),
        Err(error) => api_error(&ctx, &error),
    }
}
