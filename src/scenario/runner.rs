//! Runs scenarios, each as its own lab, in parallel (bounded by `jobs`), and collects one
//! [`ScenarioResult`] per scenario: PASS, FAIL (the lab ran and an expectation did not hold) or
//! INCONCLUSIVE (the lab never became testable).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::Semaphore;

use super::expect;
use super::Scenario;
use crate::diagnose::{self, Diagnosis};
use crate::run::execute::{execute_with, AfterRun};
use crate::run::record::{RunRecord, RunResult};
use crate::run::verdict::Verdict;

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub lab: String,
    pub name: String,
    pub title: String,
    pub ticket: Option<String>,
    pub brief_tickets: Vec<u32>,
    pub result: RunResult,
    pub duration_ms: f64,
    /// What Phase 1 and Phase 2 did, in words, at the initiator.
    pub phase1: Option<String>,
    pub phase2: Option<String>,
    /// The same, typed, for classifying results (bench) without reading the words back.
    #[serde(skip)]
    pub observed: Option<ObservedRun>,
    /// What each step did and saw.
    pub steps: Vec<String>,
    pub verdicts: Vec<Verdict>,
    pub diagnosis: Vec<Diagnosis>,
    /// The Azure model's switches of each gateway, e.g. `narrowedTrafficSelectors reject`.
    pub azure_model: std::collections::BTreeMap<String, Vec<String>>,
    /// Why the run is inconclusive, if it is.
    pub error: Option<String>,
    /// The run itself: SAs, events, phases.
    pub run: RunRecord,
}

/// Runs one scenario; `None` when it was interrupted (its lab is removed; it has no result).
/// What a scenario's run did, typed: each phase at the initiator, and whether every ping answered.
#[derive(Debug, Clone)]
pub struct ObservedRun {
    pub phase1: expect::Observed,
    pub phase2: expect::Observed,
    pub every_ping_answered: bool,
}

async fn run_one(s: Scenario, artifacts: Option<PathBuf>) -> Option<ScenarioResult> {
    let start = Instant::now();
    let expect = s.expect.clone();
    let judge = move |lab: &crate::model::Lab, e: &crate::evidence::Evidence| expect::judge(&expect, lab, e).0;
    let dir = artifacts.map(|a| a.join(&s.lab.name).join(&s.name));
    if let Some(d) = &dir {
        let written = std::fs::create_dir_all(d).and_then(|_| std::fs::write(d.join("lab.patched.yaml"), redact_keys(&s.lab_text, &s.lab)));
        if let Err(e) = written {
            eprintln!("warning: artifacts of {}/{}: cannot write {}: {e}", s.lab.name, s.name, d.display());
        }
    }
    let outcome = execute_with(s.lab.clone(), AfterRun::TearDown, &s.steps, &judge, dir.as_deref()).await;
    let duration_ms = start.elapsed().as_secs_f64() * 1000.0;
    if outcome.as_ref().is_err_and(crate::run::interrupt::is_interrupted) {
        return None;
    }
    Some(match outcome {
        Ok(o) => {
            let init = s.lab.plan.initiator.clone();
            let (observed, diagnosis) = if o.report.error.is_none() {
                let observed = ObservedRun {
                    phase1: expect::observe_phase1(&s.lab, &o.evidence, &init),
                    phase2: expect::observe_phase2(&o.evidence, &init),
                    every_ping_answered: o.evidence.pings.iter().all(|p| p.success),
                };
                (Some(observed), diagnose::diagnose(&s.lab, &o.evidence))
            } else {
                (None, Vec::new())
            };
            let (phase1, phase2) = match &observed {
                Some(ob) => (Some(ob.phase1.detail.clone()), Some(ob.phase2.detail.clone())),
                None => (None, None),
            };
            let result = o.report.result;
            if let Some(d) = &dir {
                let _ = std::fs::write(d.join("report.json"), o.report.to_json());
            }
            ScenarioResult {
                lab: s.lab.name.clone(),
                name: s.name,
                title: s.title,
                ticket: s.ticket,
                brief_tickets: s.brief_tickets,
                result,
                duration_ms,
                phase1,
                phase2,
                observed,
                steps: o.evidence.steps.clone(),
                verdicts: o.report.verdicts.clone(),
                diagnosis,
                azure_model: o.report.azure_model.clone(),
                error: o.report.error.clone(),
                run: o.report,
            }
        }
        Err(e) => ScenarioResult {
            lab: s.lab.name.clone(),
            name: s.name,
            title: s.title,
            ticket: s.ticket,
            brief_tickets: s.brief_tickets,
            result: RunResult::Inconclusive,
            duration_ms,
            phase1: None,
            phase2: None,
            observed: None,
            steps: Vec::new(),
            verdicts: Vec::new(),
            diagnosis: Vec::new(),
            azure_model: Default::default(),
            error: Some(format!("{e:#}")),
            run: RunRecord::empty(&s.lab.name),
        },
    })
}

