//! A run: build the lab, start and configure the daemons, bring the tunnel up, probe, reach
//! verdicts, tear down. Every phase is timed; every wait is bounded and says what it waited for.
//!
//! Invariant: a [`LabRun`] exists from the moment its run folder does, and whatever happens
//! after, `teardown` (or `cleanup::teardown` from another process) removes all of it.

pub mod active;
pub mod cleanup;
pub mod discover;
pub mod execute;
pub mod interrupt;
pub mod keeper;
pub mod probe;
pub mod record;
pub mod state;
pub mod supervisor;
pub mod verdict;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use serde::Serialize;
use tokio::task::JoinHandle;

use self::state::{RunDir, RunState};
use crate::driver::{DaemonSpec, Driver, IkeDaemon};
use crate::evidence::event::{self, What};
use crate::evidence::sa::IkeSa;
use crate::evidence::timeline::Timeline;
use crate::model::{Lab, NextHop, NodeKind};
use crate::topology::netns::NetnsBackend;
use crate::topology::{nft, Backend};

/// The BGP state of every speaker of a running lab, asked over the speakers' sockets in the run
/// folder (from any process: `vpnlab status` of a kept lab). A speaker that does not answer is
/// an error of its own; the others are still asked.
pub async fn live_bgp(run: &RunDir, lab: &Lab) -> BTreeMap<String, Result<crate::bgp::BgpSnapshot>> {
    let mut out = BTreeMap::new();
    for node in lab.ipsec_nodes() {
        let Some(intent) = node.ipsec().and_then(|i| i.bgp.as_ref()) else { continue };
        let peers: Vec<_> = intent.neighbors.iter().map(|n| (n.address, n.remote_asn)).collect();
        out.insert(node.name.clone(), crate::frr::snapshot_at(&run.node_dir(&node.name).join("frr"), intent.asn, &peers).await);
    }
    out
}

/// The driver of every IPsec node: strongSwan's charon (the only one so far).
pub fn driver() -> Arc<dyn Driver> {
    Arc::new(crate::strongswan::driver::Strongswan)
}

/// Bounds of the waits of a run.
#[derive(Debug, Clone)]
pub struct Timeouts {
    /// From spawning a daemon to VICI answering.
    pub daemon_ready: Duration,
    /// From `initiate` to the CHILD SA (or the failure).
    pub initiate: Duration,
    /// From spawning a node's FRR to bgpd answering.
    pub routing_ready: Duration,
    /// From the tunnel up to every BGP session established with its routes exchanged (or a
    /// refusal seen); a session that never starts (both sides passive) waits this long.
    pub bgp_settle: Duration,
    /// With nobody told to initiate: how long the run watches for an IKE SA to appear.
    pub nobody_watch: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            daemon_ready: Duration::from_secs(5),
            initiate: Duration::from_secs(8),
            routing_ready: Duration::from_secs(5),
            bgp_settle: Duration::from_secs(5),
            nobody_watch: Duration::from_secs(2),
        }
    }
}

const PAUSE: Duration = Duration::from_secs(60);

/// The data path this build uses, and what that means for results (named in every report).
pub const DATA_PATH: &str = "kernel-libipsec";
pub const DATA_PATH_LIMITS: &str =
    "userspace ESP over the TUN device ipsec0: ESP is always UDP-encapsulated (port 4500), tunnel MTU fixed at 1400, no trap/acquire, a CHILD SA's local selector must hold an address of the node";

#[derive(Debug, Clone, Serialize)]
pub struct PhaseTime {
    pub phase: &'static str,
    pub ms: f64,
}

struct Daemon {
    daemon: Box<dyn IkeDaemon>,
    /// Killed on purpose by a scenario step.
    killed: bool,
}

pub struct LabRun {
    pub lab: Lab,
    pub run: RunDir,
    state: RunState,
    backend: Box<dyn Backend>,
    driver: Arc<dyn Driver>,
    daemons: BTreeMap<String, Daemon>,
    /// The BGP speakers (FRR) by node.
    speakers: BTreeMap<String, crate::frr::Speaker>,
    pub timeline: Timeline,
    pub phases: Vec<PhaseTime>,
    phase_start: Instant,
    watchers: Vec<JoinHandle<()>>,
    pub timeouts: Timeouts,
}

pub use crate::evidence::InitiateOutcome;

