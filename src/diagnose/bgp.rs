//! BGP over the tunnel: why a session is not established, or why routes do not arrive. Runs
//! only when the tunnel itself is up (otherwise the tunnel's cause is the one to fix). Each
//! cause is read from both speakers' intents (ASNs, addresses, passive, policies, timers) and
//! confirmed by what the speakers showed.

use ipnet::Ipv4Net;

use super::sides::Sides;
use super::{CauseId, Finding, Side};
use crate::bgp::{BgpIntent, BgpSnapshot, Policy, SessionState};
use crate::device::{Remedy, Symptom};
use crate::evidence::sa::{established, IkeSa};
use crate::evidence::Evidence;
use crate::model::NextHop;

/// Azure's prefix limit per peer (rule bgp-session).
const AZURE_MAX_PREFIXES: u32 = 4000;

pub(super) fn sessions(s: &Sides, e: &Evidence) -> Vec<Finding> {
    let (Some(fw), Some(az)) = (bgp_of(s, &s.dut_node.name), bgp_of(s, &s.gw_node.name)) else { return Vec::new() };
    let tunnel_up = e.after.get(&s.dut_node.name).and_then(|sas| established(sas)).and_then(IkeSa::installed).is_some();
    let (Some(fw_snap), Some(az_snap)) = (e.bgp.get(&s.dut_node.name), e.bgp.get(&s.gw_node.name)) else { return Vec::new() };
    if !tunnel_up {
        return Vec::new();
    }
    let Some(az_n) = az.neighbors.first() else { return Vec::new() };
    let fw_n = fw.neighbors.iter().find(|n| n.remote_asn == az.asn || Some(n.address) == az.addresses.first().map(|(_, a)| a.addr())).or(fw.neighbors.first());
    let Some(fw_n) = fw_n else { return Vec::new() };
    let az_ip = az.addresses.first().map(|(_, a)| a.addr());
    let up = |snap: &BgpSnapshot| snap.peers.iter().any(|p| p.state == SessionState::Established);
    let evidence = |snap: &BgpSnapshot, node: &str| {
        snap.peers
            .iter()
            .map(|p| {
                let why = match (&p.last_notification, &p.last_reset) {
                    (Some(n), Some(r)) => format!(", last reset: {r} ({n})"),
                    (None, Some(r)) => format!(", last reset: {r}"),
                    (Some(n), None) => format!(", notification: {n}"),
                    (None, None) => String::new(),
                };
                format!("{node} -> {}: {} ({} received){why}", p.address, p.state.name(), p.prefixes_received)
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let both = format!("{}; {}", evidence(fw_snap, &s.dut_node.name), evidence(az_snap, &s.gw_node.name));
    let mut out = Vec::new();

    if !up(fw_snap) || !up(az_snap) {
        if az_n.remote_asn != fw.asn {
            out.push(
                Finding::new(
                    CauseId::BgpAsnMismatch,
                    format!(
                        "{} speaks AS {}, but Azure's local network gateway says AS {}: Azure refuses its OPEN (Bad Peer AS)",
                        s.dut_node.name, fw.asn, az_n.remote_asn
                    ),
                    Side::Either,
                    both.clone(),
                )
                .firewall(Remedy::BgpLocalAsn(az_n.remote_asn))
                .azure(Remedy::BgpPeerAsn(fw.asn))
                .symptom(Symptom::BgpNoSession),
            );
        } else if fw_n.remote_asn != az.asn {
            out.push(
                Finding::new(
                    CauseId::BgpAsnMismatch,
                    format!(
                        "{} expects Azure at AS {}, but Azure's gateway is AS {}: {} refuses Azure's OPEN (Bad Peer AS)",
                        s.dut_node.name, fw_n.remote_asn, az.asn, s.dut_node.name
                    ),
                    Side::Firewall,
                    both.clone(),
                )
                .firewall(Remedy::BgpPeerAsn(az.asn))
                .azure(Remedy::Nothing("its ASN is what the firewall must expect"))
                .symptom(Symptom::BgpNoSession),
            );
        } else if az.minimum_hold_s.is_some_and(|min| fw.timers_for(fw_n).hold_s < min) {
            let hold = fw.timers_for(fw_n).hold_s;
            out.push(
                Finding::new(
                    CauseId::BgpHoldTime,
                    format!(
                        "{} offers hold time {hold} s; Azure's timers are fixed at 60/180 and it refuses a shorter hold time (model bgpHoldTime: fixed)",
                        s.dut_node.name
                    ),
                    Side::Firewall,
                    both.clone(),
                )
                .firewall(Remedy::BgpHoldTime(180))
                .azure(Remedy::BgpHoldTime(180))
                .symptom(Symptom::BgpNoSession),
            );
        } else if az_snap
            .peers
            .iter()
            .any(|p| p.last_notification.as_deref().is_some_and(|n| n.contains("Maximum")) || p.last_reset.as_deref().is_some_and(|r| r.contains("Max")))
            || count(fw_snap, az_ip) > AZURE_MAX_PREFIXES as usize
        {
            let sent = count(fw_snap, az_ip);
            out.push(
                Finding::new(
                    CauseId::BgpPrefixLimit,
                    format!(
                        "{} advertises {sent} prefixes; Azure accepts at most {AZURE_MAX_PREFIXES} from a peer and drops the session beyond that",
                        s.dut_node.name
                    ),
                    Side::Firewall,
                    both.clone(),
                )
                .firewall(Remedy::BgpAtMost(AZURE_MAX_PREFIXES))
                .azure(Remedy::BgpAtMost(AZURE_MAX_PREFIXES))
                .symptom(Symptom::BgpNoSession),
            );
        } else if let Some(ip) = az_ip.filter(|ip| !reaches(s, fw, *ip)) {
            out.push(
                Finding::new(
                    CauseId::BgpPeerUnreachable,
                    format!("{} has no route into the tunnel for Azure's BGP peer IP {ip}: the session's packets leave by another way", s.dut_node.name),
                    Side::Firewall,
                    both.clone(),
                )
                .firewall(Remedy::BgpHostRoute(ip))
                .azure(Remedy::Nothing("it routes the firewall's BGP IP into the tunnel itself"))
                .symptom(Symptom::BgpNoSession),
            );
        } else if az_n.passive && fw_n.passive {
            out.push(
                Finding::new(
                    CauseId::BgpBothPassive,
                    format!(
                        "both sides wait for the other to open the BGP session: Azure never initiates towards an APIPA peer ({}), and {}'s neighbor is passive",
                        az_n.address, s.dut_node.name
                    ),
                    Side::Firewall,
                    both.clone(),
                )
                .firewall(Remedy::BgpActive)
                .azure(Remedy::BgpActive)
                .symptom(Symptom::BgpNoSession),
            );
        }
        return out;
    }

    // Established both ways: where routes went missing.
    let learned = fw_snap.peers.iter().flat_map(|p| fw_snap.learned_from(p)).collect::<Vec<_>>();
    if !fw.install_routes && !learned.is_empty() {
        out.push(
            Finding::new(
                CauseId::BgpRoutesNotInstalled,
                format!(
                    "{} learns {} from Azure over BGP but does not install learned routes, so it forwards by none of them",
                    s.dut_node.name,
                    crate::device::prefix_list(&learned)
                ),
                Side::Firewall,
                both.clone(),
            )
            .firewall(Remedy::BgpInstallRoutes)
            .azure(Remedy::Nothing("it learns and advertises; the firewall does not use what it learned"))
            .symptom(Symptom::BgpNoRoutes),
        );
    }
    if !fw.exchanges(fw_n, true) || !fw.exchanges(fw_n, false) {
        let dirs: Vec<&str> = [(true, "out"), (false, "in")].into_iter().filter(|(x, _)| !fw.exchanges(fw_n, *x)).map(|(_, d)| d).collect();
        out.push(
            Finding::new(
                CauseId::BgpNoPolicy,
                format!(
                    "the session is Established, but {}'s FRR has no policy on the eBGP neighbor {} ({}), and FRR (7.4+) then exchanges nothing that way",
                    s.dut_node.name,
                    fw_n.address,
                    dirs.join(" and ")
                ),
                Side::Firewall,
                both.clone(),
            )
            .firewall(Remedy::BgpPolicy)
            .azure(Remedy::Nothing("it sends and accepts routes; the firewall's speaker drops them"))
            .symptom(Symptom::BgpNoRoutes),
        );
    }
    let sent = az_ip.map(|ip| fw_snap.advertised_to(ip)).unwrap_or_default();
    let vnet: Vec<Ipv4Net> = sent.iter().copied().filter(|p| s.site.vnet_prefixes.contains(p)).collect();
    if !vnet.is_empty() && fw_n.export != Policy::None {
        out.push(
            Finding::new(
                CauseId::BgpVnetPrefix,
                format!(
                    "{} advertises the VNet's own prefix {} back to Azure, which refuses prefixes identical to a VNet prefix",
                    s.dut_node.name,
                    crate::device::prefix_list(&vnet)
                ),
                Side::Firewall,
                format!("{} advertised to {}: {}", s.dut_node.name, fw_n.address, crate::device::prefix_list(&sent)),
            )
            .firewall(Remedy::BgpWithdraw(vnet.clone()))
            .azure(Remedy::BgpWithdraw(vnet))
            .symptom(Symptom::BgpNoRoutes),
        );
    }
    out
}

fn bgp_of<'a>(s: &'a Sides, node: &str) -> Option<&'a BgpIntent> {
    s.lab.node(node)?.ipsec()?.bgp.as_ref()
}

/// How many prefixes the firewall's speaker offers Azure's address (its own networks when the
/// session never came up to show what it sent).
fn count(fw: &BgpSnapshot, az_ip: Option<std::net::Ipv4Addr>) -> usize {
    let sent = az_ip.map(|ip| fw.advertised_to(ip).len()).unwrap_or(0);
    sent.max(fw.routes.iter().filter(|r| r.as_path.is_empty()).count())
}

/// Whether the firewall's node sends `ip` into the tunnel: a route via the tunnel, or a
/// transit network on the tunnel interface that holds it.
fn reaches(s: &Sides, fw: &BgpIntent, ip: std::net::Ipv4Addr) -> bool {
    let routed = s.dut_node.routes.iter().any(|r| r.via == NextHop::Tunnel && r.to.contains(&ip));
    routed || fw.addresses.iter().any(|(on, net)| *on == crate::bgp::AddressOn::Tunnel && net.trunc().contains(&ip))
}
