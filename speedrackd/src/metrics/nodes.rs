//! The nodes' gauges: up, busy, clock offset and whether a node's tasks file differs from this
//! node's, one series per node, from the same node list that ListNodes shows. Registered
//! fresh for each scrape; which nodes there are and what they reported is the caller's.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// One node's scrape-time facts.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeFacts {
    pub node: String,
    pub up: bool,
    /// Up and yielding its fires to idle nodes (`busy` settings).
    pub busy: bool,
    /// Its clock minus the database's, in seconds; positive when it is ahead.
    pub clock_offset_seconds: f64,
    pub tasks_file_differs: bool,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NodeLabel {
    node: String,
}

pub fn register_nodes(registry: &mut Registry, nodes: &[NodeFacts]) {
    let up = Family::<NodeLabel, Gauge<u64, AtomicU64>>::default();
    let busy = Family::<NodeLabel, Gauge<u64, AtomicU64>>::default();
    let offset = Family::<NodeLabel, Gauge<f64, AtomicU64>>::default();
    let differs = Family::<NodeLabel, Gauge<u64, AtomicU64>>::default();
    for node in nodes {
        let label = NodeLabel {
            node: node.node.clone(),
        };
        up.get_or_create(&label).set(u64::from(node.up));
        busy.get_or_create(&label).set(u64::from(node.busy));
        offset.get_or_create(&label).set(node.clock_offset_seconds);
        differs
            .get_or_create(&label)
            .set(u64::from(node.tasks_file_differs));
    }
    registry.register(
        "node_up",
        "1 while the node holds its lease (a node on its own store is always up)",
        up,
    );
    registry.register(
        "node_busy",
        "1 while the node is busy by its busy settings and yields its fires to idle nodes",
        busy,
    );
    registry.register(
        "node_clock_offset_seconds",
        "The node's clock minus the database's now(), in seconds (0 on a single node)",
        offset,
    );
    registry.register(
        "node_tasks_file_differs",
        "1 when the node's tasks file (its SHA-256) differs from this node's",
        differs,
    );
}
