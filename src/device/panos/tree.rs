//! The configuration tree both PAN-OS formats become: PAN-OS's own XML shape (an element per
//! keyword, `entry` elements with a `name`, `member` elements for lists), each element with the
//! 1-based line it came from. `set.rs` builds it from `set` commands, `xml.rs` from an XML
//! export, and `config.rs` reads the typed model from it, so one reader serves both formats.
//!
//! Reading marks what was read; what no reader touched is listed afterwards ([`Element::unread`])
//! for the import report, so nothing in the file is dropped silently. A pre-shared key is an
//! element marked `secret`: its text never appears in `Debug` output.

use std::cell::Cell;
use std::fmt;

/// One element of the tree.
pub struct Element {
    /// The XML element name, which is also the `set` keyword (`gateway`, `entry`, `member`).
    pub tag: String,
    /// An `entry`'s name (`<entry name="azure-ike-gw">`).
    pub name: Option<String>,
    /// The text of a leaf (`<version>ikev2</version>`) or of a `member`.
    pub text: Option<String>,
    /// 1-based line where the element was written (for `set`: the line that created it).
    pub line: Option<usize>,
    pub children: Vec<Element>,
    /// Holds a key: its text is never printed.
    pub secret: bool,
    /// The element as a `set` path (`network ike gateway azure-ike-gw`), filled by
    /// [`Element::assign_paths`] once the tree is complete.
    pub path: String,
    read: Cell<bool>,
}

impl fmt::Debug for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match (&self.text, self.secret) {
            (Some(_), true) => Some("<redacted>"),
            (Some(t), false) => Some(t.as_str()),
            (None, _) => None,
        };
        f.debug_struct("Element")
            .field("tag", &self.tag)
            .field("name", &self.name)
            .field("text", &text)
            .field("line", &self.line)
            .field("children", &self.children)
            .finish()
    }
}

/// A value read from the tree, with where it was written.
#[derive(Clone, PartialEq, Eq)]
pub struct Leaf {
    pub text: String,
    pub line: Option<usize>,
    /// The element's `set` path, e.g. `network ike gateway gw protocol version`.
    pub path: String,
}

impl fmt::Debug for Leaf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A leaf may hold a key; the path says which element it is, which is all a reader needs.
        f.debug_struct("Leaf").field("path", &self.path).field("line", &self.line).finish_non_exhaustive()
    }
}

/// A configuration file as a tree (the device's configuration, whatever the format and
/// nesting), with what was met but not read and where the configuration came from.
#[derive(Debug)]
pub struct Parsed {
    pub root: Element,
    pub skipped: Vec<Skipped>,
    /// What was read, in words (`a set command file`, `Panorama template branch`), with lines.
    pub sources: Vec<(String, Option<usize>)>,
}

/// An element the importer met but did not use: where, and why it is not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub element: String,
    pub line: Option<usize>,
    pub why: String,
}

impl Element {
    pub fn new(tag: impl Into<String>, line: Option<usize>) -> Element {
        Element { tag: tag.into(), name: None, text: None, line, children: Vec::new(), secret: false, path: String::new(), read: Cell::new(false) }
    }

    pub fn entry(name: impl Into<String>, line: Option<usize>) -> Element {
        Element { name: Some(name.into()), ..Element::new("entry", line) }
    }

