//! A Palo Alto Networks firewall (PAN-OS) read from its own configuration: a `set` command file
//! or an XML export (running-config.xml, `show config running`, a Panorama template).
//!
//! The file becomes one tree whatever its format (`set.rs`, `xml.rs`, `tree.rs`, with the
//! `set` grammar in `schema.rs`), the tree a typed model (`config.rs`), and the model the device
//! (`build.rs`): the tunnel the lab runs (`tunnel:` when there are several), its IKE gateway,
//! its crypto profiles (the predefined ones of `defaults.rs` when the file does not hold them),
//! its proxy-IDs, the addresses mapped onto the lab's interfaces (`addresses.rs`), the zones and
//! security rules as the lab's forward filter (`policy.rs`), the routes into the tunnel, the
//! virtual router's BGP speaker (`bgp.rs`), and an import report of every element used,
//! defaulted or ignored (`report.rs` says why). Its vocabulary is PAN-OS's `set` commands and
//! web-interface paths, its system-log lines and operational commands (`vocabulary.rs`, with the
//! algorithm names of `names.rs`); its status view is `show vpn ike-sa`, `show vpn ipsec-sa` and
//! `show vpn flow` (`status.rs`).
//!
//! Facts come from the reference sheets pan-os-ipsec.md and device-import-notes.md (their
//! source tags, `[P3]` etc., are quoted where a behaviour rests on them). Where sources disagree
//! (IKEv2 liveness on by default or not; an IPsec profile without `dh-group`), the choice is
//! named in [`defaults::Choices`] and the report says which value was used. The pre-shared key
//! never leaves the intent's secret: not in an error, the report, the summary or `Debug`.

mod addresses;
mod bgp;
mod bgp_status;
mod build;
mod config;
mod crypto;
pub mod defaults;
mod gateway;
mod names;
mod network;
mod policy;
mod read;
mod report;
mod schema;
mod set;
mod status;
mod tree;
mod vocabulary;
mod xml;

#[cfg(test)]
mod bgp_tests;
#[cfg(test)]
mod tests;

use std::any::Any;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use self::config::{Psk, VersionSetting};
use self::defaults::Choices;
use super::{Device, DeviceError, DeviceSource, ImportReport, RunContext, SiteHints, StatusView};
use crate::bgp::BgpIntent;
use crate::evidence::sa::IkeSa;
use crate::ike::dh::DhGroup;
use crate::ike::intent::{
    scaled, Auth, Child, Connection, DpdAction, ForwardPolicy, IkeVersion, Initiation, IpsecIntent, Listen, Secret, SelectorMatch, StartAction,
};
use crate::ike::proposal::Proposal;

/// The names of this configuration's objects, as fixes and views use them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub gateway: String,
    /// 1-based position among the gateways (PAN-OS's `GwID` in `show vpn`).
    pub gateway_id: usize,
    pub tunnel: String,
    /// 1-based position among the tunnels (`TnID`).
    pub tunnel_id: usize,
    pub ike_profile: String,
    pub ipsec_profile: String,
    pub tunnel_interface: String,
    pub tunnel_zone: Option<String>,
    pub virtual_router: Option<String>,
    /// The gateway's local interface (`ethernet1/1`).
    pub local_interface: Option<String>,
    /// Every zone with the networks of its interfaces.
    pub zones: Vec<(String, Vec<Ipv4Net>)>,
    pub version: VersionSetting,
    /// The tunnel has proxy-IDs (else it proposes 0.0.0.0/0).
    pub proxy_ids: bool,
    /// The tunnel monitor is on.
    pub monitor: bool,
    /// Where the BGP speaker's first peer is configured, when the firewall runs BGP.
    pub bgp: Option<bgp::BgpNames>,
}

/// One CHILD SA the tunnel negotiates: a proxy-ID, or the 0.0.0.0/0 pair without one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildPlan {
    /// `tunnel:proxy-id`, as PAN-OS names it in `show vpn`, or the tunnel's name.
    pub name: String,
    pub proxy_id: Option<String>,
    pub local: Ipv4Net,
    pub remote: Ipv4Net,
}

/// The peer's address as the gateway names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    Ip(Ipv4Addr),
    Fqdn(String),
    Dynamic,
}

/// DPD as charon runs it, from IKEv1 DPD, the IKEv2 liveness check or the tunnel monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DpdPlan {
    pub delay_s: u64,
    /// IKEv1 only.
    pub timeout_s: Option<u64>,
    pub action: DpdAction,
    /// What PAN-OS setting it stands for.
    pub what: &'static str,
}

