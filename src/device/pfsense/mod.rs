//! A pfSense firewall as the device under test, read from its own configuration backup
//! (config.xml). pfSense runs strongSwan's charon and compiles config.xml into swanctl.conf,
//! so its IKE behaviour is charon's with pfSense's derivation rules (`derive.rs`); around it,
//! its firewall filters what leaves the tunnel (`filter.rs`) and its routing table steers
//! routed (VTI) traffic (`routes.rs`).
//!
//! - `xml.rs` reads the file (roxmltree, with lines), `config.rs` types it;
//! - `ifmap.rs` places pfSense's interfaces (`wan`, `lan`, `optN`) on the lab node's;
//! - `derive.rs` (with `fields.rs` and `algorithms.rs`) turns one phase 1 and its phase 2
//!   entries into a connection, its children and its key;
//! - `filter.rs` turns the rules into the forward policy, `routes.rs` the VTI's static routes
//!   into routes into the tunnel;
//! - `vocabulary.rs` speaks pfSense's GUI in fixes, logs and checks; `status.rs` renders its
//!   Status > IPsec pages from live SAs.
//!
//! Everything read is in the [`ImportReport`]: used, defaulted (with the default's source) or
//! ignored (with why). The pre-shared key is plaintext in config.xml: it goes into the intent's
//! secret and nowhere else (no message, report entry, summary or `Debug`).

mod algorithms;
mod config;
mod derive;
mod fields;
mod filter;
mod frr;
mod frr_status;
mod ifmap;
mod phase1;
mod phase2;
mod routes;
mod status;
mod vocabulary;
mod xml;

#[cfg(test)]
mod tests;

use std::any::Any;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use self::config::{Config, Phase1, Phase2};
use self::derive::{Phase2Info, Vti};
use self::filter::FilterMode;
use self::ifmap::Interfaces;
use super::{Device, DeviceError, DeviceSource, ImportReport, RunContext, SiteHints, StatusView};
use crate::evidence::sa::IkeSa;
use crate::ike::intent::{scaled, Initiation, IpsecIntent, Listen};

/// A pfSense firewall: one phase 1 of its config.xml with its phase 2 entries and its rules.
#[derive(Debug, Clone)]
pub struct PfsenseDevice {
    /// The imported phase 1's `ikeid` and description.
    pub ikeid: String,
    pub descr: Option<String>,
    /// What the configuration does, in real time.
    config: IpsecIntent,
    report: ImportReport,
    phase2: Vec<Phase2Info>,
    vti: Vec<Vti>,
    /// The VTI's gateway name (for static-route fixes), when a VTI is assigned.
    vti_gateway: Option<String>,
    /// The start action pfSense gives the children.
    pfsense_start: String,
    /// The rules tab that filters traffic from the tunnel (`IPsec`, or the VTI's interface).
    filter_tab: String,
    routes: Vec<Ipv4Net>,
    site: SiteHints,
    notes: Vec<String>,
    /// The FRR package's BGP speaker, when it runs one.
    bgp: Option<crate::bgp::BgpIntent>,
}