    /// The first child called `tag` that is not an entry or a member.
    pub fn child(&self, tag: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.tag == tag)
    }

    /// The element at a path of tags below this one.
    pub fn at(&self, tags: &[&str]) -> Option<&Element> {
        tags.iter().try_fold(self, |e, tag| e.child(tag))
    }

    /// The `entry` children, in order.
    pub fn entries(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter(|c| c.tag == "entry")
    }

    /// The entries of the list at `tags` (empty when the list is absent).
    pub fn entries_at<'a>(&'a self, tags: &[&str]) -> Vec<&'a Element> {
        self.at(tags).map(|l| l.entries().collect()).unwrap_or_default()
    }

    /// An entry's name (empty for elements that are not entries).
    pub fn entry_name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }

    /// The text of the leaf `tag` below this element, marked as read.
    pub fn leaf(&self, tag: &str) -> Option<Leaf> {
        let e = self.child(tag)?;
        e.mark();
        Some(Leaf { text: e.text.clone().unwrap_or_default(), line: e.line, path: e.path.clone() })
    }

    /// The leaf at a path of tags.
    pub fn leaf_at(&self, tags: &[&str]) -> Option<Leaf> {
        let (last, parents) = tags.split_last()?;
        self.at(parents)?.leaf(last)
    }

    /// The `member` values of the list `tag` (the entry names, for a list of entries), marked as
    /// read; empty when the list is absent.
    pub fn members(&self, tag: &str) -> Vec<Leaf> {
        let Some(list) = self.child(tag) else { return Vec::new() };
        list.mark();
        // A list written as one text (`<dh-group>group14</dh-group>` where PAN-OS writes
        // members) is read as its one value rather than as an empty list.
        if let (Some(text), true) = (&list.text, list.children.is_empty()) {
            return vec![Leaf { text: text.clone(), line: list.line, path: list.path.clone() }];
        }
        list.children
            .iter()
            .filter(|c| c.tag == "member" || c.tag == "entry")
            .map(|c| {
                c.mark_all();
                let text = if c.tag == "entry" { c.entry_name().to_string() } else { c.text.clone().unwrap_or_default() };
                Leaf { text, line: c.line, path: list.path.clone() }
            })
            .collect()
    }

    /// Whether a flag element (`<dynamic/>`, `<any/>`) is present below this one; marks it.
    pub fn flag(&self, tag: &str) -> Option<Option<usize>> {
        let e = self.child(tag)?;
        e.mark_all();
        Some(e.line)
    }

    /// Marks this element as read (its children are not).
    pub fn mark(&self) {
        self.read.set(true);
    }

    /// Marks this element and everything below it: the importer accounted for all of it
    /// (used, or reported as ignored with a reason).
    pub fn mark_all(&self) {
        self.read.set(true);
        for c in &self.children {
            c.mark_all();
        }
    }

    fn any_read(&self) -> bool {
        self.read.get() || self.children.iter().any(Element::any_read)
    }

    /// The elements nothing read: a subtree nobody touched is one element, so an unrelated
    /// part of the configuration (`deviceconfig`) is one line of the report.
    pub fn unread<'a>(&'a self, out: &mut Vec<&'a Element>) {
        for c in &self.children {
            if !c.any_read() {
                out.push(c);
            } else if !c.read.get() || !c.children.is_empty() {
                c.unread(out);
            }
        }
    }

    /// Fills every element's `path` from its place in the tree. Names with spaces are quoted,
    /// as PAN-OS prints them.
    pub fn assign_paths(&mut self, parent: &str) {
        // One allocation per element: the parent's path, a space, and this element's own part
        // (an entry's name, quoted when it holds a space; nothing for a member).
        let own: &str = match (self.tag.as_str(), &self.name) {
            ("entry", Some(name)) => name,
            ("member", _) => "",
            (tag, _) => tag,
        };
        let quote = self.tag == "entry" && (own.contains(char::is_whitespace) || own.is_empty());
        let mut path = String::with_capacity(parent.len() + own.len() + 3);
        path.push_str(parent);
        if !own.is_empty() || quote {
            if !parent.is_empty() {
                path.push(' ');
            }
            if quote {
                path.push('"');
            }
            path.push_str(own);
            if quote {
                path.push('"');
            }
        }
        self.path = path;
        // The children borrow this element's path; no copy of it per element.
        let Element { path, children, .. } = self;
        for c in children.iter_mut() {
            c.assign_paths(path);
        }
    }

    /// The child `tag` (not an entry), created at `line` when missing.
    pub fn child_mut_or_insert(&mut self, tag: &str, line: Option<usize>) -> &mut Element {
        let index = match self.children.iter().position(|c| c.tag == tag) {
            Some(i) => i,
            None => {
                self.children.push(Element::new(tag, line));
                self.children.len() - 1
            }
        };
        &mut self.children[index]
    }

    /// The entry `name`, created at `line` when missing (appended: PAN-OS keeps entries in the
    /// order they were first set, which is a rulebase's order).
    pub fn entry_mut_or_insert(&mut self, name: &str, line: Option<usize>) -> &mut Element {
        let index = match self.children.iter().position(|c| c.tag == "entry" && c.name.as_deref() == Some(name)) {
            Some(i) => i,
            None => {
                self.children.push(Element::entry(name, line));
                self.children.len() - 1
            }
        };
        &mut self.children[index]
    }

    /// Adds a `member` unless the list already holds the value (`set` on a member list appends).
    pub fn add_member(&mut self, value: &str, line: Option<usize>) {
        if !self.children.iter().any(|c| c.tag == "member" && c.text.as_deref() == Some(value)) {
            let mut m = Element::new("member", line);
            m.text = Some(value.to_string());
            self.children.push(m);
        }
    }

    /// Merges `other` (another source for the same configuration: a second Panorama template)
    /// into this element. Entries merge by name, lists by value; where both set a leaf, the
    /// first one stays and the other is reported.
    /// `at` is this element's `set` path, for the report.
    pub fn merge(&mut self, other: Element, at: &str, skipped: &mut Vec<Skipped>) {
        let below = |own: &str| if at.is_empty() { own.to_string() } else { format!("{at} {own}") };
        for c in other.children {
            match c.tag.as_str() {
                "entry" => {
                    // A new entry moves over whole; only an existing one is merged element by
                    // element (a template setting what another already set).
                    let existing = self.children.iter().position(|e| e.tag == "entry" && e.name == c.name);
                    match existing {
                        Some(i) => {
                            let path = below(&quoted(c.entry_name()));
                            self.children[i].merge(c, &path, skipped);
                        }
                        None => self.children.push(c),
                    }
                }
                "member" => self.add_member(c.text.as_deref().unwrap_or_default(), c.line),
                tag => {
                    if let Some(existing) = self.children.iter_mut().find(|e| e.tag == tag) {
                        if existing.text.is_some() && c.text.is_some() && existing.text != c.text {
                            skipped.push(Skipped {
                                element: below(tag),
                                line: c.line,
                                why: format!("set again by a later template; the first value (line {}) is used", line_text(existing.line)),
                            });
                        } else {
                            let path = below(tag);
                            existing.merge(c, &path, skipped);
                        }
                    } else {
                        self.children.push(c);
                    }
                }
            }
        }
    }
}

