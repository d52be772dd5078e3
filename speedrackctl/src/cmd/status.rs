//! `status`: who the daemon is, where its files are, how many tasks it has, whether its data
//! dir runs out of space, what is wrong in its cluster; warns on stderr when its protocol
//! version differs from ours.
//!
//! Rendering is pure; it does not look at tasks (see `tasks`).

use std::fmt::Display;

use chrono::{DateTime, Local, TimeZone, Utc};
use speedrack_proto::PROTOCOL_VERSION;
use speedrack_proto::v1::{GetStatusRequest, GetStatusResponse};

use super::{Context, Format, print_json, print_text};
use crate::render::{json, table, time};

/// Asks for the status and prints it.
pub async fn run(ctx: &mut Context) -> anyhow::Result<()> {
    let status = ctx
        .client
        .get_status(GetStatusRequest {})
        .await?
        .into_inner();
    if let Some(warning) = protocol_warning(status.protocol_version, PROTOCOL_VERSION) {
        eprintln!("speedrackctl: warning: {warning}");
    }
    match ctx.format {
        Format::Json => print_json(&json::status(&status)),
        Format::Text => print_text(&(render(&status, ctx.now, &Local) + &cluster(&status))),
    }
}

/// What to do when the daemon and this client speak different protocol versions.
fn protocol_warning(daemon: u32, client: u32) -> Option<String> {
    let advice = match daemon.cmp(&client) {
        std::cmp::Ordering::Equal => return None,
        std::cmp::Ordering::Less => "upgrade speedrackd, or use the speedrackctl that came with it",
        std::cmp::Ordering::Greater => "upgrade speedrackctl to the daemon's version",
    };
    Some(format!(
        "speedrackd speaks protocol {daemon} but this speedrackctl speaks protocol {client}; \
         {advice}"
    ))
}

/// The status as aligned "label  value" lines; absolute times are shown in `tz`.
fn render<Tz: TimeZone>(s: &GetStatusResponse, now: DateTime<Utc>, tz: &Tz) -> String
where
    Tz::Offset: Display,
{
    let uptime = s
        .started_at
        .as_ref()
        .and_then(time::instant)
        .map_or("-".to_owned(), |started| {
            time::span((now - started).num_seconds().max(0).unsigned_abs())
        });
    table::key_values(&[
        ("version", s.version.clone()),
        ("protocol", s.protocol_version.to_string()),
        ("node", s.node.clone()),
        ("store", s.store.clone()),
        ("pid", s.pid.to_string()),
        ("started", absolute(s.started_at.as_ref(), now, tz)),
        ("uptime", uptime),
        ("settings", config_path(&s.settings_path, s.demo_mode)),
        ("tasks file", config_path(&s.tasks_path, s.demo_mode)),
        ("socket", s.socket_path.clone()),
        ("data dir", s.data_dir.clone()),
        ("last reload", absolute(s.last_reload_at.as_ref(), now, tz)),
        ("tasks", s.task_count.to_string()),
        ("running", s.running_count.to_string()),
        ("suspended", s.suspended_count.to_string()),
        ("conf errors", s.conf_error_count.to_string()),
        ("disk free", disk_free(s)),
        ("db writes", history_writes(s.pending_history_writes)),
    ])
}

/// The cluster's warnings as a section after the status lines; nothing when there are none.
fn cluster(s: &GetStatusResponse) -> String {
    if s.cluster_warnings.is_empty() {
        return String::new();
    }
    let lines: String = s
        .cluster_warnings
        .iter()
        .map(|warning| format!("  {warning}\n"))
        .collect();
    format!("\ncluster warnings (see speedrackctl nodes):\n{lines}")
}

/// "3.0 MiB of 8.0 MiB", flagged when low; "-" when the daemon could not read it.
fn disk_free(s: &GetStatusResponse) -> String {
    if s.data_dir_total_bytes == 0 {
        return "-".to_owned();
    }
    let free = format!(
        "{} of {}",
        bytes(s.data_dir_free_bytes),
        bytes(s.data_dir_total_bytes)
    );
    match s.low_disk {
        true => format!("{free} (LOW: history and output writes may fail; free some space)"),
        false => free,
    }
}

fn history_writes(pending: u32) -> String {
    match pending {
        0 => "ok".to_owned(),
        n => format!("{n} refused by the database, retrying (is the disk full?)"),
    }
}