impl LabRun {
    /// Records the run in `run` (a claimed run folder, or a new one); nothing else exists yet.
    pub fn create(run: Option<RunDir>, lab: Lab, mode: &str) -> Result<LabRun> {
        let run = match run {
            Some(r) => r,
            None => RunDir::create()?,
        };
        active::register(&run);
        let state = RunState {
            run_id: run.id.clone(),
            lab: lab.name.clone(),
            lab_path: lab.source.parent().map(|p| p.display().to_string()).unwrap_or_default(),
            started: state::now_secs(),
            owner_pid: std::process::id(),
            owner_start: crate::process::ProcessId::me().start,
            user: crate::process::user_id(),
            mode: mode.to_string(),
            nodes: lab.nodes.iter().map(|n| n.name.clone()).collect(),
            daemons: Vec::new(),
        };
        run.save(&state)?;
        std::fs::copy(&lab.source, run.lab_copy()).with_context(|| format!("copying {} to {}", lab.source.display(), run.lab_copy().display()))?;
        if let Some(dns) = &lab.dns {
            supervisor::write_records(&supervisor::records_file(&run), &dns.records.iter().cloned().collect())?;
        }
        let backend: Box<dyn Backend> = Box::new(NetnsBackend::new(&run.id));
        Ok(LabRun {
            lab,
            run,
            state,
            backend,
            driver: driver(),
            daemons: BTreeMap::new(),
            speakers: BTreeMap::new(),
            timeline: Timeline::new(Instant::now()),
            phases: Vec::new(),
            phase_start: Instant::now(),
            watchers: Vec::new(),
            timeouts: Timeouts::default(),
        })
    }

    /// Puts the run's nodes on another backend, before anything is built (tests give a run a
    /// fake one).
    pub fn use_backend(&mut self, backend: Box<dyn Backend>) {
        self.backend = backend;
    }

    /// Runs the IPsec nodes with another driver, before any daemon starts (tests give a run a
    /// scripted one).
    pub fn use_driver(&mut self, driver: Arc<dyn Driver>) {
        self.driver = driver;
    }

    fn end_phase(&mut self, phase: &'static str) {
        let now = Instant::now();
        self.phases.push(PhaseTime { phase, ms: (now - self.phase_start).as_secs_f64() * 1000.0 });
        self.phase_start = now;
    }

    /// `VPNLAB_PAUSE_AFTER=<phase>` holds the run for up to a minute after that phase: to look
    /// at a half-built lab (teaching), and for tests that interrupt a bring-up. The pause does
    /// not count towards the next phase's time.
    pub async fn pause_point(&mut self, phase: &str) {
        if std::env::var("VPNLAB_PAUSE_AFTER").ok().as_deref() == Some(phase) {
            eprintln!("paused after `{phase}` for 60 s (VPNLAB_PAUSE_AFTER); Ctrl-C removes the lab");
            tokio::time::sleep(PAUSE).await;
            self.phase_start = Instant::now();
        }
    }

    /// Namespaces, links, addresses, routes and the NAT routers' rulesets.
    pub async fn build_topology(&mut self) -> Result<()> {
        self.phase_start = Instant::now();
        self.backend.build(&self.lab).await?;
        for node in &self.lab.nodes {
            let ruleset = match &node.kind {
                NodeKind::NatRouter(nat) => Some(nft::render(nat)),
                NodeKind::Ipsec(ipsec) => nft::render_ipsec(&ipsec.intent),
                _ => None,
            };
            if let Some(ruleset) = ruleset {
                let file = self.run.node_dir(&node.name).join("nftables.conf");
                std::fs::create_dir_all(self.run.node_dir(&node.name))
                    .and_then(|_| std::fs::write(&file, &ruleset))
                    .with_context(|| format!("writing {}", file.display()))?;
                nft::apply(self.backend.as_ref(), &node.name, &ruleset).await?;
            }
        }
        self.end_phase("namespaces and links");
        Ok(())
    }

    /// One daemon per IPsec node, started together; waits until each answers. Every pid is in
    /// the state file before the wait, so cleanup finds a daemon whatever happens next.
    pub async fn start_daemons(&mut self) -> Result<()> {
        let nodes: Vec<String> = self.lab.ipsec_nodes().map(|n| n.name.clone()).collect();
        self.spawn_daemons(&nodes).await?;
        self.end_phase("daemons ready");
        Ok(())
    }

    /// Starts the daemons of `nodes` with their intents and waits until each answers (bounded);
    /// every pid is in the state file before the wait.
    async fn spawn_daemons(&mut self, nodes: &[String]) -> Result<()> {
        let specs: Vec<DaemonSpec> = nodes
            .iter()
            .filter_map(|name| self.lab.node(name))
            .map(|n| DaemonSpec { node: n.name.clone(), dir: self.run.node_dir(&n.name), intent: n.intent().expect("ipsec node").clone() })
            .collect();
        let (state, run) = (&mut self.state, &self.run);
        let mut spawned = |node: &str, pid: u32| {
            state.daemons.push((node.to_string(), pid));
            run.save(state)
        };
        let ready = self.timeouts.daemon_ready;
        let daemons = self.driver.start(self.backend.as_ref(), &self.run.id, specs, ready, &mut spawned).await?;
        for daemon in daemons {
            self.daemons.insert(daemon.node().to_string(), Daemon { daemon, killed: false });
        }
        Ok(())
    }

