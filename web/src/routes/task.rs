//! GET /tasks/{name} (the task page) and /tasks/{name}/runs (all runs, paged).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::run::load_outputs;
use super::{api_error, html, not_found_page};
use crate::context::Ctx;
use crate::names::TaskName;
use crate::state::AppState;
use crate::views;
use crate::views::run::{Follow, RunView};
use crate::views::task::TaskPage;

/// Runs per page of the whole history.
const HISTORY_PAGE: u32 = 50;

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let Some(name) = task_name(path) else {
        return not_found_page(&ctx, "There is no such task.");
    };
    let api = state.api();
    let (task, recent) = tokio::join!(
        api.get_task(name.as_str()),
        api.list_runs(name.as_str(), ctx.display.execution_display, "")
    );
    let (task, recent) = match (task, recent) {
        (Ok(task), Ok(recent)) => (task, recent),
        (Err(error), _) | (_, Err(error)) => return api_error(&ctx, &error),
    };
    let newest = match recent.runs.first() {
        Some(run) => Some((run, load_outputs(api, &ctx.display, run).await)),
        None => None,
    };
    let data = TaskPage {
        task: &task,
        recent: &recent,
        newest: newest.map(|(run, outputs)| RunView {
            run,
            outputs,
            refresh: ctx.chrome.urls.task(&task.name),
            follow: Follow::NewestRun,
        }),
    };
    html(StatusCode::OK, views::task::page(&ctx.chrome, &data))
}

#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    page: Option<String>,
}

pub async fn history(
    State(state): State<AppState>,
    ctx: Ctx,
    path: Result<Path<String>, PathRejection>,
    Query(query): Query<HistoryQuery>,
) -> Response {
    let Some(name) = task_name(path) else {
        return not_found_page(&ctx, "There is no such task.");
    };
    // Page tokens are the daemon's own; only plausible ones are passed on.
    let token = query.page.unwrap_or_default();
    if token.len() > 64
        || !token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return not_found_page(&ctx, "There is no such page of runs.");
    }
    match state
        .api()
        .list_runs(name.as_str(), HISTORY_PAGE, &token)
        .await
    {
        Ok(page) => html(
            StatusCode::OK,
            views::runs::history_page(&ctx.chrome, name.as_str(), &page, !token.is_empty()),
        ),
        Err(error) => api_error(&ctx, &error),
    }
}

fn task_name(path: Result<Path<String>, PathRejection>) -> Option<TaskName> {
    let Path(name) = path.ok()?;
    TaskName::parse(&name)
}
