//! A lab run end to end: build, start daemons, load configs, initiate, the scenario's steps,
//! probes, then verdicts from the evidence (by a judge: the healthy checks for `run`/`up`/`bench`,
//! a scenario's expectations for `test`), and (unless the lab is kept) teardown.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::record::{DataPath, DeviceRecord, RunRecord};
use super::verdict::{self, Verdict};
use super::{LabRun, DATA_PATH, DATA_PATH_LIMITS};
use crate::evidence::sa::ChildState;
use crate::model::Lab;

/// Something a scenario does after the tunnel was initiated, before the probes.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Let real time pass (bounded by the scenario's own value).
    Wait(Duration),
    /// kill -9 the IKE daemon of a node: the peer dies without a word.
    Kill(String),
    /// Wait until a node has no CHILD SA (`child`) or no IKE SA at all, at most `within`.
    UntilGone { node: String, ike: bool, within: Duration },
    /// Give an interface a new address (the home router's dynamic WAN address changes).
    SetAddress { node: String, interface: String, address: ipnet::Ipv4Net },
    /// Change a record of the lab's name server (the dynamic-DNS update).
    Dns { name: String, address: std::net::Ipv4Addr },
    /// Initiate from a node again and again until the tunnel is up, at most `within`.
    InitiateUntilUp { node: String, within: Duration },
    /// Rekey a node's CHILD SA from that node (its offer, its PFS group), and wait at most
    /// `within` for the rekey or its refusal.
    Rekey { node: String, within: Duration },
    /// Wait until a node's BGP session with `peer` is in `state`, at most `within`.
    UntilBgp { node: String, peer: std::net::Ipv4Addr, state: crate::bgp::StateMatch, within: Duration },
    /// Kill a node's IKE daemon (no delete reaches the peer), keep it down for `down`, and start
    /// it again with its configuration and no SAs (`down` zero: it forgot its SAs).
    Restart { node: String, down: Duration },
    /// Wait until a ping is answered, at most `within` (one short ping after another).
    UntilPing { ping: crate::model::Ping, within: Duration },
    /// Wait until a node's SAs are as given, at most `within`.
    UntilSa { node: String, ike: Option<bool>, child: Option<bool>, children: Option<u32>, within: Duration },
}

pub use crate::evidence::Evidence;

/// Turns evidence into verdicts.
pub type Judge<'a> = &'a (dyn Fn(&Lab, &Evidence) -> Vec<Verdict> + Sync);

/// The healthy scenario's judge: the tunnel's checks, and with BGP, every session Established
/// with routes learned.
pub fn healthy_judge(lab: &Lab, e: &Evidence) -> Vec<Verdict> {
    let mut out = match &e.initiated {
        Some(i) => verdict::healthy(lab, i, &e.before, &e.after, &e.pings),
        None => vec![Verdict {
            check: "tunnel initiated".into(),
            node: "-".into(),
            outcome: verdict::Outcome::Fail,
            evidence: "nobody initiates (run.initiator: none)".into(),
        }],
    };
    out.extend(verdict::bgp_healthy(&e.bgp));
    out
}

/// What to do with the lab after the verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterRun {
    TearDown,
    /// Leave it running (`vpnlab up`), except when it never became testable.
    Keep,
}

pub struct Outcome {
    pub report: RunRecord,
    pub evidence: Evidence,
    /// A lab left running (`AfterRun::Keep`): whoever holds it removes it with `teardown`.
    pub kept: Option<LabRun>,
}

