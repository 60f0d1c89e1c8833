//! Devices: every IPsec node of a lab is a device with behaviour; strongSwan is only the driver
//! that runs it.
//!
//! A device owns three things:
//! - its **intent** ([`IpsecIntent`]): what it does in vendor-neutral IKE terms, built from its
//!   own configuration and the run plan ([`RunContext`]: whether it starts the first exchange,
//!   the lab's clock), including its filters and its behaviours over time (Azure's FQDN
//!   re-resolution, its IKEv1 rekey drop), which the run carries out without knowing whose they
//!   are;
//! - its **vocabulary** ([`Vocabulary`]): how it names algorithms, where an engineer changes a
//!   setting on it ([`Remedy`]), the log line it writes for a symptom, the command that shows
//!   its state. Diagnoses are data rendered through it, so a strongSwan device gets swanctl.conf
//!   fixes and Azure gets portal fixes;
//! - what it **noted** while reading its configuration (imports, defaults), for reports.
//!
//! Families: `azure` (the simulated gateway), `strongswan` (a plain strongSwan gateway written
//! in the lab file), `pan-os` and `pfsense` (read from the firewall's own configuration file,
//! with an [`ImportReport`] of what was used, defaulted and ignored). A new family is a new
//! folder here and one arm in [`load`]; nothing else names a vendor. Imports point down only:
//! to `ike/` and `evidence/`.

pub mod azure;
pub mod lines;
pub mod panos;
pub mod pfsense;
pub mod strongswan;

use std::any::Any;
use std::fmt;
use std::net::Ipv4Addr;
use std::path::Path;

use ipnet::Ipv4Net;
use serde::Serialize;

use crate::bgp::BgpIntent;
use crate::evidence::sa::IkeSa;
use crate::ike::dh::DhGroup;
use crate::ike::intent::{IkeVersion, Initiation, IpsecIntent};
use crate::ike::proposal::{self, Proposal};

/// What a device learns from the run plan before it builds its intent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunContext {
    /// The run plan has this node start the first exchange.
    pub starts_first: bool,
    /// Lab seconds per real second for the device's timers (1 = real time).
    pub time_scale: f64,
}

/// An IPsec node's behaviour. Object-safe: a lab holds its devices as `Box<dyn Device>`.
pub trait Device: fmt::Debug + Send + Sync + Vocabulary {
    /// The family's name as lab files and reports spell it: `azure`, `strongswan`.
    fn family(&self) -> &'static str;
    /// Whether this node is the device under test (the firewall), not a simulated peer.
    fn under_test(&self) -> bool;
    /// Who may start exchanges, known before the run plan is (the plan is checked against it).
    fn initiation(&self) -> Initiation;
    /// Whether the device starts the tunnel on its own, unprompted by traffic or by the run
    /// plan (Azure in Default or InitiatorOnly mode, pfSense's "Initiate at start", a strongSwan
    /// child with `start_action = start`): who starts when the lab says `initiator: none`.
    fn starts_unprompted(&self) -> bool {
        false
    }
    /// What the device does in this run, ready for the driver.
    fn intent(&self, run: RunContext) -> IpsecIntent;
    /// What was ignored or assumed while reading the device's configuration.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
    /// The device's configuration in its own words, one line each, for status tables.
    fn summary(&self, intent: &IpsecIntent) -> Vec<String>;
    /// What the importer did with each element of the device's configuration file (families
    /// read from a file; `None` for devices written in the lab file).
    fn import_report(&self) -> Option<&ImportReport> {
        None
    }
    /// Prefixes the configuration routes into the tunnel (PAN-OS static routes to a tunnel
    /// interface, pfSense phase 2 remote networks); added to the node's routes.
    fn tunnel_routes(&self) -> Vec<Ipv4Net> {
        Vec::new()
    }
    /// What the device's BGP speaker does, when it runs BGP over the tunnel.
    fn bgp(&self) -> Option<BgpIntent> {
        None
    }
    /// What the configuration says of the network around the device (`vpnlab repro` builds
    /// a lab from it).
    fn site(&self) -> SiteHints {
        SiteHints::default()
    }
    /// The device's own status view from live SAs (`vpnlab status --view NAME`), if it has one:
    /// `(view name, view)`, e.g. PAN-OS's `show vpn ike-sa`.
    fn status_view(&self, _node: &str, _intent: &IpsecIntent, _sas: &[IkeSa]) -> Option<StatusView> {
        None
    }
    /// The device's own BGP status pages from its live speaker (`vpnlab status --view NAME`
    /// appends them), if it has any: Azure's BGP peers blade, pfSense's Status > FRR > BGP.
    fn bgp_view(&self, _snapshot: &crate::bgp::BgpSnapshot) -> Vec<ViewTable> {
        Vec::new()
    }
    /// For code that needs one family's own model (Azure's explain, its status blade).
    fn as_any(&self) -> &dyn Any;
    fn clone_box(&self) -> Box<dyn Device>;
}

