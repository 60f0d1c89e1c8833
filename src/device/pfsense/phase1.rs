//! A phase 1 entry read as pfSense's ipsec.inc writes it into swanctl.conf: the IKE version
//! (an empty `iketype` is IKEv1, `auto` either), the interface and its address, the remote
//! gateway, the identities (`myaddress`, `fqdn:`, `keyid:`...), the pre-shared key (trimmed as
//! pfSense trims it; never shown), the IKE proposals of `encryption/item` (the flat proposal of
//! configs before 17.5 too), the lifetimes (the timers of configs before 21.3 converted as the
//! upgrade does), DPD, NAT-T, MOBIKE, the start and close actions and `splitconn`. Every field
//! ends up in the import report.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::algorithms;
use super::config::Phase1;
use super::derive::{seconds, Timers};
use super::fields::{defaulted_at, Fields};
use super::ifmap::Interfaces;
use crate::device::{DeviceError, ImportReport};
use crate::ike::intent::IkeVersion;
use crate::ike::proposal::{Ke, Prf, Proposal};

/// The phase 1 part of the derivation.
pub(super) struct Ike {
    pub(super) version: IkeVersion,
    pub(super) proposals: Vec<Proposal>,
    pub(super) timers: Timers,
    pub(super) dpd: Option<(u64, Option<u64>)>,
    pub(super) interface: String,
    pub(super) local_addr: Option<Ipv4Net>,
    pub(super) remote_gateway: String,
    pub(super) local_id: Option<String>,
    pub(super) remote_id: Option<String>,
    pub(super) psk: String,
    pub(super) encap: bool,
    pub(super) mobike: bool,
    pub(super) split: bool,
    pub(super) startaction: String,
    pub(super) closeaction: String,
}

pub(super) fn phase1(
    f: &mut Fields,
    p1: &Phase1,
    ifaces: &Interfaces,
    psk_override: Option<&str>,
    report: &mut ImportReport,
    errors: &mut Vec<DeviceError>,
) -> Option<Ike> {
    let errors_before = errors.len();
    f.mark("ikeid");
    report.used(f.at("ikeid"), f.line("ikeid"), format!("connection con{}", p1.ikeid));
    if let Some((d, line)) = f.value("descr") {
        report.used(f.at("descr"), Some(line), format!("Description \"{d}\" (names the tunnel in fixes and status views)"));
    }
    f.mark("disabled");
    f.mark("mobile");

    // Key Exchange version.
    let iketype = f.text("iketype");
    let version = match iketype {
        Some("ikev2") => IkeVersion::V2,
        Some("auto") => IkeVersion::Any,
        Some("ikev1") => IkeVersion::V1,
        Some("") | None => IkeVersion::V1,
        Some(other) => {
            errors.push(f.error("iketype", format!("unknown Key Exchange version `{other}`"), "ikev1, ikev2 or auto (empty is read as IKEv1)"));
            IkeVersion::V1
        }
    };
    match iketype {
        None => defaulted_at(
            report,
            f.at("iketype"),
            f.line("iketype"),
            "IKEv1",
            "ipsec.inc: a missing iketype is IKEv1 (`version = 1`); the GUI's default for a new tunnel is IKEv2",
        ),
        Some("") => report.used(f.at("iketype"), f.line("iketype"), "empty: IKEv1, as ipsec.inc reads it (the GUI's default for a new tunnel is IKEv2)"),
        Some(_) => report.used(f.at("iketype"), f.line("iketype"), format!("{} (swanctl version = {})", version.name(), version.number())),
    }
    let ikev1_literal = iketype == Some("ikev1");
    let phase1_literal = iketype.is_some_and(|t| !t.is_empty() && t != "0");

    let (interface, local_addr) = local_end(f, ifaces, report, errors);
    let (remote_gateway, remote_ip) = remote_end(f, report, errors);

    // Negotiation mode (IKEv1 and auto only).
    match (f.value("mode"), version) {
        (Some((m, line)), IkeVersion::V2) => report.ignored(f.at("mode"), Some(line), format!("`{m}`: IKEv2 has no negotiation mode")),
        (Some(("main", line)), _) => report.used(f.at("mode"), Some(line), "Main Mode"),
        (Some(("aggressive", line)), _) => {
            report.ignored(f.at("mode"), Some(line), "Aggressive Mode is not modelled (the intent has no aggressive flag): the lab negotiates Main Mode")
        }
        (Some((other, _)), _) => errors.push(f.error("mode", format!("unknown negotiation mode `{other}`"), "main or aggressive")),
        (None, IkeVersion::V2) => {}
        (None, _) => defaulted_at(report, f.at("mode"), f.line("mode"), "Main Mode", "ipsec.inc writes aggressive = no unless mode is aggressive"),
    }

    let psk = pre_shared_key(f, psk_override, report, errors);
    let (local_id, remote_id) = identities(f, local_addr, &remote_gateway, remote_ip, report, errors);

    // IKE proposals.
    let prf_on = f.value("prfselect_enable").is_some_and(|(v, _)| v == "yes");
    if let Some((v, line)) = f.value("prfselect_enable") {
        let what = if prf_on { "on: each item's PRF is written" } else { "off: the PRF follows each item's hash" };
        report.used(f.at("prfselect_enable"), Some(line), format!("`{v}`, {what}"));
    }
    let proposals = ike_proposals(f, prf_on, report, errors);

    // Expiration and Replacement.
    let timers = ike_timers(f, version, phase1_literal, ikev1_literal, report, errors);

    let dpd = dead_peer_detection(f, ikev1_literal, report, errors);

    // NAT-T and MOBIKE.
    let encap = match f.value("nat_traversal") {
        Some(("force", line)) => {
            report.used(f.at("nat_traversal"), Some(line), "Force: encap = yes (ESP always in UDP 4500)");
            true
        }
        Some((v, line)) => {
            report.used(f.at("nat_traversal"), Some(line), format!("`{v}`: encap = no (NAT-T when a NAT is detected)"));
            false
        }
        None => {
            defaulted_at(report, f.at("nat_traversal"), f.line("nat_traversal"), "encap = no (automatic NAT-T)", "ipsec.inc writes encap = yes only for force");
            false
        }
    };
    let mobike = match f.value("mobike") {
        Some((v, line)) => {
            report.used(f.at("mobike"), Some(line), format!("`{v}`: mobike = {}", if v == "on" { "yes" } else { "no" }));
            v == "on"
        }
        None => {
            defaulted_at(report, f.at("mobike"), f.line("mobike"), "mobike = no", "ipsec.inc writes mobike = yes only for on");
            false
        }
    };

    let (startaction, closeaction) = child_actions(f, report, errors);

    let split = f.flag("splitconn");
    if split {
        match version {
            IkeVersion::V1 => report.ignored(f.at("splitconn"), f.line("splitconn"), "IKEv1 always has one child per phase 2"),
            _ => report.used(f.at("splitconn"), f.line("splitconn"), "Split connections: one child per phase 2"),
        }
    }

    if errors.len() > errors_before {
        return None;
    }
    Some(Ike {
        version,
        proposals,
        timers,
        dpd,
        interface,
        local_addr,
        remote_gateway,
        local_id,
        remote_id,
        psk,
        encap,
        mobike,
        split: split && version != IkeVersion::V1,
        startaction,
        closeaction,
    })
}

