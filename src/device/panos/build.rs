//! From the typed model to the device: which tunnel runs (`tunnel:` when there are several),
//! its IKE gateway, and the pieces the other modules read (`crypto.rs` the profiles and
//! proposals, `gateway.rs` the gateway's ends, key and DPD, `network.rs` the proxy-IDs,
//! interfaces and routes, `policy.rs` the security rules, `bgp.rs` the virtual router's BGP),
//! gathered into the device with the import report: every element used, defaulted (with its
//! source) or ignored (with why).

use std::collections::BTreeSet;

use ipnet::Ipv4Net;

use super::addresses::Resolver;
use super::bgp;
use super::config::{IkeGateway, IpsecTunnel, PanosConfig, VersionSetting};
use super::crypto::{self, Crypto};
use super::defaults::{self, Choices};
use super::gateway;
use super::network;
use super::policy;
use super::read;
use super::report::why_unread;
use super::tree::Parsed;
use super::{Ikev1Fallback, Names, PanosDevice, Peer};
use crate::bgp::AddressOn;
use crate::device::{DeviceError, DeviceSource, ImportReport, SiteHints};
use crate::ike::dh::DhGroup;
use crate::ike::intent::{IkeVersion, Initiation, SelectorMatch};

pub(super) fn error(line: Option<usize>, element: &str, message: impl Into<String>, hint: impl Into<String>) -> DeviceError {
    DeviceError { line, element: element.to_string(), message: message.into(), hint: Some(hint.into()) }
}

pub(super) fn list<T: AsRef<str>>(items: &[T]) -> String {
    items.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", ")
}

