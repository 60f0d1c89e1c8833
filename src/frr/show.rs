//! FRR's `show … json` answers typed into [`BgpPeerState`] and [`BgpRoute`]: the one place
//! that knows FRR's field names.

use std::net::Ipv4Addr;

use anyhow::{Context, Result};
use ipnet::Ipv4Net;
use serde_json::Value;

use crate::bgp::{BgpPeerState, BgpRoute, SessionState};

/// `show bgp neighbors json`.
pub fn neighbors(json: &str) -> Result<Vec<BgpPeerState>> {
    let v: Value = serde_json::from_str(json).context("reading `show bgp neighbors json`")?;
    let mut out = Vec::new();
    for (addr, n) in v.as_object().into_iter().flatten() {
        let Ok(address) = addr.parse::<Ipv4Addr>() else { continue };
        let state = n["bgpState"].as_str().and_then(SessionState::parse).unwrap_or(SessionState::Idle);
        let af = &n["addressFamilyInfo"]["ipv4Unicast"];
        let established = state == SessionState::Established;
        let text = |k: &str| n[k].as_str().filter(|s| !s.is_empty()).map(str::to_string);
        out.push(BgpPeerState {
            address,
            remote_asn: n["remoteAs"].as_u64().unwrap_or(0) as u32,
            state,
            uptime_s: if established { n["bgpTimerUpMsec"].as_u64().unwrap_or(0) / 1000 } else { 0 },
            prefixes_received: af["acceptedPrefixCounter"].as_u64().unwrap_or(0) as u32,
            prefixes_sent: af["sentPrefixCounter"].as_u64().unwrap_or(0) as u32,
            last_notification: text("lastNotificationReason").or_else(|| text("lastErrorCodeSubcode")),
            last_reset: text("lastResetDueTo"),
            end_of_rib_received: n["gracefulRestartInfo"]["endOfRibRecv"]["ipv4Unicast"].as_bool().unwrap_or(false),
            messages_sent: n["messageStats"]["totalSent"].as_u64().unwrap_or(0),
            messages_received: n["messageStats"]["totalRecv"].as_u64().unwrap_or(0),
            notifications_sent: n["messageStats"]["notificationsSent"].as_u64().unwrap_or(0) as u32,
            notifications_received: n["messageStats"]["notificationsRecv"].as_u64().unwrap_or(0) as u32,
            hold_s: established.then(|| n["bgpTimerHoldTimeMsecs"].as_u64().map(|m| (m / 1000) as u32)).flatten(),
            keepalive_s: established.then(|| n["bgpTimerKeepAliveIntervalMsecs"].as_u64().map(|m| (m / 1000) as u32)).flatten(),
        });
    }
    Ok(out)
}

/// zebra's `show ip route bgp json`: the BGP prefixes installed in the node's table.
pub fn installed(json: &str) -> Result<Vec<Ipv4Net>> {
    let v: Value = serde_json::from_str(json).context("reading `show ip route bgp json`")?;
    Ok(v.as_object()
        .into_iter()
        .flatten()
        .filter(|(_, routes)| routes.as_array().into_iter().flatten().any(|r| r["installed"].as_bool() == Some(true)))
        .filter_map(|(p, _)| p.parse().ok())
        .collect())
}

/// `show bgp ipv4 unicast json`: every path, one route per prefix and path (`installed` is
/// filled in from zebra by the caller).
pub fn routes(json: &str) -> Result<Vec<BgpRoute>> {
    let v: Value = serde_json::from_str(json).context("reading `show bgp ipv4 unicast json`")?;
    let mut out = Vec::new();
    for (prefix, paths) in v["routes"].as_object().into_iter().flatten() {
        let Ok(prefix) = prefix.parse::<Ipv4Net>() else { continue };
        for p in paths.as_array().into_iter().flatten() {
            let next_hop = p["nexthops"][0]["ip"].as_str().and_then(|s| s.parse().ok()).unwrap_or(Ipv4Addr::UNSPECIFIED);
            out.push(BgpRoute {
                prefix,
                next_hop,
                as_path: as_path(p["path"].as_str().unwrap_or("")),
                valid: p["valid"].as_bool().unwrap_or(false),
                best: p["bestpath"].as_bool().unwrap_or(false),
                installed: false,
            });
        }
    }
    Ok(out)
}

/// `show bgp ipv4 unicast neighbors A advertised-routes json`: what the speaker sends, less the
/// routes that came from that very peer (FRR lists them; the peer drops them as an AS loop).
pub fn advertised(json: &str, peer_asn: u32) -> Result<Vec<Ipv4Net>> {
    let v: Value = serde_json::from_str(json).context("reading `advertised-routes json`")?;
    let mut out: Vec<Ipv4Net> = v["advertisedRoutes"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, r)| !as_path(r["path"].as_str().unwrap_or("")).contains(&peer_asn))
        .filter_map(|(p, _)| p.parse().ok())
        .collect();
    out.sort();
    Ok(out)
}

fn as_path(text: &str) -> Vec<u32> {
    text.split_whitespace().filter_map(|a| a.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frr_answers_become_typed_state() {
        let n = r#"{"169.254.21.1":{"remoteAs":65515,"bgpState":"Established","bgpTimerUpMsec":2000,
            "bgpTimerHoldTimeMsecs":180000,"bgpTimerKeepAliveIntervalMsecs":60000,"lastResetDueTo":"Waiting for peer OPEN",
            "addressFamilyInfo":{"ipv4Unicast":{"acceptedPrefixCounter":1,"sentPrefixCounter":2}}},
            "10.9.9.9":{"remoteAs":65001,"bgpState":"Active"}}"#;
        let peers = neighbors(n).unwrap();
        let up = peers.iter().find(|p| p.remote_asn == 65515).unwrap();
        assert_eq!((up.state, up.uptime_s, up.prefixes_received, up.prefixes_sent, up.hold_s), (SessionState::Established, 2, 1, 2, Some(180)));
        let down = peers.iter().find(|p| p.remote_asn == 65001).unwrap();
        assert_eq!((down.state, down.hold_s), (SessionState::Active, None));

        let r = r#"{"routes":{"10.30.0.0/16":[{"bestpath":true,"path":"65515","nexthops":[{"ip":"169.254.21.1"}]}],
            "192.168.10.0/24":[{"bestpath":true,"path":"","nexthops":[{"ip":"0.0.0.0"}]}]}}"#;
        let routes = routes(r).unwrap();
        assert_eq!(routes.len(), 2);
        assert!(routes.iter().any(|r| r.prefix.to_string() == "10.30.0.0/16" && r.as_path == vec![65515] && r.best));

        let a = r#"{"advertisedRoutes":{"10.30.0.0/16":{"path":"65515"},"192.168.10.0/24":{"path":""}}}"#;
        assert_eq!(advertised(a, 65515).unwrap(), vec!["192.168.10.0/24".parse::<Ipv4Net>().unwrap()]);
    }
}
