//! config.xml as an owned tree of elements, each with its line, read with roxmltree.
//!
//! Only the sections the importer reads keep their content (`ipsec`, `interfaces`, `filter`,
//! `aliases`, `gateways`, `staticroutes`, `system`, `version`, `installedpackages`); the others
//! (RRD data, certificates, DHCP leases...) keep their name and line only, so the report can
//! name them and a large backup costs no copies. Lines come from one index of line starts built
//! once, not from a scan per element.
//!
//! A file that does not parse is a [`DeviceError`] with the line; when the error lies inside a
//! secret-bearing element (`<pre-shared-key>`, passwords) its details are not shown, since the
//! parser's message may quote a piece of the key.

use crate::device::lines::LineIndex;
use crate::device::DeviceError;

/// One element: its name, line, own text (CDATA included, untrimmed) and child elements.
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub name: String,
    pub line: usize,
    pub raw: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child called `name`, in file order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Whether a child called `name` is present (pfSense's flags: `<disabled/>`, `<enable/>`).
    pub fn has(&self, name: &str) -> bool {
        self.child(name).is_some()
    }

    /// The element's text without surrounding whitespace.
    pub fn text(&self) -> &str {
        self.raw.trim()
    }

    /// The trimmed text of the child called `name`, if present.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(Element::text)
    }

    /// The trimmed text of the child called `name`, if present and not empty.
    pub fn value_of(&self, name: &str) -> Option<&str> {
        self.text_of(name).filter(|t| !t.is_empty())
    }
}

/// Top-level sections whose content the importer reads.
const READ_SECTIONS: &[&str] = &["ipsec", "interfaces", "filter", "aliases", "gateways", "staticroutes", "system", "version", "installedpackages"];

/// Elements whose text is a secret: never quoted in a message.
pub const SECRET_ELEMENTS: &[&str] = &["pre-shared-key", "pkcs11pin", "password", "bcrypt-hash", "sha512-hash"];

/// Parses config.xml into its root element (`<pfsense>`).
pub fn parse(text: &str) -> Result<Element, DeviceError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| syntax_error(text, &e))?;
    let index = LineIndex::new(text);
    let root = doc.root_element();
    if root.tag_name().name() != "pfsense" {
        return Err(DeviceError {
            line: Some(index.line(root.range().start)),
            element: root.tag_name().name().to_string(),
            message: format!("the root element is <{}>, not <pfsense>: this is not a pfSense config.xml", root.tag_name().name()),
            hint: Some("a pfSense backup (Diagnostics > Backup & Restore > Download configuration as XML), whose root is <pfsense>".into()),
        });
    }
    let mut out = Element { name: "pfsense".into(), line: index.line(root.range().start), raw: String::new(), children: Vec::new() };
    for section in root.children().filter(roxmltree::Node::is_element) {
        let name = section.tag_name().name();
        if READ_SECTIONS.contains(&name) {
            out.children.push(owned(section, &index));
        } else {
            // Name and line only: the report names the section, nothing else is needed.
            out.children.push(Element { name: name.to_string(), line: index.line(section.range().start), raw: String::new(), children: Vec::new() });
        }
    }
    Ok(out)
}

fn owned(node: roxmltree::Node, index: &LineIndex) -> Element {
    let mut raw = String::new();
    let mut children = Vec::new();
    for c in node.children() {
        if c.is_element() {
            children.push(owned(c, index));
        } else if c.is_text() {
            raw.push_str(c.text().unwrap_or_default());
        }
    }
    Element { name: node.tag_name().name().to_string(), line: index.line(node.range().start), raw, children }
}

/// The lines (first, last) of every secret-bearing element in `text`, found by a scan of the
/// text itself: it must work on text that does not parse. An element left open runs to the end.
fn secret_lines(text: &str) -> Vec<(usize, usize)> {
    let index = LineIndex::new(text);
    let mut spans = Vec::new();
    for name in SECRET_ELEMENTS {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let mut from = 0;
        while let Some(start) = text[from..].find(&open).map(|i| i + from) {
            let end = text[start..].find(&close).map(|i| i + start + close.len()).unwrap_or(text.len());
            spans.push((index.line(start), index.line(end.saturating_sub(1))));
            from = end.max(start + open.len());
        }
    }
    spans
}

/// The values inside secret-bearing elements, to keep them out of any message.
fn secret_values(text: &str) -> Vec<String> {
    let mut values = Vec::new();
    for name in SECRET_ELEMENTS {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        for piece in text.split(open.as_str()).skip(1) {
            let value = piece.split(close.as_str()).next().unwrap_or(piece);
            let value = value.trim_start_matches("<![CDATA[").trim_end_matches("]]>");
            for v in [value, value.trim()] {
                if v.chars().count() >= 3 {
                    values.push(v.to_string());
                }
            }
        }
    }
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    values.dedup();
    values
}

fn syntax_error(text: &str, e: &roxmltree::Error) -> DeviceError {
    let pos = e.pos();
    let line = pos.row as usize;
    let mut message = e.to_string().replace(&format!(" at {pos}"), "");
    if secret_lines(text).iter().any(|(first, last)| (*first..=*last).contains(&line)) {
        message = "the XML is malformed inside a secret-bearing element (its content is not shown)".into();
    }
    for v in secret_values(text) {
        if message.contains(&v) {
            message = message.replace(&v, "<redacted>");
        }
    }
    DeviceError {
        line: Some(line),
        element: String::new(),
        message: format!("config.xml does not parse: {message}"),
        hint: Some("well-formed XML as pfSense writes it (every element closed, `&` written as `&amp;`)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_text() {
        let root = parse("<?xml version=\"1.0\"?>\n<pfsense>\n  <ipsec>\n    <phase1><descr><![CDATA[to azure]]></descr></phase1>\n  </ipsec>\n  <rrddata>big</rrddata>\n</pfsense>\n").unwrap();
        let ipsec = root.child("ipsec").unwrap();
        assert_eq!(ipsec.line, 3);
        let p1 = ipsec.child("phase1").unwrap();
        assert_eq!((p1.line, p1.text_of("descr")), (4, Some("to azure")));
        let rrd = root.child("rrddata").unwrap();
        assert_eq!((rrd.line, rrd.raw.as_str()), (6, ""), "unread sections keep their name and line only");
    }

    #[test]
    fn a_parse_error_inside_a_key_hides_the_key() {
        let text = "<pfsense>\n<ipsec><phase1>\n<pre-shared-key>Sec&ret1</pre-shared-key>\n</phase1></ipsec>\n</pfsense>\n";
        let e = parse(text).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(!e.message.contains("ret1") && !e.message.contains("Sec"), "{}", e.message);
        assert!(e.message.contains("secret-bearing"), "{}", e.message);
    }

    #[test]
    fn not_a_pfsense_file() {
        let e = parse("<config><devices/></config>").unwrap_err();
        assert!(e.message.contains("not <pfsense>"), "{}", e.message);
    }
}