/// The IKEv1 side of an `ikev2-preferred` gateway: its own IKE profile and DPD.
#[derive(Debug, Clone)]
pub struct Ikev1Fallback {
    pub ike_proposals: Vec<Proposal>,
    pub ike_lifetime_s: u64,
    pub dpd: Option<DpdPlan>,
}

/// A PAN-OS firewall: the tunnel the lab runs, as read from the configuration file.
#[derive(Debug, Clone)]
pub struct PanosDevice {
    pub names: Names,
    pub version: IkeVersion,
    pub ike_proposals: Vec<Proposal>,
    pub esp_proposals: Vec<Proposal>,
    /// The IPsec profile's PFS group (every ESP proposal carries it).
    pub pfs: Option<DhGroup>,
    pub ike_lifetime_s: u64,
    /// IKEv2 reauthentication (authentication-multiple × lifetime).
    pub reauth_s: Option<u64>,
    pub child_lifetime_s: u64,
    pub child_lifesize_kb: Option<u64>,
    pub children: Vec<ChildPlan>,
    pub selector_match: SelectorMatch,
    /// The lab address of the gateway's local address (`None`: any).
    pub local_addr: Option<Ipv4Addr>,
    pub local_id: Option<String>,
    pub peer: Peer,
    pub peer_id: Option<String>,
    psk: Psk,
    pub dpd: Option<DpdPlan>,
    /// `ikev2-preferred`: the IKEv1 connection tried when IKEv2 gets no IKE SA.
    pub ikev1_fallback: Option<Ikev1Fallback>,
    pub initiation: Initiation,
    pub forward: ForwardPolicy,
    pub routes: Vec<Ipv4Net>,
    /// The virtual router's BGP speaker, when it runs one over the tunnel.
    pub bgp: Option<BgpIntent>,
    pub site: SiteHints,
    pub report: ImportReport,
    pub notes: Vec<String>,
    pub choices: Choices,
}

/// Reads a PAN-OS device from its configuration file (format detected from the text).
pub fn load(source: &DeviceSource) -> Result<PanosDevice, Vec<DeviceError>> {
    load_with(source, Choices::from_pairs(source.choices))
}

/// [`load`] with other values for the defaults on which sources disagree.
pub fn load_with(source: &DeviceSource, choices: Choices) -> Result<PanosDevice, Vec<DeviceError>> {
    // A byte-order mark (files saved by Windows editors) is not part of either format.
    let text = source.text.strip_prefix('\u{feff}').unwrap_or(source.text);
    let parsed = if text.trim_start().starts_with('<') { xml::parse(text)? } else { set::parse(text)? };
    build::build(parsed, source, choices)
}

/// The BGP speaker in one line: `BGP AS 65010 (router-id ...): peer 169.254.21.1 AS 65515
/// from 169.254.21.2, ...; originates 10.10.0.0/16`.
fn bgp_summary(b: &BgpIntent, vr: Option<&str>) -> String {
    let peers: Vec<String> = b
        .neighbors
        .iter()
        .map(|n| {
            let from = n.update_source.map(|s| format!(" from {s}")).unwrap_or_default();
            let passive = if n.passive { ", passive" } else { "" };
            let t = b.timers_for(n);
            format!("peer {} AS {}{from}{passive}, timers {}/{}", n.address, n.remote_asn, t.keepalive_s, t.hold_s)
        })
        .collect();
    let originates = if b.networks.is_empty() { "nothing".to_string() } else { super::prefix_list(&b.networks) };
    let vr = vr.map(|v| format!(" in virtual router {v}")).unwrap_or_default();
    format!("BGP AS {}{vr} (router-id {}): {}; originates {originates}", b.asn, b.router_id, peers.join("; "))
}

/// What differs between the connections of one gateway: the IKE version and what goes with it.
#[derive(Clone, Copy)]
struct Crypto<'a> {
    version: IkeVersion,
    proposals: &'a [Proposal],
    lifetime_s: u64,
    dpd: Option<DpdPlan>,
    selector_match: SelectorMatch,
}

impl PanosDevice {
    /// The name of the IKEv1 fallback's connection (`show vpn` names both by the gateway).
    pub fn fallback_name(&self) -> String {
        format!("{}-ikev1", self.names.gateway)
    }

