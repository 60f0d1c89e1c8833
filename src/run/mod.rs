//! A run: build the lab, start and configure the daemons, bring the tunnel up, probe, reach
//! verdicts, tear down. Every phase is timed; every wait is bounded and says what it waited for.
//!
//! Invariant: a [`LabRun`] exists from the moment its run folder does, and whatever happens
//! after, `teardown` (or `cleanup::teardown` from another process) removes all of it.

pub mod active;
pub mod cleanup;
pub mod discover;
pub mod events;
pub mod execute;
pub mod interrupt;
pub mod keeper;
pub mod probe;
pub mod record;
pub mod state;
pub mod supervisor;
pub mod verdict;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use serde::Serialize;
use tokio::task::JoinHandle;

use self::events::Timeline;
use self::state::{RunDir, RunState};
use crate::ike::intent::Initiation;
use crate::model::{Lab, NextHop, NodeKind};
use crate::strongswan::conf::{self, CharonSettings};
use crate::strongswan::config;
use crate::strongswan::daemon::{charon_path, Charon};
use crate::strongswan::sas::{self, IkeSa};
use crate::strongswan::{control, vici};
use crate::topology::netns::NetnsBackend;
use crate::topology::{nft, Backend};
use crate::wait::{within, VICI_ANSWER};

/// Bounds of the waits of a run.
#[derive(Debug, Clone)]
pub struct Timeouts {
    /// From spawning a daemon to VICI answering.
    pub daemon_ready: Duration,
    /// From `initiate` to the CHILD SA (or the failure).
    pub initiate: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { daemon_ready: Duration::from_secs(5), initiate: Duration::from_secs(8) }
    }
}

const PAUSE: Duration = Duration::from_secs(60);

/// The data path this build uses, and what that means for results (named in every report).
pub const DATA_PATH: &str = "kernel-libipsec";
pub const DATA_PATH_LIMITS: &str =
    "userspace ESP over the TUN device ipsec0: ESP is always UDP-encapsulated (port 4500), tunnel MTU fixed at 1400, no trap/acquire";

#[derive(Debug, Clone, Serialize)]
pub struct PhaseTime {
    pub phase: &'static str,
    pub ms: f64,
}

struct Daemon {
    charon: Charon,
    vici: vici::Client,
    /// Killed on purpose by a scenario step.
    killed: bool,
}

pub struct LabRun {
    pub lab: Lab,
    pub run: RunDir,
    state: RunState,
    backend: Box<dyn Backend>,
    daemons: BTreeMap<String, Daemon>,
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
            daemons: BTreeMap::new(),
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

