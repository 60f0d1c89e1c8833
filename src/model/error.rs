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
    /// Set when the problem is in an imported export rather than in the lab file itself.
    pub file: Option<PathBuf>,
}

impl LabError {
    pub fn at(loc: &Location, field: impl Into<String>, message: impl Into<String>) -> Self {
        LabError { line: loc.line(), column: loc.column(), field: field.into(), message: message.into(), hint: None, file: None }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Every problem found in one lab file, with the text needed to show the offending lines.
#[derive(Debug, Clone)]
pub struct LabErrors {
    pub file: PathBuf,
    pub source: String,
    pub errors: Vec<LabError>,
}

impl LabErrors {
    pub fn new(file: &Path, source: &str, errors: Vec<LabError>) -> Self {
        LabErrors { file: file.to_path_buf(), source: source.to_string(), errors }
    }

    /// Turns a YAML/serde error into our format. serde-saphyr's message names the problem
    /// (unknown field with the valid ones, bad value, duplicate key); we keep the message and
    /// reword the parts that speak to a Rust programmer instead of a lab author.
    pub fn from_parse(file: &Path, source: &str, err: &serde_saphyr::Error) -> Self {
        let options = serde_saphyr::render_options! { snippets: serde_saphyr::SnippetMode::Off };
        let mut message = err.render_with_options(options);
        // The location is shown separately; drop the trailing " at line X, column Y".
        if let Some(pos) = message.rfind(" at line ") {
            message.truncate(pos);
        }
        let mut hint = None;
        if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
            let key = rest.split(',').next().unwrap_or(rest).trim().to_string();
            message = format!("`{key}` is defined twice in this mapping");
            hint = Some("every node name and every key in a mapping must be unique".to_string());
        }
        let message = message.replace("expected one of", "valid fields are:");
        let (line, column) = err.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
        let field = field_path_at(source, line);
        LabErrors::new(file, source, vec![LabError { line, column, field, message, hint, file: None }])
    }
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

impl fmt::Display for LabErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<&str> = self.source.lines().collect();
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let field = if e.field.is_empty() { String::new() } else { format!("{}: ", e.field) };
            if let Some(export) = &e.file {
                writeln!(f, "error: {} (imported by {}): {}{}", export.display(), self.file.display(), field, e.message)?;
            } else {
                writeln!(f, "error: {}:{}:{}: {}{}", self.file.display(), e.line, e.column, field, e.message)?;
            }
            if e.line >= 1 && e.file.is_none() {
                if let Some(text) = lines.get(e.line as usize - 1) {
                    let num = e.line.to_string();
                    let pad = " ".repeat(num.len());
                    writeln!(f, "{pad} |")?;
                    writeln!(f, "{num} | {text}")?;
                    let caret_at = (e.column.max(1) - 1) as usize;
                    writeln!(f, "{pad} | {}^", " ".repeat(caret_at))?;
                }
            }
            if let Some(h) = &e.hint {
                writeln!(f, "  = valid: {h}")?;
            }
        }
        if self.errors.len() > 1 {
            writeln!(f, "\n{} problems in {}", self.errors.len(), self.file.display())?;
        }
        Ok(())
    }
}

impl std::error::Error for LabErrors {}

#[cfg(test)]
mod tests {
    use super::field_path_at;

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
