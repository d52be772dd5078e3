//! ListNodes, and the one source of the node list that ListNodes, GetStatus and the metrics
//! share ([`Service::nodes`]). Which warnings a list deserves is `crate::nodes`'s (pure); this
//! file only gathers the facts and converts them.

use speedrack_proto::v1 as pb;
use tonic::Status;

use super::{Service, convert};
use crate::config::NodeName;
use crate::nodes::{MAX_CLOCK_OFFSET, NodeInfo, Warnings, warnings};
use crate::runtime::Snapshot;

pub async fn list_nodes(service: &Service) -> Result<pb::ListNodesResponse, Status> {
    let snapshot = service.snapshot().await?;
    let nodes = service.nodes(&snapshot).await?;
    let found = service.warnings(&nodes);
    Ok(pb::ListNodesResponse {
        nodes: nodes.iter().zip(found.per_node).map(node).collect(),
    })
}

impl Service {
    /// The nodes sharing this daemon's store, sorted by name, this one included: the nodes
    /// table as the heartbeat last read it, or, for a daemon alone (SQLite), itself as the
    /// loop's snapshot has it.
    pub(super) async fn nodes(&self, snapshot: &Snapshot) -> Result<Vec<NodeInfo>, Status> {
        Ok(match &self.cluster {
            Some(link) => link.view.borrow().nodes.clone(),
            None => vec![this_node(&self.info.node, snapshot)],
        })
    }

    /// What is wrong with `nodes`, as seen from this node.
    pub(super) fn warnings(&self, nodes: &[NodeInfo]) -> Warnings {
        warnings(nodes, self.info.node.as_str(), MAX_CLOCK_OFFSET)
    }
}

/// This daemon as a node of its own: up, its heartbeat the snapshot's instant, no lease, and a
/// clock that is the database's own.
fn this_node(name: &NodeName, snapshot: &Snapshot) -> NodeInfo {
    let running: usize = snapshot.live.values().map(|live| live.running.len()).sum();
    NodeInfo {
        name: name.clone(),
        up: true,
        this_node: true,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at: snapshot.started_at,
        heartbeat_at: snapshot.taken_at,
        lease_expires_at: None,
        running_count: u32::try_from(running).unwrap_or(u32::MAX),
        tasks_file_hash: snapshot.tasks.file_hash.clone(),
        clock_offset: chrono::Duration::zero(),
        busy: false,
    }
}

fn node((info, warnings): (&NodeInfo, Vec<String>)) -> pb::Node {
    pb::Node {
        name: info.name.to_string(),
        up: info.up,
        this_node: info.this_node,
        version: info.version.clone(),
        started_at: Some(convert::timestamp(info.started_at)),
        heartbeat_at: Some(convert::timestamp(info.heartbeat_at)),
        lease_expires_at: info.lease_expires_at.map(convert::timestamp),
        running_count: info.running_count,
        tasks_file_hash: info.tasks_file_hash.clone(),
        clock_offset_ms: info.clock_offset.num_milliseconds(),
        warnings,
        busy: info.up && info.busy,
    }
}
