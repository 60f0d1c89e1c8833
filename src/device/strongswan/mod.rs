//! A plain strongSwan gateway as the device under test: its configuration is swanctl.conf's
//! `connections` and `secrets`, written in the lab file (`strongswan:`), plus the lab's
//! switches for behaviour a firewall adds around its IKE daemon (exact proxy-ID matching,
//! a filter on traffic from the tunnel), and optionally a BGP speaker over the tunnel written
//! in FRR's terms (`frr:`).
//!
//! Its intent is its configuration with the lab's clock applied; its vocabulary is
//! swanctl.conf's keys, FRR's commands and charon's log lines.

use std::any::Any;

use crate::bgp::{AddressOn, BgpIntent, Neighbor, Policy};
use crate::device::{Device, Remedy, RunContext, Symptom, Vocabulary};
use crate::ike::intent::{scaled, Initiation, IpsecIntent, SelectorMatch, StartAction};
use crate::ike::proposal::Proposal;

/// A strongSwan gateway: swanctl.conf as written in the lab, in real time, and the FRR beside
/// it when the lab gives it one.
#[derive(Debug, Clone)]
pub struct StrongswanDevice {
    pub config: IpsecIntent,
    /// The BGP speaker of the lab's `frr:` section.
    pub bgp: Option<BgpIntent>,
}

impl StrongswanDevice {
    pub fn new(config: IpsecIntent) -> StrongswanDevice {
        StrongswanDevice { config, bgp: None }
    }

    /// The device with a BGP speaker over its tunnel.
    pub fn with_bgp(self, bgp: BgpIntent) -> StrongswanDevice {
        StrongswanDevice { bgp: Some(bgp), ..self }
    }

    /// A one-connection device for unit tests of code that needs any device.
    #[cfg(test)]
    pub fn example() -> StrongswanDevice {
        use crate::ike::intent::{Auth, Child, Connection, IkeVersion};
        let child = Child::new("net", vec!["10.10.0.0/16".parse().unwrap()], vec!["10.20.0.0/16".parse().unwrap()], Vec::new());
        StrongswanDevice::new(IpsecIntent {
            connections: vec![Connection {
                name: "gw".into(),
                version: IkeVersion::V2,
                local_addrs: Vec::new(),
                remote_addrs: vec!["198.51.100.20".into()],
                proposals: Vec::new(),
                dpd_delay_s: None,
                dpd_timeout_s: None,
                mobike: None,
                encap: None,
                rekey_time_s: None,
                reauth_time_s: None,
                over_time_s: None,
                local: Auth::psk(None),
                remote: Auth::psk(None),
                children: vec![child],
                selector_match: SelectorMatch::Narrowing,
                fallback_child: None,
                version_fallback: None,
                start_every_child: false,
            }],
            ..IpsecIntent::default()
        })
    }

    /// `connections.<c>` and `connections.<c>.children.<ch>` of the child a run starts.
    fn keys(&self) -> (String, String) {
        match self.config.first_child() {
            Some((c, ch)) => (format!("connections.{}", c.name), format!("connections.{}.children.{}", c.name, ch.name)),
            None => ("connections.<name>".into(), "connections.<name>.children.<child>".into()),
        }
    }

    /// The neighbor as an FRR command names it: its address when the speaker has exactly one.
    fn peer(&self) -> String {
        match self.bgp.as_ref().map(|b| b.neighbors.as_slice()) {
            Some([n]) => n.address.to_string(),
            _ => "<peer>".into(),
        }
    }
}

/// The lab's `policy: permit-all`: a route map (`permit 10`, no match clause narrowing it)
/// that lets every prefix through.
pub fn permit_all() -> Policy {
    Policy::Filter { rules: Vec::new(), otherwise_permit: true }
}

/// The BGP speaker in FRR's words, on one line: `FRR AS 65010, router-id ..., neighbor ...`.
fn bgp_summary(b: &BgpIntent) -> String {
    let mut head = vec![format!("FRR AS {}", b.asn), format!("router-id {}", b.router_id)];
    for (on, address) in &b.addresses {
        let interface = match on {
            AddressOn::Loopback => "lo",
            AddressOn::Tunnel => "tunnel",
        };
        head.push(format!("{interface} {address}"));
    }
    if !b.ebgp_requires_policy {
        head.push("no bgp ebgp-requires-policy".into());
    }
    if let Some(t) = b.timers {
        head.push(format!("timers {} {}", t.keepalive_s, t.hold_s));
    }
    let neighbors: Vec<String> = b.neighbors.iter().map(|n| neighbor_summary(b, n)).collect();
    let networks = if b.networks.is_empty() { "none".to_string() } else { nets(&b.networks) };
    format!("{}: {}; networks {networks}", head.join(", "), neighbors.join("; "))
}

