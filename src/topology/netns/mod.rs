//! The network-namespace backend: one namespace per node, veth pairs for links, addresses,
//! routes and sysctls over rtnetlink, processes started inside a node with `pre_exec` setns.

pub mod namespace;
pub mod netlink;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Command;

use anyhow::{anyhow, Context, Result};
use futures::future::{try_join_all, BoxFuture};
use ipnet::Ipv4Net;

use self::namespace::{write_sysctl, Namespace};
use self::netlink::Netlink;
use super::Backend;
use crate::model::{Lab, NextHop, Node};

/// Every namespace vpnlab creates starts with this, then the run id.
pub const NS_PREFIX: &str = "vpnlab-";

/// The routing table charon's kernel-netlink plugin fills and points a catch-all rule at
/// (strongSwan's default `charon.routing_table`).
const CHARON_ROUTING_TABLE: u32 = 220;

pub fn ns_name(run_id: &str, node: &str) -> String {
    format!("{NS_PREFIX}{run_id}-{node}")
}

struct NetnsNode {
    ns: Namespace,
    netlink: Netlink,
}

pub struct NetnsBackend {
    run_id: String,
    nodes: BTreeMap<String, NetnsNode>,
}

impl NetnsBackend {
    pub fn new(run_id: &str) -> Self {
        NetnsBackend { run_id: run_id.to_string(), nodes: BTreeMap::new() }
    }

    fn node(&self, name: &str) -> Result<&NetnsNode> {
        self.nodes.get(name).ok_or_else(|| anyhow!("node {name} has no namespace"))
    }

