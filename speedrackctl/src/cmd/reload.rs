//! `reload`: make the daemon re-read its files and show what changed.
//!
//! A refused reload (FAILED_PRECONDITION: the daemon kept its running configuration) becomes
//! an error of its own; other failures go to `main` as they are.

use anyhow::bail;
use speedrack_proto::v1::{NodeReload, ReloadRequest, ReloadResponse};

use super::{Context, Format, print_json, print_text};
use crate::render::{conf_errors, json};

/// Reloads and prints the difference.
pub async fn run(ctx: &mut Context) -> anyhow::Result<()> {
    let response = match ctx.client.reload(ReloadRequest::default()).await {
        Ok(reply) => reply.into_inner(),
        Err(status) if status.code() == tonic::Code::FailedPrecondition => {
            bail!(
                "reload refused, running configuration kept: {}",
                status.message()
            )
        }
        Err(status) => return Err(status.into()),
    };
    match ctx.format {
        Format::Json => print_json(&json::reload(&response))?,
        Format::Text => print_text(&render(&response))?,
    }
    let refused: Vec<&str> = response
        .other_nodes
        .iter()
        .filter(|node| !node.error.is_empty())
        .map(|node| node.node.as_str())
        .collect();
    if !refused.is_empty() {
        bail!(
            "reloaded here; not confirmed on node {} (see above)",
            refused.join(", ")
        );
    }
    Ok(())
}

/// "added: a, b" (and removed, changed) when not empty, the unchanged count, the settings
/// changed, then conf errors.
fn render(r: &ReloadResponse) -> String {
    let mut out = String::new();
    for (label, names) in [
        ("added", &r.added),
        ("removed", &r.removed),
        ("changed", &r.changed),
    ] {
        if !names.is_empty() {
            out += &format!("{label}: {}\n", names.join(", "));
        }
    }
    let unchanged = r.unchanged.len();
    let noun = if unchanged == 1 { "task" } else { "tasks" };
    out += &format!("unchanged: {unchanged} {noun}\n");
    if !r.settings_changed.is_empty() {
        out += &format!("settings changed: {}\n", r.settings_changed.join(", "));
    }
    if !r.settings_at_next_start.is_empty() {
        out += &format!(
            "settings changed, in effect at the next start: {}\n",
            r.settings_at_next_start.join(", ")
        );
    }
    out += &conf_errors::section(&r.conf_errors, conf_errors::with_task);
    for node in &r.other_nodes {
        out += &format!("node {}: {}\n", node.node, node_outcome(node));
    }
    out
}

/// "reloaded: 1 added, 2 changed", "reloaded, nothing changed", or "not reloaded: why".
fn node_outcome(node: &NodeReload) -> String {
    if !node.error.is_empty() {
        return format!("not reloaded: {}", node.error);
    }
    let counts: Vec<String> = [
        ("added", node.added),
        ("removed", node.removed),
        ("changed", node.changed),
        ("with conf errors", node.conf_errors),
    ]
    .iter()
    .filter(|(_, count)| *count > 0)
    .map(|(label, count)| format!("{count} {label}"))
    .collect();
    match counts.is_empty() {
        true => "reloaded, nothing changed".to_owned(),
        false => format!("reloaded: {}", counts.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use speedrack_proto::v1::ConfError;

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn no_changes_are_counted() {
        let cases = [
            (ReloadResponse::default(), "unchanged: 0 tasks\n"),
            (
                ReloadResponse {
                    unchanged: names(&["a"]),
                    ..ReloadResponse::default()
                },
                "unchanged: 1 task\n",
            ),
        ];
        for (response, expected) in cases {
            assert_eq!(render(&response), expected);
        }
    }

    #[test]
    fn every_kind_of_change_and_conf_errors() {
        let response = ReloadResponse {
            added: names(&["a", "b"]),
            removed: names(&["c"]),
            changed: names(&["d"]),
            unchanged: names(&["e", "f"]),
            conf_errors: vec![ConfError {
                file: "tasks.yaml".into(),
                line: 7,
                key: "command".into(),
                message: "missing".into(),
                task: "b".into(),
            }],
            other_nodes: vec![
                NodeReload {
                    node: "web-02".into(),
                    added: 2,
                    changed: 1,
                    ..NodeReload::default()
                },
                NodeReload {
                    node: "web-03".into(),
                    ..NodeReload::default()
                },
                NodeReload {
                    node: "web-04".into(),
                    error: "node web-04 did not answer within 10s".into(),
                    ..NodeReload::default()
                },
            ],
            settings_changed: names(&["max_keep", "shutdown_grace"]),
            settings_at_next_start: names(&["listen"]),
        };
        expect![[r#"
            added: a, b
            removed: c
            changed: d
            unchanged: 2 tasks
            settings changed: max_keep, shutdown_grace
            settings changed, in effect at the next start: listen
            conf errors:
              tasks.yaml:7: b: command: missing
            node web-02: reloaded: 2 added, 1 changed
            node web-03: reloaded, nothing changed
            node web-04: not reloaded: node web-04 did not answer within 10s
        "#]]
        .assert_eq(&render(&response));
    }
}
