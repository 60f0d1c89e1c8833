//! A node's intent as VICI messages: `load-conn` per connection and `load-shared` per secret.
//! Sent over the socket, so no swanctl files and no quoting pitfalls (an unquoted `#` or a
//! trailing space in a key reaches charon exactly as written in the lab). Nothing here knows
//! whose intent it renders.

use super::vici::Section;
use crate::ike::intent::{Child, Connection, IkeVersion, IpsecIntent, Secret, SelectorMatch};

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn secs(s: u64) -> String {
    format!("{s}s")
}

/// Four mutually non-contained ranges that together cover every address. A child with these
/// on both sides scores below an exact match of a proposal but above any inexact one in
/// strongSwan's child selection (lab notes §5), so a proposal that is not matched exactly is
/// steered to this child, whose ESP proposal no peer offers (Serpent, IANA's private range):
/// the answer is NO_PROPOSAL_CHOSEN with Phase 1 kept. TS_UNACCEPTABLE cannot be produced by
/// configuration. This is how [`SelectorMatch::Exact`] is rendered.
const COVER_RANGES: [&str; 4] = ["0.0.0.0-255.255.255.252", "0.0.0.1-255.255.255.253", "0.0.0.2-255.255.255.254", "0.0.0.3-255.255.255.255"];
const UNMATCHABLE_ESP: &str = "serpent256-sha256_96";
/// The name of the child that catches inexact proposals (never initiated).
pub const EXACT_MATCH_ONLY_CHILD: &str = "exact-match-only";

/// The child that makes a connection accept only exact selector matches (see COVER_RANGES).
fn exact_match_only_child() -> Section {
    let cover: Vec<String> = COVER_RANGES.iter().map(|r| r.to_string()).collect();
    Section::new().list("local_ts", &cover).list("remote_ts", &cover).list("esp_proposals", &[UNMATCHABLE_ESP.to_string()]).kv("start_action", "none")
}

fn child_section(ch: &Child) -> Section {
    let mut s = Section::new();
    let nets = |v: &[ipnet::Ipv4Net]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
    if !ch.local_ts.is_empty() {
        s = s.list("local_ts", nets(&ch.local_ts));
    }
    if !ch.remote_ts.is_empty() {
        s = s.list("remote_ts", nets(&ch.remote_ts));
    }
    if !ch.esp_proposals.is_empty() {
        s = s.list("esp_proposals", ch.esp_proposals.iter().map(ToString::to_string).collect::<Vec<_>>());
    }
    for (key, value) in [("rekey_time", ch.rekey_time_s), ("life_time", ch.life_time_s), ("rand_time", ch.rand_time_s)] {
        if let Some(v) = value {
            s = s.kv(key, secs(v));
        }
    }
    if let Some(a) = ch.dpd_action {
        s = s.kv("dpd_action", a.keyword());
    }
    if let Some(a) = ch.start_action {
        s = s.kv("start_action", a.keyword());
    }
    for (key, value) in [("rekey_bytes", ch.rekey_bytes), ("life_bytes", ch.life_bytes)] {
        if let Some(v) = value {
            s = s.kv(key, v.to_string());
        }
    }
    s
}

/// The `load-conn` message for one connection.
pub fn load_conn(c: &Connection) -> Section {
    let mut conn = Section::new().kv("version", c.version.number().to_string());
    if !c.local_addrs.is_empty() {
        conn = conn.list("local_addrs", &c.local_addrs);
    }
    if !c.remote_addrs.is_empty() {
        conn = conn.list("remote_addrs", &c.remote_addrs);
    }
    if !c.proposals.is_empty() {
        conn = conn.list("proposals", c.proposals.iter().map(ToString::to_string).collect::<Vec<_>>());
    }
    if let Some(d) = c.dpd_delay_s {
        conn = conn.kv("dpd_delay", secs(d));
    }
    if let Some(m) = c.mobike {
        conn = conn.kv("mobike", yes_no(m));
    }
    if let Some(e) = c.encap {
        conn = conn.kv("encap", yes_no(e));
    }
    for (key, value) in [("rekey_time", c.rekey_time_s), ("reauth_time", c.reauth_time_s), ("over_time", c.over_time_s), ("dpd_timeout", c.dpd_timeout_s)] {
        if let Some(v) = value {
            conn = conn.kv(key, secs(v));
        }
    }
    if c.version == IkeVersion::V2 && c.reauth_time_s.is_none() {
        // IKEv2 rekeys in place; reauthentication would tear the SA down and rebuild it.
        conn = conn.kv("reauth_time", "0");
    }
    let auth = |a: &crate::ike::intent::Auth| {
        let mut s = Section::new().kv("auth", "psk");
        if let Some(id) = &a.id {
            s = s.kv("id", id);
        }
        s
    };
    conn = conn.section("local", auth(&c.local)).section("remote", auth(&c.remote));
    let mut children = Section::new();
    for ch in &c.children {
        children = children.section(&ch.name, child_section(ch));
    }
    if c.selector_match == SelectorMatch::Exact {
        children = children.section(EXACT_MATCH_ONLY_CHILD, exact_match_only_child());
    }
    conn = conn.section("children", children);
    Section::new().section(&c.name, conn)
}

/// The `load-shared` message for one pre-shared key.
pub fn load_shared(index: usize, secret: &Secret) -> Section {
    let mut s = Section::new().kv("id", format!("psk-{index}")).kv("type", "IKE").kv("data", &secret.secret);
    if !secret.ids.is_empty() {
        s = s.list("owners", &secret.ids);
    }
    s
}

/// Every message that configures a daemon, in the order they are sent, for artifacts and
/// snapshots: `(command, message)`.
pub fn messages(intent: &IpsecIntent) -> Vec<(&'static str, Section)> {
    let mut out: Vec<(&'static str, Section)> = intent.secrets.iter().enumerate().map(|(i, s)| ("load-shared", load_shared(i, s))).collect();
    out.extend(intent.connections.iter().map(|c| ("load-conn", load_conn(c))));
    out
}

/// A copy of a message with secret values replaced, for anything a person or CI log may read.
pub fn redacted(message: &Section) -> Section {
    let mut out = Section::new();
    for (k, v) in message.entries() {
        match v {
            super::vici::Value::Str(_) if k == "data" => out.push(k, super::vici::Value::Str(b"<redacted>".to_vec())),
            super::vici::Value::Section(s) => out.push(k, super::vici::Value::Section(redacted(s))),
            other => out.push(k, other.clone()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_lab_messages() {
        let lab = crate::model::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/labs/azure-strongswan"))).unwrap();
        let mut text = String::new();
        for node in lab.ipsec_nodes() {
            for (cmd, msg) in messages(node.intent().unwrap()) {
                text.push_str(&format!("# {} {cmd}\n{}\n", node.name, redacted(&msg).to_json()));
            }
        }
        assert!(!text.contains("S2sVpnAzure"), "a secret leaked into the rendered messages");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn secret_is_sent_verbatim() {
        let s = Secret { ids: vec!["203.0.113.10".into()], secret: "key with space \n".into() };
        let msg = load_shared(0, &s);
        assert_eq!(msg.str("data").as_deref(), Some("key with space \n"));
        assert_eq!(msg.list_of("owners"), Some(vec!["203.0.113.10".to_string()]));
    }
}
