//! `test-notify TASK`: send a test message through every channel the task notifies and report
//! each outcome; fails (exit 1) when any channel failed.

use speedrack_proto::v1::{ChannelOutcome, TestNotifyRequest};

use super::{Context, Format, print_json, print_text};

pub async fn run(ctx: &mut Context, task: &str) -> anyhow::Result<()> {
    let outcomes = ctx
        .client
        .test_notify(TestNotifyRequest {
            task: task.to_owned(),
        })
        .await?
        .into_inner()
        .outcomes;
    match ctx.format {
        Format::Json => print_json(&serde_json::json!({
            "outcomes": outcomes.iter().map(|o| serde_json::json!({"channel": o.channel, "ok": o.ok, "error": o.error})).collect::<Vec<_>>(),
        }))?,
        Format::Text => print_text(&render(task, &outcomes))?,
    }
    let failed = outcomes.iter().filter(|outcome| !outcome.ok).count();
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} notification channels failed",
        outcomes.len()
    );
    Ok(())
}

fn render(task: &str, outcomes: &[ChannelOutcome]) -> String {
    if outcomes.is_empty() {
        return format!(
            "{task} has nowhere to send notifications (no email recipients, webhooks or sentry_dsn)\n"
        );
    }
    outcomes
        .iter()
        .map(|outcome| match outcome.ok {
            true => format!("ok      {}\n", outcome.channel),
            false => format!("failed  {}: {}\n", outcome.channel, outcome.error),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_channel() {
        let outcomes = [
            ChannelOutcome {
                channel: "email to a@b.c".into(),
                ok: true,
                error: String::new(),
            },
            ChannelOutcome {
                channel: "sentry".into(),
                ok: false,
                error: "timeout".into(),
            },
        ];
        assert_eq!(
            render("t", &outcomes),
            "ok      email to a@b.c\nfailed  sentry: timeout\n"
        );
        assert!(render("t", &[]).contains("nowhere"));
    }
}
