//! Scenarios: a named change to a lab (a merge patch over its `lab.yaml`), who initiates, the
//! steps after the initiate, and the expected outcome, with the ticket text it reproduces.
//! One file per scenario under `labs/<lab>/scenarios/`. `expect.rs` judges a run against the
//! expectations; `runner.rs` runs scenarios in parallel.

pub mod expect;
pub mod runner;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use self::expect::Expect;
use crate::ike::check_duration;
use crate::model::error::{LabError, LabErrors};
use crate::model::tree::{Entry, Index, Part};
use crate::model::Lab;
use crate::run::execute::Step;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    title: String,
    /// The ticket this scenario reproduces, in the customer's or student's words.
    #[serde(default)]
    ticket: Option<String>,
    /// Numbers of the tickets in the project brief's table.
    #[serde(default)]
    brief_tickets: Vec<u32>,
    /// A merge patch (RFC 7386) over the lab file: mappings merge, other values replace,
    /// `null` removes a key. It may only change or remove what the lab has, so that a typo
    /// cannot silently add a node or a field.
    #[serde(default)]
    patch: Option<serde_json::Value>,
    /// A merge patch applied after `patch:` that may also create keys: new nodes, sections
    /// and fields the lab does not have.
    #[serde(default)]
    add: Option<serde_json::Value>,
    #[serde(default)]
    initiator: Option<Spanned<String>>,
    #[serde(default)]
    time_scale: Option<Spanned<f64>>,
    #[serde(default)]
    steps: Vec<Spanned<RawStep>>,
    expect: expect::RawExpect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum RawStep {
    /// `wait: 5s`
    Wait(Spanned<String>),
    /// `kill: firewall`
    Kill(Spanned<String>),
    /// `until_gone: { node: azure-gw, sa: ike, within: 20s }`
    UntilGone(RawUntilGone),
    /// `set_address: { node: fritzbox, interface: wan, address: 203.0.113.60/24 }`
    SetAddress(RawSetAddress),
    /// `dns: { name: home.example.com, address: 203.0.113.60 }`
    Dns(RawDnsStep),
    /// `initiate_until_up: { node: pfsense, within: 30s }`
    InitiateUntilUp(RawInitiateUntilUp),
    /// `rekey: { node: azure-gw }`: that side rekeys its CHILD SA now (optional `within: 3s`).
    Rekey(RawRekey),
    /// `until_bgp: { node: azure-gw, state: established, within: 10s }` (optional `peer:`).
    UntilBgp(RawUntilBgp),
    /// `restart: { node: azure-gw, down: 20s }`: the daemon is killed (no delete sent), stays
    /// down, and comes back with its configuration and no SAs (`down` optional, default 0).
    Restart(RawRestart),
    /// `forget: azure-gw`: the node loses every SA at once, without a word (an instance
    /// failover); a restart with no downtime.
    Forget(Spanned<String>),
    /// `until: { sa: { node: firewall, child: installed }, within: 30s }`, or
    /// `until: { bgp: { node: azure-gw, state: established }, within: 10s }`: wait, bounded,
    /// until what is observable holds.
    Until(Box<RawUntil>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRestart {
    node: Spanned<String>,
    #[serde(default)]
    down: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUntil {
    #[serde(default)]
    sa: Option<RawUntilSa>,
    #[serde(default)]
    bgp: Option<RawUntilBgpState>,
    #[serde(default)]
    ping: Option<RawUntilPing>,
    within: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUntilPing {
    from: Spanned<String>,
    to: crate::model::raw::Addr,
    #[serde(default)]
    source: Option<crate::model::raw::Addr>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUntilSa {
    node: Spanned<String>,
    /// `established` or `none`.
    #[serde(default)]
    ike: Option<Spanned<String>>,
    /// `installed` or `none`.
    #[serde(default)]
    child: Option<Spanned<String>>,
    #[serde(default)]
    children: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUntilBgpState {
    node: Spanned<String>,
    #[serde(default)]
    peer: Option<Spanned<crate::model::raw::Addr>>,
    state: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUntilBgp {
    node: Spanned<String>,
    #[serde(default)]
    peer: Option<Spanned<crate::model::raw::Addr>>,
    state: Spanned<String>,
    within: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSetAddress {
    node: Spanned<String>,
    interface: Spanned<String>,
    address: crate::model::raw::Cidr,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDnsStep {
    name: String,
    address: crate::model::raw::Addr,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInitiateUntilUp {
    node: Spanned<String>,
    within: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRekey {
    node: Spanned<String>,
    #[serde(default)]
    within: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUntilGone {
    node: Spanned<String>,
    /// `ike` or `child`.
    sa: Spanned<String>,
    within: Spanned<String>,
}

/// A scenario, validated, with its lab patched.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file name without `.yaml`.
    pub name: String,
    pub title: String,
    pub ticket: Option<String>,
    pub brief_tickets: Vec<u32>,
    pub lab: Lab,
    /// The patched lab file's text, for artifacts.
    pub lab_text: String,
    pub steps: Vec<Step>,
    pub expect: Expect,
}

/// RFC 7386: `patch` over `target`.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            let t = target.as_object_mut().expect("made an object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

fn duration(errors: &mut Vec<LabError>, field: &str, v: &Spanned<String>) -> Duration {
    match check_duration(&v.value) {
        Ok(s) => Duration::from_secs(s),
        Err(e) => {
            errors.push(LabError::at(&v.referenced, field, e));
            Duration::ZERO
        }
    }
}

/// Reads one scenario of the lab in `lab_dir`.
pub fn load(lab_dir: &Path, file: &Path) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read scenario {}: {e}", file.display()))?;
    let lab_file = lab_dir.join("lab.yaml");
    let lab_source = std::fs::read_to_string(&lab_file).map_err(|e| format!("cannot read {}: {e}", lab_file.display()))?;
    parse(file, &text, &lab_file, &lab_source)
}

/// The message and hint for a patch key that names what the lab does not have.
fn not_in_lab(path: &str, siblings: &[&str], lab_file: &Path, is_null: bool) -> (String, String) {
    let last = path.rsplit('.').next().unwrap_or(path);
    let near = crate::model::error::closest(last, siblings.iter().copied()).map(|n| format!("; did you mean `{n}`?")).unwrap_or_default();
    if is_null {
        let message = format!("`{path}` is not in {}, so there is nothing to remove{near}", lab_file.display());
        (message, "`null` removes a key the lab has; drop this line".to_string())
    } else {
        let message = format!("`{path}` is not in {}{near}", lab_file.display());
        (message, "`patch:` only changes or removes what the lab has; to create a node or a field, write it under `add:` instead".to_string())
    }
}

/// Checks that `patch` (the scenario's `patch:`) names only keys that `target` has.
fn check_patch(target: &serde_json::Value, patch: &serde_json::Value, prefix: &str, index: &Index, lab_file: &Path, errors: &mut Vec<LabError>) {
    use serde_json::Value;
    let (Value::Object(p), Value::Object(t)) = (patch, target) else { return };
    for (k, v) in p {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match t.get(k) {
            None => {
                let at = index.get(&format!("patch.{path}")).map(|e| e.key).unwrap_or(Location::UNKNOWN);
                let siblings: Vec<&str> = t.keys().map(String::as_str).collect();
                let (message, hint) = not_in_lab(&path, &siblings, lab_file, v.is_null());
                errors.push(LabError::at(&at, format!("patch.{path}"), message).hint(hint));
            }
            Some(existing) => check_patch(existing, v, &path, index, lab_file, errors),
        }
    }
}

/// Where each field of the patched lab was written in the scenario: the keys of `patch:` and
/// `add:`, and the values the scenario writes into the lab outside them (`initiator`,
/// `time_scale`, the probes of `expect.ping`).
fn scenario_fields(index: &Index) -> HashMap<String, Entry> {
    let mut map = HashMap::new();
    for e in &index.entries {
        let path = if let Some(rest) = e.path.strip_prefix("patch.").or_else(|| e.path.strip_prefix("add.")) {
            rest.to_string()
        } else if let Some(probe) = expect::probe_field(index, &e.path) {
            probe
        } else if e.path == "initiator" {
            "run.initiator".to_string()
        } else if e.path == "time_scale" {
            "time_scale".to_string()
        } else {
            continue;
        };
        map.insert(path, e.clone());
    }
    map
}

fn location(e: &Entry, part: Part) -> Location {
    match part {
        Part::Key => e.key,
        Part::Value => e.value,
    }
}

/// The deepest prefix of `path` (itself included) that `has` knows, with its depth.
fn deepest<'a, T>(path: &str, has: impl Fn(&str) -> Option<&'a T>) -> Option<(usize, &'a T)> {
    let mut p = path;
    loop {
        if p.is_empty() {
            return None;
        }
        if let Some(t) = has(p) {
            return Some((p.matches(['.', '[']).count() + 1, t));
        }
        p = crate::model::tree::parent(p);
    }
}

/// Errors in the patched lab, moved to where their value was written: the scenario's patch key
/// (or its `initiator:`, `time_scale:`, `expect.ping`), or the lab file's own line when the
/// value came unchanged from the lab. The patched lab's text exists only in memory, so its line
/// numbers would mean nothing to the reader. Returns (scenario errors, lab errors).
fn relocate(errors: Vec<LabError>, patched: &str, scenario: &Index, lab: &Index) -> (Vec<LabError>, Vec<LabError>) {
    let patched = Index::of(patched).unwrap_or_default();
    let fields = scenario_fields(scenario);
    let (mut in_scenario, mut in_lab) = (Vec::new(), Vec::new());
    for mut e in errors {
        // What is written at the error's location in the patched text: a key or a value.
        // A mapping starts where its first key does: the error's own field comes first.
        let mut here: Vec<(String, Part)> = patched.at(e.line, e.column).into_iter().map(|(x, p)| (x.path.clone(), p)).collect();
        here.sort_by_key(|(p, _)| *p != e.field);
        let (loc, scenario_side) = if let Some((s, part)) = here.iter().find_map(|(p, part)| fields.get(p).map(|s| (s, *part))) {
            (location(s, part), true)
        } else if let Some(s) = fields.get(&e.field) {
            (s.key, true)
        } else if let Some((l, part)) = here.iter().find_map(|(p, part)| lab.get(p).map(|l| (l, *part))) {
            (location(l, part), false)
        } else {
            match (deepest(&e.field, |p| fields.get(p)), deepest(&e.field, |p| lab.get(p))) {
                (Some((sd, s)), ld) if ld.is_none_or(|(ld, _)| sd > ld) => (s.key, true),
                (_, Some((_, l))) => (l.key, false),
                _ => (Location::UNKNOWN, true),
            }
        };
        e.line = loc.line();
        e.column = loc.column();
        if scenario_side {
            in_scenario.push(e);
        } else {
            in_lab.push(e);
        }
    }
    (in_scenario, in_lab)
}

/// A scenario from its text and its lab's text (`file` and `lab_file` name them in messages;
/// the lab's imports are read relative to `lab_file`). `load` reads the files; the fuzz
/// targets call this directly.
pub fn parse(file: &Path, text: &str, lab_file: &Path, lab_source: &str) -> Result<Scenario, String> {
    let raw: RawScenario = serde_saphyr::from_str(text).map_err(|e| LabErrors::from_parse(file, text, &e).to_string())?;
    let mut tree: serde_json::Value = serde_saphyr::from_str(lab_source).map_err(|e| LabErrors::from_parse(lab_file, lab_source, &e).to_string())?;
    let index = Index::of(text).unwrap_or_default();
    let mut errors = Vec::new();
    for (key, value) in [("patch", &raw.patch), ("add", &raw.add)] {
        if let Some(v) = value.as_ref().filter(|v| !v.is_object()) {
            let at = index.get(key).map(|e| e.value).unwrap_or(Location::UNKNOWN);
            let what = if v.is_null() { "empty" } else { "not a mapping" };
            let hint = format!("{key}: {{ nodes: {{ NODE: {{ FIELD: VALUE }} }} }}, the lab's own keys");
            errors.push(LabError::at(&at, key, format!("`{key}:` is {what}")).hint(hint));
        }
    }
    if let Some(p) = &raw.patch {
        check_patch(&tree, p, "", &index, lab_file, &mut errors);
    }
    if !errors.is_empty() {
        return Err(LabErrors::new(file, text, errors).to_string());
    }
    for p in [&raw.patch, &raw.add].into_iter().flatten() {
        merge_patch(&mut tree, p);
    }
    if let Some(scale) = &raw.time_scale {
        merge_patch(&mut tree, &serde_json::json!({ "time_scale": scale.value }));
    }
    let mut run = serde_json::Map::new();
    if let Some(i) = &raw.initiator {
        run.insert("initiator".into(), serde_json::Value::String(i.value.clone()));
    }
    // A scenario probes exactly what it expects: a failing scenario without ping expectations
    // reaches its verdict without waiting for pings that cannot answer.
    let pings = expect::probes(&raw.expect);
    run.insert("probes".into(), serde_json::Value::Array(pings));
    if !run.is_empty() {
        merge_patch(&mut tree, &serde_json::json!({ "run": run }));
    }
    let lab_text = serde_saphyr::to_string(&tree).map_err(|e| format!("cannot write the patched lab of {}: {e}", file.display()))?;
    let lab = crate::model::parse(lab_file, &lab_text).map_err(|e| {
        let lab_index = Index::of(lab_source).unwrap_or_default();
        let (here, there) = relocate(e.errors, &lab_text, &index, &lab_index);
        let mut out = format!("the lab as patched by {} is invalid:\n", file.display());
        if !here.is_empty() {
            out.push_str(&LabErrors::new(file, text, here).to_string());
        }
        if !there.is_empty() {
            if !out.ends_with(":\n") {
                out.push('\n');
            }
            out.push_str(&LabErrors::new(lab_file, lab_source, there).to_string());
        }
        out
    })?;

    let mut steps = Vec::new();
    for s in &raw.steps {
        steps.push(match &s.value {
            RawStep::Wait(d) => Step::Wait(duration(&mut errors, "steps.wait", d)),
            RawStep::Kill(n) => {
                if lab.node(&n.value).and_then(|x| x.ipsec()).is_none() {
                    errors
                        .push(LabError::at(&n.referenced, "steps.kill", format!("`{}` runs no IKE daemon", n.value)).hint("the dut or the azure-gateway node"));
                }
                Step::Kill(n.value.clone())
            }
            RawStep::UntilGone(u) => {
                let ike = match u.sa.value.as_str() {
                    "ike" => true,
                    "child" => false,
                    other => {
                        errors.push(LabError::at(&u.sa.referenced, "steps.until_gone.sa", format!("`{other}` is not an SA kind")).hint("ike or child"));
                        false
                    }
                };
                if lab.node(&u.node.value).and_then(|x| x.ipsec()).is_none() {
                    errors.push(LabError::at(&u.node.referenced, "steps.until_gone.node", format!("`{}` runs no IKE daemon", u.node.value)));
                }
                Step::UntilGone { node: u.node.value.clone(), ike, within: duration(&mut errors, "steps.until_gone.within", &u.within) }
            }
            RawStep::SetAddress(a) => {
                if !lab.node(&a.node.value).is_some_and(|n| n.interfaces.iter().any(|i| i.name == a.interface.value)) {
                    errors.push(LabError::at(&a.interface.referenced, "steps.set_address", format!("no interface {}:{}", a.node.value, a.interface.value)));
                }
                Step::SetAddress { node: a.node.value.clone(), interface: a.interface.value.clone(), address: a.address.0 }
            }
            RawStep::Dns(d) => {
                if lab.dns.is_none() {
                    errors
                        .push(LabError::at(&s.referenced, "steps.dns", "the lab has no name server").hint("dns: { server: NODE, records: {...} } in the lab"));
                }
                Step::Dns { name: d.name.clone(), address: d.address.0 }
            }
            RawStep::InitiateUntilUp(i) => {
                if lab.node(&i.node.value).and_then(|x| x.ipsec()).is_none() {
                    errors.push(LabError::at(&i.node.referenced, "steps.initiate_until_up.node", format!("`{}` runs no IKE daemon", i.node.value)));
                }
                Step::InitiateUntilUp { node: i.node.value.clone(), within: duration(&mut errors, "steps.initiate_until_up.within", &i.within) }
            }
            RawStep::UntilBgp(u) => {
                let within = duration(&mut errors, "steps.until_bgp.within", &u.within);
                until_bgp(&lab, &mut errors, "steps.until_bgp", &u.node, u.peer.as_ref(), &u.state, within)
            }
            RawStep::Restart(r) => {
                if lab.node(&r.node.value).and_then(|x| x.ipsec()).is_none() {
                    errors.push(LabError::at(&r.node.referenced, "steps.restart.node", format!("`{}` runs no IKE daemon", r.node.value)));
                }
                let down = r.down.as_ref().map(|d| duration(&mut errors, "steps.restart.down", d)).unwrap_or_default();
                Step::Restart { node: r.node.value.clone(), down }
            }
            RawStep::Forget(n) => {
                if lab.node(&n.value).and_then(|x| x.ipsec()).is_none() {
                    errors.push(LabError::at(&n.referenced, "steps.forget", format!("`{}` runs no IKE daemon", n.value)));
                }
                Step::Restart { node: n.value.clone(), down: Duration::ZERO }
            }
            RawStep::Until(u) => {
                let within = duration(&mut errors, "steps.until.within", &u.within);
                match (&u.sa, &u.bgp, &u.ping) {
                    (None, None, Some(p)) => {
                        let node = lab.node(&p.from.value);
                        match node {
                            None => errors.push(LabError::at(&p.from.referenced, "steps.until.ping.from", format!("no node `{}`", p.from.value))),
                            Some(n) => {
                                if let Some(src) = &p.source {
                                    if !n.interfaces.iter().any(|i| i.address.addr() == src.0) {
                                        let have: Vec<String> = n.interfaces.iter().map(|i| format!("{} ({})", i.address.addr(), i.name)).collect();
                                        errors.push(
                                            LabError::at(
                                                &p.from.referenced,
                                                "steps.until.ping.source",
                                                format!("{} is not an address of {}", src.0, p.from.value),
                                            )
                                            .hint(have.join(", ")),
                                        );
                                    }
                                }
                            }
                        }
                        let ping = crate::model::Ping { from: p.from.value.clone(), to: p.to.0, size: None, df: false, source: p.source.as_ref().map(|s| s.0) };
                        Step::UntilPing { ping, within }
                    }
                    (Some(sa), None, None) => {
                        if lab.node(&sa.node.value).and_then(|x| x.ipsec()).is_none() {
                            errors.push(LabError::at(&sa.node.referenced, "steps.until.sa.node", format!("`{}` runs no IKE daemon", sa.node.value)));
                        }
                        let ike = expect::sa_state(&mut errors, &sa.ike, "established", "steps.until.sa.ike");
                        let child = expect::sa_state(&mut errors, &sa.child, "installed", "steps.until.sa.child");
                        if ike.is_none() && child.is_none() && sa.children.is_none() {
                            errors.push(
                                LabError::at(&sa.node.referenced, "steps.until.sa", "says nothing to wait for")
                                    .hint("ike: established|none, child: installed|none, or children: N"),
                            );
                        }
                        Step::UntilSa { node: sa.node.value.clone(), ike, child, children: sa.children, within }
                    }
                    (None, Some(b), None) => until_bgp(&lab, &mut errors, "steps.until.bgp", &b.node, b.peer.as_ref(), &b.state, within),
                    _ => {
                        errors.push(
                            LabError::at(&u.within.referenced, "steps.until", "needs exactly one condition").hint("sa: {...}, bgp: {...} or ping: {...}"),
                        );
                        Step::Wait(within)
                    }
                }
            }
            RawStep::Rekey(r) => {
                if lab.node(&r.node.value).and_then(|x| x.ipsec()).is_none() {
                    errors.push(LabError::at(&r.node.referenced, "steps.rekey.node", format!("`{}` runs no IKE daemon", r.node.value)));
                }
                // A rekey answers in milliseconds; a refusal or silence is decided well within 3 s.
                let within = r.within.as_ref().map(|w| duration(&mut errors, "steps.rekey.within", w)).unwrap_or(Duration::from_secs(3));
                Step::Rekey { node: r.node.value.clone(), within }
            }
        });
    }
    let expect = expect::resolve(&raw.expect, &lab, &mut errors);
    if !errors.is_empty() {
        return Err(LabErrors::new(file, text, errors).to_string());
    }
    let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(Scenario { name, title: raw.title, ticket: raw.ticket, brief_tickets: raw.brief_tickets, lab, lab_text, steps, expect })
}

/// A step waiting for a BGP state (`until_bgp:`, or `until: { bgp: ... }`), with its errors
/// under `field`.
fn until_bgp(
    lab: &Lab,
    errors: &mut Vec<LabError>,
    field: &str,
    node: &Spanned<String>,
    peer: Option<&Spanned<crate::model::raw::Addr>>,
    state: &Spanned<String>,
    within: Duration,
) -> Step {
    let peer = expect::bgp_peer(lab, errors, field, node, peer);
    let state = expect::bgp_state(errors, &format!("{field}.state"), state).unwrap_or(crate::bgp::StateMatch::Down);
    Step::UntilBgp { node: node.value.clone(), peer: peer.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED), state, within }
}

/// Every scenario file of a lab, in name order.
pub fn files(lab_dir: &Path) -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir(lab_dir.join("scenarios")) else { return Vec::new() };
    let mut files: Vec<PathBuf> = dir.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml")).collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod merge_tests {
    use super::merge_patch;
    use serde_json::json;

    #[test]
    fn merge_patch_is_rfc_7386() {
        let mut t = json!({"a": {"b": 1, "c": [1, 2]}, "d": "x"});
        merge_patch(&mut t, &json!({"a": {"b": 2, "c": [3]}, "d": null, "e": {"f": true}}));
        assert_eq!(t, json!({"a": {"b": 2, "c": [3]}, "e": {"f": true}}));
    }
}
