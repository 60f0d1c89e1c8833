//! Diagnosis: from a run's evidence (alerts, SAs, pings, counters, steps) and the lab's own
//! configuration to a cause and a fix, in both vocabularies: the firewall's (PAN-OS and pfSense
//! fields and log lines) and Azure's (portal fields), naming the side to change.

use serde::Serialize;

use crate::azure::{ConnectionMode, NarrowedSelectors, VpnType};
use crate::evidence::alert::AlertKind;
use crate::evidence::event::What;
use crate::evidence::Evidence;
use crate::ike::ProposalKind;
use crate::model::{Connection, IkeVersion, Lab, NextHop, NodeKind, StrongswanProfile};

/// A cause vpnlab can name. Scenario files name causes by [`CauseId::as_str`]; an unknown
/// name is refused when the scenario loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CauseId {
    IkeVersionMismatch,
    PolicyBasedGateway,
    IkeProposalMismatch,
    PskMismatch,
    PskWhitespace,
    SelectorMismatch,
    EspProposalMismatch,
    PfsMismatch,
    MissingRoute,
    MissingFirewallRule,
    NatTBlocked,
    NobodyCanInitiate,
    PeerAddressChanged,
    PeerDead,
    Mtu,
}

/// (cause, id, title) in one table so the three cannot drift apart.
const CAUSES: [(CauseId, &str, &str); 15] = [
    (CauseId::IkeVersionMismatch, "ike-version-mismatch", "IKE version mismatch"),
    (CauseId::PolicyBasedGateway, "policy-based-gateway", "Azure gateway is policy-based"),
    (CauseId::IkeProposalMismatch, "ike-proposal-mismatch", "Phase 1 proposal mismatch"),
    (CauseId::PskMismatch, "psk-mismatch", "pre-shared key mismatch"),
    (CauseId::PskWhitespace, "psk-whitespace", "pre-shared key with trailing whitespace"),
    (CauseId::SelectorMismatch, "selector-mismatch", "traffic selector (proxy-ID) mismatch"),
    (CauseId::EspProposalMismatch, "esp-proposal-mismatch", "Phase 2 proposal mismatch"),
    (CauseId::PfsMismatch, "pfs-mismatch", "PFS on one side only"),
    (CauseId::MissingRoute, "missing-route", "no route into the tunnel"),
    (CauseId::MissingFirewallRule, "missing-firewall-rule", "no firewall rule for traffic from the tunnel"),
    (CauseId::NatTBlocked, "nat-t-blocked", "NAT-T (UDP 4500) blocked"),
    (CauseId::NobodyCanInitiate, "nobody-can-initiate", "nobody is allowed to initiate"),
    (CauseId::PeerAddressChanged, "peer-address-changed", "the branch's public address changed, Azure still uses the old one"),
    (CauseId::PeerDead, "peer-dead", "peer dead, cleared by DPD"),
    (CauseId::Mtu, "mtu", "packet too large for the tunnel (MTU/MSS)"),
];

impl CauseId {
    pub fn all() -> impl Iterator<Item = CauseId> {
        CAUSES.iter().map(|(c, _, _)| *c)
    }

    pub fn parse(id: &str) -> Option<CauseId> {
        CAUSES.iter().find(|(_, i, _)| *i == id).map(|(c, _, _)| *c)
    }

    /// The id scenario files and reports use, e.g. `ike-proposal-mismatch`.
    pub fn as_str(self) -> &'static str {
        CAUSES.iter().find(|(c, _, _)| *c == self).map(|(_, i, _)| *i).expect("every cause is in the table")
    }

    pub fn title(self) -> &'static str {
        CAUSES.iter().find(|(c, _, _)| *c == self).map(|(_, _, t)| *t).expect("every cause is in the table")
    }
}

impl std::fmt::Display for CauseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CauseId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub id: CauseId,
    pub title: &'static str,
    /// What is wrong, with the values of both sides.
    pub cause: String,
    /// Where to look and what to change on the firewall (PAN-OS / pfSense).
    pub firewall: String,
    /// Where to look and what to change in Azure (portal / ARM).
    pub azure: String,
    /// `firewall`, `azure`, `either` or `network`.
    pub change: &'static str,
    /// The evidence that led here.
    pub evidence: String,
}

