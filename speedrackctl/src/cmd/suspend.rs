//! `suspend TASK` and `resume TASK`: stop and restart a task's scheduled runs.
//!
//! Runs already in flight are left alone, and `run-now` still works on a suspended task; both
//! are the daemon's rules, not checked here.

use chrono::{DateTime, Utc};
use speedrack_proto::v1::{ResumeRequest, SuspendRequest, Task};

use super::{Context, Format, print_json, print_text, required};
use crate::render::{json, time};

/// Suspends the task and says so (or, with `--json`, prints `{"task": task}`).
pub async fn suspend(ctx: &mut Context, task: &str) -> anyhow::Result<()> {
    let request = SuspendRequest {
        task: task.to_owned(),
        on_behalf_of: String::new(),
    };
    let reply = ctx.client.suspend(request).await?;
    let task = required(reply.into_inner().task, "task")?;
    match ctx.format {
        Format::Json => print_json(&serde_json::json!({ "task": json::task(&task) })),
        Format::Text => print_text(&format!("suspended {}\n", task.name)),
    }
}

/// Resumes the task and says when it runs next (or, with `--json`, prints `{"task": task}`).
pub async fn resume(ctx: &mut Context, task: &str) -> anyhow::Result<()> {
    let request = ResumeRequest {
        task: task.to_owned(),
        on_behalf_of: String::new(),
    };
    let reply = ctx.client.resume(request).await?;
    let task = required(reply.into_inner().task, "task")?;
    match ctx.format {
        Format::Json => print_json(&serde_json::json!({ "task": json::task(&task) })),
        Format::Text => print_text(&resumed(&task, ctx.now)),
    }
}

/// "resumed backup (next run in 12s)".
fn resumed(task: &Task, now: DateTime<Utc>) -> String {
    match &task.next_fire {
        Some(next) => format!(
            "resumed {} (next run {})\n",
            task.name,
            time::relative(Some(next), now)
        ),
        None => format!("resumed {} (no next run scheduled)\n", task.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resumed_lines() {
        let now = DateTime::from_timestamp(1_795_981_200, 0).expect("valid instant");
        let next = prost_types::Timestamp {
            seconds: 1_795_981_212,
            nanos: 0,
        };
        let cases = [
            (Some(next), "resumed backup (next run in 12s)\n"),
            (None, "resumed backup (no next run scheduled)\n"),
        ];
        for (next_fire, expected) in cases {
            let task = Task {
                name: "backup".into(),
                next_fire,
                ..Task::default()
            };
            assert_eq!(resumed(&task, now), expected);
        }
    }
}