/// The phase 1's interface (`wan` when none is named) and its address in the lab; the address
/// family.
fn local_end(f: &mut Fields, ifaces: &Interfaces, report: &mut ImportReport, errors: &mut Vec<DeviceError>) -> (String, Option<Ipv4Net>) {
    let (interface, line) = match f.value("interface") {
        Some((i, line)) => (i.to_string(), Some(line)),
        None => ("wan".to_string(), None),
    };
    if interface.starts_with("_vip") {
        errors.push(f.error(
            "interface",
            format!("`{interface}` is a virtual IP (CARP or IP alias), which the lab does not model"),
            "the interface key itself, e.g. wan",
        ));
    }
    let name = format!("{} ({interface})", ifaces.friendly(&interface));
    let local_addr = match ifaces.address(&interface) {
        Ok(a) => {
            match line {
                Some(_) => report.used(f.at("interface"), line, format!("{name}: local_addrs = {}", a.addr())),
                None => defaulted_at(
                    report,
                    f.at("interface"),
                    f.line("interface"),
                    format!("{name}: local_addrs = {}", a.addr()),
                    "ipsec.inc: a phase 1 without an interface uses wan",
                ),
            }
            Some(a)
        }
        Err(why) if ifaces.get(&interface).is_none() => {
            errors.push(f.error("interface", why, "an interface key from <interfaces>, e.g. wan"));
            None
        }
        Err(why) => {
            report.ignored(f.at("interface"), line, format!("{name}: {why}; local_addrs left open (charon picks the source address)"));
            None
        }
    };
    match f.value("protocol") {
        Some(("inet", line)) => report.used(f.at("protocol"), Some(line), "IPv4"),
        Some(("both", line)) => report.used(f.at("protocol"), Some(line), "IPv4 and IPv6: the lab's addresses are IPv4"),
        Some((other, _)) => errors.push(f.error("protocol", format!("Internet Protocol `{other}`: the lab is IPv4 only"), "inet (IPv4) or both")),
        None => defaulted_at(report, f.at("protocol"), f.line("protocol"), "IPv4", "pfSense's default Internet Protocol (inet)"),
    }

    (interface, local_addr)
}

