//! The behaviours of a running lab that need a clock rather than a configuration: the lab's
//! name server, and the timed behaviours of the IPsec nodes' intents (`ike::intent::Timed`):
//! re-resolving a peer's name while the tunnel is down (the Azure gateway's FQDN local network
//! gateway, every five minutes [S22]), and deleting and rebuilding an IKE SA instead of
//! rekeying it (the Azure gateway's IKEv1 Main Mode rekey [S2]). The devices decided them and
//! their intervals (on the lab's clock); this module only carries them out.
//!
//! It runs inside the process that owns the run: `run`/`test`, or the keeper of a lab left
//! running by `up` (`keeper.rs`). Every action is appended to `supervisor.log` in the run
//! folder.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};

use super::state::RunDir;
use crate::dns;
use crate::driver::Driver;
use crate::ike::intent::{IpsecIntent, Timed};
use crate::model::Lab;
use crate::topology::netns::NetnsBackend;
use crate::topology::Backend;
use crate::wait::within;

/// How long a resolver waits for the lab's name server.
const DNS_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether a lab has anything for a supervisor to do.
pub fn needed(lab: &Lab) -> bool {
    lab.dns.as_ref().is_some_and(|d| d.server.is_some()) || lab.nodes.iter().any(|n| n.intent().is_some_and(|i| !i.clock.is_empty()))
}

/// The daemon of `node`, or `None` (logged) when it is gone: a timed behaviour then stops, as
/// its daemon's lab is being removed.
async fn reach(run: &RunDir, driver: &dyn Driver, node: &str, dir: &Path) -> Option<Box<dyn crate::driver::IkeControl>> {
    match driver.control(node, dir).await {
        Ok(d) => Some(d),
        Err(e) => {
            log(run, &format!("{node}: {e:#}; stopping"));
            None
        }
    }
}

/// `after_s` seconds after `connection`'s IKE SA was established, deletes it and, when
/// `reinitiate`, builds it again a second later (Azure's IKEv1 Main Mode rekey: the tunnel drops
/// and comes back within about 5 s [S2]).
async fn rebuild_ike_sa(
    run: RunDir,
    driver: Arc<dyn Driver>,
    node: String,
    intent: IpsecIntent,
    connection: String,
    after_s: u64,
    reinitiate: bool,
) -> Result<()> {
    let conn = intent.connections.iter().find(|c| c.name == connection).cloned().ok_or_else(|| anyhow!("{node} has no connection {connection}"))?;
    let poll = Duration::from_millis((after_s * 1000 / 20).clamp(200, 60_000));
    let dir = run.node_dir(&node);
    log(&run, &format!("{node}: the IKE SA of {connection} is deleted and rebuilt every {after_s} s (no rekey in place)"));
    loop {
        tokio::time::sleep(poll).await;
        let Some(mut daemon) = reach(&run, driver.as_ref(), &node, &dir).await else { return Ok(()) };
        let sas = daemon.list_sas().await?;
        for sa in sas.iter().filter(|s| s.name == conn.name && s.is_established() && s.established_s >= after_s) {
            let _ = daemon.terminate_ike(&sa.uniqueid).await;
            log(&run, &format!("{node}: IKE SA {} of {connection} deleted after {} s, tunnel down", sa.uniqueid, sa.established_s));
            if reinitiate {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if let Some(child) = conn.children.first() {
                    let result = daemon.initiate(&conn.name, &child.name, Duration::from_secs(5), &mut |_| {}).await;
                    let how = match result {
                        Ok(Ok(())) => "up".to_string(),
                        Ok(Err(e)) => format!("failed: {e}"),
                        Err(e) => format!("failed: {e:#}"),
                    };
                    log(&run, &format!("{node}: rebuilding {}: {how}", conn.name));
                }
            }
        }
    }
}

