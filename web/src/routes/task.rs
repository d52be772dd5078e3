//! GET /tasks/{name} (the task page, with its charts) and /tasks/{name}/runs (all runs,
//! paged and filtered).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, NaiveTime};
use speedrack_proto::v1 as pb;

use super::nodes::shows_nodes;
use super::run::load_outputs;
use super::{api_error, html, not_found_page};
use crate::api::{Api, ApiError};
use crate::context::Ctx;
use crate::history_query::{HistoryQuery, QueryError};
use crate::names::TaskName;
use crate::state::AppState;
use crate::views;
use crate::views::run::{Follow, RunView};
use crate::views::runs::History;
use crate::views::task::{Charts, TaskPage};
use crate::views::{chart_duration, chart_heatmap};

/// Runs per page of the whole history.
const HISTORY_PAGE: u32 = 50;
/// Runs the task page's duration chart shows.
const CHART_RUNS: u32 = 60;

/// Runs of `task` counted per UTC day, `days` days from `first`, for the heat map.
async fn count_days(
    api: &Api,
    task: &str,
    first: NaiveDate,
    days: u32,
) -> Result<pb::CountRunsResponse, ApiError> {
    let from = first.and_time(NaiveTime::MIN).and_utc();
    let request = pb::CountRunsRequest {
        task: task.to_owned(),
        from: Some(prost_types::Timestamp {
            seconds: from.timestamp(),
            nanos: 0,
        }),
        span_seconds: 86_400,
        spans: days,
    };
    api.call(|mut client| async move { client.count_runs(request).await })
        .await
}

pub async fn page(
    State(state): State<AppState>,
    mut ctx: Ctx,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let Some(name) = task_name(path) else {
        return not_found_page(&ctx, "There is no such task.");
    };
    let api = state.api();
    let shown = ctx.display.execution_display;
    let today = ctx.chrome.now.date_naive();
    let (first_day, days) = chart_heatmap::window(today);
    let (task, recent, counts, status) = tokio::join!(
        api.get_task(name.as_str()),
        api.list_runs(name.as_str(), shown.max(CHART_RUNS), ""),
        count_days(api, name.as_str(), first_day, days),
        api.get_status()
    );
    ctx.chrome.nodes = shows_nodes(&status);
    let (task, recent) = match (task, recent) {
        (Ok(task), Ok(recent)) => (task, recent),
        (Err(error), _) | (_, Err(error)) => return api_error(&ctx, &error),
    };
    // The heat map is an extra: a daemon without CountRuns (older than this gateway) still
    // gets its task page, with the reason in place of the map.
    let counts = counts.map_err(|error| error.to_string());
    let newest = match recent.runs.first() {
        Some(run) => Some((run, load_outputs(api, &ctx.display, run).await)),
        None => None,
    };
    let data = TaskPage {
        task: &task,
        recent: &recent,
        shown: shown as usize,
        charts: Charts {
            bars: chart_duration::bars(&recent.runs[..recent.runs.len().min(CHART_RUNS as usize)]),
            first_day,
            days: counts.as_ref().map(|counts| counts.counts.as_slice()),
        },
        newest: newest.map(|(run, outputs)| RunView {
            run,
            outputs,
            refresh: ctx.chrome.urls.task(&task.name),
            follow: Follow::NewestRun,
        }),
    };
    html(StatusCode::OK, views::task::page(&ctx.chrome, &data))
}

pub async fn history(
    State(state): State<AppState>,
    mut ctx: Ctx,
    path: Result<Path<String>, PathRejection>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let Some(name) = task_name(path) else {
        return not_found_page(&ctx, "There is no such task.");
    };
    let task = name.as_str();
    let query = match HistoryQuery::parse(&pairs) {
        Ok(query) => query,
        Err(QueryError::Page) => return no_such_page(&ctx, task, None),
        Err(error) => {
            let status = StatusCode::BAD_REQUEST;
            return html(
                status,
                views::error::page(&ctx.chrome, status, &error.to_string()),
            );
        }
    };
    let request = query.request(task, HISTORY_PAGE);
    let api = state.api();
    let (listed, status) = tokio::join!(
        api.call(|mut client| async move { client.list_runs(request).await }),
        api.get_status()
    );
    ctx.chrome.nodes = shows_nodes(&status);
    match listed {
        // The token passed the gateway's check but names no run the daemon gave out.
        Err(error) if error.http_status() == StatusCode::BAD_REQUEST && !query.page.is_empty() => {
            no_such_page(&ctx, task, None)
        }
        Err(error) => api_error(&ctx, &error),
        Ok(page) if page.runs.is_empty() && !query.page.is_empty() => {
            no_such_page(&ctx, task, Some(page.matching))
        }
        Ok(page) => {
            let view = History {
                task,
                query: &query,
                page: &page,
            };
            html(
                StatusCode::OK,
                views::runs::history_page(&ctx.chrome, &view),
            )
        }
    }
}

fn no_such_page(ctx: &Ctx, task: &str, total: Option<u64>) -> Response {
    html(
        StatusCode::NOT_FOUND,
        views::runs::no_such_page(&ctx.chrome, task, total),
    )
}

fn task_name(path: Result<Path<String>, PathRejection>) -> Option<TaskName> {
    let Path(name) = path.ok()?;
    TaskName::parse(&name)
}
