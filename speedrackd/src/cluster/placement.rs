//! Which node runs a scheduled fire: a pure decision over the nodes each node believes alive.
//!
//! Every node computes the same answer from the same inputs (rendezvous hashing: the node with
//! the highest hash of (node, task, instant) among the candidates), so fires spread over the
//! nodes without talking, and a node joining takes only its own share. While views differ (a
//! node has just joined, or its lease has just lapsed) two nodes may both claim a fire: the
//! history's unique key lets one of them record it, so it still runs once. A fire whose chosen
//! node died is lost until the others see its lease lapse: the price of not racing for every
//! fire, and within the guarantee CLUSTER.md states.

use chrono::{DateTime, Utc};

use crate::config::{NodeName, RunOn, TaskName};

/// The nodes alive as this node last saw them, itself always included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub this: NodeName,
    /// Sorted, without duplicates, `this` included.
    pub live: Vec<NodeName>,
}

impl Membership {
    /// A node alone: it runs every fire.
    pub fn alone(this: NodeName) -> Membership {
        Membership {
            live: vec![this.clone()],
            this,
        }
    }

    /// Whether this node runs the fire of `task` due at `due`.
    pub fn runs_here(&self, task: &TaskName, due: DateTime<Utc>, run_on: &RunOn) -> bool {
        match run_on {
            RunOn::All => true,
            RunOn::Any => self.chosen(task, due, |_| true),
            RunOn::Nodes(allowed) => {
                run_on.allows(self.this.as_str())
                    && self.chosen(task, due, |node| allowed.contains(node))
            }
        }
    }

    /// The live node that runs a manual run of a task this node may not run (`run_on` names
    /// other nodes): the one placement would give a fire at `at`. `None` when none is alive.
    pub fn node_for(
        &self,
        task: &TaskName,
        at: DateTime<Utc>,
        run_on: &RunOn,
    ) -> Option<&NodeName> {
        let instant = at.timestamp_micros();
        self.live
            .iter()
            .filter(|node| run_on.allows(node.as_str()))
            .max_by_key(|node| (score(node, task, instant), *node))
    }

    /// Whether this node has the highest score among the live candidates.
    fn chosen(
        &self,
        task: &TaskName,
        due: DateTime<Utc>,
        candidate: impl Fn(&NodeName) -> bool,
    ) -> bool {
        let instant = due.timestamp_micros();
        let mine = score(&self.this, task, instant);
        !self
            .live
            .iter()
            .filter(|node| **node != self.this && candidate(node))
            .any(|node| (score(node, task, instant), node) > (mine, &self.this))
    }
}

/// FNV-1a over the node, the task and the instant: stable across machines, builds and
/// releases (std's hasher promises none of that), and cheap enough for every fire.
fn score(node: &NodeName, task: &TaskName, instant: i64) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let bytes = node
        .as_str()
        .bytes()
        .chain([0])
        .chain(task.as_str().bytes())
        .chain([0])
        .chain(instant.to_le_bytes());
    for byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    // FNV's low bits mix poorly for inputs that differ only at the end (the instant); a final
    // avalanche (from MurmurHash3's finaliser) spreads them.
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn node(name: &str) -> NodeName {
        NodeName::parse(name).expect("node name")
    }

    fn views(names: &[&str]) -> Vec<Membership> {
        let live: Vec<NodeName> = names.iter().map(|name| node(name)).collect();
        live.iter()
            .map(|this| Membership {
                this: this.clone(),
                live: live.clone(),
            })
            .collect()
    }

    fn due(second: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + second, 0)
            .single()
            .expect("instant")
    }

    fn task(name: &str) -> TaskName {
        TaskName::parse_normalised(name).expect("task name")
    }

    #[test]
    fn with_the_same_view_exactly_one_node_runs_each_fire_and_all_get_a_share() {
        let nodes = views(&["a", "b", "c"]);
        let mut share = [0_u32; 3];
        for second in 0..600 {
            for name in ["backup", "report", "sync"] {
                let runners: Vec<usize> = (0..3)
                    .filter(|&i| nodes[i].runs_here(&task(name), due(second), &RunOn::Any))
                    .collect();
                assert_eq!(runners.len(), 1, "{name} at {second}: {runners:?}");
                share[runners[0]] += 1;
            }
        }
        for count in share {
            assert!((450..=750).contains(&count), "uneven spread: {share:?}");
        }
    }

    #[test]
    fn a_joining_node_takes_fires_only_from_others_never_leaves_one_unclaimed() {
        let before = views(&["a", "b"]);
        let after = views(&["a", "b", "c"]);
        for second in 0..600 {
            let t = task("sync");
            let old: Vec<bool> = before
                .iter()
                .map(|m| m.runs_here(&t, due(second), &RunOn::Any))
                .collect();
            // c sees all three; a and b still see only each other.
            let c_runs = after[2].runs_here(&t, due(second), &RunOn::Any);
            assert!(
                c_runs || old.iter().any(|&runs| runs),
                "fire {second} unclaimed"
            );
            // What c does not take stays with the node that had it.
            if !c_runs {
                for i in 0..2 {
                    assert_eq!(after[i].runs_here(&t, due(second), &RunOn::Any), old[i]);
                }
            }
        }
    }

    #[test]
    fn a_pinned_task_runs_only_on_its_nodes_and_all_runs_everywhere() {
        let nodes = views(&["a", "b", "c"]);
        let pinned = RunOn::Nodes(vec![node("b")]);
        for second in 0..100 {
            let runners: Vec<&str> = nodes
                .iter()
                .filter(|m| m.runs_here(&task("x"), due(second), &pinned))
                .map(|m| m.this.as_str())
                .collect();
            assert_eq!(runners, ["b"]);
            assert!(
                nodes
                    .iter()
                    .all(|m| m.runs_here(&task("x"), due(second), &RunOn::All))
            );
        }
        // Pinned to nodes none of which is alive: nobody runs it, not even a live stranger.
        let gone = RunOn::Nodes(vec![node("d")]);
        assert!(
            nodes
                .iter()
                .all(|m| !m.runs_here(&task("x"), due(1), &gone))
        );
    }

    #[test]
    fn a_manual_run_elsewhere_goes_to_a_live_node_the_task_may_run_on() {
        let nodes = views(&["a", "b", "c"]);
        let pinned = RunOn::Nodes(vec![node("b"), node("d")]);
        for second in 0..50 {
            let to = nodes[0].node_for(&task("x"), due(second), &pinned);
            assert_eq!(to.map(NodeName::as_str), Some("b"));
        }
        let gone = RunOn::Nodes(vec![node("d")]);
        assert_eq!(nodes[0].node_for(&task("x"), due(1), &gone), None);
    }

    #[test]
    fn a_node_alone_runs_everything_it_may() {
        let alone = Membership::alone(node("a"));
        assert!(alone.runs_here(&task("x"), due(1), &RunOn::Any));
        assert!(alone.runs_here(&task("x"), due(1), &RunOn::Nodes(vec![node("a")])));
        assert!(!alone.runs_here(&task("x"), due(1), &RunOn::Nodes(vec![node("b")])));
    }
}
