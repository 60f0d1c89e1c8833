//! The gateway's BGP as Azure shows it: the BGP peers blade (`az network vnet-gateway
//! list-bgp-peer-status`: neighbor, ASN, state Connected/Connecting, connected duration, routes
//! received, messages), learned routes (`list-learned-routes`: network, next hop, source peer,
//! origin EBgp/Network, AS path) and advertised routes (`list-advertised-routes --peer`), read
//! from the simulated gateway's live FRR speaker. Field names and status values are Azure's;
//! the figures are the lab's.

use crate::bgp::{BgpSnapshot, SessionState};
use crate::device::ViewTable;

/// Azure's BGP peer `state` for a session state: Connected, Connecting, or Idle.
pub fn peer_status(s: SessionState) -> &'static str {
    match s {
        SessionState::Established => "Connected",
        SessionState::Idle => "Idle",
        _ => "Connecting",
    }
}

pub fn tables(local: Option<std::net::Ipv4Addr>, snap: &BgpSnapshot) -> Vec<ViewTable> {
    let local = local.map(|a| a.to_string()).unwrap_or_else(|| "-".into());
    let peers = ViewTable {
        title: "BGP peers (az network vnet-gateway list-bgp-peer-status)".into(),
        headers: ["neighbor", "asn", "state", "connectedDuration", "routesReceived", "messagesSent", "messagesReceived"].map(String::from).to_vec(),
        rows: snap
            .peers
            .iter()
            .map(|p| {
                let up = if p.state == SessionState::Established { crate::bgp::hms(p.uptime_s) } else { "-".into() };
                vec![
                    p.address.to_string(),
                    p.remote_asn.to_string(),
                    peer_status(p.state).into(),
                    up,
                    p.prefixes_received.to_string(),
                    p.messages_sent.to_string(),
                    p.messages_received.to_string(),
                ]
            })
            .collect(),
    };
    let mut learned_rows: Vec<Vec<String>> = snap
        .routes
        .iter()
        .filter(|r| r.best)
        .map(|r| {
            let (origin, source, hop) =
                if r.as_path.is_empty() { ("Network", local.clone(), "-".to_string()) } else { ("EBgp", r.next_hop.to_string(), r.next_hop.to_string()) };
            let path = r.as_path.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
            vec![r.prefix.to_string(), hop, source, origin.into(), path]
        })
        .collect();
    learned_rows.sort();
    let learned = ViewTable {
        title: "learned routes (az network vnet-gateway list-learned-routes)".into(),
        headers: ["network", "nextHop", "sourcePeer", "origin", "asPath"].map(String::from).to_vec(),
        rows: learned_rows,
    };
    let advertised = ViewTable {
        title: "advertised routes (az network vnet-gateway list-advertised-routes --peer)".into(),
        headers: ["peer", "network", "asPath"].map(String::from).to_vec(),
        rows: snap.advertised.iter().flat_map(|(peer, nets)| nets.iter().map(move |n| vec![peer.to_string(), n.to_string(), snap.asn.to_string()])).collect(),
    };
    vec![peers, learned, advertised]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::{BgpPeerState, BgpRoute};

    #[test]
    fn the_blade_speaks_azure() {
        let peer = BgpPeerState {
            address: "192.168.10.1".parse().unwrap(),
            remote_asn: 65010,
            state: SessionState::Established,
            uptime_s: 3725,
            prefixes_received: 1,
            prefixes_sent: 1,
            last_notification: None,
            last_reset: None,
            hold_s: Some(180),
            keepalive_s: Some(60),
            end_of_rib_received: true,
            notifications_sent: 0,
            notifications_received: 0,
            messages_sent: 5,
            messages_received: 6,
        };
        let route =
            BgpRoute { prefix: "192.168.10.0/24".parse().unwrap(), next_hop: peer.address, as_path: vec![65010], valid: true, best: true, installed: true };
        let snap = BgpSnapshot {
            asn: 65515,
            peers: vec![peer],
            routes: vec![route],
            advertised: vec![("192.168.10.1".parse().unwrap(), vec!["10.30.0.0/16".parse().unwrap()])],
        };
        let t = tables(Some("10.30.255.30".parse().unwrap()), &snap);
        assert_eq!(t[0].rows[0], ["192.168.10.1", "65010", "Connected", "01:02:05", "1", "5", "6"]);
        assert_eq!(t[1].rows[0], ["192.168.10.0/24", "192.168.10.1", "192.168.10.1", "EBgp", "65010"]);
        assert_eq!(t[2].rows[0], ["192.168.10.1", "10.30.0.0/16", "65515"]);
        assert_eq!(peer_status(SessionState::Active), "Connecting");
    }
}
