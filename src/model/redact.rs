//! Pre-shared keys in lab and scenario text, found so that no error snippet ever shows one.
//!
//! The secret-bearing fields of the lab file are the DUT's `strongswan.secrets[].secret` and
//! the Azure connection's `sharedKey` (raw.rs); an export may carry `sharedKey` too. The scan
//! reads text, not a parsed document, because it must also work on text that does not parse:
//! a key with an unterminated quote runs on into the lines below it, and the parser may report
//! the error many lines later. Every line that holds any part of a secret value is masked.

/// Keys whose values are secrets (compared without case, quotes and `_`/`-`).
const SECRET_KEYS: &[&str] = &["secret", "sharedkey", "psk", "presharedkey", "key", "password"];

fn is_secret_key(key: &str) -> bool {
    let k: String = key.chars().filter(|c| !matches!(c, '_' | '-')).flat_map(char::to_lowercase).collect();
    SECRET_KEYS.contains(&k.as_str())
}

pub const REDACTED: &str = "<redacted>";

/// The text's lines with every secret value masked, and the secret values found (to keep
/// them out of messages too).
#[derive(Debug, Clone, Default)]
pub struct Redacted {
    pub lines: Vec<String>,
    pub values: Vec<String>,
}

/// What a masked value continues into on the following lines.
enum Open {
    None,
    /// A quoted value not closed on its line: lines up to the closing quote.
    Quote(char),
    /// A block scalar (`|`, `>`) or an empty value: lines indented further than the key.
    Indented(usize),
}

/// Masks every secret value in `source`.
pub fn redact(source: &str) -> Redacted {
    let mut out = Redacted::default();
    let mut open = Open::None;
    for line in source.lines() {
        match open {
            Open::Quote(q) => {
                if closing_quote(line, 0, q).is_some() {
                    open = Open::None;
                }
                out.lines.push(masked_whole(line));
                continue;
            }
            Open::Indented(indent) => {
                let ind = line.len() - line.trim_start().len();
                if line.trim().is_empty() || ind > indent {
                    out.lines.push(masked_whole(line));
                    continue;
                }
            }
            Open::None => {}
        }
        let (text, next) = mask_line(line, &mut out.values);
        open = next;
        out.lines.push(text);
    }
    out.values.retain(|v| v.chars().count() >= 4);
    out.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    out.values.dedup();
    out
}

impl Redacted {
    /// `text` with every secret value found in the source replaced.
    pub fn scrub(&self, text: &str) -> String {
        let mut text = text.to_string();
        for v in &self.values {
            if text.contains(v.as_str()) {
                text = text.replace(v.as_str(), REDACTED);
            }
        }
        text
    }
}

fn masked_whole(line: &str) -> String {
    let indent = &line[..line.len() - line.trim_start().len()];
    if line.trim().is_empty() {
        line.to_string()
    } else {
        format!("{indent}{REDACTED}")
    }
}

/// Byte offset just past the quote that closes a value quoted with `q`, searching from `from`.
fn closing_quote(line: &str, from: usize, q: char) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        let c = bytes[i] as char;
        if q == '"' && c == '\\' {
            i += 2;
            continue;
        }
        if c == q {
            if q == '\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// Masks the secret values on one line; says whether the last one runs on.
fn mask_line(line: &str, values: &mut Vec<String>) -> (String, Open) {
    let indent = line.len() - line.trim_start().len();
    let mut out = String::new();
    let mut rest_from = 0;
    let mut i = 0;
    let bytes = line.as_bytes();
    let mut in_flow = false;
    while i < bytes.len() {
        let c = bytes[i] as char;
        if c == '#' && (i == 0 || bytes[i - 1] == b' ') {
            break;
        }
        if c == '{' || c == '[' {
            in_flow = true;
        }
        let starts_word = c.is_ascii_alphabetic() && (i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'{' | b',' | b'"' | b'\'' | b'-' | b'['));
        if !starts_word {
            i += 1;
            continue;
        }
        let word_end = line[i..].find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')).map_or(line.len(), |e| i + e);
        let key = &line[i..word_end];
        let mut j = word_end;
        if matches!(bytes.get(j), Some(b'"') | Some(b'\'')) {
            j += 1;
        }
        while bytes.get(j) == Some(&b' ') {
            j += 1;
        }
        let is_key = bytes.get(j) == Some(&b':') && matches!(bytes.get(j + 1), None | Some(b' ') | Some(b'\t'));
        if !is_key || !is_secret_key(key) {
            i = word_end.max(i + 1);
            continue;
        }
        // The value starts after ": ".
        let mut v = j + 1;
        while matches!(bytes.get(v), Some(b' ') | Some(b'\t')) {
            v += 1;
        }
        out.push_str(&line[rest_from..v.min(line.len())]);
        let value_text = &line[v.min(line.len())..];
        let first = value_text.chars().next();
        match first {
            None => {
                // `secret:` with the value on the lines below.
                out.push_str(REDACTED);
                return (out, Open::Indented(indent));
            }
            Some(q @ ('"' | '\'')) => match closing_quote(line, v + 1, q) {
                Some(end) => {
                    values.push(line[v + 1..end - 1].to_string());
                    out.push_str(&format!("\"{REDACTED}\""));
                    rest_from = end;
                    i = end;
                }
                None => {
                    values.push(line[v + 1..].trim_end().to_string());
                    out.push_str(&format!("\"{REDACTED}"));
                    return (out, Open::Quote(q));
                }
            },
            Some('|' | '>') => {
                out.push_str(REDACTED);
                return (out, Open::Indented(indent));
            }
            Some(_) => {
                let end =
                    if in_flow { value_text.find([',', '}', ']']).map_or(line.len(), |e| v + e) } else { value_text.find(" #").map_or(line.len(), |e| v + e) };
                let value = line[v..end].trim_end();
                values.push(value.to_string());
                out.push_str(&format!("\"{REDACTED}\""));
                rest_from = v + value.len();
                i = rest_from.max(v + 1);
            }
        }
    }
    out.push_str(&line[rest_from.min(line.len())..]);
    (out, Open::None)
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn masks_every_form_of_a_secret_value() {
        let text = "a:\n  sharedKey: \"S2sVpnAzure!Psk#2026\"  # the key\n  secret: plain key here\n  - { ids: [x], secret: 'Quo''ted', y: 1 }\n  \"sharedKey\": \"json\",\n  psk: |\n    block\n    text\n  name: fine\n  key: \"unterminated\n    still inside\n  end\" here\nafter: 1\n";
        let r = redact(text);
        assert_eq!(
            r.lines,
            [
                "a:",
                "  sharedKey: \"<redacted>\"  # the key",
                "  secret: \"<redacted>\"",
                "  - { ids: [x], secret: \"<redacted>\", y: 1 }",
                "  \"sharedKey\": \"<redacted>\",",
                "  psk: <redacted>",
                "    <redacted>",
                "    <redacted>",
                "  name: fine",
                "  key: \"<redacted>",
                "    <redacted>",
                "  <redacted>",
                "after: 1",
            ]
        );
        assert_eq!(r.values, ["S2sVpnAzure!Psk#2026", "plain key here", "unterminated", "Quo''ted", "json"]);
        assert_eq!(r.scrub("the key S2sVpnAzure!Psk#2026 leaked"), "the key <redacted> leaked");
        // Words that only contain a secret key's name are left alone.
        assert_eq!(redact("secrets:\n  - ids: [a]\nkeys: 1\nmonkey: 2\n").lines, ["secrets:", "  - ids: [a]", "keys: 1", "monkey: 2"]);
    }
}
