//! `run-now TASK`: start a run now, outside the schedule, and say which run it is (or that it was
//! queued behind the running one, for tasks whose overlap policy queues).
//!
//! It does not wait for the run to finish; `runs` and `output` show how it went.

use speedrack_proto::v1::{RunNowRequest, RunNowResponse};

use super::{Context, Format, print_json, print_text};
use crate::render::json;

/// Starts the run and prints its id (or, with `--json`, `{"run": run|null, "queued": bool}`).
pub async fn run(ctx: &mut Context, task: &str) -> anyhow::Result<()> {
    let request = RunNowRequest {
        task: task.to_owned(),
        on_behalf_of: String::new(),
    };
    let response = ctx.client.run_now(request).await?.into_inner();
    match ctx.format {
        Format::Json => print_json(&serde_json::json!({
            "run": response.run.as_ref().map_or(serde_json::Value::Null, json::run),
            "queued": response.queued,
            "queued_behind_run_ids": response.queued_behind_run_ids,
        })),
        Format::Text => print_text(&render(&response, task)),
    }
}

fn render(response: &RunNowResponse, task: &str) -> String {
    match &response.run {
        Some(run) => format!("started run {} of {task}\n", run.id),
        None => {
            let behind: Vec<String> = response
                .queued_behind_run_ids
                .iter()
                .map(ToString::to_string)
                .collect();
            format!(
                "queued a run of {task}: it starts when run {} ends\n",
                behind.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use speedrack_proto::v1::Run;

    use super::*;

    #[test]
    fn says_which_run_started_or_what_it_waits_for() {
        let started = RunNowResponse {
            run: Some(Run {
                id: 42,
                ..Run::default()
            }),
            ..RunNowResponse::default()
        };
        assert_eq!(render(&started, "backup"), "started run 42 of backup\n");
        let queued = RunNowResponse {
            run: None,
            queued: true,
            queued_behind_run_ids: vec![41],
        };
        assert_eq!(
            render(&queued, "backup"),
            "queued a run of backup: it starts when run 41 ends\n"
        );
    }
}
