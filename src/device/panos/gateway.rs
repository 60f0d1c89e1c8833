//! The IKE gateway's ends and behaviours: its local address (mapped onto the lab's interfaces
//! by address), the peer (address, FQDN or dynamic), the identities in charon's notation, the
//! pre-shared key (the lab's `psk_file:`, or a plaintext key in a `set` file; never shown), and
//! IKEv1 DPD, the IKEv2 liveness check and the tunnel monitor as charon's DPD.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::addresses::Resolver;
use super::build::{error, list};
use super::config::{IdType, Identity, IkeGateway, IpsecTunnel, MonitorAction, PanosConfig, PeerAddress, Psk, VersionSetting};
use super::defaults::{self, Choices, LivenessDefault};
use super::network::interface_nets;
use super::{DpdPlan, Peer};
use crate::device::{DeviceError, DeviceSource, ImportReport};
use crate::ike::intent::{DpdAction, Initiation};

/// The gateway's local address (with its prefix) and interface.
pub(super) fn local_address(
    config: &PanosConfig,
    gateway: &IkeGateway,
    resolver: &mut Resolver,
    report: &mut ImportReport,
    errors: &mut Vec<DeviceError>,
) -> (Option<Ipv4Net>, Option<String>) {
    let interface = gateway.local_interface.as_ref().map(|i| {
        report.used(&i.path, i.line, i.value.clone());
        i.value.clone()
    });
    if let Some(ip) = &gateway.local_ip {
        return match resolver.one(&ip.value) {
            Ok(net) => {
                // PAN-OS names the address with the interface's prefix; a bare address takes it
                // from the interface.
                let net = if net.prefix_len() == 32 {
                    interface.as_deref().and_then(|i| interface_nets(config, i, resolver).into_iter().find(|n| n.addr() == net.addr())).unwrap_or(net)
                } else {
                    net
                };
                report.used(&ip.path, ip.line, net.to_string());
                (Some(net), interface)
            }
            Err(problem) => {
                errors.push(error(
                    ip.line,
                    &ip.path,
                    format!("gateway `{}`: {problem}", gateway.name),
                    "the interface's address with its prefix, e.g. 172.16.0.2/30",
                ));
                (None, interface)
            }
        };
    }
    let Some(name) = &interface else {
        errors.push(error(
            gateway.line,
            &gateway.path,
            format!("gateway `{}` has no local-address", gateway.name),
            "`local-address interface ethernet1/1 ip 172.16.0.2/30`",
        ));
        return (None, None);
    };
    match interface_nets(config, name, resolver).first() {
        Some(net) => {
            report.defaulted(format!("{} local-address ip", gateway.path), net.to_string(), format!("the first address of {name}"));
            (Some(*net), interface)
        }
        None => {
            let why = if config.interface(name).is_some_and(|i| i.dhcp) { "its address comes from DHCP" } else { "it has no static address" };
            report.defaulted(format!("{} local-address ip", gateway.path), "any address of the node", format!("{name}: {why}"));
            (None, interface)
        }
    }
}

/// The lab address charon uses for the gateway's local address: the lab interface with the
/// same address. Without lab interfaces (`vpnlab repro`), the configured one.
pub(super) fn map_local(
    net: Option<Ipv4Net>,
    interface: Option<&str>,
    gateway: &IkeGateway,
    source: &DeviceSource,
    report: &mut ImportReport,
    errors: &mut Vec<DeviceError>,
) -> Option<Ipv4Addr> {
    let net = net?;
    if source.interfaces.is_empty() {
        return Some(net.addr());
    }
    match source.interfaces.iter().find(|(_, a)| a.addr() == net.addr()) {
        Some((lab, a)) => {
            report.used(
                format!("{} local-address (lab)", gateway.path),
                None,
                format!("{} is the lab interface {lab} ({a})", interface.unwrap_or("the local address")),
            );
            Some(a.addr())
        }
        None => {
            let lab: Vec<String> = source.interfaces.iter().map(|(n, a)| format!("{n} {a}")).collect();
            errors.push(error(
                gateway.local_ip.as_ref().and_then(|i| i.line).or(gateway.line),
                &format!("{} local-address", gateway.path),
                format!("the gateway's local address {} is not an address of this node in the lab", net.addr()),
                format!("give the firewall's outside interface {net} in the lab file (its interfaces: {})", lab.join(", ")),
            ));
            None
        }
    }
}

