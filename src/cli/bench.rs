//! `vpnlab bench [LAB] --runs N`: the healthy scenario end to end N times; median and spread
//! per phase, and the memory of a running lab. Figures only, never a pass/fail on speed.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Result};

use super::{load_lab, Format};
use crate::exit::Code;
use crate::report::bench::{BenchRecord, ClassFigures, MatrixRecord, Memory, MemoryKib, PhaseSpread, Spread};
use crate::report::RunResult;
use crate::run::cleanup;
use crate::run::execute::{execute_with, healthy_judge, AfterRun};

/// Memory of one process, in KiB.
fn memory(pid: u32) -> Memory {
    let field =
        |text: &str, key: &str| text.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)).and_then(|n| n.parse().ok()).unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    Memory { rss: field(&status, "VmRSS:"), peak_rss: field(&status, "VmHWM:"), pss: field(&rollup, "Pss:") }
}

pub async fn bench(lab_path: &Path, scenario: Option<&str>, runs: usize, format: Format) -> Result<Code> {
    let (lab, steps) = match scenario {
        None => (load_lab(lab_path)?, Vec::new()),
        Some(name) => {
            let file = lab_path.join("scenarios").join(format!("{name}.yaml"));
            if !file.exists() {
                bail!("{} has no scenario {name} ({} is missing)", lab_path.display(), file.display());
            }
            let s = crate::scenario::load(lab_path, &file).map_err(|e| crate::exit::fail(Code::BadInput, e))?;
            (s.lab, s.steps)
        }
    };
    crate::preflight::check()?;
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let mut per_phase: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    let mut order: Vec<&'static str> = Vec::new();
    let mut totals = Vec::new();
    for i in 0..runs {
        let out = execute_with(lab.clone(), AfterRun::TearDown, &steps, &healthy_judge, None).await?;
        if out.report.result != RunResult::Pass {
            bail!(
                "run {} of {runs} did not pass ({}): {}",
                i + 1,
                out.report.result.word(),
                out.report.error.clone().unwrap_or_else(|| "a verdict failed".into())
            );
        }
        for p in &out.report.phases {
            if !order.contains(&p.phase) {
                order.push(p.phase);
            }
            per_phase.entry(p.phase).or_default().push(p.ms);
        }
        totals.push(out.report.total_ms);
    }

    // Memory: bring the lab up, measure its processes while it runs, then remove it.
    let kept = execute_with(lab.clone(), AfterRun::Keep, &steps, &healthy_judge, None).await?;
    let mut processes = Vec::new();
    let mut lab_total = Memory::default();
    if let Some(run) = kept.kept {
        tokio::time::sleep(Duration::from_millis(200)).await;
        for pid in cleanup::labelled_processes(&run.run.id) {
            let m = memory(pid);
            let node = crate::process::env_var(pid, "VPNLAB_NODE").unwrap_or_default();
            processes.push((format!("{} ({node})", crate::process::comm(pid)), m));
            lab_total.rss += m.rss;
            lab_total.peak_rss += m.peak_rss;
            lab_total.pss += m.pss;
        }
        run.teardown()?;
    }
    let me = memory(std::process::id());
    let record = BenchRecord {
        schema: "vpnlab.bench/1",
        lab: scenario.map(|s| format!("{} · scenario {s}", lab.name)).unwrap_or_else(|| lab.name.clone()),
        runs,
        end_to_end: Spread::of(totals),
        phases: order.iter().map(|p| PhaseSpread { phase: p, spread: Spread::of(per_phase[p].clone()) }).collect(),
        memory_kib: MemoryKib {
            lab_rss: lab_total.rss,
            lab_peak_rss: lab_total.peak_rss,
            lab_pss: lab_total.pss,
            vpnlab_rss: me.rss,
            vpnlab_peak_rss: me.peak_rss,
            vpnlab_pss: me.pss,
        },
        processes,
    };
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&record)?),
        Format::Table => print!("{}", record.to_table()),
    }
    Ok(Code::Ok)
}

/// The class of a scenario's outcome, for time-to-verdict figures, from its typed observations.
fn class(r: &crate::scenario::runner::ScenarioResult) -> &'static str {
    use crate::scenario::expect::Reason;
    let reasons: Vec<Reason> = r.observed.iter().flat_map(|o| [o.phase1.reason, o.phase2.reason]).flatten().collect();
    let healthy = r.observed.as_ref().is_some_and(|o| o.phase1.up && o.phase2.up && o.every_ping_answered)
        && r.verdicts.iter().all(|v| v.outcome == crate::run::verdict::Outcome::Pass);
    if !r.steps.is_empty() {
        "with steps (rekey, DPD, DNS)"
    } else if r.observed.as_ref().is_some_and(|o| o.phase1.reason == Some(Reason::PeerNotResponding)) {
        "silent peer"
    } else if reasons.iter().any(|x| matches!(x, Reason::NoProposalChosen | Reason::AuthenticationFailed | Reason::TsUnacceptable)) {
        "definitive failure"
    } else if healthy {
        "healthy"
    } else {
        "up, data path fails"
    }
}

