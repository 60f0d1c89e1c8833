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
}

impl LabError {
    pub fn at(loc: &Location, field: impl Into<String>, message: impl Into<String>) -> Self {
        LabError {
            line: loc.line(),
            column: loc.column(),
            field: field.into(),
            message: message.into(),
            hint: None,
        }
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
        LabErrors::new(
            file,
            source,
            vec![LabError { line, column, field: String::new(), message, hint }],
        )
    }
}

impl fmt::Display for LabErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<&str> = self.source.lines().collect();
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let field = if e.field.is_empty() { String::new() } else { format!("{}: ", e.field) };
            writeln!(f, "error: {}:{}:{}: {}{}", self.file.display(), e.line, e.column, field, e.message)?;
            if e.line >= 1 {
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