fn neighbor_summary(b: &BgpIntent, n: &Neighbor) -> String {
    let mut parts = Vec::new();
    if let Some(s) = n.update_source {
        parts.push(format!("update-source {s}"));
    }
    if let Some(ttl) = n.ebgp_multihop {
        parts.push(format!("ebgp-multihop {ttl}"));
    }
    if n.passive {
        parts.push("passive".into());
    }
    if let Some(t) = n.timers {
        parts.push(format!("timers {} {}", t.keepalive_s, t.hold_s));
    }
    if let Some(m) = n.max_prefix {
        parts.push(format!("maximum-prefix {m}"));
    }
    parts.push(match (&n.import, &n.export) {
        (Policy::None, Policy::None) if !b.exchanges(n, true) => "no policy (exchanges nothing: ebgp-requires-policy)".into(),
        (Policy::None, Policy::None) => "no policy".into(),
        (i, e) if *i == permit_all() && *e == permit_all() => "permit-all".into(),
        _ => "filtered".into(),
    });
    format!("neighbor {} AS {} ({})", n.address, n.remote_asn, parts.join(", "))
}

impl Device for StrongswanDevice {
    fn family(&self) -> &'static str {
        "strongswan"
    }

    fn under_test(&self) -> bool {
        true
    }

    fn initiation(&self) -> Initiation {
        self.config.initiation
    }

    fn starts_unprompted(&self) -> bool {
        self.config.connections.iter().flat_map(|c| &c.children).any(|ch| ch.start_action == Some(StartAction::Start))
    }

    /// The configuration with every timer compressed by the lab's clock.
    fn intent(&self, run: RunContext) -> IpsecIntent {
        let mut intent = self.config.clone();
        if run.time_scale == 1.0 {
            return intent;
        }
        let scale = |d: &mut Option<u64>| {
            if let Some(s) = d {
                *s = scaled(*s, run.time_scale);
            }
        };
        for c in &mut intent.connections {
            scale(&mut c.dpd_delay_s);
            scale(&mut c.dpd_timeout_s);
            scale(&mut c.rekey_time_s);
            for ch in &mut c.children {
                // charon's default hard lifetime is 110 % of the rekey time; at a compressed
                // clock whole seconds make the two the same second, and the CHILD SA expires
                // instead of being rekeyed. So the default is made explicit, and kept at least a
                // second later.
                if ch.life_time_s.is_none() {
                    ch.life_time_s = ch.rekey_time_s.map(|r| r + r / 10);
                }
                scale(&mut ch.rekey_time_s);
                scale(&mut ch.life_time_s);
                if let (Some(r), Some(l)) = (ch.rekey_time_s, ch.life_time_s) {
                    if l <= r {
                        ch.life_time_s = Some(r + 1);
                    }
                }
            }
        }
        intent
    }

    fn summary(&self, intent: &IpsecIntent) -> Vec<String> {
        let mut lines: Vec<String> = intent
            .connections
            .iter()
            .map(|c| {
                let children: Vec<String> = c.children.iter().map(|ch| format!("{} {}", ch.name, ch.selectors())).collect();
                let exact = if c.selector_match == SelectorMatch::Exact { ", exact selectors only" } else { "" };
                format!("{} {} -> {}: {}{exact}", c.name, c.version.name(), c.remote_addrs.join(","), children.join("; "))
            })
            .collect();
        lines.extend(self.bgp.as_ref().map(bgp_summary));
        lines
    }

    fn bgp(&self) -> Option<BgpIntent> {
        self.bgp.clone()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn clone_box(&self) -> Box<dyn Device> {
        Box::new(self.clone())
    }
}

