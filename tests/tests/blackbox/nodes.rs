//! A daemon on SQLite is a node of its own: `speedrackctl nodes`, `status`, `/nodes` and the
//! metrics show it by its `node` setting, with the SHA-256 of its tasks file as it last loaded
//! it; single-node pages name no run's node.

use std::path::Path;

use speedrack_proto::v1::GetMetricsRequest;
use speedrack_tests::web::Gateway;
use speedrack_tests::{Daemon, DaemonBuilder};

const TASKS: &str = "tasks:\n  - {name: quick, command: 'true', interval: 400w}\n";

fn alpha() -> Daemon {
    DaemonBuilder::new(TASKS).settings("node: alpha\n").start()
}

/// Lowercase hex SHA-256 of the file, computed here rather than asked of the daemon.
fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("read the tasks file");
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The words of the `status` line labelled `label`.
fn status_line(status: &str, label: &str) -> Vec<String> {
    let line = status
        .lines()
        .find(|line| line.split("  ").next() == Some(label))
        .unwrap_or_else(|| panic!("no {label} line in:\n{status}"));
    line.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn ctl_lists_this_node_with_the_hash_of_its_tasks_file_as_last_loaded() {
    let daemon = alpha();
    let tasks_file = daemon.dir().join("tasks.yaml");
    let listed = daemon.ctl().json(&["nodes"]);
    let nodes = listed["nodes"].as_array().expect("a list of nodes");
    assert_eq!(nodes.len(), 1, "{listed}");
    let node = &nodes[0];
    assert_eq!(node["name"], "alpha", "{listed}");
    assert_eq!(node["this_node"], true, "{listed}");
    assert_eq!(node["up"], true, "{listed}");
    assert_eq!(node["tasks_file_hash"], sha256(&tasks_file), "{listed}");
    assert_eq!(node["clock_offset_ms"], 0, "{listed}");
    assert_eq!(
        node["lease_expires_at"],
        serde_json::Value::Null,
        "{listed}"
    );
    assert_eq!(node["warnings"], serde_json::json!([]), "{listed}");

    let table = daemon.ctl().ok(&["nodes"]);
    let row = table.lines().nth(1).expect("a row under the header");
    assert!(row.starts_with("alpha (this node)  yes  0"), "{table}");
    assert!(row.contains(&sha256(&tasks_file)[..12]), "{table}");

    daemon.write_tasks(&format!(
        "{TASKS}  - {{name: added, command: 'true', interval: 400w}}\n"
    ));
    daemon.ctl().ok(&["reload"]);
    let reloaded = daemon.ctl().json(&["nodes"]);
    assert_eq!(
        reloaded["nodes"][0]["tasks_file_hash"],
        sha256(&tasks_file),
        "the hash follows the reload: {reloaded}"
    );
    assert_ne!(
        reloaded["nodes"][0]["tasks_file_hash"],
        node["tasks_file_hash"]
    );
}

#[test]
fn status_names_the_node_and_the_store() {
    let daemon = alpha();
    let status = daemon.ctl().ok(&["status"]);
    assert_eq!(status_line(&status, "node"), ["node", "alpha"], "{status}");
    assert_eq!(
        status_line(&status, "store"),
        ["store", "sqlite"],
        "{status}"
    );
    assert!(!status.contains("cluster warnings"), "{status}");
    let json = daemon.ctl().json(&["status"]);
    assert_eq!(json["node"], "alpha", "{json}");
    assert_eq!(json["store"], "sqlite", "{json}");
    assert_eq!(json["cluster_warnings"], serde_json::json!([]), "{json}");
}

#[tokio::test]
async fn metrics_report_this_node_up_on_time_with_its_own_file() {
    let daemon = alpha();
    let text = daemon
        .client()
        .await
        .get_metrics(GetMetricsRequest {})
        .await
        .expect("GetMetrics")
        .into_inner()
        .text;
    for line in [
        r#"speedrack_node_up{node="alpha"} 1"#,
        r#"speedrack_node_clock_offset_seconds{node="alpha"} 0.0"#,
        r#"speedrack_node_tasks_file_differs{node="alpha"} 0"#,
    ] {
        assert!(text.lines().any(|l| l == line), "no {line} in:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nodes_page_shows_this_node_and_single_node_runs_name_no_node() {
    let daemon = alpha();
    let gateway = Gateway::start(&daemon.socket()).await;
    let client = gateway.client();
    let list = client.get("/").await;
    assert_eq!(list.status, 200);
    assert!(list.attrs("nav a", "href").contains(&"/nodes".to_owned()));
    assert_eq!(list.count("[data-cluster-warnings]"), 0, "{}", list.body);

    let page = client.get("/nodes").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.count("tr[data-node]"), 1, "{}", page.body);
    assert_eq!(page.count("tr[data-node='alpha'] [data-this-node]"), 1);
    assert_eq!(page.attrs("tr[data-node='alpha']", "data-up"), ["true"]);
    let hash = sha256(&daemon.dir().join("tasks.yaml"));
    assert_eq!(
        page.attrs("tr[data-node='alpha'] [data-hash]", "data-hash"),
        [hash]
    );
    assert_eq!(page.count("[data-warning]"), 0, "{}", page.body);

    let run = daemon.run_to_end("quick").await;
    let task = client.get("/tasks/quick").await;
    assert_eq!(task.count("tr[data-run]"), 1, "{}", task.body);
    assert_eq!(
        task.count("[data-node-column], [data-node]"),
        0,
        "{}",
        task.body
    );
    let run_page = client.get(&format!("/tasks/quick/runs/{}", run.id)).await;
    assert_eq!(run_page.status, 200);
    assert_eq!(run_page.count("[data-node]"), 0, "{}", run_page.body);
    assert_eq!(run.node, "alpha", "the run message names its node");
    gateway.stop().await;
}
