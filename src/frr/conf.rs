//! Renders a [`BgpIntent`] as FRR configuration: `bgpd.conf` (the speaker) and `zebra.conf`
//! (logging only: zebra installs the learned routes into the node's table).
//!
//! Policies become prefix-lists and route-maps named after the neighbor (`vl-<addr>-in/out`),
//! so the rendered file reads like one an engineer would write. Pure.

use std::fmt::Write as _;
use std::path::Path;

use crate::bgp::{BgpIntent, Neighbor, Policy};

/// zebra's configuration: where it logs.
pub fn zebra(node: &str, dir: &Path) -> String {
    format!("hostname {node}\nlog file {}/zebra.log informational\nlog timestamp precision 3\n", dir.display())
}

/// bgpd's configuration for one node.
pub fn bgpd(node: &str, dir: &Path, intent: &BgpIntent) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "hostname {node}");
    let _ = writeln!(out, "log file {}/bgpd.log informational", dir.display());
    out.push_str("log timestamp precision 3\n!\n");
    // `VPNLAB_FRR_DEBUG=1`: bgpd logs next-hop tracking, updates and its talk with zebra (a
    // session or route that will not come up is read in `--artifacts`' frr/bgpd.log).
    if std::env::var_os("VPNLAB_FRR_DEBUG").is_some() {
        let _ = writeln!(out, "log file {}/bgpd.log debugging\ndebug bgp nht\ndebug bgp updates\ndebug bgp zebra\n!", dir.display());
    }
    // Policies before the speaker that names them: a route map bgpd meets before its
    // definition denies everything until its 5 s route-map delay timer applies it.
    for n in &intent.neighbors {
        for (policy, dir) in [(&n.import, "in"), (&n.export, "out")] {
            if let Policy::Filter { rules, otherwise_permit } = policy {
                let name = map_name(n, dir);
                for (i, r) in rules.iter().enumerate() {
                    let le = if r.or_longer && r.prefix.prefix_len() < 32 { " le 32" } else { "" };
                    let action = if r.permit { "permit" } else { "deny" };
                    let _ = writeln!(out, "ip prefix-list {name} seq {} {action} {}{le}", (i + 1) * 5, r.prefix);
                }
                let last = if *otherwise_permit { "permit" } else { "deny" };
                let _ = writeln!(out, "ip prefix-list {name} seq {} {last} 0.0.0.0/0 le 32", (rules.len() + 1) * 5);
                let _ = writeln!(out, "route-map {name} permit 10\n match ip address prefix-list {name}\nexit\n!");
            }
        }
    }
    if !intent.install_routes {
        out.push_str("route-map vl-no-install deny 10\nexit\n!\n");
    }
    let _ = writeln!(out, "router bgp {}", intent.asn);
    let _ = writeln!(out, " bgp router-id {}", intent.router_id);
    // FRR's own default since 7.4 is on; only the off state is written.
    if !intent.ebgp_requires_policy {
        out.push_str(" no bgp ebgp-requires-policy\n");
    }
    // Originated prefixes are the device's to announce whether or not a route to them exists
    // in the node's table (a VNet's address space, a site's summary).
    out.push_str(" no bgp network import-check\n");
    // FRR holds the first UPDATEs of a new session for its update-group coalesce timer (about
    // a second); neither Azure's nor a vendor's timing is documented, and a lab has no reason
    // to batch, so they go out at once.
    out.push_str(" coalesce-time 50\n");
    // FRR registers a neighbor's next hop as "must be connected" when it first meets the
    // neighbor, which may be before the `ebgp-multihop` line applies, and never lifts it: a
    // multihop peer's routes would then stay unresolved at random. When every neighbor is
    // multihop, that check has nothing to protect.
    if !intent.neighbors.is_empty() && intent.neighbors.iter().all(|n| n.ebgp_multihop.is_some()) {
        out.push_str(" bgp disable-ebgp-connected-route-check\n");
    }
    if let Some(hold) = intent.minimum_hold_s {
        let _ = writeln!(out, " bgp minimum-holdtime {hold}");
    }
    if let Some(t) = intent.timers {
        let _ = writeln!(out, " timers bgp {} {}", t.keepalive_s, t.hold_s);
    }
    for n in &intent.neighbors {
        let a = n.address;
        let _ = writeln!(out, " neighbor {a} remote-as {}", n.remote_asn);
        if n.passive {
            let _ = writeln!(out, " neighbor {a} passive");
        }
        if let Some(src) = n.update_source {
            let _ = writeln!(out, " neighbor {a} update-source {src}");
        }
        if let Some(ttl) = n.ebgp_multihop {
            let _ = writeln!(out, " neighbor {a} ebgp-multihop {ttl}");
        }
        if let Some(t) = n.timers {
            let _ = writeln!(out, " neighbor {a} timers {} {}", t.keepalive_s, t.hold_s);
        }
    }
    out.push_str(" !\n address-family ipv4 unicast\n");
    if !intent.install_routes {
        // Exchanged, never installed: a table map that denies every route keeps them out of
        // zebra (PAN-OS install-route off).
        out.push_str("  table-map vl-no-install\n");
    }
    for p in &intent.networks {
        let _ = writeln!(out, "  network {p}");
    }
    for n in &intent.neighbors {
        let a = n.address;
        if let Some(max) = n.max_prefix {
            let restart = n.max_prefix_restart_min.map(|m| format!(" restart {m}")).unwrap_or_default();
            let _ = writeln!(out, "  neighbor {a} maximum-prefix {max}{restart}");
        }
        for (policy, dir) in [(&n.import, "in"), (&n.export, "out")] {
            if *policy != Policy::None {
                let _ = writeln!(out, "  neighbor {a} route-map {} {dir}", map_name(n, dir));
            }
        }
    }
    out.push_str(" exit-address-family\nexit\n!\n");
    out
}

