//! A phase 2 entry read as pfSense's ipsec.inc writes it into a child: its mode (tunnel and
//! VTI are built; tunnel6, transport and a missing mode are reported and left out), its
//! selectors (networks, addresses, interface names such as `lan` resolved from `<interfaces>`;
//! a VTI's transit addresses), its ESP proposals (GCM first in reverse order, `auto` key
//! lengths high to low, each hash after each non-AEAD cipher, the PFS group last) and its
//! timers (only with a Life Time). Every field ends up in the import report.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::algorithms;
use super::config::Phase2;
use super::derive::{seconds, vti_addresses, Timers};
use super::fields::{defaulted_at, Fields};
use super::ifmap::Interfaces;
use super::xml::Element;
use crate::device::{DeviceError, ImportReport};
use crate::ike::proposal::{Ke, Proposal};

/// One phase 2 entry, derived.
pub(super) struct Entry {
    pub(super) reqid: String,
    pub(super) uniqid: Option<String>,
    pub(super) descr: Option<String>,
    pub(super) mode: Mode,
    pub(super) local: Vec<Ipv4Net>,
    pub(super) remote: Vec<Ipv4Net>,
    pub(super) proposals: Option<Vec<Proposal>>,
    /// (rekey, life, rand) when the entry has a Life Time.
    pub(super) timers: Option<(u64, u64, u64)>,
    pub(super) start: String,
}

