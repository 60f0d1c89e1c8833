//! A YAML document as a flat index of located keys and values: every mapping key and list item
//! with its dotted field path (`nodes.azure-gw.azure.connection.sharedKey`, `links[0].endpoints[1]`),
//! the location of its key and the location of its value.
//!
//! Errors use it to name the right field for a location (a missing field is reported by the
//! parser at a sibling key), and scenarios use it to map a field of the patched lab back to the
//! scenario's patch key or to the lab file's own line. It never holds values, only shapes, so it
//! can never leak a secret.

use std::fmt;

use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

/// The shape of one YAML node, with located children.
#[derive(Debug)]
enum Tree {
    Null,
    Scalar,
    Seq(Vec<Spanned<Tree>>),
    Map(Vec<(Spanned<String>, Spanned<Tree>)>),
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tree;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_i128<E>(self, _: i128) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_u128<E>(self, _: u128) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_bytes<E>(self, _: &[u8]) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_unit<E>(self) -> Result<Tree, E> {
                Ok(Tree::Null)
            }
            fn visit_none<E>(self) -> Result<Tree, E> {
                Ok(Tree::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Tree, D::Error> {
                Tree::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<Tree>>()? {
                    items.push(item);
                }
                Ok(Tree::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<Spanned<KeyText>, Spanned<Tree>>()? {
                    entries.push((Spanned::new(k.value.0, k.referenced, k.defined), v));
                }
                Ok(Tree::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

/// A mapping key as text, whatever scalar it was written as (`1: x`, `true: y`).
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".to_string()))
            }
            fn visit_none<E>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeyText, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(KeyText("[...]".to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyText, A::Error> {
                while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
                Ok(KeyText("{...}".to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// One key or list item of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Dotted path: `nodes.firewall.routes[0].via`.
    pub path: String,
    /// Where the key is written (for a list item: where the item starts).
    pub key: Location,
    /// Where the value starts.
    pub value: Location,
    /// The value is `null` (or empty): in a merge patch, a removal.
    pub null: bool,
    /// The value is a mapping.
    pub map: bool,
}

/// Every key and list item of one document, in document order.
#[derive(Debug, Clone, Default)]
pub struct Index {
    pub entries: Vec<Entry>,
}

/// Which part of an entry a location points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Key,
    Value,
}

impl Index {
    /// Indexes YAML text; `None` when the text is not valid YAML.
    pub fn of(source: &str) -> Option<Index> {
        let tree: Spanned<Tree> = serde_saphyr::from_str(source).ok()?;
        let mut index = Index::default();
        index.walk("", &tree.value);
        Some(index)
    }

    /// The index of a node already located inside a larger document, under `prefix`.
    fn walk(&mut self, prefix: &str, tree: &Tree) {
        match tree {
            Tree::Null | Tree::Scalar => {}
            Tree::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    let path = format!("{prefix}[{i}]");
                    self.push(&path, item.referenced, item);
                }
            }
            Tree::Map(entries) => {
                for (k, v) in entries {
                    let path = if prefix.is_empty() { k.value.clone() } else { format!("{prefix}.{}", k.value) };
                    self.push(&path, k.referenced, v);
                }
            }
        }
    }

    fn push(&mut self, path: &str, key: Location, value: &Spanned<Tree>) {
        let null = matches!(value.value, Tree::Null);
        let map = matches!(value.value, Tree::Map(_));
        self.entries.push(Entry { path: path.to_string(), key, value: value.referenced, null, map });
        self.walk(path, &value.value);
    }

    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.path == path)
    }

    /// Entries whose key or value is at `line`:`column`, deepest first.
    pub fn at(&self, line: u64, column: u64) -> Vec<(&Entry, Part)> {
        let mut found: Vec<(&Entry, Part)> = Vec::new();
        for e in &self.entries {
            // A list item has no key of its own: its location is its value's.
            if e.key.line() == line && e.key.column() == column && !e.path.ends_with(']') {
                found.push((e, Part::Key));
            } else if e.value.line() == line && e.value.column() == column {
                found.push((e, Part::Value));
            }
        }
        found.sort_by_key(|(e, _)| std::cmp::Reverse(depth(&e.path)));
        found
    }

    /// The names of the keys directly under `path` ("" for the top level).
    pub fn children(&self, path: &str) -> Vec<&str> {
        self.entries
            .iter()
            .filter_map(|e| {
                let rest = if path.is_empty() { Some(e.path.as_str()) } else { e.path.strip_prefix(path).and_then(|r| r.strip_prefix('.')) };
                rest.filter(|r| !r.contains(['.', '[']))
            })
            .collect()
    }

    /// Adds an entry by hand (for values that a scenario writes outside its patch).
    pub fn insert(&mut self, path: &str, at: Location) {
        self.entries.push(Entry { path: path.to_string(), key: at, value: at, null: false, map: false });
    }

    /// Where `line`:`column` is: the path of a key or value located there.
    pub fn path_at(&self, line: u64, column: u64) -> Option<(&str, Part)> {
        self.at(line, column).first().map(|(e, p)| (e.path.as_str(), *p))
    }

    /// The path of the mapping that holds the key at `line`:`column` (a missing field's
    /// mapping: the parser reports it at one of the keys it did find).
    pub fn parent_of_key_at(&self, line: u64, column: u64) -> Option<String> {
        let entry = self.at(line, column).into_iter().find(|(e, part)| *part == Part::Key && !e.path.ends_with(']'))?.0;
        Some(parent(&entry.path).to_string())
    }
}

/// `a.b[2].c` → `a.b[2]`; `a` → ``.
pub fn parent(path: &str) -> &str {
    match path.rfind(['.', '[']) {
        Some(i) => &path[..i],
        None => "",
    }
}

fn depth(path: &str) -> usize {
    path.matches(['.', '[']).count()
}

#[cfg(test)]
mod tests {
    use super::{parent, Index, Part};

    const TEXT: &str = "name: x\nnodes:\n  a:\n    kind: host\n    ports: [1, 2]\nlinks:\n  - { endpoints: [a:eth0, b:eth0] }\nrun: ~\n";

    #[test]
    fn keys_and_items_with_locations() {
        let index = Index::of(TEXT).unwrap();
        let paths: Vec<&str> = index.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "name",
                "nodes",
                "nodes.a",
                "nodes.a.kind",
                "nodes.a.ports",
                "nodes.a.ports[0]",
                "nodes.a.ports[1]",
                "links",
                "links[0]",
                "links[0].endpoints",
                "links[0].endpoints[0]",
                "links[0].endpoints[1]",
                "run"
            ]
        );
        let kind = index.get("nodes.a.kind").unwrap();
        assert_eq!((kind.key.line(), kind.key.column(), kind.value.line(), kind.value.column()), (4, 5, 4, 11));
        assert_eq!(index.path_at(7, 27), Some(("links[0].endpoints[1]", Part::Value)));
        assert_eq!(index.path_at(4, 5), Some(("nodes.a.kind", Part::Key)));
        assert!(index.get("run").unwrap().null);
        assert_eq!(index.children("nodes.a"), ["kind", "ports"]);
        assert_eq!(index.children(""), ["name", "nodes", "links", "run"]);
        assert_eq!(parent("links[0].endpoints"), "links[0]");
        assert_eq!(parent("links[0]"), "links");
        assert_eq!(parent("name"), "");
        assert!(Index::of("a: [").is_none());
    }
}
