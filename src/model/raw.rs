//! The lab file as written: serde types that mirror `lab.yaml` field for field.
//!
//! Nothing here is validated beyond what serde checks (types, unknown fields, duplicate keys).
//! `resolve.rs` turns these into the validated types in `lab.rs`. Values that later checks
//! must point at carry a [`Spanned`] location so errors can name the line and column.
//!
//! Naming: vpnlab's own keys are `snake_case`; the Azure resources under `azure:` use the
//! ARM property names (`vpnType`, `sharedKey`, `localNetworkAddressSpace`, ...) so that an
//! engineer can copy them from the portal's JSON view.

use std::fmt;
use std::marker::PhantomData;

use ipnet::Ipv4Net;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;
use std::net::Ipv4Addr;

/// A YAML mapping read in file order. Keys keep their location for error messages; duplicate
/// keys are already rejected by the parser.
#[derive(Debug, Clone)]
pub struct OrderedMap<V>(pub Vec<(Spanned<String>, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<Spanned<String>, V>()? {
                    entries.push((k, v));
                }
                Ok(OrderedMap(entries))
            }
        }
        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

/// An IPv4 address with prefix length (`10.10.0.1/16`), with an error message that says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr(pub Ipv4Net);

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.trim().parse::<Ipv4Net>().map(Cidr).map_err(|_| {
            serde::de::Error::custom(format!("`{text}` is not an IPv4 prefix; write an address and its prefix length, e.g. 10.10.0.1/16 or 0.0.0.0/0"))
        })
    }
}

/// An IPv4 address, with an error message that says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addr(pub Ipv4Addr);

impl<'de> Deserialize<'de> for Addr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.trim()
            .parse::<Ipv4Addr>()
            .map(Addr)
            .map_err(|_| serde::de::Error::custom(format!("`{text}` is not an IPv4 address; write four numbers 0-255, e.g. 198.51.100.20")))
    }
}

/// The whole `lab.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLab {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub nodes: OrderedMap<RawNode>,
    #[serde(default)]
    pub links: Vec<Spanned<RawLink>>,
    #[serde(default)]
    pub run: Option<RawRun>,
    /// Lab time runs this many times faster than real time for the daemons' timers
    /// (lifetimes, rekeys, DPD): 100 turns Azure's 27,000 s CHILD SA lifetime into 270 s.
    #[serde(default)]
    pub time_scale: Option<Spanned<f64>>,
    /// The lab's name server and its records (e.g. a local network gateway's `fqdn`).
    #[serde(default)]
    pub dns: Option<RawDns>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDns {
    /// The node that answers DNS on UDP port 53 (usually the `internet` router).
    #[serde(default)]
    pub server: Option<Spanned<String>>,
    #[serde(default)]
    pub records: OrderedMap<Spanned<Addr>>,
}

