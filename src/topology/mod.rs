//! Where a lab's nodes live. A [`Backend`] turns the validated lab into isolated nodes joined
//! by links and starts processes inside them; `netns` is the backend for one Linux host (a
//! container backend comes later); `fake` records what a run asked for, so a run is unit-tested
//! without root. Removal is not part of a run's backend: it works from the run's labels
//! ([`Resources`]), so it also works after a crash and from another process.

pub mod netns;
pub mod nft;

#[cfg(test)]
pub mod fake;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Command;

use anyhow::Result;
use futures::future::BoxFuture;
use ipnet::Ipv4Net;

use crate::model::Lab;

/// One run's nodes. Object-safe, so a run holds `Box<dyn Backend>` and tests give it a fake.
pub trait Backend: Send + Sync {
    /// Creates every node, link, address, static route and sysctl of the lab.
    fn build<'a>(&'a mut self, lab: &'a Lab) -> BoxFuture<'a, Result<()>>;
    /// Routes `prefixes` into the node's tunnel interface `device` (route-based VPN), once the
    /// IKE daemon has created that interface.
    fn add_tunnel_routes<'a>(&'a self, node: &'a str, device: &'a str, prefixes: &'a [Ipv4Net]) -> BoxFuture<'a, Result<()>>;
    /// Moves an interface from one address to another (a dynamic WAN address that changes).
    fn replace_address<'a>(&'a self, node: &'a str, interface: &'a str, old: Ipv4Net, new: Ipv4Net) -> BoxFuture<'a, Result<()>>;
    /// Adds an address to an interface of a node (`lo`, or the tunnel interface once the IKE
    /// daemon has created it): a BGP speaker's own address.
    fn add_address<'a>(&'a self, node: &'a str, interface: &'a str, address: Ipv4Net) -> BoxFuture<'a, Result<()>>;
    /// A command that runs `program` inside `node`'s network.
    fn command(&self, node: &str, program: &Path) -> Result<Command>;
    /// A UDP socket bound to `bind` inside `node`'s network (the lab's name server).
    fn udp_socket(&self, node: &str, bind: SocketAddr) -> Result<std::net::UdpSocket>;
    /// A listening TCP socket bound to `bind` inside `node`'s network, non-blocking (the TCP
    /// probe's sink).
    fn tcp_listener(&self, node: &str, bind: SocketAddr) -> Result<std::net::TcpListener>;
    /// An unconnected TCP socket inside `node`'s network, bound to `source` (port chosen by the
    /// kernel) when given (the TCP probe's sending end).
    fn tcp_socket(&self, node: &str, source: Option<Ipv4Addr>) -> Result<tokio::net::TcpSocket>;
}

/// Runs' resources as one kind of backend labels them (namespaces `vpnlab-<id>-<node>`, ...):
/// found and removed by run id, never from memory.
pub trait Resources {
    /// Every run that has resources here: run id to resource names.
    fn runs(&self) -> BTreeMap<String, Vec<String>>;
    /// Removes every resource of `run_id`; how many there were, or what could not be removed.
    fn remove_run(&self, run_id: &str) -> std::result::Result<usize, Vec<String>>;
    /// A live vpnlab process holding one of these resources open (a run still being built).
    fn holder(&self, resources: &[String]) -> Option<u32>;
}

/// Every kind of labelled resource vpnlab creates on this host.
pub fn resources() -> Vec<Box<dyn Resources>> {
    vec![Box::new(netns::NetnsResources)]
}

/// Whether `s` has the shape of a run id (six of [a-z0-9]), the label every resource carries.
pub fn is_run_id(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Where a node of a run lives, for people (`vpnlab status`): its namespace's name.
pub fn node_location(run_id: &str, node: &str) -> String {
    netns::ns_name(run_id, node)
}
