//! `run-now TASK`: start a run now, outside the schedule, and say which run it is (or that it was
//! queued behind the running one, for tasks whose overlap policy queues).
//!
//! With `--wait` it then waits, within a bound, for the run to end and makes its outcome the
//! exit status; how the waiting is done is `wait.rs`'.

use speedrack_proto::v1::{Run, RunNowRequest, RunNowResponse};

use super::events::Watcher;
use super::{Context, Format, print_json, print_text, wait};
use crate::cli::RunNowArgs;
use crate::exit::GaveUp;
use crate::render::{json, kill, time};

/// Starts the run and prints its id (or, with `--json`, `{"run": run|null, "queued": bool}`);
/// with `--wait`, then the run's end.
pub async fn run(ctx: &mut Context, args: &RunNowArgs) -> anyhow::Result<()> {
    let task = args.task.as_str();
    let request = RunNowRequest {
        task: task.to_owned(),
        on_behalf_of: String::new(),
    };
    // Opened first, so that the run cannot start or end between the two calls unseen.
    let watcher = match args.wait {
        true => {
            Some(Watcher::open(ctx.client.clone(), ctx.socket.clone(), args.wait_limit()).await?)
        }
        false => None,
    };
    let response = ctx.client.run_now(request).await?.into_inner();
    if ctx.format == Format::Text || watcher.is_none() {
        print_started(ctx.format, &response, task)?;
    }
    let Some(mut watcher) = watcher else {
        return Ok(());
    };
    let limit = args.wait_limit();
    let ended = tokio::time::timeout(limit, wait_for_end(&mut watcher, &response, task)).await;
    let Ok(run) = ended else {
        return Err(GaveUp(format!(
            "gave up waiting for the run of {task} after {} (--timeout); it goes on: see \
             speedrackctl runs {task}",
            time::span(limit.as_secs())
        ))
        .into());
    };
    let run = run?;
    match ctx.format {
        Format::Json => print_json(&json::run(&run))?,
        Format::Text => print_text(&render_end(&run))?,
    }
    wait::verdict(&run)
}

fn print_started(format: Format, response: &RunNowResponse, task: &str) -> anyhow::Result<()> {
    match format {
        Format::Json => print_json(&serde_json::json!({
            "run": response.run.as_ref().map_or(serde_json::Value::Null, json::run),
            "queued": response.queued,
            "queued_behind_run_ids": response.queued_behind_run_ids,
        })),
        Format::Text => print_text(&render(response, task)),
    }
}

async fn wait_for_end(
    watcher: &mut Watcher,
    response: &RunNowResponse,
    task: &str,
) -> anyhow::Result<Run> {
    let run_id = match &response.run {
        Some(run) => run.id,
        None => wait::start_of_queued(watcher, task, &response.queued_behind_run_ids).await?,
    };
    wait::end_of(watcher, run_id).await
}

/// "run 42 of backup: success after 1.2s".
fn render_end(run: &Run) -> String {
    let took = run
        .duration
        .as_ref()
        .map(|d| format!(" after {}", time::run_duration(time::seconds(d))))
        .unwrap_or_default();
    format!(
        "run {} of {}: {}{took}\n",
        run.id,
        run.task,
        kill::outcome(run)
    )
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
    use super::*;

    #[test]
    fn says_how_the_run_ended() {
        let run = Run {
            id: 42,
            task: "backup".into(),
            status: speedrack_proto::v1::RunStatus::Failure.into(),
            duration: Some(prost_types::Duration {
                seconds: 1,
                nanos: 250_000_000,
            }),
            ..Run::default()
        };
        assert_eq!(render_end(&run), "run 42 of backup: failure after 1.2s\n");
        let killed = Run {
            kill_cause: speedrack_proto::v1::KillCause::Timeout.into(),
            ..run
        };
        assert_eq!(render_end(&killed), "run 42 of backup: killed after 1.2s\n");
    }

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