/// One node. `kind` decides which of the kind-specific sections may appear; `resolve.rs`
/// rejects a section that does not belong to the node's kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    pub kind: Spanned<String>,
    /// Interface name to address in CIDR form (`wan: 198.51.100.20/24`).
    #[serde(default)]
    pub interfaces: OrderedMap<Spanned<Cidr>>,
    /// Default gateway.
    #[serde(default)]
    pub gateway: Option<Spanned<Addr>>,
    /// Extra static routes.
    #[serde(default)]
    pub routes: Vec<Spanned<RawRoute>>,
    /// `nat-router` only.
    #[serde(default)]
    pub nat: Option<RawNat>,
    /// `dut` only: which device it is: `strongswan` (the default when a `strongswan:` section
    /// is given), `pan-os` or `pfsense` (read from `config:`).
    #[serde(default)]
    pub device: Option<Spanned<String>>,
    /// `dut` only: the device's own configuration file, relative to the lab's folder (a PAN-OS
    /// `set` file or XML export, a pfSense config.xml).
    #[serde(default)]
    pub config: Option<Spanned<String>>,
    /// `dut` only, PAN-OS: which IPsec tunnel of the configuration, when there are several.
    #[serde(default)]
    pub tunnel: Option<Spanned<String>>,
    /// `dut` only, pfSense: which phase 1 (its `ikeid`), when there are several.
    #[serde(default)]
    pub phase1: Option<Spanned<u32>>,
    /// `dut` only, PAN-OS: a file holding the pre-shared key (PAN-OS stores keys encrypted).
    #[serde(default)]
    pub psk_file: Option<Spanned<String>>,
    /// `dut` only: the device profile.
    #[serde(default)]
    pub strongswan: Option<RawStrongswan>,
    /// `dut` only, a strongSwan device: its BGP speaker over the tunnel, in FRR's terms. A
    /// PAN-OS or pfSense device reads its BGP from its own configuration instead.
    #[serde(default)]
    pub frr: Option<Spanned<RawFrr>>,
    /// `dut` only: as responder, accept only proposals that match the proxy-IDs exactly, as
    /// PAN-OS does (strongSwan would narrow a wider proposal and accept it).
    #[serde(default)]
    pub exact_proxy_id: Option<bool>,
    /// `dut` only, a device read from a file: values for the defaults on which the vendor's
    /// sources disagree (`choices: { ikev2-liveness-default: off }`).
    #[serde(default)]
    pub choices: Option<OrderedMap<Spanned<String>>>,
    /// `dut` only: a stateful filter on traffic arriving from the tunnel, like pfSense's
    /// Firewall > Rules > IPsec tab (no rule: everything from the tunnel is blocked).
    #[serde(default)]
    pub tunnel_rules: Option<Vec<Spanned<RawTunnelRule>>>,
    /// `azure-gateway` only: the Azure resources, in ARM vocabulary.
    #[serde(default)]
    pub azure: Option<RawAzure>,
}

/// A pass rule for traffic from the tunnel: source and destination prefixes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTunnelRule {
    pub from: Cidr,
    pub to: Cidr,
}

/// `to` is a prefix; `via` is a next-hop address or the word `tunnel` (the node's IPsec
/// tunnel interface, i.e. a route-based VPN route).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub to: Cidr,
    pub via: String,
}

/// A link is the pair of endpoints `node:interface`, written as a two-item list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    pub endpoints: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNat {
    /// Interface whose outgoing traffic is masqueraded (the WAN side).
    pub masquerade: Spanned<String>,
    #[serde(default)]
    pub port_forwards: Vec<Spanned<RawPortForward>>,
    #[serde(default)]
    pub drop: Vec<Spanned<RawDrop>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPortForward {
    pub protocol: String,
    pub port: u16,
    pub to: Addr,
    #[serde(default)]
    pub to_port: Option<u16>,
}

/// A forwarding filter: drop traffic of this protocol to (`port`) or from (`sport`) a port.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDrop {
    pub protocol: String,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub sport: Option<u16>,
}

/// The strongSwan DUT profile: swanctl.conf's `connections` and `secrets` in YAML.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStrongswan {
    pub connections: OrderedMap<Spanned<RawConnection>>,
    #[serde(default)]
    pub secrets: Vec<Spanned<RawSecret>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConnection {
    #[serde(default)]
    pub version: Option<Spanned<u8>>,
    #[serde(default)]
    pub local_addrs: Vec<String>,
    #[serde(default)]
    pub remote_addrs: Vec<String>,
    #[serde(default)]
    pub proposals: Vec<Spanned<String>>,
    #[serde(default)]
    pub dpd_delay: Option<Spanned<String>>,
    #[serde(default)]
    pub mobike: Option<bool>,
    #[serde(default)]
    pub encap: Option<bool>,
    #[serde(default)]
    pub rekey_time: Option<Spanned<String>>,
    pub local: RawAuth,
    pub remote: RawAuth,
    pub children: OrderedMap<Spanned<RawChild>>,
}

