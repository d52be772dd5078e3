//! `show TASK`: one task in full: what it is (name, description, command, schedule in words,
//! zone, status), its definition as the tasks file writes it (overlap, timeout, retention and
//! notification keys), its next fire times, and its last runs.
//!
//! Three reads (GetTask, ListNextFires, ListRuns); rendering is pure. The whole run history is
//! `runs`' business, a run's output `output`'s.

use std::fmt::Display;

use chrono::{DateTime, FixedOffset, Local, TimeZone, Utc};
use serde_json::json;
use speedrack_proto::v1::{
    Fire, GetTaskRequest, ListNextFiresRequest, ListRunsRequest, ListRunsResponse, Task,
};

use super::{Context, Format, print_json, print_text, required, runs};
use crate::render::{conf_errors, json, names, table, time};

/// Next fire times shown.
const FIRES: u32 = 3;
/// Newest runs shown.
const RUNS: u32 = 5;

/// What `show` read from the daemon.
struct Shown {
    task: Task,
    fires: Vec<Fire>,
    runs: ListRunsResponse,
}

pub async fn run(ctx: &mut Context, name: &str) -> anyhow::Result<()> {
    let reply = ctx
        .client
        .get_task(GetTaskRequest {
            name: name.to_owned(),
        })
        .await?;
    let task = required(reply.into_inner().task, "task")?;
    // Only a task with a schedule has fires to ask for; the others would be refused.
    let fires = match task.schedule.is_empty() {
        true => Vec::new(),
        false => {
            let request = ListNextFiresRequest {
                task: task.name.clone(),
                count: FIRES,
            };
            ctx.client
                .list_next_fires(request)
                .await?
                .into_inner()
                .fires
        }
    };
    let request = ListRunsRequest {
        task: task.name.clone(),
        page_size: RUNS,
        page_token: String::new(),
        ..Default::default()
    };
    let runs = ctx.client.list_runs(request).await?.into_inner();
    let shown = Shown { task, fires, runs };
    match ctx.format {
        Format::Json => print_json(&to_json(&shown)),
        Format::Text => print_text(&render(&shown, ctx.now, &Local)),
    }
}

fn render<Tz: TimeZone>(shown: &Shown, now: DateTime<Utc>, zone: &Tz) -> String
where
    Tz::Offset: Display,
{
    let Shown { task, fires, runs } = shown;
    let mut pairs = vec![("name", task.name.clone())];
    if !task.display_name.is_empty() && task.display_name != task.name {
        pairs.push(("written as", task.display_name.clone()));
    }
    pairs.extend([
        ("description", one_line(&task.description)),
        ("status", status(task)),
        ("command", one_line(&task.command)),
        ("schedule", schedule(task)),
        ("zone", dash(&task.timezone)),
    ]);
    for (index, fire) in fires.iter().enumerate() {
        let label = if index == 0 { "next fires" } else { "" };
        pairs.push((label, fire_text(fire, now)));
    }
    pairs.push(("runs", counts(task, runs.total)));
    let mut out = table::key_values(&pairs);
    let errors = conf_errors::section(&task.conf_errors, conf_errors::without_task);
    if !errors.is_empty() {
        out += &format!("\n{errors}");
    }
    if !task.definition.is_empty() {
        out += "\ndefinition:\n";
        out += &indent(&task.definition);
    }
    out += &format!("\nlast runs ({} of {}):\n", runs.runs.len(), runs.total);
    out += &indent(&runs::table(&runs.runs, now, zone));
    out
}

/// "running (runs 41)", "suspended", "success".
fn status(task: &Task) -> String {
    let label = names::words(names::task_status(task.status));
    let running: Vec<String> = task.running_run_ids.iter().map(i64::to_string).collect();
    match (running.is_empty(), task.suspended) {
        (true, false) => label,
        (true, true) => format!("{label} (suspended)"),
        (false, _) => format!("{label} (run {})", running.join(", ")),
    }
}

/// "every 21s" or "0 3 * * * (At 03:00 (Europe/Paris))"; "-" when it has none.
fn schedule(task: &Task) -> String {
    match (task.schedule.as_str(), task.schedule_description.as_str()) {
        ("", _) => "-".to_owned(),
        (written, described) if described.is_empty() || described == written => written.to_owned(),
        (written, described) => format!("{written} ({described})"),
    }
}

/// "2026-12-01 03:00:00 +01:00 (in 3h)", in the offset the schedule's zone has then.
fn fire_text(fire: &Fire, now: DateTime<Utc>) -> String {
    let at = fire.at.as_ref();
    let Some(instant) = at.and_then(time::instant) else {
        return "-".to_owned();
    };
    let when = match FixedOffset::east_opt(fire.utc_offset_seconds) {
        Some(offset) => instant
            .with_timezone(&offset)
            .format("%Y-%m-%d %H:%M:%S %:z"),
        None => instant.format("%Y-%m-%d %H:%M:%S UTC"),
    };
    format!("{when} ({})", time::relative(at, now))
}

