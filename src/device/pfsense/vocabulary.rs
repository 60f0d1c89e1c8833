//! pfSense's words in diagnoses: where a fix is made in its GUI (VPN > IPsec > Tunnels > Edit
//! Phase 1 / Phase 2 fields, Firewall > Rules > IPsec, System > Routing > Static Routes),
//! algorithms by the GUI's names (`AES 256 bits`, `SHA256`, `14 (2048 bit)`), the lines its
//! IPsec log shows (Status > System Logs > IPsec: charon's own lines, as pfSense runs charon),
//! and how an engineer checks (Status > IPsec > Overview, `swanctl --list-sas`).

use ipnet::Ipv4Net;

use super::algorithms::{dh_label, encryption_label, integrity_label, prf_label};
use super::PfsenseDevice;
use crate::device::{Remedy, Symptom, Vocabulary};
use crate::ike::intent::IkeVersion;
use crate::ike::proposal::{Encryption, Proposal};

/// A proposal in the GUI's names: `AES 256 bits, SHA256, DH group 14 (2048 bit)`.
pub fn proposal_text(p: &Proposal) -> String {
    if p.is_defaults() {
        return "charon's default proposals (pfSense writes none)".into();
    }
    let or = |v: Vec<String>| v.join(" or ");
    let mut parts = vec![or(p.encryption.iter().map(|e| encryption_label(*e)).collect())];
    if !p.integrity.is_empty() {
        parts.push(or(p.integrity.iter().map(|i| integrity_label(*i)).collect()));
    }
    if !p.prf.is_empty() {
        parts.push(format!("PRF {}", or(p.prf.iter().map(|x| prf_label(*x)).collect())));
    }
    let groups = p.dh_groups();
    if !groups.is_empty() {
        parts.push(format!("DH group {}", or(groups.iter().map(|g| dh_label(*g)).collect())));
    }
    parts.join(", ")
}

/// Proposals in the GUI's names, `; ` between them.
pub fn proposals_text(list: &[Proposal]) -> String {
    if list.is_empty() || list.iter().all(Proposal::is_defaults) {
        return "charon's default proposals (pfSense writes none)".into();
    }
    list.iter().map(proposal_text).collect::<Vec<_>>().join("; ")
}

/// The Phase 1 form's proposal fields for one proposal, or why pfSense cannot offer it.
fn ike_fields(p: &Proposal) -> String {
    let Some(e) = p.encryption.first() else {
        return "the peer's algorithms".into();
    };
    if !offered(*e) {
        return format!("nothing pfSense offers: {} was removed (pfSense 2.7); change the peer instead", e.iana());
    }
    let (algorithm, keylen) = split_label(*e);
    let hash = p.integrity.first().map(|i| integrity_label(*i)).or(p.prf.first().map(|x| prf_label(*x))).unwrap_or_else(|| "SHA256".into());
    let dh = p.dh_groups().first().map(|g| dh_label(*g)).unwrap_or_else(|| "the peer's group".into());
    format!("Algorithm {algorithm}, Key length {keylen}, Hash {hash}, DH Group {dh}")
}

/// The Phase 2 form's proposal fields for one proposal.
fn esp_fields(p: &Proposal) -> String {
    let Some(e) = p.encryption.first() else {
        return "the peer's algorithms".into();
    };
    if !offered(*e) {
        return format!("nothing pfSense offers: {} was removed (pfSense 2.7); change the peer instead", e.iana());
    }
    let (algorithm, keylen) = split_label(*e);
    let hash = if e.is_aead() { "none needed (AEAD)".to_string() } else { p.integrity.first().map(|i| integrity_label(*i)).unwrap_or_else(|| "SHA256".into()) };
    let pfs = p.dh_groups().first().map(|g| dh_label(*g)).unwrap_or_else(|| "off".into());
    format!("Encryption Algorithms {algorithm} {keylen}, Hash Algorithms {hash}, PFS key group {pfs}")
}

fn offered(e: Encryption) -> bool {
    !matches!(e, Encryption::TripleDes | Encryption::Des | Encryption::Null | Encryption::Aes128Ctr | Encryption::Aes256Ctr)
}

/// `AES 256 bits` as (`AES`, `256 bits`).
fn split_label(e: Encryption) -> (String, String) {
    let label = encryption_label(e);
    match label.split_once(' ') {
        Some((a, k)) => (a.to_string(), k.to_string()),
        None => (label, "(none)".into()),
    }
}

