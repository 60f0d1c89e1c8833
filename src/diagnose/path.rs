//! Causes around a tunnel that negotiated: a peer that moved (its FQDN still names the old
//! address), a peer that died (cleared by DPD), and the data path (packets too large, no route
//! into the tunnel, the firewall's forward policy dropping the flow either way, no route back).

use super::sides::Sides;
use super::{CauseId, Finding, Side};
use crate::device::{Device, Remedy, Symptom};
use crate::evidence::sa::ChildState;
use crate::evidence::Evidence;
use crate::ike::intent::{Action, Port};
use crate::model::NextHop;

/// The branch's public address changed, and the name Azure knows it by still gives the old one.
pub(super) fn peer_address_changed(s: &Sides, e: &Evidence) -> Vec<Finding> {
    let Some(fqdn) = &s.site.local_gateway.fqdn else { return Vec::new() };
    let up_now = e.after.get(&s.gw_node.name).is_some_and(|sas| sas.iter().any(|sa| sa.is_established()));
    let mut out = Vec::new();
    for (node, iface, old, new) in &e.address_changes {
        let updated = e.dns_updates.iter().any(|(n, a)| n == &fqdn.to_ascii_lowercase() && *a == new.addr());
        if !up_now && old.addr() == s.site.local_gateway.gateway_ip && !updated {
            out.push(
                Finding::new(
                    CauseId::PeerAddressChanged,
                    format!(
                        "{node}:{iface} now has {} (was {}), but {fqdn} still resolves to {}: Azure re-resolves disconnected tunnels every 5 minutes and keeps finding the old address, so it hears nothing from the new one",
                        new.addr(),
                        old.addr(),
                        old.addr()
                    ),
                    Side::Firewall,
                    e.steps.join("; "),
                )
                .firewall(Remedy::DynamicDns { name: fqdn.clone(), address: new.addr() })
                .azure(Remedy::PeerAddress { name: Some(fqdn.clone()), address: new.addr() }),
            );
        }
    }
    out
}

/// The firewall's daemon was killed and Azure cleared the tunnel after its DPD timeout.
pub(super) fn peer_dead(s: &Sides, e: &Evidence) -> Vec<Finding> {
    let killed: Vec<String> = e.killed.iter().map(|n| format!("the IKE daemon of {n} was killed")).collect();
    let cleared = e.events.iter().any(|ev| ev.node == s.gw_node.name && ev.what.ike_down());
    if killed.is_empty() || !cleared {
        return Vec::new();
    }
    vec![Finding::new(
        CauseId::PeerDead,
        format!("the firewall stopped answering and Azure cleared the tunnel after its DPD timeout ({} s)", s.site.connection.dpd_timeout_seconds),
        Side::Firewall,
        format!("{}; ike-updown down on {}", killed.join("; "), s.gw_node.name),
    )
    .firewall(Remedy::DeadPeerDetection)
    .azure(Remedy::DeadPeerDetection)
    .symptom(Symptom::DeadPeer)]
}

/// A node restarted (or forgot its SAs) and the tunnel stayed down: the other side cleared
/// its SAs on DPD (or never noticed), and neither side starts the tunnel again on its own.
pub(super) fn stays_down_after_restart(s: &Sides, e: &Evidence) -> Vec<Finding> {
    if e.restarts.is_empty() {
        return Vec::new();
    }
    let up = |node: &str| e.after.get(node).is_some_and(|sas| sas.iter().any(|sa| sa.is_established() && sa.installed().is_some()));
    if up(&s.dut_node.name) && up(&s.gw_node.name) {
        return Vec::new();
    }
    let dpd = s.fw_child.and_then(|c| c.dpd_action).map(|a| a.keyword()).unwrap_or("none");
    let azure_starts = s.site.starts_unprompted();
    let restarted = e.restarts.join(", ");
    let azure_word = if azure_starts { "would initiate".to_string() } else { format!("is {} and waits", s.site.connection.mode.azure_name()) };
    vec![Finding::new(
        CauseId::StaysDownAfterRestart,
        format!(
            "{restarted} came back with no SAs, and nobody started the tunnel again: the firewall's DPD action is {dpd} (restart would re-initiate), and the Azure connection {azure_word}"
        ),
        Side::Either,
        e.steps.iter().filter(|l| l.contains("came back") || l.contains("forgot")).cloned().collect::<Vec<_>>().join("; "),
    )
    .firewall(Remedy::DeadPeerDetection)
    .azure(Remedy::AllowInitiation)
    .symptom(Symptom::DeadPeer)]
}

