//! Devices for people: `vpnlab device explain` (what was imported from a firewall's
//! configuration, defaulted with the default's source, or ignored and why; and the intent it
//! became), and a device's own status view (`vpnlab status --view`).

use std::fmt::Write as _;

use tabled::builder::Builder;
use tabled::settings::Style;

use crate::device::{Device, ImportStatus, StatusView};
use crate::ike::intent::{Action, Initiation, IpsecIntent, Port, SelectorMatch};
use crate::ike::proposal;

/// A status view as tables, each under its title.
pub fn view_text(view: &StatusView) -> String {
    let mut out = format!("{}\n", view.title);
    for t in &view.tables {
        let _ = writeln!(out, "\n> {}", t.title);
        let mut b = Builder::default();
        b.push_record(t.headers.clone());
        for row in &t.rows {
            b.push_record(row.clone());
        }
        let _ = writeln!(out, "{}", b.build().with(Style::blank()));
    }
    out
}

/// One device: its summary, its import report and the intent it became.
pub fn explain_text(node: &str, device: &dyn Device, intent: &IpsecIntent) -> String {
    let mut out = format!("{node} · {} device\n", device.family());
    for line in device.summary(intent) {
        let _ = writeln!(out, "  {line}");
    }
    match device.import_report() {
        Some(report) => {
            let count = |f: fn(&ImportStatus) -> bool| report.entries.iter().filter(|e| f(&e.status)).count();
            let _ = writeln!(
                out,
                "\nImported: {} used, {} defaulted, {} ignored",
                count(|s| matches!(s, ImportStatus::Used { .. })),
                count(|s| matches!(s, ImportStatus::Defaulted { .. })),
                count(|s| matches!(s, ImportStatus::Ignored { .. }))
            );
            for e in &report.entries {
                let at = e.line.map(|l| format!(" (line {l})")).unwrap_or_default();
                let (word, detail) = match &e.status {
                    ImportStatus::Used { value } => ("used", value.clone()),
                    ImportStatus::Defaulted { value, source } => ("default", format!("{value} [{source}]")),
                    ImportStatus::Ignored { why } => ("ignored", why.clone()),
                };
                let _ = writeln!(out, "  {word:<8} {}{at}: {detail}", e.element);
            }
        }
        None => {
            let _ = writeln!(out, "\nWritten in the lab file (nothing imported).");
        }
    }
    let _ = writeln!(out, "\nWhat it does (the intent the driver runs)");
    out.push_str(&intent_text(intent));
    out
}

/// An intent in words, one line per fact.
pub fn intent_text(intent: &IpsecIntent) -> String {
    let mut out = String::new();
    let secs = |s: Option<u64>| s.map(|v| format!("{v} s")).unwrap_or_else(|| "default".into());
    for c in &intent.connections {
        let matching = match c.selector_match {
            SelectorMatch::Exact => "exactly (a narrower or wider proposal is refused)",
            SelectorMatch::Narrowing => "by narrowing",
        };
        let _ = writeln!(out, "  connection {}: {} to {}", c.name, c.version.name(), c.remote_addrs.join(", "));
        let _ = writeln!(out, "    IKE proposals: {}", if c.proposals.is_empty() { "the daemon's defaults".to_string() } else { proposal::list(&c.proposals) });
        let _ = writeln!(out, "    IKE rekey {}, DPD every {}, selectors matched {matching}", secs(c.rekey_time_s), secs(c.dpd_delay_s));
        if let Some(id) = &c.local.id {
            let _ = writeln!(out, "    local identity {id}");
        }
        for ch in &c.children {
            let esp = if ch.esp_proposals.is_empty() { "the daemon's defaults".to_string() } else { proposal::list(&ch.esp_proposals) };
            let _ = writeln!(out, "    child {}: {} · ESP {esp} · rekey {}", ch.name, ch.selectors(), secs(ch.rekey_time_s));
        }
    }
    let who = match intent.initiation {
        Initiation::Either => "starts and answers exchanges",
        Initiation::InitiatorOnly => "only starts exchanges (never answers)",
        Initiation::ResponderOnly => "only answers exchanges (never starts)",
    };
    let _ = writeln!(out, "  {who}");
    if let Some(policy) = &intent.forward {
        let port = |p: &Port| match p {
            Port::Tunnel => "tunnel".to_string(),
            Port::Interface(i) => i.clone(),
        };
        let ports = |l: &[Port]| if l.is_empty() { "any".to_string() } else { l.iter().map(port).collect::<Vec<_>>().join(",") };
        let nets = |l: &[ipnet::Ipv4Net]| if l.is_empty() { "any".to_string() } else { l.iter().map(ToString::to_string).collect::<Vec<_>>().join(",") };
        let verdict = |a: Action| if a == Action::Accept { "allow" } else { "drop" };
        let _ = writeln!(out, "  forward policy (replies to allowed traffic pass):");
        for r in &policy.rules {
            let _ = writeln!(out, "    {} {} -> {} {} -> {} ({})", verdict(r.action), ports(&r.from), ports(&r.to), nets(&r.src), nets(&r.dst), r.name);
        }
        let _ = writeln!(out, "    otherwise {}", verdict(policy.otherwise));
    }
    out
}
