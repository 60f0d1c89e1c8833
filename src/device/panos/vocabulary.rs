//! PAN-OS's words in diagnoses: a fix as the `set` commands that make it (with this
//! configuration's own gateway, profiles, tunnel, zones and virtual router) and the web
//! interface path where it is made; algorithms in crypto-profile names (`aes-256-cbc`,
//! `group14`); the system-log line for a symptom (pan-os-ipsec.md §6; where the sheet has no
//! confirmed text the line says so); the operational commands that confirm (§5).

use ipnet::Ipv4Net;

use super::names;
use super::tree::quoted;
use super::{PanosDevice, Peer};
use crate::device::{Remedy, Symptom, Vocabulary};
use crate::ike::intent::IkeVersion;
use crate::ike::proposal::Proposal;

const IKE_GATEWAYS: &str = "Network > Network Profiles > IKE Gateways";
const IKE_CRYPTO: &str = "Network > Network Profiles > IKE Crypto";
const IPSEC_CRYPTO: &str = "Network > Network Profiles > IPSec Crypto";
const IPSEC_TUNNELS: &str = "Network > IPSec Tunnels";

/// A proposal's algorithms in PAN-OS's names (an algorithm PAN-OS has no name for keeps its
/// keyword), and the first one without a PAN-OS name.
struct Words {
    encryption: Vec<String>,
    integrity: Vec<String>,
    groups: Vec<String>,
    missing: Option<String>,
}

fn words(p: &Proposal) -> Words {
    let mut missing = None;
    let mut name = |pan: Option<&'static str>, keyword: String| match pan {
        Some(n) => n.to_string(),
        None => {
            missing.get_or_insert_with(|| keyword.clone());
            keyword
        }
    };
    let encryption = p.encryption.iter().map(|e| name(names::encryption_name(*e), e.keyword().to_string())).collect();
    let integrity = p.integrity.iter().map(|i| name(names::integrity_name(*i), i.keyword().to_string())).collect();
    let groups = p.dh_groups().into_iter().map(|g| name(names::group_name(g), g.keyword().to_string())).collect();
    Words { encryption, integrity, groups, missing }
}

/// A member list as `set` writes it: one value, or `[ a b ]`.
fn members(list: &[String]) -> String {
    match list {
        [one] => one.clone(),
        many => format!("[ {} ]", many.join(" ")),
    }
}

/// `10.20.0.0/16` as a route or rule name part: `10.20.0.0-16`.
fn name_part(net: &Ipv4Net) -> String {
    net.to_string().replace('/', "-")
}

impl PanosDevice {
    /// The zone whose interfaces' networks hold `addr`'s network, if any.
    fn zone_holding(&self, net: &Ipv4Net) -> Option<&str> {
        self.names.zones.iter().find(|(_, nets)| nets.iter().any(|n| n.trunc().contains(&net.network()))).map(|(z, _)| z.as_str())
    }

    fn gateway(&self) -> String {
        quoted(&self.names.gateway)
    }
    fn tunnel(&self) -> String {
        quoted(&self.names.tunnel)
    }
    fn ike_profile(&self) -> String {
        quoted(&self.names.ike_profile)
    }
    fn ipsec_profile(&self) -> String {
        quoted(&self.names.ipsec_profile)
    }

    /// The virtual router BGP runs in: the configuration's, else the one holding the tunnel
    /// interface, else PAN-OS's `default`.
    fn bgp_router(&self) -> String {
        let n = &self.names;
        n.bgp.as_ref().map(|b| b.virtual_router.clone()).or_else(|| n.virtual_router.clone()).unwrap_or_else(|| "default".into())
    }

    /// The `set` path of the BGP peer towards Azure: the configuration's names, or placeholders.
    fn bgp_peer_path(&self) -> String {
        let (group, peer) = match &self.names.bgp {
            Some(b) => (quoted(&b.peer_group), quoted(&b.peer)),
            None => ("<GROUP>".to_string(), "<PEER>".to_string()),
        };
        format!("set network virtual-router {} protocol bgp peer-group {group} peer {peer}", quoted(&self.bgp_router()))
    }

    fn peer_text(&self) -> String {
        match &self.peer {
            Peer::Ip(a) => a.to_string(),
            Peer::Fqdn(f) => f.clone(),
            Peer::Dynamic => "x.x.x.x".into(),
        }
    }