impl Vocabulary for StrongswanDevice {
    fn name(&self) -> &'static str {
        "strongSwan"
    }

    fn proposals(&self, list: &[Proposal]) -> String {
        if list.is_empty() || list.iter().all(Proposal::is_defaults) {
            return "strongSwan 5.9's default proposals (`default`: AES-CBC/GCM 128-256 with SHA-2; for IKE DH groups 19, 20, 21, 31, 14 and more, not DH group 2; for ESP no PFS)".into();
        }
        list.iter().map(|p| self.proposal(p)).collect::<Vec<_>>().join(", ")
    }

    fn remedy(&self, remedy: &Remedy) -> String {
        let (conn, child) = self.keys();
        let lab = "in the lab file: nodes.<firewall>";
        match remedy {
            Remedy::IkeVersion(v) => format!("swanctl.conf {conn}.version = {} ({})", v.number(), v.name()),
            Remedy::IkeProposals(list) => format!("swanctl.conf {conn}.proposals: add one the peer accepts, e.g. {}", first_few(list)),
            Remedy::EspProposals(list) => format!("swanctl.conf {child}.esp_proposals: add one the peer accepts, e.g. {}", first_few(list)),
            Remedy::PfsGroup(Some(g)) => format!("swanctl.conf {child}.esp_proposals: with PFS {g}, e.g. aes256-sha256-{}", g.keyword()),
            Remedy::PfsGroup(None) => format!("swanctl.conf {child}.esp_proposals: without a DH group (no PFS), e.g. aes256-sha256"),
            Remedy::ChildLifetimeBelow(s) => {
                format!("swanctl.conf {child}.rekey_time below {s}s (e.g. {}s), so that strongSwan always starts the rekey", (s * 2 / 15).max(60))
            }
            Remedy::Selectors { local, remote } => format!("swanctl.conf {child}.local_ts = {}, remote_ts = {}", nets(local), nets(remote)),
            Remedy::RetypePresharedKey => {
                "swanctl.conf secrets.ike-<name>.secret: type the key again by hand; strongSwan uses it byte for byte, a trailing space or newline included"
                    .into()
            }
            Remedy::SamePresharedKey => "swanctl.conf secrets.ike-<name>.secret: the same key as the peer, byte for byte".into(),
            Remedy::DeadPeerDetection => {
                format!("swanctl.conf {conn}.dpd_delay = 10s and {child}.dpd_action = restart, so a dead tunnel is noticed and rebuilt")
            }
            Remedy::NatTraversal => {
                format!("swanctl.conf {conn}.encap = yes forces UDP encapsulation; NAT-T needs UDP 4500 open between the sites (charon floats to 4500 when it detects NAT)")
            }
            Remedy::TunnelRoute(p) => {
                format!("a route for {p} into the tunnel: `ip route add {p} dev <tunnel interface>` ({lab}.routes: `- {{ to: {p}, via: tunnel }}`)")
            }
            Remedy::AllowForward { into_tunnel: false, src, dst } => {
                format!("a filter rule passing {src} -> {dst} from the tunnel (nftables on the tunnel interface; {lab}.tunnel_rules: `- {{ from: {src}, to: {dst} }}`)")
            }
            Remedy::AllowForward { into_tunnel: true, src, dst } => {
                format!("a filter rule passing {src} -> {dst} into the tunnel (nftables: `nft add rule inet filter forward oifname <tunnel interface> ip saddr {src} ip daddr {dst} accept`)")
            }
            Remedy::TunnelMtu { mtu, mss } => {
                format!(
                    "MTU {mtu} on the tunnel interface and TCP MSS clamping: `nft add rule inet filter forward tcp flags syn tcp option maxseg size set {mss}`"
                )
            }
            Remedy::AllowInitiation => format!("swanctl.conf {child}.start_action = start, or `swanctl --initiate --child <child>`"),
            Remedy::AllowResponding => "strongSwan answers any peer its connections match: check remote_addrs and the identities".into(),
            Remedy::PeerAddress { name, address } => match name {
                Some(n) => format!("swanctl.conf {conn}.remote_addrs = {n} (charon resolves it when it connects), or the new address {address}"),
                None => format!("swanctl.conf {conn}.remote_addrs = {address}"),
            },
            Remedy::DynamicDns { name, address } => format!("the site's dynamic-DNS client (router or firewall) must update {name} to {address}"),
            Remedy::BgpLocalAsn(n) => format!("FRR: `router bgp {n}` (the lab's frr: asn: {n})"),
            Remedy::BgpPeerAsn(n) => format!("FRR: `neighbor {} remote-as {n}` (the lab's frr.neighbors: remote_as: {n})", self.peer()),
            Remedy::BgpHostRoute(a) => format!("a route to {a}/32 into the tunnel (the lab's routes: {{ to: {a}/32, via: tunnel }}; on a host: ip route add {a}/32 dev ipsec0)"),
            Remedy::BgpActive => format!("FRR: `no neighbor {} passive`: this side must open the session (the lab's frr.neighbors: passive: false)", self.peer()),
            Remedy::BgpPolicy => format!(
                "FRR: `neighbor {} route-map <map> in` and `... out` (FRR 7.4+ exchanges nothing on eBGP without a policy; the lab's frr.neighbors: policy: permit-all), or `no bgp ebgp-requires-policy`",
                self.peer()
            ),
            Remedy::BgpWithdraw(list) => format!("FRR: `no network {}` under address-family ipv4 unicast, or an outbound prefix list that denies it", nets(list)),
            Remedy::BgpAtMost(n) => format!("FRR: advertise at most {n} prefixes (aggregate-address, or an outbound prefix list)"),
            Remedy::BgpHoldTime(h) => format!("FRR: `neighbor {} timers {} {h}` (or no timers: 60/180)", self.peer(), h / 3),
            Remedy::BgpInstallRoutes => "FRR: no `table-map` that denies routes under address-family ipv4 unicast".into(),
            Remedy::Nothing(why) => format!("nothing to change on strongSwan: {why}"),
        }
    }

    fn log_line(&self, symptom: Symptom) -> Option<String> {
        let line = match symptom {
            Symptom::PeerNotResponding => "charon: retransmit 5 of request with message ID 0 ... giving up after 5 retransmits",
            Symptom::Phase1NoProposal => "charon: received NO_PROPOSAL_CHOSEN notify error (as initiator) / no acceptable proposal found (as responder)",
            Symptom::Phase2NoProposal => "charon: received NO_PROPOSAL_CHOSEN notify, no CHILD_SA built",
            Symptom::AuthenticationFailed => "charon: received AUTHENTICATION_FAILED notify error / tried 1 shared key ... but MAC mismatched",
            Symptom::RekeyRefused => "charon: received NO_PROPOSAL_CHOSEN notify, rekeying CHILD_SA failed",
            Symptom::SelectorsRefused => "charon: received NO_PROPOSAL_CHOSEN / TS_UNACCEPTABLE notify, no CHILD_SA built",
            Symptom::DeadPeer => "charon: giving up after 5 retransmits ... DPD: closing CHILD_SA",
            Symptom::NotRouted | Symptom::Blocked => return None,
            Symptom::NothingSent => "charon: no `initiating IKE_SA` line at all; swanctl --list-sas lists nothing",
            Symptom::BgpNoSession => "FRR: `show bgp summary` shows the neighbor Active or Idle; bgpd.log: %NOTIFICATION or no connection",
            Symptom::BgpNoRoutes => "FRR: `show bgp summary` shows (Policy) or 0 prefixes received from the neighbor",
        };
        Some(line.to_string())
    }

    fn check(&self) -> String {
        let ipsec = "swanctl --list-sas (bytes in/out per CHILD SA), swanctl --log";
        match &self.bgp {
            Some(_) => format!("{ipsec}; FRR: vtysh -c 'show bgp summary' (session state, prefixes received) and vtysh -c 'show ip bgp'"),
            None => ipsec.into(),
        }
    }
}

