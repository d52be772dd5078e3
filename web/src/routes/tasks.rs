//! GET / — the tasks page.

use axum::http::StatusCode;
use axum::response::Response;
use speedrack_proto::v1 as pb;

use super::{api_error, html};
use crate::api::Api;
use crate::context::Ctx;
use crate::state::AppState;
use crate::views;

pub async fn page(
    axum::extract::State(state): axum::extract::State<AppState>,
    ctx: Ctx,
) -> Response {
    let recent = ctx.display.execution_display.min(100);
    match state.api().list_tasks(recent).await {
        Ok(mut tasks) => {
            fill_recent_runs(state.api(), &mut tasks, recent).await;
            html(
                StatusCode::OK,
                views::tasks::page(&ctx.chrome, &tasks, ctx.hide_inactive),
            )
        }
        Err(error) => api_error(&ctx, &error),
    }
}

/// A daemon older than `ListTasksRequest.recent_runs` sends no recent runs: ask for each task's
/// runs instead, so the success rate and sparkline are real either way.
async fn fill_recent_runs(api: &Api, tasks: &mut [pb::Task], recent: u32) {
    for task in tasks.iter_mut() {
        if task.recent_runs.is_empty()
            && task.runs_retained > 0
            && let Ok(page) = api.list_runs(&task.name, recent, "").await
        {
            task.recent_runs = page.runs;
        }
    }
}
