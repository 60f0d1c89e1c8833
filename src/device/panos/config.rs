//! The typed PAN-OS model (`read.rs` reads it from the configuration tree of either format):
//! crypto profiles, IKE gateways, IPsec tunnels with their proxy-IDs and tunnel monitors,
//! interfaces, zones, virtual routers' static routes and BGP (peer groups, peers, import and
//! export rules, redistribution rules and profiles), security rules with the default rules,
//! address objects and monitor profiles. Every value keeps its line and `set` path, and every
//! object the problems found in it: a broken profile nobody uses is reported as ignored, a
//! broken profile the tunnel uses stops the import. References between objects (a gateway's
//! profile, a rule's address object) are resolved by the device (`build.rs`).

use std::net::Ipv4Addr;

use super::tree::Leaf;
use crate::device::DeviceError;
use crate::ike::dh::DhGroup;
use crate::ike::proposal::{Encryption, Integrity};

/// A value with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At<T> {
    pub value: T,
    pub line: Option<usize>,
    /// The element's `set` path.
    pub path: String,
}

impl<T> At<T> {
    pub fn of(leaf: &Leaf, value: T) -> At<T> {
        At { value, line: leaf.line, path: leaf.path.clone() }
    }
}

/// A pre-shared key as the file holds it. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Psk(pub String);

impl std::fmt::Debug for Psk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Psk(<redacted>)")
    }
}

