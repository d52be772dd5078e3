//! GET / — the tasks page.

use axum::http::StatusCode;
use axum::response::Response;

use super::{api_error, html};
use crate::context::Ctx;
use crate::state::AppState;
use crate::views;

pub async fn page(
    axum::extract::State(state): axum::extract::State<AppState>,
    ctx: Ctx,
) -> Response {
    match state.api().list_tasks(ctx.display.row_runs()).await {
        Ok(tasks) => html(
            StatusCode::OK,
            views::tasks::page(&ctx.chrome, &tasks, ctx.hide_inactive),
        ),
        Err(error) => api_error(&ctx, &error),
    }
}
