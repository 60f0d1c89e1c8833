//! PAN-OS XML (`running-config.xml`, `show config running`, an API response, a Panorama
//! export) read into the same configuration tree as a `set` file, with each element's line.
//!
//! The tree's root is one firewall's configuration: the children of the device entry
//! (`/config/devices/entry/...`: `network`, `deviceconfig`) with those of vsys1 beside them
//! (`zone`, `rulebase`, `address`), as a single-vsys `set` file writes them. A Panorama export
//! holds the firewall's configuration in templates (`/config/devices/entry/template/entry/
//! config/devices/entry/...`, also under `template-stack`) and its rules in device groups
//! (`pre-rulebase`, `post-rulebase`); every template and device group is merged into the one
//! tree, stacks first, and where two set the same value the first stays (reported).

use super::tree::{Element, Parsed, Skipped};
use crate::device::lines::LineIndex;
use crate::device::DeviceError;

/// Reads an XML configuration.
pub fn parse(text: &str) -> Result<Parsed, Vec<DeviceError>> {
    let doc = roxmltree::Document::parse(text).map_err(|e| {
        vec![DeviceError {
            line: Some(e.pos().row as usize),
            element: String::new(),
            message: format!("the XML does not parse: {}", without_quoted_text(&e.to_string())),
            hint: Some("a PAN-OS XML export (running-config.xml, or `show config running` output) as the firewall wrote it".into()),
        }]
    })?;
    let lines = LineIndex::new(text);
    let mut document = convert(&lines, doc.root_element(), false);
    let mut skipped = Vec::new();
    let mut sources = Vec::new();
    let Some(config) = find(&mut document, "config") else {
        // A fragment (`<network>...</network>`, a device entry): its elements are the device's.
        let line = document.line;
        let mut root = Element::new("", None);
        if document.tag == "entry" {
            device_into(&mut root, document, &mut skipped);
        } else {
            root.children.push(document);
        }
        root.assign_paths("");
        return Ok(Parsed { root, skipped, sources: vec![("an XML fragment of a device configuration".into(), line)] });
    };
    let mut root = Element::new("", None);
    let mut devices = Vec::new();
    let mut rest = Vec::new();
    for c in config.children {
        if c.tag == "devices" {
            devices.extend(c.children.into_iter().filter(|d| d.tag == "entry"));
        } else {
            rest.push(c);
        }
    }
    for device in devices {
        let mut own = Element::new("", None);
        let mut stacks = Vec::new();
        let mut templates = Vec::new();
        let mut groups = Vec::new();
        for c in device.children {
            match c.tag.as_str() {
                "template-stack" => stacks.extend(c.children.into_iter().filter(|t| t.tag == "entry")),
                "template" => templates.extend(c.children.into_iter().filter(|t| t.tag == "entry")),
                "device-group" => groups.extend(c.children.into_iter().filter(|t| t.tag == "entry")),
                _ => own.children.push(c),
            }
        }
        // Panorama's own entry holds only its device settings; a firewall's holds its network.
        if own.children.iter().any(|c| c.tag == "network" || c.tag == "vsys") {
            sources.push(("the device's own configuration".into(), device.line));
        }
        device_into(&mut root, own, &mut skipped);
        for (what, list) in [("template stack", stacks), ("template", templates)] {
            for t in list {
                sources.push((format!("Panorama {what} {}", t.entry_name()), t.line));
                template_into(&mut root, t, &mut skipped);
            }
        }
        for g in groups {
            sources.push((format!("Panorama device group {}", g.entry_name()), g.line));
            // Its rules (pre-rulebase, post-rulebase) and objects sit beside the firewall's own.
            let mut group = Element::new("", None);
            let name = g.entry_name().to_string();
            for c in g.children {
                if c.tag == "devices" {
                    skipped.push(Skipped {
                        element: format!("device-group {name} devices"),
                        line: c.line,
                        why: "the firewalls this device group applies to: the lab runs one".into(),
                    });
                } else {
                    group.children.push(c);
                }
            }
            root.merge(group, "", &mut skipped);
        }
    }
    // `shared` (objects and rules for every vsys) and what else sits under /config.
    let mut others = Element::new("", None);
    others.children = rest;
    root.merge(others, "", &mut skipped);
    if sources.is_empty() {
        sources.push(("an XML configuration without a device entry".into(), config.line));
    }
    root.assign_paths("");
    Ok(Parsed { root, skipped, sources })
}

/// A device entry's children into the tree: vsys1's beside the device's own.
fn device_into(root: &mut Element, device: Element, skipped: &mut Vec<Skipped>) {
    let mut own = Element::new("", None);
    for c in device.children {
        if c.tag != "vsys" {
            own.children.push(c);
            continue;
        }
        let count = c.children.iter().filter(|v| v.tag == "entry").count();
        for v in c.children.into_iter().filter(|v| v.tag == "entry") {
            // A single-vsys firewall's one vsys, or vsys1 of several.
            if count == 1 || v.entry_name() == "vsys1" {
                let mut vsys = Element::new("", None);
                vsys.children = v.children;
                own.merge(vsys, "", skipped);
            } else {
                skipped.push(Skipped {
                    element: format!("vsys {}", v.entry_name()),
                    line: v.line,
                    why: "only vsys1 is read (the lab runs one virtual system)".into(),
                });
            }
        }
    }
    root.merge(own, "", skipped);
}

