//! POST /tasks/{name}/{run|suspend|resume|kill}: the task actions, done on behalf of the user
//! (`identity.rs`), answered with a redirect and a flash message, or an error page with the
//! daemon's reason (409 when the action does not apply now).

use axum::Form;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use super::{api_error, not_found_page, see_other};
use crate::api::ApiError;
use crate::context::Ctx;
use crate::flash::{Flash, FlashKind};
use crate::names::{Action, TaskName};
use crate::state::AppState;
use crate::urls::local_path;

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    /// Where to go afterwards (a path of ours); the task page otherwise.
    back: Option<String>,
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
    match perform(&state, &task, action, &who).await {
        Ok(message) => {
            let task_page = format!("/tasks/{}", crate::urls::encode(task.as_str()));
            let back = form
                .back
                .as_deref()
                .and_then(local_path)
                .unwrap_or(&task_page);
            see_other(&ctx, back, Some(&Flash::new(FlashKind::Success, message)))
        }
        Err(error) => api_error(&ctx, &error),
    }
}

/// Does it; says what was done.
async fn perform(
    state: &AppState,
    task: &TaskName,
    action: Action,
    who: &str,
) -> Result<String, ApiError> {
    let api = state.api();
    let name = task.as_str();
    Ok(match action {
        Action::RunNow => {
            let run = api.run_now(name, who).await?;
            format!("Started run {} of {name}.", run.id)
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
            let killed = api.kill(name, who).await?;
            let ids: Vec<String> = killed.iter().map(ToString::to_string).collect();
            format!("Killing run {} of {name}.", ids.join(", "))
        }
    })
}