pub(super) fn phase2_entry(f: &mut Fields, p2: &Phase2, ifaces: &Interfaces, report: &mut ImportReport, errors: &mut Vec<DeviceError>) -> Option<Entry> {
    let errors_before = errors.len();
    // The mode first: an entry the lab does not build is reported once, as a whole.
    let mode = match f.text("mode") {
        Some("tunnel") => Mode::Tunnel,
        Some("vti") => Mode::Vti,
        Some(other) => {
            let why = match other {
                "tunnel6" => "mode tunnel6 (IPv6): the lab is IPv4 only, so no child is built for it",
                "transport" => "mode transport: the lab builds tunnel and VTI children only (the intent has no transport mode)",
                _ => {
                    errors.push(f.error("mode", format!("unknown phase 2 mode `{other}`"), "tunnel, tunnel6, transport or vti"));
                    return None;
                }
            };
            report.ignored(f.path().to_string(), Some(f.entry_line()), why);
            mark_rest(f);
            return None;
        }
        None => {
            report.ignored(
                f.path().to_string(),
                Some(f.entry_line()),
                "no <mode>: ipsec.inc writes a phase 2 without tunnel or vti mode as transport, which the lab does not build (the GUI's default is tunnel)",
            );
            mark_rest(f);
            return None;
        }
    };
    f.mark("ikeid");
    report.used(f.at("ikeid"), f.line("ikeid"), format!("phase 2 of ikeid {}", p2.ikeid));
    let reqid = match &p2.reqid {
        Some(r) => {
            f.mark("reqid");
            report.used(f.at("reqid"), f.line("reqid"), format!("reqid {r} (child and VTI names)"));
            r.clone()
        }
        None => {
            defaulted_at(report, f.at("reqid"), f.line("reqid"), format!("{}", p2.position), "its position among the phase 2 entries (config.xml gives none)");
            p2.position.to_string()
        }
    };
    if let Some(u) = &p2.uniqid {
        f.mark("uniqid");
        report.used(f.at("uniqid"), f.line("uniqid"), format!("uniqid {u} (names the entry in fixes)"));
    }
    f.mark("disabled");
    f.mark("mobile");
    if let Some((d, line)) = f.value("descr") {
        report.used(f.at("descr"), Some(line), format!("Description \"{d}\""));
    }
    report.used(f.at("mode"), f.line("mode"), if mode == Mode::Tunnel { "Tunnel IPv4 (policy-based)" } else { "Routed (VTI)" });

    let (local, remote) = match mode {
        Mode::Tunnel => {
            let local = tunnel_selector(f, "localid", ifaces, report, errors);
            let remote = tunnel_selector(f, "remoteid", ifaces, report, errors);
            match (local, remote) {
                (Some(Ok(l)), Some(Ok(r))) => (vec![l], vec![r]),
                (Some(Err(why)), _) | (_, Some(Err(why))) => {
                    report.ignored(f.path().to_string(), Some(f.entry_line()), format!("{why}: pfSense logs \"Invalid IPsec Phase 2\" and skips the entry"));
                    mark_rest(f);
                    return None;
                }
                _ => return None,
            }
        }
        Mode::Vti => {
            vti_selectors(f, report, errors)?;
            let any: Ipv4Net = Ipv4Net::default();
            (vec![any], vec![any])
        }
    };
    match f.get("natlocalid") {
        Some(nat) if mode == Mode::Tunnel && nat.value_of("type").is_some() => report.ignored(
            f.at("natlocalid"),
            Some(nat.line),
            "NAT/BINAT translation needs pfSense's own strongSwan and pf; the lab negotiates and routes the real Local Network",
        ),
        Some(nat) => report.ignored(f.at("natlocalid"), Some(nat.line), "empty or not used by a VTI phase 2"),
        None => {}
    }

    let proposals = match f.value("protocol") {
        Some(("esp", line)) => {
            report.used(f.at("protocol"), Some(line), "ESP");
            esp_proposals(f, report, errors)
        }
        Some((other, _)) => {
            errors.push(f.error("protocol", format!("protocol `{other}`: the lab carries ESP only"), "esp"));
            None
        }
        None => {
            defaulted_at(
                report,
                f.at("protocol"),
                f.line("protocol"),
                "charon's default ESP proposals",
                "ipsec.inc writes no proposals for a phase 2 without protocol",
            );
            f.mark("encryption-algorithm-option");
            f.mark("hash-algorithm-option");
            f.mark("pfsgroup");
            None
        }
    };

    // Expiration and Replacement: only a phase 2 with a Life Time gets child timers.
    let lifetime = seconds(f, "lifetime").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let rekey = seconds(f, "rekey_time").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let rand = seconds(f, "rand_time").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let timers = match lifetime.filter(|l| *l > 0) {
        Some(l) => {
            let t = Timers { lifetime: l, rekey, reauth: None, rand, phase1: false, ikev1_literal: false };
            match t.over() {
                None => {
                    errors.push(f.error(
                        "rekey_time",
                        format!("Rekey Time {} s is after the Life Time {l} s", t.rekey()),
                        "a Rekey Time below the Life Time, or empty (90 % of it)",
                    ));
                    None
                }
                Some(over) => {
                    let rand = t.rand().unwrap_or(over);
                    report.used(f.at("lifetime"), f.line("lifetime"), format!("life_time = {l}s"));
                    match rekey {
                        Some(r) => report.used(f.at("rekey_time"), f.line("rekey_time"), format!("rekey_time = {r}s")),
                        None => defaulted_at(
                            report,
                            f.at("rekey_time"),
                            f.line("rekey_time"),
                            format!("rekey_time = {}s", t.rekey()),
                            "ipsec.inc: 90 % of Life Time",
                        ),
                    }
                    match t.rand {
                        Some(r) => report.used(f.at("rand_time"), f.line("rand_time"), format!("rand_time = {r}s")),
                        None => {
                            defaulted_at(report, f.at("rand_time"), f.line("rand_time"), format!("rand_time = {rand}s"), "ipsec.inc: Life Time - Rekey Time")
                        }
                    }
                    Some((t.rekey(), l, rand))
                }
            }
        }
        None => {
            defaulted_at(
                report,
                f.at("lifetime"),
                f.line("lifetime"),
                "charon's defaults: rekey_time 3600s, life_time 3960s, rand_time 360s",
                "ipsec.inc writes no child timers when Life Time is empty",
            );
            for (name, v) in [("rekey_time", rekey), ("rand_time", rand)] {
                if let Some(v) = v {
                    report.ignored(f.at(name), f.line(name), format!("{v} s: written only with a Life Time"));
                }
            }
            None
        }
    };
    if errors.len() > errors_before {
        return None;
    }
    Some(Entry { reqid, uniqid: p2.uniqid.clone(), descr: p2.descr.clone(), mode, local, remote, proposals, timers, start: String::new() })
}

