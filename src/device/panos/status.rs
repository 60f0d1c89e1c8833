//! The firewall's own view of its live SAs, as PAN-OS prints it: `show vpn ike-sa` (the IKEv2
//! SA table and its child SAs, or IKEv1's phase-1 and phase-2 tables), `show vpn ipsec-sa` and
//! `show vpn flow`, with PAN-OS's columns and algorithm abbreviations (`PSK/DH14/A256/SHA256`,
//! `ESP/A256/SHA256`; pan-os-ipsec.md §5 and public outputs). The figures are the lab's:
//! charon's SAs carry no SPIs, message IDs or install times, so those columns show `-`, and
//! times are relative (`12 s ago`) where PAN-OS prints the firewall's clock.

use super::{PanosDevice, Peer};
use crate::device::{StatusView, ViewTable};
use crate::evidence::sa::{ChildSa, ChildState, IkeSa, IkeState};
use crate::ike::intent::IpsecIntent;

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

/// `PSK/DH14/A256/SHA256` from charon's `AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048`.
fn ike_algorithm(charon: &str) -> String {
    let words: Vec<String> = charon.split('/').filter_map(super::names::show_vpn_word).collect();
    let dh = words.iter().find(|w| w.starts_with("DH")).cloned().unwrap_or_default();
    let rest: Vec<&String> = words.iter().filter(|w| !w.starts_with("DH")).collect();
    let mut out = vec!["PSK".to_string(), dh];
    out.extend(rest.into_iter().cloned());
    out.join("/")
}

/// `ESP/A256/SHA256`, or `ESP/G256/` for GCM (no separate authentication).
fn esp_algorithm(child: &ChildSa) -> String {
    let words: Vec<String> = child.algorithms.split('/').filter_map(super::names::show_vpn_word).filter(|w| !w.starts_with("DH")).collect();
    let enc = words.first().cloned().unwrap_or_default();
    let auth = words.get(1).cloned().unwrap_or_default();
    format!("{}/{enc}/{auth}", child.protocol)
}

fn role(sa: &IkeSa) -> &'static str {
    if sa.initiator {
        "Init"
    } else {
        "Resp"
    }
}

fn ike_state(sa: &IkeSa) -> String {
    match &sa.state {
        IkeState::Established => "Established".into(),
        IkeState::Connecting | IkeState::Created => "Init".into(),
        IkeState::Rekeying | IkeState::Rekeyed => "Rekeying".into(),
        IkeState::Deleting | IkeState::Destroying => "Deleting".into(),
        other => other.to_string(),
    }
}

fn child_state(c: &ChildSa) -> String {
    match &c.state {
        ChildState::Installed => "Mature".into(),
        ChildState::Rekeying | ChildState::Rekeyed => "Dying".into(),
        ChildState::Deleting | ChildState::Deleted | ChildState::Destroying => "Dead".into(),
        other => other.to_string(),
    }
}