/// The remote gateway: an address, a host name, or 0.0.0.0 (any peer).
fn remote_end(f: &mut Fields, report: &mut ImportReport, errors: &mut Vec<DeviceError>) -> (String, Option<Ipv4Addr>) {
    match f.value("remote-gateway") {
        Some((gw, line)) => match gw.parse::<Ipv4Addr>() {
            Ok(ip) if ip.is_unspecified() => {
                report.used(f.at("remote-gateway"), Some(line), "0.0.0.0: any peer (it can only answer; its Child SA Start Action must be None)");
                (gw.to_string(), None)
            }
            Ok(ip) => {
                report.used(f.at("remote-gateway"), Some(line), format!("remote_addrs = {ip}"));
                (gw.to_string(), Some(ip))
            }
            Err(_) if gw.contains(':') => {
                errors.push(f.error("remote-gateway", format!("`{gw}` is an IPv6 address: the lab is IPv4 only"), "an IPv4 address or a host name"));
                (gw.to_string(), None)
            }
            Err(_) => {
                report.used(f.at("remote-gateway"), Some(line), format!("host name {gw}: charon resolves it (pfSense re-resolves it every DNS interval)"));
                (gw.to_string(), None)
            }
        },
        None => {
            errors.push(f.error(
                "remote-gateway",
                "a phase 1 without a Remote Gateway",
                "the peer's IPv4 address or host name, e.g. the Azure gateway's public IP",
            ));
            (String::new(), None)
        }
    }
}

/// The authentication method (pre-shared keys only) and the key, trimmed as pfSense trims it.
fn pre_shared_key(f: &mut Fields, psk_override: Option<&str>, report: &mut ImportReport, errors: &mut Vec<DeviceError>) -> String {
    match f.value("authentication_method") {
        Some(("pre_shared_key", line)) => report.used(f.at("authentication_method"), Some(line), "Mutual PSK (auth = psk both ways)"),
        Some((other, _)) => errors.push(f.error(
            "authentication_method",
            format!("authentication method `{other}`: the lab authenticates with pre-shared keys only"),
            "pre_shared_key (Mutual PSK)",
        )),
        None => errors.push(f.error("authentication_method", "a phase 1 without an authentication method", "pre_shared_key (Mutual PSK)")),
    }
    let configured_key = f.get("pre-shared-key").map(|e| e.raw.as_str());
    let psk = match (psk_override, configured_key) {
        (Some(key), _) => {
            report.used(
                f.at("pre-shared-key"),
                f.line("pre-shared-key"),
                "the key from the lab's psk_file (it overrides config.xml's; trimmed as pfSense trims keys; never shown)",
            );
            key
        }
        (None, Some(raw)) => {
            let key = php_trim(raw);
            if key.is_empty() {
                errors.push(f.error("pre-shared-key", "the Pre-Shared Key is empty", "the key both sides share (pfSense writes no secret for an empty key)"));
            } else if key.len() != raw.len() {
                report.used(
                    f.at("pre-shared-key"),
                    f.line("pre-shared-key"),
                    "used without its leading/trailing whitespace, which pfSense trims before writing the secret (never shown)",
                );
            } else {
                report.used(f.at("pre-shared-key"), f.line("pre-shared-key"), "the tunnel's pre-shared key (never shown)");
            }
            key
        }
        (None, None) => {
            errors.push(f.error("pre-shared-key", "a pre-shared-key phase 1 without <pre-shared-key>", "the key both sides share"));
            ""
        }
    };
    let psk = php_trim(psk).to_string();

    psk
}

