//! Verdicts of the healthy scenario, each from evidence: the initiate result, the SAs both
//! daemons report, ping, and the SA byte counters before and after the probes.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::evidence::sa::{established, ChildSa, IkeSa};
use crate::evidence::{InitiateOutcome, PingResult};
use crate::model::Lab;

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// What was checked, e.g. `IKE SA established`.
    pub check: String,
    pub node: String,
    pub outcome: Outcome,
    /// What was observed.
    pub evidence: String,
}

fn verdict(check: &str, node: &str, pass: bool, evidence: String) -> Verdict {
    Verdict { check: check.to_string(), node: node.to_string(), outcome: if pass { Outcome::Pass } else { Outcome::Fail }, evidence }
}

/// The selectors each IPsec node should end up with: the DUT's configured proxy-IDs on the
/// DUT, mirrored on the gateway (the gateway's 0.0.0.0/0 narrows to what the DUT proposes).
fn expected_selectors(lab: &Lab) -> BTreeMap<String, (Vec<String>, Vec<String>)> {
    let mut out = BTreeMap::new();
    let dut_child = lab.dut().and_then(|(n, d)| d.intent.first_child().map(|(_, c)| (n.name.clone(), c.clone())));
    let Some((dut, child)) = dut_child else { return out };
    let show = |v: &[ipnet::Ipv4Net]| if v.is_empty() { vec!["dynamic".to_string()] } else { v.iter().map(ToString::to_string).collect() };
    let (local, remote) = (show(&child.local_ts), show(&child.remote_ts));
    for n in lab.ipsec_nodes() {
        if n.name == dut {
            out.insert(n.name.clone(), (local.clone(), remote.clone()));
        } else {
            out.insert(n.name.clone(), (remote.clone(), local.clone()));
        }
    }
    out
}

/// The established IKE SA, or else whatever SA there is (its state is then the evidence).
fn first_established(sas: &[IkeSa]) -> Option<&IkeSa> {
    established(sas).or_else(|| sas.first())
}

/// The installed CHILD SA, or else whatever CHILD SA there is.
fn installed_child(sa: &IkeSa) -> Option<&ChildSa> {
    sa.installed().or_else(|| sa.children.first())
}

/// Everything the healthy scenario asserts.
pub fn healthy(
    lab: &Lab,
    initiate: &InitiateOutcome,
    before: &BTreeMap<String, Vec<IkeSa>>,
    after: &BTreeMap<String, Vec<IkeSa>>,
    pings: &[PingResult],
) -> Vec<Verdict> {
    let mut out = Vec::new();
    out.push(verdict(
        "tunnel initiated",
        &initiate.node,
        initiate.success,
        match &initiate.error {
            None => format!("initiate {}/{} succeeded in {:.1} ms", initiate.connection, initiate.child, initiate.ms),
            Some(e) => format!("initiate {}/{} failed after {:.1} ms: {e}", initiate.connection, initiate.child, initiate.ms),
        },
    ));
    let expected = expected_selectors(lab);
    let lab_has_nat = lab.nodes.iter().any(|n| matches!(n.kind, crate::model::NodeKind::NatRouter(_)));
    for node in lab.ipsec_nodes() {
        let name = &node.name;
        let sas = after.get(name).map(Vec::as_slice).unwrap_or(&[]);
        let Some(ike) = first_established(sas) else {
            out.push(verdict("IKE SA established", name, false, "no IKE SA".into()));
            out.push(verdict("CHILD SA installed", name, false, "no IKE SA, so no CHILD SA".into()));
            continue;
        };
        // kernel-libipsec makes charon UDP-encapsulate ESP always, and NAT detection then
        // reports NAT whether or not there is one: only a NAT router in the topology makes it real.
        let nat = match (ike.nat_local, ike.nat_remote, lab_has_nat) {
            (_, _, false) => "no NAT; UDP encapsulation forced by the data path",
            (true, _, true) => "this end behind NAT",
            (false, true, true) => "peer behind NAT",
            _ => "no NAT",
        };
        out.push(verdict(
            "IKE SA established",
            name,
            ike.is_established(),
            format!(
                "{} IKEv{} {} {} <-> {} ({nat}, {})",
                ike.state,
                ike.version,
                ike.algorithms,
                ike.local_host,
                ike.remote_host,
                if ike.initiator { "initiator" } else { "responder" }
            ),
        ));
        match installed_child(ike) {
            None => out.push(verdict("CHILD SA installed", name, false, format!("IKE SA {} has no CHILD SA", ike.name))),
            Some(c) => {
                let ok = c.state == crate::evidence::sa::ChildState::Installed && c.mode == "TUNNEL" && c.protocol == "ESP";
                out.push(verdict(
                    "CHILD SA installed",
                    name,
                    ok,
                    format!("{} {} {} {}{}", c.state, c.mode, c.protocol, c.algorithms, if c.encap { ", UDP-encapsulated" } else { "" }),
                ));
                if let Some((local, remote)) = expected.get(name) {
                    let pass = &c.local_ts == local && &c.remote_ts == remote;
                    out.push(verdict(
                        "traffic selectors",
                        name,
                        pass,
                        format!(
                            "{} === {}{}",
                            c.local_ts.join(","),
                            c.remote_ts.join(","),
                            if pass { String::new() } else { format!(" (expected {} === {})", local.join(","), remote.join(",")) }
                        ),
                    ));
                }
            }
        }
    }
    for p in pings {
        out.push(verdict(&format!("ping {} -> {}", p.from, p.to), &p.from, p.success, p.output.clone()));
    }
    if !pings.is_empty() {
        for node in lab.ipsec_nodes() {
            let counters = |m: &BTreeMap<String, Vec<IkeSa>>| {
                m.get(&node.name)
                    .and_then(|s| first_established(s))
                    .and_then(installed_child)
                    .map(|c| (c.bytes_in, c.bytes_out, c.packets_in, c.packets_out))
                    .unwrap_or_default()
            };
            let (bi0, bo0, _, _) = counters(before);
            let (bi1, bo1, pi1, po1) = counters(after);
            out.push(verdict(
                "SA counters rise",
                &node.name,
                bi1 > bi0 && bo1 > bo0,
                format!("in {bi0} -> {bi1} bytes ({pi1} packets), out {bo0} -> {bo1} bytes ({po1} packets)"),
            ));
        }
    }
    out
}