/// The name records of a running lab: `dns.json` in its run folder, so that `vpnlab dns` can
/// change them while the lab runs.
pub fn records_file(run: &RunDir) -> PathBuf {
    run.path.join("dns.json")
}

pub fn read_records(file: &Path) -> BTreeMap<String, Ipv4Addr> {
    std::fs::read(file).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

pub fn write_records(file: &Path, records: &BTreeMap<String, Ipv4Addr>) -> Result<()> {
    let tmp = file.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(records)?)?;
    std::fs::rename(&tmp, file)?;
    Ok(())
}

fn log(run: &RunDir, line: &str) {
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(run.path.join("supervisor.log")) {
        let _ = writeln!(f, "{} {line}", super::state::now_secs());
    }
}

/// A UDP socket bound inside a node of the run.
fn socket_in(backend: &dyn Backend, node: &str, bind: SocketAddr) -> Result<tokio::net::UdpSocket> {
    let std_socket = backend.udp_socket(node, bind).with_context(|| format!("opening a UDP socket on {bind} in {node}"))?;
    Ok(tokio::net::UdpSocket::from_std(std_socket)?)
}

/// The lab's name server: answers A questions from the records file on UDP 53 of `node`.
async fn serve_dns(run: RunDir, backend: Arc<dyn Backend>, node: String) -> Result<()> {
    let socket = socket_in(backend.as_ref(), &node, "0.0.0.0:53".parse().expect("constant"))?;
    log(&run, &format!("dns: answering on {node}:53"));
    let file = records_file(&run);
    let mut buf = [0u8; 512];
    loop {
        let (n, from) = socket.recv_from(&mut buf).await?;
        let Some(q) = dns::parse_query(&buf[..n]) else { continue };
        let records = read_records(&file);
        let found = records.get(&q.name).map(|a| vec![*a]);
        let _ = socket.send_to(&dns::answer(&q, found.as_deref()), from).await;
    }
}

/// Asks the lab's name server from inside `node`; the first IPv4 address of the answer.
async fn resolve(backend: &dyn Backend, node: &str, server: Ipv4Addr, name: &str) -> Result<Option<Ipv4Addr>> {
    let socket = socket_in(backend, node, "0.0.0.0:0".parse().expect("constant"))?;
    let id = (super::state::now_secs() & 0xFFFF) as u16 ^ 0x5a5a;
    socket.send_to(&dns::query(id, name), (server, 53)).await?;
    let mut buf = [0u8; 512];
    let n = within(DNS_TIMEOUT, || format!("the lab's name server {server} to answer for {name}"), async { socket.recv(&mut buf).await }).await?;
    let addrs = dns::parse_response(id, &buf[..n]).map_err(|e| anyhow!("{server} sent {e}"))?;
    // Azure uses only the first IPv4 address of the answer [S22].
    Ok(addrs.first().copied())
}