    /// Keys and connections into each daemon, event watchers, and the routes into the tunnels.
    pub async fn load_configs(&mut self) -> Result<()> {
        let nodes: Vec<String> = self.lab.ipsec_nodes().map(|n| n.name.clone()).collect();
        for node in &nodes {
            self.configure_daemon(node).await?;
        }
        self.end_phase("configs loaded");
        Ok(())
    }

    /// One daemon's keys and connections, its event watcher, and the routes into its tunnel
    /// interface (which starts empty whenever the daemon starts).
    async fn configure_daemon(&mut self, name: &str) -> Result<()> {
        let node = self.lab.node(name).ok_or_else(|| anyhow!("no node {name}"))?;
        let d = self.daemons.get_mut(name).ok_or_else(|| anyhow!("no daemon for {name}"))?;
        d.daemon.load(node.intent().expect("ipsec node")).await?;
        self.watchers.extend(d.daemon.watch(self.timeline.clone()).await?);
        let tunnel_prefixes: Vec<_> = node.routes.iter().filter(|r| r.via == NextHop::Tunnel).map(|r| r.to).collect();
        // Always remove charon's catch-all rule, even without tunnel routes.
        self.backend.add_tunnel_routes(name, "ipsec0", &tunnel_prefixes).await
    }

    /// The BGP speakers: each node's BGP addresses (its loopback /32, a transit address on the
    /// tunnel interface), then zebra and bgpd on every node at once, each waited for. Before the
    /// tunnel: nothing a speaker sends can reach a peer until the CHILD SA exists (kernel-libipsec
    /// drops it, TCP sends the SYN again a second later), so no speaker ever meets a peer that
    /// is not listening yet and waits out a connect-retry timer.
    pub async fn start_routing(&mut self) -> Result<()> {
        let speakers: Vec<(String, crate::bgp::BgpIntent)> = self.lab.ipsec_nodes().filter_map(|n| Some((n.name.clone(), n.ipsec()?.bgp.clone()?))).collect();
        if speakers.is_empty() {
            return Ok(());
        }
        for (node, intent) in &speakers {
            for (on, address) in &intent.addresses {
                let interface = match on {
                    crate::bgp::AddressOn::Loopback => "lo",
                    crate::bgp::AddressOn::Tunnel => "ipsec0",
                };
                self.backend.add_address(node, interface, *address).await?;
            }
        }
        let ready = self.timeouts.routing_ready;
        let (backend, run) = (self.backend.as_ref(), &self.run);
        let dirs: Vec<std::path::PathBuf> = speakers.iter().map(|(node, _)| run.node_dir(node)).collect();
        let started = futures::future::try_join_all(
            speakers.iter().zip(&dirs).map(|((node, intent), dir)| crate::frr::Speaker::start(backend, &run.id, node, dir, intent, ready)),
        )
        .await?;
        for s in started {
            self.state.daemons.extend(s.pids().into_iter().map(|p| (s.node.clone(), p)));
            self.speakers.insert(s.node.clone(), s);
        }
        self.run.save(&self.state)?;
        self.end_phase("routing ready");
        Ok(())
    }

    /// Whether the lab runs BGP.
    pub fn has_speakers(&self) -> bool {
        !self.speakers.is_empty()
    }

    /// Every speaker's state, by node.
    pub async fn bgp_snapshots(&self) -> Result<BTreeMap<String, crate::bgp::BgpSnapshot>> {
        let mut out = BTreeMap::new();
        for (node, s) in &self.speakers {
            out.insert(node.clone(), s.snapshot().await?);
        }
        Ok(out)
    }

    /// With nobody told to initiate: waits `within` and says whether any IKE SA appeared on any
    /// node (a device that starts on its own) or none did (both ends waiting).
    pub async fn watch_nobody(&mut self, within: Duration) -> Result<String> {
        tokio::time::sleep(within).await;
        let sas = self.all_sas().await?;
        self.end_phase("nobody initiates");
        let started: Vec<String> = sas.iter().filter(|(_, list)| !list.is_empty()).map(|(n, _)| n.clone()).collect();
        Ok(if started.is_empty() {
            format!("nobody initiated: no IKE SA on any node after {} s", within.as_secs_f64())
        } else {
            format!("nobody was told to initiate; IKE SAs appeared on {} within {} s", started.join(", "), within.as_secs_f64())
        })
    }