/// With BGP: each speaker's sessions Established, each having learned at least one route.
pub fn bgp_healthy(bgp: &std::collections::BTreeMap<String, crate::bgp::BgpSnapshot>) -> Vec<Verdict> {
    let mut out = Vec::new();
    for (node, snap) in bgp {
        for p in &snap.peers {
            let learned = snap.learned_from(p);
            let pass = p.state == crate::bgp::SessionState::Established && !learned.is_empty();
            let list = if learned.is_empty() { "nothing".to_string() } else { crate::device::prefix_list(&learned) };
            out.push(Verdict {
                check: format!("BGP with {}", p.address),
                node: node.clone(),
                outcome: if pass { Outcome::Pass } else { Outcome::Fail },
                evidence: format!("{} with AS {}, learned {list}", p.state.name(), p.remote_asn),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::sa::{ChildState, IkeState};

    fn sa(nat_local: bool) -> IkeSa {
        IkeSa {
            name: "gw".into(),
            uniqueid: "1".into(),
            version: 2,
            state: IkeState::Established,
            local_host: "192.0.2.1".into(),
            local_port: "4500".into(),
            local_id: String::new(),
            remote_host: "192.0.2.2".into(),
            remote_port: "4500".into(),
            remote_id: String::new(),
            initiator: true,
            nat_local,
            nat_remote: false,
            algorithms: "AES_CBC-256".into(),
            established_s: 1,
            children: vec![ChildSa {
                name: "c".into(),
                uniqueid: "1".into(),
                state: ChildState::Installed,
                mode: "TUNNEL".into(),
                protocol: "ESP".into(),
                encap: true,
                algorithms: "AES_CBC-256".into(),
                local_ts: vec!["0.0.0.0/0".into()],
                remote_ts: vec!["0.0.0.0/0".into()],
                bytes_in: 1,
                packets_in: 1,
                bytes_out: 1,
                packets_out: 1,
            }],
        }
    }

    fn ike_evidence(lab: &Lab) -> String {
        let initiate = InitiateOutcome { node: "firewall".into(), connection: "c".into(), child: "c".into(), success: true, error: None, ms: 1.0 };
        let sas: BTreeMap<String, Vec<IkeSa>> = lab.ipsec_nodes().map(|n| (n.name.clone(), vec![sa(true)])).collect();
        let v = healthy(lab, &initiate, &sas, &sas, &[]);
        v.iter().find(|v| v.check == "IKE SA established" && v.node == "firewall").expect("verdict").evidence.clone()
    }

    /// kernel-libipsec makes charon report NAT always; only a NAT router makes it real.
    #[test]
    fn nat_is_reported_only_when_the_topology_has_one() {
        let mut lab = crate::model::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("labs/azure-strongswan")).unwrap();
        assert!(ike_evidence(&lab).contains("(this end behind NAT,"), "{}", ike_evidence(&lab));
        for n in lab.nodes.iter_mut().filter(|n| matches!(n.kind, crate::model::NodeKind::NatRouter(_))) {
            n.kind = crate::model::NodeKind::Router;
        }
        assert!(ike_evidence(&lab).contains("(no NAT; UDP encapsulation forced by the data path,"), "{}", ike_evidence(&lab));
    }
}