    /// The intent's connections, with the lab's clock applied: the gateway's, and for
    /// `ikev2-preferred` its IKEv1 fallback (same children, its own profile and DPD, proxy-IDs
    /// matched exactly).
    fn connections(&self, scale: f64) -> Vec<Connection> {
        let main = Crypto {
            version: self.version,
            proposals: &self.ike_proposals,
            lifetime_s: self.ike_lifetime_s,
            dpd: self.dpd,
            selector_match: self.selector_match,
        };
        let mut first = self.connection(scale, self.names.gateway.clone(), main);
        let Some(f) = &self.ikev1_fallback else { return vec![first] };
        first.version_fallback = Some(self.fallback_name());
        let v1 =
            Crypto { version: IkeVersion::V1, proposals: &f.ike_proposals, lifetime_s: f.ike_lifetime_s, dpd: f.dpd, selector_match: SelectorMatch::Exact };
        vec![first, self.connection(scale, self.fallback_name(), v1)]
    }

    /// One connection of the gateway in one IKE version.
    fn connection(&self, scale: f64, name: String, crypto: Crypto) -> Connection {
        let s = |secs: u64| scaled(secs, scale);
        // PAN-OS lets an SA reach its lifetime and then negotiates a new one; charon is told to
        // rekey at the lifetime and to let the old SA expire a tenth later, so that the hard
        // expiry never comes first, even at a compressed clock.
        let rekey = s(self.child_lifetime_s);
        let life = rekey + (rekey / 10).max(1);
        let bytes = self.child_lifesize_kb.map(|kb| kb * 1024);
        let children = self
            .children
            .iter()
            .map(|c| Child {
                rekey_time_s: Some(rekey),
                life_time_s: Some(life),
                // No jitter: a lab's rekeys are reproducible.
                rand_time_s: Some(0),
                rekey_bytes: bytes,
                life_bytes: bytes.map(|b| b + b / 10),
                dpd_action: crypto.dpd.map(|d| d.action),
                start_action: Some(StartAction::None),
                ..Child::new(c.name.clone(), vec![c.local], vec![c.remote], self.esp_proposals.clone())
            })
            .collect();
        let v1 = crypto.version == IkeVersion::V1;
        let dpd_delay_s = crypto.dpd.map(|d| s(d.delay_s));
        Connection {
            name,
            version: crypto.version,
            local_addrs: self.local_addr.map(|a| vec![a.to_string()]).unwrap_or_default(),
            remote_addrs: match &self.peer {
                Peer::Ip(a) => vec![a.to_string()],
                Peer::Fqdn(name) => vec![name.clone()],
                Peer::Dynamic => Vec::new(),
            },
            proposals: crypto.proposals.to_vec(),
            dpd_delay_s,
            // Room for two probes however the clock is compressed.
            dpd_timeout_s: if v1 { crypto.dpd.and_then(|d| d.timeout_s).map(|t| s(t).max(2 * dpd_delay_s.unwrap_or(1))) } else { None },
            // PAN-OS does not do MOBIKE.
            mobike: if v1 { None } else { Some(false) },
            encap: None,
            // IKEv2 rekeys the IKE SA in place at its lifetime; IKEv1 has no such rekey, and a
            // new Phase 1 is negotiated (charon's IKEv1 reauthentication keeps the Quick Mode SAs).
            rekey_time_s: Some(if v1 { 0 } else { s(crypto.lifetime_s) }),
            reauth_time_s: if v1 { Some(s(crypto.lifetime_s)) } else { self.reauth_s.map(s) },
            over_time_s: None,
            local: Auth::psk(self.local_id.clone()),
            remote: Auth::psk(self.peer_id.clone()),
            children,
            selector_match: crypto.selector_match,
            fallback_child: None,
            version_fallback: None,
            // One IPsec SA per proxy-ID, each negotiated when the tunnel comes up.
            start_every_child: true,
        }
    }
}