/// My and the peer's identifiers as pfSense writes them.
fn identities(
    f: &mut Fields,
    local_addr: Option<Ipv4Net>,
    remote_gateway: &str,
    remote_ip: Option<Ipv4Addr>,
    report: &mut ImportReport,
    errors: &mut Vec<DeviceError>,
) -> (Option<String>, Option<String>) {
    let my_addr = local_addr.map(|a| a.addr().to_string());
    let my_type = match f.value("myid_type") {
        Some((t, _)) => t.to_string(),
        None => {
            defaulted_at(report, f.at("myid_type"), f.line("myid_type"), "myaddress", "the GUI's default My identifier (My IP address)");
            "myaddress".into()
        }
    };
    let my_data = f.value("myid_data").map(|(d, _)| d);
    let local_id = match identity(&my_type, my_data, my_addr.clone(), "my") {
        Ok(id) => {
            report.used(f.at("myid_type"), f.line("myid_type"), format!("{my_type}: local id {id}"));
            if my_type == "myaddress" && my_data.is_some() {
                report.ignored(f.at("myid_data"), f.line("myid_data"), "My IP address takes the interface's address, not this value");
            } else if my_data.is_some() {
                report.used(f.at("myid_data"), f.line("myid_data"), id.clone());
            }
            Some(id)
        }
        Err(why) => {
            errors.push(f.error("myid_type", why, format!("one of {MY_ID_TYPES}, with myid_data where the type needs a value")));
            None
        }
    };
    let peer_type = match f.value("peerid_type") {
        Some((t, _)) => t.to_string(),
        None => {
            defaulted_at(report, f.at("peerid_type"), f.line("peerid_type"), "peeraddress", "the GUI's default Peer identifier (Peer IP address)");
            "peeraddress".into()
        }
    };
    let peer_data = f.value("peerid_data").map(|(d, _)| d);
    let any_peer = remote_gateway.parse::<Ipv4Addr>().is_ok_and(|a| a.is_unspecified());
    let remote_id = if peer_type == "peeraddress" && any_peer {
        errors.push(f.error(
            "peerid_type",
            "Remote Gateway 0.0.0.0 (any peer) with Peer identifier Peer IP address: pfSense needs another identifier to tell peers apart",
            format!("one of {PEER_ID_TYPES} other than peeraddress"),
        ));
        None
    } else if peer_type == "peeraddress" && remote_ip.is_none() && !remote_gateway.is_empty() {
        report.used(
            f.at("peerid_type"),
            f.line("peerid_type"),
            "peeraddress with a host name: pfSense uses the resolved address; the lab cannot resolve it at import and accepts any peer identity (%any)",
        );
        None
    } else {
        match identity(&peer_type, peer_data, remote_ip.map(|ip| ip.to_string()), "peer") {
            Ok(id) => {
                report.used(f.at("peerid_type"), f.line("peerid_type"), format!("{peer_type}: remote id {id}"));
                if matches!(peer_type.as_str(), "peeraddress" | "any") && peer_data.is_some() {
                    report.ignored(f.at("peerid_data"), f.line("peerid_data"), format!("{peer_type} takes no value"));
                } else if peer_data.is_some() {
                    report.used(f.at("peerid_data"), f.line("peerid_data"), id.clone());
                }
                Some(id)
            }
            Err(why) => {
                errors.push(f.error("peerid_type", why, format!("one of {PEER_ID_TYPES}, with peerid_data where the type needs a value")));
                None
            }
        }
    };

    (local_id, remote_id)
}

/// DPD: the delay, and the timeout for a literal `ikev1`; `None` when off.
fn dead_peer_detection(f: &mut Fields, ikev1_literal: bool, report: &mut ImportReport, errors: &mut Vec<DeviceError>) -> Option<(u64, Option<u64>)> {
    let delay = seconds(f, "dpd_delay").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let maxfail = seconds(f, "dpd_maxfail").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let dpd = match (delay, maxfail) {
        (Some(d), Some(m)) if d > 0 && m > 0 => {
            let timeout = ikev1_literal.then_some(d * (m + 1));
            let how = match timeout {
                Some(t) => format!("dpd_timeout = {t}s (delay x (max failures + 1), IKEv1)"),
                None => "no dpd_timeout: only a literal ikev1 gets one; IKEv2 and the rest rely on charon's retransmission timeout (redmine #12184)".into(),
            };
            report.used(f.at("dpd_delay"), f.line("dpd_delay"), format!("dpd_delay = {d}s"));
            report.used(f.at("dpd_maxfail"), f.line("dpd_maxfail"), format!("{m} failures: {how}"));
            Some((d, timeout))
        }
        (None, None) => {
            defaulted_at(
                report,
                f.at("dpd_delay"),
                f.line("dpd_delay"),
                "DPD off",
                "ipsec.inc: DPD is on only when dpd_delay and dpd_maxfail are both set (the GUI pre-fills 10 and 5)",
            );
            None
        }
        _ => {
            report.used(f.at("dpd_delay"), f.line("dpd_delay").or(f.line("dpd_maxfail")), "DPD off: ipsec.inc needs both Delay and Max failures above 0");
            None
        }
    };

    dpd
}

/// The Child SA Start and Close Actions as written (empty: pfSense's default).
fn child_actions(f: &mut Fields, report: &mut ImportReport, errors: &mut Vec<DeviceError>) -> (String, String) {
    let startaction = f.value("startaction").map(|(v, _)| v.to_string()).unwrap_or_default();
    match startaction.as_str() {
        "" => defaulted_at(
            report,
            f.at("startaction"),
            f.line("startaction"),
            "pfSense's default: trap (initiate on traffic) for tunnel mode, start for VTI; recorded on each child below",
            "ipsec.inc's start action when Child SA Start Action is Default",
        ),
        "none" => report.used(
            f.at("startaction"),
            f.line("startaction"),
            "None (Responder Only): pfSense never initiates; the lab's run plan must have the peer initiate",
        ),
        "start" | "trap" => report.used(
            f.at("startaction"),
            f.line("startaction"),
            format!("`{startaction}`: recorded on each child's start action below; the lab's run plan decides who initiates"),
        ),
        other => errors.push(f.error("startaction", format!("unknown Child SA Start Action `{other}`"), "empty (default), none, start or trap")),
    }
    let closeaction = f.value("closeaction").map(|(v, _)| v.to_string()).unwrap_or_default();
    match closeaction.as_str() {
        "" => defaulted_at(
            report,
            f.at("closeaction"),
            f.line("closeaction"),
            "no close_action (charon's default, none)",
            "ipsec.inc writes close_action only when one is chosen",
        ),
        "none" | "start" | "trap" => report.ignored(
            f.at("closeaction"),
            f.line("closeaction"),
            format!("close_action = {closeaction}: the intent has no close action, charon's default (none) applies; its effect on the DPD action is applied"),
        ),
        other => errors.push(f.error("closeaction", format!("unknown Child SA Close Action `{other}`"), "empty (default), none, start or trap")),
    }

    (startaction, closeaction)
}