/// The patched lab for artifacts, with every pre-shared key replaced.
fn redact_keys(text: &str, lab: &crate::model::Lab) -> String {
    let mut secrets: Vec<&str> =
        lab.ipsec_nodes().flat_map(|n| n.intent().expect("ipsec node").secrets.iter().map(|s| s.secret.as_str())).filter(|s| !s.trim().is_empty()).collect();
    // Longest first, so that a key with a trailing space is not half-replaced by its prefix.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for s in secrets {
        out = out.replace(s, "<redacted>");
    }
    out
}

/// Runs every scenario, at most `jobs` at a time; `on_done` sees each result as it finishes,
/// `on_progress` the running scenarios four times a second. After a stop request
/// (`run::interrupt`) no scenario starts, the running ones remove their labs, and the results
/// of those that finished are returned.
pub async fn run_all(
    scenarios: Vec<Scenario>,
    jobs: usize,
    artifacts: Option<PathBuf>,
    on_done: impl Fn(&ScenarioResult, usize, usize),
    on_progress: impl Fn(&[String], usize, usize),
) -> Vec<ScenarioResult> {
    let total = scenarios.len();
    // Scenarios with steps wait for lifetimes, DPD or DNS and take longest: start them first, so
    // that the short ones fill the gaps instead of queueing behind them.
    let mut scenarios: Vec<(usize, Scenario)> = scenarios.into_iter().enumerate().collect();
    scenarios.sort_by_key(|(_, s)| s.steps.is_empty());
    let gate = Arc::new(Semaphore::new(jobs.max(1)));
    // Which scenarios have started, for a progress line on a terminal.
    let started: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let mut ticker = tokio::time::interval(std::time::Duration::from_millis(250));
    let mut tasks = Vec::new();
    for (i, s) in scenarios {
        let gate = gate.clone();
        let artifacts = artifacts.clone();
        let started = started.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await;
            if crate::run::interrupt::requested().is_some() {
                return (i, None);
            }
            if let Ok(mut running) = started.lock() {
                running.push(format!("{}/{}", s.lab.name, s.name));
            }
            (i, run_one(s, artifacts).await)
        }));
    }
    let mut results: Vec<(usize, ScenarioResult)> = Vec::new();
    let mut pending: futures::stream::FuturesUnordered<_> = tasks.into_iter().collect();
    let mut finished_names: Vec<String> = Vec::new();
    loop {
        tokio::select! {
            next = futures::StreamExt::next(&mut pending) => {
                let Some(finished) = next else { break };
                if let Ok((i, Some(r))) = finished {
                    finished_names.push(format!("{}/{}", r.lab, r.name));
                    on_done(&r, results.len() + 1, total);
                    results.push((i, r));
                }
            }
            _ = ticker.tick() => {
                let running: Vec<String> = started.lock().map(|s| s.iter().filter(|n| !finished_names.contains(n)).cloned().collect()).unwrap_or_default();
                on_progress(&running, results.len(), total);
            }
        }
    }
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