impl Psk {
    /// PAN-OS stores keys encrypted with its master key; exports show `-AQ==...` (pan-os-ipsec.md
    /// §3.1 [P16], device-import-notes.md §3).
    pub fn is_encrypted(&self) -> bool {
        self.0.starts_with("-AQ==")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IkeCryptoProfile {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    pub encryption: Vec<At<Encryption>>,
    /// `None`: `non-auth` (with GCM).
    pub hash: Vec<At<Option<Integrity>>>,
    pub dh_groups: Vec<At<DhGroup>>,
    /// Seconds.
    pub lifetime: Option<At<u64>>,
    pub authentication_multiple: Option<At<u64>>,
    pub problems: Vec<DeviceError>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpsecCryptoProfile {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    pub encryption: Vec<At<Encryption>>,
    /// `None`: `none` (with GCM).
    pub authentication: Vec<At<Option<Integrity>>>,
    /// The profile uses AH instead of ESP (line).
    pub ah: Option<At<()>>,
    /// `Some(None)`: `no-pfs`; `None`: absent.
    pub dh_group: Option<At<Option<DhGroup>>>,
    /// Seconds.
    pub lifetime: Option<At<u64>>,
    /// Kilobytes.
    pub lifesize_kb: Option<At<u64>>,
    pub problems: Vec<DeviceError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSetting {
    Ikev1,
    Ikev2,
    Ikev2Preferred,
}

impl VersionSetting {
    pub fn keyword(self) -> &'static str {
        match self {
            VersionSetting::Ikev1 => "ikev1",
            VersionSetting::Ikev2 => "ikev2",
            VersionSetting::Ikev2Preferred => "ikev2-preferred",
        }
    }
}

/// IKEv1 DPD or IKEv2 liveness settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dpd {
    pub enable: Option<At<bool>>,
    pub interval: Option<At<u64>>,
    pub retry: Option<At<u64>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerAddress {
    /// An address, `a.b.c.d` or with a prefix, or an address object's name.
    Ip(String),
    Fqdn(String),
    Dynamic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdType {
    Ipaddr,
    Fqdn,
    Ufqdn,
    Keyid,
    Dn,
}

impl IdType {
    pub fn keyword(self) -> &'static str {
        match self {
            IdType::Ipaddr => "ipaddr",
            IdType::Fqdn => "fqdn",
            IdType::Ufqdn => "ufqdn",
            IdType::Keyid => "keyid",
            IdType::Dn => "dn",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub kind: At<IdType>,
    pub id: At<String>,
    /// Peer IDs: `exact` or `wildcard`.
    pub matching: Option<At<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IkeGateway {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    pub version: Option<At<VersionSetting>>,
    pub ikev1_profile: Option<At<String>>,
    pub exchange_mode: Option<At<String>>,
    pub ikev1_dpd: Dpd,
    pub ikev2_profile: Option<At<String>>,
    pub liveness: Dpd,
    pub psk: Option<At<Psk>>,
    /// Certificate authentication is configured (its line).
    pub certificate: Option<At<()>>,
    pub local_interface: Option<At<String>>,
    /// An address with its prefix, or an address object's name.
    pub local_ip: Option<At<String>>,
    pub peer: Option<At<PeerAddress>>,
    pub local_id: Option<Identity>,
    pub peer_id: Option<Identity>,
    pub nat_traversal: Option<At<bool>>,
    pub passive: Option<At<bool>>,
    pub disabled: Option<At<bool>>,
    pub problems: Vec<DeviceError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyProtocol {
    Any,
    Number(u8),
    Tcp { local_port: u16, remote_port: u16 },
    Udp { local_port: u16, remote_port: u16 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyId {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    /// A prefix, an address, or an address object's name.
    pub local: Option<At<String>>,
    pub remote: Option<At<String>>,
    pub protocol: Option<At<ProxyProtocol>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelMonitor {
    pub line: Option<usize>,
    pub path: String,
    pub enable: Option<At<bool>>,
    pub destination: Option<At<Ipv4Addr>>,
    pub profile: Option<At<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpsecTunnel {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    pub interface: Option<At<String>>,
    pub gateways: Vec<At<String>>,
    pub ipsec_profile: Option<At<String>>,
    pub proxy_ids: Vec<ProxyId>,
    /// IPv6 proxy-IDs (their lines): the lab runs IPv4.
    pub proxy_ids_v6: Vec<At<String>>,
    /// `manual-key` or `global-protect-satellite` instead of `auto-key`.
    pub other_type: Option<At<String>>,
    pub monitor: Option<TunnelMonitor>,
    pub disabled: Option<At<bool>>,
    pub problems: Vec<DeviceError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterfaceKind {
    Ethernet,
    Subinterface,
    Tunnel,
    Loopback,
    Vlan,
    Aggregate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    pub kind: InterfaceKind,
    /// Addresses with their prefixes, or address objects' names.
    pub addresses: Vec<At<String>>,
    /// Its address comes from DHCP.
    pub dhcp: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    pub layer3: Vec<At<String>>,
    /// A zone of another type (`layer2`, `virtual-wire`, `tap`, `external`, `tunnel`).
    pub other_type: Option<At<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextHop {
    Ip(String),
    NextVr(String),
    Fqdn(String),
    Discard,
    Receive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticRoute {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    pub destination: Option<At<String>>,
    pub interface: Option<At<String>>,
    pub nexthop: Option<At<NextHop>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualRouter {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    pub interfaces: Vec<At<String>>,
    pub routes: Vec<StaticRoute>,
    /// `protocol bgp`, when the file has it.
    pub bgp: Option<Bgp>,
    /// `protocol redist-profile` (IPv4): which routes a redistribution rule names.
    pub redist_profiles: Vec<RedistProfile>,
}

/// A virtual router's BGP (`protocol bgp`), as the legacy routing engine configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bgp {
    pub line: Option<usize>,
    pub path: String,
    pub enable: Option<At<bool>>,
    /// As written: an address (PAN-OS refuses anything else at commit).
    pub router_id: Option<At<String>>,
    /// As written: a number, or `high.low` (asdot).
    pub local_as: Option<At<String>>,
    pub install_route: Option<At<bool>>,
    pub reject_default_route: Option<At<bool>>,
    pub allow_redist_default_route: Option<At<bool>>,
    pub peer_groups: Vec<PeerGroup>,
    pub import_rules: Vec<PolicyRule>,
    pub export_rules: Vec<PolicyRule>,
    pub redist_rules: Vec<RedistRule>,
    pub problems: Vec<DeviceError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerGroupType {
    Ebgp,
    Ibgp,
    EbgpConfed,
    IbgpConfed,
}

impl PeerGroupType {
    pub fn keyword(self) -> &'static str {
        match self {
            PeerGroupType::Ebgp => "ebgp",
            PeerGroupType::Ibgp => "ibgp",
            PeerGroupType::EbgpConfed => "ebgp-confed",
            PeerGroupType::IbgpConfed => "ibgp-confed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerGroup {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    pub enable: Option<At<bool>>,
    pub kind: Option<At<PeerGroupType>>,
    pub peers: Vec<BgpPeer>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgpPeer {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    pub enable: Option<At<bool>>,
    pub peer_as: Option<At<String>>,
    /// An address or an address object's name.
    pub peer_ip: Option<At<String>>,
    pub peer_fqdn: Option<At<String>>,
    pub local_interface: Option<At<String>>,
    /// An address with its prefix (as the interface holds it), or an address object's name.
    pub local_ip: Option<At<String>>,
    pub multihop: Option<At<u64>>,
    pub keepalive: Option<At<u64>>,
    pub hold: Option<At<u64>>,
    pub incoming_allow: Option<At<bool>>,
    pub incoming_remote_port: Option<At<u64>>,
    pub outgoing_allow: Option<At<bool>>,
    pub outgoing_local_port: Option<At<u64>>,
    /// A number, or `unlimited`.
    pub max_prefixes: Option<At<String>>,
    pub authentication: Option<At<String>>,
    pub problems: Vec<DeviceError>,
}

/// A prefix a policy rule matches, and whether only that exact length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixMatch {
    pub prefix: String,
    pub line: Option<usize>,
    pub path: String,
    pub exact: Option<At<bool>>,
}

/// A BGP import or export rule (`policy import rules`, `policy export rules`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    pub enable: Option<At<bool>>,
    /// Peer groups (or peers) the rule applies to.
    pub used_by: Vec<At<String>>,
    pub prefixes: Vec<PrefixMatch>,
    /// Match conditions other than the prefix (`as-path`, `community`, `med`, ...), by
    /// keyword: the lab's prefix filters cannot express them.
    pub other_matches: Vec<At<String>>,
    /// `Some(true)`: allow; `Some(false)`: deny.
    pub allow: Option<At<bool>>,
    /// An allow that changes attributes (`action allow update ...`).
    pub updates: Option<At<()>>,
}

/// A BGP redistribution rule: its name is a redistribution profile's, or a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedistRule {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    pub enable: Option<At<bool>>,
    pub family: Option<At<String>>,
    pub route_table: Option<At<String>>,
}

/// A virtual router's redistribution profile: which routes of its table a rule takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedistProfile {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    pub priority: Option<At<u64>>,
    /// `static`, `connect`, `rip`, `ospf`, `bgp`.
    pub types: Vec<At<String>>,
    pub interfaces: Vec<At<String>>,
    pub destinations: Vec<At<String>>,
    pub nexthops: Vec<At<String>>,
    /// OSPF or BGP attribute filters (their element): the lab's routes carry none.
    pub protocol_filter: Option<At<String>>,
    /// `Some(true)`: redist; `Some(false)`: no-redist.
    pub redist: Option<At<bool>>,
    pub problems: Vec<DeviceError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAction {
    Allow,
    Deny,
    Drop,
    ResetClient,
    ResetServer,
    ResetBoth,
}

impl RuleAction {
    pub fn allows(self) -> bool {
        self == RuleAction::Allow
    }
}

pub const RULE_ACTIONS: &[(&str, RuleAction)] = &[
    ("allow", RuleAction::Allow),
    ("deny", RuleAction::Deny),
    ("drop", RuleAction::Drop),
    ("reset-client", RuleAction::ResetClient),
    ("reset-server", RuleAction::ResetServer),
    ("reset-both", RuleAction::ResetBoth),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleType {
    Universal,
    Intrazone,
    Interzone,
}

/// Which rulebase a rule is in, in the order PAN-OS evaluates them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rulebase {
    SharedPre,
    Pre,
    Local,
    Post,
    SharedPost,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityRule {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    pub rulebase: Rulebase,
    pub from: Vec<At<String>>,
    pub to: Vec<At<String>>,
    pub source: Vec<At<String>>,
    pub destination: Vec<At<String>>,
    pub application: Vec<At<String>>,
    pub service: Vec<At<String>>,
    pub action: Option<At<RuleAction>>,
    pub rule_type: Option<At<RuleType>>,
    pub disabled: Option<At<bool>>,
    pub negate_source: Option<At<bool>>,
    pub negate_destination: Option<At<bool>>,
    pub problems: Vec<DeviceError>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressValue {
    Netmask(String),
    Range(String),
    Wildcard(String),
    Fqdn(String),
}

impl AddressValue {
    /// The object as PAN-OS writes it: `ip-netmask 10.20.0.0/16`.
    pub fn describe(&self) -> String {
        match self {
            AddressValue::Netmask(t) => format!("ip-netmask {t}"),
            AddressValue::Range(t) => format!("ip-range {t}"),
            AddressValue::Wildcard(t) => format!("ip-wildcard {t}"),
            AddressValue::Fqdn(t) => format!("fqdn {t}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressObject {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    pub value: Option<At<AddressValue>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressGroup {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    pub members: Vec<At<String>>,
    /// A dynamic group (a tag filter).
    pub dynamic: Option<At<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorAction {
    WaitRecover,
    FailOver,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorProfile {
    pub name: String,
    pub line: Option<usize>,
    pub path: String,
    pub interval: Option<At<u64>>,
    pub threshold: Option<At<u64>>,
    pub action: Option<At<MonitorAction>>,
    pub problems: Vec<DeviceError>,
}

/// A firewall's configuration, as far as vpnlab models it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PanosConfig {
    pub ike_profiles: Vec<IkeCryptoProfile>,
    pub ipsec_profiles: Vec<IpsecCryptoProfile>,
    pub gateways: Vec<IkeGateway>,
    pub tunnels: Vec<IpsecTunnel>,
    pub interfaces: Vec<Interface>,
    pub zones: Vec<Zone>,
    pub virtual_routers: Vec<VirtualRouter>,
    /// In evaluation order (shared pre-rules, pre-rules, the firewall's, post-rules).
    pub rules: Vec<SecurityRule>,
    pub intrazone_default: Option<At<RuleAction>>,
    pub interzone_default: Option<At<RuleAction>>,
    pub addresses: Vec<AddressObject>,
    pub address_groups: Vec<AddressGroup>,
    pub monitor_profiles: Vec<MonitorProfile>,
    /// Problems outside any one object (the default rules' actions).
    pub problems: Vec<DeviceError>,
}

impl PanosConfig {
    pub fn ike_profile(&self, name: &str) -> Option<&IkeCryptoProfile> {
        self.ike_profiles.iter().find(|p| p.name == name)
    }
    pub fn ipsec_profile(&self, name: &str) -> Option<&IpsecCryptoProfile> {
        self.ipsec_profiles.iter().find(|p| p.name == name)
    }
    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.name == name)
    }
    pub fn address(&self, name: &str) -> Option<&AddressObject> {
        self.addresses.iter().find(|a| a.name == name)
    }
    pub fn address_group(&self, name: &str) -> Option<&AddressGroup> {
        self.address_groups.iter().find(|a| a.name == name)
    }
    pub fn monitor_profile(&self, name: &str) -> Option<&MonitorProfile> {
        self.monitor_profiles.iter().find(|a| a.name == name)
    }
    /// The zone an interface is in.
    pub fn zone_of(&self, interface: &str) -> Option<&Zone> {
        self.zones.iter().find(|z| z.layer3.iter().any(|m| m.value == interface))
    }
}