fn map_name(n: &Neighbor, dir: &str) -> String {
    format!("vl-{}-{dir}", n.address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::Timers;

    #[test]
    fn an_azure_like_speaker_renders_passive_timers_limits_and_filters() {
        let intent = BgpIntent {
            asn: 65515,
            router_id: "10.30.255.30".parse().unwrap(),
            addresses: vec![],
            neighbors: vec![Neighbor {
                address: "192.168.10.1".parse().unwrap(),
                remote_asn: 65010,
                passive: true,
                update_source: Some("10.30.255.30".parse().unwrap()),
                ebgp_multihop: Some(5),
                timers: Some(Timers { keepalive_s: 60, hold_s: 180 }),
                max_prefix: Some(4000),
                max_prefix_restart_min: Some(1),
                import: Policy::deny_exactly(&["10.30.0.0/16".parse().unwrap()]),
                export: Policy::deny_exactly(&["0.0.0.0/0".parse().unwrap()]),
            }],
            networks: vec!["10.30.0.0/16".parse().unwrap()],
            ebgp_requires_policy: true,
            timers: None,
            minimum_hold_s: None,
            install_routes: true,
        };
        let text = bgpd("azure-gw", Path::new("/r/azure-gw/frr"), &intent);
        for line in [
            "router bgp 65515",
            " neighbor 192.168.10.1 remote-as 65010",
            " neighbor 192.168.10.1 passive",
            " neighbor 192.168.10.1 update-source 10.30.255.30",
            " neighbor 192.168.10.1 ebgp-multihop 5",
            " neighbor 192.168.10.1 timers 60 180",
            "  network 10.30.0.0/16",
            "  neighbor 192.168.10.1 maximum-prefix 4000 restart 1",
            "  neighbor 192.168.10.1 route-map vl-192.168.10.1-in in",
            "ip prefix-list vl-192.168.10.1-in seq 5 deny 10.30.0.0/16",
            "ip prefix-list vl-192.168.10.1-out seq 5 deny 0.0.0.0/0",
            "ip prefix-list vl-192.168.10.1-out seq 10 permit 0.0.0.0/0 le 32",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        assert!(!text.contains("ebgp-requires-policy"), "FRR's default is left as it is");
    }
}