pub(super) fn peer(gateway: &IkeGateway, resolver: &mut Resolver, report: &mut ImportReport, errors: &mut Vec<DeviceError>) -> Option<Peer> {
    let Some(p) = &gateway.peer else {
        errors.push(error(
            gateway.line,
            &gateway.path,
            format!("gateway `{}` has no peer-address", gateway.name),
            "`peer-address ip 198.51.100.20` (or fqdn NAME, or dynamic)",
        ));
        return None;
    };
    match &p.value {
        PeerAddress::Ip(text) => match resolver.one(text) {
            Ok(net) => {
                report.used(&p.path, p.line, format!("{}: IKE from other addresses is not answered", net.addr()));
                Some(Peer::Ip(net.addr()))
            }
            Err(problem) => {
                errors.push(error(p.line, &p.path, format!("gateway `{}`: {problem}", gateway.name), "the peer's IPv4 address, e.g. 198.51.100.20"));
                None
            }
        },
        PeerAddress::Fqdn(name) => {
            report.used(&p.path, p.line, format!("{name}: charon resolves it when it starts the tunnel"));
            Some(Peer::Fqdn(name.clone()))
        }
        PeerAddress::Dynamic => {
            report.used(&p.path, p.line, "dynamic: any peer address, and the firewall answers only");
            Some(Peer::Dynamic)
        }
    }
}

/// An identity in charon's notation: addresses, names and e-mail addresses as written, a key
/// id with its prefix.
pub(super) fn identity(id: &Identity, report: &mut ImportReport) -> String {
    let text = match id.kind.value {
        IdType::Keyid => format!("keyid:{}", id.id.value),
        IdType::Ipaddr | IdType::Fqdn | IdType::Ufqdn | IdType::Dn => id.id.value.clone(),
    };
    report.used(&id.id.path, id.id.line, format!("{} {}", id.kind.value.keyword(), id.id.value));
    if let Some(m) = &id.matching {
        match m.value.as_str() {
            "wildcard" => report.ignored(&m.path, m.line, "wildcard matching is for certificate authentication; the lab matches the ID exactly"),
            _ => report.used(&m.path, m.line, m.value.clone()),
        }
    }
    text
}

/// The key: the lab's `psk_file:` (exports hold it encrypted), or a plaintext key in the file.
/// Never shown.
pub(super) fn psk(gateway: &IkeGateway, source: &DeviceSource, report: &mut ImportReport, errors: &mut Vec<DeviceError>) -> Option<Psk> {
    let element = format!("{} authentication pre-shared-key key", gateway.path);
    if let Some(c) = &gateway.certificate {
        errors.push(error(
            c.line,
            &c.path,
            format!("gateway `{}` authenticates with certificates, which vpnlab does not model", gateway.name),
            "a pre-shared key: `authentication pre-shared-key key ...` and the lab's `psk_file:`",
        ));
        return None;
    }
    match (source.psk, &gateway.psk) {
        (Some(key), file) => {
            let from_file = match file {
                Some(f) if f.value.is_encrypted() => " (the file's key is encrypted)",
                Some(f) if f.value.0 == key => " (the same as the file's)",
                Some(_) => " (the file's plaintext key differs and is not used)",
                None => "",
            };
            report.used(&element, file.as_ref().and_then(|f| f.line), format!("the key from psk_file{from_file}; not shown"));
            Some(Psk(key.to_string()))
        }
        (None, Some(f)) if f.value.is_encrypted() => {
            errors.push(error(
                f.line,
                &element,
                "the pre-shared key is stored encrypted with the firewall's master key, so it cannot be read from the file",
                "put the key in a file beside the lab and name it with `psk_file:`",
            ));
            None
        }
        (None, Some(f)) if f.value.0.is_empty() => {
            errors.push(error(f.line, &element, "the pre-shared key is empty", "the key, or `psk_file:` beside the configuration"));
            None
        }
        (None, Some(f)) => {
            report.used(&element, f.line, "the plaintext key in the file; not shown");
            Some(f.value.clone())
        }
        (None, None) => {
            errors.push(error(
                gateway.line,
                &element,
                format!("gateway `{}` has no pre-shared key", gateway.name),
                "`psk_file:` beside the configuration (PAN-OS exports hold keys encrypted)",
            ));
            None
        }
    }
}

/// What DPD does when the peer is found dead: a passive firewall does not start the tunnel
/// again; otherwise PAN-OS deletes the SAs and starts IKE_SA_INIT again (pan-os-ipsec.md §3.1
/// [P12]).
fn dead_peer_action(initiation: Initiation) -> DpdAction {
    if initiation == Initiation::ResponderOnly {
        DpdAction::Clear
    } else {
        DpdAction::Restart
    }
}

