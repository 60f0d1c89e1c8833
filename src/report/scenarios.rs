//! Scenario results for people: `vpnlab test`'s table, the failures with their verdicts and
//! diagnoses, the count; and `vpnlab explain`'s story of one scenario (the ticket, what
//! happened, the cause and the fix).

use std::fmt::Write as _;

use tabled::builder::Builder;
use tabled::settings::Style;

use super::RunResult;
use crate::evidence::event::What;
use crate::run::verdict::Outcome;
use crate::scenario::runner::ScenarioResult;

/// One row per scenario, then each scenario that did not pass with what did not hold and its
/// diagnosis, then the count.
pub fn table(results: &[ScenarioResult]) -> String {
    let mut out = String::new();
    let mut b = Builder::default();
    b.push_record(["lab", "scenario", "result", "phase 1", "phase 2", "diagnosis", "ms"]);
    for r in results {
        let diag: Vec<&str> = r.diagnosis.iter().map(|d| d.id.as_str()).collect();
        b.push_record([
            r.lab.clone(),
            r.name.clone(),
            r.result.word().to_string(),
            r.phase1.clone().unwrap_or_default(),
            r.phase2.clone().unwrap_or_default(),
            diag.join(", "),
            format!("{:.0}", r.duration_ms),
        ]);
    }
    let _ = writeln!(out, "{}", b.build().with(Style::psql()));
    for r in results.iter().filter(|r| r.result != RunResult::Pass) {
        let _ = writeln!(out, "\n{} {}/{}: {}", r.result.word(), r.lab, r.name, r.title);
        if let Some(e) = &r.error {
            let _ = writeln!(out, "  {e}");
        }
        for v in r.verdicts.iter().filter(|v| v.outcome == Outcome::Fail) {
            let _ = writeln!(out, "  FAIL {} ({}): {}", v.check, v.node, v.evidence);
        }
        for d in &r.diagnosis {
            out.push_str(&super::diagnosis::text(d, "  "));
        }
    }
    let count = |x: RunResult| results.iter().filter(|r| r.result == x).count();
    let _ = writeln!(out, "\n{} passed, {} failed, {} inconclusive", count(RunResult::Pass), count(RunResult::Fail), count(RunResult::Inconclusive));
    out
}

/// One scenario's story: the ticket, what happened, the cause and the fix, whether it is what
/// the scenario expects.
pub fn story(r: &ScenarioResult) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} · {}/{}", r.title, r.lab, r.name);
    if !r.brief_tickets.is_empty() {
        let t: Vec<String> = r.brief_tickets.iter().map(|t| t.to_string()).collect();
        let _ = writeln!(out, "(brief ticket {})", t.join(", "));
    }
    if let Some(t) = &r.ticket {
        let _ = writeln!(out, "\nThe ticket\n  {}", t.trim());
    }
    for (node, switches) in &r.azure_model {
        let _ = writeln!(out, "\nAzure model of {node}: {}", switches.join(", "));
    }
    let _ = writeln!(out, "\nWhat happened");
    for s in &r.steps {
        let _ = writeln!(out, "  step: {s}");
    }
    // A device that started again another way (a narrower child, another IKE version).
    for e in r.run.events.iter().filter(|e| matches!(e.what, What::Fallback { .. } | What::VersionFallback { .. })) {
        let _ = writeln!(out, "  {}: {}", e.node, e.what.detail());
    }
    if let Some(p) = &r.phase1 {
        let _ = writeln!(out, "  phase 1: {p}");
    }
    if let Some(p) = &r.phase2 {
        let _ = writeln!(out, "  phase 2: {p}");
    }
    for v in r.verdicts.iter().filter(|v| v.check.starts_with("ping") || v.check.starts_with("tcp ")) {
        let _ = writeln!(out, "  {}: {}", v.check, v.evidence.split("; observed ").last().unwrap_or(""));
    }
    if let Some(e) = &r.error {
        let _ = writeln!(out, "  the lab never became testable: {e}");
    }
    if r.diagnosis.is_empty() {
        let _ = writeln!(out, "\nCause\n  nothing wrong found: the tunnel behaves as configured");
    }
    for d in &r.diagnosis {
        let _ = write!(out, "\n{}", super::diagnosis::text(d, ""));
    }
    let failed: Vec<String> = r.verdicts.iter().filter(|v| v.outcome == Outcome::Fail).map(|v| format!("{} ({}): {}", v.check, v.node, v.evidence)).collect();
    let _ = writeln!(
        out,
        "\nAs the scenario expects: {}",
        if failed.is_empty() && r.result == RunResult::Pass { "yes".to_string() } else { format!("no\n  {}", failed.join("\n  ")) }
    );
    out
}
