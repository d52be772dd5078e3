//! POST /tasks/{name}/{run|suspend|resume|kill}: the task actions, done on behalf of the user
//! (`identity.rs`), answered with a redirect back to the page they came from and a flash
//! message: what was done, or why the daemon refused (post/redirect/get either way, so a reload
//! of the page never sends the action again).

use axum::Form;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use super::{not_found_page, see_other};
use crate::api::ApiError;
use crate::context::Ctx;
use crate::flash::{Flash, FlashKind};
use crate::names::{Action, RunId, TaskName};
use crate::state::AppState;
use crate::urls::local_path;

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    /// Where to go afterwards (a path of ours); the task page otherwise.
    back: Option<String>,
    /// For Kill: only this run (a run page's button), else every running run of the task.
    run: Option<String>,
}

pub async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    path: Result<Path<(String, String)>, PathRejection>,
    Form(form): Form<ActionForm>,
) -> Response {
    let Ok(Path((name, action))) = path else {
        return not_found_page(&ctx, "There is no such action.");
    };
    let (Some(task), Some(action)) = (TaskName::parse(&name), Action::parse(&action)) else {
        return not_found_page(&ctx, "There is no such task or action.");
    };
    let who = ctx.chrome.user.clone().unwrap_or_default();
    let run = form
        .run
        .as_deref()
        .and_then(RunId::parse)
        .map_or(0, |run| run.0);
    let flash = match perform(&state, &task, action, run, &who).await {
        Ok(message) => Flash::new(FlashKind::Success, message),
        Err(error) => Flash::new(FlashKind::Danger, refusal(&task, action, &error)),
    };
    let task_page = format!("/tasks/{}", crate::urls::encode(task.as_str()));
    let back = form
        .back
        .as_deref()
        .and_then(local_path)
        .unwrap_or(&task_page);
    see_other(&ctx, back, Some(&flash))
}

/// What the flash says when the daemon refused or could not be asked.
fn refusal(task: &TaskName, action: Action, error: &ApiError) -> String {
    let name = task.as_str();
    let what = match action {
        Action::RunNow => format!("run {name} now"),
        Action::Suspend => format!("suspend {name}"),
        Action::Resume => format!("resume {name}"),
        Action::Kill => format!("kill {name}"),
    };
    format!("Could not {what}: {error}")
}

/// Does it; says what was done.
async fn perform(
    state: &AppState,
    task: &TaskName,
    action: Action,
    run: i64,
    who: &str,
) -> Result<String, ApiError> {
    let api = state.api();
    let name = task.as_str();
    Ok(match action {
        Action::RunNow => {
            let answer = api.run_now(name, who).await?;
            match answer.run {
                Some(run) => format!("Started run {} of {name}.", run.id),
                None => format!(
                    "Queued a run of {name} behind {}: it starts when the task is free.",
                    runs(&answer.queued_behind_run_ids)
                ),
            }
        }
        Action::Suspend => {
            api.suspend(name, who).await?;
            format!("Suspended {name}: no scheduled runs until Resume.")
        }
        Action::Resume => {
            api.resume(name, who).await?;
            format!("Resumed {name}.")
        }
        Action::Kill => {
            let killed = api.kill(name, run, who).await?;
            let mut said = format!("Killing {} of {name}.", runs(&killed.killed_run_ids));
            for unreached in &killed.unreached_nodes {
                said.push_str(&format!(
                    " Not reached: {unreached}; its runs, if any, may go on."
                ));
            }
            said
        }
    })
}

/// Runs as a sentence names them: "run 4", "runs 4, 5".
fn runs(ids: &[i64]) -> String {
    let list: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let noun = if ids.len() == 1 { "run" } else { "runs" };
    format!("{noun} {}", list.join(", "))
}
