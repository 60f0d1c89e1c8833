//! A diagnosis as text, one renderer for every place that prints one (`test`'s failures,
//! `explain`, JUnit failure bodies): the cause, the evidence, each side's fix in its own words,
//! the network change when that is where the fix is, and how to confirm it.

use crate::diagnose::Diagnosis;

/// The diagnosis as indented lines (`indent` before each), ending in a newline.
pub fn text(d: &Diagnosis, indent: &str) -> String {
    let mut out = format!("{indent}cause: {} ({}): {}\n", d.title, d.id, d.cause);
    out.push_str(&format!("{indent}evidence: {}\n", d.evidence));
    out.push_str(&format!("{indent}fix ({} side)\n", d.change));
    out.push_str(&format!("{indent}  firewall: {}\n", d.firewall));
    out.push_str(&format!("{indent}  Azure: {}\n", d.azure));
    if let Some(n) = &d.network {
        out.push_str(&format!("{indent}  network: {n}\n"));
    }
    for c in &d.check {
        out.push_str(&format!("{indent}  confirm on {c}\n"));
    }
    out
}
