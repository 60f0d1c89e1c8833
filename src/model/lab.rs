//! The validated lab: what the rest of vpnlab works from.
//!
//! Every value here has passed `resolve.rs`: names are unique and well-formed, links join
//! declared interfaces on the same subnet, gateways are reachable, the Azure resources obey
//! Azure's rules. Nothing in `model/` touches the system.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use ipnet::Ipv4Net;

use crate::bgp::BgpIntent;
use crate::device::azure::AzureSite;
use crate::device::Device;
use crate::ike::intent::IpsecIntent;

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

    /// The device under test (the first, if there are several).
    pub fn dut(&self) -> Option<(&Node, &IpsecNode)> {
        self.nodes.iter().find_map(|n| n.ipsec().filter(|i| i.device.under_test()).map(|i| (n, i)))
    }

    /// The simulated Azure gateway (the first, if there are several), its model and its intent.
    pub fn azure_gateway(&self) -> Option<(&Node, &AzureSite, &IpsecIntent)> {
        self.nodes.iter().find_map(|n| n.ipsec().and_then(|i| i.azure().map(|site| (n, site, &i.intent))))
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
    /// The node's IPsec device and intent, if it runs an IKE daemon.
    pub fn ipsec(&self) -> Option<&IpsecNode> {
        match &self.kind {
            NodeKind::Ipsec(i) => Some(i),
            _ => None,
        }
    }

    /// What the node's IKE daemon is to do, if it runs one.
    pub fn intent(&self) -> Option<&IpsecIntent> {
        self.ipsec().map(|i| &i.intent)
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
    /// An IPsec node: the device under test (`dut`) or the simulated Azure VPN Gateway
    /// (`azure-gateway`), each a device with its intent for this lab's run.
    Ipsec(IpsecNode),
}

impl NodeKind {
    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::Host => "host",
            NodeKind::Router => "router",
            NodeKind::NatRouter(_) => "nat-router",
            NodeKind::Ipsec(i) if i.device.under_test() => "dut",
            NodeKind::Ipsec(_) => "azure-gateway",
        }
    }
}

/// An IPsec node: its device (behaviour and vocabulary) and what it does in this lab's run.
#[derive(Debug, Clone)]
pub struct IpsecNode {
    pub device: Box<dyn Device>,
    /// Built by the device once the run plan is known (`resolve::finish`).
    pub intent: IpsecIntent,
    /// The device's BGP speaker, when it runs one (`resolve::finish`).
    pub bgp: Option<BgpIntent>,
}

impl IpsecNode {
    /// The Azure model, when this node is the simulated gateway.
    pub fn azure(&self) -> Option<&AzureSite> {
        self.device.as_any().downcast_ref::<AzureSite>()
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

/// What `vpnlab run` does once the lab is built.
#[derive(Debug, Clone)]
pub struct RunPlan {
    /// Node whose daemon initiates; its first connection's first child is initiated. Empty
    /// when nobody does (`initiator: none`, both ends waiting).
    pub initiator: String,
    pub probes: Vec<Ping>,
    /// TCP transfers, run after the pings.
    pub tcp: Vec<TcpProbe>,
}

impl RunPlan {
    /// The node the run initiates from, if any.
    pub fn initiating_node(&self) -> Option<&str> {
        Some(self.initiator.as_str()).filter(|i| !i.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ping {
    pub from: String,
    pub to: Ipv4Addr,
    /// ICMP payload bytes (ping -s); the IP packet is 28 bytes larger.
    pub size: Option<u16>,
    /// Don't fragment (ping -M do).
    pub df: bool,
    /// The source address (ping -I), an address of `from`.
    pub source: Option<Ipv4Addr>,
}

/// A TCP transfer from one node to an address of another, where vpnlab runs a sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpProbe {
    pub from: String,
    pub to: Ipv4Addr,
    pub port: u16,
    /// The node that has `to`, where the sink listens.
    pub sink: String,
    pub bytes: u64,
    pub within: std::time::Duration,
    /// The source address, an address of `from`.
    pub source: Option<Ipv4Addr>,
}