/// The IKE proposals of `encryption/item` (or the single flat proposal of configs before
/// 17.5, read as pfSense's upgrade converts it).
fn ike_proposals(f: &mut Fields, prf_on: bool, report: &mut ImportReport, errors: &mut Vec<DeviceError>) -> Vec<Proposal> {
    let mut pieces: Vec<(String, ItemFields)> = Vec::new();
    if let Some(enc) = f.get("encryption") {
        for (i, item) in enc.all("item").enumerate() {
            let alg = item.child("encryption-algorithm");
            pieces.push((
                format!("{}/encryption/item[{}]", f.path(), i + 1),
                ItemFields {
                    line: item.line,
                    name: alg.and_then(|a| a.value_of("name")).map(str::to_string),
                    keylen: alg.and_then(|a| a.value_of("keylen")).map(str::to_string),
                    hash: item.value_of("hash-algorithm").map(str::to_string),
                    prf: item.value_of("prf-algorithm").map(str::to_string),
                    dh: item.value_of("dhgroup").map(str::to_string),
                },
            ));
        }
    }
    // Before config 17.5 the one proposal sat directly in <phase1>.
    let legacy = pieces.is_empty();
    let flat = f.get("encryption-algorithm");
    let flat_hash = f.value("hash-algorithm").map(|(h, _)| h.to_string());
    let flat_dh = f.value("dhgroup").map(|(d, _)| d.to_string());
    match flat {
        Some(alg) if legacy => pieces.push((
            f.at("encryption-algorithm"),
            ItemFields {
                line: alg.line,
                name: alg.value_of("name").map(str::to_string),
                keylen: alg.value_of("keylen").map(str::to_string),
                hash: flat_hash,
                prf: None,
                dh: flat_dh,
            },
        )),
        _ => {
            for name in ["encryption-algorithm", "hash-algorithm", "dhgroup"] {
                if let Some(line) = f.line(name) {
                    report.ignored(f.at(name), Some(line), "a field of the flat pre-17.5 proposal; pfSense reads encryption/item, which this phase 1 has");
                }
            }
        }
    }
    let legacy_note = if legacy && flat.is_some() { " (config before 17.5: the one proposal pfSense's upgrade turns into encryption/item[1])" } else { "" };
    let errors_before = errors.len();
    let mut proposals = Vec::new();
    for (path, item) in pieces {
        match ike_item(&item, prf_on) {
            Ok(ItemOutcome::Proposal(p, written)) => {
                report.used(path, Some(item.line), format!("{} (pfSense writes `{written}`){legacy_note}", describe_ike(&p)));
                proposals.push(p);
            }
            Ok(ItemOutcome::Skipped(why)) => report.ignored(path, Some(item.line), why),
            Err((message, hint)) => errors.push(DeviceError { line: Some(item.line), element: path, message, hint: Some(hint) }),
        }
    }
    if proposals.is_empty() && errors.len() == errors_before {
        errors.push(DeviceError {
            line: Some(f.line("encryption").unwrap_or(f.entry_line())),
            element: f.at("encryption"),
            message: "no usable Encryption Algorithm: pfSense skips a phase 1 without one".into(),
            hint: Some("an encryption/item with encryption-algorithm name and keylen, hash-algorithm and dhgroup, e.g. aes 256, sha256, 14".into()),
        });
    }
    proposals
}

struct ItemFields {
    line: usize,
    name: Option<String>,
    keylen: Option<String>,
    hash: Option<String>,
    prf: Option<String>,
    dh: Option<String>,
}

enum ItemOutcome {
    /// The proposal and the string pfSense writes for it.
    Proposal(Proposal, String),
    Skipped(String),
}

