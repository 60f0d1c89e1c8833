//! pfSense's Status > FRR > BGP page from the lab's live FRR speaker: the neighbor summary
//! (`show ip bgp summary`: Neighbor, V, AS, MsgRcvd, MsgSent, Up/Down, State/PfxRcd) and the
//! BGP table (`show ip bgp`: status codes, network, next hop, path), as the package's page
//! prints FRR's own output. pfSense runs FRR, so these are FRR's words.

use crate::bgp::{BgpSnapshot, SessionState};
use crate::device::ViewTable;

/// FRR's Up/Down column: `00:01:02`, or `never`.
fn up_down(seconds: u64, up: bool) -> String {
    if up {
        crate::bgp::hms(seconds)
    } else {
        "never".into()
    }
}

pub fn tables(snap: &BgpSnapshot) -> Vec<ViewTable> {
    let summary = ViewTable {
        title: "Status > FRR > BGP: show ip bgp summary".into(),
        headers: ["Neighbor", "V", "AS", "MsgRcvd", "MsgSent", "Up/Down", "State/PfxRcd"].map(String::from).to_vec(),
        rows: snap
            .peers
            .iter()
            .map(|p| {
                let up = p.state == SessionState::Established;
                let state = if up { p.prefixes_received.to_string() } else { p.state.name().to_string() };
                vec![
                    p.address.to_string(),
                    "4".into(),
                    p.remote_asn.to_string(),
                    p.messages_received.to_string(),
                    p.messages_sent.to_string(),
                    up_down(p.uptime_s, up),
                    state,
                ]
            })
            .collect(),
    };
    let mut rows: Vec<Vec<String>> = snap
        .routes
        .iter()
        .map(|r| {
            let codes = format!("*{}", if r.best { ">" } else { " " });
            let hop = if r.as_path.is_empty() { "0.0.0.0".to_string() } else { r.next_hop.to_string() };
            let path = r.as_path.iter().map(ToString::to_string).chain(std::iter::once("i".to_string())).collect::<Vec<_>>().join(" ");
            vec![codes, r.prefix.to_string(), hop, path]
        })
        .collect();
    rows.sort_by(|a, b| a[1].cmp(&b[1]));
    let table = ViewTable { title: "Status > FRR > BGP: show ip bgp".into(), headers: ["", "Network", "Next Hop", "Path"].map(String::from).to_vec(), rows };
    vec![summary, table]
}