/// A name as PAN-OS prints it in a `set` path: quoted when it holds a space.
pub fn quoted(name: &str) -> String {
    if name.contains(char::is_whitespace) || name.is_empty() {
        format!("\"{name}\"")
    } else {
        name.to_string()
    }
}

fn line_text(line: Option<usize>) -> String {
    line.map(|l| l.to_string()).unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(tag: &str, text: &str, line: usize) -> Element {
        let mut e = Element::new(tag, Some(line));
        e.text = Some(text.into());
        e
    }

    #[test]
    fn paths_follow_set_syntax_and_unread_subtrees_are_one_element() {
        let mut root = Element::new("", None);
        let gw = root.child_mut_or_insert("network", Some(1)).child_mut_or_insert("gateway", Some(1)).entry_mut_or_insert("my gw", Some(1));
        gw.children.push(leaf("version", "ikev2", 1));
        gw.children.push(leaf("comment", "x", 2));
        root.child_mut_or_insert("deviceconfig", Some(3)).children.push(leaf("hostname", "fw", 3));
        root.assign_paths("");
        let gw = root.at(&["network", "gateway"]).and_then(|g| g.entries().next()).unwrap();
        assert_eq!(gw.path, "network gateway \"my gw\"");
        assert_eq!(gw.leaf("version").map(|l| l.text), Some("ikev2".into()));
        let mut unread = Vec::new();
        root.unread(&mut unread);
        let paths: Vec<&str> = unread.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["network gateway \"my gw\" comment", "deviceconfig"]);
    }

    #[test]
    fn a_secret_is_not_in_debug_output() {
        let mut e = leaf("key", "S3cret-value", 4);
        e.secret = true;
        assert!(!format!("{e:?}").contains("S3cret"));
        let l = Leaf { text: "S3cret-value".into(), line: Some(4), path: "x key".into() };
        assert!(!format!("{l:?}").contains("S3cret"));
    }

    #[test]
    fn merge_keeps_the_first_leaf_and_reports_the_second() {
        let mut a = Element::new("", None);
        a.children.push(leaf("version", "ikev2", 3));
        let mut b = Element::new("", None);
        b.children.push(leaf("version", "ikev1", 9));
        let mut skipped = Vec::new();
        a.merge(b, "", &mut skipped);
        assert_eq!(a.child("version").and_then(|v| v.text.clone()), Some("ikev2".into()));
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].line, Some(9));
        assert_eq!(skipped[0].element, "version");
    }
}
