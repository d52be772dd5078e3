//! A node's place in the cluster: it registers in the `nodes` table, renews its lease with a
//! heartbeat, reads who else is alive (published to the runtime as a [`Membership`]), and
//! closes the running runs of nodes whose lease lapsed. Every guarantee rests on PostgreSQL:
//! the database's own clock (`now()`) decides when a lease has lapsed, and a lapsed node's
//! runs are closed by one UPDATE that a second node repeating it finds nothing left to do.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::busy::{is_busy, load_per_cpu};
use super::placement::Membership;
use crate::clock::Clock;
use crate::config::{BusySettings, NodeName};
use crate::nodes::NodeInfo;
use crate::postgres::PgTarget;

/// A lease shorter than this would lapse under an ordinary database hiccup.
pub const MIN_LEASE: Duration = Duration::from_secs(3);
/// A lease longer than this leaves a dead node's tasks unattended too long.
pub const MAX_LEASE: Duration = Duration::from_secs(600);
/// Heartbeats per lease: a node keeps its lease through two lost heartbeats.
const BEATS_PER_LEASE: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("lease {lease:?} is out of range; write a duration between 3s and 10m")]
    Lease { lease: Duration },
    #[error("cannot reach PostgreSQL at {url} to join the cluster: {source}")]
    Connect {
        url: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("cannot {doing} in the cluster's nodes table: {source}")]
    Query {
        doing: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
}

/// What a node says of itself at every heartbeat.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub target: PgTarget,
    pub node: NodeName,
    pub lease: Duration,
    pub version: String,
    /// The tasks file's hash as last loaded, kept current by reloads.
    pub tasks_file_hash: watch::Receiver<String>,
    /// When this node says it is busy (`busy::is_busy`), at every heartbeat.
    pub busy: BusySettings,
}

/// What the heartbeat publishes: who is alive (for placement) and every node's row (for
/// status pages).
#[derive(Debug, Clone)]
pub struct ClusterView {
    pub membership: Membership,
    /// Every node of the `nodes` table, sorted by name.
    pub nodes: Vec<NodeInfo>,
}

/// A node in the cluster: its view, and the heartbeat task that keeps it.
#[derive(Debug)]
pub struct Joined {
    pub view: watch::Receiver<ClusterView>,
    /// How many times another node took this node's lease over since it joined: each time,
    /// the runs this node had in flight were closed as interrupted and are no longer its own.
    pub takeovers: watch::Receiver<u64>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Joined {
    /// Gives the lease up, so that the other nodes take this node's fires at once rather than
    /// when the lease lapses; waits for the heartbeat task to do it.
    pub async fn leave(self) {
        self.stop.send_replace(true);
        let _ = self.task.await;
    }
}

/// Registers this node and starts its heartbeat. When a live node already holds the name
/// (this node's previous life, killed, or another daemon given the same `node`), waits for
/// that lease to lapse first, saying so every lease.
pub async fn join(config: NodeConfig, clock: Arc<dyn Clock>) -> Result<Joined, ClusterError> {
    if !(MIN_LEASE..=MAX_LEASE).contains(&config.lease) {
        return Err(ClusterError::Lease {
            lease: config.lease,
        });
    }
    let client = config
        .target
        .connect()
        .await
        .map_err(|source| ClusterError::Connect {
            url: config.target.shown().to_owned(),
            source,
        })?;
    let incarnation = register(&client, &config).await?;
    let view = read_view(&client, &config.node).await?;
    tracing::info!(node = %config.node, incarnation, "joined the cluster; nodes alive: {}", names(&view.membership.live));
    let (view_tx, view) = watch::channel(view);
    let (takeovers_tx, takeovers) = watch::channel(0);
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(heartbeat(
        Heart {
            client,
            config,
            incarnation,
            clock,
            takeovers: takeovers_tx,
            running: 0,
        },
        view_tx,
        stop_rx,
    ));
    Ok(Joined {
        view,
        takeovers,
        stop,
        task,
    })
}

struct Heart {
    client: tokio_postgres::Client,
    config: NodeConfig,
    incarnation: i64,
    clock: Arc<dyn Clock>,
    takeovers: watch::Sender<u64>,
    /// This node's runs in flight as the last heartbeat read them.
    running: u32,
}

/// Inserts or takes over this node's row once no live node holds it; returns the incarnation.
async fn register(
    client: &tokio_postgres::Client,
    config: &NodeConfig,
) -> Result<i64, ClusterError> {
    let query = |doing| move |source| ClusterError::Query { doing, source };
    let lease = lease_ms(config.lease);
    let hash = config.tasks_file_hash.borrow().clone();
    loop {
        let row = client
            .query_opt(
                "INSERT INTO nodes (name, version, started_at, heartbeat_at, lease_expires_at,
                                    tasks_file_hash)
                 VALUES ($1, $2, now(), now(), now() + $3::bigint * interval '1 millisecond', $4)
                 ON CONFLICT (name) DO UPDATE SET
                     version = excluded.version, started_at = now(), heartbeat_at = now(),
                     lease_expires_at = excluded.lease_expires_at,
                     tasks_file_hash = excluded.tasks_file_hash,
                     incarnation = nodes.incarnation + 1
                 WHERE nodes.lease_expires_at <= now()
                 RETURNING incarnation",
                &[&config.node.as_str(), &config.version, &lease, &hash],
            )
            .await
            .map_err(query("register this node"))?;
        if let Some(row) = row {
            return Ok(row.get(0));
        }
        let until: DateTime<Utc> = client
            .query_one(
                "SELECT lease_expires_at FROM nodes WHERE name = $1",
                &[&config.node.as_str()],
            )
            .await
            .map(|row| row.get(0))
            .map_err(query("read the lease of this node's name"))?;
        tracing::warn!(
            node = %config.node,
            lease_until = %until.format("%H:%M:%S%.3f UTC"),
            "a live node holds this node name (this node's previous life, or another daemon \
             with the same `node` setting); waiting for its lease to lapse"
        );
        tokio::time::sleep(config.lease / BEATS_PER_LEASE).await;
    }
}

