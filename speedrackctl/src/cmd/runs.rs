//! `runs TASK`: one page of a task's runs, newest first, and how to see more.
//!
//! Rendering is pure. A run's output is `output`'s business.

use std::fmt::Display;

use chrono::{DateTime, Local, TimeZone, Utc};
use speedrack_proto::v1::{ListRunsRequest, ListRunsResponse, Run, RunStatus, Trigger};

use super::{Context, Format, print_json, print_text};
use crate::cli::RunsArgs;
use crate::render::{json, kill, names, table::Table, time};

/// The daemon's cap on a page, which `--limit` shares.
const MAX_LIMIT: u64 = 1000;

/// Lists a page of runs and prints it.
pub async fn run(ctx: &mut Context, args: &RunsArgs) -> anyhow::Result<()> {
    let response = ctx
        .client
        .list_runs(ListRunsRequest {
            task: args.task.clone(),
            page_size: args.limit,
            page_token: args.before_token.clone().unwrap_or_default(),
            ..Default::default()
        })
        .await?
        .into_inner();
    match ctx.format {
        Format::Json => print_json(&json::runs(&response)),
        Format::Text if args.utc => print_text(&render(&args.task, &response, ctx.now, &Utc)),
        Format::Text => print_text(&render(&args.task, &response, ctx.now, &Local)),
    }
}

/// The runs table and, when older runs exist, a line saying how to see them; start times are
/// shown in `zone`.
fn render<Tz: TimeZone>(
    task: &str,
    response: &ListRunsResponse,
    now: DateTime<Utc>,
    zone: &Tz,
) -> String
where
    Tz::Offset: Display,
{
    let ListRunsResponse {
        runs,
        next_page_token,
        total,
        ..
    } = response;
    if runs.is_empty() {
        return match total {
            0 => format!("task {task} has no runs yet\n"),
            _ => format!("no older runs of task {task} ({total} in all)\n"),
        };
    }
    let mut out = table(runs, now, zone);
    if !next_page_token.is_empty() {
        out += &format!(
            "{} of {total} runs shown; see more with --limit {} or older ones with \
             --before-token {next_page_token}\n",
            runs.len(),
            (*total).min(MAX_LIMIT),
        );
    }
    out
}

/// The runs, one a line under a header.
pub(super) fn table<Tz: TimeZone>(runs: &[Run], now: DateTime<Utc>, zone: &Tz) -> String
where
    Tz::Offset: Display,
{
    let mut table = Table::new([
        "ID", "TRIGGER", "STATUS", "STARTED", "DURATION", "EXIT", "REASON",
    ]);
    for run in runs {
        table.push([
            run.id.to_string(),
            trigger(run),
            kill::outcome(run),
            time::absolute_and_relative(run.started_at.as_ref(), zone, now),
            duration(run),
            exit(run),
            reason(run),
        ]);
    }
    table.render()
}

/// "schedule", "manual by alice".
fn trigger(run: &Run) -> String {
    match (Trigger::try_from(run.trigger), run.requested_by.as_str()) {
        (Ok(Trigger::Manual), "") => "manual".to_owned(),
        (Ok(Trigger::Manual), user) => format!("manual by {user}"),
        _ => names::trigger(run.trigger).to_owned(),
    }
}

/// "1.2s"; "running" while in flight; "-" when the end is unknown.
fn duration(run: &Run) -> String {
    match (&run.duration, RunStatus::try_from(run.status)) {
        (Some(duration), _) => time::run_duration(time::seconds(duration)),
        (None, Ok(RunStatus::Running)) => "running".to_owned(),
        (None, _) => "-".to_owned(),
    }
}

/// "0", "signal 9", or "-" when the process never exited (or never started).
fn exit(run: &Run) -> String {
    match (run.exit_code, run.signal) {
        (Some(code), _) => code.to_string(),
        (None, Some(signal)) => format!("signal {signal}"),
        (None, None) => "-".to_owned(),
    }
}

