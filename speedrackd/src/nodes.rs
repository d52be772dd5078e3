//! What a client is shown of the nodes sharing a store: one node's facts as plain data
//! ([`NodeInfo`]) and what is wrong with them ([`warnings`], pure). Where the facts come from
//! (this daemon alone, or a cluster's nodes table) is the RPC layer's choice (`rpc/nodes.rs`);
//! heartbeats, leases and claims are not this module's.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::NodeName;

/// How far a node's clock may be from the database's before it is warned about: schedules fire
/// by the node's clock, so an offset of seconds shows as fires seconds off.
pub const MAX_CLOCK_OFFSET: Duration = Duration::from_secs(1);

/// One node as its last heartbeat told the store (or, on a single node, as it is now).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeInfo {
    pub name: NodeName,
    /// Its lease is held.
    pub up: bool,
    /// It is the daemon answering.
    pub this_node: bool,
    /// Its speedrackd release.
    pub version: String,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
    /// `None` on a single node, which holds no lease.
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub running_count: u32,
    /// Lowercase hex SHA-256 of its tasks file as last loaded; empty when it never said.
    pub tasks_file_hash: String,
    /// Its clock minus the database's `now()`: positive when the node is ahead.
    pub clock_offset: chrono::Duration,
    /// It said it is busy (its `busy` settings): it yields its share of fires to idle nodes.
    pub busy: bool,
}

/// What is wrong with a list of nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Warnings {
    /// Short phrases for each node, in the order of the nodes given.
    pub per_node: Vec<Vec<String>>,
    /// Whole sentences about the cluster, for GetStatus and the UI's banner.
    pub cluster: Vec<String>,
}

/// The warnings of `nodes`, as seen from the node named `this`: a tasks file that differs from
/// this node's, a clock off by more than `max_clock_offset`, a node down. A down node is warned
/// about as down only: what it last said about its file and clock is stale.
pub fn warnings(nodes: &[NodeInfo], this: &str, max_clock_offset: Duration) -> Warnings {
    let this_hash = nodes
        .iter()
        .find(|node| node.name.as_str() == this)
        .map_or("", |node| node.tasks_file_hash.as_str());
    let mut out = Warnings::default();
    for node in nodes {
        let mut phrases = Vec::new();
        let name = node.name.as_str();
        if !node.up {
            phrases.push("down".to_owned());
            out.cluster.push(format!(
                "node {name} is down: its last heartbeat was at {} UTC",
                node.heartbeat_at.format("%Y-%m-%d %H:%M:%S")
            ));
        } else {
            if tasks_file_differs(node, this_hash) {
                phrases.push(format!("tasks file differs from {this}'s"));
                out.cluster.push(format!(
                    "node {name}'s tasks file differs from this node's ({this}): they run \
                     different tasks; give every node the same file and reload"
                ));
            }
            if clock_off(node, max_clock_offset) {
                let offset = offset_words(node.clock_offset);
                let relation = if offset.ends_with("ahead") { " of" } else { "" };
                phrases.push(format!("clock {offset}"));
                out.cluster.push(format!(
                    "node {name}'s clock is {offset}{relation} the database's (more than {} s): \
                     its fires are off by as much; synchronise its clock (NTP)",
                    max_clock_offset.as_secs_f64()
                ));
            }
        }
        out.per_node.push(phrases);
    }
    out
}

/// The node's tasks file is not `this_hash`'s; unknown when either hash is.
pub fn tasks_file_differs(node: &NodeInfo, this_hash: &str) -> bool {
    !this_hash.is_empty() && !node.tasks_file_hash.is_empty() && node.tasks_file_hash != this_hash
}

fn clock_off(node: &NodeInfo, max: Duration) -> bool {
    node.clock_offset.abs().to_std().unwrap_or(Duration::MAX) > max
}

/// "2.4 s ahead", "0.3 s behind".
fn offset_words(offset: chrono::Duration) -> String {
    let seconds = offset.num_milliseconds().unsigned_abs() as f64 / 1000.0;
    let side = if offset > chrono::Duration::zero() {
        "ahead"
    } else {
        "behind"
    };
    format!("{seconds:.1} s {side}")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn node(name: &str, hash: &str) -> NodeInfo {
        let at = Utc
            .with_ymd_and_hms(2026, 12, 1, 5, 0, 0)
            .single()
            .expect("an instant");
        NodeInfo {
            name: NodeName::parse(name).expect("a node name"),
            up: true,
            this_node: name == "alpha",
            version: "0.7.0".to_owned(),
            started_at: at,
            heartbeat_at: at,
            lease_expires_at: None,
            running_count: 0,
            tasks_file_hash: hash.to_owned(),
            clock_offset: chrono::Duration::zero(),
            busy: false,
        }
    }

    fn offset(mut node: NodeInfo, millis: i64) -> NodeInfo {
        node.clock_offset = chrono::Duration::milliseconds(millis);
        node
    }

    fn down(mut node: NodeInfo) -> NodeInfo {
        node.up = false;
        node
    }

    #[test]
    fn a_single_node_has_nothing_to_warn_about() {
        assert_eq!(
            warnings(&[node("alpha", "aa")], "alpha", SECOND),
            Warnings {
                per_node: vec![vec![]],
                cluster: vec![],
            }
        );
    }

    #[test]
    fn a_node_with_another_tasks_file_is_named() {
        let found = warnings(
            &[node("alpha", "aa"), node("beta", "bb"), node("gamma", "aa")],
            "alpha",
            SECOND,
        );
        assert_eq!(
            found.per_node,
            [
                vec![],
                vec!["tasks file differs from alpha's".to_owned()],
                vec![]
            ]
        );
        assert_eq!(
            found.cluster,
            [
                "node beta's tasks file differs from this node's (alpha): they run different \
              tasks; give every node the same file and reload"
            ]
        );
    }

    #[test]
    fn an_unknown_hash_is_not_a_difference() {
        let found = warnings(&[node("alpha", ""), node("beta", "bb")], "alpha", SECOND);
        assert!(found.cluster.is_empty(), "{found:?}");
        let found = warnings(&[node("alpha", "aa"), node("beta", "")], "alpha", SECOND);
        assert!(found.cluster.is_empty(), "{found:?}");
    }

    #[test]
    fn clocks_beyond_the_threshold_either_way_are_named() {
        let nodes = [
            offset(node("alpha", "aa"), 1000),
            offset(node("beta", "aa"), 2449),
            offset(node("gamma", "aa"), -1001),
        ];
        let found = warnings(&nodes, "alpha", SECOND);
        assert_eq!(
            found.per_node,
            [
                vec![],
                vec!["clock 2.4 s ahead".to_owned()],
                vec!["clock 1.0 s behind".to_owned()]
            ]
        );
        assert_eq!(
            found.cluster[1],
            "node gamma's clock is 1.0 s behind the database's (more than 1 s): its fires are \
             off by as much; synchronise its clock (NTP)"
        );
    }

    #[test]
    fn a_down_node_is_only_down() {
        let nodes = [node("alpha", "aa"), down(offset(node("beta", "bb"), 5000))];
        let found = warnings(&nodes, "alpha", SECOND);
        assert_eq!(found.per_node, [vec![], vec!["down".to_owned()]]);
        assert_eq!(
            found.cluster,
            ["node beta is down: its last heartbeat was at 2026-12-01 05:00:00 UTC"]
        );
    }
}