/// Builds the device from a parsed configuration.
pub fn build(parsed: Parsed, source: &DeviceSource, choices: Choices) -> Result<PanosDevice, Vec<DeviceError>> {
    let config = read::read(&parsed.root);
    let mut report = ImportReport::default();
    let mut notes = Vec::new();
    for (what, line) in &parsed.sources {
        report.used("configuration", *line, format!("read from {what}"));
    }

    let (tunnel_index, tunnel) = select_tunnel(&config, source)?;
    report.used(&tunnel.path, tunnel.line, format!("the IPsec tunnel this lab runs{}", if config.tunnels.len() > 1 { " (named by `tunnel:`)" } else { "" }));
    let tunnel_interface = tunnel.interface.clone().ok_or_else(|| {
        vec![error(
            tunnel.line,
            &tunnel.path,
            format!("tunnel `{}` has no tunnel-interface", tunnel.name),
            "e.g. `tunnel-interface tunnel.1`, an interface of network interface tunnel units",
        )]
    })?;
    report.used(&tunnel_interface.path, tunnel_interface.line, tunnel_interface.value.clone());

    let (gateway_index, gateway) = select_gateway(&config, tunnel, &mut report)?;
    let mut errors = Vec::new();

    // IKE version and the crypto profile of that version's block.
    let setting = match &gateway.version {
        Some(v) => {
            report.used(&v.path, v.line, v.value.keyword());
            v.value
        }
        None => {
            report.defaulted(format!("{} protocol version", gateway.path), defaults::IKE_VERSION.value, defaults::IKE_VERSION.source);
            VersionSetting::Ikev1
        }
    };
    let version = match setting {
        VersionSetting::Ikev1 => IkeVersion::V1,
        VersionSetting::Ikev2 => IkeVersion::V2,
        // IKEv2 first; the IKEv1 fallback is a connection of its own (`ikev1_fallback`).
        VersionSetting::Ikev2Preferred => IkeVersion::V2,
    };
    let (profile_ref, other_ref, block) = match setting {
        VersionSetting::Ikev1 => (&gateway.ikev1_profile, &gateway.ikev2_profile, "ikev1"),
        _ => (&gateway.ikev2_profile, &gateway.ikev1_profile, "ikev2"),
    };
    let ike = match crypto::ike_crypto(&config, gateway, profile_ref, block, &mut report) {
        Ok(c) => Some(c),
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    // ikev2-preferred: the IKEv1 block's profile is the fallback's (the predefined `default`
    // when it names none).
    let fallback_ike = match setting {
        VersionSetting::Ikev2Preferred => match crypto::ike_crypto(&config, gateway, other_ref, "ikev1", &mut report) {
            Ok(c) => Some(c),
            Err(mut e) => {
                errors.append(&mut e);
                None
            }
        },
        _ => {
            if let Some(other) = other_ref {
                let why = if setting == VersionSetting::Ikev1 {
                    "the gateway runs IKEv1: its IKEv2 block is not used"
                } else {
                    "the gateway runs IKEv2: its IKEv1 block is not used"
                };
                report.ignored(&other.path, other.line, why);
            }
            None
        }
    };
    if let Some(mode) = &gateway.exchange_mode {
        match (setting, mode.value.as_str()) {
            (VersionSetting::Ikev2, _) => report.ignored(&mode.path, mode.line, "the IKEv1 exchange mode of a gateway that runs IKEv2"),
            (_, "aggressive") => {
                report.ignored(&mode.path, mode.line, "aggressive mode: the lab's intent has no exchange mode, so main mode runs");
                notes.push("IKEv1 aggressive mode is run as main mode".to_string());
            }
            (_, m) => report.used(&mode.path, mode.line, format!("{m}: main mode as initiator")),
        }
    } else if setting != VersionSetting::Ikev2 {
        report.defaulted(format!("{} protocol ikev1 exchange-mode", gateway.path), defaults::EXCHANGE_MODE.value, defaults::EXCHANGE_MODE.source);
    }

    let ike_proposals = ike_proposals_of(ike.as_ref(), &mut report, &mut errors);
    let fallback_proposals = fallback_ike.as_ref().map(|f| ike_proposals_of(Some(f), &mut report, &mut errors));
    let ike_lifetime_s = ike.as_ref().map(|(c, _)| c.lifetime_s).unwrap_or(defaults::IKE_LIFETIME_S);
    // IKEv2 reauthentication every `authentication-multiple` lifetimes (0: never).
    let multiple = ike.as_ref().and_then(|(c, _)| config.ike_profile(&c.name)).and_then(|p| p.authentication_multiple.clone());
    let reauth_s = match multiple {
        Some(m) if m.value == 0 => {
            report.used(&m.path, m.line, "0: no reauthentication");
            None
        }
        Some(m) if version == IkeVersion::V1 => {
            report.ignored(&m.path, m.line, "IKEv2 reauthentication, and the gateway runs IKEv1");
            None
        }
        Some(m) => {
            report.used(&m.path, m.line, format!("reauthenticate every {} s (lifetime × {})", ike_lifetime_s * m.value, m.value));
            Some(ike_lifetime_s * m.value)
        }
        None => None,
    };

    // The IPsec crypto profile.
    let ipsec_ref = tunnel.ipsec_profile.clone();
    let esp = match crypto::ipsec_crypto(&config, tunnel, ipsec_ref.as_ref(), choices, &mut report) {
        Ok(x) => Some(x),
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    let (esp_proposals, pfs, child_lifetime_s, child_lifesize_kb) = match &esp {
        Some((crypto, pfs, lifesize)) => match crypto::esp_proposals(crypto, *pfs) {
            Ok(p) => {
                report.used(
                    format!("network ike crypto-profiles ipsec-crypto-profiles {} (as proposals)", super::tree::quoted(&crypto.name)),
                    None,
                    crate::ike::proposal::list(&p),
                );
                (p, *pfs, crypto.lifetime_s, *lifesize)
            }
            Err(e) => {
                errors.push(error(
                    crypto.line,
                    &format!("network ike crypto-profiles ipsec-crypto-profiles {}", super::tree::quoted(&crypto.name)),
                    e,
                    "esp authentication sha256 (or another hash), or esp encryption aes-256-gcm with authentication none",
                ));
                (Vec::new(), None, defaults::IPSEC_LIFETIME_S, None)
            }
        },
        None => (Vec::new(), None, defaults::IPSEC_LIFETIME_S, None),
    };

    // Proxy-IDs as children.
    let mut resolver = Resolver::new(&config);
    let children = network::children(tunnel, &mut resolver, &mut report, &mut errors, &mut notes);
    let selector_match = if version == IkeVersion::V1 { SelectorMatch::Exact } else { SelectorMatch::Narrowing };
    report.used(
        format!("{} auto-key proxy-id (matching)", tunnel.path),
        None,
        match selector_match {
            SelectorMatch::Exact => {
                "IKEv1: a peer's proposal must equal a proxy-ID exactly (\"each peer compares its proxy IDs with what it received\", device-import-notes.md §3)"
            }
            SelectorMatch::Narrowing if setting == VersionSetting::Ikev2Preferred => {
                "ikev2-preferred: narrowed over IKEv2 (\"one side narrows its address range\"), matched exactly over the IKEv1 fallback (device-import-notes.md §3)"
            }
            SelectorMatch::Narrowing => "IKEv2: proposals are narrowed to the proxy-IDs (\"one side narrows its address range\", device-import-notes.md §3)",
        },
    );

    // Addresses: the gateway's local end on the lab's interfaces, the peer.
    let (local_net, local_interface) = gateway::local_address(&config, gateway, &mut resolver, &mut report, &mut errors);
    let local_addr = gateway::map_local(local_net, local_interface.as_deref(), gateway, source, &mut report, &mut errors);
    let peer = gateway::peer(gateway, &mut resolver, &mut report, &mut errors);
    let local_id = gateway.local_id.as_ref().map(|id| gateway::identity(id, &mut report));
    if local_id.is_none() {
        report.defaulted(format!("{} local-id", gateway.path), defaults::LOCAL_ID.value, defaults::LOCAL_ID.source);
    }
    let peer_id = gateway.peer_id.as_ref().map(|id| gateway::identity(id, &mut report));
    if peer_id.is_none() {
        report.defaulted(format!("{} peer-id", gateway.path), defaults::PEER_ID.value, defaults::PEER_ID.source);
    }
    let psk = gateway::psk(gateway, source, &mut report, &mut errors);

    // Who starts: passive mode, and a dynamic peer the firewall cannot reach first.
    let passive = match &gateway.passive {
        Some(p) => {
            report.used(&p.path, p.line, if p.value { "on: the firewall only answers" } else { "off" });
            p.value
        }
        None => {
            report.defaulted(format!("{} protocol-common passive-mode", gateway.path), defaults::PASSIVE_MODE.value, defaults::PASSIVE_MODE.source);
            false
        }
    };
    let initiation = if passive || peer == Some(Peer::Dynamic) { Initiation::ResponderOnly } else { Initiation::Either };
    if !passive && peer == Some(Peer::Dynamic) {
        notes.push("a dynamic peer address: the firewall cannot start the tunnel, it answers only".into());
    }
    let nat_traversal = match &gateway.nat_traversal {
        Some(n) => {
            report.used(&n.path, n.line, if n.value { "on: charon detects NAT and moves to UDP 4500, as PAN-OS does" } else { "off" });
            n.value
        }
        None => {
            report.defaulted(format!("{} protocol-common nat-traversal enable", gateway.path), defaults::NAT_TRAVERSAL.value, defaults::NAT_TRAVERSAL.source);
            false
        }
    };
    if !nat_traversal {
        notes.push("NAT-T is off on the gateway, but charon always detects NAT and moves to UDP 4500: a NAT between the sites is crossed in the lab where PAN-OS would fail".into());
    }
    let dpd = gateway::dpd(&config, gateway, tunnel, setting, initiation, choices, &mut report, &mut errors);
    let ikev1_fallback = match (&fallback_ike, fallback_proposals) {
        (Some((crypto, _)), Some(proposals)) => {
            let dpd = gateway::fallback_dpd(gateway, initiation, &mut report).or(dpd.filter(|d| d.what == "tunnel monitor"));
            report.used(
                format!("{} protocol version (fallback)", gateway.path),
                None,
                "ikev2-preferred: IKEv2 first; when IKE_SA_INIT gets no answer or is refused, Main Mode with the IKEv1 profile; as responder both versions are answered",
            );
            Some(Ikev1Fallback { ike_proposals: proposals, ike_lifetime_s: crypto.lifetime_s, dpd })
        }
        _ => None,
    };

    // The virtual router's BGP speaker, before the interfaces: it decides whether the tunnel
    // interface's address goes on the lab's tunnel.
    let bgp = {
        let place = bgp::Place { tunnel_interface: &tunnel_interface.value, source };
        let mut out = bgp::Out { report: &mut report, errors: &mut errors, notes: &mut notes };
        bgp::import(&config, &place, &mut resolver, &mut out)
    };
    let tunnel_addressed = bgp.as_ref().is_some_and(|b| b.intent.addresses.iter().any(|(on, _)| *on == AddressOn::Tunnel));

    // Interfaces, zones, security rules, routes.
    let ports = network::map_interfaces(&config, &tunnel_interface.value, tunnel_addressed, source, &mut resolver, &mut report);
    let forward = match policy::forward_policy(&config, &ports, &mut resolver, &mut report) {
        Ok(f) => Some(f),
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    let (routes, virtual_router) = network::routes(&config, &tunnel_interface.value, &mut resolver, &mut report, &mut errors);
    let tunnel_zone = config.zone_of(&tunnel_interface.value).map(|z| z.name.clone());
    if tunnel_zone.is_none() {
        notes.push(format!("{} is in no zone: PAN-OS passes no traffic through it", tunnel_interface.value));
    }
    if virtual_router.is_none() {
        notes.push(format!("{} is in no virtual router's interface list: PAN-OS routes nothing into it", tunnel_interface.value));
    }

    unused(&config, tunnel, gateway, &ike, &esp, &resolver, &mut report);
    let mut unread = Vec::new();
    parsed.root.unread(&mut unread);
    for e in unread {
        report.ignored(&e.path, e.line, why_unread(&e.tag, &e.path));
    }
    for s in &parsed.skipped {
        report.ignored(&s.element, s.line, &s.why);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let (Some(peer), Some(psk), Some(forward)) = (peer, psk, forward) else {
        // Each missing piece has pushed its error; this is only reached without one by mistake.
        return Err(vec![error(gateway.line, &gateway.path, "the gateway could not be read", "see the other messages")]);
    };

    let outside_zone = local_interface.as_deref().and_then(|i| config.zone_of(i)).map(|z| z.name.clone());
    let zones: Vec<(String, Vec<Ipv4Net>)> = config
        .zones
        .iter()
        .map(|z| (z.name.clone(), z.layer3.iter().flat_map(|m| network::interface_nets(&config, &m.value, &mut Resolver::new(&config))).collect()))
        .collect();
    let inside: Vec<Ipv4Net> = zones
        .iter()
        .filter(|(name, _)| Some(name) != outside_zone.as_ref() && Some(name) != tunnel_zone.as_ref())
        .flat_map(|(_, nets)| nets.iter().copied())
        .collect();
    let site = SiteHints {
        local_address: local_net,
        local_id: local_id.clone().filter(|id| local_net.is_none_or(|n| n.addr().to_string() != *id)),
        peer_address: match &peer {
            Peer::Ip(a) => Some(*a),
            _ => None,
        },
        inside,
    };
    // A default on which sources disagree is worth a note where it applied.
    let chosen: Vec<String> = report
        .entries
        .iter()
        .filter_map(|e| match &e.status {
            crate::device::ImportStatus::Defaulted { value, source } if source.starts_with("choice ") => {
                let choice = source.trim_start_matches("choice ").split(':').next().unwrap_or_default();
                Some(format!("{} not set: {value} ({choice}; sources disagree)", e.element))
            }
            _ => None,
        })
        .collect();
    notes.splice(0..0, chosen);
    let ike_name = ike.as_ref().map(|(c, _)| c.name.clone()).unwrap_or_default();
    let ipsec_name = esp.as_ref().map(|(c, _, _)| c.name.clone()).unwrap_or_default();
    Ok(PanosDevice {
        names: Names {
            gateway: gateway.name.clone(),
            gateway_id: gateway_index + 1,
            tunnel: tunnel.name.clone(),
            tunnel_id: tunnel_index + 1,
            ike_profile: ike_name,
            ipsec_profile: ipsec_name,
            tunnel_interface: tunnel_interface.value.clone(),
            tunnel_zone,
            virtual_router,
            local_interface,
            zones,
            version: setting,
            proxy_ids: !tunnel.proxy_ids.is_empty(),
            monitor: tunnel.monitor.as_ref().is_some_and(|m| m.enable.as_ref().is_some_and(|e| e.value)),
            bgp: bgp.as_ref().map(|b| b.names.clone()),
        },
        version,
        ike_proposals,
        esp_proposals,
        pfs,
        ike_lifetime_s,
        reauth_s,
        child_lifetime_s,
        child_lifesize_kb,
        children,
        selector_match,
        local_addr,
        local_id,
        peer,
        peer_id,
        psk,
        dpd,
        ikev1_fallback,
        initiation,
        forward,
        routes,
        bgp: bgp.map(|b| b.intent),
        site,
        report,
        notes,
        choices,
    })
}

/// The tunnel `tunnel:` names, or the only one.
fn select_tunnel<'c>(config: &'c PanosConfig, source: &DeviceSource) -> Result<(usize, &'c IpsecTunnel), Vec<DeviceError>> {
    let names: Vec<&str> = config.tunnels.iter().map(|t| t.name.as_str()).collect();
    let found = match source.select {
        Some(name) => config.tunnels.iter().enumerate().find(|(_, t)| t.name == name).ok_or_else(|| {
            vec![error(
                None,
                "network tunnel ipsec",
                format!("no IPsec tunnel `{name}` in the configuration"),
                if names.is_empty() { "the configuration has no IPsec tunnel".to_string() } else { format!("`tunnel:` one of: {}", list(&names)) },
            )]
        })?,
        None => match config.tunnels.as_slice() {
            [] => {
                return Err(vec![error(
                    None,
                    "network tunnel ipsec",
                    "the configuration has no IPsec tunnel",
                    "a PAN-OS configuration with `set network tunnel ipsec NAME tunnel-interface tunnel.1 auto-key ike-gateway GW ...`",
                )])
            }
            [only] => (0, only),
            _ => {
                return Err(vec![error(
                    None,
                    "network tunnel ipsec",
                    format!("the configuration has {} IPsec tunnels; name the one to run", names.len()),
                    format!("`tunnel:` on the lab's node, one of: {}", list(&names)),
                )])
            }
        },
    };
    let tunnel = found.1;
    if !tunnel.problems.is_empty() {
        return Err(tunnel.problems.clone());
    }
    if tunnel.disabled.as_ref().is_some_and(|d| d.value) {
        return Err(vec![error(tunnel.line, &tunnel.path, format!("tunnel `{}` is disabled", tunnel.name), "`disabled no`, or another tunnel")]);
    }
    if let Some(t) = &tunnel.other_type {
        return Err(vec![error(
            t.line,
            &t.path,
            format!("tunnel `{}` is a {} tunnel, which vpnlab does not model", tunnel.name, t.value),
            "an auto-key tunnel (IKE): `auto-key ike-gateway GW ipsec-crypto-profile PROFILE`",
        )]);
    }
    Ok(found)
}

/// The tunnel's IKE gateway.
fn select_gateway<'c>(config: &'c PanosConfig, tunnel: &IpsecTunnel, report: &mut ImportReport) -> Result<(usize, &'c IkeGateway), Vec<DeviceError>> {
    let Some(first) = tunnel.gateways.first() else {
        return Err(vec![error(
            tunnel.line,
            &format!("{} auto-key ike-gateway", tunnel.path),
            format!("tunnel `{}` names no IKE gateway", tunnel.name),
            "`auto-key ike-gateway GW`",
        )]);
    };
    for extra in &tunnel.gateways[1..] {
        report.ignored(format!("{} {}", extra.path, extra.value), extra.line, "a further gateway of the tunnel: the lab runs the first");
    }
    let names: Vec<&str> = config.gateways.iter().map(|g| g.name.as_str()).collect();
    let Some((index, gateway)) = config.gateways.iter().enumerate().find(|(_, g)| g.name == first.value) else {
        return Err(vec![error(
            first.line,
            &first.path,
            format!("tunnel `{}` names IKE gateway `{}`, which the configuration does not define", tunnel.name, first.value),
            if names.is_empty() { "define it: `set network ike gateway NAME ...`".to_string() } else { format!("one of: {}", list(&names)) },
        )]);
    };
    report.used(&gateway.path, gateway.line, format!("the IKE gateway of tunnel {}", tunnel.name));
    if !gateway.problems.is_empty() {
        return Err(gateway.problems.clone());
    }
    if gateway.disabled.as_ref().is_some_and(|d| d.value) {
        return Err(vec![error(gateway.line, &gateway.path, format!("IKE gateway `{}` is disabled", gateway.name), "`disabled no`")]);
    }
    Ok((index, gateway))
}

/// Objects the tunnel does not use, each in the report.
fn unused(
    config: &PanosConfig,
    tunnel: &IpsecTunnel,
    gateway: &IkeGateway,
    ike: &Option<(Crypto, Vec<DhGroup>)>,
    esp: &Option<(Crypto, Option<DhGroup>, Option<u64>)>,
    resolver: &Resolver,
    report: &mut ImportReport,
) {
    let problems = |n: usize| if n == 0 { String::new() } else { format!(" (it has {n} problem{} that would stop it)", if n == 1 { "" } else { "s" }) };
    for t in config.tunnels.iter().filter(|t| t.name != tunnel.name) {
        report.ignored(&t.path, t.line, format!("another tunnel: this lab runs {}{}", tunnel.name, problems(t.problems.len())));
    }
    for g in config.gateways.iter().filter(|g| g.name != gateway.name) {
        report.ignored(&g.path, g.line, format!("the gateway of another tunnel{}", problems(g.problems.len())));
    }
    let ike_name = ike.as_ref().map(|(c, _)| c.name.as_str());
    for p in config.ike_profiles.iter().filter(|p| Some(p.name.as_str()) != ike_name) {
        report.ignored(&p.path, p.line, format!("not the profile of gateway {}{}", gateway.name, problems(p.problems.len())));
    }
    let esp_name = esp.as_ref().map(|(c, _, _)| c.name.as_str());
    for p in config.ipsec_profiles.iter().filter(|p| Some(p.name.as_str()) != esp_name) {
        report.ignored(&p.path, p.line, format!("not the profile of tunnel {}{}", tunnel.name, problems(p.problems.len())));
    }
    let monitor = tunnel
        .monitor
        .as_ref()
        .filter(|m| m.enable.as_ref().is_some_and(|e| e.value))
        .map(|m| m.profile.as_ref().map(|p| p.value.as_str()).unwrap_or(defaults::MONITOR_PROFILE.value));
    for p in config.monitor_profiles.iter().filter(|p| Some(p.name.as_str()) != monitor) {
        report.ignored(&p.path, p.line, "a monitor profile this tunnel does not use");
    }
    let used: &BTreeSet<String> = &resolver.used;
    for a in &config.addresses {
        match (&a.value, used.contains(&a.name)) {
            (Some(v), true) => report.used(&a.path, a.line, v.value.describe()),
            _ => report.ignored(&a.path, a.line, "an address object no rule, proxy-ID, route or gateway of this tunnel uses"),
        }
    }
    for g in &config.address_groups {
        if used.contains(&g.name) {
            report.used(&g.path, g.line, g.members.iter().map(|m| m.value.as_str()).collect::<Vec<_>>().join(", "));
        } else {
            report.ignored(&g.path, g.line, "an address group no rule of this tunnel uses");
        }
    }
}

/// An IKE crypto profile as proposals, reported; a profile PAN-OS would refuse is an error.
fn ike_proposals_of(ike: Option<&(Crypto, Vec<DhGroup>)>, report: &mut ImportReport, errors: &mut Vec<DeviceError>) -> Vec<crate::ike::proposal::Proposal> {
    match ike {
        Some((crypto, groups)) => match crypto::ike_proposals(crypto, groups) {
            Ok(p) => {
                report.used(
                    format!("network ike crypto-profiles ike-crypto-profiles {} (as proposals)", super::tree::quoted(&crypto.name)),
                    None,
                    crate::ike::proposal::list(&p),
                );
                p
            }
            Err(e) => {
                errors.push(error(
                    crypto.line,
                    &format!("network ike crypto-profiles ike-crypto-profiles {}", super::tree::quoted(&crypto.name)),
                    e,
                    "PAN-OS pairs non-auth with aes-128-gcm/aes-256-gcm only",
                ));
                Vec::new()
            }
        },
        None => Vec::new(),
    }
}
