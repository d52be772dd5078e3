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
    /// The live nodes that said they are busy (`this` among them when it is), sorted.
    pub busy: Vec<NodeName>,
}

/// Where a scheduled fire runs, as this node sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// This node runs it.
    Here,
    /// Another node runs it.
    Elsewhere,
    /// It is this node's, but this node is busy and yields it to an idle node. In case that
    /// node does not know yet that it should take it, this node claims it a moment later
    /// unless that node did: busy views that differ for a heartbeat delay a fire, never lose it.
    Backup,
}

impl Membership {
    /// A node alone: it runs every fire.
    pub fn alone(this: NodeName) -> Membership {
        Membership {
            live: vec![this.clone()],
            busy: Vec::new(),
            this,
        }
    }

    /// Where the fire of `task` due at `due` runs. Among the live nodes `run_on` allows, the
    /// fire's owner is the one with the highest score; while the owner is busy and another
    /// candidate is not, the idle candidate with the highest score runs it instead.
    pub fn place(&self, task: &TaskName, due: DateTime<Utc>, run_on: &RunOn) -> Placement {
        if *run_on == RunOn::All {
            return Placement::Here;
        }
        if !run_on.allows(self.this.as_str()) {
            return Placement::Elsewhere;
        }
        let instant = due.timestamp_micros();
        let owner = self.top(task, instant, |node| run_on.allows(node.as_str()));
        let idle = self.top(task, instant, |node| {
            run_on.allows(node.as_str()) && !self.busy.contains(node)
        });
        let runs_it = idle.or(owner);
        if runs_it == Some(&self.this) {
            Placement::Here
        } else if owner == Some(&self.this) {
            Placement::Backup
        } else {
            Placement::Elsewhere
        }
    }

    /// The live node that runs a manual run of a task this node may not run (`run_on` names
    /// other nodes): the one placement would give a fire at `at`, an idle one first. `None`
    /// when none is alive.
    pub fn node_for(
        &self,
        task: &TaskName,
        at: DateTime<Utc>,
        run_on: &RunOn,
    ) -> Option<&NodeName> {
        let instant = at.timestamp_micros();
        let allowed = |node: &NodeName| run_on.allows(node.as_str());
        self.top(task, instant, |node| {
            allowed(node) && !self.busy.contains(node)
        })
        .or_else(|| self.top(task, instant, allowed))
    }

    /// The live node with the highest score among those `candidate` admits.
    fn top(
        &self,
        task: &TaskName,
        instant: i64,
        candidate: impl Fn(&NodeName) -> bool,
    ) -> Option<&NodeName> {
        self.live
            .iter()
            .filter(|node| candidate(node))
            .max_by_key(|node| (score(node, task, instant), *node))
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
        busy_views(names, &[])
    }

    /// Every node's view, all seeing `busy` busy.
    fn busy_views(names: &[&str], busy: &[&str]) -> Vec<Membership> {
        let live: Vec<NodeName> = names.iter().map(|name| node(name)).collect();
        live.iter()
            .map(|this| Membership {
                this: this.clone(),
                live: live.clone(),
                busy: busy.iter().map(|name| node(name)).collect(),
            })
            .collect()
    }

