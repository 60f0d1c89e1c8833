//! Resolution of a strongSwan dut's `frr:` section: its BGP speaker over the tunnel, written in
//! FRR's terms, into the device's [`BgpIntent`]. Every value is checked against what FRR itself
//! would accept (`router bgp` 1-4294967295, `ebgp-multihop` 1-255, `timers` hold 0 or 3-65535)
//! and against the node (a neighbor is not one of its own addresses, an update source is).

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde_saphyr::{Location, Spanned};

use super::Resolver;
use crate::bgp::{AddressOn, BgpIntent, Neighbor, Policy, Timers};
use crate::device::strongswan::permit_all;
use crate::model::lab::Interface;
use crate::model::raw::*;

/// The policies a neighbor's `policy:` may name, with what each does.
const POLICIES: &str = "permit-all (a route map that permits every prefix, in and out), or no `policy:` at all (no route map: under ebgp_requires_policy an eBGP session then exchanges nothing)";

impl Resolver {
    /// The `frr:` section of a strongSwan dut; `None` when it has an error (reported).
    pub(super) fn frr(&mut self, path: &str, raw: Spanned<RawFrr>, interfaces: &[Interface]) -> Option<BgpIntent> {
        let errors_before = self.errors.len();
        let section = raw.referenced;
        let f = raw.value;
        let asn = self.as_number(&format!("{path}.asn"), &f.asn);
        let interface_addresses: Vec<Ipv4Addr> = interfaces.iter().map(|i| i.address.addr()).collect();
        let mut addresses = Vec::new();
        if let Some(a) = &f.address {
            let field = format!("{path}.address");
            let net = a.value.0;
            if net.prefix_len() != 32 {
                let hint = format!("the address alone, e.g. {}/32", net.addr());
                self.err(&a.referenced, &field, format!("{net} is not a /32: the loopback holds one address for the session"), Some(&hint));
            } else if interface_addresses.contains(&net.addr()) {
                self.err(
                    &a.referenced,
                    &field,
                    format!("{} is already an interface address of this node", net.addr()),
                    Some("an address of its own for the loopback (e.g. 10.10.255.1/32), or leave `address:` out and use the interface's address as update_source"),
                );
            }
            addresses.push((AddressOn::Loopback, net));
        }
        if let Some(a) = &f.tunnel_address {
            let field = format!("{path}.tunnel_address");
            let net = a.value.0;
            if net.prefix_len() < 31 && (net.addr() == net.network() || net.addr() == net.broadcast()) {
                self.err(
                    &a.referenced,
                    &field,
                    format!("{net} is the network or broadcast address of its prefix, not a host address"),
                    Some("a host address with its prefix length, e.g. 169.254.21.2/30"),
                );
            } else if interface_addresses.contains(&net.addr()) {
                self.err(
                    &a.referenced,
                    &field,
                    format!("{} is already an interface address of this node", net.addr()),
                    Some("an address of the tunnel's own transit network, e.g. 169.254.21.2/30"),
                );
            }
            addresses.push((AddressOn::Tunnel, net));
        }
        // Every address the speaker could send from: the interfaces and the addresses it adds.
        let own: Vec<Ipv4Addr> = interface_addresses.iter().copied().chain(addresses.iter().map(|(_, n)| n.addr())).collect();
        // FRR's own choice without `bgp router-id`: zebra prefers the highest loopback address,
        // then the highest interface address.
        let router_id = match &f.router_id {
            Some(r) => Some(r.value.0),
            None => f.address.as_ref().map(|a| a.value.0.addr()).or_else(|| interface_addresses.iter().copied().max()),
        };
        let Some(router_id) = router_id else {
            self.err(
                &section,
                format!("{path}.router_id"),
                "the node has no address FRR could take as its router-id",
                Some("router_id: an IPv4 address, e.g. 10.10.0.1"),
            );
            return None;
        };
        let timers = f.timers.as_ref().and_then(|t| self.bgp_timers(&format!("{path}.timers"), t));
        let networks: Vec<Ipv4Net> = f.networks.iter().map(|n| n.value.0.trunc()).collect();

        if f.neighbors.is_empty() {
            self.err(
                &section,
                format!("{path}.neighbors"),
                "the speaker has no neighbors",
                Some("at least one, e.g. neighbors: [{ address: 10.20.255.30, remote_as: 65515, ebgp_multihop: 2, policy: permit-all }] (Azure's BGP peer IP and ASN)"),
            );
        }
        let mut neighbors: Vec<Neighbor> = Vec::new();
        for (i, n) in f.neighbors.iter().enumerate() {
            let npath = format!("{path}.neighbors[{i}]");
            let n = &n.value;
            let address = n.address.value.0;
            if own.contains(&address) {
                self.err(
                    &n.address.referenced,
                    format!("{npath}.address"),
                    format!("{address} is an address of this node, not a neighbor"),
                    Some("the peer's BGP address, e.g. Azure's BGP peer IP (the GatewaySubnet's last usable address)"),
                );
            }
            if neighbors.iter().any(|m| m.address == address) {
                self.err(
                    &n.address.referenced,
                    format!("{npath}.address"),
                    format!("neighbor {address} is listed twice"),
                    Some("one entry per neighbor address"),
                );
            }
            let remote_asn = self.as_number(&format!("{npath}.remote_as"), &n.remote_as);
            if let Some(src) = &n.update_source {
                if !own.contains(&src.value.0) {
                    let mut valid: Vec<String> = own.iter().map(ToString::to_string).collect();
                    valid.sort();
                    self.err(
                        &src.referenced,
                        format!("{npath}.update_source"),
                        format!("{} is not an address of this node, so FRR could not send from it", src.value.0),
                        Some(&format!("one of the node's addresses: {}", valid.join(", "))),
                    );
                }
            }
            let ebgp_multihop = n.ebgp_multihop.as_ref().and_then(|t| match u8::try_from(t.value) {
                Ok(ttl) if ttl >= 1 => Some(ttl),
                _ => {
                    self.err(
                        &t.referenced,
                        format!("{npath}.ebgp_multihop"),
                        format!("{} is not a TTL", t.value),
                        Some("1 to 255 hops (2 reaches a peer one router away, e.g. Azure's BGP IP across the tunnel)"),
                    );
                    None
                }
            });
            let ntimers = n.timers.as_ref().and_then(|t| self.bgp_timers(&format!("{npath}.timers"), t));
            let max_prefix = n.max_prefix.as_ref().and_then(|m| match u32::try_from(m.value) {
                Ok(max) if max >= 1 => Some(max),
                _ => {
                    self.err(&m.referenced, format!("{npath}.max_prefix"), format!("{} is not a prefix limit", m.value), Some("1 to 4294967295 prefixes"));
                    None
                }
            });
            let policy = match &n.policy {
                None => Policy::None,
                Some(p) if p.value == "permit-all" => permit_all(),
                Some(p) => {
                    let message = match super::closest(&p.value, ["permit-all"]) {
                        Some(near) => format!("unknown policy `{}`; did you mean `{near}`?", p.value),
                        None => format!("unknown policy `{}`", p.value),
                    };
                    self.err(&p.referenced, format!("{npath}.policy"), message, Some(POLICIES));
                    Policy::None
                }
            };
            neighbors.push(Neighbor {
                address,
                remote_asn: remote_asn.unwrap_or(0),
                passive: n.passive,
                update_source: n.update_source.as_ref().map(|s| s.value.0),
                ebgp_multihop,
                timers: ntimers,
                max_prefix,
                max_prefix_restart_min: None,
                import: policy.clone(),
                export: policy,
            });
        }
        if self.errors.len() > errors_before {
            return None;
        }
        Some(BgpIntent {
            asn: asn?,
            router_id,
            addresses,
            neighbors,
            networks,
            ebgp_requires_policy: f.ebgp_requires_policy.unwrap_or(true),
            timers,
            minimum_hold_s: None,
            install_routes: true,
        })
    }