/// A strongSwan device's BGP speaker (`frr:`), in FRR's own terms: what `router bgp` would say.
///
/// ```yaml
/// frr:
///   asn: 65010                       # router bgp 65010 (1-4294967295)
///   router_id: 10.10.0.1             # optional; FRR's choice otherwise (below)
///   address: 10.10.255.1/32          # optional: a /32 on the loopback (a BGP IP; send from it with update_source)
///   tunnel_address: 169.254.21.2/30  # optional: an address on the tunnel interface (APIPA)
///   ebgp_requires_policy: true       # FRR's default since 7.4; false: no bgp ebgp-requires-policy
///   networks: [10.10.0.0/16]         # network ... under address-family ipv4 unicast
///   timers: { keepalive: 60, hold: 180 }   # optional: timers bgp 60 180
///   neighbors:
///     - address: 10.20.255.30        # neighbor 10.20.255.30 remote-as 65515
///       remote_as: 65515
///       update_source: 10.10.255.1   # optional: one of the node's own addresses
///       ebgp_multihop: 2             # optional: 1-255, the peer is not on a connected network
///       passive: false               # optional: true waits for the peer to open the session
///       timers: { keepalive: 10, hold: 30 }  # optional, this neighbor only
///       max_prefix: 100              # optional: maximum-prefix 100
///       policy: permit-all           # optional: a route map permitting everything, in and out
/// ```
///
/// Without `router_id`, FRR's own choice applies: the loopback `address` when there is one,
/// else the node's highest interface address. Without `policy`, the neighbor has no route map,
/// and under `ebgp_requires_policy` an eBGP session then exchanges nothing. A neighbor across
/// the tunnel needs a way there: a `tunnel_address` on its network, or the node's
/// `routes: [{ to: 10.20.255.30/32, via: tunnel }]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFrr {
    pub asn: Spanned<u64>,
    #[serde(default)]
    pub router_id: Option<Spanned<Addr>>,
    #[serde(default)]
    pub address: Option<Spanned<Cidr>>,
    #[serde(default)]
    pub tunnel_address: Option<Spanned<Cidr>>,
    #[serde(default)]
    pub ebgp_requires_policy: Option<bool>,
    #[serde(default)]
    pub networks: Vec<Spanned<Cidr>>,
    #[serde(default)]
    pub timers: Option<Spanned<RawBgpTimers>>,
    #[serde(default)]
    pub neighbors: Vec<Spanned<RawFrrNeighbor>>,
}

/// `timers: { keepalive: 60, hold: 180 }`, in seconds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBgpTimers {
    pub keepalive: Spanned<u64>,
    pub hold: Spanned<u64>,
}

/// One `neighbor` of a strongSwan device's FRR.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFrrNeighbor {
    pub address: Spanned<Addr>,
    pub remote_as: Spanned<u64>,
    #[serde(default)]
    pub update_source: Option<Spanned<Addr>>,
    #[serde(default)]
    pub ebgp_multihop: Option<Spanned<u64>>,
    #[serde(default)]
    pub passive: bool,
    #[serde(default)]
    pub timers: Option<Spanned<RawBgpTimers>>,
    #[serde(default)]
    pub max_prefix: Option<Spanned<u64>>,
    /// `permit-all`, or absent for no policy.
    #[serde(default)]
    pub policy: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub auth: Spanned<String>,
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChild {
    #[serde(default)]
    pub local_ts: Vec<Spanned<Cidr>>,
    #[serde(default)]
    pub remote_ts: Vec<Spanned<Cidr>>,
    #[serde(default)]
    pub esp_proposals: Vec<Spanned<String>>,
    #[serde(default)]
    pub rekey_time: Option<Spanned<String>>,
    #[serde(default)]
    pub life_time: Option<Spanned<String>>,
    #[serde(default)]
    pub dpd_action: Option<Spanned<String>>,
    #[serde(default)]
    pub start_action: Option<Spanned<String>>,
}

/// A pre-shared key and the identities it belongs to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecret {
    #[serde(default)]
    pub ids: Vec<String>,
    pub secret: String,
}

