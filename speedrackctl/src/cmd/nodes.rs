//! `nodes`: the nodes sharing the daemon's store in a table, this one marked, then what is
//! wrong with any of them. A daemon on SQLite lists itself alone.
//!
//! Rendering is pure. Which warnings a node deserves is the daemon's call; this only shows them.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use speedrack_proto::v1::{ListNodesRequest, ListNodesResponse, Node};

use super::{Context, Format, print_json, print_text};
use crate::render::json::timestamp;
use crate::render::table::Table;
use crate::render::time;

/// How much of a tasks file's SHA-256 the table shows: enough to tell files apart by eye.
const SHORT_HASH: usize = 12;

pub async fn run(ctx: &mut Context) -> anyhow::Result<()> {
    let response = ctx
        .client
        .list_nodes(ListNodesRequest {})
        .await?
        .into_inner();
    match ctx.format {
        Format::Json => print_json(&json(&response)),
        Format::Text => print_text(&render(&response.nodes, ctx.now)),
    }
}

/// The table, then a `warnings:` section when any node has one.
fn render(nodes: &[Node], now: DateTime<Utc>) -> String {
    let mut table = Table::new([
        "NODE",
        "UP",
        "RUNNING",
        "VERSION",
        "TASKS FILE",
        "CLOCK",
        "LEASE",
    ]);
    for node in nodes {
        table.push([
            name_column(node),
            match (node.up, node.busy) {
                (false, _) => "NO",
                (true, true) => "busy",
                (true, false) => "yes",
            }
            .to_owned(),
            node.running_count.to_string(),
            node.version.clone(),
            short_hash(&node.tasks_file_hash),
            clock(node.clock_offset_ms),
            lease(node, now),
        ]);
    }
    let warnings: String = nodes
        .iter()
        .flat_map(|node| {
            node.warnings
                .iter()
                .map(move |warning| format!("  {}: {warning}\n", node.name))
        })
        .collect();
    match warnings.is_empty() {
        true => table.render(),
        false => format!("{}\nwarnings:\n{warnings}", table.render()),
    }
}

/// The name, marked when it is the node answering, and flagged when something is wrong.
fn name_column(node: &Node) -> String {
    let mut name = node.name.clone();
    if node.this_node {
        name.push_str(" (this node)");
    }
    if !node.warnings.is_empty() {
        name.push_str(" !");
    }
    name
}

fn short_hash(hash: &str) -> String {
    match hash.get(..SHORT_HASH) {
        Some(short) => short.to_owned(),
        None if hash.is_empty() => "-".to_owned(),
        None => hash.to_owned(),
    }
}

/// "+0.0 s", "-2.4 s": the node's clock against the database's.
fn clock(offset_ms: i64) -> String {
    format!("{:+.1} s", offset_ms as f64 / 1000.0)
}

/// "in 8s" or "3m ago"; "-" for a node that holds no lease (a single node).
fn lease(node: &Node, now: DateTime<Utc>) -> String {
    match &node.lease_expires_at {
        Some(at) => time::relative(Some(at), now),
        None => "-".to_owned(),
    }
}

fn json(response: &ListNodesResponse) -> Value {
    let nodes: Vec<Value> = response
        .nodes
        .iter()
        .map(|node| {
            json!({
                "name": node.name,
                "up": node.up,
                "busy": node.busy,
                "this_node": node.this_node,
                "version": node.version,
                "started_at": timestamp(node.started_at.as_ref()),
                "heartbeat_at": timestamp(node.heartbeat_at.as_ref()),
                "lease_expires_at": timestamp(node.lease_expires_at.as_ref()),
                "running_count": node.running_count,
                "tasks_file_hash": node.tasks_file_hash,
                "clock_offset_ms": node.clock_offset_ms,
                "warnings": node.warnings,
            })
        })
        .collect();
    json!({ "nodes": nodes })
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

    fn node(name: &str, hash: &str) -> Node {
        Node {
            name: name.into(),
            up: true,
            version: "0.7.0".into(),
            started_at: ts(T0 - 3600),
            heartbeat_at: ts(T0),
            tasks_file_hash: hash.into(),
            ..Node::default()
        }
    }

    #[test]
    fn a_single_node_is_itself_without_a_lease() {
        let alone = Node {
            this_node: true,
            running_count: 2,
            ..node("alpha", &"3f".repeat(32))
        };
        let now = DateTime::from_timestamp(T0, 0).expect("valid instant");
        expect![[r#"
            NODE               UP   RUNNING  VERSION  TASKS FILE    CLOCK   LEASE
            alpha (this node)  yes  2        0.7.0    3f3f3f3f3f3f  +0.0 s  -
        "#]]
        .assert_eq(&render(&[alone], now));
    }

    #[test]
    fn a_cluster_marks_this_node_and_lists_warnings() {
        let nodes = [
            Node {
                this_node: true,
                lease_expires_at: ts(T0 + 8),
                ..node("alpha", &"aa".repeat(32))
            },
            Node {
                up: false,
                lease_expires_at: ts(T0 - 180),
                clock_offset_ms: -2_400,
                warnings: vec!["down".into()],
                ..node("beta", "")
            },
            Node {
                lease_expires_at: ts(T0 + 5),
                clock_offset_ms: 1_500,
                busy: true,
                warnings: vec![
                    "tasks file differs from alpha's".into(),
                    "clock 1.5 s ahead".into(),
                ],
                ..node("gamma", &"bb".repeat(32))
            },
        ];
        let now = DateTime::from_timestamp(T0, 0).expect("valid instant");
        expect![[r#"
            NODE               UP    RUNNING  VERSION  TASKS FILE    CLOCK   LEASE
            alpha (this node)  yes   0        0.7.0    aaaaaaaaaaaa  +0.0 s  in 8s
            beta !             NO    0        0.7.0    -             -2.4 s  3m ago
            gamma !            busy  0        0.7.0    bbbbbbbbbbbb  +1.5 s  in 5s

            warnings:
              beta: down
              gamma: tasks file differs from alpha's
              gamma: clock 1.5 s ahead
        "#]]
        .assert_eq(&render(&nodes, now));
    }

    #[test]
    fn the_json_document_has_every_field_and_the_whole_hash() {
        let response = ListNodesResponse {
            nodes: vec![Node {
                this_node: true,
                ..node("alpha", &"ab".repeat(32))
            }],
        };
        let text = serde_json::to_string_pretty(&json(&response)).expect("serializes");
        expect![[r#"
            {
              "nodes": [
                {
                  "busy": false,
                  "clock_offset_ms": 0,
                  "heartbeat_at": "2026-11-29T19:40:00.000Z",
                  "lease_expires_at": null,
                  "name": "alpha",
                  "running_count": 0,
                  "started_at": "2026-11-29T18:40:00.000Z",
                  "tasks_file_hash": "abababababababababababababababababababababababababababababababab",
                  "this_node": true,
                  "up": true,
                  "version": "0.7.0",
                  "warnings": []
                }
              ]
            }"#]]
        .assert_eq(&text);
    }
}