async fn run_step(run: &mut LabRun, step: &Step, evidence: &mut Evidence) -> Result<String> {
    match step {
        Step::SetAddress { node, interface, address } => {
            let old = run.replace_address(node, interface, *address).await?;
            evidence.address_changes.push((node.clone(), interface.clone(), old, *address));
            Ok(format!("{node}:{interface} changed from {old} to {address}"))
        }
        Step::Dns { name, address } => {
            evidence.dns_updates.push((name.to_ascii_lowercase(), *address));
            let file = super::supervisor::records_file(&run.run);
            let mut records = super::supervisor::read_records(&file);
            let old = records.insert(name.to_ascii_lowercase(), *address);
            super::supervisor::write_records(&file, &records)?;
            Ok(format!("dns {name}: {} -> {address}", old.map(|o| o.to_string()).unwrap_or_else(|| "(none)".into())))
        }
        Step::InitiateUntilUp { node, within } => {
            let start = Instant::now();
            let mut attempts = 0;
            loop {
                attempts += 1;
                // A healthy initiate takes milliseconds; a silently dropped one burns its whole
                // timeout, so attempts are short and frequent.
                let o = run.initiate_from(node, Duration::from_secs(1)).await?;
                if o.success {
                    return Ok(format!("{node} brought the tunnel up after {:.1} s ({attempts} attempts)", start.elapsed().as_secs_f64()));
                }
                if start.elapsed() >= *within {
                    return Ok(format!(
                        "{node} could not bring the tunnel up within {} s ({attempts} attempts): {}",
                        within.as_secs(),
                        o.error.unwrap_or_default()
                    ));
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        Step::Rekey { node, within } => {
            let o = run.rekey(node, *within).await?;
            let line = format!("{node} rekeyed {}: {}", o.child, o.detail);
            evidence.rekeys.push(o);
            Ok(line)
        }
        Step::Restart { node, down } => {
            run.restart_daemon(node, *down).await?;
            evidence.restarts.push(node.clone());
            let what = if down.is_zero() {
                format!("{node} forgot every SA (its IKE daemon killed and started again at once, no delete sent)")
            } else {
                format!("{node}'s IKE daemon was down {} s and came back with no SAs", down.as_secs_f64())
            };
            // A device whose configuration starts the tunnel on its own does so when it comes
            // back (an Azure connection in Default mode after maintenance or a failover).
            let starts = run.lab.node(node).and_then(|n| n.ipsec()).is_some_and(|i| i.device.starts_unprompted() && i.device.initiation().may_initiate());
            if !starts {
                return Ok(format!("{what}; it does not start the tunnel on its own"));
            }
            let timeout = run.timeouts.initiate;
            let o = run.initiate_from(node, timeout).await?;
            Ok(if o.success {
                format!("{what}; it started the tunnel again on its own in {:.0} ms", o.ms)
            } else {
                format!("{what}; it tried to start the tunnel again on its own: {}", o.error.unwrap_or_default())
            })
        }
        Step::UntilPing { ping, within } => {
            let start = Instant::now();
            let mut tries = 0;
            loop {
                tries += 1;
                let r = super::probe::ping(run.backend_ref(), &run.run.id, ping, 1, Duration::from_millis(300)).await;
                if r.success {
                    return Ok(format!("ping {} -> {} answered after {:.1} s ({tries} tries)", ping.from, ping.to, start.elapsed().as_secs_f64()));
                }
                if start.elapsed() >= *within {
                    return Ok(format!("ping {} -> {} still unanswered after {} s ({tries} tries): {}", ping.from, ping.to, within.as_secs_f64(), r.output));
                }
            }
        }
        Step::UntilSa { node, ike, child, children, within } => {
            let start = Instant::now();
            loop {
                let sas = run.list_sas(node).await?;
                let up = sas.iter().any(|s| s.is_established());
                let installed = sas.iter().filter(|s| s.is_established()).flat_map(|s| s.children.iter()).filter(|c| c.state == ChildState::Installed).count();
                let holds = ike.is_none_or(|x| x == up) && child.is_none_or(|x| x == (installed > 0)) && children.is_none_or(|n| n as usize == installed);
                let seen = format!("IKE SA {}, {installed} CHILD SA(s) installed", if up { "established" } else { "none" });
                if holds {
                    return Ok(format!("{node}: {seen} after {:.1} s", start.elapsed().as_secs_f64()));
                }
                if start.elapsed() >= *within {
                    return Ok(format!("{node}: still {seen} after {} s", within.as_secs_f64()));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Step::UntilBgp { node, peer, state, within } => {
            let start = Instant::now();
            loop {
                let snaps = run.bgp_snapshots().await?;
                let now = snaps.get(node).and_then(|s| s.peer(*peer)).map(|p| p.state);
                let secs = start.elapsed().as_secs_f64();
                match now {
                    Some(s) if state.holds(s) => return Ok(format!("{node}'s BGP session with {peer} is {} after {secs:.1} s", s.name())),
                    _ if start.elapsed() >= *within => {
                        let seen = now.map(|s| s.name()).unwrap_or("absent");
                        return Ok(format!(
                            "{node}'s BGP session with {peer} is still {seen} after {} s (waited for {})",
                            within.as_secs_f64(),
                            state.describe()
                        ));
                    }
                    _ => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        }
        Step::Wait(d) => {
            tokio::time::sleep(*d).await;
            Ok(format!("waited {} s", d.as_secs_f64()))
        }
        Step::Kill(node) => {
            run.kill_daemon(node)?;
            evidence.killed.push(node.clone());
            Ok(format!("killed the IKE daemon of {node} (SIGKILL)"))
        }
        Step::UntilGone { node, ike, within } => {
            let start = Instant::now();
            loop {
                let sas = run.list_sas(node).await?;
                let gone = if *ike { sas.iter().all(|s| !s.is_established()) } else { sas.iter().all(|s| s.children.is_empty()) };
                let what = if *ike { "IKE SA" } else { "CHILD SA" };
                if gone {
                    return Ok(format!("{node} has no {what} after {:.1} s", start.elapsed().as_secs_f64()));
                }
                if start.elapsed() >= *within {
                    return Ok(format!("{node} still has its {what} after {} s", within.as_secs_f64()));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Everything after the topology: this part may be dropped at any await on a stop request.
async fn drive(run: &mut LabRun, steps: &[Step], evidence: &mut Evidence) -> Result<()> {
    run.pause_point("namespaces and links").await;
    run.start_daemons().await?;
    run.pause_point("daemons ready").await;
    run.load_configs().await?;
    run.pause_point("configs loaded").await;
    run.start_routing().await?;
    run.pause_point("routing ready").await;
    run.start_supervisor();
    let on_its_own =
        run.lab.ipsec_nodes().find(|n| n.ipsec().is_some_and(|i| i.device.starts_unprompted() && i.device.initiation().may_initiate())).map(|n| n.name.clone());
    if run.lab.plan.initiating_node().is_some() {
        evidence.initiated = Some(run.initiate().await?);
    } else if let Some(node) = on_its_own {
        // Nobody is told to start, and this device's own configuration starts the tunnel.
        evidence.steps.push(format!("nobody was told to initiate; {node} starts the tunnel on its own (its configuration)"));
        let timeout = run.timeouts.initiate;
        evidence.initiated = Some(run.initiate_from(&node, timeout).await?);
    } else {
        // Nobody is told to start, and no device starts on its own: both ends wait.
        let within = run.timeouts.nobody_watch;
        let line = run.watch_nobody(within).await?;
        evidence.steps.push(line);
    }
    run.pause_point("tunnel up").await;
    if run.has_speakers() {
        let within = run.timeouts.bgp_settle;
        let line = run.wait_bgp_settled(within).await?;
        evidence.steps.push(line);
        run.pause_point("bgp settled").await;
    }
    if !steps.is_empty() {
        for step in steps {
            let line = run_step(run, step, evidence).await?;
            evidence.steps.push(line);
        }
        run.mark_phase("steps");
    }
    evidence.before = run.all_sas().await?;
    let tunnel_up = evidence.initiated.as_ref().is_some_and(|i| i.success);
    let probes = run.lab.plan.probes.clone();
    for p in &probes {
        evidence.pings.push(run.ping(p, tunnel_up).await);
    }
    for t in &run.lab.plan.tcp.clone() {
        evidence.tcp.push(run.tcp(t, tunnel_up).await);
    }
    evidence.after = run.all_sas().await?;
    evidence.bgp = run.bgp_snapshots().await?;
    run.mark_phase("probes");
    Ok(())
}

pub async fn execute(lab: Lab, after: AfterRun) -> Result<Outcome> {
    execute_with(lab, after, &[], &healthy_judge, None).await
}

/// Keeps what a person needs to see what happened: each node's charon log, strongswan.conf,
/// VICI messages (secrets redacted), nft ruleset and device (import report), and the run's events.
fn keep_artifacts(run: &LabRun, dir: &std::path::Path) {
    let nodes = run.run.path.join("nodes");
    if let Ok(entries) = std::fs::read_dir(&nodes) {
        for node in entries.filter_map(|e| e.ok()) {
            let to = dir.join(node.file_name());
            let _ = std::fs::create_dir_all(&to);
            for f in ["charon.log", "charon.stderr", "strongswan.conf", "vici-messages.txt", "nftables.conf"] {
                let _ = std::fs::copy(node.path().join(f), to.join(f));
            }
            // The BGP speaker's configuration and logs, under the same names as in the run.
            for f in ["bgpd.conf", "bgpd.log", "bgpd.stderr", "zebra.log", "zebra.stderr"] {
                let from = node.path().join("frr").join(f);
                if from.exists() {
                    let _ = std::fs::create_dir_all(to.join("frr"));
                    let _ = std::fs::copy(from, to.join("frr").join(f));
                }
            }
        }
    }
    let _ = std::fs::copy(run.run.path.join("supervisor.log"), dir.join("supervisor.log"));
    // What each device was read as (family, summary, import report), as the run report keeps
    // it; no key is in it.
    for (node, record) in device_records(&run.lab) {
        let to = dir.join(node);
        let _ = std::fs::create_dir_all(&to);
        let _ = std::fs::write(to.join("device.json"), serde_json::to_vec_pretty(&record).unwrap_or_default());
    }
    let _ = std::fs::write(dir.join("events.json"), serde_json::to_vec_pretty(&run.timeline.snapshot()).unwrap_or_default());
}

/// Each IPsec node's device as the report keeps it.
fn device_records(lab: &Lab) -> BTreeMap<String, DeviceRecord> {
    lab.ipsec_nodes()
        .filter_map(|n| {
            let ipsec = n.ipsec()?;
            let record =
                DeviceRecord { family: ipsec.device.family(), summary: ipsec.device.summary(&ipsec.intent), import: ipsec.device.import_report().cloned() };
            Some((n.name.clone(), record))
        })
        .collect()
}

/// Runs `lab` with `steps`, judges the evidence, and tears the lab down unless kept.
pub async fn execute_with(lab: Lab, after: AfterRun, steps: &[Step], judge: Judge<'_>, artifacts: Option<&std::path::Path>) -> Result<Outcome> {
    execute_in(None, lab, after, steps, judge, artifacts).await
}

/// As [`execute_with`], in a run folder claimed beforehand (`up` claims it for its keeper).
pub async fn execute_in(
    run: Option<super::state::RunDir>,
    lab: Lab,
    after: AfterRun,
    steps: &[Step],
    judge: Judge<'_>,
    artifacts: Option<&std::path::Path>,
) -> Result<Outcome> {
    let start = Instant::now();
    let mode = if after == AfterRun::Keep { "up" } else { "run" };
    if super::interrupt::requested().is_some() {
        return Err(super::interrupt::Interrupted.into());
    }
    let run = LabRun::create(run, lab, mode)?;
    execute_run(run, start, after, steps, judge, artifacts).await
}

/// Runs a created run (on whatever backend and driver it was given) to its outcome.
pub async fn execute_run(
    mut run: LabRun,
    start: Instant,
    after: AfterRun,
    steps: &[Step],
    judge: Judge<'_>,
    artifacts: Option<&std::path::Path>,
) -> Result<Outcome> {
    let mut evidence = Evidence::default();
    // The topology is built to the end even on a stop request (tens of milliseconds): its
    // namespaces are created on blocking threads that a dropped future would not stop, so one
    // could appear after the teardown. After it, a stop request drops the drive at its next
    // await; the run is then removed like any other.
    let built = run.build_topology().await;
    let driven = match built {
        Err(e) => Some(Err(e)),
        Ok(()) => tokio::select! {
            d = drive(&mut run, steps, &mut evidence) => Some(d),
            _ = super::interrupt::wait() => None,
        },
    };
    let Some(driven) = driven else {
        let id = run.run.id.clone();
        let removed = run.teardown();
        return Err(match removed {
            Ok(_) => {
                eprintln!("removed run {id}");
                anyhow::Error::from(super::interrupt::Interrupted)
            }
            Err(e) => anyhow::Error::from(super::interrupt::Interrupted).context(format!("teardown after the interrupt failed: {e:#}")),
        });
    };
    evidence.events = run.timeline.snapshot();
    let (verdicts, error) = match driven {
        Ok(()) => (judge(&run.lab, &evidence), None),
        Err(e) => (Vec::new(), Some(format!("{e:#}"))),
    };
    if let Some(dir) = artifacts {
        keep_artifacts(&run, dir);
    }
    let sas = evidence.after.clone();
    let bgp = evidence.bgp.clone();
    let events = evidence.events.clone();
    let lab_name = run.lab.name.clone();
    let description = run.lab.description.clone();
    let time_scale = run.lab.time_scale;
    let notes = run.lab.notes.clone();
    let azure_model = run
        .lab
        .nodes
        .iter()
        .filter_map(|n| {
            let site = n.ipsec()?.azure()?;
            let mut v = site.switches.describe();
            v.push(format!("role {}", if run.lab.plan.initiator == n.name { "initiator" } else { "responder" }));
            Some((n.name.clone(), v))
        })
        .collect();
    let devices = device_records(&run.lab);
    let run_id = run.run.id.clone();
    let mut phases = run.phases.clone();
    let mut kept = None;
    let mut error = error;
    if after == AfterRun::Keep && error.is_none() {
        kept = Some(run);
    } else {
        match run.teardown() {
            Ok(d) => phases.push(super::PhaseTime { phase: "teardown", ms: d.as_secs_f64() * 1000.0 }),
            Err(e) => {
                let msg = format!("teardown failed: {e:#}");
                error = Some(match error {
                    Some(prev) => format!("{prev}; {msg}"),
                    None => msg,
                });
            }
        }
    }
    let result = RunRecord::result_of(&verdicts, &error);
    let report = RunRecord {
        schema: "vpnlab.run/1",
        lab: lab_name,
        description,
        time_scale,
        azure_model,
        notes,
        run_id,
        result,
        data_path: DataPath { name: DATA_PATH, limits: DATA_PATH_LIMITS },
        error,
        verdicts,
        sas,
        phases,
        total_ms: start.elapsed().as_secs_f64() * 1000.0,
        events,
        devices,
        bgp,
        pings: evidence.pings.clone(),
        tcp: evidence.tcp.clone(),
    };
    Ok(Outcome { report, evidence, kept })
}
