//! The nodes page: every node sharing the daemon's store (the daemon alone on SQLite), with
//! whether it is up, its runs in flight, version, tasks file hash, clock offset and lease, and
//! its warnings highlighted; the cluster's warnings on top. Also the banner of those warnings
//! that the tasks page shows. What deserves a warning is the daemon's call.

use maud::{Markup, html};
use speedrack_proto::v1 as pb;

use crate::views::layout::{Chrome, Nav, Page, render};
use crate::views::time::moment;

/// How much of a tasks file's SHA-256 a cell shows; the whole hash is its tooltip.
const SHORT_HASH: usize = 12;

pub fn page(chrome: &Chrome, status: &pb::GetStatusResponse, nodes: &[pb::Node]) -> Markup {
    render(
        chrome,
        Page {
            nav: Nav::Nodes,
            title: "Nodes",
            events: None,
            live: html! {},
            rest: html! {
                h1.h4 { "Nodes" }
                p.text-body-secondary data-store {
                    @if status.store == "sqlite" {
                        "This daemon keeps its history in SQLite: it is a node of its own."
                    } @else {
                        "Nodes sharing the store " code { (status.store) } "."
                    }
                }
                (banner(&status.cluster_warnings))
                (table(chrome, nodes))
            },
        },
    )
}

/// The cluster's warnings as one alert; nothing when there are none.
pub fn banner(warnings: &[String]) -> Markup {
    html! {
        @if !warnings.is_empty() {
            div.alert.alert-warning role="alert" data-cluster-warnings {
                strong { "Cluster: " }
                @if let [one] = warnings {
                    (one)
                } @else {
                    ul.mb-0 { @for warning in warnings { li { (warning) } } }
                }
            }
        }
    }
}

fn table(chrome: &Chrome, nodes: &[pb::Node]) -> Markup {
    html! {
        div.table-responsive {
            table.table.table-sm.sr-table data-nodes {
                thead {
                    // A header that broke mid-word would be taller than the rows on phones.
                    tr.text-nowrap {
                        // Version, file and lease give way on phones; the warnings, which say
                        // when a file differs, stay under the name.
                        th { "Node" } th { "Up" } th { "Running" }
                        th.d-none.d-md-table-cell { "Version" }
                        th.d-none.d-md-table-cell { "Tasks file" }
                        th { "Clock" } th.d-none.d-md-table-cell { "Lease" }
                    }
                }
                tbody {
                    @for node in nodes { (row(chrome, node)) }
                }
            }
        }
    }
}