    /// An AS number as `router bgp` and `remote-as` take it: 1 to 4294967295.
    fn as_number(&mut self, field: &str, asn: &Spanned<u64>) -> Option<u32> {
        match u32::try_from(asn.value) {
            Ok(a) if a >= 1 => Some(a),
            _ => {
                self.err(
                    &asn.referenced,
                    field,
                    format!("{} is not an AS number", asn.value),
                    Some("1 to 4294967295 (private: 64512-65534, or 4200000000-4294967294)"),
                );
                None
            }
        }
    }

    /// Keepalive and hold time as FRR's `timers` takes them: keepalive 0-65535, hold 0 (no
    /// hold timer) or 3-65535.
    fn bgp_timers(&mut self, field: &str, t: &Spanned<RawBgpTimers>) -> Option<Timers> {
        let mut ok = true;
        let keepalive = u16::try_from(t.value.keepalive.value).ok();
        if keepalive.is_none() {
            self.bad_timer(&t.value.keepalive.referenced, &format!("{field}.keepalive"), t.value.keepalive.value);
            ok = false;
        }
        let hold = u16::try_from(t.value.hold.value).ok().filter(|h| *h == 0 || *h >= 3);
        if hold.is_none() {
            self.bad_timer(&t.value.hold.referenced, &format!("{field}.hold"), t.value.hold.value);
            ok = false;
        }
        match (keepalive, hold) {
            (Some(keepalive_s), Some(hold_s)) if ok => Some(Timers { keepalive_s, hold_s }),
            _ => None,
        }
    }

    fn bad_timer(&mut self, loc: &Location, field: &str, value: u64) {
        self.err(
            loc,
            field,
            format!("{value} s is not a BGP timer FRR accepts"),
            Some("keepalive 0-65535 s and hold 0 (no hold timer) or 3-65535 s, e.g. { keepalive: 60, hold: 180 }, FRR's defaults"),
        );
    }
}
