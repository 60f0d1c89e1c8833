//! IKE and CHILD SAs as charon reports them over VICI (`list-sas` / `list-sa` events), parsed
//! into the typed SAs of `evidence::sa`.

use super::vici::Section;
pub use crate::evidence::sa::{established, ChildSa, ChildState, IkeSa, IkeState};

fn flag(s: &Section, key: &str) -> bool {
    s.str(key).as_deref() == Some("yes")
}

fn text(s: &Section, key: &str) -> String {
    s.str(key).unwrap_or_default()
}

fn number(s: &Section, key: &str) -> u64 {
    s.str(key).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// `AES_CBC` + `256` + `HMAC_SHA2_256_128` + ... joined the way `swanctl --list-sas` does.
fn algorithms(s: &Section, keys: &[&str]) -> String {
    let mut parts = Vec::new();
    let encr = text(s, "encr-alg");
    if !encr.is_empty() {
        let size = text(s, "encr-keysize");
        parts.push(if size.is_empty() { encr } else { format!("{encr}-{size}") });
    }
    for k in keys {
        let v = text(s, k);
        if !v.is_empty() {
            parts.push(v);
        }
    }
    parts.join("/")
}

/// Parses one `list-sa` event: a section keyed by the IKE SA's name.
pub fn parse_list_sa(event: &Section) -> Vec<IkeSa> {
    event
        .entries()
        .iter()
        .filter_map(|(name, v)| match v {
            super::vici::Value::Section(s) => Some(parse_ike(name, s)),
            _ => None,
        })
        .collect()
}

fn parse_ike(name: &str, s: &Section) -> IkeSa {
    let children = s
        .sub("child-sas")
        .map(|c| {
            c.entries()
                .iter()
                .filter_map(|(_, v)| match v {
                    super::vici::Value::Section(ch) => Some(parse_child(ch)),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    IkeSa {
        name: name.to_string(),
        uniqueid: text(s, "uniqueid"),
        version: number(s, "version") as u8,
        state: IkeState::parse(&text(s, "state")),
        local_host: text(s, "local-host"),
        local_port: text(s, "local-port"),
        local_id: text(s, "local-id"),
        remote_host: text(s, "remote-host"),
        remote_port: text(s, "remote-port"),
        remote_id: text(s, "remote-id"),
        initiator: flag(s, "initiator"),
        nat_local: flag(s, "nat-local"),
        nat_remote: flag(s, "nat-remote"),
        algorithms: algorithms(s, &["integ-alg", "prf-alg", "dh-group"]),
        established_s: number(s, "established"),
        children,
    }
}

fn parse_child(s: &Section) -> ChildSa {
    ChildSa {
        name: text(s, "name"),
        uniqueid: text(s, "uniqueid"),
        state: ChildState::parse(&text(s, "state")),
        mode: text(s, "mode"),
        protocol: text(s, "protocol"),
        encap: flag(s, "encap"),
        algorithms: algorithms(s, &["integ-alg", "dh-group"]),
        local_ts: s.list_of("local-ts").unwrap_or_default(),
        remote_ts: s.list_of("remote-ts").unwrap_or_default(),
        bytes_in: number(s, "bytes-in"),
        packets_in: number(s, "packets-in"),
        bytes_out: number(s, "bytes-out"),
        packets_out: number(s, "packets-out"),
    }
}

/// Lists every SA of a daemon.
pub async fn list(client: &mut super::vici::Client) -> anyhow::Result<Vec<IkeSa>> {
    let mut sas = Vec::new();
    client.streamed("list-sas", "list-sa", Section::new(), &mut |ev| sas.extend(parse_list_sa(&ev))).await?;
    Ok(sas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_established_tunnel() {
        let child = Section::new()
            .kv("name", "azure-ipsec-tunnel")
            .kv("uniqueid", "1")
            .kv("state", "INSTALLED")
            .kv("mode", "TUNNEL")
            .kv("protocol", "ESP")
            .kv("encap", "yes")
            .kv("encr-alg", "AES_CBC")
            .kv("encr-keysize", "256")
            .kv("integ-alg", "HMAC_SHA2_256_128")
            .kv("bytes-in", "252")
            .kv("packets-in", "3")
            .kv("bytes-out", "0")
            .list("local-ts", ["0.0.0.0/0"])
            .list("remote-ts", ["0.0.0.0/0"]);
        let ike = Section::new()
            .kv("uniqueid", "1")
            .kv("version", "2")
            .kv("state", "ESTABLISHED")
            .kv("initiator", "yes")
            .kv("nat-local", "yes")
            .kv("encr-alg", "AES_CBC")
            .kv("encr-keysize", "256")
            .kv("integ-alg", "HMAC_SHA2_256_128")
            .kv("prf-alg", "PRF_HMAC_SHA2_256")
            .kv("dh-group", "MODP_2048")
            .section("child-sas", Section::new().section("azure-ipsec-tunnel-1", child));
        let sas = parse_list_sa(&Section::new().section("azure-ike-gw", ike));
        assert_eq!(sas.len(), 1);
        let sa = &sas[0];
        assert_eq!(sa.name, "azure-ike-gw");
        assert_eq!(sa.version, 2);
        assert_eq!(sa.state, IkeState::Established);
        assert_eq!(sa.children[0].state, ChildState::Installed);
        assert_eq!(serde_json::to_value(&sa.state).unwrap(), "ESTABLISHED");
        assert_eq!(IkeState::parse("FUTURE_STATE").as_str(), "FUTURE_STATE");
        assert!(sa.initiator && sa.nat_local && !sa.nat_remote);
        assert_eq!(sa.algorithms, "AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048");
        let c = &sa.children[0];
        assert_eq!(c.algorithms, "AES_CBC-256/HMAC_SHA2_256_128");
        assert_eq!(c.local_ts, vec!["0.0.0.0/0"]);
        assert!(c.encap);
        assert_eq!((c.bytes_in, c.packets_in, c.bytes_out), (252, 3, 0));
    }
}
