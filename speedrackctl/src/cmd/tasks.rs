//! `tasks`: every task in a table, then the conf errors of the tasks that have them.
//!
//! The list comes in pages (by size), read to the end and started over if the daemon reloads
//! midway. Rendering is pure. Details of one task's runs are `runs`' business.

use chrono::{DateTime, Utc};
use speedrack_proto::v1::{ListTasksRequest, ListTasksResponse, Run, Task};

use super::{Context, Format, print_json, print_text};
use crate::render::{conf_errors, json, names, table::Table, time};

/// Lists the tasks and prints them.
pub async fn run(ctx: &mut Context) -> anyhow::Result<()> {
    // Only the JSON document shows commands; the table has no room for them.
    let with_command = ctx.format == Format::Json;
    let template = ListTasksRequest {
        recent_runs: 0,
        page_token: String::new(),
        with_command,
    };
    let tasks = speedrack_proto::list_all_tasks(&mut ctx.client, template).await?;
    let response = ListTasksResponse {
        tasks,
        next_page_token: String::new(),
    };
    match ctx.format {
        Format::Json => print_json(&json::tasks(&response)),
        Format::Text => print_text(&render(&response.tasks, ctx.now)),
    }
}

/// The task table, followed by a conf errors section when any task has one.
fn render(tasks: &[Task], now: DateTime<Utc>) -> String {
    if tasks.is_empty() {
        return "no tasks\n".to_owned();
    }
    let mut table = Table::new(["NAME", "STATUS", "SCHEDULE", "NEXT", "LAST RUN"]);
    for task in tasks {
        table.push([
            name_column(task),
            names::words(names::task_status(task.status)),
            task.schedule.clone(),
            time::relative(task.next_fire.as_ref(), now),
            last_run(task.last_run.as_ref(), now),
        ]);
    }
    let errors = conf_errors::section(
        tasks.iter().flat_map(|task| &task.conf_errors),
        conf_errors::without_task,
    );
    if errors.is_empty() {
        table.render()
    } else {
        format!("{}\n{errors}", table.render())
    }
}

/// The key commands take, and the name as the tasks file writes it when that differs.
fn name_column(task: &Task) -> String {
    if task.display_name.is_empty() || task.display_name == task.name {
        task.name.clone()
    } else {
        format!("{} ({})", task.name, task.display_name)
    }
}

/// "2m ago (success)", or "-" when the task never ran.
fn last_run(run: Option<&Run>, now: DateTime<Utc>) -> String {
    match run {
        Some(run) => format!(
            "{} ({})",
            time::relative(run.started_at.as_ref(), now),
            names::words(names::run_status(run.status))
        ),
        None => "-".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use speedrack_proto::v1::{ConfError, RunStatus, TaskStatus};

    const T0: i64 = 1_795_981_200;

    fn ts(seconds: i64) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp { seconds, nanos: 0 })
    }

    #[test]
    fn task_table() {
        let tasks = [
            Task {
                name: "backup".into(),
                display_name: "backup".into(),
                schedule: "every 21s".into(),
                status: TaskStatus::Success as i32,
                next_fire: ts(T0 + 12),
                last_run: Some(Run {
                    started_at: ts(T0 - 120),
                    status: RunStatus::Success as i32,
                    ..Run::default()
                }),
                ..Task::default()
            },
            Task {
                name: "new".into(),
                display_name: "New!".into(),
                schedule: "cron 0 3 * * *".into(),
                status: TaskStatus::NeverRun as i32,
                next_fire: ts(T0 + 3600),
                ..Task::default()
            },
            Task {
                name: "broken".into(),
                schedule: "every 5x".into(),
                status: TaskStatus::ConfError as i32,
                conf_errors: vec![ConfError {
                    file: "tasks.yaml".into(),
                    line: 14,
                    key: "schedule".into(),
                    message: "unknown unit \"x\"".into(),
                    task: "broken".into(),
                }],
                ..Task::default()
            },
        ];
        let now = DateTime::from_timestamp(T0, 0).expect("valid instant");
        expect![[r#"
            NAME        STATUS      SCHEDULE        NEXT    LAST RUN
            backup      success     every 21s       in 12s  2m ago (success)
            new (New!)  never run   cron 0 3 * * *  in 1h   -
            broken      conf error  every 5x        -       -

            conf errors:
              tasks.yaml:14: schedule: unknown unit "x"
        "#]]
        .assert_eq(&render(&tasks, now));
        assert_eq!(render(&[], now), "no tasks\n");
    }
}
