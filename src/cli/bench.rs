//! `vpnlab bench [LAB] --runs N`: the healthy scenario end to end N times; median and spread
//! per phase, and the memory of a running lab. Figures only, never a pass/fail on speed.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Result};
use tabled::builder::Builder;
use tabled::settings::Style;

use super::{load_lab, Format};
use crate::exit::Code;
use crate::report::RunResult;
use crate::run::cleanup;
use crate::run::execute::{execute, AfterRun};

struct Spread {
    median: f64,
    p10: f64,
    p90: f64,
    min: f64,
    max: f64,
}

fn spread(mut v: Vec<f64>) -> Spread {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    Spread { median: at(0.5), p10: at(0.1), p90: at(0.9), min: v[0], max: v[v.len() - 1] }
}

/// Memory of one process, in KiB: (VmRSS, VmHWM, Pss).
fn memory(pid: u32) -> (u64, u64, u64) {
    let field =
        |text: &str, key: &str| text.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)).and_then(|n| n.parse().ok()).unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    (field(&status, "VmRSS:"), field(&status, "VmHWM:"), field(&rollup, "Pss:"))
}

pub async fn bench(lab_path: &Path, runs: usize, format: Format) -> Result<Code> {
    let lab = load_lab(lab_path)?;
    crate::preflight::check()?;
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let mut per_phase: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    let mut order: Vec<&'static str> = Vec::new();
    let mut totals = Vec::new();
    for i in 0..runs {
        let out = execute(lab.clone(), AfterRun::TearDown).await?;
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
    let kept = execute(lab.clone(), AfterRun::Keep).await?;
    let mut mem_rows = Vec::new();
    let (mut rss, mut hwm, mut pss) = (0, 0, 0);
    if let Some(run) = kept.kept {
        tokio::time::sleep(Duration::from_millis(200)).await;
        for pid in cleanup::labelled_processes(&run.run.id) {
            let (r, h, p) = memory(pid);
            let node = crate::process::env_var(pid, "VPNLAB_NODE").unwrap_or_default();
            mem_rows.push((format!("charon ({node})"), r, h, p));
            rss += r;
            hwm += h;
            pss += p;
        }
        run.teardown()?;
    }
    let (self_rss, self_hwm, self_pss) = memory(std::process::id());

    let ms = |x: f64| format!("{x:.1}");
    let total = spread(totals.clone());
    match format {
        Format::Json => {
            let phases: Vec<_> = order
                .iter()
                .map(|p| {
                    let s = spread(per_phase[p].clone());
                    serde_json::json!({"phase": p, "median_ms": s.median, "p10_ms": s.p10, "p90_ms": s.p90, "min_ms": s.min, "max_ms": s.max})
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "schema": "vpnlab.bench/1", "lab": lab.name, "runs": runs,
                    "end_to_end": {"median_ms": total.median, "p10_ms": total.p10, "p90_ms": total.p90, "min_ms": total.min, "max_ms": total.max},
                    "phases": phases,
                    "memory_kib": {"lab_rss": rss, "lab_peak_rss": hwm, "lab_pss": pss, "vpnlab_peak_rss": self_hwm, "vpnlab_rss": self_rss, "vpnlab_pss": self_pss},
                }))?
            );
        }
        Format::Table => {
            println!("lab {} · {runs} runs of the healthy scenario end to end (up, P1/P2, ping both ways, down)\n", lab.name);
            let mut b = Builder::default();
            b.push_record(["phase", "median ms", "p10", "p90", "min", "max"]);
            for p in &order {
                let s = spread(per_phase[p].clone());
                b.push_record([p.to_string(), ms(s.median), ms(s.p10), ms(s.p90), ms(s.min), ms(s.max)]);
            }
            b.push_record(["end to end".to_string(), ms(total.median), ms(total.p10), ms(total.p90), ms(total.min), ms(total.max)]);
            println!("{}\n", b.build().with(Style::psql()));
            let mut m = Builder::default();
            m.push_record(["process of the running lab", "RSS MiB", "peak RSS MiB", "PSS MiB"]);
            let mib = |k: u64| format!("{:.1}", k as f64 / 1024.0);
            for (name, r, h, p) in &mem_rows {
                m.push_record([name.clone(), mib(*r), mib(*h), mib(*p)]);
            }
            m.push_record(["running lab, total".to_string(), mib(rss), mib(hwm), mib(pss)]);
            m.push_record(["vpnlab itself (this bench process)".to_string(), mib(self_rss), mib(self_hwm), mib(self_pss)]);
            println!("{}", m.build().with(Style::psql()));
            println!("\ntargets: ≤ 150 ms median end to end, ≤ 25 MiB for a running lab");
        }
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
    let wall = spread(walls);
    let per_hour = count as f64 / (wall.median / 1000.0) * 3600.0;
    match format {
        Format::Json => {
            let classes: Vec<_> = per_class
                .iter()
                .map(|(c, v)| {
                    let s = spread(v.clone());
                    serde_json::json!({"class": c, "scenarios": v.len() / 3, "median_ms": s.median, "max_ms": s.max})
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"schema": "vpnlab.bench-matrix/1", "scenarios": count, "jobs": jobs, "wall_median_ms": wall.median, "wall_min_ms": wall.min, "wall_max_ms": wall.max, "scenarios_per_hour": per_hour, "classes": classes})
                )?
            );
        }
        Format::Table => {
            println!("\nscenario matrix of {}: {count} scenarios, {jobs} at a time, 3 runs", dir.display());
            let mut b = Builder::default();
            b.push_record(["class", "scenarios", "median ms to verdict", "max ms"]);
            for (c, v) in &per_class {
                let s = spread(v.clone());
                b.push_record([c.to_string(), (v.len() / 3).to_string(), format!("{:.0}", s.median), format!("{:.0}", s.max)]);
            }
            println!("{}", b.build().with(Style::psql()));
            println!(
                "whole matrix: median {:.1} s (min {:.1}, max {:.1}); {per_hour:.0} scenarios per hour",
                wall.median / 1000.0,
                wall.min / 1000.0,
                wall.max / 1000.0
            );
            println!("targets: matrix ≤ 10 s on 2 cores; definitive failure ≤ 150 ms; silent peer ≤ 2.5 s");
        }
    }
    Ok(Code::Ok)
}
