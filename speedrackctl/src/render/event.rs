//! One WatchEvents message as a line for `watch`: time, kind, task, run, status; or as one
//! compact JSON document for `watch --json`.
//!
//! Pure: the zone is a parameter. It does not read or resume the stream.

use chrono::TimeZone;
use serde_json::{Value, json};
use speedrack_proto::v1::WatchEventsResponse;
use speedrack_proto::v1::watch_events_response::Event;

use super::{names, time};

/// What a line says about an event, in the order of its columns.
struct Fields {
    kind: &'static str,
    task: String,
    run: Option<i64>,
    status: String,
    /// Why a run failed, what a reload changed, how many events were lost.
    detail: String,
}

fn fields(event: &Event) -> Fields {
    match event {
        Event::RunStarted(run) | Event::RunFinished(run) => Fields {
            kind: match event {
                Event::RunStarted(_) => "run_started",
                _ => "run_finished",
            },
            task: run.task.clone(),
            run: Some(run.id),
            status: names::run_status(run.status).to_owned(),
            detail: match run.reason.as_str() {
                "" => run.op_error.lines().next().unwrap_or_default().to_owned(),
                reason => reason.to_owned(),
            },
        },
        Event::TaskChanged(task) => Fields {
            kind: "task_changed",
            task: task.name.clone(),
            run: None,
            status: names::task_status(task.status).to_owned(),
            detail: String::new(),
        },
        Event::ConfigReloaded(reload) => Fields {
            kind: "config_reloaded",
            task: String::new(),
            run: None,
            status: String::new(),
            detail: format!(
                "{} added, {} removed, {} changed, {} conf errors",
                reload.added.len(),
                reload.removed.len(),
                reload.changed.len(),
                reload.conf_errors.len()
            ),
        },
        Event::EventsDropped(dropped) => Fields {
            kind: "events_dropped",
            task: String::new(),
            run: None,
            status: String::new(),
            // 0: the daemon cannot say how many (it restarted, or the point was unknown).
            detail: match dropped.count {
                0 => "events may have been missed: what was shown may be stale".to_owned(),
                count => format!("{count} events missed: what was shown may be stale"),
            },
        },
    }
}

/// "2026-11-30 14:03:12  run_finished  backup  run 42  failure  exit status 3", in `zone`;
/// `None` for a message without an event (from a newer daemon).
pub fn line<Tz: TimeZone>(message: &WatchEventsResponse, zone: &Tz) -> Option<String>
where
    Tz::Offset: std::fmt::Display,
{
    let fields = fields(message.event.as_ref()?);
    // The kind is padded so that the task names of successive lines mostly line up; empty
    // cells are left out rather than shown as blanks.
    let cells = [
        time::absolute(message.at.as_ref(), zone),
        format!("{:<15}", fields.kind),
        fields.task,
        fields
            .run
            .map_or_else(String::new, |id| format!("run {id}")),
        fields.status,
        fields.detail,
    ];
    let shown: Vec<&str> = cells
        .iter()
        .map(|cell| cell.as_str())
        .filter(|cell| !cell.is_empty())
        .collect();
    Some(shown.join("  ").trim_end().to_owned() + "\n")
}

/// The event as one JSON document on one line; `None` as for [`line`].
pub fn json_line(message: &WatchEventsResponse) -> Option<String> {
    let fields = fields(message.event.as_ref()?);
    let value = json!({
        "at": super::json::timestamp(message.at.as_ref()),
        "epoch": message.epoch,
        "sequence": message.sequence,
        "kind": fields.kind,
        "task": (!fields.task.is_empty()).then_some(fields.task),
        "run": fields.run,
        "status": (!fields.status.is_empty()).then_some(fields.status),
        "detail": (!fields.detail.is_empty()).then_some(fields.detail),
    });
    Some(Value::to_string(&value) + "\n")
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use speedrack_proto::v1::{EventsDropped, ReloadResponse, Run, RunStatus, Task, TaskStatus};

    use super::*;

    fn message(event: Event, sequence: u64) -> WatchEventsResponse {
        WatchEventsResponse {
            at: (sequence != 0).then_some(prost_types::Timestamp {
                seconds: 1_795_981_200 + sequence as i64,
                nanos: 0,
            }),
            event: Some(event),
            sequence,
            epoch: 9,
        }
    }

    fn events() -> Vec<WatchEventsResponse> {
        let run = |status: RunStatus, reason: &str| Run {
            id: 42,
            task: "backup".into(),
            status: status.into(),
            reason: reason.into(),
            ..Run::default()
        };
        vec![
            message(Event::RunStarted(run(RunStatus::Running, "")), 1),
            message(
                Event::TaskChanged(Task {
                    name: "backup".into(),
                    status: TaskStatus::Running.into(),
                    ..Task::default()
                }),
                2,
            ),
            message(
                Event::RunFinished(run(RunStatus::Failure, "exit status 3")),
                3,
            ),
            message(
                Event::ConfigReloaded(ReloadResponse {
                    added: vec!["new".into()],
                    ..ReloadResponse::default()
                }),
                4,
            ),
            message(Event::EventsDropped(EventsDropped { count: 5 }), 0),
            message(Event::EventsDropped(EventsDropped { count: 0 }), 0),
        ]
    }

    #[test]
    fn text_lines() {
        let text: String = events()
            .iter()
            .filter_map(|message| line(message, &chrono::Utc))
            .collect();
        expect![[r#"
            2026-11-29 19:40:01  run_started      backup  run 42  running
            2026-11-29 19:40:02  task_changed     backup  running
            2026-11-29 19:40:03  run_finished     backup  run 42  failure  exit status 3
            2026-11-29 19:40:04  config_reloaded  1 added, 0 removed, 0 changed, 0 conf errors
            -  events_dropped   5 events missed: what was shown may be stale
            -  events_dropped   events may have been missed: what was shown may be stale
        "#]]
        .assert_eq(&text);
    }

    #[test]
    fn json_lines() {
        let text: String = events().iter().filter_map(json_line).collect();
        expect![[r#"
            {"at":"2026-11-29T19:40:01.000Z","detail":null,"epoch":9,"kind":"run_started","run":42,"sequence":1,"status":"running","task":"backup"}
            {"at":"2026-11-29T19:40:02.000Z","detail":null,"epoch":9,"kind":"task_changed","run":null,"sequence":2,"status":"running","task":"backup"}
            {"at":"2026-11-29T19:40:03.000Z","detail":"exit status 3","epoch":9,"kind":"run_finished","run":42,"sequence":3,"status":"failure","task":"backup"}
            {"at":"2026-11-29T19:40:04.000Z","detail":"1 added, 0 removed, 0 changed, 0 conf errors","epoch":9,"kind":"config_reloaded","run":null,"sequence":4,"status":null,"task":null}
            {"at":null,"detail":"5 events missed: what was shown may be stale","epoch":9,"kind":"events_dropped","run":null,"sequence":0,"status":null,"task":null}
            {"at":null,"detail":"events may have been missed: what was shown may be stale","epoch":9,"kind":"events_dropped","run":null,"sequence":0,"status":null,"task":null}
        "#]].assert_eq(&text);
    }

    #[test]
    fn a_message_without_an_event_is_skipped() {
        let empty = WatchEventsResponse::default();
        assert_eq!(line(&empty, &chrono::Utc), None);
        assert_eq!(json_line(&empty), None);
    }
}