/// Every `every_s` seconds, while `node` has no established IKE SA for `connection`, resolves
/// `name` and points the connection, its keys and the node's peer filter at a new address.
async fn re_resolve(
    run: RunDir,
    backend: Arc<dyn Backend>,
    driver: Arc<dyn Driver>,
    node: String,
    mut intent: IpsecIntent,
    timed: Timed,
    server: Ipv4Addr,
) -> Result<()> {
    let Timed::ReresolvePeer { connection, name, current, every_s } = timed else { return Ok(()) };
    let interval = Duration::from_secs(every_s);
    let mut current = current;
    let dir = run.node_dir(&node);
    log(&run, &format!("{node}: {name} is {current}; re-resolved every {every_s} s while the tunnel is down"));
    loop {
        tokio::time::sleep(interval).await;
        let Some(mut daemon) = reach(&run, driver.as_ref(), &node, &dir).await else { return Ok(()) };
        let sas = daemon.list_sas().await?;
        if sas.iter().any(|s| s.name == connection && s.is_established()) {
            continue;
        }
        let resolved = match resolve(backend.as_ref(), &node, server, &name).await {
            Ok(Some(a)) => a,
            Ok(None) => {
                log(&run, &format!("{node}: {name} has no address; keeping {current}"));
                continue;
            }
            Err(e) => {
                log(&run, &format!("{node}: resolving {name} failed: {e:#}; keeping {current}"));
                continue;
            }
        };
        if resolved == current {
            continue;
        }
        let (old, new) = (current.to_string(), resolved.to_string());
        for c in intent.connections.iter_mut().filter(|c| c.name == connection) {
            for a in &mut c.remote_addrs {
                if *a == old {
                    a.clone_from(&new);
                }
            }
        }
        for s in &mut intent.secrets {
            for id in &mut s.ids {
                if *id == old {
                    id.clone_from(&new);
                }
            }
        }
        daemon.load(&intent).await?;
        // The node now hears the new address, and no longer the old one.
        if intent.listen.only_from.is_some() {
            nft_in(backend.as_ref(), &node, &crate::topology::nft::replace_peer(current, resolved)).await?;
        }
        log(&run, &format!("{node}: {name} re-resolved while disconnected: {old} -> {new}"));
        current = resolved;
    }
}

/// Applies nft commands inside a node of the run.
async fn nft_in(backend: &dyn Backend, node: &str, commands: &str) -> Result<()> {
    crate::topology::nft::run(backend.command(node, std::path::Path::new(crate::topology::nft::NFT))?, node, commands).await
}

/// Runs until killed (its run's cleanup does that), or until this future is dropped: the
/// tasks live in a JoinSet, which aborts them all when dropped.
pub async fn supervise(run: RunDir, lab: Lab, driver: Arc<dyn Driver>) -> Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    // The nodes this supervisor acts in: the name server and the nodes whose peer it re-resolves.
    let reresolves = |n: &crate::model::Node| n.intent().is_some_and(|i| i.clock.iter().any(|t| matches!(t, Timed::ReresolvePeer { .. })));
    let nodes: Vec<&str> = lab
        .nodes
        .iter()
        .filter(|n| lab.dns.as_ref().and_then(|d| d.server.as_deref()) == Some(n.name.as_str()) || reresolves(n))
        .map(|n| n.name.as_str())
        .collect();
    let backend: Arc<dyn Backend> = Arc::new(NetnsBackend::attach(&run.id, &nodes)?);
    let mut server_addr = None;
    if let Some(server_node) = lab.dns.as_ref().and_then(|d| d.server.clone()) {
        let addr = lab
            .node(&server_node)
            .and_then(|n| n.interfaces.first())
            .map(|i| i.address.addr())
            .ok_or_else(|| anyhow!("the name server node {server_node} has no address"))?;
        tasks.spawn(serve_dns(run.clone(), backend.clone(), server_node));
        server_addr = Some(addr);
    }
    for n in &lab.nodes {
        let Some(intent) = n.intent() else { continue };
        for timed in &intent.clock {
            match timed {
                Timed::ReresolvePeer { name, .. } => match server_addr {
                    Some(server) => {
                        tasks.spawn(re_resolve(run.clone(), backend.clone(), driver.clone(), n.name.clone(), intent.clone(), timed.clone(), server));
                    }
                    None => log(&run, &format!("{}: no name server in the lab, so {name} is not re-resolved", n.name)),
                },
                Timed::RebuildIkeSa { connection, after_s, reinitiate } => {
                    tasks.spawn(rebuild_ike_sa(run.clone(), driver.clone(), n.name.clone(), intent.clone(), connection.clone(), *after_s, *reinitiate));
                }
            }
        }
    }
    while let Some(t) = tasks.join_next().await {
        match t {
            Ok(Ok(())) => {}
            Ok(Err(e)) => log(&run, &format!("stopped: {e:#}")),
            Err(e) => log(&run, &format!("stopped: {e}")),
        }
    }
    Ok(())
}
