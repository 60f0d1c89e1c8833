//! Errors in a lab file, written for the person who has to fix it: the file, the line, the
//! column, the field, what was wrong and what would be valid, with the offending line shown.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_saphyr::Location;

/// One problem in a lab file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabError {
    pub line: u64,
    pub column: u64,
    /// Dotted path of the field, e.g. `nodes.firewall.interfaces.wan` (empty for syntax errors).
    pub field: String,
    pub message: String,
    /// What would be valid.
    pub hint: Option<String>,
    /// Set when the problem is in an imported export or a device's configuration rather than in
    /// the lab file itself.
    pub file: Option<PathBuf>,
    /// The line in `file` (a device configuration), when the problem is there; `line` and
    /// `column` then point at the lab key that names the file.
    pub file_line: Option<u64>,
}

impl LabError {
    pub fn at(loc: &Location, field: impl Into<String>, message: impl Into<String>) -> Self {
        LabError { line: loc.line(), column: loc.column(), field: field.into(), message: message.into(), hint: None, file: None, file_line: None }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Every problem found in one lab file, with the text needed to show the offending lines.
/// `Debug` leaves the text out: it holds the lab's pre-shared keys.
#[derive(Clone)]
pub struct LabErrors {
    pub file: PathBuf,
    pub source: String,
    pub errors: Vec<LabError>,
}

impl fmt::Debug for LabErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LabErrors")
            .field("file", &self.file)
            .field("source", &format_args!("<{} bytes>", self.source.len()))
            .field("errors", &self.errors)
            .finish()
    }
}

impl LabErrors {
    pub fn new(file: &Path, source: &str, errors: Vec<LabError>) -> Self {
        LabErrors { file: file.to_path_buf(), source: source.to_string(), errors }
    }

    /// Turns a YAML/serde error into our format. serde-saphyr's message names the problem
    /// (unknown field with the valid ones, bad value, duplicate key); we keep the message,
    /// reword the parts that speak to a Rust programmer instead of a lab author, and add what
    /// would be valid.
    pub fn from_parse(file: &Path, source: &str, err: &serde_saphyr::Error) -> Self {
        let options = serde_saphyr::render_options! { snippets: serde_saphyr::SnippetMode::Off };
        let message = err.render_with_options(options);
        let (line, column) = err.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
        LabErrors::new(file, source, vec![parse_error(source, &message, line, column)])
    }
}

/// One parse error: message, hint, field path and location, from serde-saphyr's rendering.
pub fn parse_error(source: &str, rendered: &str, mut line: u64, mut column: u64) -> LabError {
    let mut message = rendered.to_string();
    // The location is shown separately; drop the trailing " at line X, column Y".
    if let Some(pos) = message.rfind(" at line ") {
        message.truncate(pos);
    }
    let mut field = None;
    let mut hint = None;
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(',').next().unwrap_or(rest).trim().to_string();
        message = format!("`{key}` is defined twice in this mapping");
        hint = Some("every node name and every key in a mapping must be unique".to_string());
    } else if message.contains("tab") {
        // The scanner reports a tab where it gave up, often at the end of the line before.
        if let Some((l, c)) = first_tab_from(source, line) {
            (line, column) = (l, c);
            // A tab-indented line has no indentation to read its path from: it is taken to be
            // a sibling of the line above it.
            let key = source.lines().nth(l as usize - 1).and_then(|t| shape(t.trim_start())).and_then(|(_, _, k)| k.map(str::to_string));
            let above = (1..l).rev().find(|n| shape(source.lines().nth(*n as usize - 1).unwrap_or("")).is_some());
            if let (Some(key), Some(above)) = (key, above) {
                let parent = super::tree::parent(&field_path_at(source, above)).to_string();
                field = Some(if parent.is_empty() { key } else { format!("{parent}.{key}") });
            }
        }
        message = "a tab character: YAML indents with spaces only".to_string();
        hint = Some("replace the tab with spaces".to_string());
    } else if message.starts_with("invalid trailing content after") {
        // A quoted value left open further up ran on to a quote on this line.
        if let Some((l, c)) = unclosed_quote_before(source, line) {
            message = format!("this quoted value is not closed on its line (the parser read on to line {line})");
            (line, column) = (l, c);
            hint = Some("end a quoted value with the same quote on the same line, e.g. `secret: \"...\"`".to_string());
        }
    } else if let Some(name) = message.strip_prefix("missing field `").and_then(|r| r.strip_suffix('`')).map(str::to_string) {
        // Reported at one of the mapping's other keys: the field belongs to that mapping.
        let parent = super::tree::Index::of(source)
            .and_then(|i| i.parent_of_key_at(line, column))
            .unwrap_or_else(|| super::tree::parent(&field_path_at(source, line)).to_string());
        let path = if parent.is_empty() { name.clone() } else { format!("{parent}.{name}") };
        hint = Some(format!("add `{name}:` to this mapping{}", example(&name).map(|e| format!(", e.g. {e}")).unwrap_or_default()));
        field = Some(path);
    }
    let message = if message.starts_with("unknown variant") {
        message.replace("expected one of", "valid values are:")
    } else {
        message.replace("expected one of", "valid fields are:")
    };
    let field = field.unwrap_or_else(|| field_path_at(source, line));
    // Our own deserializers (addresses, prefixes) already say what to write.
    let hint = hint.or_else(|| if message.contains("e.g.") { None } else { parse_hint(&message, &field) });
    LabError { line, column, field, message, hint, file: None, file_line: None }
}