/// Renews the lease every third of it, closes lapsed nodes' runs, publishes the view. A
/// failed beat is logged and retried at the next; the lease covers two of them.
async fn heartbeat(
    mut heart: Heart,
    view_tx: watch::Sender<ClusterView>,
    mut stop: watch::Receiver<bool>,
) {
    let every = heart.config.lease / BEATS_PER_LEASE;
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => break,
        }
        match beat(&mut heart).await {
            Ok(view) => {
                if view.membership.live != view_tx.borrow().membership.live {
                    tracing::info!(node = %heart.config.node, "nodes alive: {}", names(&view.membership.live));
                }
                view_tx.send_replace(view);
            }
            Err(error) => tracing::warn!(node = %heart.config.node, "heartbeat failed: {error}"),
        }
    }
    if let Err(source) = heart
        .client
        .execute(
            "UPDATE nodes SET lease_expires_at = now() WHERE name = $1 AND incarnation = $2",
            &[&heart.config.node.as_str(), &heart.incarnation],
        )
        .await
    {
        tracing::warn!(node = %heart.config.node, "cannot give up the lease; the other nodes take over when it lapses: {source}");
    }
}

async fn beat(heart: &mut Heart) -> Result<ClusterView, ClusterError> {
    let query = |doing| move |source| ClusterError::Query { doing, source };
    let config = &heart.config;
    let hash = config.tasks_file_hash.borrow().clone();
    let busy = is_busy(&config.busy, load_per_cpu(), heart.running);
    let sent = heart.clock.now();
    let row = heart
        .client
        .query_opt(
            "UPDATE nodes SET heartbeat_at = now(), lease_expires_at = now() + $3::bigint * interval '1 millisecond',
                 tasks_file_hash = $4, busy = $5
             WHERE name = $1 AND incarnation = $2
             RETURNING now()",
            &[
                &config.node.as_str(),
                &heart.incarnation,
                &lease_ms(config.lease),
                &hash,
                &busy,
            ],
        )
        .await
        .map_err(query("renew this node's lease"))?;
    let received = heart.clock.now();
    match row {
        Some(row) => {
            let database_now: DateTime<Utc> = row.get(0);
            let offset = clock_offset(sent, received, database_now);
            heart
                .client
                .execute(
                    "UPDATE nodes SET clock_offset_ms = $2 WHERE name = $1",
                    &[&config.node.as_str(), &offset],
                )
                .await
                .map_err(query("record this node's clock offset"))?;
        }
        None => {
            tracing::error!(
                node = %config.node,
                "this node's lease was taken over (it lapsed: the machine or the daemon \
                 stalled); its runs were closed as interrupted by another node; ending them and \
                 registering again"
            );
            heart.takeovers.send_modify(|count| *count += 1);
            heart.incarnation = register(&heart.client, &heart.config).await?;
        }
    }
    close_lapsed(heart).await?;
    let view = read_view(&heart.client, &config.node).await?;
    heart.running = view
        .nodes
        .iter()
        .find(|node| node.this_node)
        .map_or(0, |node| node.running_count);
    Ok(view)
}

/// How far this node's clock is from the database's, in milliseconds, taking the database's
/// instant to be the middle of the round trip.
fn clock_offset(sent: DateTime<Utc>, received: DateTime<Utc>, database: DateTime<Utc>) -> i64 {
    let middle = sent + (received - sent) / 2;
    (middle - database).num_milliseconds()
}