    fn here(view: &Membership, task_name: &str, second: i64, run_on: &RunOn) -> bool {
        view.place(&task(task_name), due(second), run_on) == Placement::Here
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
                    .filter(|&i| here(&nodes[i], name, second, &RunOn::Any))
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
                .map(|m| m.place(&t, due(second), &RunOn::Any) == Placement::Here)
                .collect();
            // c sees all three; a and b still see only each other.
            let c_runs = after[2].place(&t, due(second), &RunOn::Any) == Placement::Here;
            assert!(
                c_runs || old.iter().any(|&runs| runs),
                "fire {second} unclaimed"
            );
            // What c does not take stays with the node that had it.
            if !c_runs {
                for i in 0..2 {
                    let now_here = after[i].place(&t, due(second), &RunOn::Any) == Placement::Here;
                    assert_eq!(now_here, old[i]);
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
                .filter(|m| here(m, "x", second, &pinned))
                .map(|m| m.this.as_str())
                .collect();
            assert_eq!(runners, ["b"]);
            assert!(nodes.iter().all(|m| here(m, "x", second, &RunOn::All)));
        }
        // Pinned to nodes none of which is alive: nobody runs it, not even a live stranger.
        let gone = RunOn::Nodes(vec![node("d")]);
        assert!(
            nodes
                .iter()
                .all(|m| m.place(&task("x"), due(1), &gone) == Placement::Elsewhere)
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
        assert!(here(&alone, "x", 1, &RunOn::Any));
        assert!(here(&alone, "x", 1, &RunOn::Nodes(vec![node("a")])));
        assert!(!here(&alone, "x", 1, &RunOn::Nodes(vec![node("b")])));
        let busy_alone = Membership {
            busy: vec![node("a")],
            ..alone
        };
        assert!(here(&busy_alone, "x", 1, &RunOn::Any), "no one to yield to");
    }

    #[test]
    fn a_busy_node_yields_its_fires_to_idle_nodes_and_backs_them_up() {
        let nodes = busy_views(&["a", "b", "c"], &["b"]);
        let mut backups = 0;
        for second in 0..600 {
            let places: Vec<Placement> = nodes
                .iter()
                .map(|m| m.place(&task("sync"), due(second), &RunOn::Any))
                .collect();
            let runners = places.iter().filter(|p| **p == Placement::Here).count();
            assert_eq!(runners, 1, "{second}: {places:?}");
            assert_ne!(places[1], Placement::Here, "busy b runs nothing");
            backups += usize::from(places[1] == Placement::Backup);
        }
        // b owns about a third of the fires and backs each of them up.
        assert!((150..=250).contains(&backups), "{backups}");
        // Everyone busy is no one busy.
        let all_busy = busy_views(&["a", "b", "c"], &["a", "b", "c"]);
        let idle = views(&["a", "b", "c"]);
        for second in 0..100 {
            for (busy, calm) in all_busy.iter().zip(&idle) {
                assert_eq!(
                    here(busy, "x", second, &RunOn::Any),
                    here(calm, "x", second, &RunOn::Any)
                );
            }
        }
    }

    #[test]
    fn while_views_of_who_is_busy_differ_every_fire_still_has_a_node() {
        // b has just said it is busy; a has read it, c not yet.
        let live = views(&["a", "b", "c"]);
        let mut a = live[0].clone();
        a.busy = vec![node("b")];
        let mut b = live[1].clone();
        b.busy = vec![node("b")];
        let c = live[2].clone();
        for second in 0..600 {
            let places: Vec<Placement> = [&a, &b, &c]
                .iter()
                .map(|m| m.place(&task("sync"), due(second), &RunOn::Any))
                .collect();
            assert!(
                places
                    .iter()
                    .any(|p| matches!(p, Placement::Here | Placement::Backup)),
                "fire {second} has no node: {places:?}"
            );
        }
    }

    #[test]
    fn a_busy_pinned_node_still_runs_what_only_it_may() {
        let nodes = busy_views(&["a", "b", "c"], &["b"]);
        let pinned = RunOn::Nodes(vec![node("b")]);
        for second in 0..50 {
            assert!(here(&nodes[1], "x", second, &pinned));
        }
        let either = RunOn::Nodes(vec![node("b"), node("c")]);
        let calm = views(&["a", "b", "c"]);
        for second in 0..50 {
            let to = nodes[0].node_for(&task("x"), due(second), &either);
            assert_eq!(
                to.map(NodeName::as_str),
                Some("c"),
                "a manual run goes to the idle node"
            );
        }
        // Without b busy, b gets some of them: the busy flag is what sent them all to c.
        assert!((0..50).any(|second| {
            calm[0].node_for(&task("x"), due(second), &either) == Some(&node("b"))
        }));
    }
}