/// The first tab at or after the start of `line` (1-based), as (line, column).
fn first_tab_from(source: &str, line: u64) -> Option<(u64, u64)> {
    let from = (line as usize).saturating_sub(1);
    source.lines().enumerate().skip(from).find_map(|(i, text)| text.chars().position(|c| c == '\t').map(|c| (i as u64 + 1, c as u64 + 1)))
}

/// The last line before `line` with an odd number of double quotes, and its last quote.
fn unclosed_quote_before(source: &str, line: u64) -> Option<(u64, u64)> {
    let lines: Vec<&str> = source.lines().collect();
    (0..(line as usize).saturating_sub(1).min(lines.len())).rev().find_map(|i| {
        let quotes: Vec<usize> = lines[i].char_indices().filter(|(j, c)| *c == '"' && !lines[i][..*j].ends_with('\\')).map(|(j, _)| j).collect();
        (quotes.len() % 2 == 1).then(|| (i as u64 + 1, lines[i][..quotes[quotes.len() - 1]].chars().count() as u64 + 1))
    })
}

/// An example value for a field, by its last name, for hints.
fn example(field: &str) -> Option<&'static str> {
    const EXAMPLES: &[(&str, &str)] = &[
        ("name", "`name: azure-strongswan`"),
        ("nodes", "`nodes: { fw: { kind: dut, ... } }`"),
        ("kind", "`kind: host`"),
        ("endpoints", "`endpoints: [firewall:wan, branch-nat:lan]`"),
        ("initiator", "`initiator: firewall`"),
        ("from", "`from: lan-pc`"),
        ("to", "`to: 10.20.0.4`"),
        ("via", "`via: tunnel`"),
        ("masquerade", "`masquerade: wan`"),
        ("protocol", "`protocol: udp`"),
        ("port", "`port: 4500`"),
        ("sport", "`sport: 4500`"),
        ("to_port", "`to_port: 4500`"),
        ("size", "`size: 1373`"),
        ("version", "`version: 2`"),
        ("connections", "`connections: { azure: { ... } }`"),
        ("local", "`local: { auth: psk, id: 203.0.113.10 }`"),
        ("remote", "`remote: { auth: psk, id: 198.51.100.20 }`"),
        ("auth", "`auth: psk`"),
        ("children", "`children: { azure: { local_ts: [0.0.0.0/0], remote_ts: [0.0.0.0/0] } }`"),
        ("secret", "`secret: \"...\"` (the pre-shared key)"),
        ("remote_addrs", "`remote_addrs: [198.51.100.20]`"),
        ("local_addrs", "`local_addrs: [172.16.0.2]`"),
        ("proposals", "`proposals: [aes256-sha256-modp2048]`"),
        ("esp_proposals", "`esp_proposals: [aes256-sha256]`"),
        ("local_ts", "`local_ts: [10.10.0.0/16]`"),
        ("remote_ts", "`remote_ts: [10.20.0.0/16]`"),
        ("routes", "`routes: [ { to: 10.20.0.0/16, via: tunnel } ]`"),
        ("dpdTimeoutSeconds", "`dpdTimeoutSeconds: 45` (9 to 3600)"),
        ("saLifeTimeSeconds", "`saLifeTimeSeconds: 27000`"),
        ("saDataSizeKilobytes", "`saDataSizeKilobytes: 102400000`"),
        ("asn", "`asn: 65010`"),
        ("peerWeight", "`peerWeight: 0`"),
        ("time_scale", "`time_scale: 100`"),
        ("addressPrefixes", "`addressPrefixes: [10.20.0.0/16]`"),
        ("ipsecPolicies", "`ipsecPolicies: []` (the Default policy) or one policy object"),
        ("virtualNetworkGateway", "`virtualNetworkGateway: { vpnType: RouteBased, sku: VpnGw2AZ }`"),
        ("virtualNetwork", "`virtualNetwork: { addressSpace: { addressPrefixes: [10.20.0.0/16] } }`"),
        ("localNetworkGateway", "`localNetworkGateway: { gatewayIpAddress: 203.0.113.10, localNetworkAddressSpace: { addressPrefixes: [10.10.0.0/16] } }`"),
        ("connection", "`connection: { sharedKey: \"...\", connectionProtocol: IKEv2 }`"),
        ("title", "`title: Phase 1 fails on a DH mismatch`"),
        ("expect", "`expect: { phase1: { outcome: up } }`"),
        ("within", "`within: 20s`"),
        ("node", "`node: azure-gw`"),
        ("sa", "`sa: ike`"),
        ("interface", "`interface: wan`"),
        ("address", "`address: 203.0.113.60/24`"),
    ];
    let last = field.rsplit(['.', '[']).next().unwrap_or(field);
    EXAMPLES.iter().find(|(k, _)| *k == last).map(|(_, e)| *e)
}