/// The Azure side, in ARM property names. Every resource may instead (or also) name an export
/// with `import:` (az CLI `show` output, a REST/ARM object, or an ARM template); keys written
/// in the lab override the exported ones. All fields are optional here so that the two can
/// be merged; `resolve.rs` reports what is missing after the merge.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAzure {
    /// vpnlab's switches where sources disagree about Azure's behaviour.
    #[serde(default)]
    pub model: Option<RawAzureModel>,
    #[serde(rename = "virtualNetworkGateway")]
    pub gateway: Spanned<RawVirtualNetworkGateway>,
    #[serde(rename = "virtualNetwork")]
    pub vnet: Spanned<RawVirtualNetwork>,
    #[serde(rename = "localNetworkGateway")]
    pub local_gateway: Spanned<RawLocalNetworkGateway>,
    pub connection: Spanned<RawAzureConnection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawAzureModel {
    /// `accept` (Microsoft's documentation, default) or `reject` (the teaching material).
    #[serde(default)]
    pub narrowed_traffic_selectors: Option<Spanned<String>>,
    /// `ignore` (default: the peer hears nothing) or `reject` (NO_PROPOSAL_CHOSEN).
    #[serde(default)]
    pub other_ike_version: Option<Spanned<String>>,
    /// `accept` (default) or `reject`: whether PBTS works without a custom policy.
    #[serde(default)]
    pub pbts_with_default_policy: Option<Spanned<String>>,
    /// `negotiate` (default: RFC 4271, the lower hold time wins) or `fixed` (Azure refuses a
    /// shorter hold time than its 180 s).
    #[serde(default)]
    pub bgp_hold_time: Option<Spanned<String>>,
}

/// Merges `lab` over `imported`, field by field: a key written in the lab wins.
pub trait Merge {
    fn merge(self, imported: Self) -> Self;
}