/// The IKEv1 DPD of an ikev2-preferred gateway's IKEv1 fallback.
pub(super) fn fallback_dpd(gateway: &IkeGateway, initiation: Initiation, report: &mut ImportReport) -> Option<DpdPlan> {
    ikev1_dpd(gateway, dead_peer_action(initiation), report)
}

/// `protocol ikev1 dpd`: off unless enabled; every `interval` s, the peer dead after
/// `interval × retry`.
fn ikev1_dpd(gateway: &IkeGateway, action: DpdAction, report: &mut ImportReport) -> Option<DpdPlan> {
    let used = &gateway.ikev1_dpd;
    let enabled = match &used.enable {
        Some(e) => {
            report.used(&e.path, e.line, if e.value { "on" } else { "off" });
            e.value
        }
        None => {
            report.defaulted(format!("{} protocol ikev1 dpd enable", gateway.path), defaults::IKEV1_DPD.value, defaults::IKEV1_DPD.source);
            false
        }
    };
    if !enabled {
        for (path, line, why) in [
            used.interval.as_ref().map(|i| (&i.path, i.line, "the interval of a check that is off")),
            used.retry.as_ref().map(|r| (&r.path, r.line, "the retries of a DPD that is off")),
        ]
        .into_iter()
        .flatten()
        {
            report.ignored(path, line, why);
        }
        return None;
    }
    let every = dpd_interval(gateway, "ikev1 dpd", report);
    let retry = match &used.retry {
        Some(r) => {
            report.used(&r.path, r.line, format!("{} retries", r.value));
            r.value
        }
        None => {
            report.defaulted(format!("{} protocol ikev1 dpd retry", gateway.path), defaults::DPD_RETRY.value, defaults::DPD_RETRY.source);
            defaults::DPD_RETRY_N
        }
    };
    report.used(
        format!("{} protocol ikev1 dpd (as charon's)", gateway.path),
        None,
        format!("DPD every {every} s, the peer dead after {} s (interval × retry); PAN-OS probes only around rekeys (pan-os-ipsec.md §3.1 [P15], unconfirmed), charon whenever the SA is idle", every * retry),
    );
    Some(DpdPlan { delay_s: every, timeout_s: Some(every * retry), action, what: "IKEv1 DPD" })
}

/// `protocol ikev2 dpd`: the liveness check, on or off by default as the lab's choice says.
fn ikev2_liveness(gateway: &IkeGateway, action: DpdAction, choices: Choices, report: &mut ImportReport) -> Option<DpdPlan> {
    let used = &gateway.liveness;
    let enabled = match &used.enable {
        Some(e) => {
            report.used(&e.path, e.line, if e.value { "on" } else { "off" });
            e.value
        }
        None => {
            let (value, source) = choices.ikev2_liveness.fact();
            report.defaulted(format!("{} protocol ikev2 dpd enable", gateway.path), value, source);
            choices.ikev2_liveness == LivenessDefault::On
        }
    };
    if let Some(r) = &used.retry {
        report.ignored(&r.path, r.line, "IKEv2 has no retry setting");
    }
    if !enabled {
        if let Some(i) = &used.interval {
            report.ignored(&i.path, i.line, "the interval of a check that is off");
        }
        return None;
    }
    let every = dpd_interval(gateway, "ikev2 dpd", report);
    report.used(
        format!("{} protocol ikev2 dpd (as charon's)", gateway.path),
        None,
        format!(
            "liveness check every {every} s when idle; charon gives up after its own retransmit schedule, not PAN-OS's 7 min 15 s (pan-os-ipsec.md §3.1 [P12])"
        ),
    );
    Some(DpdPlan { delay_s: every, timeout_s: None, action, what: "IKEv2 liveness check" })
}

/// The interval of `block` (`ikev1 dpd`, `ikev2 dpd`), or its default.
fn dpd_interval(gateway: &IkeGateway, block: &str, report: &mut ImportReport) -> u64 {
    let used = if block == "ikev1 dpd" { &gateway.ikev1_dpd } else { &gateway.liveness };
    match &used.interval {
        Some(i) => {
            report.used(&i.path, i.line, format!("{} s", i.value));
            i.value
        }
        None => {
            report.defaulted(format!("{} protocol {block} interval", gateway.path), defaults::DPD_INTERVAL.value, defaults::DPD_INTERVAL.source);
            defaults::DPD_INTERVAL_S
        }
    }
}