/// What would be valid, for serde-saphyr's messages that say only what was wrong.
fn parse_hint(message: &str, field: &str) -> Option<String> {
    let eg = || example(field).map(|e| format!("; e.g. {e}")).unwrap_or_default();
    let number = |range: &str, fallback: &str| {
        format!("a whole number from {range}{}", example(field).map(|e| format!(", e.g. {e}")).unwrap_or_else(|| format!(", e.g. {fallback}")))
    };
    let hint = match message {
        "invalid u8" => number("0 to 255", "2"),
        "invalid u16" => number("0 to 65535", "4500"),
        "invalid u32" => number("0 to 4294967295", "45"),
        "invalid u64" => number("0 to 18446744073709551615", "65010"),
        m if m.starts_with("invalid i") && m.len() <= 12 => number("the signed range", "0"),
        m if m.starts_with("invalid f") && m.len() <= 12 => {
            format!("a number{}", example(field).map(|e| format!(", e.g. {e}")).unwrap_or_else(|| ", e.g. 100 or 0.5".to_string()))
        }
        m if m.starts_with("invalid boolean") => "true or false".to_string(),
        "expected sequence start" => format!("a list: `[a, b]` on one line, or one `- item` per line{}", eg()),
        "expected mapping start" => format!("a mapping: `key: value` lines indented under this key, or `{{ key: value }}` on one line{}", eg()),
        "expected string scalar" => format!("a single value (text or a number), not a list or a mapping{}", eg()),
        "unexpected end of input" => {
            "the file ends where a value must follow: a lab is a mapping with at least `name:` and `nodes:` (see labs/azure-strongswan/lab.yaml)".to_string()
        }
        m if m.starts_with("unclosed quote") => "end a quoted value with the same quote on the same line, e.g. `sharedKey: \"...\"`".to_string(),
        m if m.starts_with("unclosed bracket") => "close `[` with `]` and `{` with `}`, on the same line or with the items indented".to_string(),
        m if m.starts_with("invalid type: ") || m.starts_with("invalid value: ") || m.starts_with("invalid length ") => {
            let expected = m.rsplit_once(", expected ").map(|(_, e)| e.to_string())?;
            format!("{expected}{}", eg())
        }
        m if m.starts_with("unknown variant ") => {
            let valid = m.split_once("valid values are: ").map(|(_, v)| v.to_string())?;
            format!("one of: {valid}")
        }
        m if m.starts_with("unknown field ") => return None,
        m if m.starts_with("indentation error") || m.contains("indentation") => {
            "indent each level by the same number of spaces, children further than their key".to_string()
        }
        m if m.starts_with("multiple YAML documents") => "one YAML document per file: remove the `---` line".to_string(),
        m if m.contains("unknown anchor") => "define the anchor (`&name`) before using it (`*name`)".to_string(),
        _ => format!("YAML: `key: value` mappings indented with spaces, lists as `- item` or `[a, b]`{}", eg()),
    };
    Some(hint)
}