fn nets(list: &[Ipv4Net]) -> String {
    crate::device::prefix_list(list)
}

impl PfsenseDevice {
    /// `VPN > IPsec > Tunnels > Edit Phase 1 (con1, "to-azure")`.
    fn phase1_page(&self) -> String {
        let descr = self.descr.as_deref().map(|d| format!(", \"{d}\"")).unwrap_or_default();
        format!("VPN > IPsec > Tunnels > Edit Phase 1 (ikeid {}{descr})", self.ikeid)
    }

    /// The Phase 2 page of the child a run starts.
    fn phase2_page(&self) -> String {
        let first = self.config.first_child().map(|(_, ch)| ch.name.clone()).unwrap_or_default();
        let entries: Vec<_> = self.phase2.iter().filter(|p| p.child == first).collect();
        match entries.first() {
            Some(p) => {
                let descr = p.descr.as_deref().map(|d| format!(", \"{d}\"")).unwrap_or_default();
                // IKEv2 merges every phase 2 into one child: a proposal or PFS change goes on each.
                let others =
                    if entries.len() > 1 { format!(" and the other {} phase 2 entries merged into child {first}", entries.len() - 1) } else { String::new() };
                format!("VPN > IPsec > Tunnels > ikeid {} > Show Phase 2 Entries > Edit Phase 2 (reqid {}{descr}{others})", self.ikeid, p.reqid)
            }
            None => format!("VPN > IPsec > Tunnels > ikeid {} > Show Phase 2 Entries > Edit Phase 2", self.ikeid),
        }
    }

    fn first_few(list: &[Proposal], fields: fn(&Proposal) -> String) -> String {
        let shown: Vec<String> = list.iter().take(3).map(fields).collect();
        match list.len() {
            0 => "the peer's algorithms".into(),
            n if n > 3 => format!("{} (or one of {} more)", shown.join("; or "), n - 3),
            _ => shown.join("; or "),
        }
    }
}