fn ike_item(item: &ItemFields, prf_on: bool) -> Result<ItemOutcome, (String, String)> {
    let (Some(name), Some(hash)) = (item.name.as_deref(), item.hash.as_deref()) else {
        return Ok(ItemOutcome::Skipped("an item without an encryption algorithm or a hash: ipsec.inc skips it".into()));
    };
    if algorithms::removed_cipher(name) || algorithms::removed_hash(hash) {
        return Ok(ItemOutcome::Skipped(format!(
            "{name}/{hash}: 3DES, Blowfish, CAST128 and MD5 were removed by the 2022-11-03 config upgrade (22.8); restoring this backup on a current pfSense drops this item"
        )));
    }
    let bits = match item.keylen.as_deref() {
        None => None,
        Some(k) => {
            Some(k.parse::<u16>().map_err(|_| (format!("key length `{k}` is not a number"), "128, 192 or 256 for aes; 64, 96 or 128 for GCM".to_string()))?)
        }
    };
    let encryption = algorithms::encryption(name, bits)
        .map_err(|e| (e, "aes with keylen 128, 192 or 256; aes128gcm/aes192gcm/aes256gcm with keylen 64, 96 or 128".to_string()))?;
    let integrity = algorithms::integrity(hash).map_err(|e| (e, "sha1, sha256, sha384, sha512 or aesxcbc".to_string()))?;
    let prf = match (prf_on, item.prf.as_deref()) {
        (true, Some(p)) => Some(algorithms::prf(p).map_err(|e| (e, "sha1, sha256, sha384, sha512 or aesxcbc".to_string()))?),
        _ => None,
    };
    let Some(dh) = item.dh.as_deref() else {
        return Err((
            "an IKE proposal without a DH group".into(),
            "dhgroup: a DH group number, e.g. 14 (2048 bit) or 2 (1024 bit, Azure's Default policy)".into(),
        ));
    };
    let group = algorithms::dh_group(dh).map_err(|e| (e, "1, 2, 5, 14 to 26, 31 or 32".to_string()))?;
    let keylen = item.keylen.as_deref().unwrap_or("");
    let mut written = format!("{name}{keylen}-{hash}");
    if let Some(p) = item.prf.as_deref().filter(|_| prf_on) {
        written.push_str(&format!("-prf{p}"));
    }
    written.push_str(&format!("-{}", group.keyword()));
    // strongSwan drops the integrity algorithm of an AEAD IKE proposal and keeps the PRF the
    // hash names: the same proposal, written with the PRF.
    let proposal = if encryption.is_aead() {
        Proposal {
            encryption: vec![encryption],
            prf: vec![prf.or(Prf::of(integrity)).unwrap_or(Prf::Sha256)],
            ke: vec![Ke::Group(group)],
            ..Proposal::default()
        }
    } else {
        Proposal { encryption: vec![encryption], integrity: vec![integrity], prf: prf.into_iter().collect(), ke: vec![Ke::Group(group)], ..Proposal::default() }
    };
    Ok(ItemOutcome::Proposal(proposal, written))
}

/// A proposal in the GUI's words, with the notation.
fn describe_ike(p: &Proposal) -> String {
    let mut parts: Vec<String> = p.encryption.iter().map(|e| algorithms::encryption_label(*e)).collect();
    parts.extend(p.integrity.iter().map(|i| algorithms::integrity_label(*i)));
    parts.extend(p.prf.iter().map(|x| format!("PRF {}", algorithms::prf_label(*x))));
    parts.extend(p.dh_groups().iter().map(|g| format!("DH group {}", algorithms::dh_label(*g))));
    format!("{} = {p}", parts.join(", "))
}