/// One line of YAML as seen by [`field_path_at`]: indentation, list item or not, and its key.
fn shape(line: &str) -> Option<(usize, bool, Option<&str>)> {
    let rest = line.trim_start();
    if rest.is_empty() || rest.starts_with('#') {
        return None;
    }
    let indent = line.len() - rest.len();
    let (item, rest) = match rest.strip_prefix("- ") {
        Some(r) => (true, r.trim_start()),
        None if rest == "-" => (true, ""),
        None => (false, rest),
    };
    let key = rest.split_once(':').map(|(k, _)| k.trim()).filter(|k| !k.is_empty() && !k.contains([' ', '[', '{', '"', '\'', ',']));
    Some((indent, item, key))
}

/// The dotted path of the field on `line` (1-based), read from the indentation of the lines
/// above it: `nodes.azure-vm.interfaces.eth0`, `links[4].endpoints`. Used for errors that the
/// YAML parser reports with a position only.
pub fn field_path_at(source: &str, line: u64) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let Some(idx) = (line as usize).checked_sub(1).filter(|i| *i < lines.len()) else { return String::new() };
    let Some((mut level, mut in_item, key)) = shape(lines[idx]) else { return String::new() };
    // Innermost first; reversed at the end.
    let mut parts: Vec<String> = key.map(|k| vec![k.to_string()]).unwrap_or_default();
    // Items of the current list seen above the current one, to number it.
    let mut index = 0;
    for line in lines[..idx].iter().rev() {
        let Some((ind, is_item, key)) = shape(line) else { continue };
        if in_item {
            if is_item && ind == level {
                index += 1;
            } else if !is_item && ind <= level {
                // The key that holds the list.
                parts.push(format!("{}[{index}]", key.unwrap_or("?")));
                (level, in_item, index) = (ind, false, 0);
            }
        } else if ind < level {
            if is_item {
                // Inside an item of a list: its siblings above number it.
                (level, in_item, index) = (ind, true, 0);
            } else {
                parts.extend(key.map(str::to_string));
                level = ind;
            }
        }
    }
    parts.reverse();
    parts.join(".")
}

/// Snippet lines longer than this are cut around the column.
const MAX_SNIPPET: usize = 200;

/// The part of `text` to show with a caret at `column` (1-based, in characters): the whole
/// line when it is short, else a window of [`MAX_SNIPPET`] characters around the column with
/// `…` where it was cut. Tabs show as `→`, one column wide, so the caret stays under its
/// character. Returns the text and the caret's offset in it.
fn snippet(text: &str, column: u64) -> (String, usize) {
    let chars: Vec<char> = text.chars().map(|c| if c == '\t' { '→' } else { c }).collect();
    let caret = (column.max(1) - 1) as usize;
    if chars.len() <= MAX_SNIPPET {
        return (chars.into_iter().collect(), caret);
    }
    let start = caret.saturating_sub(MAX_SNIPPET / 2).min(chars.len().saturating_sub(MAX_SNIPPET));
    let end = (start + MAX_SNIPPET).min(chars.len());
    let mut shown = String::new();
    let mut offset = caret - start.min(caret);
    if start > 0 {
        shown.push('…');
        offset += 1;
    }
    shown.extend(&chars[start..end]);
    if end < chars.len() {
        shown.push('…');
    }
    (shown, offset)
}