fn nets(list: &[ipnet::Ipv4Net]) -> String {
    list.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

/// The first three proposals of a list, and how many more there are.
fn first_few(list: &[Proposal]) -> String {
    let shown: Vec<String> = list.iter().take(3).map(ToString::to_string).collect();
    match list.len() {
        n if n > 3 => format!("{} (or one of {} more)", shown.join(", "), n - 3),
        _ => shown.join(", "),
    }
}

/// A start action keyword as a lab file writes it.
pub fn start_action(word: &str) -> Option<StartAction> {
    match word {
        "none" => Some(StartAction::None),
        "start" => Some(StartAction::Start),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_one_neighbor() -> StrongswanDevice {
        StrongswanDevice::example().with_bgp(BgpIntent {
            asn: 65010,
            router_id: "10.10.0.1".parse().unwrap(),
            addresses: Vec::new(),
            neighbors: vec![Neighbor {
                address: "10.20.255.30".parse().unwrap(),
                remote_asn: 65515,
                passive: false,
                update_source: None,
                ebgp_multihop: Some(2),
                timers: None,
                max_prefix: None,
                max_prefix_restart_min: None,
                import: Policy::None,
                export: Policy::None,
            }],
            networks: vec!["10.10.0.0/16".parse().unwrap()],
            ebgp_requires_policy: true,
            timers: None,
            minimum_hold_s: None,
            install_routes: true,
        })
    }

    /// BGP fixes name the one neighbor and the lab key that sets it; without a speaker they
    /// keep the placeholder.
    #[test]
    fn bgp_remedies_name_the_neighbor_and_the_lab_key() {
        let d = with_one_neighbor();
        assert_eq!(d.remedy(&Remedy::BgpPeerAsn(65515)), "FRR: `neighbor 10.20.255.30 remote-as 65515` (the lab's frr.neighbors: remote_as: 65515)");
        assert!(d.remedy(&Remedy::BgpPolicy).contains("policy: permit-all"));
        assert!(d.check().contains("vtysh -c 'show bgp summary'"));
        let plain = StrongswanDevice::example();
        assert!(plain.remedy(&Remedy::BgpPeerAsn(65515)).contains("neighbor <peer> remote-as"));
        assert!(!plain.check().contains("vtysh"));
        assert_eq!(plain.bgp(), None);
    }

    #[test]
    fn summary_lists_the_speaker_in_one_line() {
        let d = with_one_neighbor();
        let lines = d.summary(&d.config);
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[1],
            "FRR AS 65010, router-id 10.10.0.1: neighbor 10.20.255.30 AS 65515 (ebgp-multihop 2, no policy (exchanges nothing: ebgp-requires-policy)); networks 10.10.0.0/16"
        );
    }
}
