//! A backend that builds nothing and records what a run asked of it, so that a run's steps
//! (`run::LabRun`) are unit-tested without root. Its commands run `sh -c 'cat >/dev/null'`, never
//! the program asked for, so no test ever touches the host's network.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use futures::future::BoxFuture;
use ipnet::Ipv4Net;

use super::Backend;
use crate::model::Lab;

/// One request a run made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Build { nodes: Vec<String>, links: usize },
    AddAddress { node: String, interface: String, address: Ipv4Net },
    TunnelRoutes { node: String, device: String, prefixes: Vec<Ipv4Net> },
    ReplaceAddress { node: String, interface: String, old: Ipv4Net, new: Ipv4Net },
    Command { node: String, program: PathBuf },
    UdpSocket { node: String, bind: SocketAddr },
    TcpListener { node: String, bind: SocketAddr },
    TcpSocket { node: String, source: Option<Ipv4Addr> },
}

/// The fake; clone the `calls` handle before giving the backend away to read them afterwards.
#[derive(Debug, Default, Clone)]
pub struct FakeBackend {
    pub calls: Arc<Mutex<Vec<Call>>>,
}

impl FakeBackend {
    fn record(&self, c: Call) {
        self.calls.lock().expect("calls").push(c);
    }
}

impl Backend for FakeBackend {
    fn build<'a>(&'a mut self, lab: &'a Lab) -> BoxFuture<'a, Result<()>> {
        self.record(Call::Build { nodes: lab.nodes.iter().map(|n| n.name.clone()).collect(), links: lab.links.len() });
        Box::pin(async { Ok(()) })
    }

    fn add_tunnel_routes<'a>(&'a self, node: &'a str, device: &'a str, prefixes: &'a [Ipv4Net]) -> BoxFuture<'a, Result<()>> {
        self.record(Call::TunnelRoutes { node: node.into(), device: device.into(), prefixes: prefixes.to_vec() });
        Box::pin(async { Ok(()) })
    }

    fn replace_address<'a>(&'a self, node: &'a str, interface: &'a str, old: Ipv4Net, new: Ipv4Net) -> BoxFuture<'a, Result<()>> {
        self.record(Call::ReplaceAddress { node: node.into(), interface: interface.into(), old, new });
        Box::pin(async { Ok(()) })
    }

    fn add_address<'a>(&'a self, node: &'a str, interface: &'a str, address: Ipv4Net) -> BoxFuture<'a, Result<()>> {
        self.record(Call::AddAddress { node: node.into(), interface: interface.into(), address });
        Box::pin(async { Ok(()) })
    }

    fn command(&self, node: &str, program: &Path) -> Result<Command> {
        self.record(Call::Command { node: node.into(), program: program.to_path_buf() });
        // Reads (and drops) whatever it is fed, ignoring the arguments the caller adds.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "cat >/dev/null"]);
        Ok(cmd)
    }

    fn udp_socket(&self, node: &str, bind: SocketAddr) -> Result<std::net::UdpSocket> {
        self.record(Call::UdpSocket { node: node.into(), bind });
        Ok(std::net::UdpSocket::bind("127.0.0.1:0")?)
    }

    /// On the loopback, whatever was asked: a probe runs end to end without touching the lab.
    fn tcp_listener(&self, node: &str, bind: SocketAddr) -> Result<std::net::TcpListener> {
        self.record(Call::TcpListener { node: node.into(), bind });
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        Ok(listener)
    }

    fn tcp_socket(&self, node: &str, source: Option<Ipv4Addr>) -> Result<tokio::net::TcpSocket> {
        self.record(Call::TcpSocket { node: node.into(), source });
        Ok(tokio::net::TcpSocket::new_v4()?)
    }
}