fn diag(id: CauseId, cause: String, firewall: &str, azure: &str, change: &'static str, evidence: String) -> Diagnosis {
    Diagnosis { id, title: id.title(), cause, firewall: firewall.to_string(), azure: azure.to_string(), change, evidence }
}

/// The DH groups named in proposals, in engineers' words: `modp2048` → "DH group 14".
fn dh_groups(proposals: &[String]) -> Vec<String> {
    crate::ike::dh::groups_in(proposals).iter().map(ToString::to_string).collect()
}

fn first_conn(p: &StrongswanProfile) -> Option<&Connection> {
    p.connections.first()
}

fn version_name(v: IkeVersion) -> &'static str {
    match v {
        IkeVersion::V1 => "IKEv1",
        IkeVersion::V2 => "IKEv2",
        IkeVersion::Any => "IKEv1 or IKEv2",
    }
}

/// A device's proposals for a sentence; a strongSwan device without any uses charon's defaults,
/// which are named rather than left blank.
fn offer_words(proposals: &[String], kind: ProposalKind) -> String {
    if !proposals.is_empty() {
        return proposals.join(", ");
    }
    match kind {
        ProposalKind::Ike => {
            "strongSwan 5.9's default IKE proposals (`default`: AES-CBC/GCM 128-256, SHA-2, DH group 19, 20, 21, 31, 14 and more; not DH group 2)".into()
        }
        ProposalKind::Esp => "strongSwan 5.9's default ESP proposals (`default`: AES-GCM-128/256 and AES-CBC with SHA-2, no PFS)".into(),
    }
}

/// Seconds of a strongSwan duration (`3600s`, `1h`); charon's default CHILD rekey (1 h) if unset.
fn rekey_seconds(value: &Option<String>) -> u64 {
    value.as_deref().and_then(|v| crate::ike::check_duration(v).ok()).unwrap_or(3600)
}

/// A Phase 2 that came up and failed at its first rekey for PFS, decided by who starts that
/// rekey: the side whose CHILD rekey timer fires first starts the CREATE_CHILD_SA, with its own
/// offer, and the other side answers from its accept list. Azure offers PFS only with a custom
/// policy that has a `pfsGroup`; as responder its Default policy accepts groups 1, 2, 14, 24.
fn pfs_at_rekey(lab: &Lab, dut: &Connection, site: &crate::azure::AzureSite) -> Option<Diagnosis> {
    use crate::ike::dh::{groups_in, groups_of};
    let fw_child = dut.children.first()?;
    let gw_child = site.profile.connections.first()?.children.first()?;
    let az = site.effective();
    let fw_esp = &fw_child.esp_proposals;
    let fw_requires_pfs = !fw_esp.is_empty() && fw_esp.iter().all(|p| !groups_of(p).is_empty());
    let fw_groups = groups_in(fw_esp);
    let az_offer_groups = groups_in(&az.esp_offered);
    let (fw_rekey, gw_rekey) = (rekey_seconds(&fw_child.rekey_time), rekey_seconds(&gw_child.rekey_time));
    let scale = |s: u64| (s as f64 * lab.time_scale).round() as u64;
    let policy = if site.connection.policy.is_some() { "its custom IPsec/IKE policy (pfsGroup None)" } else { "the Default policy" };
    let groups = |g: &[crate::ike::dh::DhGroup]| g.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    if gw_rekey < fw_rekey && fw_requires_pfs && az_offer_groups.is_empty() {
        return Some(diag(
            CauseId::PfsMismatch,
            format!(
                "Azure starts the first Phase 2 rekey (its CHILD SA is renewed after {} s, the firewall's after {} s) and, with {policy}, offers no PFS; the firewall requires PFS ({}) and refuses it (NO_PROPOSAL_CHOSEN), so the CHILD SA expires. Had the firewall started the rekey, Azure would have {} its PFS proposal",
                az.child_lifetime_s * 9 / 10,
                scale(fw_rekey),
                groups(&fw_groups),
                if fw_esp.iter().any(|p| az.esp_accepted.contains(p)) { "accepted" } else { "refused" }
            ),
            "PAN-OS: Network → Network Profiles → IPSec Crypto → Lifetime below Azure's (27,000 s, e.g. 3,600 s) so that the firewall always rekeys first, or DH Group no-pfs; pfSense: VPN → IPsec → Phase 2 → Life Time below Azure's, or PFS key group off. Log: 'IKE phase-2 negotiation failed ... NO_PROPOSAL_CHOSEN' at Azure's rekey.",
            "Portal: Connection → Configuration → IPsec/IKE policy (custom) with PFS Group set to the firewall's group, so that Azure's own rekeys offer it too.",
            "either",
            format!("PROPOSAL_MISMATCH_CHILD after the CHILD SA was up; Azure's CHILD rekey at {} s comes before the firewall's at {} s", az.child_lifetime_s * 9 / 10, scale(fw_rekey)),
        ));
    }
    if fw_rekey <= gw_rekey && !fw_groups.is_empty() && !fw_esp.iter().any(|p| az.esp_accepted.contains(p)) {
        return Some(diag(
            CauseId::PfsMismatch,
            format!(
                "the firewall starts the first Phase 2 rekey (after {} s, Azure's after {} s) with PFS ({}), and Azure, with {policy}, accepts {}; the CHILD SA expires",
                scale(fw_rekey),
                az.child_lifetime_s * 9 / 10,
                groups(&fw_groups),
                az.esp_accepted.join(", ")
            ),
            "PAN-OS: Network → Network Profiles → IPSec Crypto → DH Group: one Azure accepts (group 2, 14 or 24 with the Default policy), or no-pfs; pfSense: VPN → IPsec → Phase 2 → PFS key group.",
            "Portal: Connection → Configuration → IPsec/IKE policy → PFS Group, set to the firewall's group.",
            "either",
            format!("PROPOSAL_MISMATCH_CHILD after the CHILD SA was up; the firewall's CHILD rekey at {} s comes first", scale(fw_rekey)),
        ));
    }
    None
}