/// DPD (IKEv1), the liveness check (IKEv2) and the tunnel monitor as charon's DPD.
#[allow(clippy::too_many_arguments)]
pub(super) fn dpd(
    config: &PanosConfig,
    gateway: &IkeGateway,
    tunnel: &IpsecTunnel,
    setting: VersionSetting,
    initiation: Initiation,
    choices: Choices,
    report: &mut ImportReport,
    errors: &mut Vec<DeviceError>,
) -> Option<DpdPlan> {
    let action = dead_peer_action(initiation);
    let v1 = setting == VersionSetting::Ikev1;
    // An ikev2-preferred gateway uses both blocks: the liveness check for IKEv2, DPD for its
    // IKEv1 fallback (`fallback_dpd`).
    if setting != VersionSetting::Ikev2Preferred {
        let (unused, why) = if v1 {
            (&gateway.liveness, "an IKEv2 liveness setting of a gateway that runs IKEv1")
        } else {
            (&gateway.ikev1_dpd, "an IKEv1 DPD setting of a gateway that runs IKEv2")
        };
        let other = [
            unused.enable.as_ref().map(|e| (&e.path, e.line)),
            unused.interval.as_ref().map(|e| (&e.path, e.line)),
            unused.retry.as_ref().map(|e| (&e.path, e.line)),
        ];
        for (path, line) in other.into_iter().flatten() {
            report.ignored(path, line, why);
        }
    }
    let plan = if v1 { ikev1_dpd(gateway, action, report) } else { ikev2_liveness(gateway, action, choices, report) };
    let Some(monitor) = &tunnel.monitor else { return plan };
    let on = monitor.enable.as_ref().is_some_and(|e| e.value);
    if let Some(e) = &monitor.enable {
        report.used(&e.path, e.line, if e.value { "on" } else { "off" });
    }
    if !on {
        for (path, line) in
            [monitor.destination.as_ref().map(|d| (d.path.clone(), d.line)), monitor.profile.as_ref().map(|p| (p.path.clone(), p.line))].into_iter().flatten()
        {
            report.ignored(path, line, "a setting of a tunnel monitor that is off");
        }
        return plan;
    }
    let Some(destination) = &monitor.destination else {
        errors.push(error(
            monitor.line,
            &monitor.path,
            "a tunnel monitor without destination-ip",
            "`tunnel-monitor destination-ip 10.20.0.4` (an address across the tunnel)",
        ));
        return plan;
    };
    let profile_name = match &monitor.profile {
        Some(p) => {
            report.used(&p.path, p.line, p.value.clone());
            p.value.clone()
        }
        None => {
            report.defaulted(format!("{} tunnel-monitor-profile", monitor.path), defaults::MONITOR_PROFILE.value, defaults::MONITOR_PROFILE.source);
            defaults::MONITOR_PROFILE.value.to_string()
        }
    };
    let (every, threshold, monitor_action) = match config.monitor_profile(&profile_name) {
        Some(p) => {
            if !p.problems.is_empty() {
                errors.extend(p.problems.iter().cloned());
                return plan;
            }
            report.used(&p.path, p.line, format!("the monitor profile of tunnel {}", tunnel.name));
            let every = p.interval.as_ref().map(|i| i.value).unwrap_or(defaults::MONITOR_DEFAULT.0);
            let threshold = p.threshold.as_ref().map(|i| i.value).unwrap_or(defaults::MONITOR_DEFAULT.1);
            (every, threshold, p.action.as_ref().map(|a| a.value).unwrap_or(MonitorAction::WaitRecover))
        }
        None if profile_name == defaults::MONITOR_PROFILE.value => {
            report.defaulted("network profiles monitor-profile default", "interval 3, threshold 5, wait-recover", defaults::MONITOR_SOURCE);
            (defaults::MONITOR_DEFAULT.0, defaults::MONITOR_DEFAULT.1, MonitorAction::WaitRecover)
        }
        None => {
            let known: Vec<&str> = config.monitor_profiles.iter().map(|p| p.name.as_str()).chain([defaults::MONITOR_PROFILE.value]).collect();
            errors.push(error(
                monitor.profile.as_ref().and_then(|p| p.line),
                &monitor.path,
                format!("tunnel `{}` names monitor profile `{profile_name}`, which the configuration does not define", tunnel.name),
                format!("one of: {}", list(&known)),
            ));
            return plan;
        }
    };
    let what = format!(
        "pings {} every {every} s through the tunnel; after {threshold} lost: {}. The lab approximates it with charon's DPD",
        destination.value,
        if monitor_action == MonitorAction::FailOver { "fail-over (the tunnel is taken down)" } else { "wait-recover (the tunnel is rebuilt)" }
    );
    report.used(&destination.path, destination.line, what);
    if plan.is_some() {
        return plan;
    }
    let action = if monitor_action == MonitorAction::FailOver { DpdAction::Clear } else { action };
    Some(DpdPlan { delay_s: every, timeout_s: v1.then_some(every * threshold), action, what: "tunnel monitor" })
}
