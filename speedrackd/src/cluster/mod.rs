//! Several nodes on one PostgreSQL (CLUSTER.md): which node runs each fire (`placement`, pure)
//! and each node's place among the others (`membership`: registration, lease, heartbeat,
//! closing the runs of nodes whose lease lapsed). History itself is `history::pg`'s; runs are
//! started by the runtime, which asks the current [`Membership`] before claiming a fire.

mod busy;
mod membership;
mod placement;
mod relay;

pub use membership::{ClusterError, ClusterView, Joined, NodeConfig, join};
pub use placement::{Membership, Placement};
pub use relay::{Answer, Handler, OUTPUT_PIECE, Relay, RelayError, Relayed};