macro_rules! mergeable {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $field:ident : $ty:ty,)* }) => {
        $(#[$m])*
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub struct $name { $($(#[$fm])* #[serde(default)] pub $field: $ty,)* }
        impl Merge for $name {
            fn merge(self, imported: Self) -> Self {
                $name { $($field: self.$field.or(imported.$field),)* }
            }
        }
    };
}

mergeable! {
    pub struct RawVirtualNetworkGateway {
        /// An export to read this resource from.
        pub import: Option<Spanned<String>>,
        /// Which resource of a template (when it holds several).
        pub import_name: Option<String>,
        pub name: Option<String>,
        pub vpn_type: Option<Spanned<String>>,
        pub sku: Option<Spanned<String>>,
        pub active_active: Option<Spanned<bool>>,
        pub enable_bgp: Option<Spanned<bool>>,
        pub vpn_gateway_generation: Option<String>,
        pub bgp_settings: Option<Spanned<RawBgpSettings>>,
        /// The gateway's public IP in the lab: an address of one of the node's interfaces.
        /// (Not an ARM property of the gateway; exports only reference the public IP resource.)
        pub public_ip_address: Option<Spanned<Addr>>,
    }
}

mergeable! {
    pub struct RawBgpSettings {
        pub asn: Option<Spanned<u64>>,
        pub bgp_peering_address: Option<Spanned<Addr>>,
        pub peer_weight: Option<u32>,
        /// The gateway's addresses per IP configuration; only `customBgpIpAddresses` (APIPA)
        /// is read.
        pub bgp_peering_addresses: Option<Vec<RawBgpPeeringAddress>>,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawBgpPeeringAddress {
    #[serde(default)]
    pub ipconfiguration_id: Option<String>,
    #[serde(default)]
    pub custom_bgp_ip_addresses: Vec<Spanned<Addr>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawSubnet {
    pub name: String,
    pub address_prefix: Spanned<Cidr>,
}

mergeable! {
    pub struct RawVirtualNetwork {
        pub import: Option<Spanned<String>>,
        pub import_name: Option<String>,
        pub name: Option<String>,
        pub address_space: Option<RawAddressSpace>,
        /// Subnets; only `GatewaySubnet` is read (Azure's BGP peer IP comes from it).
        pub subnets: Option<Vec<RawSubnet>>,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawAddressSpace {
    #[serde(default)]
    pub address_prefixes: Vec<Spanned<Cidr>>,
}

mergeable! {
    pub struct RawLocalNetworkGateway {
        pub import: Option<Spanned<String>>,
        pub import_name: Option<String>,
        pub name: Option<String>,
        pub gateway_ip_address: Option<Spanned<Addr>>,
        pub fqdn: Option<Spanned<String>>,
        pub local_network_address_space: Option<RawAddressSpace>,
        pub bgp_settings: Option<Spanned<RawBgpSettings>>,
    }
}

mergeable! {
    pub struct RawAzureConnection {
        pub import: Option<Spanned<String>>,
        pub import_name: Option<String>,
        pub name: Option<String>,
        pub connection_type: Option<Spanned<String>>,
        pub connection_protocol: Option<Spanned<String>>,
        pub shared_key: Option<Spanned<String>>,
        pub ipsec_policies: Option<Vec<Spanned<RawIpsecPolicy>>>,
        pub dpd_timeout_seconds: Option<Spanned<u32>>,
        pub connection_mode: Option<Spanned<String>>,
        pub enable_bgp: Option<Spanned<bool>>,
        pub use_policy_based_traffic_selectors: Option<Spanned<bool>>,
        pub traffic_selector_policies: Option<Vec<Spanned<RawTrafficSelectorPolicy>>>,
        /// The gateway this connection belongs to (a name; exports carry an id).
        pub virtual_network_gateway1: Option<String>,
        /// The local network gateway it connects to (a name; exports carry an id).
        pub local_network_gateway2: Option<String>,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawIpsecPolicy {
    pub sa_life_time_seconds: Spanned<u32>,
    pub sa_data_size_kilobytes: Spanned<u64>,
    pub ipsec_encryption: Spanned<String>,
    pub ipsec_integrity: Spanned<String>,
    pub ike_encryption: Spanned<String>,
    pub ike_integrity: Spanned<String>,
    pub dh_group: Spanned<String>,
    pub pfs_group: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawTrafficSelectorPolicy {
    pub local_address_ranges: Vec<Spanned<Cidr>>,
    pub remote_address_ranges: Vec<Spanned<Cidr>>,
}

/// What `vpnlab run` does once the lab is up.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    /// Node whose daemon initiates the tunnel.
    pub initiator: Spanned<String>,
    #[serde(default)]
    pub probes: Vec<Spanned<RawProbe>>,
}

/// One probe: `ping:` or `tcp:` (exactly one of them).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProbe {
    #[serde(default)]
    pub ping: Option<RawPing>,
    #[serde(default)]
    pub tcp: Option<RawTcp>,
}

/// A TCP transfer: connect from `from` to `to:port` (a sink vpnlab runs on the node that has
/// `to`) and send `bytes`, all within `within`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTcp {
    pub from: Spanned<String>,
    pub to: Spanned<Addr>,
    pub port: Spanned<u16>,
    /// How many bytes to send (default 1 MiB).
    #[serde(default)]
    pub bytes: Option<u64>,
    /// The bound on connecting and sending (default 3s).
    #[serde(default)]
    pub within: Option<Spanned<String>>,
    /// The source address, one of `from`'s own.
    #[serde(default)]
    pub source: Option<Spanned<Addr>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPing {
    pub from: Spanned<String>,
    pub to: Addr,
    /// ICMP payload bytes (ping -s).
    #[serde(default)]
    pub size: Option<u16>,
    /// Set the don't-fragment bit (ping -M do).
    #[serde(default)]
    pub df: bool,
    /// The source address (ping -I), one of `from`'s own: the firewall's tunnel-side or outside
    /// address, say.
    #[serde(default)]
    pub source: Option<Spanned<Addr>>,
}