fn ike_timers(
    f: &mut Fields,
    version: IkeVersion,
    phase1_literal: bool,
    ikev1_literal: bool,
    report: &mut ImportReport,
    errors: &mut Vec<DeviceError>,
) -> Timers {
    let mut read = |name: &'static str, f: &mut Fields| {
        seconds(f, name).unwrap_or_else(|e| {
            errors.push(e);
            None
        })
    };
    let lifetime = read("lifetime", f);
    let mut t = Timers {
        lifetime: lifetime.unwrap_or(0),
        rekey: read("rekey_time", f),
        reauth: read("reauth_time", f),
        rand: read("rand_time", f),
        phase1: phase1_literal,
        ikev1_literal,
    };
    // Before config 21.3 the timers were margintime, rekey_enable and reauth_enable (and
    // over_time in some snapshots); read them as that upgrade converts them.
    let margintime = read("margintime", f);
    let over_time = read("over_time", f);
    let rekey_off = f.flag("rekey_enable");
    let reauth_off = f.flag("reauth_enable");
    if margintime.is_some() || over_time.is_some() || rekey_off || reauth_off {
        let life = t.lifetime;
        let minus_margin = |m: u64| life.saturating_sub(m);
        if reauth_off {
            t.reauth = Some(0);
        } else if let Some(m) = margintime.filter(|m| *m > 0) {
            t.reauth = Some(minus_margin(m));
        }
        if version != IkeVersion::V1 {
            if rekey_off {
                t.rekey = Some(0);
                t.reauth = Some(0);
            } else if let Some(m) = margintime.filter(|m| *m > 0) {
                t.rekey = Some(minus_margin(m));
            }
        }
        if let Some(m) = margintime.filter(|m| *m > 0) {
            t.rand = Some(m);
        }
        if let (Some(o), 0) = (over_time.filter(|o| *o > 0), t.lifetime) {
            t.lifetime = o + t.rekey.unwrap_or(0).max(t.reauth.unwrap_or(0));
        }
        for name in ["margintime", "over_time", "rekey_enable", "reauth_enable"] {
            if f.line(name).is_some() {
                report.used(
                    f.at(name),
                    f.line(name),
                    "a timer of configs before 21.3, converted as pfSense's upgrade converts it (into rekey_time, reauth_time, rand_time)",
                );
            }
        }
    }
    let over = t.over();
    if over.is_none() {
        errors.push(f.error(
            "lifetime",
            format!("Life Time {} s ends before the Rekey/Reauth Time {} s: pfSense's over_time would be negative", t.life(), t.renew_max()),
            "a Life Time above both Rekey Time and Reauth Time, or those left empty (90 % of Life Time)",
        ));
        return t;
    }
    let over = over.unwrap_or(0);
    match lifetime {
        Some(l) if l > 0 => report.used(f.at("lifetime"), f.line("lifetime"), format!("IKE SA life {l} s")),
        _ => {
            let source = if t.renew_max() > 0 && (t.rekey.is_some() || t.reauth.is_some()) {
                "ipsec.inc: max(Rekey Time, Reauth Time) / 0.9"
            } else if phase1_literal {
                "ipsec.inc: 16000 s when nothing is set"
            } else {
                "ipsec.inc: 4000 s when nothing is set, its phase 2 default: ipsec.inc takes an entry without iketype for a phase 2"
            };
            defaulted_at(report, f.at("lifetime"), f.line("lifetime"), format!("{} s", t.life()), source);
        }
    }
    match (version, t.rekey) {
        (IkeVersion::V1, Some(r)) => report.ignored(
            f.at("rekey_time"),
            f.line("rekey_time"),
            format!("{r} s: IKEv1 has no IKE rekey, pfSense writes no rekey_time (it still counts in over_time)"),
        ),
        (IkeVersion::V1, None) => {}
        (_, Some(r)) => report.used(f.at("rekey_time"), f.line("rekey_time"), format!("rekey_time = {r}s{}", if r == 0 { " (rekeying off)" } else { "" })),
        (_, None) => defaulted_at(
            report,
            f.at("rekey_time"),
            f.line("rekey_time"),
            format!("rekey_time = {}s", t.rekey()),
            if t.lifetime > 0 { "ipsec.inc: 90 % of Life Time" } else { "ipsec.inc: 14400 s without Life Time" },
        ),
    }
    match t.reauth {
        Some(r) => report.used(f.at("reauth_time"), f.line("reauth_time"), format!("reauth_time = {r}s{}", if r == 0 { " (off)" } else { "" })),
        None if ikev1_literal && t.lifetime > 0 => {
            defaulted_at(report, f.at("reauth_time"), f.line("reauth_time"), format!("reauth_time = {}s", t.reauth()), "ipsec.inc: 90 % of Life Time for IKEv1")
        }
        None if version == IkeVersion::V1 => defaulted_at(
            report,
            f.at("reauth_time"),
            f.line("reauth_time"),
            "reauth_time = 0s (off)",
            "ipsec.inc: the 90 % default applies to a literal ikev1 only; with an empty iketype this IKEv1 SA is never reauthenticated",
        ),
        None => defaulted_at(report, f.at("reauth_time"), f.line("reauth_time"), "reauth_time = 0s (off)", "ipsec.inc: no reauthentication for IKEv2 and auto"),
    }
    report.used(f.at("over_time"), None, format!("over_time = {over}s (Life Time - max(Rekey, Reauth), as ipsec.inc derives it)"));
    let rand = t.rand().unwrap_or(0);
    let why = "the intent has no IKE rand_time: charon's default (rand_time = over_time) applies";
    match t.rand {
        Some(r) if r == over => report.used(f.at("rand_time"), f.line("rand_time"), format!("rand_time = {r}s: {why}, the same value")),
        Some(r) => report.ignored(f.at("rand_time"), f.line("rand_time"), format!("rand_time = {r}s: {why} ({over} s), so the IKE rekey jitter differs")),
        None => defaulted_at(
            report,
            f.at("rand_time"),
            f.line("rand_time"),
            format!("rand_time = {rand}s"),
            format!("ipsec.inc: equal to over_time; {why}, the same value"),
        ),
    }
    t
}