fn row(chrome: &Chrome, node: &pb::Node) -> Markup {
    let warned = !node.warnings.is_empty();
    html! {
        tr class=[warned.then_some("table-warning")] data-node=(node.name) data-up=(node.up) {
            td {
                strong { (node.name) }
                @if node.this_node { " " span.badge.text-bg-secondary data-this-node { "this node" } }
                @for warning in &node.warnings {
                    div.small.text-warning-emphasis data-warning { "⚠ " (warning) }
                }
            }
            td {
                @if node.up { span.badge.text-bg-success { "up" } }
                @else { span.badge.text-bg-danger { "down" } }
                @if node.busy {
                    " " span.badge.text-bg-warning data-busy title="Busy by its busy settings: it yields its fires to idle nodes" { "busy" }
                }
            }
            td { (node.running_count) }
            td.d-none.d-md-table-cell { (node.version) }
            td.d-none.d-md-table-cell {
                @if node.tasks_file_hash.is_empty() {
                    "-"
                } @else {
                    code title=(node.tasks_file_hash) data-hash=(node.tasks_file_hash) {
                        (node.tasks_file_hash.get(..SHORT_HASH).unwrap_or(&node.tasks_file_hash))
                    }
                }
            }
            td.text-nowrap { (format!("{:+.1} s", node.clock_offset_ms as f64 / 1000.0)) }
            td.d-none.d-md-table-cell { (moment(chrome.now, node.lease_expires_at.as_ref(), "-")) }
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::views::layout::tests::chrome;
    use crate::views::snapshot::check;

    fn node(name: &str) -> pb::Node {
        pb::Node {
            name: name.to_owned(),
            up: true,
            version: "0.7.0".to_owned(),
            tasks_file_hash: "ab".repeat(32),
            ..pb::Node::default()
        }
    }

    #[test]
    fn a_single_node_is_itself_up_without_a_lease() {
        let alone = pb::Node {
            this_node: true,
            running_count: 2,
            ..node("alpha")
        };
        check(
            &table(&chrome(""), &[alone]),
            expect![[r#"
                <div class="table-responsive">
                <table class="table table-sm sr-table" data-nodes>
                <thead>
                <tr class="text-nowrap">
                <th>Node</th>
                <th>Up</th>
                <th>Running</th>
                <th class="d-none d-md-table-cell">Version</th>
                <th class="d-none d-md-table-cell">Tasks file</th>
                <th>Clock</th>
                <th class="d-none d-md-table-cell">Lease</th>
                </tr>
                </thead>
                <tbody>
                <tr data-node="alpha" data-up="true">
                <td>
                <strong>alpha</strong> <span class="badge text-bg-secondary" data-this-node>this node</span>
                </td>
                <td>
                <span class="badge text-bg-success">up</span>
                </td>
                <td>2</td>
                <td class="d-none d-md-table-cell">0.7.0</td>
                <td class="d-none d-md-table-cell">
                <code title="abababababababababababababababababababababababababababababababab" data-hash="abababababababababababababababababababababababababababababababab">abababababab</code>
                </td>
                <td class="text-nowrap">+0.0 s</td>
                <td class="d-none d-md-table-cell">
                <span class="text-body-secondary">-</span>
                </td>
                </tr>
                </tbody>
                </table>
                </div>
            "#]],
        );
    }

    #[test]
    fn warned_nodes_are_highlighted_with_their_warnings_and_escaped() {
        let nodes = [pb::Node {
            up: false,
            clock_offset_ms: -2_400,
            warnings: vec!["down".to_owned(), "<b>x</b>".to_owned()],
            tasks_file_hash: String::new(),
            ..node("beta")
        }];
        check(
            &table(&chrome(""), &nodes),
            expect![[r#"
                <div class="table-responsive">
                <table class="table table-sm sr-table" data-nodes>
                <thead>
                <tr class="text-nowrap">
                <th>Node</th>
                <th>Up</th>
                <th>Running</th>
                <th class="d-none d-md-table-cell">Version</th>
                <th class="d-none d-md-table-cell">Tasks file</th>
                <th>Clock</th>
                <th class="d-none d-md-table-cell">Lease</th>
                </tr>
                </thead>
                <tbody>
                <tr class="table-warning" data-node="beta" data-up="false">
                <td>
                <strong>beta</strong>
                <div class="small text-warning-emphasis" data-warning>⚠ down</div>
                <div class="small text-warning-emphasis" data-warning>⚠ &lt;b&gt;x&lt;/b&gt;</div>
                </td>
                <td>
                <span class="badge text-bg-danger">down</span>
                </td>
                <td>0</td>
                <td class="d-none d-md-table-cell">0.7.0</td>
                <td class="d-none d-md-table-cell">-</td>
                <td class="text-nowrap">-2.4 s</td>
                <td class="d-none d-md-table-cell">
                <span class="text-body-secondary">-</span>
                </td>
                </tr>
                </tbody>
                </table>
                </div>
            "#]],
        );
    }

    #[test]
    fn a_busy_node_says_so_beside_up() {
        let busy = pb::Node {
            busy: true,
            ..node("gamma")
        };
        let html = table(&chrome(""), &[busy]).into_string();
        assert!(html.contains("data-busy"), "{html}");
        assert!(html.contains(">busy</span>"), "{html}");
        let idle = table(&chrome(""), &[node("gamma")]).into_string();
        assert!(!idle.contains("data-busy"), "{idle}");
    }

    #[test]
    fn the_banner_says_one_warning_in_a_line_and_several_in_a_list() {
        assert_eq!(banner(&[]).into_string(), "");
        check(
            &banner(&["node beta is down".to_owned()]),
            expect![[r#"
                <div class="alert alert-warning" role="alert" data-cluster-warnings>
                <strong>Cluster: </strong>node beta is down</div>
            "#]],
        );
        check(
            &banner(&["a".to_owned(), "b".to_owned()]),
            expect![[r#"
                <div class="alert alert-warning" role="alert" data-cluster-warnings>
                <strong>Cluster: </strong>
                <ul class="mb-0">
                <li>a</li>
                <li>b</li>
                </ul>
                </div>
            "#]],
        );
    }
}
