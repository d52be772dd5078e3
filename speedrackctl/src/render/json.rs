//! Proto messages as JSON values for `--json`: the proto's snake_case field names, enums as
//! lowercase names without their prefix, timestamps as RFC 3339 UTC strings, durations as
//! `duration_secs`, absent messages and optional scalars as null.
//!
//! Pure and built by hand, so that the output format is written down here rather than being
//! whatever a derive happens to produce. It does not print.

use chrono::SecondsFormat;
use serde_json::{Value, json};
use speedrack_proto::v1::{
    ConfError, GetStatusResponse, ListRunsResponse, ListTasksResponse, ReloadResponse, Run, Task,
};

use super::{kill, names, time};

/// `status`: the GetStatusResponse.
pub fn status(s: &GetStatusResponse) -> Value {
    json!({
        "version": s.version,
        "protocol_version": s.protocol_version,
        "pid": s.pid,
        "started_at": timestamp(s.started_at.as_ref()),
        "settings_path": s.settings_path,
        "tasks_path": s.tasks_path,
        "socket_path": s.socket_path,
        "data_dir": s.data_dir,
        "demo_mode": s.demo_mode,
        "task_count": s.task_count,
        "running_count": s.running_count,
        "suspended_count": s.suspended_count,
        "conf_error_count": s.conf_error_count,
        "last_reload_at": timestamp(s.last_reload_at.as_ref()),
        "node": s.node,
        "store": s.store,
        "cluster_warnings": s.cluster_warnings,
    })
}

/// `tasks`: `{"tasks": [task...]}`.
pub fn tasks(response: &ListTasksResponse) -> Value {
    json!({ "tasks": response.tasks.iter().map(task).collect::<Vec<_>>() })
}

/// `runs`: `{"runs": [run...], "next_page_token": "...", "total": N}`.
pub fn runs(response: &ListRunsResponse) -> Value {
    json!({
        "runs": response.runs.iter().map(run).collect::<Vec<_>>(),
        "next_page_token": response.next_page_token,
        "total": response.total,
    })
}

/// `reload`: the ReloadResponse.
pub fn reload(response: &ReloadResponse) -> Value {
    json!({
        "added": response.added,
        "removed": response.removed,
        "changed": response.changed,
        "unchanged": response.unchanged,
        "conf_errors": response.conf_errors.iter().map(conf_error).collect::<Vec<_>>(),
        "settings_changed": response.settings_changed,
        "settings_at_next_start": response.settings_at_next_start,
        "other_nodes": response.other_nodes.iter().map(|node| json!({
            "node": node.node,
            "error": node.error,
            "added": node.added,
            "removed": node.removed,
            "changed": node.changed,
            "conf_errors": node.conf_errors,
        })).collect::<Vec<_>>(),
    })
}

/// One task, with its last run nested.
pub fn task(t: &Task) -> Value {
    json!({
        "name": t.name,
        "display_name": t.display_name,
        "description": t.description,
        "command": t.command,
        "schedule": t.schedule,
        "schedule_description": t.schedule_description,
        "timezone": t.timezone,
        "status": names::task_status(t.status),
        "conf_errors": t.conf_errors.iter().map(conf_error).collect::<Vec<_>>(),
        "next_fire": timestamp(t.next_fire.as_ref()),
        "runs_since_start": t.runs_since_start,
        "runs_retained": t.runs_retained,
        "last_run": t.last_run.as_ref().map_or(Value::Null, run),
        "suspended": t.suspended,
        "running_run_ids": t.running_run_ids,
    })
}

