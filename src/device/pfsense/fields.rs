//! Reading one config.xml entry field by field, so that every child element ends up in the
//! import report: the derivation asks for the fields it reads (each then reports what it
//! became), and [`Fields::finish`] reports the rest as ignored, with why.

use super::xml::Element;
use crate::device::{DeviceError, ImportEntry, ImportReport, ImportStatus};

/// A default applied to a field that is present but empty: reported at its line.
pub fn defaulted_at(report: &mut ImportReport, element: String, line: Option<usize>, value: impl Into<String>, source: impl Into<String>) {
    report.entries.push(ImportEntry { element, line, status: ImportStatus::Defaulted { value: value.into(), source: source.into() } });
}

/// One element's children, with those already read remembered.
pub struct Fields<'a> {
    el: &'a Element,
    path: String,
    read: Vec<&'a str>,
}

impl<'a> Fields<'a> {
    pub fn new(el: &'a Element, path: String) -> Fields<'a> {
        Fields { el, path, read: Vec::new() }
    }

    /// The entry's own path, e.g. `ipsec/phase1[ikeid=1]`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The entry itself.
    pub fn element(&self) -> &'a Element {
        self.el
    }

    /// The entry's line.
    pub fn entry_line(&self) -> usize {
        self.el.line
    }

    /// `path/name`.
    pub fn at(&self, name: &str) -> String {
        format!("{}/{name}", self.path)
    }

    /// The first child called `name` (marked read).
    pub fn get(&mut self, name: &'a str) -> Option<&'a Element> {
        self.read.push(name);
        self.el.child(name)
    }

    /// Every child called `name` (marked read).
    pub fn all(&mut self, name: &'a str) -> Vec<&'a Element> {
        self.read.push(name);
        self.el.all(name).collect()
    }

    /// The trimmed text of `name`, if present (marked read).
    pub fn text(&mut self, name: &'a str) -> Option<&'a str> {
        self.get(name).map(Element::text)
    }

    /// The trimmed text of `name` if present and not empty, with its line (marked read).
    pub fn value(&mut self, name: &'a str) -> Option<(&'a str, usize)> {
        self.get(name).filter(|e| !e.text().is_empty()).map(|e| (e.text(), e.line))
    }

    /// Whether the flag `name` is present (marked read).
    pub fn flag(&mut self, name: &'a str) -> bool {
        self.get(name).is_some()
    }

    /// The line of `name`, if present.
    pub fn line(&self, name: &str) -> Option<usize> {
        self.el.child(name).map(|e| e.line)
    }

    /// Marks `name` read without looking at it (the caller reported it already).
    pub fn mark(&mut self, name: &'a str) {
        self.read.push(name);
    }

    /// A [`DeviceError`] about `name` (at its line, or the entry's).
    pub fn error(&self, name: &str, message: impl Into<String>, hint: impl Into<String>) -> DeviceError {
        DeviceError { line: Some(self.line(name).unwrap_or(self.el.line)), element: self.at(name), message: message.into(), hint: Some(hint.into()) }
    }

    /// Reports every child not read: as ignored with the reason `known` gives for it, or as a
    /// field this importer does not know.
    pub fn finish(self, report: &mut ImportReport, known: &[(&str, &str)], unknown: &str) {
        for child in &self.el.children {
            if self.read.contains(&child.name.as_str()) {
                continue;
            }
            let why = known.iter().find(|(name, _)| *name == child.name).map(|(_, why)| why.to_string()).unwrap_or_else(|| unknown.to_string());
            report.ignored(format!("{}/{}", self.path, child.name), Some(child.line), why);
        }
    }
}