/// The whole scenario matrix of a folder of labs, three times: wall time, time to verdict per
/// class, scenarios per hour.
pub async fn matrix(dir: &Path, format: Format) -> Result<Code> {
    let mut scenarios = Vec::new();
    for lab in std::fs::read_dir(dir)?.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.join("lab.yaml").exists()) {
        for f in crate::scenario::files(&lab) {
            scenarios.push(crate::scenario::load(&lab, &f).map_err(|e| anyhow::anyhow!(e))?);
        }
    }
    let jobs = super::test::default_jobs();
    let mut walls = Vec::new();
    let mut per_class: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    let count = scenarios.len();
    for _ in 0..3 {
        let start = std::time::Instant::now();
        let results = crate::scenario::runner::run_all(scenarios.clone(), jobs, None, |_, _, _| {}, |_, _, _| {}).await;
        walls.push(start.elapsed().as_secs_f64() * 1000.0);
        if let Some(bad) = results.iter().find(|r| r.result != RunResult::Pass) {
            bail!("scenario {}/{} did not pass ({}) during the benchmark", bad.lab, bad.name, bad.result.word());
        }
        for r in &results {
            per_class.entry(class(r)).or_default().push(r.duration_ms);
        }
    }
    let wall = Spread::of(walls);
    let record = MatrixRecord {
        schema: "vpnlab.bench-matrix/1",
        dir: dir.display().to_string(),
        scenarios: count,
        jobs,
        wall_median_ms: wall.median_ms,
        wall_min_ms: wall.min_ms,
        wall_max_ms: wall.max_ms,
        scenarios_per_hour: count as f64 / (wall.median_ms / 1000.0) * 3600.0,
        classes: per_class
            .into_iter()
            .map(|(class, v)| {
                let s = Spread::of(v.clone());
                ClassFigures { class, scenarios: v.len() / 3, median_ms: s.median_ms, max_ms: s.max_ms }
            })
            .collect(),
    };
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&record)?),
        Format::Table => print!("{}", record.to_table()),
    }
    Ok(Code::Ok)
}

/// Time to read each firewall configuration into a device (parse, defaults, intent), `runs`
/// reads each; the first read (cold caches) is left out.
pub fn import(files: &[std::path::PathBuf], runs: usize, format: Format) -> Result<Code> {
    let runs = runs.max(1);
    let mut rows = Vec::new();
    for given in files {
        // FILE:SELECT picks a tunnel (PAN-OS) or phase 1 ikeid (pfSense) of a file with several.
        let (file, select) = match given.to_str().and_then(|s| s.rsplit_once(':')) {
            Some((f, sel)) if !given.exists() && !sel.contains('/') => (std::path::PathBuf::from(f), Some(sel.to_string())),
            _ => (given.clone(), None),
        };
        let file = &file;
        let text = std::fs::read_to_string(file).map_err(|e| crate::exit::fail(Code::BadInput, format!("cannot read {}: {e}", file.display())))?;
        let family = crate::repro::detect_family(&text)
            .ok_or_else(|| crate::exit::fail(Code::BadInput, format!("{} is neither a PAN-OS nor a pfSense configuration", file.display())))?;
        let source = crate::device::DeviceSource { file, text: &text, select: select.as_deref(), psk: Some("bench-key"), interfaces: &[], choices: &[] };
        let mut times = Vec::new();
        for i in 0..=runs {
            let start = std::time::Instant::now();
            let device = crate::device::load(family, &source).map_err(|e| {
                crate::exit::fail(Code::BadInput, format!("{}: {}", file.display(), e.iter().map(|x| x.message.clone()).collect::<Vec<_>>().join("; ")))
            })?;
            // The intent is part of the import: what a run would build from it.
            let _intent = device.intent(crate::device::RunContext { starts_first: true, time_scale: 1.0 });
            if i > 0 {
                times.push(start.elapsed().as_secs_f64() * 1000.0);
            }
        }
        rows.push(crate::report::bench::ImportFigures { file: file.display().to_string(), family, lines: text.lines().count(), spread: Spread::of(times) });
    }
    let record = crate::report::bench::ImportRecord { schema: "vpnlab.bench-import/1", runs, files: rows };
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&record)?),
        Format::Table => print!("{}", record.to_table()),
    }
    Ok(Code::Ok)
}