/// Both SAs up and a ping failed: too large, filtered on the way out of the tunnel, or no
/// route into the tunnel there or back.
pub(super) fn data_path(s: &Sides, e: &Evidence) -> Vec<Finding> {
    let child_up = |node: &str| {
        e.after.get(node).is_some_and(|sas| sas.iter().any(|sa| sa.is_established() && sa.children.iter().any(|c| c.state == ChildState::Installed)))
    };
    if !(child_up(&s.dut_node.name) && child_up(&s.gw_node.name)) {
        return Vec::new();
    }
    let bytes = |node: &str, out: bool| {
        e.after.get(node).and_then(|sas| sas.first()).and_then(|sa| sa.children.first()).map(|c| if out { c.bytes_out } else { c.bytes_in })
    };
    let mut found = Vec::new();
    for p in e.pings.iter().filter(|p| !p.success) {
        let Ok(to) = p.to.parse::<std::net::Ipv4Addr>() else { continue };
        if p.df && (p.output.contains("Frag needed") || p.output.contains("message too long")) {
            found.push(
                Finding::new(
                    CauseId::Mtu,
                    format!("a {}-byte DF packet does not fit the tunnel: {}", p.size.map(|s| u32::from(s) + 28).unwrap_or(0), p.output),
                    Side::Firewall,
                    format!("ping {} -> {} size {}", p.from, p.to, p.size.unwrap_or(0)),
                )
                .firewall(Remedy::TunnelMtu { mtu: 1400, mss: 1350 })
                .azure(Remedy::TunnelMtu { mtu: 1400, mss: 1350 }),
            );
            continue;
        }
        let lab = s.lab;
        // A ping from the firewall itself enters the tunnel there, as one from its LAN does.
        let own = p.from == s.dut_node.name;
        let lan_side =
            own || lab.links.iter().any(|l| (l.a.node == p.from && l.b.node == s.dut_node.name) || (l.b.node == p.from && l.a.node == s.dut_node.name));
        let source = p.source.as_ref().and_then(|a| a.parse::<std::net::Ipv4Addr>().ok());
        let Some(src) = source.or_else(|| lab.node(&p.from).and_then(|n| n.interfaces.first()).map(|i| i.address.addr())) else { continue };
        // The way there: the side where the ping enters the tunnel needs a route into it.
        let (router, side) = if lan_side { (s.dut_node, Side::Firewall) } else { (s.gw_node, Side::Azure) };
        if !router.routes.iter().any(|r| r.via == NextHop::Tunnel && r.to.contains(&to)) {
            let counters = bytes(&router.name, true).map(|b| format!("; {} bytes out {b}", router.name)).unwrap_or_default();
            let prefix = node_with(lab, to).and_then(|n| nets_of(lab, n)).unwrap_or_else(|| host(to));
            let f = Finding::new(
                CauseId::MissingRoute,
                format!("both SAs are up, but {} has no route for {to} into the tunnel, so the traffic never enters it", router.name),
                side,
                format!("ping {} -> {} failed{counters}", p.from, p.to),
            )
            .symptom(Symptom::NotRouted);
            found.push(if lan_side {
                f.firewall(Remedy::TunnelRoute(prefix)).azure(Remedy::Nothing("its route to the on-premises prefixes is not the one missing"))
            } else {
                f.azure(Remedy::TunnelRoute(prefix)).firewall(Remedy::Nothing("Azure has no route into the tunnel for this destination"))
            });
            continue;
        }
        // The firewall's forward policy, into the tunnel from its LAN port or out of it to the
        // LAN port of the destination.
        // (The firewall's own traffic is not forwarded, so no forward rule applies to it.)
        if let Some(policy) = s.fw.forward.as_ref().filter(|_| !own) {
            let lan_port = |addr: std::net::Ipv4Addr| s.dut_node.interfaces.iter().find(|i| i.address.contains(&addr)).map(|i| Port::Interface(i.name.clone()));
            let flow = if lan_side { lan_port(src).map(|p| (p, Port::Tunnel)) } else { lan_port(to).map(|p| (Port::Tunnel, p)) };
            if let Some((from, into)) = flow {
                let (rule, action) = policy.decide(&from, &into, src, to);
                if action == Action::Drop {
                    let by = rule.map(|r| format!("its rule `{r}`")).unwrap_or_else(|| "its default for traffic no rule allows".to_string());
                    let (cause, counters) = if lan_side {
                        (
                            format!("both SAs are up, but the firewall's policy drops {src} -> {to} on its way into the tunnel ({by})"),
                            bytes(&s.dut_node.name, true).map(|b| format!("; {} bytes out {b}", s.dut_node.name)),
                        )
                    } else {
                        (
                            format!("both SAs are up and {src} -> {to} arrives through the tunnel, but the firewall's policy drops it ({by}): everything from the tunnel is blocked until a rule allows it"),
                            bytes(&s.dut_node.name, false).map(|b| format!("; {} bytes in {b}", s.dut_node.name)),
                        )
                    };
                    let (src_net, dst_net) =
                        (nets_of(lab, &p.from).unwrap_or_else(|| host(src)), node_with(lab, to).and_then(|n| nets_of(lab, n)).unwrap_or_else(|| host(to)));
                    found.push(
                        Finding::new(
                            CauseId::MissingFirewallRule,
                            cause,
                            Side::Firewall,
                            format!("ping {} -> {} failed{}", p.from, p.to, counters.unwrap_or_default()),
                        )
                        .firewall(Remedy::AllowForward { into_tunnel: lan_side, src: src_net, dst: dst_net })
                        .azure(Remedy::Nothing("the traffic is dropped on the firewall"))
                        .symptom(Symptom::Blocked),
                    );
                    continue;
                }
            }
        }
        // The way back: the reply needs a route into the tunnel at the other end, towards the
        // ping's source.
        let (back, back_side) = if lan_side { (s.gw_node, Side::Azure) } else { (s.dut_node, Side::Firewall) };
        if back.routes.iter().any(|r| r.via == NextHop::Tunnel && r.to.contains(&src)) {
            continue;
        }
        // A chosen source address is what the other side must route back (e.g. the firewall's
        // outside address in the local network gateway's address space).
        let prefix = if source.is_some() { host(src) } else { nets_of(lab, &p.from).unwrap_or_else(|| host(src)) };
        let f = Finding::new(
            CauseId::MissingRoute,
            format!(
                "both SAs are up and {} routes {to} into the tunnel, but {} has no route back to {src} into the tunnel, so the reply never returns",
                router.name, back.name
            ),
            back_side,
            format!("ping {} -> {} failed; {} has no tunnel route covering {src}", p.from, p.to, back.name),
        )
        .symptom(Symptom::NotRouted);
        found.push(if lan_side {
            f.azure(Remedy::TunnelRoute(prefix)).firewall(Remedy::Nothing("its route to the VNet is there"))
        } else {
            f.firewall(Remedy::TunnelRoute(prefix)).azure(Remedy::Nothing("its route to the on-premises prefix is there"))
        });
    }
    found
}

fn host(a: std::net::Ipv4Addr) -> ipnet::Ipv4Net {
    ipnet::Ipv4Net::new(a, 32).expect("a /32 is valid")
}

/// The subnet of a node's first interface (what a route or rule for it would name).
fn nets_of(lab: &crate::model::Lab, node: &str) -> Option<ipnet::Ipv4Net> {
    lab.node(node).and_then(|n| n.interfaces.first()).map(|i| i.address.trunc())
}

/// The node that has `addr` on one of its interfaces.
fn node_with(lab: &crate::model::Lab, addr: std::net::Ipv4Addr) -> Option<&str> {
    lab.nodes.iter().find(|n| n.interfaces.iter().any(|i| i.address.addr() == addr)).map(|n| n.name.as_str())
}