impl fmt::Display for LabErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secret values never reach the screen: not in a snippet, not in a message.
        let redacted = super::redact::redact(&self.source);
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let field = if e.field.is_empty() { String::new() } else { format!("{}: ", e.field) };
            let message = redacted.scrub(&e.message);
            if let (Some(config), Some(at)) = (&e.file, e.file_line) {
                writeln!(f, "error: {}:{at}: {}{} (named by {}:{}:{})", config.display(), field, message, self.file.display(), e.line, e.column)?;
            } else if let Some(export) = &e.file {
                if e.line >= 1 {
                    writeln!(f, "error: {} (imported by {}:{}:{}): {}{}", export.display(), self.file.display(), e.line, e.column, field, message)?;
                } else {
                    writeln!(f, "error: {} (imported by {}): {}{}", export.display(), self.file.display(), field, message)?;
                }
            } else if e.line >= 1 {
                writeln!(f, "error: {}:{}:{}: {}{}", self.file.display(), e.line, e.column, field, message)?;
            } else {
                writeln!(f, "error: {}: {}{}", self.file.display(), field, message)?;
            }
            if e.line >= 1 && e.file.is_none() {
                if let Some(text) = redacted.lines.get(e.line as usize - 1) {
                    let num = e.line.to_string();
                    let pad = " ".repeat(num.len());
                    let (shown, caret) = snippet(text, e.column);
                    writeln!(f, "{pad} |")?;
                    writeln!(f, "{num} | {shown}")?;
                    writeln!(f, "{pad} | {}^", " ".repeat(caret))?;
                }
            }
            if let Some(h) = &e.hint {
                writeln!(f, "  = valid: {}", redacted.scrub(h))?;
            }
        }
        if self.errors.len() > 1 {
            writeln!(f, "\n{} problems in {}", self.errors.len(), self.file.display())?;
        }
        Ok(())
    }
}

/// The candidate closest to `word` by edit distance, when it is close enough to be a typo
/// (at most one edit per three characters, at least one).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates.into_iter().map(|c| (distance(word, c), c)).filter(|(d, c)| *d <= limit && *c != word).min_by_key(|(d, _)| *d).map(|(_, c)| c)
}

/// Edit distance (insertions, deletions, substitutions and swaps of neighbours), ignoring case.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

impl std::error::Error for LabErrors {}

#[cfg(test)]
mod tests {
    use super::{closest, field_path_at, snippet};

    #[test]
    fn long_lines_are_cut_around_the_column() {
        let line = format!("{}X{}", "a".repeat(300), "b".repeat(300));
        let (shown, caret) = snippet(&line, 301);
        assert_eq!(shown, format!("…{}X{}…", "a".repeat(100), "b".repeat(99)));
        assert_eq!(shown.chars().nth(caret), Some('X'));
        let (shown, caret) = snippet(&line, 601);
        assert_eq!((shown.chars().count(), shown.chars().nth(caret)), (201, Some('b')));
        assert!(shown.starts_with('…') && !shown.ends_with('…'));
        assert_eq!(snippet("\tkey: 1", 1), ("→key: 1".to_string(), 0));
    }

    #[test]
    fn suggestions_are_close_names_only() {
        assert_eq!(closest("hots", ["host", "router", "dut"]), Some("host"));
        assert_eq!(closest("lan-pcc", ["lan-pc", "firewall"]), Some("lan-pc"));
        assert_eq!(closest("switch", ["host", "router", "dut"]), None);
    }

    const TEXT: &str = "name: x\nnodes:\n  a:\n    kind: host\n    interfaces:\n      eth0: 10.0.0.1/24\nlinks:\n  - endpoints: [a:eth0, b:eth0]\n  - endpoints: [c:eth0, d:eth0]\npolicies:\n  - life: 1\n    dh: x\n";

    #[test]
    fn paths_from_indentation() {
        assert_eq!(field_path_at(TEXT, 1), "name");
        assert_eq!(field_path_at(TEXT, 4), "nodes.a.kind");
        assert_eq!(field_path_at(TEXT, 6), "nodes.a.interfaces.eth0");
        assert_eq!(field_path_at(TEXT, 8), "links[0].endpoints");
        assert_eq!(field_path_at(TEXT, 9), "links[1].endpoints");
        assert_eq!(field_path_at(TEXT, 12), "policies[0].dh");
        assert_eq!(field_path_at(TEXT, 99), "");
    }
}