impl Clone for Box<dyn Device> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// The families a lab's `device:` may name, with what each reads.
pub const FAMILIES: &[(&str, &str)] = &[
    ("strongswan", "a strongSwan gateway described in the lab's `strongswan:` section"),
    ("pan-os", "a Palo Alto firewall read from `config:` (a `set` file or an XML export), with `psk_file:`"),
    ("pfsense", "a pfSense firewall read from `config:` (its config.xml)"),
];

/// A default on which a vendor's sources disagree, as a lab can set it (`choices:` on a dut):
/// its name, the values it takes, vpnlab's value, and what the sources say.
#[derive(Debug, Clone, Copy)]
pub struct Choice {
    pub name: &'static str,
    pub values: &'static [&'static str],
    pub default: &'static str,
    pub about: &'static str,
}

/// The choices a family's importer offers (none for a device written in the lab file).
pub fn choices(family: &str) -> &'static [Choice] {
    match family {
        "pan-os" => panos::defaults::CHOICES,
        _ => &[],
    }
}

/// A device configuration file named by a lab node (`device:` and `config:`).
pub struct DeviceSource<'a> {
    /// The file as the lab names it (for messages).
    pub file: &'a Path,
    pub text: &'a str,
    /// Which tunnel (PAN-OS `tunnel:`) or phase 1 (pfSense `phase1:`), when there are several.
    pub select: Option<&'a str>,
    /// The pre-shared key given beside the configuration (PAN-OS stores keys encrypted).
    pub psk: Option<&'a str>,
    /// The node's interfaces in the lab: the name there and the address with its prefix.
    pub interfaces: &'a [(String, Ipv4Net)],
    /// Values for the family's [`choices`] (name, value), checked against its table.
    pub choices: &'a [(String, String)],
}

/// A problem in a device's configuration file: where, what, and what would be valid. Never
/// holds a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceError {
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
    /// The element or `set` path it is about, e.g. `network ike gateway azure-ike-gw` or
    /// `ipsec/phase1[ikeid=1]/encryption`.
    pub element: String,
    pub message: String,
    pub hint: Option<String>,
}

/// What an importer did with each element it met: nothing is dropped silently.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub entries: Vec<ImportEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportEntry {
    /// The element or `set` path.
    pub element: String,
    /// 1-based line in the file, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(flatten)]
    pub status: ImportStatus,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum ImportStatus {
    /// Read and used; what it became, in words.
    Used { value: String },
    /// Not in the file; this value applies, and the default's source.
    Defaulted { value: String, source: String },
    /// In the file and not used, and why.
    Ignored { why: String },
}