/// Who killed the run and the daemon's reasons for the outcome, else the first line of its
/// operational error.
fn reason(run: &Run) -> String {
    let reason = kill::reason(run);
    let text = match reason.as_str() {
        "" => run.op_error.as_str(),
        reason => reason,
    };
    // A table cell must stay on one line; `output --op-error` shows the whole text.
    text.lines().next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use speedrack_proto::v1::KillCause;

    const T0: i64 = 1_795_981_200;

    fn ts(seconds: i64) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp { seconds, nanos: 0 })
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(T0, 0).expect("valid instant")
    }

    fn runs() -> Vec<Run> {
        vec![
            Run {
                id: 12,
                trigger: Trigger::Schedule as i32,
                status: RunStatus::Running as i32,
                started_at: ts(T0 - 3),
                ..Run::default()
            },
            Run {
                id: 11,
                trigger: Trigger::Manual as i32,
                requested_by: "alice".into(),
                status: RunStatus::Failure as i32,
                started_at: ts(T0 - 125),
                exit_code: Some(3),
                reason: "exit status 3".into(),
                duration: Some(prost_types::Duration {
                    seconds: 1,
                    nanos: 200_000_000,
                }),
                ..Run::default()
            },
            Run {
                id: 10,
                trigger: Trigger::Schedule as i32,
                status: RunStatus::ExecutionError as i32,
                started_at: ts(T0 - 3600),
                signal: Some(9),
                op_error: "killed after timeout of 30s\nprocess group 4242".into(),
                duration: Some(prost_types::Duration {
                    seconds: 30,
                    nanos: 40_000_000,
                }),
                ..Run::default()
            },
            Run {
                id: 9,
                trigger: Trigger::Manual as i32,
                requested_by: "alice".into(),
                status: RunStatus::Failure as i32,
                started_at: ts(T0 - 7000),
                signal: Some(15),
                kill_cause: KillCause::User as i32,
                killed_by: "bob".into(),
                reason: "killed by bob".into(),
                ..Run::default()
            },
            Run {
                id: 8,
                trigger: Trigger::Manual as i32,
                status: RunStatus::Interrupted as i32,
                started_at: ts(T0 - 7200),
                ..Run::default()
            },
        ]
    }

    #[test]
    fn runs_table_with_more_pages() {
        let response = ListRunsResponse {
            runs: runs(),
            next_page_token: "abc".into(),
            total: 135,
            ..ListRunsResponse::default()
        };
        expect![[r#"
            ID  TRIGGER          STATUS           STARTED                           DURATION  EXIT       REASON
            12  schedule         running          2026-11-29 19:39:57 (3s ago)      running   -
            11  manual by alice  failure          2026-11-29 19:37:55 (2m 5s ago)   1.2s      3          exit status 3
            10  schedule         execution error  2026-11-29 18:40:00 (1h ago)      30.0s     signal 9   killed after timeout of 30s
            9   manual by alice  killed           2026-11-29 17:43:20 (1h 56m ago)  -         signal 15  by bob
            8   manual           interrupted      2026-11-29 17:40:00 (2h ago)      -         -
            5 of 135 runs shown; see more with --limit 135 or older ones with --before-token abc
        "#]]
        .assert_eq(&render("backup", &response, now(), &Utc));
    }

    #[test]
    fn empty_pages() {
        let cases = [
            (0, "task backup has no runs yet\n"),
            (3, "no older runs of task backup (3 in all)\n"),
        ];
        for (total, expected) in cases {
            let response = ListRunsResponse {
                total,
                ..ListRunsResponse::default()
            };
            assert_eq!(render("backup", &response, now(), &Utc), expected);
        }
    }

    #[test]
    fn last_page_has_no_footer() {
        let response = ListRunsResponse {
            runs: runs().split_off(3),
            next_page_token: String::new(),
            total: 4,
            ..ListRunsResponse::default()
        };
        expect![[r#"
            ID  TRIGGER          STATUS       STARTED                           DURATION  EXIT       REASON
            9   manual by alice  killed       2026-11-29 17:43:20 (1h 56m ago)  -         signal 15  by bob
            8   manual           interrupted  2026-11-29 17:40:00 (2h ago)      -         -
        "#]]
        .assert_eq(&render("backup", &response, now(), &Utc));
    }

    #[test]
    fn suggested_limit_is_capped() {
        let response = ListRunsResponse {
            runs: runs(),
            next_page_token: "t".into(),
            total: 5000,
            ..ListRunsResponse::default()
        };
        assert!(render("b", &response, now(), &Utc).contains("--limit 1000 "));
    }
}
