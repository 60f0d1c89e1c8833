//! The behaviours of a running lab that need a clock rather than a configuration: the lab's
//! name server, the Azure gateway re-resolving an FQDN local network gateway every five
//! minutes while its tunnel is down [S22], and the gateway's IKEv1 Main Mode rekey, which
//! drops the tunnel and rebuilds it [S2]. All follow the lab's time scale.
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
use crate::azure::profile::scaled;
use crate::dns;
use crate::model::{Lab, NodeKind};
use crate::strongswan::{config, control, sas, vici};
use crate::topology::netns::NetnsBackend;
use crate::topology::Backend;
use crate::wait::{within, VICI_ANSWER};

/// Azure refreshes its DNS cache every 5 minutes [S22].
const AZURE_DNS_REFRESH_SECONDS: u64 = 300;
/// How long a resolver waits for the lab's name server.
const DNS_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether a lab has anything for a supervisor to do.
pub fn needed(lab: &Lab) -> bool {
    lab.dns.as_ref().is_some_and(|d| d.server.is_some()) || lab.nodes.iter().any(|n| ikev1_gateway(&n.kind))
}

fn ikev1_gateway(kind: &NodeKind) -> bool {
    matches!(kind, NodeKind::AzureGateway(site) if site.connection.protocol == crate::model::IkeVersion::V1)
}