/// Marks every remaining field read (an entry left out is reported once, as a whole).
fn mark_rest(f: &mut Fields) {
    for name in [
        "mode",
        "localid",
        "remoteid",
        "natlocalid",
        "protocol",
        "encryption-algorithm-option",
        "hash-algorithm-option",
        "pfsgroup",
        "lifetime",
        "rekey_time",
        "rand_time",
        "pinghost",
        "keepalive",
        "descr",
        "reqid",
        "uniqid",
        "ikeid",
    ] {
        f.mark(name);
    }
}

/// A tunnel-mode Local or Remote Network: `Ok(net)`, or `Err(why)` when pfSense would skip the
/// entry (an interface without a subnet, IPv6); `None` after an error.
fn tunnel_selector(
    f: &mut Fields,
    name: &'static str,
    ifaces: &Interfaces,
    report: &mut ImportReport,
    errors: &mut Vec<DeviceError>,
) -> Option<Result<Ipv4Net, String>> {
    let side = if name == "localid" { "Local Network" } else { "Remote Network" };
    let Some(id) = f.get(name) else {
        errors.push(f.error(
            name,
            format!("a tunnel-mode phase 2 without <{name}>"),
            "type network with address and netbits, type address, or an interface name such as lan",
        ));
        return None;
    };
    let kind = id.value_of("type").unwrap_or("");
    let at = f.at(name);
    let address = id.value_of("address");
    let address_line = id.child("address").map_or(id.line, |a| a.line);
    let parse_addr = |errors: &mut Vec<DeviceError>| -> Option<Result<Ipv4Addr, String>> {
        let Some(a) = address else {
            errors.push(DeviceError {
                line: Some(id.line),
                element: format!("{at}/address"),
                message: format!("{side} of type {kind} without an address"),
                hint: Some("an IPv4 address".into()),
            });
            return None;
        };
        if a.contains(':') {
            return Some(Err(format!("{side} {a} is IPv6")));
        }
        match a.parse::<Ipv4Addr>() {
            Ok(ip) => Some(Ok(ip)),
            Err(_) => {
                errors.push(DeviceError {
                    line: Some(address_line),
                    element: format!("{at}/address"),
                    message: format!("{side} `{a}` is not an IPv4 address"),
                    hint: Some("an IPv4 address, e.g. 10.30.0.0".into()),
                });
                None
            }
        }
    };
    let net = match kind {
        "address" => match parse_addr(errors)? {
            Ok(ip) => Ipv4Net::from(ip),
            Err(why) => return Some(Err(why)),
        },
        "network" => {
            let ip = match parse_addr(errors)? {
                Ok(ip) => ip,
                Err(why) => return Some(Err(why)),
            };
            let bits = id.value_of("netbits").and_then(|b| b.parse::<u8>().ok()).and_then(|b| Ipv4Net::new(ip, b).ok());
            let Some(net) = bits else {
                errors.push(DeviceError {
                    line: Some(id.line),
                    element: format!("{at}/netbits"),
                    message: format!("{side} {ip} has no valid prefix length"),
                    hint: Some("netbits 0 to 32".into()),
                });
                return None;
            };
            if net.trunc() != net {
                report.used(format!("{at}/address"), Some(id.line), format!("{net} has host bits: the selector is {}", net.trunc()));
            }
            net.trunc()
        }
        "none" | "mobile" => Ipv4Net::default(),
        "" => {
            errors.push(DeviceError {
                line: Some(id.line),
                element: format!("{at}/type"),
                message: format!("{side} without a type"),
                hint: Some("network, address, or an interface name such as lan".into()),
            });
            return None;
        }
        iface => match ifaces.network(iface) {
            Ok(net) => {
                report.used(at.clone(), Some(id.line), format!("{side}: {} subnet = {net}", ifaces.friendly(iface)));
                return Some(Ok(net));
            }
            Err(why) => return Some(Err(format!("{side} `{iface}`: {why}"))),
        },
    };
    report.used(at, Some(id.line), format!("{side}: {net}"));
    Some(Ok(net))
}