/// "512 B", "1.5 KiB", "3.0 MiB".
fn bytes(count: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if count < 1024 {
        return format!("{count} B");
    }
    let mut value = count as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// "2026-11-29 19:40:00 +00:00 (3m ago)", or "-" when absent.
fn absolute<Tz: TimeZone>(
    ts: Option<&prost_types::Timestamp>,
    now: DateTime<Utc>,
    tz: &Tz,
) -> String
where
    Tz::Offset: Display,
{
    match ts.and_then(time::instant) {
        Some(at) => format!(
            "{} ({})",
            at.with_timezone(tz).format("%Y-%m-%d %H:%M:%S %:z"),
            time::relative(ts, now)
        ),
        None => "-".to_owned(),
    }
}

/// A settings or tasks path; the daemon sends it empty when it runs on defaults or as a demo.
fn config_path(path: &str, demo_mode: bool) -> String {
    match (path.is_empty(), demo_mode) {
        (true, false) => "(none)".to_owned(),
        (true, true) => "(none, demo mode)".to_owned(),
        (false, false) => path.to_owned(),
        (false, true) => format!("{path} (demo mode)"),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    // 2026-11-29T19:40:00Z
    const T0: i64 = 1_795_981_200;

    fn ts(seconds: i64) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp { seconds, nanos: 0 })
    }

    #[test]
    fn status_text() {
        let status = GetStatusResponse {
            version: "0.7.0".into(),
            protocol_version: 1,
            pid: 4242,
            started_at: ts(T0),
            settings_path: String::new(),
            tasks_path: "/etc/speedrack/tasks.yaml".into(),
            socket_path: "/run/speedrack/speedrackd.sock".into(),
            data_dir: "/var/lib/speedrack".into(),
            demo_mode: false,
            task_count: 12,
            running_count: 2,
            suspended_count: 1,
            conf_error_count: 1,
            last_reload_at: None,
            data_dir_free_bytes: 3 << 20,
            data_dir_total_bytes: 8 << 30,
            low_disk: true,
            pending_history_writes: 2,
            node: "alpha".into(),
            store: "sqlite".into(),
            cluster_warnings: Vec::new(),
        };
        let now = DateTime::from_timestamp(T0 + 192, 0).expect("valid instant");
        expect![[r#"
            version      0.7.0
            protocol     1
            node         alpha
            store        sqlite
            pid          4242
            started      2026-11-29 19:40:00 +00:00 (3m 12s ago)
            uptime       3m 12s
            settings     (none)
            tasks file   /etc/speedrack/tasks.yaml
            socket       /run/speedrack/speedrackd.sock
            data dir     /var/lib/speedrack
            last reload  -
            tasks        12
            running      2
            suspended    1
            conf errors  1
            disk free    3.0 MiB of 8.0 GiB (LOW: history and output writes may fail; free some space)
            db writes    2 refused by the database, retrying (is the disk full?)
        "#]]
        .assert_eq(&render(&status, now, &Utc));
    }

    #[test]
    fn cluster_warnings_follow_the_status_lines() {
        let status = GetStatusResponse {
            cluster_warnings: vec![
                "node beta is down: its last heartbeat was at 2026-11-29 19:40:00 UTC".into(),
            ],
            ..GetStatusResponse::default()
        };
        expect![[r#"

            cluster warnings (see speedrackctl nodes):
              node beta is down: its last heartbeat was at 2026-11-29 19:40:00 UTC
        "#]]
        .assert_eq(&cluster(&status));
        assert_eq!(cluster(&GetStatusResponse::default()), "");
    }

    #[test]
    fn config_paths() {
        let cases = [
            ("", false, "(none)"),
            ("", true, "(none, demo mode)"),
            ("/etc/s.yaml", false, "/etc/s.yaml"),
            ("/etc/s.yaml", true, "/etc/s.yaml (demo mode)"),
        ];
        for (path, demo, expected) in cases {
            assert_eq!(config_path(path, demo), expected);
        }
    }

    #[test]
    fn protocol_warnings() {
        assert_eq!(protocol_warning(1, 1), None);
        assert_eq!(
            protocol_warning(1, 2).as_deref(),
            Some(
                "speedrackd speaks protocol 1 but this speedrackctl speaks protocol 2; \
                 upgrade speedrackd, or use the speedrackctl that came with it"
            )
        );
        assert_eq!(
            protocol_warning(3, 2).as_deref(),
            Some(
                "speedrackd speaks protocol 3 but this speedrackctl speaks protocol 2; \
                 upgrade speedrackctl to the daemon's version"
            )
        );
    }
}
