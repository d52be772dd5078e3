//! GET /nodes — the nodes sharing the daemon's store, and the one check the pages that show
//! runs make of whether to name each run's node.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use speedrack_proto::v1 as pb;

use super::{api_error, html};
use crate::api::ApiError;
use crate::context::Ctx;
use crate::state::AppState;
use crate::views;

pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let api = state.api();
    let (status, nodes) = tokio::join!(
        api.get_status(),
        api.call(|mut client| async move { client.list_nodes(pb::ListNodesRequest {}).await })
    );
    match (status, nodes) {
        (Ok(status), Ok(nodes)) => html(
            StatusCode::OK,
            views::nodes::page(&ctx.chrome, &status, &nodes.nodes),
        ),
        (Err(error), _) | (_, Err(error)) => api_error(&ctx, &error),
    }
}

/// Runs name their node only when the daemon's store is shared, so that a single node's pages
/// stay as they were. A failed GetStatus leaves the node out rather than failing a page that
/// has its runs.
pub fn shows_nodes(status: &Result<pb::GetStatusResponse, ApiError>) -> bool {
    status
        .as_ref()
        .is_ok_and(|status| !status.store.is_empty() && status.store != "sqlite")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_name_their_node_only_on_a_shared_store() {
        let store = |store: &str| {
            Ok(pb::GetStatusResponse {
                store: store.to_owned(),
                ..pb::GetStatusResponse::default()
            })
        };
        assert!(!shows_nodes(&store("sqlite")));
        assert!(shows_nodes(&store("postgres://speedrack@db/speedrack")));
        // A daemon older than the store field, and one that did not answer.
        assert!(!shows_nodes(&store("")));
        let unreachable = Err(ApiError::Unreachable {
            socket: "/run/x.sock".to_owned(),
            reason: "gone".to_owned(),
        });
        assert!(!shows_nodes(&unreachable));
    }
}