impl Device for PanosDevice {
    fn family(&self) -> &'static str {
        "pan-os"
    }

    fn under_test(&self) -> bool {
        true
    }

    fn initiation(&self) -> Initiation {
        self.initiation
    }

    fn intent(&self, run: RunContext) -> IpsecIntent {
        let mut ids: Vec<String> = Vec::new();
        match (&self.local_id, self.local_addr) {
            (Some(id), _) => ids.push(id.clone()),
            (None, Some(a)) => ids.push(a.to_string()),
            (None, None) => {}
        }
        match (&self.peer_id, &self.peer) {
            (Some(id), _) => ids.push(id.clone()),
            (None, Peer::Ip(a)) => ids.push(a.to_string()),
            _ => {}
        }
        IpsecIntent {
            connections: self.connections(run.time_scale),
            secrets: vec![Secret { ids, secret: self.psk.0.clone() }],
            initiation: self.initiation,
            forward: Some(self.forward.clone()),
            listen: Listen {
                // A gateway with a static peer answers IKE from that address only ("Couldn't
                // find configuration for IKE phase-1 request", pan-os-ipsec.md §6 [P18]).
                only_from: match &self.peer {
                    Peer::Ip(a) => Some(vec![*a]),
                    _ => None,
                },
                ignore_version: None,
            },
            clock: Vec::new(),
        }
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    fn summary(&self, _intent: &IpsecIntent) -> Vec<String> {
        use crate::device::Vocabulary;
        let n = &self.names;
        let peer = match &self.peer {
            Peer::Ip(a) => a.to_string(),
            Peer::Fqdn(f) => f.clone(),
            Peer::Dynamic => "dynamic".into(),
        };
        let local = match (&n.local_interface, self.local_addr) {
            (Some(i), Some(a)) => format!("{i} {a}"),
            (Some(i), None) => i.clone(),
            (None, Some(a)) => a.to_string(),
            (None, None) => "any address".into(),
        };
        let id = self.local_id.as_ref().map(|i| format!(", local-id {i}")).unwrap_or_default();
        let passive = if self.initiation == Initiation::ResponderOnly { ", responder only" } else { "" };
        let selectors: Vec<String> =
            self.children.iter().map(|c| format!("{} {} === {}", c.proxy_id.as_deref().unwrap_or("(no proxy-ID)"), c.local, c.remote)).collect();
        let exact = if self.selector_match == SelectorMatch::Exact { ", matched exactly (IKEv1)" } else { "" };
        let mut lines = vec![
            format!("gateway {} {} -> {peer} from {local}{id}{passive}", n.gateway, n.version.keyword()),
            format!("IKE crypto {}: {}, lifetime {} s", n.ike_profile, self.proposals(&self.ike_proposals), self.ike_lifetime_s),
            format!("IPsec crypto {}: {}, lifetime {} s", n.ipsec_profile, self.proposals(&self.esp_proposals), self.child_lifetime_s),
            format!("tunnel {} on {}: {}{exact}", n.tunnel, n.tunnel_interface, selectors.join("; ")),
        ];
        if !self.routes.is_empty() {
            let routes: Vec<String> = self.routes.iter().map(ToString::to_string).collect();
            lines.push(format!("routes into {}: {}", n.tunnel_interface, routes.join(", ")));
        }
        if let Some(d) = self.dpd {
            lines.push(format!("{} every {} s", d.what, d.delay_s));
        }
        if let Some(f) = &self.ikev1_fallback {
            let dpd = f.dpd.map(|d| format!(", {} every {} s", d.what, d.delay_s)).unwrap_or_default();
            lines.push(format!(
                "IKEv1 fallback (ikev2-preferred): {}, lifetime {} s{dpd}, proxy-IDs matched exactly",
                self.proposals(&f.ike_proposals),
                f.ike_lifetime_s
            ));
        }
        if let Some(b) = &self.bgp {
            lines.push(bgp_summary(b, n.virtual_router.as_deref()));
        }
        let named = self.forward.rules.iter().filter(|r| r.name != "intrazone-default").count();
        lines.push(format!(
            "security policy: {named} rule(s), then intrazone-default, interzone-default {}",
            if self.forward.otherwise == crate::ike::intent::Action::Accept { "allow" } else { "deny" }
        ));
        lines
    }

    fn import_report(&self) -> Option<&ImportReport> {
        Some(&self.report)
    }

    fn tunnel_routes(&self) -> Vec<Ipv4Net> {
        self.routes.clone()
    }

    fn bgp(&self) -> Option<BgpIntent> {
        self.bgp.clone()
    }

    fn site(&self) -> SiteHints {
        self.site.clone()
    }

    fn bgp_view(&self, snapshot: &crate::bgp::BgpSnapshot) -> Vec<crate::device::ViewTable> {
        bgp_status::tables(self.names.bgp.as_ref(), self.bgp.as_ref(), snapshot)
    }

    fn status_view(&self, node: &str, intent: &IpsecIntent, sas: &[IkeSa]) -> Option<StatusView> {
        Some(status::view(self, node, intent, sas))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn clone_box(&self) -> Box<dyn Device> {
        Box::new(self.clone())
    }
}
