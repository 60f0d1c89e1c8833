//! TEMPORARY stub; replaced by the rules branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence { Documented, Conflicting, FieldReport, Teaching, Measured, Unconfirmed }
impl Evidence { pub fn label(self) -> &'static str { match self { Evidence::Documented => "documented (Microsoft)", Evidence::Conflicting => "sources conflict (switch)", _ => "other" } } }
pub struct Source { pub id: &'static str, pub title: &'static str, pub date: &'static str, pub url: &'static str }
pub static SOURCES: &[Source] = &[];
pub struct Rule { pub id: &'static str, pub topic: &'static str, pub statement: &'static str, pub evidence: Evidence, pub sources: &'static [&'static str], pub modelled: &'static str }
pub static RULES: &[Rule] = &[];
pub fn rule(id: &str) -> Option<&'static Rule> { RULES.iter().find(|r| r.id == id) }
pub fn source(id: &str) -> Option<&'static Source> { SOURCES.iter().find(|s| s.id == id) }
pub fn render_markdown() -> String { String::new() }
