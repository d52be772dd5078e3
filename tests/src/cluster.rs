//! Several real daemons on one throwaway PostgreSQL database (`speedrackd::postgres::throwaway`),
//! each with its own temp dir, and a connection of the test's own to read what they recorded.

use std::time::Duration;

use crate::{Daemon, DaemonBuilder, WAIT};

/// The lease the cluster tests give their nodes: short, so that a dead node's lease lapses
/// within a test, yet three heartbeats long.
pub const LEASE: Duration = Duration::from_secs(3);

/// The `store:` URL of a fresh database, or `None` when PostgreSQL is not installed (the
/// test returns; `SPEEDRACK_REQUIRE_POSTGRES` turns that into a failure).
pub fn database() -> Option<String> {
    Some(speedrackd::postgres::throwaway::server()?.database())
}

/// The settings of node `name` on `url`. The nodes of a test share one machine, whose load
/// the other tests drive: none is busy by load, so that placement is the tests' to decide.
pub fn node_settings(url: &str, name: &str) -> String {
    format!(
        "store: '{url}'\nnode: {name}\nlease: {}s\nbusy: {{load: 0}}\n",
        LEASE.as_secs()
    )
}

/// Starts node `name` on `url` with `tasks_yaml`.
pub fn start_node(url: &str, name: &str, tasks_yaml: &str) -> Daemon {
    DaemonBuilder::new(tasks_yaml)
        .settings(&node_settings(url, name))
        .no_web()
        .start()
}

/// Waits until every daemon logs, from the line `marks` gives for it on, that it sees exactly
/// `names` alive (a daemon logs the nodes alive when it joins and whenever they change).
pub fn wait_until_all_see(nodes: &[(&Daemon, usize)], names: &[&str]) {
    let wanted = format!("nodes alive: [{}]", names.join(", "));
    for (node, mark) in nodes {
        node.wait_for_log_from(*mark, WAIT, |line| line.contains(&wanted))
            .unwrap_or_else(|| panic!("a node never saw {wanted:?}"));
    }
}

/// A connection to the cluster's database, for the test's own reads.
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = url
        .parse::<tokio_postgres::Config>()
        .expect("store URL")
        .connect(tokio_postgres::NoTls)
        .await
        .expect("connect to the cluster's database");
    tokio::spawn(connection);
    client
}

/// Scheduled runs due in `[from_us, to_us)`: (task, scheduled_at_us, node), in order.
pub async fn scheduled_runs(
    client: &tokio_postgres::Client,
    from_us: i64,
    to_us: i64,
) -> Vec<(String, i64, String)> {
    client
        .query(
            "SELECT task, scheduled_at_us, node FROM runs
             WHERE trigger = 'schedule' AND scheduled_at_us >= $1 AND scheduled_at_us < $2
             ORDER BY task, scheduled_at_us, node",
            &[&from_us, &to_us],
        )
        .await
        .expect("read the scheduled runs")
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}
