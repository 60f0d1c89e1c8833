//! PAN-OS's BGP CLI views from the lab's live FRR speaker: `show routing protocol bgp peer`
//! (one row per peer: name, group, status, peer AS and address, local address, status
//! duration, prefixes received and advertised) and `show routing route type bgp`
//! (destination, next hop, flags `A B` for an active BGP route, `?B` for one not installed).
//! Peer and group names are the configuration's; the figures are the lab's.

use super::bgp::BgpNames;
use crate::bgp::{BgpIntent, BgpSnapshot, SessionState};
use crate::device::ViewTable;

pub fn tables(names: Option<&BgpNames>, intent: Option<&BgpIntent>, snap: &BgpSnapshot) -> Vec<ViewTable> {
    let (peer_name, group) = names.map(|n| (n.peer.as_str(), n.peer_group.as_str())).unwrap_or(("-", "-"));
    let local = |addr| {
        intent
            .and_then(|i| i.neighbor(addr))
            .and_then(|n| n.update_source)
            .map(|a| a.to_string())
            .or_else(|| intent.and_then(|i| i.addresses.first()).map(|(_, a)| a.addr().to_string()))
            .unwrap_or_else(|| "-".into())
    };
    let peers = ViewTable {
        title: "show routing protocol bgp peer".into(),
        headers: ["Peer", "Peer group", "Peer status", "Peer AS", "Peer address", "Local address", "Status duration", "Prefixes rcvd", "Prefixes advd"]
            .map(String::from)
            .to_vec(),
        rows: snap
            .peers
            .iter()
            .map(|p| {
                let up = if p.state == SessionState::Established { format!("{} s", p.uptime_s) } else { "-".into() };
                vec![
                    peer_name.to_string(),
                    group.to_string(),
                    p.state.name().to_string(),
                    p.remote_asn.to_string(),
                    format!("{}:179", p.address),
                    local(p.address),
                    up,
                    p.prefixes_received.to_string(),
                    snap.advertised_to(p.address).len().to_string(),
                ]
            })
            .collect(),
    };
    let mut rows: Vec<Vec<String>> = snap
        .routes
        .iter()
        .filter(|r| r.best && !r.as_path.is_empty())
        .map(|r| {
            let flags = if r.installed { "A B" } else { "?B" };
            let path = r.as_path.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
            vec![r.prefix.to_string(), r.next_hop.to_string(), flags.to_string(), path]
        })
        .collect();
    rows.sort();
    let routes = ViewTable {
        title: "show routing route type bgp (flags: A active, B bgp, ? loose)".into(),
        headers: ["destination", "nexthop", "flags", "as-path"].map(String::from).to_vec(),
        rows,
    };
    vec![peers, routes]
}