/// Checks a VTI phase 2's tunnel addresses and reports the transit network.
fn vti_selectors(f: &mut Fields, report: &mut ImportReport, errors: &mut Vec<DeviceError>) -> Option<()> {
    let mut ok = true;
    for (name, side) in [("localid", "Local Network"), ("remoteid", "Remote Network")] {
        let Some(id) = f.get(name) else {
            errors.push(f.error(name, format!("a VTI phase 2 without <{name}>"), "type address (or network) with the tunnel address, e.g. 10.30.255.29"));
            ok = false;
            continue;
        };
        let kind = id.value_of("type").unwrap_or("");
        if !matches!(kind, "address" | "network") {
            errors.push(f.error(name, format!("a VTI {side} of type `{kind}`: VTI takes literal addresses only"), "type address or network"));
            ok = false;
            continue;
        }
        if id.value_of("address").and_then(|a| a.parse::<Ipv4Addr>().ok()).is_none() {
            errors.push(DeviceError {
                line: Some(id.line),
                element: format!("{}/address", f.at(name)),
                message: format!("the VTI {side} is not an IPv4 address"),
                hint: Some("the tunnel address, e.g. 10.30.255.29".into()),
            });
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    let Some((local, remote)) = vti_addresses(f.element()) else {
        errors.push(f.error("localid", "the VTI's tunnel addresses do not form a transit network", "type address (a /30) or network with netbits"));
        return None;
    };
    report.used(
        f.at("localid"),
        f.line("localid"),
        format!(
            "VTI local tunnel address {local} (transit network {}; BGP over it comes later); pfSense offers it and 0.0.0.0/0 as selectors, the lab 0.0.0.0/0 both ways, and routes steer traffic",
            local.trunc()
        ),
    );
    report.used(f.at("remoteid"), f.line("remoteid"), format!("VTI remote tunnel address {remote} (the VTI's gateway for static routes)"));
    Some(())
}

/// The ESP proposals of one phase 2 (`None` when it names no cipher: charon's defaults).
fn esp_proposals(f: &mut Fields, report: &mut ImportReport, errors: &mut Vec<DeviceError>) -> Option<Vec<Proposal>> {
    let options = f.all("encryption-algorithm-option");
    let hashes_el = f.all("hash-algorithm-option");
    let pfs = match f.value("pfsgroup") {
        None => {
            defaulted_at(report, f.at("pfsgroup"), f.line("pfsgroup"), "PFS off", "ipsec.inc adds no DH group without pfsgroup");
            None
        }
        Some(("0", line)) => {
            report.used(f.at("pfsgroup"), Some(line), "off (no PFS)");
            None
        }
        Some((g, line)) => match algorithms::dh_group(g) {
            Ok(group) => {
                report.used(f.at("pfsgroup"), Some(line), format!("PFS group {}", algorithms::dh_label(group)));
                Some(group)
            }
            Err(e) => {
                errors.push(f.error("pfsgroup", e, "0 (off) or a DH group number: 1, 2, 5, 14 to 26, 31, 32"));
                return None;
            }
        },
    };
    let mut hashes = Vec::new();
    let mut removed = false;
    for (i, h) in hashes_el.iter().enumerate() {
        let at = format!("{}[{}]", f.at("hash-algorithm-option"), i + 1);
        if algorithms::removed_hash(h.text()) {
            removed = true;
            report.ignored(at, Some(h.line), "MD5 was removed by the 2022-11-03 config upgrade (22.8); restoring this backup drops it");
            continue;
        }
        match algorithms::integrity(h.text()) {
            Ok(i) => {
                report.used(at, Some(h.line), algorithms::integrity_label(i));
                hashes.push(i);
            }
            Err(e) => errors.push(DeviceError {
                line: Some(h.line),
                element: at,
                message: e,
                hint: Some("hmac_sha1, hmac_sha256, hmac_sha384, hmac_sha512 or aesxcbc".into()),
            }),
        }
    }
    // GCM ciphers go first, in reverse order (redmine #11078), then the others in order.
    let mut ciphers: Vec<(usize, &Element)> =
        options.iter().copied().enumerate().filter(|(_, o)| algorithms::moved_to_front(o.text_of("name").unwrap_or(""))).collect();
    ciphers.reverse();
    ciphers.extend(options.iter().copied().enumerate().filter(|(_, o)| !algorithms::moved_to_front(o.text_of("name").unwrap_or(""))));
    let mut proposals = Vec::new();
    let mut kept_ciphers = 0;
    for (i, option) in ciphers {
        let at = format!("{}[{}]", f.at("encryption-algorithm-option"), i + 1);
        let name = option.value_of("name").unwrap_or("");
        let keylen = option.value_of("keylen");
        if algorithms::removed_cipher(name) {
            removed = true;
            report.ignored(at, Some(option.line), format!("{name} was removed by the 2022-11-03 config upgrade (22.8); restoring this backup drops it"));
            continue;
        }
        let lengths: Vec<Option<u16>> = match keylen {
            Some("auto") => algorithms::auto_keylens(name).iter().map(|b| Some(*b)).collect(),
            Some(k) => match k.parse::<u16>() {
                Ok(b) => vec![Some(b)],
                Err(_) => {
                    errors.push(DeviceError {
                        line: Some(option.line),
                        element: at,
                        message: format!("key length `{k}` is not a number"),
                        hint: Some("128, 192, 256 or auto for aes; 64, 96, 128 or auto for GCM".into()),
                    });
                    continue;
                }
            },
            None => vec![None],
        };
        let mut written = Vec::new();
        for bits in lengths {
            let bits = if name == "chacha20poly1305" { None } else { bits };
            let enc = match algorithms::encryption(name, bits) {
                Ok(e) => e,
                Err(e) => {
                    errors.push(DeviceError {
                        line: Some(option.line),
                        element: at.clone(),
                        message: e,
                        hint: Some("aes (128, 192, 256), aes128gcm/aes192gcm/aes256gcm (64, 96, 128), chacha20poly1305".into()),
                    });
                    break;
                }
            };
            let ke: Vec<Ke> = pfs.map(Ke::Group).into_iter().collect();
            if algorithms::is_aead(name) || hashes.is_empty() {
                proposals.push(Proposal { encryption: vec![enc], ke: ke.clone(), ..Proposal::default() });
            } else {
                for h in &hashes {
                    proposals.push(Proposal { encryption: vec![enc], integrity: vec![*h], ke: ke.clone(), ..Proposal::default() });
                }
            }
            written.push(algorithms::encryption_label(enc));
        }
        kept_ciphers += 1;
        report.used(at, Some(option.line), written.join(", "));
    }
    if removed && (kept_ciphers == 0 || (hashes.is_empty() && !hashes_el.is_empty())) {
        errors.push(DeviceError {
            line: Some(f.entry_line()),
            element: f.path().to_string(),
            message: "only removed algorithms (3DES, Blowfish, CAST128, MD5) are left: pfSense's 22.8 config upgrade disables this phase 2".into(),
            hint: Some("AES or AES-GCM with hmac_sha256, as current pfSense offers".into()),
        });
        return None;
    }
    if options.is_empty() {
        defaulted_at(
            report,
            f.at("encryption-algorithm-option"),
            f.line("encryption-algorithm-option"),
            "charon's default ESP proposals",
            "ipsec.inc writes no esp_proposals without an encryption algorithm",
        );
        return None;
    }
    if proposals.iter().any(|p| p.integrity.is_empty() && !p.encryption.iter().any(|e| e.is_aead())) {
        errors.push(f.error(
            "hash-algorithm-option",
            "a non-AEAD cipher without a hash algorithm: the proposal would have no integrity",
            "at least one hash, e.g. hmac_sha256",
        ));
        return None;
    }
    Some(proposals)
}

pub(super) const P2_NOT_MODELLED: &[(&str, &str)] = &[
    ("pinghost", "Automatically ping host brings a tunnel-mode phase 2 up; in the lab the run initiates and its probes send the traffic"),
    ("keepalive", "Keep Alive re-initiates a phase 2 that is down; in the lab the run initiates the tunnel itself"),
];

/// Modes of a phase 2 entry the lab builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Tunnel,
    Vti,
}
