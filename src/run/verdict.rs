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
    let dut_child = lab.dut().and_then(|(n, p)| p.connections.first().and_then(|c| c.children.first()).map(|c| (n.name.clone(), c.clone())));
    let Some((dut, child)) = dut_child else { return out };
    let show = |v: &[String]| if v.is_empty() { vec!["dynamic".to_string()] } else { v.to_vec() };
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
    for node in lab.ipsec_nodes() {
        let name = &node.name;
        let sas = after.get(name).map(Vec::as_slice).unwrap_or(&[]);
        let Some(ike) = first_established(sas) else {
            out.push(verdict("IKE SA established", name, false, "no IKE SA".into()));
            out.push(verdict("CHILD SA installed", name, false, "no IKE SA, so no CHILD SA".into()));
            continue;
        };
        let nat = match (ike.nat_local, ike.nat_remote) {
            (true, _) => "this end behind NAT",
            (false, true) => "peer behind NAT",
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