    async fn create_namespaces(&mut self, lab: &Lab) -> Result<()> {
        let rt = tokio::runtime::Handle::current();
        let tasks = lab.nodes.iter().map(|node| {
            let ns_name = ns_name(&self.run_id, &node.name);
            let forwards = node.forwards();
            let rt = rt.clone();
            tokio::task::spawn_blocking(move || {
                let label = ns_name.clone();
                Namespace::create(&ns_name, move || {
                    // IPv6 off: link-local DAD in a fresh namespace triggers MOBIKE updates and
                    // KNL noise for ~2 s (lab notes §0). Set before any veth appears so new
                    // interfaces inherit it.
                    if Path::new("/proc/sys/net/ipv6").exists() {
                        write_sysctl("net.ipv6.conf.all.disable_ipv6", "1")?;
                        write_sysctl("net.ipv6.conf.default.disable_ipv6", "1")?;
                    }
                    write_sysctl("net.ipv4.ip_forward", if forwards { "1" } else { "0" })?;
                    Netlink::open_here(&label, &rt)
                })
                .with_context(|| format!("creating namespace {ns_name}"))
            })
        });
        let created = futures::future::join_all(tasks).await;
        let mut first_error = None;
        for (node, result) in lab.nodes.iter().zip(created) {
            match result.map_err(|e| anyhow!("namespace task: {e}")).and_then(|r| r) {
                Ok((ns, netlink)) => {
                    self.nodes.insert(node.name.clone(), NetnsNode { ns, netlink });
                }
                Err(e) => first_error = first_error.or(Some(e)),
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    async fn create_links(&self, lab: &Lab) -> Result<()> {
        // The host's socket creates each pair with both ends placed directly.
        let host = Netlink::open_here("host", &tokio::runtime::Handle::current())?;
        let jobs = lab.links.iter().map(|l| {
            let host = host.clone();
            async move {
                let a = self.node(&l.a.node)?;
                let b = self.node(&l.b.node)?;
                host.create_veth(&l.a.interface, a.ns.fd(), &l.b.interface, b.ns.fd()).await
            }
        });
        try_join_all(jobs).await?;
        Ok(())
    }

    async fn configure_node(&self, lab: &Lab, node: &Node) -> Result<()> {
        let nl = &self.node(&node.name)?.netlink;
        let lo = nl.link_index("lo").await?;
        nl.set_up(lo, None).await?;
        for ifc in &node.interfaces {
            let index = nl.link_index(&ifc.name).await?;
            nl.add_address(index, ifc.address).await?;
            let peer = lab
                .links
                .iter()
                .find_map(|l| {
                    if l.a.node == node.name && l.a.interface == ifc.name {
                        Some(&l.b)
                    } else if l.b.node == node.name && l.b.interface == ifc.name {
                        Some(&l.a)
                    } else {
                        None
                    }
                })
                .map(|p| format!("{}:{}", p.node, p.interface))
                .unwrap_or_default();
            // The alias labels the link with its run, so cleanup and `ip link` both show whose it is.
            let alias = format!("vpnlab run={} peer={peer}", self.run_id);
            nl.set_up(index, Some(&alias)).await?;
        }
        if let Some(gw) = node.gateway {
            nl.add_route_via("0.0.0.0/0".parse().expect("constant"), gw).await?;
        }
        for r in &node.routes {
            if let NextHop::Address(gw) = r.via {
                nl.add_route_via(r.to, gw).await?;
            }
        }
        Ok(())
    }
}

impl NetnsBackend {
    /// The nodes of a run that is already built (by this or another process): opens their
    /// namespaces, and a netlink socket in each.
    pub fn attach(run_id: &str, nodes: &[&str]) -> Result<Self> {
        let rt = tokio::runtime::Handle::current();
        let mut attached = NetnsBackend::new(run_id);
        for node in nodes {
            let name = ns_name(run_id, node);
            let ns = Namespace::open(&name)?;
            let (label, rt) = (name.clone(), rt.clone());
            let netlink = namespace::in_namespace(&name, move || Netlink::open_here(&label, &rt))?;
            attached.nodes.insert(node.to_string(), NetnsNode { ns, netlink });
        }
        Ok(attached)
    }

    async fn do_build(&mut self, lab: &Lab) -> Result<()> {
        self.create_namespaces(lab).await?;
        self.create_links(lab).await?;
        try_join_all(lab.nodes.iter().map(|n| self.configure_node(lab, n))).await?;
        Ok(())
    }

    async fn do_add_tunnel_routes(&self, node: &str, device: &str, prefixes: &[Ipv4Net]) -> Result<()> {
        let nl = &self.node(node)?.netlink;
        // charon adds `ip rule pref 220 lookup 220` at start even with install_routes = no, and
        // kernel-libipsec fills table 220 with `default dev ipsec0`: every packet would be
        // steered into the tunnel. Route-based semantics need exactly the declared routes, so
        // the rule goes (lab notes §7).
        nl.delete_rules_for_table(CHARON_ROUTING_TABLE).await?;
        let index = nl.link_index(device).await.with_context(|| format!("the tunnel interface {device} of {node} is missing"))?;
        for p in prefixes {
            nl.add_route_dev(*p, index).await?;
        }
        Ok(())
    }

    async fn do_replace_address(&self, node: &str, interface: &str, old: Ipv4Net, new: Ipv4Net) -> Result<()> {
        let nl = &self.node(node)?.netlink;
        let index = nl.link_index(interface).await?;
        // Removing the address takes its subnet's route with it, and with that every route via
        // a gateway on that subnet (the default route of a home router): keep and restore them.
        let routes = nl.gateway_routes().await?;
        nl.delete_address(index, old).await?;
        nl.add_address(index, new).await?;
        nl.restore_routes(routes).await
    }
}

impl Backend for NetnsBackend {
    fn build<'a>(&'a mut self, lab: &'a Lab) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.do_build(lab))
    }

    fn add_tunnel_routes<'a>(&'a self, node: &'a str, device: &'a str, prefixes: &'a [Ipv4Net]) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.do_add_tunnel_routes(node, device, prefixes))
    }

    fn replace_address<'a>(&'a self, node: &'a str, interface: &'a str, old: Ipv4Net, new: Ipv4Net) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.do_replace_address(node, interface, old, new))
    }

    fn add_address<'a>(&'a self, node: &'a str, interface: &'a str, address: Ipv4Net) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let nl = &self.node(node)?.netlink;
            let index = nl.link_index(interface).await.with_context(|| format!("{node} has no interface {interface}"))?;
            nl.add_address(index, address).await.with_context(|| format!("adding {address} to {node}:{interface}"))
        })
    }

    fn command(&self, node: &str, program: &Path) -> Result<Command> {
        let fd = self.node(node)?.ns.fd();
        let mut cmd = Command::new(program);
        namespace::enter_in_child(&mut cmd, fd);
        Ok(cmd)
    }

    fn udp_socket(&self, node: &str, bind: SocketAddr) -> Result<std::net::UdpSocket> {
        self.node(node)?;
        let socket = namespace::in_namespace(&ns_name(&self.run_id, node), move || std::net::UdpSocket::bind(bind))
            .with_context(|| format!("binding {bind} in {node}"))?;
        socket.set_nonblocking(true)?;
        Ok(socket)
    }

    fn tcp_listener(&self, node: &str, bind: SocketAddr) -> Result<std::net::TcpListener> {
        self.node(node)?;
        let listener = namespace::in_namespace(&ns_name(&self.run_id, node), move || std::net::TcpListener::bind(bind))
            .with_context(|| format!("listening on TCP {bind} in {node}"))?;
        listener.set_nonblocking(true)?;
        Ok(listener)
    }

    fn tcp_socket(&self, node: &str, source: Option<Ipv4Addr>) -> Result<tokio::net::TcpSocket> {
        self.node(node)?;
        // Creating the socket needs no runtime (it is registered when it connects), so the
        // namespace thread may make it; binding there too keeps every step of it in one place.
        namespace::in_namespace(&ns_name(&self.run_id, node), move || {
            let socket = tokio::net::TcpSocket::new_v4()?;
            if let Some(a) = source {
                socket.bind(SocketAddr::from((a, 0)))?;
            }
            Ok(socket)
        })
        .with_context(|| match source {
            Some(a) => format!("a TCP socket from {a} in {node}"),
            None => format!("a TCP socket in {node}"),
        })
    }
}