    /// One charon per IPsec node, started together; waits until each answers on VICI.
    pub async fn start_daemons(&mut self) -> Result<()> {
        let charon = charon_path();
        let mut started = Vec::new();
        for node in self.lab.ipsec_nodes() {
            let intent = node.intent().expect("ipsec node");
            let settings = CharonSettings { initiator_only: intent.initiation == Initiation::InitiatorOnly, ..CharonSettings::default() };
            let text = conf::render(&node.name, &self.run.id, &settings);
            let cmd = self.backend.command(&node.name, &charon)?;
            let c = Charon::spawn(cmd, &node.name, &self.run.node_dir(&node.name), &text, &self.run.id)?;
            self.state.daemons.push((node.name.clone(), c.pid()));
            started.push(c);
        }
        self.run.save(&self.state)?;
        let ready_timeout = self.timeouts.daemon_ready;
        let waits = started.into_iter().map(|mut c| async move {
            let r = c.wait_ready(ready_timeout).await;
            (c, r)
        });
        let mut first_error = None;
        for (charon, ready) in futures::future::join_all(waits).await {
            match ready {
                Ok(vici) => {
                    self.daemons.insert(charon.node.clone(), Daemon { charon, vici, killed: false });
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                    // Keep it so that teardown reaps it.
                    let mut charon = charon;
                    let _ = charon.kill();
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        self.end_phase("daemons ready");
        Ok(())
    }

    /// Secrets and connections over VICI, event watchers, and the routes into the tunnels.
    pub async fn load_configs(&mut self) -> Result<()> {
        for node in self.lab.ipsec_nodes() {
            let d = self.daemons.get_mut(&node.name).ok_or_else(|| anyhow!("no daemon for {}", node.name))?;
            let messages = config::messages(node.intent().expect("ipsec node"));
            // What was sent, secrets redacted: for people reading a kept lab's run folder.
            let rendered: Vec<String> = messages.iter().map(|(c, m)| format!("# {c}\n{}", config::redacted(m).to_json())).collect();
            let file = d.charon.dir.join("vici-messages.txt");
            std::fs::write(&file, rendered.join("\n")).with_context(|| format!("writing {}", file.display()))?;
            for (command, message) in messages {
                let what = || format!("charon of {} to answer `{command}`", node.name);
                within(VICI_ANSWER, what, d.vici.call(command, message)).await.with_context(|| format!("configuring {} ({command})", node.name))?;
            }
            let watch = events::watch(&node.name, d.charon.vici_path(), d.charon.alerts_path(), self.timeline.clone());
            let tasks = within(VICI_ANSWER, || format!("charon of {} to register its event subscriptions", node.name), watch).await?;
            self.watchers.extend(tasks);
            let tunnel_prefixes: Vec<_> = node.routes.iter().filter(|r| r.via == NextHop::Tunnel).map(|r| r.to).collect();
            // Always remove charon's catch-all rule, even without tunnel routes.
            self.backend.add_tunnel_routes(&node.name, "ipsec0", &tunnel_prefixes).await?;
        }
        self.end_phase("configs loaded");
        Ok(())
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
                self.timeline.push(&node, events::What::Fallback { child: child.clone() });
                let first_ms = outcome.ms;
                outcome = self.initiate_child(&node, Some(&child), timeout).await?;
                outcome.ms += first_ms;
            }
        }
        self.end_phase("tunnel up");
        Ok(outcome)
    }

    /// The lab's clock-driven behaviours (`supervisor.rs`) for the length of this run, when the
    /// lab has any. (A lab kept by `up` is run by its supervisor process, so they run there.)
    pub fn start_supervisor(&mut self) {
        if supervisor::needed(&self.lab) {
            let (run, lab) = (self.run.clone(), self.lab.clone());
            self.watchers.push(tokio::spawn(async move {
                let _ = supervisor::supervise(run, lab).await;
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
        let d = self.daemons.get_mut(&node).ok_or_else(|| anyhow!("no daemon for {node}"))?;
        let timeline = self.timeline.clone();
        let started = Instant::now();
        let mut on_log = |line: String| {
            let notify = crate::evidence::event::received_notify(&line);
            timeline.push(&node, events::What::ControlLog { retransmit: events::retransmitted_message(&line), line });
            if let Some(notify) = notify {
                timeline.push(&node, events::What::Notify { notify });
            }
        };
        let result =
            control::initiate(&mut d.vici, &conn_name, &child_name, timeout, &mut on_log).await.with_context(|| format!("initiating {conn_name} on {node}"))?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(InitiateOutcome { node, connection: conn_name, child: child_name, success: result.is_ok(), error: result.err(), ms })
    }

    /// All SAs of one daemon.
    pub async fn list_sas(&mut self, node: &str) -> Result<Vec<IkeSa>> {
        let d = self.daemons.get_mut(node).ok_or_else(|| anyhow!("no daemon for {node}"))?;
        within(VICI_ANSWER, || format!("charon of {node} to list its SAs"), sas::list(&mut d.vici)).await
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

    /// Pings as a probe says; a second attempt only when the tunnel is up (a lost first echo
    /// is then worth a retry; without a tunnel it would only cost time).
    pub async fn ping(&self, p: &crate::model::Ping, retry: bool) -> probe::PingResult {
        probe::ping(self.backend.as_ref(), &self.run.id, p, if retry { 2 } else { 1 }).await
    }

    /// kill -9 a node's IKE daemon (a scenario's dead peer).
    pub fn kill_daemon(&mut self, node: &str) -> Result<()> {
        let d = self.daemons.get_mut(node).ok_or_else(|| anyhow!("{node} runs no IKE daemon"))?;
        d.killed = true;
        d.charon.kill()
    }

    pub fn mark_phase(&mut self, phase: &'static str) {
        self.end_phase(phase);
    }

    /// Reaps daemons that exited on their own (a crash), so none stays a zombie while a kept
    /// lab runs; returns the nodes whose daemon is gone.
    pub fn reap_exited(&mut self) -> Vec<String> {
        self.daemons.iter_mut().filter_map(|(n, d)| (!d.killed && d.charon.has_exited()).then(|| n.clone())).collect()
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
            d.charon.signal_kill();
        }
        for d in self.daemons.values_mut() {
            if let Err(e) = d.charon.kill() {
                errors.push(e.to_string());
            }
        }
        drop(self.daemons);
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
    use super::*;
    use crate::topology::fake::{Call, FakeBackend};

    fn shipped_lab(name: &str) -> Lab {
        crate::model::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("labs").join(name)).expect("shipped lab loads")
    }

    /// A run's topology phase against the fake backend: one build of every node and link, and
    /// each ruleset (NAT router, gateway filter, the DUT's tunnel rules) written to the node's
    /// folder and applied with nft in exactly that node. Then teardown removes the run folder.
    #[tokio::test]
    async fn topology_phase_builds_every_node_and_applies_each_ruleset_where_it_belongs() {
        for (lab_name, with_rules) in [("azure-paloalto", vec!["azure-gw", "branch-nat"]), ("azure-pfsense-home", vec!["azure-gw", "fritzbox", "pfsense"])] {
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
}