    fn local_text(&self) -> String {
        self.local_addr.map(|a| a.to_string()).unwrap_or_else(|| "x.x.x.x".into())
    }
}

impl Vocabulary for PanosDevice {
    fn name(&self) -> &'static str {
        "PAN-OS"
    }

    /// `aes-256-cbc/sha256/group14`; an ESP proposal without a group ends in `no-pfs`.
    fn proposal(&self, p: &Proposal) -> String {
        if p.is_defaults() {
            return "PAN-OS's predefined default profile".into();
        }
        let w = words(p);
        let mut parts = vec![w.encryption.join(",")];
        if !w.integrity.is_empty() {
            parts.push(w.integrity.join(","));
        }
        parts.push(if w.groups.is_empty() { "no-pfs".to_string() } else { w.groups.join(",") });
        let text = parts.join("/");
        match w.missing {
            Some(m) => format!("{text} (PAN-OS has no name for {m})"),
            None => text,
        }
    }

    fn remedy(&self, remedy: &Remedy) -> String {
        let n = &self.names;
        let (gw, tunnel, ike, ipsec) = (self.gateway(), self.tunnel(), self.ike_profile(), self.ipsec_profile());
        let tif = &n.tunnel_interface;
        match remedy {
            Remedy::IkeVersion(v) => {
                let (keyword, block) = match v {
                    IkeVersion::V1 => ("ikev1", "ikev1"),
                    IkeVersion::V2 => ("ikev2", "ikev2"),
                    IkeVersion::Any => ("ikev2-preferred", "ikev2"),
                };
                format!(
                    "`set network ike gateway {gw} protocol version {keyword}` and `set network ike gateway {gw} protocol {block} ike-crypto-profile {ike}` ({IKE_GATEWAYS} > {gw} > General > Version)"
                )
            }
            Remedy::IkeProposals(list) => match list.first().map(words) {
                Some(w) if w.missing.is_none() && !w.encryption.is_empty() => {
                    let hash = if w.integrity.is_empty() { "non-auth".to_string() } else { members(&w.integrity) };
                    format!(
                        "`set network ike crypto-profiles ike-crypto-profiles {ike} encryption {} hash {hash} dh-group {}` (`set` adds to the lists; {IKE_CRYPTO} > {ike})",
                        members(&w.encryption),
                        members(&w.groups)
                    )
                }
                Some(w) => format!(
                    "{IKE_CRYPTO} > {ike}: PAN-OS has no name for {}; pick another proposal the peer accepts ({})",
                    w.missing.unwrap_or_else(|| "that proposal".into()),
                    list.iter().map(|p| self.proposal(p)).collect::<Vec<_>>().join(", ")
                ),
                None => format!("{IKE_CRYPTO} > {ike}: the encryption, hash and DH group the peer uses"),
            },
            Remedy::EspProposals(list) => match list.first().map(words) {
                Some(w) if w.missing.is_none() && !w.encryption.is_empty() => {
                    let auth = if w.integrity.is_empty() { "none".to_string() } else { members(&w.integrity) };
                    format!(
                        "`set network ike crypto-profiles ipsec-crypto-profiles {ipsec} esp encryption {} esp authentication {auth}` (`set` adds to the lists; {IPSEC_CRYPTO} > {ipsec})",
                        members(&w.encryption)
                    )
                }
                Some(w) => format!(
                    "{IPSEC_CRYPTO} > {ipsec}: PAN-OS has no name for {}; pick another proposal the peer accepts ({})",
                    w.missing.unwrap_or_else(|| "that proposal".into()),
                    list.iter().map(|p| self.proposal(p)).collect::<Vec<_>>().join(", ")
                ),
                None => format!("{IPSEC_CRYPTO} > {ipsec}: the encryption and authentication the peer uses"),
            },
            Remedy::PfsGroup(Some(g)) => match names::group_name(*g) {
                Some(name) => format!("`set network ike crypto-profiles ipsec-crypto-profiles {ipsec} dh-group {name}` ({IPSEC_CRYPTO} > {ipsec} > DH Group: {name})"),
                None => format!("{IPSEC_CRYPTO} > {ipsec} > DH Group: PAN-OS has no {g}; change the other side's PFS group"),
            },
            Remedy::PfsGroup(None) => {
                format!("`set network ike crypto-profiles ipsec-crypto-profiles {ipsec} dh-group no-pfs` ({IPSEC_CRYPTO} > {ipsec} > DH Group: no-pfs)")
            }
            Remedy::ChildLifetimeBelow(s) => {
                // PAN-OS accepts 180 s and up (pan-os-ipsec.md §2.1).
                let target = (s * 9 / 10).max(180);
                if target >= *s {
                    format!("nothing PAN-OS can set: its shortest IPsec lifetime is 180 s, not below {s} s; lengthen the other side's")
                } else {
                    format!(
                        "`set network ike crypto-profiles ipsec-crypto-profiles {ipsec} lifetime seconds {target}` ({IPSEC_CRYPTO} > {ipsec} > Lifetime), so that PAN-OS renegotiates first"
                    )
                }
            }
            Remedy::Selectors { local, remote } => {
                let any = |l: &[Ipv4Net]| l.is_empty() || l.iter().all(|n| n.prefix_len() == 0);
                if any(local) && any(remote) {
                    return format!(
                        "`delete network tunnel ipsec {tunnel} auto-key proxy-id`: without proxy-IDs PAN-OS proposes 0.0.0.0/0 both ways ({IPSEC_TUNNELS} > {tunnel} > Proxy IDs)"
                    );
                }
                let mut commands = Vec::new();
                if n.proxy_ids {
                    commands.push(format!("`delete network tunnel ipsec {tunnel} auto-key proxy-id`"));
                }
                let all = |l: &[Ipv4Net]| if l.is_empty() { vec![Ipv4Net::default()] } else { l.to_vec() };
                let mut i = 0;
                for l in all(local) {
                    for r in all(remote) {
                        i += 1;
                        commands.push(format!("`set network tunnel ipsec {tunnel} auto-key proxy-id proxy{i} local {l} remote {r} protocol any`"));
                    }
                }
                format!("{} ({IPSEC_TUNNELS} > {tunnel} > Proxy IDs; each proxy-ID is its own SA)", commands.join(" and "))
            }
            Remedy::RetypePresharedKey => format!(
                "`set network ike gateway {gw} authentication pre-shared-key key <KEY>`, typed by hand ({IKE_GATEWAYS} > {gw} > General > Pre-shared Key and Confirm Pre-shared Key): PAN-OS stores the key encrypted, so a pasted trailing space or newline cannot be seen afterwards"
            ),
            Remedy::SamePresharedKey => format!(
                "`set network ike gateway {gw} authentication pre-shared-key key <KEY>` with the peer's key, byte for byte ({IKE_GATEWAYS} > {gw} > General > Pre-shared Key)"
            ),
            Remedy::DeadPeerDetection => {
                let dpd = if self.version == IkeVersion::V1 {
                    format!("`set network ike gateway {gw} protocol ikev1 dpd enable yes interval 5 retry 5`")
                } else {
                    format!("`set network ike gateway {gw} protocol ikev2 dpd enable yes interval 5` (the liveness check)")
                };
                format!(
                    "{dpd} ({IKE_GATEWAYS} > {gw} > Advanced Options), and `set network tunnel ipsec {tunnel} tunnel-monitor enable yes destination-ip <ADDRESS ACROSS THE TUNNEL> tunnel-monitor-profile default` ({IPSEC_TUNNELS} > {tunnel} > Tunnel Monitor), so a dead tunnel is noticed and rebuilt"
                )
            }
            Remedy::NatTraversal => format!(
                "`set network ike gateway {gw} protocol-common nat-traversal enable yes` ({IKE_GATEWAYS} > {gw} > Advanced Options > Enable NAT Traversal); UDP 4500 (App-ID ipsec-esp-udp) must pass between the sites"
            ),
            Remedy::TunnelRoute(p) => {
                let vr = quoted(n.virtual_router.as_deref().unwrap_or("default"));
                let member = if n.virtual_router.is_none() { format!("`set network virtual-router {vr} interface {tif}` and ") } else { String::new() };
                format!(
                    "{member}`set network virtual-router {vr} routing-table ip static-route to-{} destination {p} interface {tif}` (Network > Virtual Routers > {vr} > Static Routes)",
                    name_part(p)
                )
            }
            Remedy::AllowForward { into_tunnel, src, dst } => {
                let tunnel_zone = n.tunnel_zone.clone().unwrap_or_else(|| "<ZONE OF tunnel>".into());
                let inside = |net: &Ipv4Net| self.zone_holding(net).unwrap_or("any").to_string();
                let (from, to) = if *into_tunnel { (inside(src), tunnel_zone.clone()) } else { (tunnel_zone.clone(), inside(dst)) };
                let rule = format!("allow-{}-to-{}", name_part(src), name_part(dst));
                let zone = if n.tunnel_zone.is_none() { format!("`set zone vpn network layer3 {tif}` (the tunnel interface needs a zone), ") } else { String::new() };
                format!(
                    "{zone}`set rulebase security rules {rule} from {} to {} source {src} destination {dst} application any service any action allow` and `move rulebase security rules {rule} top` (Policies > Security, above any rule that denies it)",
                    quoted(&from),
                    quoted(&to)
                )
            }
            Remedy::TunnelMtu { mtu, mss } => {
                // PAN-OS clamps the MSS to the interface MTU minus the adjustment (40-300).
                let adjustment = u32::from(*mtu).saturating_sub(u32::from(*mss)).clamp(40, 300);
                format!(
                    "`set network interface tunnel units {tif} mtu {mtu}` and `set network interface tunnel units {tif} adjust-tcp-mss enable yes ipv4-mss-adjustment {adjustment}` (Network > Interfaces > Tunnel > {tif} > Advanced), for an MSS of {mss}"
                )
            }
            Remedy::AllowInitiation => {
                let dynamic = if self.peer == Peer::Dynamic {
                    format!("`set network ike gateway {gw} peer-address ip <PEER ADDRESS>` (a gateway with a dynamic peer never starts the tunnel) and ")
                } else {
                    String::new()
                };
                format!("{dynamic}`set network ike gateway {gw} protocol-common passive-mode no` ({IKE_GATEWAYS} > {gw} > Advanced Options > Enable Passive Mode off), then `test vpn ike-sa gateway {gw}`")
            }
            Remedy::AllowResponding => format!(
                "PAN-OS answers a peer it has a gateway for: {IKE_GATEWAYS} > {gw} > General, `peer-address ip` the peer's address ({}) and `peer-id` (if set) the identity it sends",
                self.peer_text()
            ),
            Remedy::DynamicDns { name, address } => {
                let interface = n.local_interface.clone().unwrap_or_else(|| "<OUTSIDE INTERFACE>".into());
                format!("the firewall's dynamic DNS must update {name} to {address} (Network > Interfaces > Ethernet > {interface} > Advanced > DDNS), and `set network ike gateway {gw} local-id type ipaddr id {address}` when the identity is the address")
            }
            Remedy::PeerAddress { name: Some(name), address } => format!(
                "`set network ike gateway {gw} peer-address fqdn {name}` ({IKE_GATEWAYS} > {gw} > General > Peer Address: FQDN), or `peer-address ip {address}`"
            ),
            Remedy::PeerAddress { name: None, address } => {
                format!("`set network ike gateway {gw} peer-address ip {address}` ({IKE_GATEWAYS} > {gw} > General > Peer Address)")
            }
            Remedy::BgpLocalAsn(asn) => {
                let vr = quoted(&self.bgp_router());
                format!("`set network virtual-router {vr} protocol bgp local-as {asn}` (Network > Virtual Routers > {vr} > BGP > General > AS Number)")
            }
            Remedy::BgpPeerAsn(asn) => format!("`{} peer-as {asn}` (BGP > Peer Group > Peer > Peer AS)", self.bgp_peer_path()),
            Remedy::BgpHostRoute(a) => {
                let vr = quoted(&self.bgp_router());
                format!(
                    "`set network virtual-router {vr} routing-table ip static-route azure-bgp destination {a}/32 interface {tif}` (Network > Virtual Routers > {vr} > Static Routes)"
                )
            }
            Remedy::BgpInstallRoutes => {
                let vr = quoted(&self.bgp_router());
                format!("`set network virtual-router {vr} protocol bgp install-route yes` (Network > Virtual Routers > {vr} > BGP > General > Install Route)")
            }
            Remedy::BgpActive => format!(
                "`{} connection-options outgoing-bgp-connection allow yes` (BGP > Peer Group > Peer > Connection Options > Outgoing Connections: Allow; Azure does not open sessions towards an APIPA peer)",
                self.bgp_peer_path()
            ),
            Remedy::BgpPolicy => "BGP > Export and Import: a rule per direction for the Azure peer group".into(),
            Remedy::BgpWithdraw(list) => format!("BGP > Export (or Redistribution Rules): stop advertising {}", crate::device::prefix_list(list)),
            Remedy::BgpAtMost(n) => format!("BGP > Export: at most {n} prefixes to Azure (aggregate them)"),
            Remedy::BgpHoldTime(h) => format!(
                "`{} connection-options hold-time {h} keep-alive-interval {}` (BGP > Peer Group > Peer > Connection Options)",
                self.bgp_peer_path(),
                h / 3
            ),
            Remedy::Nothing(why) => format!("nothing to change on PAN-OS: {why}"),
        }
    }

    fn log_line(&self, symptom: Symptom) -> Option<String> {
        let (local, peer) = (self.local_text(), self.peer_text());
        let v1 = self.version == IkeVersion::V1;
        let line = match symptom {
            // The IKEv1 text is documented (pan-os-ipsec.md §6 [P18]); the IKEv2 one follows it.
            Symptom::PeerNotResponding if v1 => {
                format!("IKE phase-1 negotiation is failed as initiator, main mode. Failed SA: {local}[500]-{peer}[500] cookie:... due to timeout.")
            }
            Symptom::PeerNotResponding => format!("IKEv2 IKE SA negotiation is failed as initiator, non-rekey. Failed SA: {local}[500]-{peer}[500] SPI:... due to timeout. (PAN-OS-style)"),
            Symptom::Phase1NoProposal => format!("IKE phase-1 negotiation is failed ... no suitable proposal found (peer {peer}; PAN-OS-style, the exact text is unconfirmed)"),
            Symptom::Phase2NoProposal if v1 => format!("IKE phase-2 negotiation is failed ... no suitable proposal found (peer {peer}; PAN-OS-style)"),
            Symptom::Phase2NoProposal => format!("IKEv2 child SA negotiation is failed ... no suitable proposal found (peer {peer}; PAN-OS-style)"),
            Symptom::AuthenticationFailed if v1 => format!("IKE phase-1 negotiation is failed ... authentication failed with peer {peer} (PAN-OS-style; a pre-shared key mismatch)"),
            Symptom::AuthenticationFailed => {
                "IKEv2 IKE SA negotiation is failed ... Received notify type authentication_failed (community summary [P11], unconfirmed)".into()
            }
            Symptom::RekeyRefused => "IKEv2 child SA negotiation is failed as initiator, rekey ... message lacks KE payload (a PFS mismatch; community [P11])".into(),
            Symptom::SelectorsRefused => "system log event ike-nego-p2-proxy-id-bad: the peer's proxy-ID does not match (event name unconfirmed)".into(),
            Symptom::DeadPeer if v1 => format!("IKE phase-1 SA deleted: DPD found peer {peer} dead (PAN-OS-style)"),
            Symptom::DeadPeer => format!("IKEv2 IKE SA deleted after the liveness check got no answer from {peer}; IKE_SA_INIT starts again (PAN-OS-style, pan-os-ipsec.md §3.1 [P12])"),
            Symptom::NotRouted => format!(
                "`show routing route type static` has no route into {} for the destination; `show vpn flow tunnel-id {}` shows encap 0",
                self.names.tunnel_interface, self.names.tunnel_id
            ),
            Symptom::NothingSent => format!("`show vpn ike-sa gateway {}` lists no SA, and ikemgr.log (`less mp-log ikemgr.log`) shows no negotiation at all", self.names.gateway),
            Symptom::BgpNoSession => "`show routing protocol bgp peer`: status Active or Idle, not Established".into(),
            Symptom::BgpNoRoutes => "`show routing protocol bgp peer`: Established, prefixes received 0; `show routing route type bgp` lists none from Azure".into(),
            Symptom::Blocked => format!(
                "traffic log (Monitor > Traffic): deny by interzone-default, or no session at all; `show vpn flow tunnel-id {}` shows encap without decap (or the reverse)",
                self.names.tunnel_id
            ),
        };
        Some(line)
    }

    fn check(&self) -> String {
        let (gw, tunnel) = (self.gateway(), self.tunnel());
        format!("show vpn ike-sa gateway {gw}; test vpn ike-sa gateway {gw}; show vpn ipsec-sa tunnel {tunnel}; less mp-log ikemgr.log")
    }
}
