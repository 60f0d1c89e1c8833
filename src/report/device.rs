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
        out.push_str(&wrapped_line(&format!("  {line}")));
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
                out.push_str(&wrapped(&format!("  {word:<8} "), &format!("{}{at}", e.element), WIDTH));
                out.push_str(&wrapped(INDENT, &detail, WIDTH));
            }
        }
        None => {
            let _ = writeln!(out, "\nWritten in the lab file (nothing imported).");
        }
    }
    let _ = writeln!(out, "\nWhat it does (the intent the driver runs)");
    for line in intent_text(intent).lines() {
        out.push_str(&wrapped_line(line));
    }
    out
}

/// The import report is read in an 80-column terminal: an element on one line, what became of
/// it under it, both wrapped with a hanging indent.
const WIDTH: usize = 80;
const INDENT: &str = "             ";

/// `text` after `first`, wrapped at word boundaries to `width` columns; continuation lines are
/// indented to [`INDENT`]. A word longer than a line stays whole.
fn wrapped(first: &str, text: &str, width: usize) -> String {
    wrapped_with(first, text, width, INDENT)
}

/// A note of the lab's reading, wrapped at 80 columns.
pub fn note_text(note: &str) -> String {
    wrapped_with("note: ", note, WIDTH, "      ")
}

/// A line of text indented by its leading spaces, wrapped with two more for continuations.
fn wrapped_line(line: &str) -> String {
    let lead = line.len() - line.trim_start().len();
    wrapped_with(&line[..lead], line.trim_start(), WIDTH, &" ".repeat(lead + 2))
}

fn wrapped_with(first: &str, text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = indent.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_lines_wrap_at_80_columns_with_a_hanging_indent() {
        let detail = "liveness check every 5 s when idle; charon gives up after its own retransmit schedule, not PAN-OS's 7 min 15 s";
        let text = wrapped(INDENT, detail, WIDTH);
        assert!(text.lines().all(|l| l.chars().count() <= WIDTH && l.starts_with(INDENT)), "{text}");
        assert_eq!(text.split_whitespace().collect::<Vec<_>>(), detail.split_whitespace().collect::<Vec<_>>());
        assert_eq!(wrapped("  used     ", "tunnel.1", WIDTH), "  used     tunnel.1\n");
    }
}