impl ImportReport {
    pub fn used(&mut self, element: impl Into<String>, line: Option<usize>, value: impl Into<String>) {
        self.entries.push(ImportEntry { element: element.into(), line, status: ImportStatus::Used { value: value.into() } });
    }
    pub fn defaulted(&mut self, element: impl Into<String>, value: impl Into<String>, source: impl Into<String>) {
        self.entries.push(ImportEntry { element: element.into(), line: None, status: ImportStatus::Defaulted { value: value.into(), source: source.into() } });
    }
    pub fn ignored(&mut self, element: impl Into<String>, line: Option<usize>, why: impl Into<String>) {
        self.entries.push(ImportEntry { element: element.into(), line, status: ImportStatus::Ignored { why: why.into() } });
    }
}

/// What a device's configuration says of the network around it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SiteHints {
    /// The address the IKE gateway uses (its outside interface), with the prefix length.
    pub local_address: Option<Ipv4Net>,
    /// The identity it sends when that is not its address (it sits behind NAT).
    pub local_id: Option<String>,
    /// The peer's (Azure gateway's) address.
    pub peer_address: Option<Ipv4Addr>,
    /// The networks behind the device, each with the device's own address in it.
    pub inside: Vec<Ipv4Net>,
}

/// A device's status view, as data (`report/` renders it): titled tables as the vendor prints
/// them (PAN-OS `show vpn ike-sa`, pfSense Status > IPsec, Azure's connection blade).
#[derive(Debug, Clone, Default, Serialize)]
pub struct StatusView {
    pub title: String,
    pub tables: Vec<ViewTable>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ViewTable {
    /// The command or page it stands for, e.g. `show vpn ike-sa`.
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Reads a device from its configuration file. `family` is one of [`FAMILIES`] that reads a
/// file (the lab's resolution has checked it).
pub fn load(family: &str, source: &DeviceSource) -> Result<Box<dyn Device>, Vec<DeviceError>> {
    match family {
        "pan-os" => panos::load(source).map(|d| Box::new(d) as Box<dyn Device>),
        "pfsense" => pfsense::load(source).map(|d| Box::new(d) as Box<dyn Device>),
        other => Err(vec![DeviceError { line: None, element: String::new(), message: format!("`{other}` is not read from a file"), hint: None }]),
    }
}

/// A change that would fix a cause, named without a vendor and carrying the values to set.
/// Each device's [`Vocabulary::remedy`] says where it is done and how, in its own words.
#[derive(Debug, Clone, PartialEq)]
pub enum Remedy {
    /// Run this IKE version.
    IkeVersion(IkeVersion),
    /// Offer (or accept) one of these IKE proposals.
    IkeProposals(Vec<Proposal>),
    /// Offer (or accept) one of these ESP proposals.
    EspProposals(Vec<Proposal>),
    /// Phase 2 PFS with this group, or none.
    PfsGroup(Option<DhGroup>),
    /// A CHILD SA lifetime below this many seconds, so that this side always rekeys first.
    ChildLifetimeBelow(u64),
    /// These Phase 2 selectors (proxy-IDs).
    Selectors { local: Vec<Ipv4Net>, remote: Vec<Ipv4Net> },
    /// Type the pre-shared key again by hand: it carries invisible whitespace.
    RetypePresharedKey,
    /// The same pre-shared key on both sides, byte for byte.
    SamePresharedKey,
    /// Run dead peer detection (and keep the tunnel from going quiet).
    DeadPeerDetection,
    /// NAT traversal, with UDP 4500 allowed on the way.
    NatTraversal,
    /// A route for this prefix into the tunnel.
    TunnelRoute(Ipv4Net),
    /// A rule that lets `src` -> `dst` pass: from the tunnel (`into_tunnel` false) or into it.
    AllowForward { into_tunnel: bool, src: Ipv4Net, dst: Ipv4Net },
    /// Packets that fit the tunnel: this MTU on the tunnel, TCP MSS clamped to this.
    TunnelMtu { mtu: u16, mss: u16 },
    /// Let this side start the tunnel.
    AllowInitiation,
    /// Let the other side start the tunnel (accept what it starts).
    AllowResponding,
    /// Point this side at the peer's current public address (by name, re-resolved, or the new
    /// address itself).
    PeerAddress { name: Option<String>, address: Ipv4Addr },
    /// This side's own public address changed: the name the peer knows it by must follow
    /// (a dynamic-DNS client on the site's router or firewall).
    DynamicDns { name: String, address: Ipv4Addr },
    /// BGP: this side's own AS number.
    BgpLocalAsn(u32),
    /// BGP: the AS number this side expects of its peer.
    BgpPeerAsn(u32),
    /// BGP: a route to the peer's BGP address into the tunnel.
    BgpHostRoute(Ipv4Addr),
    /// BGP: open the session (the neighbor is not passive).
    BgpActive,
    /// BGP: a policy (route map or prefix list) on the neighbor, both directions.
    BgpPolicy,
    /// BGP: stop advertising these prefixes.
    BgpWithdraw(Vec<Ipv4Net>),
    /// BGP: advertise at most this many prefixes (summarise).
    BgpAtMost(u32),
    /// BGP: a hold time of at least this many seconds (keepalive a third of it).
    BgpHoldTime(u16),
    /// BGP: put the learned routes into the routing table.
    BgpInstallRoutes,
    /// Nothing to change on this side, with why.
    Nothing(&'static str),
}

/// A symptom a device logs in its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symptom {
    /// The peer never answered IKE_SA_INIT / Main Mode.
    PeerNotResponding,
    Phase1NoProposal,
    Phase2NoProposal,
    AuthenticationFailed,
    /// Phase 2 came up and a later rekey was refused.
    RekeyRefused,
    /// The peer's selectors were refused.
    SelectorsRefused,
    DeadPeer,
    /// SAs up, but the traffic never enters the tunnel: no route into it.
    NotRouted,
    /// SAs up, the traffic dropped by the device's filter on its way into or out of the tunnel.
    Blocked,
    /// No IKE packet was ever sent: both ends wait for the other.
    NothingSent,
    /// The tunnel is up, the BGP session is not.
    BgpNoSession,
    /// The BGP session is up, routes are missing.
    BgpNoRoutes,
}

/// A device's words for its settings, its algorithms, its logs and its checks.
pub trait Vocabulary {
    /// The device as an engineer names it in a fix: `strongSwan`, `Azure`.
    fn name(&self) -> &'static str;
    /// A proposal in the device's own algorithm names.
    fn proposal(&self, p: &Proposal) -> String {
        p.to_string()
    }
    /// Where `remedy` is done on this device and what to set, in its own words.
    fn remedy(&self, remedy: &Remedy) -> String;
    /// The line the device logs for a symptom, if it has a recognisable one.
    fn log_line(&self, symptom: Symptom) -> Option<String>;
    /// The command (or view) that shows the state a diagnosis rests on.
    fn check(&self) -> String;

    /// Proposals in the device's names, comma separated; its defaults named, never blank.
    fn proposals(&self, list: &[Proposal]) -> String {
        if list.is_empty() || list.iter().all(Proposal::is_defaults) {
            return format!("{}'s default proposals", self.name());
        }
        list.iter().map(|p| self.proposal(p)).collect::<Vec<_>>().join(", ")
    }
}

/// Prefixes for a sentence: `10.0.0.0/8, 192.168.0.0/16`.
pub fn prefix_list(list: &[Ipv4Net]) -> String {
    list.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// Proposals in the notation, for code without a device at hand.
pub fn notation(list: &[Proposal]) -> String {
    proposal::list(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_proposals_are_named_not_blank() {
        let d = strongswan::StrongswanDevice::example();
        assert!(d.proposals(&[]).starts_with("strongSwan 5.9's default proposals"));
        let p = Proposal::parse("aes256-sha256", crate::ike::ProposalKind::Esp).unwrap();
        assert_eq!(d.proposals(&[p]), "aes256-sha256");
    }
}