/// One run.
pub fn run(r: &Run) -> Value {
    json!({
        "id": r.id,
        "task": r.task,
        "trigger": names::trigger(r.trigger),
        "requested_by": r.requested_by,
        "scheduled_at": timestamp(r.scheduled_at.as_ref()),
        "started_at": timestamp(r.started_at.as_ref()),
        "finished_at": timestamp(r.finished_at.as_ref()),
        "exit_code": r.exit_code,
        "signal": r.signal,
        "status": names::run_status(r.status),
        "stdout_bytes": r.stdout_bytes,
        "stderr_bytes": r.stderr_bytes,
        "op_error": r.op_error,
        "reason": r.reason,
        "duration_secs": r.duration.as_ref().map(time::seconds),
        "killed_by": r.killed_by,
        "kill_cause": kill::cause_name(r),
        "replaced_by_run_id": (r.replaced_by_run_id > 0).then_some(r.replaced_by_run_id),
        // 0 is "not measured" on the wire; null says so without looking like a figure.
        "max_rss_bytes": (r.max_rss_bytes > 0).then_some(r.max_rss_bytes),
        "cpu_user_secs": r.cpu_user.as_ref().map(time::seconds),
        "cpu_system_secs": r.cpu_system.as_ref().map(time::seconds),
        "output_dropped_bytes": r.output_dropped_bytes,
        "node": r.node,
    })
}

fn conf_error(e: &ConfError) -> Value {
    json!({
        "file": e.file,
        "line": e.line,
        "key": e.key,
        "message": e.message,
        "task": e.task,
    })
}