/// Reads the pfSense device of `source` (config.xml); `source.select` is the phase 1's ikeid.
pub fn load(source: &DeviceSource) -> Result<PfsenseDevice, Vec<DeviceError>> {
    let root = xml::parse(source.text).map_err(|e| vec![e])?;
    let cfg = Config::read(&root)?;
    let mut report = ImportReport::default();
    if let Some((version, line)) = &cfg.version {
        report.used(
            "version",
            Some(*line),
            format!("config schema {version} (this importer follows the 24.5 schema and converts older timers and proposals as pfSense's upgrade does)"),
        );
    }
    let ifaces = Interfaces::map(&cfg.interfaces, source.interfaces, &mut report);
    let p1 = select(&cfg, source.select, &mut report)?;
    let phase2: Vec<&Phase2> = cfg.phase2.iter().filter(|p| p.ikeid == p1.ikeid).collect();
    for p in cfg.phase2.iter().filter(|p| p.ikeid != p1.ikeid) {
        let why = match cfg.phase1.iter().find(|q| q.ikeid == p.ikeid) {
            Some(_) => format!("belongs to phase 1 ikeid {}, which is not imported", p.ikeid),
            None => format!("names ikeid {}, which no phase 1 has: pfSense ignores it", p.ikeid),
        };
        report.ignored(p.path(), Some(p.el.line), why);
    }
    let tunnel = derive::tunnel(p1, &phase2, &ifaces, source.psk, &mut report)?;
    let mode = ipsec_globals(&cfg, &mut report);
    let tunnel_mode = tunnel.phase2.iter().any(|p| !p.vti);
    let forward = filter::forward_policy(&cfg, &ifaces, mode, tunnel_mode, &mut report);
    let (vti_routes, vti_gateway) = routes::vti_routes(&cfg, &tunnel.vti, &ifaces, &mut report);
    let filter_tab = match mode {
        FilterMode::Enc => "IPsec".to_string(),
        FilterMode::IfIpsec => tunnel
            .vti
            .iter()
            .find_map(|v| ifaces.list.iter().find(|m| m.iface.vti_device() == Some(v.interface.as_str())))
            .map(|m| m.iface.friendly())
            .unwrap_or_else(|| "the VTI's assigned interface".into()),
    };
    for (name, line) in &cfg.other_sections {
        let why = if name == "system" {
            "host name, users, GUI and services: not about IPsec (only webgui/noantilockout is read)"
        } else if name.starts_with("gateways/") {
            "the lab file sets the node's default gateway"
        } else {
            "not about IPsec, the interfaces, the rules or the routes the lab models"
        };
        report.ignored(name.clone(), Some(*line), why);
    }
    let mut routes = tunnel.remote_networks.clone();
    for r in vti_routes {
        if !routes.contains(&r) {
            routes.push(r);
        }
    }
    for net in tunnel.phase2.iter().filter(|p| !p.vti).flat_map(|p| p.remote.iter()).filter(|n| n.prefix_len() == 0) {
        report.ignored(
            format!("route {net} into the tunnel"),
            None,
            "a tunnel-mode phase 2 to 0.0.0.0/0: the lab adds no default route into the tunnel (it would carry the IKE traffic too)",
        );
    }

    let local_net = ifaces.address(&tunnel.interface).ok();
    let site = SiteHints {
        local_address: ifaces.get(&tunnel.interface).and_then(ifmap::Mapped::configured),
        local_id: tunnel.local_id.clone().filter(|id| local_net.is_none_or(|n| n.addr().to_string() != *id)),
        peer_address: tunnel.remote_gateway.parse::<Ipv4Addr>().ok().filter(|a| !a.is_unspecified()),
        inside: ifaces
            .list
            .iter()
            .filter(|m| m.iface.key != tunnel.interface && m.iface.vti_device().is_none() && m.iface.enabled && m.iface.gateway.is_none())
            .filter_map(ifmap::Mapped::address)
            .collect(),
    };
    let mut notes = vec![match tunnel.pfsense_start.as_str() {
        "trap" => "pfSense would initiate on the first matching packet (start action trap); in the lab the run plan initiates".to_string(),
        "start" => "pfSense would initiate when IPsec starts (start action start); in the lab the run plan initiates".to_string(),
        other => format!("pfSense's start action is {other}; in the lab the run plan initiates"),
    }];
    if tunnel.initiation == Initiation::ResponderOnly {
        notes.push("Child SA Start Action None (Responder Only): pfSense never initiates".into());
    }
    if !tunnel.vti.is_empty() {
        let v = &tunnel.vti[0];
        notes.push(format!("routed IPsec: VTI {} with transit network {} (local {}, remote {})", v.interface, v.local.trunc(), v.local.addr(), v.remote));
    }
    let bgp = frr::bgp(&cfg.packages, &ifaces, &tunnel.vti, &mut report);
    let config = IpsecIntent {
        connections: vec![tunnel.connection],
        secrets: vec![tunnel.secret],
        initiation: tunnel.initiation,
        forward: Some(forward),
        listen: Listen::default(),
        clock: Vec::new(),
    };
    Ok(PfsenseDevice {
        ikeid: p1.ikeid.clone(),
        descr: p1.descr.clone(),
        config,
        report,
        phase2: tunnel.phase2,
        vti: tunnel.vti,
        vti_gateway,
        pfsense_start: tunnel.pfsense_start,
        filter_tab,
        routes,
        site,
        notes,
        bgp,
    })
}