/// Closes, as interrupted, the running runs of every other node whose lease lapsed, saying
/// who closed them and why; bumps the lapsed node's incarnation so that, should it wake, its
/// next heartbeat learns it lost them.
async fn close_lapsed(heart: &Heart) -> Result<(), ClusterError> {
    let now_us = heart.clock.now().timestamp_micros();
    let closed = heart
        .client
        .query(
            "WITH lapsed AS (
                 UPDATE nodes SET incarnation = incarnation + 1
                 WHERE lease_expires_at < now() AND name <> $1
                   AND EXISTS (SELECT 1 FROM runs
                               WHERE runs.node = nodes.name AND runs.status = 'running')
                 RETURNING name, lease_expires_at
             )
             UPDATE runs SET status = 'interrupted', finished_at_us = $2,
                 op_error = 'speedrackd on node ' || lapsed.name
                     || ' stopped renewing its lease (it lapsed at '
                     || to_char(lapsed.lease_expires_at AT TIME ZONE 'UTC',
                                'YYYY-MM-DD HH24:MI:SS')
                     || ' UTC); node ' || $1 || ' closed the run as interrupted'
             FROM lapsed
             WHERE runs.node = lapsed.name AND runs.status = 'running'
             RETURNING runs.id, runs.node",
            &[&heart.config.node.as_str(), &now_us],
        )
        .await
        .map_err(|source| ClusterError::Query {
            doing: "close the runs of nodes whose lease lapsed",
            source,
        })?;
    if !closed.is_empty() {
        let nodes: std::collections::BTreeSet<String> =
            closed.iter().map(|row| row.get(1)).collect();
        tracing::warn!(
            runs = closed.len(),
            nodes = ?nodes,
            "closed the running runs of nodes whose lease lapsed, as interrupted"
        );
    }
    Ok(())
}

async fn read_view(
    client: &tokio_postgres::Client,
    this: &NodeName,
) -> Result<ClusterView, ClusterError> {
    let rows = client
        .query(
            "SELECT name, lease_expires_at > now(), version, started_at, heartbeat_at,
                    lease_expires_at, tasks_file_hash, clock_offset_ms,
                    (SELECT count(*) FROM runs WHERE runs.node = nodes.name
                                                 AND runs.status = 'running'),
                    busy
             FROM nodes ORDER BY name",
            &[],
        )
        .await
        .map_err(|source| ClusterError::Query {
            doing: "read the nodes",
            source,
        })?;
    // A name only another release could have written is left out rather than fail the beat.
    let nodes: Vec<NodeInfo> = rows
        .iter()
        .filter_map(|row| {
            let name = NodeName::parse(row.get(0)).ok()?;
            Some(NodeInfo {
                this_node: name == *this,
                name,
                up: row.get(1),
                version: row.get(2),
                started_at: row.get(3),
                heartbeat_at: row.get(4),
                lease_expires_at: Some(row.get(5)),
                tasks_file_hash: row.get(6),
                clock_offset: chrono::Duration::milliseconds(row.get(7)),
                running_count: u32::try_from(row.get::<_, i64>(8)).unwrap_or(u32::MAX),
                busy: row.get(9),
            })
        })
        .collect();
    // What a node last said of itself counts only while its lease holds.
    let busy: Vec<NodeName> = nodes
        .iter()
        .filter(|node| node.up && node.busy)
        .map(|node| node.name.clone())
        .collect();
    let mut live: Vec<NodeName> = nodes
        .iter()
        .filter(|node| node.up)
        .map(|node| node.name.clone())
        .chain([this.clone()])
        .collect();
    live.sort();
    live.dedup();
    Ok(ClusterView {
        membership: Membership {
            this: this.clone(),
            live,
            busy,
        },
        nodes,
    })
}

/// Node names as a log line lists them: `[a, b, c]`.
fn names(nodes: &[NodeName]) -> String {
    let names: Vec<&str> = nodes.iter().map(NodeName::as_str).collect();
    format!("[{}]", names.join(", "))
}

/// A lease in whole milliseconds, as the queries multiply it into an interval.
fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_clock_offset_takes_the_database_instant_as_the_middle_of_the_round_trip() {
        let at = |ms: i64| {
            Utc.timestamp_millis_opt(1_800_000_000_000 + ms)
                .single()
                .expect("instant")
        };
        assert_eq!(clock_offset(at(0), at(10), at(5)), 0);
        assert_eq!(clock_offset(at(2000), at(2010), at(5)), 2000);
        assert_eq!(clock_offset(at(0), at(10), at(1505)), -1500);
    }
}
