//! `run-now TASK`: start a run now, outside the schedule, and say which run it is.
//!
//! It does not wait for the run to finish; `runs` and `output` show how it went.

use speedrack_proto::v1::{Run, RunNowRequest};

use super::{Context, Format, print_json, print_text, required};
use crate::render::json;

/// Starts the run and prints its id (or, with `--json`, `{"run": run}`).
pub async fn run(ctx: &mut Context, task: &str) -> anyhow::Result<()> {
    let reply = ctx
        .client
        .run_now(RunNowRequest {
            task: task.to_owned(),
        })
        .await?;
    let run = required(reply.into_inner().run, "run")?;
    match ctx.format {
        Format::Json => print_json(&serde_json::json!({ "run": json::run(&run) })),
        Format::Text => print_text(&render(&run, task)),
    }
}

fn render(run: &Run, task: &str) -> String {
    format!("started run {} of {task}\n", run.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn started_line() {
        let run = Run {
            id: 42,
            ..Run::default()
        };
        assert_eq!(render(&run, "backup"), "started run 42 of backup\n");
    }
}