/// An identity as pfSense writes it into swanctl.conf.
fn identity(kind: &str, data: Option<&str>, address: Option<String>, side: &str) -> Result<String, String> {
    let data = data.unwrap_or("");
    let need = |prefix: &str| {
        if data.is_empty() {
            Err(format!("{side} identifier type `{kind}` needs a value"))
        } else {
            Ok(format!("{prefix}{data}"))
        }
    };
    match kind {
        "myaddress" | "peeraddress" => address.ok_or_else(|| format!("{side} identifier `{kind}` needs the address, which is unknown")),
        "address" | "auto" => need(""),
        "fqdn" => need("fqdn:"),
        "user_fqdn" => need("userfqdn:"),
        "keyid tag" => need("keyid:"),
        "dyn_dns" => need("dns:"),
        "asn1dn" if data.starts_with('#') => need("asn1dn:"),
        "asn1dn" => need(""),
        "any" => Ok("%any".into()),
        other => Err(format!("unknown {side} identifier type `{other}`")),
    }
}

const MY_ID_TYPES: &str = "myaddress, address, fqdn, user_fqdn, asn1dn, keyid tag, dyn_dns, auto";

const PEER_ID_TYPES: &str = "any, peeraddress, address, fqdn, user_fqdn, asn1dn, keyid tag, auto";

/// PHP's trim(): what pfSense strips from both ends of a pre-shared key.
fn php_trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\n', '\r', '\0', '\x0B'])
}

/// Phase 1 fields this importer reads but does not model, with why.
pub(super) const P1_NOT_MODELLED: &[(&str, &str)] = &[
    ("ikeport", "a custom remote IKE port: the lab's peers listen on UDP 500 (the intent has no remote port)"),
    ("nattport", "a custom remote NAT-T port: the lab's peers listen on UDP 4500 (the intent has no remote port)"),
    ("gw_duplicates", "only lets several phase 1 entries share a remote gateway; one phase 1 is imported"),
    ("tfc_enable", "Traffic Flow Confidentiality padding is not modelled (the intent has no TFC padding)"),
    ("tfc_bytes", "Traffic Flow Confidentiality padding is not modelled (the intent has no TFC padding)"),
    ("certref", "used by certificate authentication; this tunnel authenticates with a pre-shared key"),
    ("caref", "used by certificate authentication; this tunnel authenticates with a pre-shared key"),
    ("pkcs11certref", "used by PKCS#11 authentication; this tunnel authenticates with a pre-shared key"),
    ("pkcs11pin", "used by PKCS#11 authentication; this tunnel authenticates with a pre-shared key"),
    ("private-key", "used by certificate authentication; this tunnel authenticates with a pre-shared key"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::dh::DhGroup;

    #[test]
    fn identities_as_pfsense_writes_them() {
        assert_eq!(identity("myaddress", None, Some("192.168.178.10".into()), "my"), Ok("192.168.178.10".into()));
        assert_eq!(identity("fqdn", Some("home.example.com"), None, "my"), Ok("fqdn:home.example.com".into()));
        assert_eq!(identity("user_fqdn", Some("a@b.example"), None, "my"), Ok("userfqdn:a@b.example".into()));
        assert_eq!(identity("keyid tag", Some("home"), None, "my"), Ok("keyid:home".into()));
        assert_eq!(identity("dyn_dns", Some("home.example.com"), None, "my"), Ok("dns:home.example.com".into()));
        assert_eq!(identity("asn1dn", Some("C=DE, CN=home"), None, "my"), Ok("C=DE, CN=home".into()));
        assert_eq!(identity("asn1dn", Some("#3012"), None, "my"), Ok("asn1dn:#3012".into()));
        assert_eq!(identity("any", None, None, "peer"), Ok("%any".into()));
        assert!(identity("fqdn", None, None, "my").unwrap_err().contains("needs a value"));
        assert_eq!(php_trim(" \tkey \n"), "key");
    }

    #[test]
    fn dh_in_a_proposal() {
        let item = ItemFields { line: 1, name: Some("aes".into()), keylen: Some("256".into()), hash: Some("sha256".into()), prf: None, dh: Some("2".into()) };
        let Ok(ItemOutcome::Proposal(p, written)) = ike_item(&item, false) else { panic!("a valid item") };
        assert_eq!((p.to_string(), written.as_str()), ("aes256-sha256-modp1024".to_string(), "aes256-sha256-modp1024"));
        assert_eq!(p.dh_groups(), [DhGroup::Modp1024]);
        let gcm = ItemFields { name: Some("aes256gcm".into()), keylen: Some("128".into()), ..item };
        let Ok(ItemOutcome::Proposal(p, written)) = ike_item(&gcm, false) else { panic!("a valid item") };
        assert_eq!((p.to_string(), written.as_str()), ("aes256gcm16-prfsha256-modp1024".to_string(), "aes256gcm128-sha256-modp1024"));
    }
}