/// A Panorama template's configuration into the tree.
fn template_into(root: &mut Element, template: Element, skipped: &mut Vec<Skipped>) {
    let name = template.entry_name().to_string();
    for c in template.children {
        match c.tag.as_str() {
            "config" => {
                let mut shared = Element::new("", None);
                for part in c.children {
                    if part.tag == "devices" {
                        for d in part.children.into_iter().filter(|d| d.tag == "entry") {
                            device_into(root, d, skipped);
                        }
                    } else {
                        shared.children.push(part);
                    }
                }
                root.merge(shared, "", skipped);
            }
            other => skipped.push(Skipped {
                element: format!("template {name} {other}"),
                line: c.line,
                why: "Panorama's template settings: not part of the firewall's configuration".into(),
            }),
        }
    }
}

/// The first element called `tag` at or below `e`, taken out of the tree it is in (moved, not
/// copied: a 5,000-line export would otherwise be copied whole).
fn find(e: &mut Element, tag: &str) -> Option<Element> {
    fn locate(e: &Element, tag: &str, path: &mut Vec<usize>) -> bool {
        if e.tag == tag {
            return true;
        }
        for (i, c) in e.children.iter().enumerate() {
            path.push(i);
            if locate(c, tag, path) {
                return true;
            }
            path.pop();
        }
        false
    }
    let mut path = Vec::new();
    if !locate(e, tag, &mut path) {
        return None;
    }
    let mut at = e;
    for i in path {
        at = &mut at.children[i];
    }
    Some(std::mem::replace(at, Element::new("", None)))
}

/// An XML element as a tree element: its name, its `name` attribute, its text when it has no
/// element children, its line.
fn convert(lines: &LineIndex, node: roxmltree::Node, secret_parent: bool) -> Element {
    let tag = node.tag_name().name();
    let line = lines.line(node.range().start);
    let mut e = Element::new(tag, Some(line));
    e.name = node.attribute("name").map(str::to_string);
    let has_elements = node.children().any(|c| c.is_element());
    if !has_elements {
        // One text node is the usual case: no intermediate string for it.
        let mut texts = node.children().filter(|c| c.is_text()).filter_map(|c| c.text());
        let text = match (texts.next(), texts.next()) {
            (Some(only), None) => only.trim().to_string(),
            (Some(first), Some(second)) => {
                let mut joined = format!("{first}{second}");
                joined.extend(texts);
                joined.trim().to_string()
            }
            (None, _) => String::new(),
        };
        if !text.is_empty() {
            e.text = Some(text);
        }
    }
    e.secret = tag == "key" && secret_parent;
    let holds_key = tag == "pre-shared-key";
    if has_elements {
        e.children = node.children().filter(|c| c.is_element()).map(|c| convert(lines, c, holds_key)).collect();
    }
    e
}

/// A parser message without the characters it quotes (they may belong to a key).
fn without_quoted_text(message: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in message.chars() {
        if c == '\'' || c == '"' {
            if !inside {
                out.push_str("'…'");
            }
            inside = !inside;
            continue;
        }
        if !inside {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_firewall_export_puts_vsys1_beside_the_device() {
        let xml = r#"<?xml version="1.0"?>
<config version="10.1.0">
  <mgt-config><users><entry name="admin"><phash>x</phash></entry></users></mgt-config>
  <devices>
    <entry name="localhost.localdomain">
      <network><ike><gateway><entry name="gw"><protocol><version>ikev2</version></protocol></entry></gateway></ike></network>
      <vsys><entry name="vsys1"><zone><entry name="trust"><network><layer3><member>ethernet1/2</member></layer3></network></entry></zone></entry></vsys>
    </entry>
  </devices>
</config>"#;
        let p = parse(xml).unwrap();
        let gw = p.root.entries_at(&["network", "ike", "gateway"]);
        assert_eq!(
            gw[0].leaf_at(&["protocol", "version"]).map(|l| (l.text, l.line, l.path)),
            Some(("ikev2".into(), Some(6), "network ike gateway gw protocol version".into()))
        );
        let zone = p.root.entries_at(&["zone"]);
        assert_eq!(zone[0].child("network").unwrap().members("layer3")[0].text, "ethernet1/2");
        assert!(p.root.child("mgt-config").is_some());
    }

    #[test]
    fn a_parse_error_names_the_line_without_the_text() {
        let e = parse("<config>\n<key>Secret'x</key>\n<oops></config>").unwrap_err();
        assert_eq!(e[0].line, Some(3));
        assert!(!e[0].message.contains("Secret"), "{}", e[0].message);
    }
}