/// The phase 1 to import: the one `select` names by ikeid, or the only enabled one.
fn select<'a>(cfg: &'a Config, select: Option<&str>, report: &mut ImportReport) -> Result<&'a Phase1, Vec<DeviceError>> {
    let first_line = cfg.phase1.first().map(|p| p.el.line).or(cfg.ipsec.as_ref().map(|i| i.line));
    let listing = || {
        cfg.phase1
            .iter()
            .map(|p| {
                let mut s = format!("ikeid {}", p.ikeid);
                if let Some(d) = &p.descr {
                    s.push_str(&format!(" (\"{d}\")"));
                }
                if p.disabled {
                    s.push_str(" (disabled)");
                } else if p.mobile {
                    s.push_str(" (mobile clients)");
                }
                s
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let err = |message: String, hint: String| vec![DeviceError { line: first_line, element: "ipsec/phase1".into(), message, hint: Some(hint) }];
    if cfg.phase1.is_empty() {
        let legacy = cfg.ipsec.as_ref().is_some_and(|i| i.has("tunnel"));
        let message = if legacy {
            "config.xml has only legacy <ipsec><tunnel> entries (pfSense 1.x), no phase 1".to_string()
        } else {
            "config.xml has no IPsec phase 1".to_string()
        };
        return Err(err(message, "a backup with a tunnel under VPN > IPsec (an <ipsec><phase1> entry)".into()));
    }
    let chosen = match select.map(str::trim) {
        Some(wanted) => {
            let Some(p) = cfg.phase1.iter().find(|p| p.ikeid == wanted) else {
                return Err(err(format!("no phase 1 has ikeid {wanted}"), format!("one of: {}", listing())));
            };
            if p.disabled {
                return Err(err(format!("phase 1 ikeid {wanted} is disabled: pfSense does not run it"), format!("enable it, or name another: {}", listing())));
            }
            if p.mobile {
                return Err(err(
                    format!("phase 1 ikeid {wanted} is the mobile-client (remote access) tunnel"),
                    format!("a site-to-site phase 1: {}", listing()),
                ));
            }
            p
        }
        None => {
            let enabled: Vec<&Phase1> = cfg.phase1.iter().filter(|p| !p.disabled && !p.mobile).collect();
            match enabled.as_slice() {
                [one] => *one,
                [] => return Err(err("every phase 1 is disabled (or for mobile clients)".into(), format!("enable one in pfSense: {}", listing()))),
                _ => {
                    return Err(err(
                        format!("config.xml has {} enabled phase 1 entries", enabled.len()),
                        format!("name one in the lab with `phase1: <ikeid>`: {}", listing()),
                    ))
                }
            }
        }
    };
    match select {
        Some(s) => report.used("phase1 (selection)", None, format!("ikeid {s}, as the lab's `phase1:` names it")),
        None => report.used("phase1 (selection)", None, format!("ikeid {}, the only enabled site-to-site phase 1", chosen.ikeid)),
    }
    for p in cfg.phase1.iter().filter(|p| p.ikeid != chosen.ikeid) {
        let why = if p.disabled {
            "disabled: pfSense does not run it".to_string()
        } else if p.mobile {
            "the mobile-client (remote access) tunnel, not site-to-site".to_string()
        } else {
            format!("another tunnel; this lab imports ikeid {}", chosen.ikeid)
        };
        report.ignored(p.path(), Some(p.el.line), why);
    }
    Ok(chosen)
}

/// Reports the `<ipsec>` global settings and returns the IPsec filter mode.
fn ipsec_globals(cfg: &Config, report: &mut ImportReport) -> FilterMode {
    const WHY: &[(&str, &str)] = &[
        ("logging", "log levels change what charon logs, not what it does"),
        ("uniqueids", "unique-ID handling (replace by default) concerns a second IKE SA with the same identities; the lab's peer has one"),
        ("client", "mobile-client (remote access) settings, not site-to-site"),
        ("mobilekey", "mobile-client (remote access) keys, not site-to-site"),
        ("vtimaps", "VTI numbering of configs before 21.9, which pfSense's upgrade removes; VTI names here are ipsec<reqid>"),
        ("tunnel", "legacy tunnel entries of pfSense 1.x, which the upgrade converts to phase 1/phase 2"),
        ("enable", "the global switch of older configs; pfSense runs IPsec when a phase 1 is enabled"),
        ("compression", "IPComp is not negotiated in the lab"),
        ("makebeforebreak", "make-before-break reauthentication: the lab runs charon's default"),
        ("port", "a custom IKE port: the lab's charon listens on UDP 500"),
        ("port_nat_t", "a custom NAT-T port: the lab's charon listens on UDP 4500"),
        ("bypassrules", "bypass policies (traffic kept out of the tunnel) are not modelled"),
        ("noshuntlaninterfaces", "the LAN bypass policies are not modelled"),
        ("ipsecbypass", "bypass policies (traffic kept out of the tunnel) are not modelled"),
        ("ikev2_retransmit_tries", "charon's retransmission settings: the lab runs its defaults"),
        ("ikev2_retransmit_timeout", "charon's retransmission settings: the lab runs its defaults"),
        ("ikev2_retransmit_base", "charon's retransmission settings: the lab runs its defaults"),
        ("ikev2_retransmit_jitter", "charon's retransmission settings: the lab runs its defaults"),
        ("ikev2_retransmit_limit", "charon's retransmission settings: the lab runs its defaults"),
    ];
    let mut mode = FilterMode::Enc;
    let Some(ipsec) = &cfg.ipsec else { return mode };
    let mut filtermode_seen = false;
    for el in ipsec.children.iter().filter(|c| c.name != "phase1" && c.name != "phase2") {
        let path = format!("ipsec/{}", el.name);
        if el.name == "filtermode" {
            filtermode_seen = true;
            match el.text() {
                "if_ipsec" => {
                    mode = FilterMode::IfIpsec;
                    report.used(path, Some(el.line), "if_ipsec: VTI traffic is filtered on its assigned interface, tunnel-mode traffic is blocked");
                }
                other => report.used(path, Some(el.line), format!("`{other}`: the IPsec tab (enc0) filters all IPsec traffic")),
            }
            continue;
        }
        let why = WHY
            .iter()
            .find(|(n, _)| *n == el.name)
            .map(|(_, w)| w.to_string())
            .unwrap_or_else(|| "an Advanced Settings value not in the lab's intent: charon's default applies".to_string());
        report.ignored(path, Some(el.line), why);
    }
    if !filtermode_seen {
        report.defaulted("ipsec/filtermode", "enc: the IPsec tab filters all IPsec traffic", "pfSense's default IPsec filter mode");
    }
    mode
}

impl PfsenseDevice {
    /// `con1`, the connection name pfSense (and the lab) gives the phase 1.
    fn connection_name(&self) -> String {
        format!("con{}", self.ikeid)
    }

    /// The rules tab that filters traffic from the tunnel.
    fn filter_tab(&self) -> &str {
        &self.filter_tab
    }
}

/// charon's child timers when pfSense writes none (Life Time empty): made explicit so that a
/// compressed clock compresses them too.
const CHARON_CHILD_DEFAULTS: (u64, u64, u64) = (3600, 3960, 360);

impl Device for PfsenseDevice {
    fn family(&self) -> &'static str {
        "pfsense"
    }

    fn under_test(&self) -> bool {
        true
    }

    fn initiation(&self) -> Initiation {
        self.config.initiation
    }

    /// "Initiate at start" (`startaction` start) brings the tunnel up when IPsec starts; trap
    /// waits for traffic, none for the peer.
    fn starts_unprompted(&self) -> bool {
        self.pfsense_start == "start"
    }

    /// The configuration with every timer compressed by the lab's clock (0, "off", stays 0).
    fn intent(&self, run: RunContext) -> IpsecIntent {
        let mut intent = self.config.clone();
        if run.time_scale == 1.0 {
            return intent;
        }
        let scale = |d: &mut Option<u64>| {
            if let Some(s) = d.as_mut().filter(|s| **s > 0) {
                *s = scaled(*s, run.time_scale);
            }
        };
        for c in &mut intent.connections {
            scale(&mut c.dpd_delay_s);
            scale(&mut c.dpd_timeout_s);
            scale(&mut c.rekey_time_s);
            scale(&mut c.reauth_time_s);
            scale(&mut c.over_time_s);
            for ch in &mut c.children {
                if ch.rekey_time_s.is_none() && ch.life_time_s.is_none() {
                    let (rekey, life, rand) = CHARON_CHILD_DEFAULTS;
                    (ch.rekey_time_s, ch.life_time_s, ch.rand_time_s) = (Some(rekey), Some(life), Some(rand));
                }
                scale(&mut ch.rekey_time_s);
                scale(&mut ch.life_time_s);
                scale(&mut ch.rand_time_s);
                // Whole seconds at a compressed clock: keep the expiry after the rekey, and the
                // jitter below the rekey time.
                if let (Some(r), Some(l)) = (ch.rekey_time_s, ch.life_time_s) {
                    if l <= r {
                        ch.life_time_s = Some(r + 1);
                    }
                    if let Some(j) = ch.rand_time_s.filter(|j| *j >= r) {
                        ch.rand_time_s = Some(j.min(r.saturating_sub(1)));
                    }
                }
            }
        }
        intent
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    fn summary(&self, intent: &IpsecIntent) -> Vec<String> {
        let mut out = Vec::new();
        let descr = self.descr.as_deref().map(|d| format!(" \"{d}\"")).unwrap_or_default();
        for c in &intent.connections {
            let local_id = c.local.id.as_deref().map(|id| format!(", my identifier {id}")).unwrap_or_default();
            out.push(format!(
                "VPN > IPsec > Tunnels: phase 1 ikeid {}{descr} ({}), {} to {}{local_id}: {}",
                self.ikeid,
                c.name,
                c.version.name(),
                c.remote_addrs.join(","),
                vocabulary::proposals_text(&c.proposals)
            ));
            for ch in &c.children {
                let entries: Vec<String> = self.phase2.iter().filter(|p| p.child == ch.name).map(|p| p.reqid.clone()).collect();
                let life = ch.life_time_s.map(|l| format!("life {l} s")).unwrap_or_else(|| "charon's default lifetimes".into());
                out.push(format!(
                    "  phase 2 {} (reqid {}): {} · {} · {life}",
                    ch.name,
                    entries.join(","),
                    ch.selectors(),
                    vocabulary::proposals_text(&ch.esp_proposals)
                ));
            }
        }
        for v in &self.vti {
            out.push(format!("  VTI {}: {} <-> {}", v.interface, v.local, v.remote));
        }
        out.push(format!("  Child SA Start Action: pfSense {}; in the lab the run plan initiates", self.pfsense_start));
        if let Some(policy) = &intent.forward {
            let from_tunnel: Vec<&str> = policy
                .rules
                .iter()
                .filter(|r| r.from.contains(&crate::ike::intent::Port::Tunnel) && r.action == crate::ike::intent::Action::Accept)
                .map(|r| r.name.as_str())
                .collect();
            out.push(if from_tunnel.is_empty() {
                "Firewall > Rules > IPsec: no pass rule, everything from the tunnel is blocked".to_string()
            } else {
                format!("Firewall > Rules: from the tunnel {}", from_tunnel.join("; "))
            });
        }
        out
    }

    fn import_report(&self) -> Option<&ImportReport> {
        Some(&self.report)
    }

    fn bgp(&self) -> Option<crate::bgp::BgpIntent> {
        self.bgp.clone()
    }

    fn tunnel_routes(&self) -> Vec<Ipv4Net> {
        self.routes.clone()
    }

    fn site(&self) -> SiteHints {
        self.site.clone()
    }

    fn bgp_view(&self, snapshot: &crate::bgp::BgpSnapshot) -> Vec<crate::device::ViewTable> {
        frr_status::tables(snapshot)
    }

    fn status_view(&self, node: &str, intent: &IpsecIntent, sas: &[IkeSa]) -> Option<StatusView> {
        Some(status::view(self, node, intent, sas))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn clone_box(&self) -> Box<dyn Device> {
        Box::new(self.clone())
    }
}