impl Vocabulary for PfsenseDevice {
    fn name(&self) -> &'static str {
        "pfSense"
    }

    fn proposal(&self, p: &Proposal) -> String {
        proposal_text(p)
    }

    fn proposals(&self, list: &[Proposal]) -> String {
        proposals_text(list)
    }

    fn remedy(&self, remedy: &Remedy) -> String {
        let p1 = self.phase1_page();
        let p2 = self.phase2_page();
        let routed = !self.vti.is_empty();
        match remedy {
            Remedy::IkeVersion(v) => {
                let value = match v {
                    IkeVersion::V1 => "IKEv1",
                    IkeVersion::V2 => "IKEv2",
                    IkeVersion::Any => "Auto",
                };
                format!("{p1} > IKE Endpoint Configuration > Key Exchange version: {value}")
            }
            Remedy::IkeProposals(list) => format!(
                "{p1} > Phase 1 Proposal (Encryption Algorithm): {} (Add Algorithm for more than one)",
                Self::first_few(list, ike_fields)
            ),
            Remedy::EspProposals(list) => format!("{p2} > Phase 2 Proposal (SA/Key Exchange): {}", Self::first_few(list, esp_fields)),
            Remedy::PfsGroup(Some(g)) => format!("{p2} > Phase 2 Proposal (SA/Key Exchange) > PFS key group: {}", dh_label(*g)),
            Remedy::PfsGroup(None) => format!("{p2} > Phase 2 Proposal (SA/Key Exchange) > PFS key group: off"),
            Remedy::ChildLifetimeBelow(s) => {
                let life = ((s * 9 / 10) / 100 * 100).max(300);
                format!(
                    "{p2} > Expiration and Replacement > Life Time: below {s} s, e.g. {life} (Rekey Time empty: pfSense rekeys at 90 % of it), so that pfSense always rekeys first"
                )
            }
            Remedy::Selectors { local, remote } if routed => format!(
                "{p2}: a Routed (VTI) phase 2 offers 0.0.0.0/0 both ways, which needs a route-based peer; for a policy-based peer use Mode Tunnel IPv4 with Local Network: Network {}, Remote Network: Network {}",
                nets(local),
                nets(remote)
            ),
            Remedy::Selectors { local, remote } => format!(
                "{p2}: Mode Tunnel IPv4, Local Network: Network {}, Remote Network: Network {} (one phase 2 per pair; IKEv2 offers them in one child unless Split connections is checked on the phase 1)",
                nets(local),
                nets(remote)
            ),
            Remedy::RetypePresharedKey => {
                format!("{p1} > Phase 1 Proposal (Authentication) > Pre-Shared Key: type the key again by hand (pfSense trims spaces at its ends; anything invisible inside it stays)")
            }
            Remedy::SamePresharedKey => format!("{p1} > Phase 1 Proposal (Authentication) > Pre-Shared Key: the same key as the peer, byte for byte"),
            Remedy::DeadPeerDetection => {
                format!("{p1} > Advanced Options > Dead Peer Detection: Enable DPD, Delay 10, Max failures 5 (and Child SA Close Action: Restart/Reconnect)")
            }
            Remedy::NatTraversal => format!(
                "{p1} > Advanced Options > NAT Traversal: Force (IKEv1; IKEv2 detects NAT by itself), and the NAT router in front of pfSense must pass UDP 500 and 4500 to it"
            ),
            Remedy::TunnelRoute(p) if routed => format!(
                "System > Routing > Static Routes > Add: Destination network {p}, Gateway {} (the VTI's gateway)",
                self.vti_gateway.clone().unwrap_or_else(|| "the VTI interface's _VTIV4 gateway (assign the ipsec interface first)".into())
            ),
            Remedy::TunnelRoute(p) => format!(
                "VPN > IPsec > Tunnels > ikeid {} > Add P2: Mode Tunnel IPv4, Local Network LAN subnet, Remote Network: Network {p} (tunnel mode sends only the networks of its phase 2 entries into the tunnel)",
                self.ikeid
            ),
            Remedy::AllowForward { into_tunnel: false, src, dst } => {
                let tab = self.filter_tab();
                format!("Firewall > Rules > {tab} > Add: Action Pass, Address Family IPv4, Protocol Any, Source: Network {src}, Destination: Network {dst} (pfSense blocks everything from the tunnel that no rule on this tab passes)")
            }
            Remedy::AllowForward { into_tunnel: true, src, dst } => format!(
                "Firewall > Rules > LAN > Add: Action Pass, Address Family IPv4, Protocol Any, Source: Network {src}, Destination: Network {dst} (the Default allow LAN to any rule does this)"
            ),
            Remedy::TunnelMtu { mtu, mss } if routed => format!(
                "Interfaces > {} > MTU: {mtu}, MSS: {mss}; or VPN > IPsec > Advanced Settings > Maximum MSS: Enable MSS clamping on VPN traffic, {mss}",
                self.vti.first().map(|v| v.interface.clone()).unwrap_or_else(|| "the VTI interface".into())
            ),
            Remedy::TunnelMtu { mss, .. } => format!("VPN > IPsec > Advanced Settings > Maximum MSS: Enable MSS clamping on VPN traffic, {mss}"),
            Remedy::AllowInitiation => {
                format!("{p1} > Advanced Options > Child SA Start Action: Initiate at start (VTI or Tunnel Mode); or Status > IPsec > Overview > Connect P1 and P2s")
            }
            Remedy::AllowResponding => format!(
                "nothing blocks answering on pfSense: it answers a peer that matches {p1} > Remote Gateway and Peer identifier; check both (Child SA Start Action None only stops it initiating)"
            ),
            Remedy::PeerAddress { name: Some(name), address } => format!(
                "{p1} > Remote Gateway: {name} (pfSense re-resolves it, VPN > IPsec > Advanced Settings), or the new address {address}; the peer must reach the new address"
            ),
            Remedy::PeerAddress { name: None, address } => format!("{p1} > Remote Gateway: {address}"),
            Remedy::DynamicDns { name, address } => format!(
                "Services > Dynamic DNS: the client for {name} on the WAN must update it to {address} (behind a router, the router's own dynamic DNS: FRITZ!Box Internet > Permit Access > DynDNS)"
            ),
            Remedy::BgpLocalAsn(n) => format!("Services > FRR package > BGP > BGP > Local AS: {n}"),
            Remedy::BgpPeerAsn(n) => format!("Services > FRR package > BGP > Neighbors > (the Azure neighbor) > Remote AS: {n}"),
            Remedy::BgpHostRoute(a) if routed => format!(
                "{p2} (Routed VTI) > Remote Network: {a}, Azure's BGP peer IP (the transit network must hold it), or System > Routing > Static Routes: {a}/32 via the VTI's gateway"
            ),
            Remedy::BgpHostRoute(a) => format!("{p2} > Remote Network: include {a}/32, Azure's BGP peer IP"),
            Remedy::BgpActive => "Services > FRR package > BGP > Neighbors > (the Azure neighbor) > Passive: unchecked (Azure does not open sessions towards an APIPA peer)".into(),
            Remedy::BgpPolicy => "Services > FRR package > BGP > Neighbors > (the Azure neighbor) > Route Map Filters: an inbound and an outbound route map (Services > FRR package > Global Settings > Route Maps: one permit entry); FRR exchanges nothing on eBGP without one".into(),
            Remedy::BgpWithdraw(list) => format!("Services > FRR package > BGP > Network Distribution: remove {} (or an outbound prefix list that denies it)", nets(list)),
            Remedy::BgpAtMost(n) => format!("Services > FRR package > BGP > Network Distribution: at most {n} networks (summarise them, or an outbound prefix list)"),
            Remedy::BgpHoldTime(h) => format!("Services > FRR package > BGP > BGP > Timers: Keep Alive {}, Hold Time {h} (or empty for 60/180)", h / 3),
            Remedy::BgpInstallRoutes => "Services > FRR package > Global Settings: no route map that keeps BGP routes out of the routing table".into(),
            Remedy::Nothing(why) => format!("nothing to change on pfSense: {why}"),
        }
    }

    fn log_line(&self, symptom: Symptom) -> Option<String> {
        let sa = format!("<{}|1>", self.connection_name());
        let child = self.config.first_child().map(|(_, ch)| ch.name.clone()).unwrap_or_else(|| self.connection_name());
        let line = match symptom {
            Symptom::PeerNotResponding => format!("09[IKE] {sa} giving up after 5 retransmits"),
            Symptom::Phase1NoProposal => {
                format!("07[IKE] {sa} received NO_PROPOSAL_CHOSEN notify error (as initiator); no acceptable proposal found (as responder)")
            }
            Symptom::Phase2NoProposal => format!("11[IKE] {sa} received NO_PROPOSAL_CHOSEN notify, no CHILD_SA built"),
            Symptom::AuthenticationFailed => {
                format!("14[IKE] {sa} received AUTHENTICATION_FAILED notify error (as initiator); tried 1 shared key for '...' - '...', but MAC mismatched (as responder)")
            }
            Symptom::RekeyRefused => format!("05[IKE] {sa} received NO_PROPOSAL_CHOSEN notify, rekeying CHILD_SA {child} failed"),
            Symptom::SelectorsRefused => format!("11[IKE] {sa} received TS_UNACCEPTABLE notify, no CHILD_SA built"),
            Symptom::DeadPeer => format!("09[IKE] {sa} giving up after 5 retransmits, then restarting CHILD_SA {child}"),
            Symptom::NotRouted => {
                return Some(
                    "Diagnostics > Routes: no route for the destination via the tunnel (a VTI's ipsecN, or an IPsec policy for tunnel mode); Status > IPsec > Overview: Bytes-Out of the child stays 0".into(),
                )
            }
            Symptom::NothingSent => return Some("Status > IPsec > Overview: Disconnected; Status > System Logs > IPsec: no line for this phase 1 at all".into()),
            Symptom::BgpNoSession => return Some("Status > FRR > BGP: the Azure neighbor is Active or Idle, not Established; Status > System Logs > Routing: the NOTIFICATION, if any".into()),
            Symptom::BgpNoRoutes => return Some("Status > FRR > BGP: the Azure neighbor Established with (Policy) or 0 prefixes received".into()),
            Symptom::Blocked => {
                return Some(format!(
                    "Status > System Logs > Firewall: Block on {} by \"Default deny rule IPv4 (1000000103)\" (traffic from the tunnel that no rule passes)",
                    self.filter_tab()
                ))
            }
        };
        Some(format!("Status > System Logs > IPsec: charon {line}"))
    }

    fn check(&self) -> String {
        let descr = self.descr.as_deref().map(|d| format!(" \"{d}\"")).unwrap_or_default();
        let child = self.config.first_child().map(|(_, ch)| ch.name.clone()).unwrap_or_else(|| self.connection_name());
        format!(
            "Status > IPsec > Overview: {}{descr} Established, and under Show child SA entries {child} with Bytes-In and Bytes-Out growing; Diagnostics > Command Prompt: swanctl --list-sas --ike {}",
            self.connection_name(),
            self.connection_name()
        )
    }
}