/// RFC 3339 in UTC with milliseconds; null when absent or out of range.
pub fn timestamp(ts: Option<&prost_types::Timestamp>) -> Value {
    ts.and_then(time::instant).map_or(Value::Null, |at| {
        Value::String(at.to_rfc3339_opts(SecondsFormat::Millis, true))
    })
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use speedrack_proto::v1::{KillCause, RunStatus, TaskStatus, Trigger};

    /// The document as `--json` prints it (pretty, as `cmd::print_json` does).
    fn check(value: &Value, expect: Expect) {
        let pretty = serde_json::to_string_pretty(value).expect("a JSON value serialises");
        expect.assert_eq(&pretty);
    }

    fn ts(seconds: i64, nanos: i32) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp { seconds, nanos })
    }

    // 2026-11-29T19:40:00Z
    const T0: i64 = 1_795_981_200;

    fn finished_run() -> Run {
        Run {
            id: 42,
            task: "backup".into(),
            trigger: Trigger::Manual as i32,
            requested_by: "alice".into(),
            scheduled_at: ts(T0, 0),
            started_at: ts(T0, 123_000_000),
            finished_at: ts(T0 + 1, 323_000_000),
            exit_code: Some(3),
            signal: None,
            status: RunStatus::Failure as i32,
            stdout_bytes: 10,
            stderr_bytes: 0,
            op_error: String::new(),
            reason: "killed by bob; exit status 3".into(),
            duration: Some(prost_types::Duration {
                seconds: 1,
                nanos: 200_000_000,
            }),
            killed_by: "bob".into(),
            kill_cause: KillCause::User as i32,
            max_rss_bytes: 2048,
            cpu_user: Some(prost_types::Duration {
                seconds: 0,
                nanos: 500_000_000,
            }),
            ..Run::default()
        }
    }

    #[test]
    fn finished_run_object() {
        check(
            &run(&finished_run()),
            expect![[r#"
                {
                  "cpu_system_secs": null,
                  "cpu_user_secs": 0.5,
                  "duration_secs": 1.2,
                  "exit_code": 3,
                  "finished_at": "2026-11-29T19:40:01.323Z",
                  "id": 42,
                  "kill_cause": "user",
                  "killed_by": "bob",
                  "max_rss_bytes": 2048,
                  "node": "",
                  "op_error": "",
                  "output_dropped_bytes": 0,
                  "reason": "killed by bob; exit status 3",
                  "replaced_by_run_id": null,
                  "requested_by": "alice",
                  "scheduled_at": "2026-11-29T19:40:00.000Z",
                  "signal": null,
                  "started_at": "2026-11-29T19:40:00.123Z",
                  "status": "failure",
                  "stderr_bytes": 0,
                  "stdout_bytes": 10,
                  "task": "backup",
                  "trigger": "manual"
                }"#]],
        );
    }

    #[test]
    fn running_run_has_nulls() {
        let running = Run {
            id: 7,
            task: "t".into(),
            trigger: Trigger::Schedule as i32,
            started_at: ts(T0, 0),
            status: RunStatus::Running as i32,
            ..Run::default()
        };
        let value = run(&running);
        for field in [
            "finished_at",
            "exit_code",
            "signal",
            "duration_secs",
            "scheduled_at",
            "max_rss_bytes",
        ] {
            assert_eq!(value[field], Value::Null, "{field}");
        }
        assert_eq!(value["trigger"], "schedule");
        assert_eq!(value["status"], "running");
        assert_eq!(value["requested_by"], "");
    }

    #[test]
    fn killed_run_has_signal() {
        let killed = Run {
            signal: Some(9),
            status: RunStatus::ExecutionError as i32,
            ..Run::default()
        };
        let value = run(&killed);
        assert_eq!(value["signal"], 9);
        assert_eq!(value["exit_code"], Value::Null);
        assert_eq!(value["status"], "execution_error");
    }

    #[test]
    fn task_objects() {
        let never_run = Task {
            name: "a".into(),
            schedule: "every 21s".into(),
            status: TaskStatus::NeverRun as i32,
            next_fire: ts(T0 + 21, 0),
            ..Task::default()
        };
        check(
            &task(&never_run),
            expect![[r#"
                {
                  "command": "",
                  "conf_errors": [],
                  "description": "",
                  "display_name": "",
                  "last_run": null,
                  "name": "a",
                  "next_fire": "2026-11-29T19:40:21.000Z",
                  "running_run_ids": [],
                  "runs_retained": 0,
                  "runs_since_start": 0,
                  "schedule": "every 21s",
                  "schedule_description": "",
                  "status": "never_run",
                  "suspended": false,
                  "timezone": ""
                }"#]],
        );

        let broken = Task {
            name: "b".into(),
            status: TaskStatus::ConfError as i32,
            conf_errors: vec![ConfError {
                file: "tasks.yaml".into(),
                line: 12,
                key: "schedule".into(),
                message: "unknown unit \"x\"".into(),
                task: "b".into(),
            }],
            last_run: Some(finished_run()),
            running_run_ids: vec![43, 44],
            ..Task::default()
        };
        let value = task(&broken);
        assert_eq!(value["status"], "conf_error");
        assert_eq!(value["next_fire"], Value::Null);
        check(
            &value["conf_errors"],
            expect![[r#"
                [
                  {
                    "file": "tasks.yaml",
                    "key": "schedule",
                    "line": 12,
                    "message": "unknown unit \"x\"",
                    "task": "b"
                  }
                ]"#]],
        );
        assert_eq!(value["last_run"]["id"], 42);
        assert_eq!(value["running_run_ids"], json!([43, 44]));
    }

    #[test]
    fn list_documents() {
        let response = ListRunsResponse {
            runs: vec![finished_run()],
            next_page_token: "tok".into(),
            total: 135,
            ..ListRunsResponse::default()
        };
        let value = runs(&response);
        assert_eq!(value["total"], 135);
        assert_eq!(value["next_page_token"], "tok");
        assert_eq!(value["runs"][0]["id"], 42);

        let value = tasks(&ListTasksResponse::default());
        assert_eq!(value, json!({ "tasks": [] }));
    }

    #[test]
    fn status_document() {
        let value = status(&GetStatusResponse {
            version: "0.7.0".into(),
            protocol_version: 1,
            pid: 99,
            started_at: ts(T0, 0),
            demo_mode: true,
            task_count: 3,
            ..GetStatusResponse::default()
        });
        assert_eq!(value["started_at"], "2026-11-29T19:40:00.000Z");
        assert_eq!(value["last_reload_at"], Value::Null);
        assert_eq!(value["settings_path"], "");
        assert_eq!(value["demo_mode"], true);
        assert_eq!(value["task_count"], 3);
        assert_eq!(value.as_object().map(|o| o.len()), Some(17));
    }

    #[test]
    fn reload_document() {
        let value = reload(&ReloadResponse {
            added: vec!["a".into()],
            unchanged: vec!["b".into(), "c".into()],
            ..ReloadResponse::default()
        });
        check(
            &value,
            expect![[r#"
                {
                  "added": [
                    "a"
                  ],
                  "changed": [],
                  "conf_errors": [],
                  "other_nodes": [],
                  "removed": [],
                  "settings_at_next_start": [],
                  "settings_changed": [],
                  "unchanged": [
                    "b",
                    "c"
                  ]
                }"#]],
        );
    }
}