/// The namespaces of every run on the host, found by name (`vpnlab-<id>-<node>`).
pub struct NetnsResources;

/// The run id in a namespace name `vpnlab-<id>-<node>`.
pub fn id_of_namespace(name: &str) -> Option<&str> {
    let id = name.strip_prefix(NS_PREFIX)?.split('-').next()?;
    super::is_run_id(id).then_some(id)
}

impl super::Resources for NetnsResources {
    fn runs(&self) -> BTreeMap<String, Vec<String>> {
        let mut runs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for ns in Namespace::list(NS_PREFIX) {
            if let Some(id) = id_of_namespace(&ns) {
                runs.entry(id.to_string()).or_default().push(ns);
            }
        }
        runs
    }

    fn remove_run(&self, run_id: &str) -> std::result::Result<usize, Vec<String>> {
        let mut errors = Vec::new();
        let mut removed = 0;
        for ns in Namespace::list(&format!("{NS_PREFIX}{run_id}-")) {
            match Namespace::remove(&ns) {
                Ok(()) => removed += 1,
                Err(e) => errors.push(format!("removing namespace {ns}: {e}")),
            }
        }
        if errors.is_empty() {
            Ok(removed)
        } else {
            Err(errors)
        }
    }

    fn holder(&self, namespaces: &[String]) -> Option<u32> {
        use std::os::unix::fs::MetadataExt as _;
        let inodes: Vec<String> = namespaces.iter().filter_map(|n| std::fs::metadata(Namespace::path(n)).ok()).map(|m| format!("net:[{}]", m.ino())).collect();
        if inodes.is_empty() {
            return None;
        }
        crate::process::all_pids().into_iter().find(|pid| {
            crate::process::comm(*pid) == "vpnlab"
                && std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
                    fds.filter_map(|e| e.ok()).any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| inodes.iter().any(|i| t.as_os_str() == i.as_str())))
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::id_of_namespace;

    #[test]
    fn run_ids_from_namespace_names() {
        assert_eq!(id_of_namespace("vpnlab-ab12cd-firewall"), Some("ab12cd"));
        assert_eq!(id_of_namespace("vpnlab-ab12cd-azure-gw"), Some("ab12cd"));
        assert_eq!(id_of_namespace("vpnlab-AB12CD-x"), None);
        assert_eq!(id_of_namespace("vpnlab-abc-x"), None);
        assert_eq!(id_of_namespace("other-ab12cd-x"), None);
    }
}
