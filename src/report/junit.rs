//! JUnit XML for CI systems: one test suite per lab, one test case per scenario; a failure's
//! message is the diagnosis (or the expectations that did not hold), its text the details.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::report::RunResult;
use crate::run::verdict::Outcome;
use crate::scenario::runner::ScenarioResult;

fn details(r: &ScenarioResult) -> String {
    let mut out = String::new();
    if let Some(t) = &r.ticket {
        out.push_str(&format!("ticket: {}\n", t.trim()));
    }
    for (k, v) in [("phase 1", &r.phase1), ("phase 2", &r.phase2)] {
        if let Some(v) = v {
            out.push_str(&format!("{k}: {v}\n"));
        }
    }
    for v in &r.verdicts {
        let word = if v.outcome == Outcome::Pass { "PASS" } else { "FAIL" };
        out.push_str(&format!("{word} {} ({}): {}\n", v.check, v.node, v.evidence));
    }
    for d in &r.diagnosis {
        out.push_str(&super::diagnosis::text(d, ""));
    }
    for (node, switches) in &r.azure_model {
        out.push_str(&format!("Azure model of {node}: {}\n", switches.join(", ")));
    }
    out
}

pub fn render(results: &[ScenarioResult]) -> String {
    let mut report = Report::new("vpnlab");
    let mut labs: Vec<&str> = results.iter().map(|r| r.lab.as_str()).collect();
    labs.dedup();
    let mut total = Duration::ZERO;
    for lab in labs {
        let mut suite = TestSuite::new(lab);
        for r in results.iter().filter(|r| r.lab == lab) {
            let status = match r.result {
                RunResult::Pass => TestCaseStatus::success(),
                RunResult::Fail => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    let failed: Vec<String> =
                        r.verdicts.iter().filter(|v| v.outcome == Outcome::Fail).map(|v| format!("{}: {}", v.check, v.evidence)).collect();
                    let message = match r.diagnosis.first() {
                        Some(d) => format!("{}; diagnosis: {} ({})", failed.join("; "), d.cause, d.id),
                        None => failed.join("; "),
                    };
                    s.set_message(message).set_type("expectation");
                    s
                }
                RunResult::Inconclusive => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                    s.set_message(format!("INCONCLUSIVE: {}", r.error.clone().unwrap_or_default())).set_type("inconclusive");
                    s
                }
            };
            let mut case = TestCase::new(r.name.as_str(), status);
            let time = Duration::from_secs_f64(r.duration_ms / 1000.0);
            total += time;
            case.set_classname(format!("{lab}.scenarios")).set_time(time).set_system_out(details(r));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.set_time(total);
    report.to_string().unwrap_or_else(|e| format!("<!-- JUnit serialization failed: {e} -->"))
}