/// "12 retained, 3 since speedrackd started, 1 fire skipped while running".
fn counts(task: &Task, total: u64) -> String {
    let mut text = format!(
        "{total} retained, {} since speedrackd started",
        task.runs_since_start
    );
    if task.skipped_fires > 0 {
        text += &format!(", {} skipped fires (still running)", task.skipped_fires);
    }
    text
}

/// A multi-line text on one line (the definition shows it whole); "-" when empty.
fn one_line(text: &str) -> String {
    let mut lines = text.lines();
    match (lines.next(), lines.next()) {
        (None, _) => "-".to_owned(),
        (Some(first), None) => first.to_owned(),
        (Some(first), Some(_)) => format!("{first} …"),
    }
}

fn dash(text: &str) -> String {
    match text {
        "" => "-".to_owned(),
        text => text.to_owned(),
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("  {line}\n")).collect()
}

/// `{"task": task (with its definition), "next_fires": [...], "runs": [...], "total_runs": N}`.
fn to_json(shown: &Shown) -> serde_json::Value {
    let mut task = json::task(&shown.task);
    task["definition"] = json!(shown.task.definition);
    json!({
        "task": task,
        "next_fires": shown.fires.iter().map(|fire| json::timestamp(fire.at.as_ref())).collect::<Vec<_>>(),
        "runs": shown.runs.runs.iter().map(json::run).collect::<Vec<_>>(),
        "total_runs": shown.runs.total,
    })
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use speedrack_proto::v1::{Run, RunStatus, TaskStatus, Trigger};

    use super::*;

    const T0: i64 = 1_795_981_200;

    fn ts(seconds: i64) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp { seconds, nanos: 0 })
    }

    #[test]
    fn a_task_in_full() {
        let shown = Shown {
            task: Task {
                name: "backup".into(),
                display_name: "Backup!".into(),
                description: "nightly dump\nof the database".into(),
                command: "pg_dump db > /srv/db.sql".into(),
                schedule: "0 3 * * *".into(),
                schedule_description: "At 03:00 (Europe/Paris)".into(),
                timezone: "Europe/Paris".into(),
                status: TaskStatus::Running.into(),
                running_run_ids: vec![12],
                runs_since_start: 3,
                skipped_fires: 1,
                definition: "name: Backup!\ncommand: pg_dump db > /srv/db.sql\noverlap: queue\n"
                    .into(),
                ..Task::default()
            },
            fires: vec![
                Fire {
                    at: ts(T0 + 7200),
                    utc_offset_seconds: 3600,
                },
                Fire {
                    at: ts(T0 + 7200 + 86_400),
                    utc_offset_seconds: 3600,
                },
            ],
            runs: ListRunsResponse {
                runs: vec![Run {
                    id: 12,
                    trigger: Trigger::Schedule.into(),
                    status: RunStatus::Running.into(),
                    started_at: ts(T0 - 3),
                    ..Run::default()
                }],
                next_page_token: String::new(),
                total: 1,
                ..ListRunsResponse::default()
            },
        };
        let now = DateTime::from_timestamp(T0, 0).expect("valid instant");
        expect![[r#"
            name         backup
            written as   Backup!
            description  nightly dump …
            status       running (run 12)
            command      pg_dump db > /srv/db.sql
            schedule     0 3 * * * (At 03:00 (Europe/Paris))
            zone         Europe/Paris
            next fires   2026-11-29 22:40:00 +01:00 (in 2h)
                         2026-11-30 22:40:00 +01:00 (in 1d 2h)
            runs         1 retained, 3 since speedrackd started, 1 skipped fires (still running)

            definition:
              name: Backup!
              command: pg_dump db > /srv/db.sql
              overlap: queue

            last runs (1 of 1):
              ID  TRIGGER   STATUS   STARTED                       DURATION  EXIT  REASON
              12  schedule  running  2026-11-29 19:39:57 (3s ago)  running   -
        "#]]
        .assert_eq(&render(&shown, now, &Utc));
        let value = to_json(&shown);
        assert_eq!(value["task"]["definition"], shown.task.definition);
        assert_eq!(value["next_fires"][0], "2026-11-29T21:40:00.000Z");
        assert_eq!(value["runs"][0]["id"], 12);
    }

    #[test]
    fn one_line_texts() {
        assert_eq!(one_line(""), "-");
        assert_eq!(one_line("a"), "a");
        assert_eq!(one_line("a\nb"), "a …");
    }
}