/// Azure has no in-place IKEv1 rekey: at each Main Mode rekey (90 % of the 28,800 s IKE SA
/// lifetime here) the tunnel drops, and comes back within about 5 s [S2]. The gateway's IKE SA
/// is deleted, and, when the connection mode lets Azure initiate, built again a second later.
async fn ikev1_main_mode_rekey(run: RunDir, lab: Lab, node: String) -> Result<()> {
    let Some(crate::model::Node { kind: NodeKind::AzureGateway(site), .. }) = lab.node(&node).cloned() else {
        return Ok(());
    };
    let renew = scaled(crate::azure::profile::IKE_SA_LIFETIME_SECONDS * 9 / 10, lab.time_scale);
    let poll = Duration::from_millis((renew * 1000 / 20).clamp(200, 60_000));
    let conn = site.profile.connections.first().cloned().ok_or_else(|| anyhow!("{node} has no connection"))?;
    let may_initiate = site.connection.mode != crate::azure::ConnectionMode::ResponderOnly;
    let vici_path = run.node_dir(&node).join("charon.vici");
    log(&run, &format!("{node}: IKEv1 Main Mode rekey every {renew} s drops and rebuilds the tunnel"));
    loop {
        tokio::time::sleep(poll).await;
        let Ok(mut client) = vici::Client::connect(&vici_path).await else {
            log(&run, &format!("{node}: daemon unreachable; stopping"));
            return Ok(());
        };
        let sas = within(VICI_ANSWER, || format!("charon of {node} to list its SAs"), sas::list(&mut client)).await?;
        for sa in sas.iter().filter(|s| s.name == conn.name && s.is_established() && s.established_s >= renew) {
            let _ = control::terminate_ike(&mut client, &sa.uniqueid, Duration::from_secs(2)).await;
            log(&run, &format!("{node}: IKEv1 Main Mode rekey after {} s: IKE SA {} deleted, tunnel down", sa.established_s, sa.uniqueid));
            if may_initiate {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if let Some(child) = conn.children.first() {
                    let result = control::initiate(&mut client, &conn.name, &child.name, Duration::from_secs(5), &mut |_| {}).await;
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

/// Every five (lab) minutes, while the gateway has no established IKE SA for its connection,
/// re-resolves the local network gateway's FQDN and points the connection at the new address.
async fn re_resolve(run: RunDir, backend: Arc<dyn Backend>, lab: Lab, node: String, server: Ipv4Addr) -> Result<()> {
    let Some(crate::model::Node { kind: NodeKind::AzureGateway(site), .. }) = lab.node(&node).cloned() else {
        return Ok(());
    };
    let Some(fqdn) = site.local_gateway.fqdn.clone() else { return Ok(()) };
    let interval = Duration::from_secs(scaled(AZURE_DNS_REFRESH_SECONDS, lab.time_scale));
    let mut current = site.local_gateway.gateway_ip;
    let mut profile = site.profile.clone();
    let vici_path = run.node_dir(&node).join("charon.vici");
    log(&run, &format!("{node}: {fqdn} is {current}; re-resolved every {} s while the tunnel is down", interval.as_secs()));
    loop {
        tokio::time::sleep(interval).await;
        let mut client = match vici::Client::connect(&vici_path).await {
            Ok(c) => c,
            Err(e) => {
                log(&run, &format!("{node}: daemon unreachable ({e}); stopping"));
                return Ok(());
            }
        };
        let sas = within(VICI_ANSWER, || format!("charon of {node} to list its SAs"), sas::list(&mut client)).await?;
        let connected = sas.iter().any(|s| s.name == site.connection.name && s.is_established());
        if connected {
            continue;
        }
        let resolved = match resolve(backend.as_ref(), &node, server, &fqdn).await {
            Ok(Some(a)) => a,
            Ok(None) => {
                log(&run, &format!("{node}: {fqdn} has no address; keeping {current}"));
                continue;
            }
            Err(e) => {
                log(&run, &format!("{node}: resolving {fqdn} failed: {e:#}; keeping {current}"));
                continue;
            }
        };
        if resolved == current {
            continue;
        }
        let (old, new) = (current.to_string(), resolved.to_string());
        for c in &mut profile.connections {
            for a in &mut c.remote_addrs {
                if *a == old {
                    a.clone_from(&new);
                }
            }
        }
        for s in &mut profile.secrets {
            for id in &mut s.ids {
                if *id == old {
                    id.clone_from(&new);
                }
            }
        }
        for (command, message) in config::messages(&profile) {
            within(VICI_ANSWER, || format!("charon of {node} to answer `{command}`"), client.call(command, message)).await?;
        }
        // The gateway now hears the new address, and no longer the old one.
        let update = format!(
            "add element inet {t} {s} {{ {new} }}\ndelete element inet {t} {s} {{ {old} }}\n",
            t = crate::azure::profile::AZURE_NFT_TABLE,
            s = crate::azure::profile::AZURE_PEERS_SET
        );
        nft_in(backend.as_ref(), &node, &update).await?;
        log(&run, &format!("{node}: {fqdn} re-resolved while disconnected: {old} -> {new}"));
        current = resolved;
    }
}

/// Applies nft commands inside a node of the run.
async fn nft_in(backend: &dyn Backend, node: &str, commands: &str) -> Result<()> {
    crate::topology::nft::run(backend.command(node, std::path::Path::new(crate::topology::nft::NFT))?, node, commands).await
}

/// Runs until killed (its run's cleanup does that), or until this future is dropped: the
/// tasks live in a JoinSet, which aborts them all when dropped.
pub async fn supervise(run: RunDir, lab: Lab) -> Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    // The nodes this supervisor acts in: the name server and the gateways whose filter it edits.
    let nodes: Vec<&str> = lab
        .nodes
        .iter()
        .filter(|n| lab.dns.as_ref().and_then(|d| d.server.as_deref()) == Some(n.name.as_str()) || matches!(n.kind, NodeKind::AzureGateway(_)))
        .map(|n| n.name.as_str())
        .collect();
    let backend: Arc<dyn Backend> = Arc::new(NetnsBackend::attach(&run.id, &nodes)?);
    if let Some(server_node) = lab.dns.as_ref().and_then(|d| d.server.clone()) {
        let server_addr = lab
            .node(&server_node)
            .and_then(|n| n.interfaces.first())
            .map(|i| i.address.addr())
            .ok_or_else(|| anyhow!("the name server node {server_node} has no address"))?;
        tasks.spawn(serve_dns(run.clone(), backend.clone(), server_node));
        for n in &lab.nodes {
            if matches!(&n.kind, NodeKind::AzureGateway(site) if site.local_gateway.fqdn.is_some()) {
                tasks.spawn(re_resolve(run.clone(), backend.clone(), lab.clone(), n.name.clone(), server_addr));
            }
        }
    }
    for n in lab.nodes.iter().filter(|n| ikev1_gateway(&n.kind)) {
        tasks.spawn(ikev1_main_mode_rekey(run.clone(), lab.clone(), n.name.clone()));
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