pub fn view(device: &PanosDevice, node: &str, intent: &IpsecIntent, sas: &[IkeSa]) -> StatusView {
    let n = &device.names;
    // The gateway's SAs, over IKEv2 or its IKEv1 fallback.
    let fallback = device.fallback_name();
    let mine: Vec<&IkeSa> = sas.iter().filter(|sa| sa.name == n.gateway || sa.name == fallback).collect();
    let connection = intent.connections.iter().find(|c| c.name == n.gateway);
    // The IKE SA's lifetime in the lab: its rekey time (IKEv2) or reauthentication time (IKEv1).
    let ike_life = connection.and_then(|c| [c.rekey_time_s, c.reauth_time_s].into_iter().flatten().find(|s| *s > 0));
    let child_life = connection.and_then(|c| c.children.first()).and_then(|c| c.rekey_time_s);
    let gw_id = n.gateway_id.to_string();
    let tn_id = n.tunnel_id.to_string();
    let established = |sa: &IkeSa| if sa.is_established() { format!("{} s ago", sa.established_s) } else { "-".into() };
    let expiration = |sa: &IkeSa| match ike_life {
        Some(l) if sa.is_established() => format!("in {} s", l.saturating_sub(sa.established_s)),
        _ => "-".into(),
    };
    let installed = |sa: &IkeSa| sa.children.iter().filter(|c| c.state == ChildState::Installed).count();
    let v1 = mine.iter().any(|sa| sa.version == 1) || (mine.is_empty() && device.version == crate::ike::intent::IkeVersion::V1);
    let mut tables = Vec::new();
    if v1 {
        tables.push(ViewTable {
            title: "show vpn ike-sa: IKEv1 phase-1 SAs".into(),
            headers: strings(&[
                "GwID/client IP",
                "Peer-Address",
                "Gateway Name",
                "Role",
                "Mode",
                "Algorithm",
                "Established",
                "Expiration",
                "V",
                "ST",
                "Xt",
                "Phase2",
            ]),
            rows: mine
                .iter()
                .map(|sa| {
                    vec![
                        gw_id.clone(),
                        sa.remote_host.clone(),
                        n.gateway.clone(),
                        role(sa).into(),
                        "Main".into(),
                        ike_algorithm(&sa.algorithms),
                        established(sa),
                        expiration(sa),
                        "v1".into(),
                        ike_state(sa),
                        "-".into(),
                        installed(sa).to_string(),
                    ]
                })
                .collect(),
        });
        tables.push(ViewTable {
            title: "show vpn ike-sa: IKEv1 phase-2 SAs".into(),
            headers: strings(&["Gateway Name", "TnID", "Tunnel", "GwID/IP", "Role", "Algorithm", "SPI(in)", "SPI(out)", "MsgID", "ST", "Xt"]),
            rows: mine
                .iter()
                .flat_map(|sa| sa.children.iter().map(move |c| (sa, c)))
                .map(|(sa, c)| {
                    vec![
                        n.gateway.clone(),
                        tn_id.clone(),
                        c.name.clone(),
                        gw_id.clone(),
                        role(sa).into(),
                        esp_algorithm(c),
                        "-".into(),
                        "-".into(),
                        "-".into(),
                        child_state(c),
                        "-".into(),
                    ]
                })
                .collect(),
        });
    } else {
        tables.push(ViewTable {
            title: "show vpn ike-sa: IKEv2 SAs".into(),
            headers: strings(&["Gateway ID", "Peer-Address", "Gateway Name", "Role", "SN", "Algorithm", "Established", "Expiration", "Xt", "Child", "ST"]),
            rows: mine
                .iter()
                .map(|sa| {
                    vec![
                        gw_id.clone(),
                        sa.remote_host.clone(),
                        n.gateway.clone(),
                        role(sa).into(),
                        sa.uniqueid.clone(),
                        ike_algorithm(&sa.algorithms),
                        established(sa),
                        expiration(sa),
                        "-".into(),
                        installed(sa).to_string(),
                        ike_state(sa),
                    ]
                })
                .collect(),
        });
        tables.push(ViewTable {
            title: "show vpn ike-sa: IKEv2 IPSec Child SAs".into(),
            headers: strings(&["Gateway Name", "TnID", "Tunnel", "ID", "Parent", "Role", "SPI(in)", "SPI(out)", "MsgID", "ST"]),
            rows: mine
                .iter()
                .flat_map(|sa| sa.children.iter().map(move |c| (sa, c)))
                .map(|(sa, c)| {
                    vec![
                        n.gateway.clone(),
                        tn_id.clone(),
                        c.name.clone(),
                        c.uniqueid.clone(),
                        sa.uniqueid.clone(),
                        role(sa).into(),
                        "-".into(),
                        "-".into(),
                        "-".into(),
                        child_state(c),
                    ]
                })
                .collect(),
        });
    }
    // The configured lifetime and lifesize: charon's listing has no install time to count down.
    let life = format!(
        "{}/{}",
        child_life.map(|l| l.to_string()).unwrap_or_else(|| "-".into()),
        device.child_lifesize_kb.map(|k| k.to_string()).unwrap_or_else(|| "Unlimited".into())
    );
    tables.push(ViewTable {
        title: "show vpn ipsec-sa".into(),
        headers: strings(&[
            "GwID/client IP",
            "TnID",
            "Peer-Address",
            "Tunnel(Gateway)",
            "Algorithm",
            "SPI(in)",
            "SPI(out)",
            "life(Sec/KB)",
            "remain-time(Sec)",
        ]),
        rows: mine
            .iter()
            .flat_map(|sa| sa.children.iter().filter(|c| c.state == ChildState::Installed).map(move |c| (sa, c)))
            .map(|(sa, c)| {
                vec![
                    gw_id.clone(),
                    tn_id.clone(),
                    sa.remote_host.clone(),
                    format!("{}({})", c.name, n.gateway),
                    esp_algorithm(c),
                    "-".into(),
                    "-".into(),
                    life.clone(),
                    "-".into(),
                ]
            })
            .collect(),
    });
    let local_ip = mine.first().map(|sa| sa.local_host.clone()).or_else(|| device.local_addr.map(|a| a.to_string())).unwrap_or_else(|| "0.0.0.0".into());
    let peer_ip = mine.first().map(|sa| sa.remote_host.clone()).unwrap_or_else(|| match &device.peer {
        Peer::Ip(a) => a.to_string(),
        Peer::Fqdn(f) => f.clone(),
        Peer::Dynamic => "0.0.0.0".into(),
    });
    let flow_rows = device
        .children
        .iter()
        .map(|plan| {
            let up = mine.iter().any(|sa| sa.is_established() && sa.children.iter().any(|c| c.name == plan.name && c.state == ChildState::Installed));
            let monitor = match (n.monitor, up) {
                (false, _) => "off",
                (true, true) => "up",
                (true, false) => "down",
            };
            vec![
                tn_id.clone(),
                plan.name.clone(),
                if up { "active" } else { "init" }.into(),
                monitor.into(),
                local_ip.clone(),
                peer_ip.clone(),
                n.tunnel_interface.clone(),
            ]
        })
        .collect();
    tables.push(ViewTable {
        title: "show vpn flow".into(),
        headers: strings(&["id", "name", "state", "monitor", "local-ip", "peer-ip", "tunnel-i/f"]),
        rows: flow_rows,
    });
    StatusView { title: format!("PAN-OS {node}: gateway {}, tunnel {}", n.gateway, n.tunnel), tables }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_in_pan_os_abbreviations() {
        assert_eq!(ike_algorithm("AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048"), "PSK/DH14/A256/SHA256");
        let mut c = IkeSa::example(Some("t"), 0).children.remove(0);
        assert_eq!(esp_algorithm(&c), "ESP/A256/SHA256");
        c.algorithms = "AES_GCM_16-256/MODP_2048".into();
        assert_eq!(esp_algorithm(&c), "ESP/G256/");
    }
}