    /// Waits, at most `within`, until BGP has settled: every session established with each
    /// side holding what the other sent, or a session refused or dropped (a NOTIFICATION). Says
    /// how it ended and after how long.
    pub async fn wait_bgp_settled(&mut self, within: Duration) -> Result<String> {
        let start = Instant::now();
        let mut previous = None;
        loop {
            let snaps = self.bgp_snapshots().await?;
            // Settled, and the same on two looks in a row.
            let installs = |node: &str| self.lab.node(node).and_then(|n| n.ipsec()).and_then(|i| i.bgp.as_ref()).is_none_or(|b| b.install_routes);
            let exchanged = snaps.iter().all(|(node, s)| s.settled(installs(node))) && previous.as_ref() == Some(&snaps);
            previous = Some(snaps.clone());
            let secs = start.elapsed().as_secs_f64();
            if exchanged {
                self.end_phase("bgp settled");
                return Ok(format!("BGP established and routes exchanged {secs:.1} s after the tunnel"));
            }
            if snaps.values().any(|s| s.notified()) {
                self.end_phase("bgp settled");
                return Ok(format!("a BGP session was refused or dropped (NOTIFICATION) {secs:.1} s after the tunnel"));
            }
            if start.elapsed() >= within {
                self.end_phase("bgp settled");
                return Ok(format!("BGP had not settled {} s after the tunnel", within.as_secs()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Initiates the plan's first child on the initiator; waits for the result (bounded).
    pub async fn initiate(&mut self) -> Result<InitiateOutcome> {
        let node = self.lab.plan.initiator.clone();
        let timeout = self.timeouts.initiate;
        let mut outcome = self.initiate_from(&node, timeout).await?;
        // A device whose first offer was refused with Phase 1 kept may try another child (an
        // Azure gateway falls back from 0/0 to the VNet x local network prefixes, field report
        // [S15], rule initiator-selector-fallback).
        let fallback = self.lab.node(&node).and_then(|n| n.intent()).and_then(|i| i.first_child()).and_then(|(c, _)| c.fallback_child.clone());
        if let (false, Some(child)) = (outcome.success, fallback) {
            let ike_up = self.list_sas(&node).await?.iter().any(|s| s.is_established());
            if ike_up {
                self.timeline.push(&node, What::Fallback { child: child.clone() });
                let first_ms = outcome.ms;
                outcome = self.initiate_child(&node, Some(&child), timeout).await?;
                outcome.ms += first_ms;
            }
        }
        // A device whose first exchange got no IKE SA at all may start again with another IKE
        // version (PAN-OS ikev2-preferred falls back to IKEv1).
        let version_fallback = self
            .lab
            .node(&node)
            .and_then(|n| n.intent())
            .and_then(|i| i.first_child())
            .and_then(|(c, _)| c.version_fallback.clone())
            .and_then(|name| self.lab.node(&node).and_then(|n| n.intent()).and_then(|i| i.connections.iter().find(|c| c.name == name)).cloned());
        if let (false, Some(conn)) = (outcome.success, version_fallback) {
            let ike_up = self.list_sas(&node).await?.iter().any(|s| s.is_established());
            if let (false, Some(child)) = (ike_up, conn.children.first()) {
                self.timeline.push(&node, What::VersionFallback { connection: conn.name.clone(), version: conn.version.number() });
                let first_ms = outcome.ms;
                outcome = self.initiate_pair(&node, &conn.name, &child.name, timeout).await?;
                outcome.ms += first_ms;
            }
        }
        // A device that brings up every child with the tunnel (PAN-OS: an SA per proxy-ID):
        // the others follow the first. Their outcomes are on the timeline and in the SAs.
        if outcome.success {
            let intent = self.lab.node(&node).and_then(|n| n.intent());
            let conn = intent.and_then(|i| i.connections.iter().find(|c| c.name == outcome.connection)).filter(|c| c.start_every_child);
            let others: Vec<String> = conn
                .map(|c| {
                    c.children.iter().filter(|ch| ch.name != outcome.child && Some(&ch.name) != c.fallback_child.as_ref()).map(|ch| ch.name.clone()).collect()
                })
                .unwrap_or_default();
            let conn_name = outcome.connection.clone();
            for child in others {
                self.initiate_pair(&node, &conn_name, &child, timeout).await?;
            }
        }
        self.end_phase("tunnel up");
        Ok(outcome)
    }

    /// The lab's clock-driven behaviours (`supervisor.rs`) for the length of this run, when the
    /// lab has any. (A lab kept by `up` is run by its supervisor process, so they run there.)
    pub fn start_supervisor(&mut self) {
        if supervisor::needed(&self.lab) {
            let (run, lab, driver) = (self.run.clone(), self.lab.clone(), self.driver.clone());
            self.watchers.push(tokio::spawn(async move {
                let _ = supervisor::supervise(run, lab, driver).await;
            }));
        }
    }

    /// Gives `node`'s `interface` a new address; returns the old one.
    pub async fn replace_address(&mut self, node: &str, interface: &str, new: ipnet::Ipv4Net) -> Result<ipnet::Ipv4Net> {
        let old = self
            .lab
            .node(node)
            .and_then(|n| n.interfaces.iter().find(|i| i.name == interface))
            .map(|i| i.address)
            .ok_or_else(|| anyhow!("no interface {node}:{interface}"))?;
        self.backend.replace_address(node, interface, old, new).await?;
        Ok(old)
    }

    /// Initiates `node`'s first connection's first child (bounded by `timeout`).
    pub async fn initiate_from(&mut self, node: &str, timeout: Duration) -> Result<InitiateOutcome> {
        self.initiate_child(node, None, timeout).await
    }

    /// Initiates `child` (default: the first) of `node`'s first connection.
    pub async fn initiate_child(&mut self, node: &str, child: Option<&str>, timeout: Duration) -> Result<InitiateOutcome> {
        let node = node.to_string();
        let lab_node = self.lab.node(&node).ok_or_else(|| anyhow!("no initiator node {node}"))?;
        let intent = lab_node.intent().ok_or_else(|| anyhow!("{node} runs no IKE daemon"))?;
        let (conn, child) = match child {
            Some(name) => intent.child(name),
            None => intent.first_child(),
        }
        .ok_or_else(|| anyhow!("{node} has no connection with the child to initiate"))?;
        let (conn_name, child_name) = (conn.name.clone(), child.name.clone());
        self.initiate_pair(&node, &conn_name, &child_name, timeout).await
    }

    /// Initiates one child of one connection on `node`; waits for the result (bounded).
    async fn initiate_pair(&mut self, node: &str, conn_name: &str, child_name: &str, timeout: Duration) -> Result<InitiateOutcome> {
        let node = node.to_string();
        let (conn_name, child_name) = (conn_name.to_string(), child_name.to_string());
        let d = self.daemons.get_mut(&node).ok_or_else(|| anyhow!("no daemon for {node}"))?;
        let timeline = self.timeline.clone();
        let started = Instant::now();
        let mut on_log = |line: String| {
            let notify = event::received_notify(&line);
            timeline.push(&node, What::ControlLog { retransmit: event::retransmitted_message(&line), line });
            if let Some(notify) = notify {
                timeline.push(&node, What::Notify { notify });
            }
        };
        let result = d.daemon.initiate(&conn_name, &child_name, timeout, &mut on_log).await?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(InitiateOutcome { node, connection: conn_name, child: child_name, success: result.is_ok(), error: result.err(), ms })
    }

    /// All SAs of one daemon.
    pub async fn list_sas(&mut self, node: &str) -> Result<Vec<IkeSa>> {
        let d = self.daemons.get_mut(node).ok_or_else(|| anyhow!("no daemon for {node}"))?;
        d.daemon.list_sas().await
    }

    /// All SAs of every daemon still running, by node (a killed daemon has none).
    pub async fn all_sas(&mut self) -> Result<BTreeMap<String, Vec<IkeSa>>> {
        let nodes: Vec<String> = self.daemons.iter().filter(|(_, d)| !d.killed).map(|(n, _)| n.clone()).collect();
        let mut out = BTreeMap::new();
        for n in nodes {
            let sas = self.list_sas(&n).await?;
            out.insert(n, sas);
        }
        Ok(out)
    }

    /// Pings as a probe says. With the tunnel up: a second attempt, each waiting a second (a
    /// lost first echo is worth a retry). Without it nothing can answer (every probe crosses the
    /// tunnel): one attempt, waiting 200 ms, so a definitive failure is not decided by pings.
    /// The run's backend, for probes a step runs itself.
    pub fn backend_ref(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    pub async fn ping(&self, p: &crate::model::Ping, tunnel_up: bool) -> probe::PingResult {
        let (attempts, wait) = if tunnel_up { (2, Duration::from_secs(1)) } else { (1, Duration::from_millis(200)) };
        probe::ping(self.backend.as_ref(), &self.run.id, p, attempts, wait).await
    }

    /// Starts a rekey of `node`'s installed CHILD SA from `node` and waits, at most `within`,
    /// for its outcome on the timeline: a child rekey event, or a refusal (an alert or a notify
    /// on either side).
    pub async fn rekey(&mut self, node: &str, within: Duration) -> Result<crate::evidence::RekeyOutcome> {
        use crate::evidence::alert::AlertKind;
        use crate::evidence::event::{Change, Notify};
        let sas = self.list_sas(node).await?;
        let Some(child) = sas.iter().filter(|sa| sa.is_established()).find_map(|sa| sa.installed().map(|c| c.name.clone())) else {
            return Ok(crate::evidence::RekeyOutcome {
                node: node.to_string(),
                child: String::new(),
                success: false,
                detail: format!("{node} has no installed CHILD SA to rekey"),
            });
        };
        let since = self.timeline.now_ms();
        let d = self.daemons.get_mut(node).ok_or_else(|| anyhow!("no daemon for {node}"))?;
        let outcome = |success: bool, detail: String| crate::evidence::RekeyOutcome { node: node.to_string(), child: child.clone(), success, detail };
        if let Err(e) = d.daemon.rekey_child(&child).await? {
            return Ok(outcome(false, format!("{node} could not start the rekey: {e}")));
        }
        let started = Instant::now();
        loop {
            let events = self.timeline.snapshot();
            for ev in events.iter().filter(|e| e.at_ms >= since) {
                match &ev.what {
                    What::Child { change: Change::Rekeyed, .. } => return Ok(outcome(true, format!("CHILD SA rekeyed ({} reported it)", ev.node))),
                    What::Alert { kind: AlertKind::ProposalMismatchChild, .. } => {
                        return Ok(outcome(false, format!("refused: PROPOSAL_MISMATCH_CHILD on {}", ev.node)));
                    }
                    What::Notify { notify: Notify::NoProposalChosen } => {
                        return Ok(outcome(false, format!("refused: NO_PROPOSAL_CHOSEN received by {}", ev.node)))
                    }
                    _ => {}
                }
            }
            if started.elapsed() >= within {
                return Ok(outcome(false, format!("no rekey and no refusal within {} s", within.as_secs_f64())));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// kill -9 a node's IKE daemon (a scenario's dead peer).
    /// Brings a node's IKE daemon back with no SAs: kills it (no delete reaches the peer),
    /// waits `down_for`, starts it again with the same configuration, and restores what lived
    /// on its tunnel interface (the routes into it, a BGP transit address): a gateway after
    /// maintenance, or (with no downtime) an instance failover that forgot every SA.
    pub async fn restart_daemon(&mut self, node: &str, down_for: Duration) -> Result<()> {
        let n = self.lab.node(node).ok_or_else(|| anyhow!("no node {node}"))?;
        n.intent().ok_or_else(|| anyhow!("{node} runs no IKE daemon"))?;
        let tunnel_addresses: Vec<_> = n
            .ipsec()
            .and_then(|i| i.bgp.as_ref())
            .map(|b| b.addresses.iter().filter(|(on, _)| *on == crate::bgp::AddressOn::Tunnel).map(|(_, a)| *a).collect())
            .unwrap_or_default();
        if let Some(mut old) = self.daemons.remove(node) {
            old.daemon.kill()?;
        }
        if !down_for.is_zero() {
            tokio::time::sleep(down_for).await;
        }
        self.spawn_daemons(&[node.to_string()]).await?;
        self.configure_daemon(node).await?;
        // The BGP transit address lived on the old tunnel interface.
        for a in tunnel_addresses {
            self.backend.add_address(node, "ipsec0", a).await?;
        }
        Ok(())
    }

    pub fn kill_daemon(&mut self, node: &str) -> Result<()> {
        let d = self.daemons.get_mut(node).ok_or_else(|| anyhow!("{node} runs no IKE daemon"))?;
        d.killed = true;
        d.daemon.kill()
    }

    pub fn mark_phase(&mut self, phase: &'static str) {
        self.end_phase(phase);
    }

    /// Reaps daemons that exited on their own (a crash), so none stays a zombie while a kept
    /// lab runs; returns the nodes whose daemon is gone.
    pub fn reap_exited(&mut self) -> Vec<String> {
        self.daemons.iter_mut().filter_map(|(n, d)| (!d.killed && d.daemon.has_exited()).then(|| n.clone())).collect()
    }

    /// Removes everything of the run; returns how long it took.
    pub fn teardown(mut self) -> Result<Duration> {
        let start = Instant::now();
        for w in &self.watchers {
            w.abort();
        }
        let mut errors = Vec::new();
        // Signal every daemon first, then reap: their exits overlap instead of queueing.
        for d in self.daemons.values_mut() {
            d.daemon.signal_kill();
        }
        for d in self.daemons.values_mut() {
            if let Err(e) = d.daemon.kill() {
                errors.push(e.to_string());
            }
        }
        drop(self.daemons);
        // Dropping a speaker kills and reaps its zebra and bgpd.
        drop(self.speakers);
        drop(self.backend);
        if let Err(e) = cleanup::teardown(&self.run) {
            errors.push(e.to_string());
        }
        active::unregister(&self.run);
        if errors.is_empty() {
            Ok(start.elapsed())
        } else {
            Err(anyhow!(errors.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::execute::{execute_run, healthy_judge, AfterRun};
    use super::*;
    use crate::driver::fake::{DriverCall, FakeDriver};
    use crate::topology::fake::{Call, FakeBackend};

    fn shipped_lab(name: &str) -> Lab {
        crate::model::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("labs").join(name)).expect("shipped lab loads")
    }

    /// A run's topology phase against the fake backend: one build of every node and link, and
    /// each ruleset (NAT router, gateway filter, the DUT's tunnel rules) written to the node's
    /// folder and applied with nft in exactly that node. Then teardown removes the run folder.
    #[tokio::test]
    async fn topology_phase_builds_every_node_and_applies_each_ruleset_where_it_belongs() {
        for (lab_name, with_rules) in [("azure-strongswan", vec!["azure-gw", "branch-nat"]), ("azure-pfsense-home", vec!["azure-gw", "fritzbox", "pfsense"])] {
            let lab = shipped_lab(lab_name);
            let tmp = tempfile::tempdir().unwrap();
            let dir = RunDir { id: "fake01".into(), path: tmp.path().join("fake01") };
            std::fs::create_dir_all(&dir.path).unwrap();
            let mut run = LabRun::create(Some(dir.clone()), lab.clone(), "run").unwrap();
            let fake = FakeBackend::default();
            let calls = fake.calls.clone();
            run.use_backend(Box::new(fake));
            run.build_topology().await.unwrap();
            let calls = calls.lock().unwrap().clone();
            assert_eq!(calls[0], Call::Build { nodes: lab.nodes.iter().map(|n| n.name.clone()).collect(), links: lab.links.len() });
            let mut nft_nodes: Vec<String> = calls
                .iter()
                .filter_map(|c| match c {
                    Call::Command { node, program } if program.ends_with("nft") => Some(node.clone()),
                    _ => None,
                })
                .collect();
            nft_nodes.sort();
            assert_eq!(nft_nodes, with_rules, "{lab_name}: nft applied in");
            for node in &with_rules {
                let ruleset = std::fs::read_to_string(dir.node_dir(node).join("nftables.conf")).unwrap();
                assert!(ruleset.contains("table"), "{lab_name}/{node}: {ruleset}");
            }
            assert_eq!(run.phases.iter().map(|p| p.phase).collect::<Vec<_>>(), ["namespaces and links"]);
            run.teardown().unwrap();
            assert!(!dir.path.exists(), "teardown removes the run folder");
        }
    }

    /// A run of `lab` on the fake backend and the fake driver, in a temporary run folder.
    fn fake_run(lab: Lab, driver: &FakeDriver) -> (LabRun, FakeBackend, tempfile::TempDir, RunDir) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir { id: "fake02".into(), path: tmp.path().join("fake02") };
        std::fs::create_dir_all(&dir.path).unwrap();
        let mut run = LabRun::create(Some(dir.clone()), lab, "run").unwrap();
        let backend = FakeBackend::default();
        run.use_backend(Box::new(backend.clone()));
        run.use_driver(Arc::new(driver.clone()));
        (run, backend, tmp, dir)
    }

    /// A whole healthy run without root: every phase in order, the daemons started together and
    /// given their intents, the plan's first child initiated on the plan's initiator, the routes
    /// into the tunnels, both pings, and a teardown that kills every daemon and removes the run.
    #[tokio::test]
    async fn a_whole_run_drives_the_daemons_as_the_plan_says() {
        let lab = shipped_lab("azure-strongswan");
        let driver = FakeDriver::default();
        let (run, backend, _tmp, dir) = fake_run(lab.clone(), &driver);
        let outcome = execute_run(run, Instant::now(), AfterRun::TearDown, &[], &healthy_judge, None).await.unwrap();
        let report = &outcome.report;
        assert_eq!(report.error, None);
        assert_eq!(
            report.phases.iter().map(|p| p.phase).collect::<Vec<_>>(),
            ["namespaces and links", "daemons ready", "configs loaded", "tunnel up", "probes", "teardown"]
        );
        assert!(report.verdicts.iter().all(|v| v.outcome == verdict::Outcome::Pass), "{:#?}", report.verdicts);
        let calls = driver.calls();
        assert_eq!(calls[0], DriverCall::Start { nodes: vec!["firewall".into(), "azure-gw".into()] });
        assert!(calls.contains(&DriverCall::Load { node: "firewall".into(), connections: vec![("azure-ike-gw".into(), vec!["azure-ipsec-tunnel".into()])] }));
        assert!(calls.contains(&DriverCall::Load { node: "azure-gw".into(), connections: vec![("VNet-to-PaloAlto".into(), vec!["VNet-to-PaloAlto".into()])] }));
        let initiates: Vec<&DriverCall> = calls.iter().filter(|c| matches!(c, DriverCall::Initiate { .. })).collect();
        assert_eq!(initiates, [&DriverCall::Initiate { node: "firewall".into(), connection: "azure-ike-gw".into(), child: "azure-ipsec-tunnel".into() }]);
        for node in ["firewall", "azure-gw"] {
            assert!(calls.contains(&DriverCall::Kill { node: node.into() }), "{node} killed at teardown");
        }
        let backend_calls = backend.calls.lock().unwrap().clone();
        assert!(backend_calls.contains(&Call::TunnelRoutes {
            node: "firewall".into(),
            device: "ipsec0".into(),
            prefixes: vec!["10.20.0.0/16".parse().unwrap()]
        }));
        assert!(backend_calls.contains(&Call::TunnelRoutes {
            node: "azure-gw".into(),
            device: "ipsec0".into(),
            prefixes: vec!["10.10.0.0/16".parse().unwrap()]
        }));
        let pings: Vec<&str> = backend_calls
            .iter()
            .filter_map(|c| match c {
                Call::Command { node, program } if program.ends_with("ping") => Some(node.as_str()),
                _ => None,
            })
            .collect();
        // A probe may take a second attempt (the fake's `sh` can lose a race with a loaded
        // host): the probes are the lab's two, in order.
        let mut pings = pings;
        pings.dedup();
        assert_eq!(pings, ["lan-pc", "azure-vm"], "{:#?}", outcome.evidence.pings);
        assert_eq!(outcome.evidence.initiated.as_ref().map(|i| (i.success, i.child.as_str())), Some((true, "azure-ipsec-tunnel")));
        assert!(!dir.path.exists(), "teardown removes the run folder");
    }

    /// Azure initiates, its 0/0 child is refused with Phase 1 up: the run initiates the
    /// intent's fallback child, says so on the timeline, and the outcome is the fallback's.
    #[tokio::test]
    async fn a_refused_first_offer_falls_back_to_the_intents_fallback_child() {
        let shipped = shipped_lab("azure-strongswan");
        let text = std::fs::read_to_string(&shipped.source).unwrap().replace("initiator: firewall", "initiator: azure-gw");
        let lab = crate::model::parse(&shipped.source, &text).unwrap();
        let driver = FakeDriver::refusing(&["VNet-to-PaloAlto"]);
        let (run, _backend, _tmp, _dir) = fake_run(lab, &driver);
        let outcome = execute_run(run, Instant::now(), AfterRun::TearDown, &[], &healthy_judge, None).await.unwrap();
        let initiates: Vec<String> = driver
            .calls()
            .into_iter()
            .filter_map(|c| match c {
                DriverCall::Initiate { node, child, .. } => Some(format!("{node}/{child}")),
                _ => None,
            })
            .collect();
        assert_eq!(initiates, ["azure-gw/VNet-to-PaloAlto", "azure-gw/VNet-to-PaloAlto-fallback"]);
        assert!(outcome.evidence.events.iter().any(|e| matches!(&e.what, What::Fallback { child } if child == "VNet-to-PaloAlto-fallback")));
        assert!(outcome.evidence.events.iter().any(|e| matches!(&e.what, What::Notify { .. })), "the refusal's notify is typed evidence");
        assert_eq!(outcome.evidence.initiated.as_ref().map(|i| (i.success, i.child.as_str())), Some((true, "VNet-to-PaloAlto-fallback")));
    }

    /// A PAN-OS firewall on ikev2-preferred whose IKEv2 offer nobody answers: the run starts
    /// again over the intent's IKEv1 connection, says so on the timeline, and the outcome is
    /// the fallback's.
    #[tokio::test]
    async fn an_unanswered_first_exchange_falls_back_to_the_intents_other_version() {
        let shipped = shipped_lab("azure-paloalto");
        let text = std::fs::read_to_string(&shipped.source).unwrap().replace("config: dut/running-config.set", "config: dut/variants/ikev2-preferred.set");
        let lab = crate::model::parse(&shipped.source, &text).unwrap();
        let driver = FakeDriver::unanswered(&["azure-ike-gw"]);
        let (run, _backend, _tmp, _dir) = fake_run(lab, &driver);
        let outcome = execute_run(run, Instant::now(), AfterRun::TearDown, &[], &healthy_judge, None).await.unwrap();
        let initiates: Vec<String> = driver
            .calls()
            .into_iter()
            .filter_map(|c| match c {
                DriverCall::Initiate { node, connection, child } => Some(format!("{node}/{connection}/{child}")),
                _ => None,
            })
            .collect();
        assert_eq!(initiates, ["firewall/azure-ike-gw/azure-ipsec-tunnel:azure-any", "firewall/azure-ike-gw-ikev1/azure-ipsec-tunnel:azure-any"]);
        assert!(outcome
            .evidence
            .events
            .iter()
            .any(|e| matches!(&e.what, What::VersionFallback { connection, version: 1 } if connection == "azure-ike-gw-ikev1")));
        let initiated = outcome.evidence.initiated.as_ref().map(|i| (i.success, i.connection.as_str()));
        assert_eq!(initiated, Some((true, "azure-ike-gw-ikev1")));
    }

    /// Daemons that cannot start: the run ends with the error, nothing left, no initiate.
    #[tokio::test]
    async fn a_run_whose_daemons_cannot_start_is_removed() {
        let driver = FakeDriver::default();
        driver.script.lock().unwrap().fail_start = Some("charon of firewall exited during start".into());
        let (run, _backend, _tmp, dir) = fake_run(shipped_lab("azure-pfsense-home"), &driver);
        let outcome = execute_run(run, Instant::now(), AfterRun::TearDown, &[], &healthy_judge, None).await.unwrap();
        assert!(outcome.report.error.as_deref().is_some_and(|e| e.contains("charon of firewall exited during start")), "{:?}", outcome.report.error);
        assert!(outcome.report.verdicts.is_empty());
        assert!(!driver.calls().iter().any(|c| matches!(c, DriverCall::Initiate { .. })));
        assert!(!dir.path.exists(), "teardown removes the run folder");
    }
}
