//! Status tables: the runs on this host, a lab's nodes and links, and its SAs.

use std::collections::BTreeMap;

use serde::Serialize;
use tabled::builder::Builder;
use tabled::settings::Style;

use crate::evidence::sa::IkeSa;
use crate::model::{Lab, NextHop, NodeKind};
use crate::run::discover::{FoundRun, Mode, Owner};

/// One IKE/CHILD SA pair per row.
pub fn sa_table(sas: &BTreeMap<String, Vec<IkeSa>>) -> String {
    let mut b = Builder::default();
    b.push_record([
        "node",
        "IKE SA",
        "state",
        "IKE",
        "algorithms (phase 1)",
        "CHILD SA",
        "state",
        "algorithms (phase 2)",
        "selectors (local === remote)",
        "in",
        "out",
    ]);
    for (node, list) in sas {
        if list.is_empty() {
            b.push_record([node.as_str(), "-", "no SA", "", "", "", "", "", "", "", ""]);
        }
        for ike in list {
            let version = format!("v{}", ike.version);
            if ike.children.is_empty() {
                b.push_record([node.as_str(), &ike.name, ike.state.as_str(), &version, &ike.algorithms, "-", "no CHILD SA", "", "", "", ""]);
            }
            for c in &ike.children {
                let ts = format!("{} === {}", c.local_ts.join(","), c.remote_ts.join(","));
                let encap = if c.encap { format!("{} (UDP-encap)", c.algorithms) } else { c.algorithms.clone() };
                let inb = format!("{} B / {} pkt", c.bytes_in, c.packets_in);
                let outb = format!("{} B / {} pkt", c.bytes_out, c.packets_out);
                b.push_record([node.as_str(), &ike.name, ike.state.as_str(), &version, &ike.algorithms, &c.name, c.state.as_str(), &encap, &ts, &inb, &outb]);
            }
        }
    }
    b.build().with(Style::psql()).to_string()
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeStatus {
    pub name: String,
    pub kind: String,
    pub namespace: String,
    pub interfaces: Vec<String>,
    pub routes: Vec<String>,
    /// What the node is configured as: the Azure resources, the DUT's connections, the NAT.
    pub config: Vec<String>,
}

fn config_of(kind: &NodeKind) -> Vec<String> {
    match kind {
        NodeKind::Host | NodeKind::Router => Vec::new(),
        NodeKind::NatRouter(nat) => {
            vec![format!("masquerade out {}, {} port forwards, {} drop rules", nat.masquerade, nat.port_forwards.len(), nat.drops.len())]
        }
        NodeKind::Ipsec(ipsec) => ipsec.device.summary(&ipsec.intent),
    }
}

pub fn nodes(lab: &Lab, run_id: &str) -> Vec<NodeStatus> {
    lab.nodes
        .iter()
        .map(|n| {
            let interfaces = n
                .interfaces
                .iter()
                .map(|i| {
                    let peer = lab.links.iter().find_map(|l| {
                        if l.a.node == n.name && l.a.interface == i.name {
                            Some(format!("{}:{}", l.b.node, l.b.interface))
                        } else if l.b.node == n.name && l.b.interface == i.name {
                            Some(format!("{}:{}", l.a.node, l.a.interface))
                        } else {
                            None
                        }
                    });
                    format!("{} {} -> {}", i.name, i.address, peer.unwrap_or_default())
                })
                .collect();
            let mut routes: Vec<String> = n.gateway.iter().map(|g| format!("default via {g}")).collect();
            routes.extend(n.routes.iter().map(|r| match r.via {
                NextHop::Address(a) => format!("{} via {a}", r.to),
                NextHop::Tunnel => format!("{} dev ipsec0 (tunnel)", r.to),
            }));
            NodeStatus {
                name: n.name.clone(),
                kind: n.kind.name().to_string(),
                namespace: crate::topology::node_location(run_id, &n.name),
                interfaces,
                routes,
                config: config_of(&n.kind),
            }
        })
        .collect()
}

pub fn nodes_table(nodes: &[NodeStatus]) -> String {
    let mut b = Builder::default();
    b.push_record(["node", "kind", "interfaces (address -> peer)", "routes", "configuration"]);
    for n in nodes {
        b.push_record([n.name.clone(), n.kind.clone(), n.interfaces.join("\n"), n.routes.join("\n"), n.config.join("\n")]);
    }
    b.build().with(Style::psql()).to_string()
}

/// The runs on this host, one row each, from what discovery found (never from recorded pids
/// alone: a daemon counts as alive only while a live process carries the run's label).
pub fn runs_table(runs: &[FoundRun]) -> String {
    let mut b = Builder::default();
    b.push_record(["run", "lab", "mode", "owner", "daemons", "namespaces", "started"]);
    for r in runs {
        let daemons = r.processes.iter().filter(|p| Some(**p) != r.keeper()).count();
        let (lab, started, expected) = match &r.state {
            Some(s) => (s.lab.clone(), format!("{} s ago", crate::run::state::now_secs().saturating_sub(s.started)), s.daemons.len().to_string()),
            None => ("?".to_string(), "?".to_string(), "?".to_string()),
        };
        let user = r.user.map(|u| format!(", user {u}")).unwrap_or_default();
        let owner = match (&r.owner, r.mode) {
            (Owner::Running { pid: 0 }, _) => "starting".to_string(),
            (Owner::Running { pid }, Mode::Up) => format!("keeper pid {pid}{user}"),
            (Owner::Running { pid }, _) => format!("pid {pid} running{user}"),
            (Owner::Gone, _) => format!("gone{user} (debris: `vpnlab down {}`)", r.id),
        };
        let mode = match (&r.state, r.folder.is_some()) {
            (None, true) => format!("{} (no state file)", r.mode.word()),
            (None, false) => format!("{} (labels only)", r.mode.word()),
            _ => r.mode.word().to_string(),
        };
        b.push_record([r.id.clone(), lab, mode, owner, format!("{daemons}/{expected} alive"), r.namespaces.len().to_string(), started]);
    }
    b.build().with(Style::psql()).to_string()
}

/// Each BGP speaker's sessions: node, peer, AS, state, uptime, prefixes received and sent.
pub fn bgp_table(bgp: &BTreeMap<String, crate::bgp::BgpSnapshot>) -> String {
    let mut b = Builder::default();
    b.push_record(["node", "BGP peer", "AS", "state", "up", "received", "sent"]);
    for (node, snap) in bgp {
        if snap.peers.is_empty() {
            b.push_record([node.as_str(), "-", "", "no neighbor", "", "", ""]);
        }
        for p in &snap.peers {
            let up = if p.state == crate::bgp::SessionState::Established { format!("{} s", p.uptime_s) } else { "-".into() };
            b.push_record([
                node.clone(),
                p.address.to_string(),
                p.remote_asn.to_string(),
                p.state.name().to_string(),
                up,
                p.prefixes_received.to_string(),
                // What the peer can use: FRR also counts the peer's own routes it echoes back.
                snap.advertised_to(p.address).len().to_string(),
            ]);
        }
    }
    b.build().with(tabled::settings::Style::psql()).to_string()
}
