//! The validated lab: what the rest of vpnlab works from.
//!
//! Every value here has passed `resolve.rs`: names are unique and well-formed, links join
//! declared interfaces on the same subnet, gateways are reachable, the Azure resources obey
//! Azure's rules. Nothing in `model/` touches the system.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use ipnet::Ipv4Net;

use crate::azure::AzureSite;

#[derive(Debug, Clone)]
pub struct Lab {
    pub name: String,
    pub description: Option<String>,
    /// The `lab.yaml` this lab was read from.
    pub source: PathBuf,
    pub nodes: Vec<Node>,
    pub links: Vec<Link>,
    pub plan: RunPlan,
    /// Lab seconds per real second for daemon timers (1 = real time).
    pub time_scale: f64,
    /// What was ignored or assumed while reading the lab (imports, defaults), for the report.
    pub notes: Vec<String>,
    pub dns: Option<Dns>,
}

/// The lab's name server: which node answers, and the records it starts with.
#[derive(Debug, Clone)]
pub struct Dns {
    pub server: Option<String>,
    pub records: Vec<(String, Ipv4Addr)>,
}

impl Lab {
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The device under test and its profile (the first, if there are several).
    pub fn dut(&self) -> Option<(&Node, &StrongswanProfile)> {
        self.nodes.iter().find_map(|n| match &n.kind {
            NodeKind::Dut(p) => Some((n, p)),
            _ => None,
        })
    }

    /// The simulated Azure gateway (the first, if there are several).
    pub fn azure_gateway(&self) -> Option<(&Node, &AzureSite)> {
        self.nodes.iter().find_map(|n| match &n.kind {
            NodeKind::AzureGateway(s) => Some((n, s.as_ref())),
            _ => None,
        })
    }

    /// Nodes that run an IKE daemon, in file order.
    pub fn ipsec_nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|n| n.ipsec().is_some())
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub kind: NodeKind,
    pub interfaces: Vec<Interface>,
    pub gateway: Option<Ipv4Addr>,
    pub routes: Vec<Route>,
}

impl Node {
    /// The strongSwan configuration this node's daemon runs, if it runs one.
    pub fn ipsec(&self) -> Option<&StrongswanProfile> {
        match &self.kind {
            NodeKind::Dut(p) => Some(p),
            NodeKind::AzureGateway(site) => Some(&site.profile),
            _ => None,
        }
    }

    /// Whether the node forwards packets between its interfaces.
    pub fn forwards(&self) -> bool {
        !matches!(self.kind, NodeKind::Host)
    }
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    /// An end host: a LAN PC or an Azure VM.
    Host,
    /// A plain IP router (the "internet" between the sites).
    Router,
    NatRouter(Nat),
    /// The device under test, described as a strongSwan profile.
    Dut(StrongswanProfile),
    /// The simulated Azure VPN Gateway.
    AzureGateway(Box<AzureSite>),
}

impl NodeKind {
    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::Host => "host",
            NodeKind::Router => "router",
            NodeKind::NatRouter(_) => "nat-router",
            NodeKind::Dut(_) => "dut",
            NodeKind::AzureGateway(_) => "azure-gateway",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    /// The interface address with its prefix length, e.g. 10.10.0.1/16.
    pub address: Ipv4Net,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub to: Ipv4Net,
    pub via: NextHop,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextHop {
    Address(Ipv4Addr),
    /// Into the node's IPsec tunnel interface (route-based VPN).
    Tunnel,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub node: String,
    pub interface: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub a: Endpoint,
    pub b: Endpoint,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nat {
    /// Traffic leaving this interface gets the interface's address as source.
    pub masquerade: String,
    pub port_forwards: Vec<PortForward>,
    pub drops: Vec<DropRule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Udp,
    Tcp,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Udp => "udp",
            Protocol::Tcp => "tcp",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortForward {
    pub protocol: Protocol,
    pub port: u16,
    pub to: Ipv4Addr,
    pub to_port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropRule {
    pub protocol: Protocol,
    pub dport: Option<u16>,
    pub sport: Option<u16>,
}

/// swanctl-like settings of one charon.
#[derive(Debug, Clone, Default)]
pub struct StrongswanProfile {
    pub connections: Vec<Connection>,
    pub secrets: Vec<Secret>,
    /// A stateful filter on what arrives from the tunnel (pfSense's IPsec tab): `None` passes
    /// everything; `Some(rules)` passes replies and what the rules allow, and blocks the rest.
    pub tunnel_rules: Option<Vec<TunnelRule>>,
    /// Global `charon.initiator_only` (Azure's InitiatorOnly connection mode).
    pub initiator_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IkeVersion {
    /// Either version (swanctl `version = 0`).
    Any,
    V1,
    V2,
}

impl IkeVersion {
    pub fn number(self) -> u8 {
        match self {
            IkeVersion::Any => 0,
            IkeVersion::V1 => 1,
            IkeVersion::V2 => 2,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Connection {
    pub name: String,
    pub version: IkeVersion,
    pub local_addrs: Vec<String>,
    pub remote_addrs: Vec<String>,
    pub proposals: Vec<String>,
    pub dpd_delay: Option<String>,
    pub mobike: Option<bool>,
    pub encap: Option<bool>,
    pub rekey_time: Option<String>,
    /// IKEv1: rebuild the IKE SA (break-before-make) instead of rekeying it.
    pub reauth_time: Option<String>,
    /// Time after rekey/reauth time until the IKE SA expires.
    pub over_time: Option<String>,
    /// IKEv1 only: DPD timeout.
    pub dpd_timeout: Option<String>,
    pub local: Auth,
    pub remote: Auth,
    pub children: Vec<Child>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    /// Only `psk` so far.
    pub auth: String,
    pub id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Child {
    pub name: String,
    /// Traffic selectors as strongSwan takes them: CIDRs or `a.b.c.d-e.f.g.h` ranges.
    pub local_ts: Vec<String>,
    pub remote_ts: Vec<String>,
    pub esp_proposals: Vec<String>,
    pub rekey_time: Option<String>,
    pub life_time: Option<String>,
    pub rand_time: Option<String>,
    pub rekey_bytes: Option<u64>,
    pub life_bytes: Option<u64>,
    pub dpd_action: Option<String>,
    pub start_action: Option<String>,
}

/// A pass rule of the DUT's filter on traffic from the tunnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelRule {
    pub from: Ipv4Net,
    pub to: Ipv4Net,
}

/// A pre-shared key. `Debug` never prints the key.
#[derive(Clone)]
pub struct Secret {
    pub ids: Vec<String>,
    pub secret: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret").field("ids", &self.ids).field("secret", &"<redacted>").finish()
    }
}

/// What `vpnlab run` does once the lab is built.
#[derive(Debug, Clone)]
pub struct RunPlan {
    /// Node whose daemon initiates; its first connection's first child is initiated.
    pub initiator: String,
    pub probes: Vec<Ping>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ping {
    pub from: String,
    pub to: Ipv4Addr,
    /// ICMP payload bytes (ping -s); the IP packet is 28 bytes larger.
    pub size: Option<u16>,
    /// Don't fragment (ping -M do).
    pub df: bool,
}