/// Every cause the evidence supports, most specific first.
pub fn diagnose(lab: &Lab, e: &Evidence) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    let (Some((dut_node, dut)), Some((gw_node, site))) = (lab.dut(), lab.azure_gateway()) else { return out };
    let Some(dc) = first_conn(dut) else { return out };
    let gc = &site.connection;
    let azure_version = gc.protocol;
    let initiator = lab.plan.initiator.as_str();
    let azure_initiates = initiator == gw_node.name;

    // --- Phase 1 never answered
    let timeout = e.alerts(&[AlertKind::PeerInitUnreachable, AlertKind::RetransmitSendTimeout]);
    let ike_up = e.after.values().flatten().any(|s| s.is_established()) || e.events.iter().any(|ev| ev.what.ike_up());
    if !timeout.is_empty() && !ike_up {
        let versions_differ = dc.version != IkeVersion::Any && dc.version != azure_version;
        let nat = lab.nodes.iter().find_map(|n| match &n.kind {
            NodeKind::NatRouter(nat) => Some(nat),
            _ => None,
        });
        let ike_auth_lost = e.events.iter().any(|ev| matches!(ev.what, What::ControlLog { retransmit: Some(1), .. }));
        if versions_differ {
            out.push(diag(
                CauseId::IkeVersionMismatch,
                format!("the firewall speaks {} and the Azure connection {} only; Azure ignores the other version, so the firewall retransmits IKE_SA_INIT and gives up with no useful error", version_name(dc.version), version_name(azure_version)),
                "PAN-OS: Network → IKE Gateways → General → Version; pfSense: VPN → IPsec → Phase 1 → Key Exchange version. Log: the IKE SA sits in init, 'peer not responding'.",
                "Portal: Connection → Configuration → IKE Protocol; a PolicyBased gateway offers IKEv1 only.",
                "either",
                timeout.join(", "),
            ));
            if site.gateway.vpn_type == VpnType::PolicyBased {
                out.push(diag(
                    CauseId::PolicyBasedGateway,
                    "the Azure gateway is PolicyBased: IKEv1 only, static routing, one tunnel".into(),
                    "Keep the firewall on IKEv2 once the gateway is route-based.",
                    "Portal: Virtual network gateway → Configuration shows VPN type; it cannot be changed: delete and re-create the gateway as RouteBased (the portal default since Oct 2023).",
                    "azure",
                    format!("vpnType {}", site.gateway.vpn_type.azure_name()),
                ));
            }
        } else if !azure_initiates && gc.mode == ConnectionMode::InitiatorOnly {
            out.push(diag(
                CauseId::NobodyCanInitiate,
                "the Azure connection is InitiatorOnly and drops the firewall's IKE_SA_INIT silently; only Azure may start the tunnel".into(),
                "Let Azure initiate: forward UDP 500 and 4500 on the home/branch router to the firewall.",
                "Portal: Connection → Configuration → Connection mode: Default (either side initiates) or ResponderOnly.",
                "azure",
                timeout.join(", "),
            ));
        } else if azure_initiates && nat.is_some_and(|n| !n.port_forwards.iter().any(|pf| pf.port == 500)) {
            out.push(diag(
                CauseId::NobodyCanInitiate,
                "Azure initiates towards the branch's public address, but the NAT router in front of the firewall has no port forward, so nothing answers"
                    .into(),
                "Forward UDP 500 and 4500 on the home/branch router to the firewall, or let the firewall initiate (it sits behind NAT).",
                "Portal: Connection → Configuration → Connection mode: Default or ResponderOnly, so the firewall may initiate.",
                "network",
                timeout.join(", "),
            ));
        } else if ike_auth_lost || nat.is_some_and(|n| n.drops.iter().any(|d| d.dport == Some(4500) || d.sport == Some(4500))) {
            out.push(diag(
                CauseId::NatTBlocked,
                "IKE_SA_INIT crossed on UDP 500, but IKE_AUTH on UDP 4500 (NAT-T) never arrived: something between the sites drops UDP 4500".into(),
                "PAN-OS: Network → IKE Gateways → Advanced Options → Enable NAT Traversal; allow UDP 4500 outbound on the branch router.",
                "Nothing to change on Azure: it supports NAT-T; the on-premises side must initiate when behind NAT.",
                "network",
                timeout.join(", "),
            ));
        }
    }

    // --- Phase 1 refused
    let ike_npc = e.alerts(&[AlertKind::ProposalMismatchIke]);
    if !ike_npc.is_empty() {
        if dc.version != IkeVersion::Any && dc.version != azure_version {
            out.push(diag(
                CauseId::IkeVersionMismatch,
                format!("the firewall speaks {} and the Azure connection {}", version_name(dc.version), version_name(azure_version)),
                "PAN-OS: Network → IKE Gateways → General → Version; pfSense: VPN → IPsec → Phase 1 → Key Exchange version.",
                "Portal: Connection → Configuration → IKE Protocol.",
                "either",
                ike_npc.join(", "),
            ));
        } else {
            let fw_dh = dh_groups(&dc.proposals);
            let az = site.effective();
            let az_dh = dh_groups(&az.ike_proposals);
            let dh_note = if fw_dh.iter().all(|g| !az_dh.contains(g)) {
                format!(": the DH groups do not overlap ({} vs {})", fw_dh.join(", "), az_dh.join(", "))
            } else {
                String::new()
            };
            out.push(diag(
                CauseId::IkeProposalMismatch,
                format!("the firewall offers {} and Azure accepts {}{dh_note}", offer_words(&dc.proposals, ProposalKind::Ike), az.ike_proposals.join(", ")),
                "PAN-OS: Network → Network Profiles → IKE Crypto (DH group, encryption, authentication); pfSense: VPN → IPsec → Phase 1 → Encryption Algorithm. Log: 'IKE phase-1 negotiation is failed ... no proposal chosen'.",
                "Portal: Connection → Configuration → IPsec/IKE policy: Custom with the firewall's DH group, IKE encryption and integrity (the Default policy accepts DH group 2 only).",
                "either",
                ike_npc.join(", "),
            ));
        }
    }

    // --- Authentication
    let mut auth = e.alerts(&[AlertKind::LocalAuthFailed, AlertKind::PeerAuthFailed]);
    // IKEv1 Main Mode encrypts the identity with a key derived from the PSK: with different
    // keys the responder cannot decrypt message 5 and reports a parse error (lab, measured),
    // while the initiator only sees its retransmits time out.
    let ikev1_undecryptable = e.ikev1_undecryptable(lab);
    if auth.is_empty() && !ikev1_undecryptable.is_empty() {
        auth = ikev1_undecryptable.iter().map(|a| format!("{a} (IKEv1 Main Mode: the peer's ID payload could not be decrypted)")).collect();
    }
    if !auth.is_empty() {
        let fw_key = dut.secrets.first().map(|s| s.secret.as_str()).unwrap_or("");
        if fw_key != gc.shared_key && fw_key.trim() == gc.shared_key.trim() {
            out.push(diag(
                CauseId::PskWhitespace,
                "the two pre-shared keys are the same except for whitespace at one end: the key was copied with a trailing space or newline".into(),
                "PAN-OS: Network → IKE Gateways → Authentication → Pre-shared Key; pfSense: VPN → IPsec → Phase 1 → Pre-Shared Key. Re-type the key by hand. Log: 'authentication failed'.",
                "Portal: Connection → Authentication → Shared key (Azure refuses spaces, so the extra character is on the firewall).",
                "firewall",
                auth.join(", "),
            ));
        } else {
            out.push(diag(
                CauseId::PskMismatch,
                "the pre-shared keys differ".into(),
                "PAN-OS: Network → IKE Gateways → Authentication → Pre-shared Key; pfSense: VPN → IPsec → Phase 1 → Pre-Shared Key.",
                "Portal: Connection → Authentication → Shared key; they must match byte for byte.",
                "either",
                auth.join(", "),
            ));
        }
    }

    // --- Phase 2
    let child_npc = e.alerts(&[AlertKind::ProposalMismatchChild]);
    let ts = e.alerts(&[AlertKind::TsMismatch]);
    let child_was_up = e.events.iter().any(|ev| ev.what.child_up());
    let fw_child = dc.children.first();
    let fw_esp = fw_child.map(|c| c.esp_proposals.clone()).unwrap_or_default();
    let fw_ts_any = fw_child.is_some_and(|c| c.local_ts.iter().chain(&c.remote_ts).all(|t| t == "0.0.0.0/0"));
    let az = site.effective();
    if !child_npc.is_empty() || !ts.is_empty() {
        let fw_pfs = !dh_groups(&fw_esp).is_empty();
        let az_pfs = !dh_groups(&az.esp_accepted).is_empty();
        if !ts.is_empty() || (!fw_ts_any && site.switches.narrowed_traffic_selectors == NarrowedSelectors::Reject && !gc.policy_based_selectors) {
            let fw_ts = fw_child.map(|c| format!("{} ↔ {}", c.local_ts.join(","), c.remote_ts.join(","))).unwrap_or_default();
            out.push(diag(
                CauseId::SelectorMismatch,
                format!("the firewall proposes the proxy-ID {fw_ts}, the route-based gateway expects 0.0.0.0/0 ↔ 0.0.0.0/0 (narrowedTrafficSelectors: {})", site.switches.narrowed_traffic_selectors.azure_name()),
                "PAN-OS: Network → IPSec Tunnels → Proxy IDs: Local 0.0.0.0/0, Remote 0.0.0.0/0 (or none); pfSense: VPN → IPsec → Phase 2 → Local/Remote Network. Log: 'IKE phase-2 negotiation is failed ... NO_PROPOSAL_CHOSEN'.",
                "Portal: Connection → Configuration → Use policy based traffic selector: Enable (with matching prefixes) if the firewall must keep specific selectors.",
                "firewall",
                [child_npc.clone(), ts.clone()].concat().join(", "),
            ));
        } else if let Some(pfs) = child_was_up.then(|| pfs_at_rekey(lab, dc, site)).flatten() {
            out.push(pfs);
        } else if child_was_up && fw_pfs != az_pfs {
            out.push(diag(
                CauseId::PfsMismatch,
                format!("PFS on one side only: the firewall's Phase 2 {} a DH group ({}), Azure's {}; the first CHILD SA comes up without one, the first rekey fails and the tunnel drops at expiry", if fw_pfs { "has" } else { "has no" }, offer_words(&fw_esp, ProposalKind::Esp), if az_pfs { "requires one" } else { "has none (pfsGroup None)" }),
                "PAN-OS: Network → Network Profiles → IPSec Crypto → DH Group (no-pfs to match pfsGroup None); pfSense: VPN → IPsec → Phase 2 → PFS key group.",
                "Portal: Connection → Configuration → IPsec/IKE policy → PFS Group, set to the firewall's group.",
                "either",
                child_npc.join(", "),
            ));
        } else {
            out.push(diag(
                CauseId::EspProposalMismatch,
                format!("the firewall offers {} in Phase 2 and Azure accepts {}", offer_words(&fw_esp, ProposalKind::Esp), az.esp_accepted.join(", ")),
                "PAN-OS: Network → Network Profiles → IPSec Crypto (encryption, authentication, DH group); pfSense: VPN → IPsec → Phase 2 → Encryption Algorithms / Hash Algorithms.",
                "Portal: Connection → Configuration → IPsec/IKE policy: IPsec encryption, IPsec integrity, PFS group.",
                "either",
                child_npc.join(", "),
            ));
        }
    }

    // --- The branch's public address changed under an FQDN that still names the old one
    if let Some(fqdn) = &site.local_gateway.fqdn {
        let up_now = e.after.get(&gw_node.name).is_some_and(|s| s.iter().any(|sa| sa.is_established()));
        for (node, iface, old, new) in &e.address_changes {
            let updated = e.dns_updates.iter().any(|(n, a)| n == &fqdn.to_ascii_lowercase() && *a == new.addr());
            if !up_now && old.addr() == site.local_gateway.gateway_ip && !updated {
                out.push(diag(
                    CauseId::PeerAddressChanged,
                    format!("{node}:{iface} now has {} (was {}), but {fqdn} still resolves to {}: Azure re-resolves disconnected tunnels every 5 minutes and keeps finding the old address, so it hears nothing from the new one", new.addr(), old.addr(), old.addr()),
                    "Home router / firewall: make the dynamic-DNS client update the record (FRITZ!Box: Internet > Permit Access > DynDNS; pfSense: Services > Dynamic DNS).",
                    "Portal: Local network gateway → Configuration: FQDN (re-resolved every 5 minutes while disconnected) or the new IP address; resetting the gateway also re-resolves.",
                    "firewall",
                    e.steps.join("; "),
                ));
            }
        }
    }

    // --- Dead peer
    let killed: Vec<String> = e.killed.iter().map(|n| format!("the IKE daemon of {n} was killed")).collect();
    let cleared = e.events.iter().any(|ev| ev.node == gw_node.name && ev.what.ike_down());
    if !killed.is_empty() && cleared {
        out.push(diag(
            CauseId::PeerDead,
            format!("the firewall stopped answering and Azure cleared the tunnel after its DPD timeout ({} s)", gc.dpd_timeout_seconds),
            "PAN-OS: Network → IKE Gateways → Advanced Options → Dead Peer Detection, and a tunnel monitor so the tunnel never goes quiet; pfSense: VPN → IPsec → Phase 1 → Dead Peer Detection.",
            "Portal: Connection → Configuration → DPD timeout in seconds (9-3600, default 45).",
            "firewall",
            format!("{}; ike-updown down on {}", killed.join("; "), gw_node.name),
        ));
    }

    // --- Data path
    let child_up = |node: &str| {
        e.after
            .get(node)
            .is_some_and(|s| s.iter().any(|sa| sa.is_established() && sa.children.iter().any(|c| c.state == crate::evidence::sa::ChildState::Installed)))
    };
    if child_up(&dut_node.name) && child_up(&gw_node.name) {
        for p in e.pings.iter().filter(|p| !p.success) {
            let Ok(to) = p.to.parse::<std::net::Ipv4Addr>() else { continue };
            if p.df && (p.output.contains("Frag needed") || p.output.contains("message too long")) {
                out.push(diag(
                    CauseId::Mtu,
                    format!("a {}-byte DF packet does not fit the tunnel: {}", p.size.map(|s| u32::from(s) + 28).unwrap_or(0), p.output),
                    "PAN-OS: Network → Interfaces → Tunnel → tunnel.1 → Advanced → MTU 1400, and Network → Interfaces → (untrust) → Advanced → Adjust TCP MSS; pfSense: System → Advanced → Firewall & NAT → MSS clamping 1350.",
                    "Azure: clamp TCP MSS at 1350, or set the tunnel interface MTU to 1400 (Microsoft's recommendation); IP fragmentation in the tunnel is not supported.",
                    "firewall",
                    format!("ping {} -> {} size {}", p.from, p.to, p.size.unwrap_or(0)),
                ));
                continue;
            }
            let lan_side = lab.links.iter().any(|l| (l.a.node == p.from && l.b.node == dut_node.name) || (l.b.node == p.from && l.a.node == dut_node.name));
            let source = lab.node(&p.from).and_then(|n| n.interfaces.first()).map(|i| i.address.addr());
            if let (false, Some(rules), Some(src)) = (lan_side, &dut.tunnel_rules, source) {
                if !rules.iter().any(|r| r.from.contains(&src) && r.to.contains(&to)) {
                    let fw_in = e
                        .after
                        .get(&dut_node.name)
                        .and_then(|s| s.first())
                        .and_then(|sa| sa.children.first())
                        .map(|c| format!("; {} bytes in {}", dut_node.name, c.bytes_in))
                        .unwrap_or_default();
                    out.push(diag(
                        CauseId::MissingFirewallRule,
                        format!("both SAs are up and {src} -> {to} arrives through the tunnel, but the firewall has no rule passing it: everything from the tunnel is blocked until a rule allows it"),
                        "pfSense: Firewall > Rules > IPsec: add a pass rule (source the VNet, destination the LAN); PAN-OS: Policies > Security: a rule from zone azure-vpn to trust.",
                        "Nothing to change on Azure.",
                        "firewall",
                        format!("ping {} -> {} failed{fw_in}", p.from, p.to),
                    ));
                    continue;
                }
            }
            let (router, side) = if lan_side { (dut_node, "firewall") } else { (gw_node, "azure") };
            let has_route = router.routes.iter().any(|r| r.via == NextHop::Tunnel && r.to.contains(&to));
            if !has_route {
                let counters = e
                    .after
                    .get(&router.name)
                    .and_then(|s| s.first())
                    .and_then(|sa| sa.children.first())
                    .map(|c| format!("; {} bytes out {}", router.name, c.bytes_out))
                    .unwrap_or_default();
                out.push(diag(
                    CauseId::MissingRoute,
                    format!("both SAs are up, but {} has no route for {to} into the tunnel, so the traffic never enters it", router.name),
                    "PAN-OS: Network → Virtual Routers → default → Static Routes: the VNet prefix → tunnel.1 (and a security rule trust → azure-vpn); pfSense: the Phase 2 networks / a route to the VNet.",
                    "Portal: Local network gateway → Address space must list the on-premises prefixes (they become Azure's routes into the tunnel).",
                    side,
                    format!("ping {} -> {} failed{counters}", p.from, p.to),
                ));
                continue;
            }
            // The way there is routed; the reply needs the way back into the tunnel from the
            // other end, towards the ping's source.
            let (back, back_side) = if lan_side { (gw_node, "azure") } else { (dut_node, "firewall") };
            if let Some(src) = source {
                if !back.routes.iter().any(|r| r.via == NextHop::Tunnel && r.to.contains(&src)) {
                    let (fw, az) = if lan_side {
                        (
                            "Nothing to change on the firewall for this (its route to the VNet is there).",
                            "Portal: Local network gateway → Address space: add the on-premises prefix the traffic comes from; Azure routes into the tunnel only what that list holds.",
                        )
                    } else {
                        (
                            "PAN-OS: Network → Virtual Routers → default → Static Routes: the VNet prefix → tunnel.1; pfSense: the Phase 2 remote network / a route to the VNet.",
                            "Nothing to change on Azure for this (its route to the on-premises prefix is there).",
                        )
                    };
                    out.push(diag(
                        CauseId::MissingRoute,
                        format!(
                            "both SAs are up and {} routes {to} into the tunnel, but {} has no route back to {src} into the tunnel, so the reply never returns",
                            router.name, back.name
                        ),
                        fw,
                        az,
                        back_side,
                        format!("ping {} -> {} failed; {} has no tunnel route covering {src}", p.from, p.to, back.name),
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_proposals_are_named_not_blank() {
        assert!(offer_words(&[], ProposalKind::Esp).starts_with("strongSwan 5.9's default ESP proposals"));
        assert!(offer_words(&[], ProposalKind::Ike).contains("not DH group 2"));
        assert_eq!(offer_words(&["aes256-sha256".into()], ProposalKind::Esp), "aes256-sha256");
    }

    #[test]
    fn dh_group_names() {
        assert_eq!(dh_groups(&["aes256-sha256-modp2048".into(), "aes256-sha1-modp1024".into()]), ["DH group 14", "DH group 2"]);
        assert!(dh_groups(&["aes256-sha256".into()]).is_empty());
    }

    #[test]
    fn catalogue_ids_are_unique_and_round_trip() {
        let mut ids: Vec<&str> = CauseId::all().map(CauseId::as_str).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), CAUSES.len());
        for c in CauseId::all() {
            assert_eq!(CauseId::parse(c.as_str()), Some(c));
        }
        assert_eq!(CauseId::parse("no-such-cause"), None);
    }
}
