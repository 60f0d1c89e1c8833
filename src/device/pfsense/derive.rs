//! The derivation pfSense performs when it compiles config.xml into swanctl.conf (its
//! `ipsec.inc`), reimplemented from the documented behaviour for one phase 1 and its phase 2
//! entries: a [`Connection`] with its children and its key.
//!
//! The rules, each reported where it applies:
//! - IKE version: `ikev2` is 2, `auto` either (0), `ikev1` and an empty or missing `iketype`
//!   are IKEv1.
//! - IKE proposals: one per `encryption/item`, in order: cipher and key length, hash, the PRF
//!   only with `prfselect_enable`, DH group. Items without a cipher or a hash are skipped.
//! - Lifetimes: rekey = `rekey_time`, else 90 % of `lifetime`, else 14400 s (3600 s for a
//!   phase 2); reauth = `reauth_time`, else 90 % of `lifetime` for a literal `ikev1`, else 0;
//!   life = `lifetime`, else max(rekey, reauth) / 0.9, else 16000 s (4000 s); over = life -
//!   max(rekey, reauth); rand = `rand_time`, else over. IKEv1 gets no IKE rekey time. A phase 2
//!   without `lifetime` gets no child timers (strongSwan's defaults).
//! - DPD: on when `dpd_delay` and `dpd_maxfail` are both non-zero; the timeout delay x
//!   (maxfail + 1) only for a literal `ikev1` (IKEv2 relies on retransmissions).
//! - NAT-T: `force` is `encap = yes`; MOBIKE `on` is `mobike = yes`.
//! - Identifiers: `myaddress` / `peeraddress` are the addresses, `fqdn:`, `userfqdn:`,
//!   `keyid:`, `dns:` prefixes for the typed ones, `any` is `%any`.
//! - Children: IKEv1 or `splitconn`: one child `con<ikeid>_<reqid>` per phase 2; IKEv2 or auto
//!   without it: one child `con<ikeid>` whose selectors and ESP proposals are those of every
//!   phase 2 (later entries' timers and start action win, as in pfSense's array merge).
//! - Selectors: tunnel mode takes the phase 2 networks, an interface name (`lan`, `opt1`) is
//!   that interface's network; a VTI phase 2 is routed: 0.0.0.0/0 both ways, its addresses are
//!   the transit network.
//! - ESP proposals: GCM ciphers first (in reverse order), `auto` key lengths high to low, every
//!   hash after every non-AEAD cipher, the PFS group last.
//! - Start action: trap for tunnel mode, start once a VTI phase 2 is met, the phase 1's
//!   `startaction` when set (never trap on a VTI). The lab keeps `none` (its run plan initiates
//!   and kernel-libipsec has no trap policies) and reports what pfSense would do.
//!
//! `phase1.rs` reads the phase 1 (version, addresses, identities, proposals, timers, DPD,
//! NAT-T, start and close actions), `phase2.rs` each phase 2 (mode, selectors, ESP proposals,
//! timers); this module joins them into children as pfSense does. The pre-shared key is used,
//! never printed.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::config::{Phase1, Phase2};
use super::fields::Fields;
use super::ifmap::Interfaces;
use super::phase1::{phase1, Ike, P1_NOT_MODELLED};
use super::phase2::{phase2_entry, Entry, Mode, P2_NOT_MODELLED};
use super::xml::Element;
use crate::device::{DeviceError, ImportReport};
use crate::ike::intent::{Auth, Child, Connection, DpdAction, IkeVersion, Initiation, Secret, SelectorMatch, StartAction};
use crate::ike::proposal::Proposal;

/// One phase 1 and its phase 2 entries, derived.
#[derive(Debug, Clone)]
pub struct Tunnel {
    pub connection: Connection,
    pub secret: Secret,
    pub initiation: Initiation,
    pub phase2: Vec<Phase2Info>,
    pub vti: Vec<Vti>,
    /// Remote networks of tunnel-mode phase 2 entries (what the lab routes into the tunnel).
    pub remote_networks: Vec<Ipv4Net>,
    /// The start action pfSense gives the children (`trap`, `start`, `none`).
    pub pfsense_start: String,
    /// The phase 1's interface (`wan`).
    pub interface: String,
    pub local_id: Option<String>,
    pub remote_gateway: String,
}

/// A phase 2 entry as it ended up in a child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase2Info {
    pub reqid: String,
    pub uniqid: Option<String>,
    pub descr: Option<String>,
    pub vti: bool,
    /// The child it is part of.
    pub child: String,
    pub local: Vec<Ipv4Net>,
    pub remote: Vec<Ipv4Net>,
}

/// A routed (VTI) phase 2: its interface and the transit network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vti {
    /// `ipsec<reqid>`.
    pub interface: String,
    pub reqid: String,
    /// The local tunnel address with its prefix (an `address` is a /30).
    pub local: Ipv4Net,
    pub remote: Ipv4Addr,
}

pub(super) const UNKNOWN_FIELD: &str = "not a field of pfSense's current config schema (24.5) that this importer knows";

/// The Expiration and Replacement fields of an entry, as read.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Timers {
    /// `lifetime` when above 0.
    pub(super) lifetime: u64,
    pub(super) rekey: Option<u64>,
    pub(super) reauth: Option<u64>,
    pub(super) rand: Option<u64>,
    /// `iketype` is set: ipsec.inc's test for "a phase 1" when it picks a default.
    pub(super) phase1: bool,
    /// `iketype` is literally `ikev1`: the only case with a default reauth time.
    pub(super) ikev1_literal: bool,
}

/// 90 % of `s`, as ipsec.inc computes it (a float product, truncated).
fn ninety_percent(s: u64) -> u64 {
    (s as f64 * 0.9) as u64
}

impl Timers {
    pub(super) fn rekey(&self) -> u64 {
        match self.rekey {
            Some(v) => v,
            None if self.lifetime > 0 => ninety_percent(self.lifetime),
            None if self.phase1 => 14400,
            None => 3600,
        }
    }

    pub(super) fn reauth(&self) -> u64 {
        match self.reauth {
            Some(v) => v,
            None if self.lifetime > 0 && self.ikev1_literal => ninety_percent(self.lifetime),
            None => 0,
        }
    }

    pub(super) fn renew_max(&self) -> u64 {
        self.rekey().max(self.reauth())
    }

    pub(super) fn life(&self) -> u64 {
        if self.lifetime > 0 {
            return self.lifetime;
        }
        match self.renew_max() {
            r if r > 0 => (r as f64 / 0.9) as u64,
            _ if self.phase1 => 16000,
            _ => 4000,
        }
    }

    /// Life minus the later renewal; `None` when the renewal comes after the end of life.
    pub(super) fn over(&self) -> Option<u64> {
        let (life, renew) = (self.life(), self.renew_max());
        if renew > 0 {
            life.checked_sub(renew)
        } else {
            Some((life as f64 * 0.1) as u64)
        }
    }

    pub(super) fn rand(&self) -> Option<u64> {
        self.rand.or_else(|| self.over())
    }
}

/// Reads a field of whole seconds: absent or empty is `None`.
pub(super) fn seconds(f: &mut Fields, name: &'static str) -> Result<Option<u64>, DeviceError> {
    match f.value(name) {
        None => Ok(None),
        Some((text, _)) => {
            text.parse::<u64>().map(Some).map_err(|_| f.error(name, format!("`{text}` is not a number of seconds"), "whole seconds, e.g. 28800, or empty"))
        }
    }
}

/// What the lab does with a DPD action pfSense writes.
fn lab_dpd_action(pfsense: &str) -> DpdAction {
    match pfsense {
        "clear" => DpdAction::Clear,
        // trap: kernel-libipsec installs no trap policies, so a dead peer's child is restarted.
        _ => DpdAction::Restart,
    }
}

/// Derives the tunnel of phase 1 `p1` with its `phase2` entries (enabled or not, in order).
pub fn tunnel(p1: &Phase1, phase2: &[&Phase2], ifaces: &Interfaces, psk_override: Option<&str>, report: &mut ImportReport) -> Result<Tunnel, Vec<DeviceError>> {
    let mut errors = Vec::new();
    let mut f = Fields::new(&p1.el, p1.path());
    let ike = phase1(&mut f, p1, ifaces, psk_override, report, &mut errors);
    f.finish(report, P1_NOT_MODELLED, UNKNOWN_FIELD);
    let Some(ike) = ike else {
        return Err(errors);
    };
    let children = children(&ike, p1, phase2, ifaces, report, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let Children { children, phase2: infos, vti, remote_networks, start } = children;
    if children.is_empty() {
        return Err(vec![DeviceError {
            line: Some(p1.el.line),
            element: p1.path(),
            message: format!("phase 1 ikeid {} has no phase 2 entry the lab can build (see the import report for why each was left out)", p1.ikeid),
            hint: Some("an enabled phase 2 with <ikeid> of this phase 1, in mode tunnel (IPv4) or vti".into()),
        }]);
    }
    let t = ike.timers;
    let over = t.over().unwrap_or(0);
    let connection = Connection {
        name: format!("con{}", p1.ikeid),
        version: ike.version,
        local_addrs: ike.local_addr.map(|a| vec![a.addr().to_string()]).unwrap_or_default(),
        remote_addrs: vec![ike.remote_gateway.clone()],
        proposals: ike.proposals.clone(),
        dpd_delay_s: ike.dpd.map(|(d, _)| d),
        dpd_timeout_s: ike.dpd.and_then(|(_, t)| t),
        mobike: Some(ike.mobike),
        encap: Some(ike.encap),
        rekey_time_s: (ike.version != IkeVersion::V1).then(|| t.rekey()),
        reauth_time_s: Some(t.reauth()),
        over_time_s: Some(over),
        local: Auth::psk(ike.local_id.clone()),
        remote: Auth::psk(ike.remote_id.clone()),
        children,
        selector_match: SelectorMatch::Narrowing,
        fallback_child: None,
        version_fallback: None,
        start_every_child: false,
    };
    // pfSense writes the secret for `%any` and the peer's identity (ipsec_setup_secrets).
    let mut ids = vec!["%any".to_string()];
    if let Some(peer) = ike.remote_id.clone().filter(|p| p != "%any") {
        ids.push(peer);
    }
    let secret = Secret { ids, secret: ike.psk.clone() };
    let initiation = if ike.startaction == "none" { Initiation::ResponderOnly } else { Initiation::Either };
    Ok(Tunnel {
        connection,
        secret,
        initiation,
        phase2: infos,
        vti,
        remote_networks,
        pfsense_start: start,
        interface: ike.interface,
        local_id: ike.local_id,
        remote_gateway: ike.remote_gateway,
    })
}

/// The children of one phase 1, and what the phase 2 entries became.
struct Children {
    children: Vec<Child>,
    phase2: Vec<Phase2Info>,
    vti: Vec<Vti>,
    remote_networks: Vec<Ipv4Net>,
    /// The start action pfSense gives (the last one written).
    start: String,
}

fn children(ike: &Ike, p1: &Phase1, phase2: &[&Phase2], ifaces: &Interfaces, report: &mut ImportReport, errors: &mut Vec<DeviceError>) -> Children {
    // pfSense's running start action: trap, then start from the first VTI on, then the phase 1's
    // own choice (never trap on a VTI). It carries over from one phase 2 to the next.
    let mut start = "trap".to_string();
    // DPD action: trap when DPD is on (the start action is still trap here), clear otherwise;
    // an explicit close action decides; a VTI turns trap into restart.
    let mut dpd_action = if ike.dpd.is_some() { "trap" } else { "clear" }.to_string();
    if ike.dpd.is_some() && !ike.closeaction.is_empty() {
        dpd_action = match ike.closeaction.as_str() {
            "trap" => "trap",
            "start" => "restart",
            _ => "clear",
        }
        .to_string();
    }
    let first_reqid = phase2.first().and_then(|p| p.reqid.clone());
    let mut entries: Vec<Entry> = Vec::new();
    for p2 in phase2 {
        if p2.disabled {
            report.ignored(p2.path(), Some(p2.el.line), "disabled: pfSense builds no child for it");
            continue;
        }
        if p2.mobile {
            report.ignored(p2.path(), Some(p2.el.line), "a mobile-client phase 2 (remote access), not a site-to-site network pair");
            continue;
        }
        let mut f = Fields::new(&p2.el, p2.path());
        let entry = phase2_entry(&mut f, p2, ifaces, report, errors);
        f.finish(report, P2_NOT_MODELLED, UNKNOWN_FIELD);
        let Some(mut entry) = entry else { continue };
        if entry.mode == Mode::Vti {
            start = "start".into();
            if dpd_action == "trap" {
                dpd_action = "restart".into();
            }
        }
        // The phase 1's choice wins, except trap on a VTI (it cannot trap).
        let trap_on_vti = entry.mode == Mode::Vti && ike.startaction == "trap";
        if !ike.startaction.is_empty() && !trap_on_vti {
            start = ike.startaction.clone();
        }
        entry.start = start.clone();
        entries.push(entry);
    }

    let dpd = lab_dpd_action(&dpd_action);
    let dpd_note = if dpd_action == "trap" { " (pfSense: trap; the lab restarts, as kernel-libipsec has no trap policies)" } else { "" };
    let mut out = Children { children: Vec::new(), phase2: Vec::new(), vti: Vec::new(), remote_networks: Vec::new(), start: start.clone() };
    let base = format!("con{}", p1.ikeid);
    let timers = |c: &mut Child, t: Option<(u64, u64, u64)>| {
        if let Some((rekey, life, rand)) = t {
            c.rekey_time_s = Some(rekey);
            c.life_time_s = Some(life);
            c.rand_time_s = Some(rand);
        }
    };
    let start_note = |s: &str| match s {
        "trap" => "pfSense: trap (initiate on traffic); the lab: none, its run plan initiates (kernel-libipsec has no trap)".to_string(),
        "start" => "pfSense: start (initiate when IPsec starts); the lab: none, its run plan initiates".to_string(),
        other => format!("pfSense: {other}; the lab: none, its run plan initiates"),
    };
    if ike.version == IkeVersion::V1 || ike.split {
        for e in &entries {
            let name = format!("{base}_{}", e.reqid);
            let mut child = Child::new(&name, e.local.clone(), e.remote.clone(), e.proposals.clone().unwrap_or_default());
            timers(&mut child, e.timers);
            child.dpd_action = Some(dpd);
            child.start_action = Some(StartAction::None);
            let why = if ike.split { "Split connections" } else { "IKEv1" };
            report.used(
                format!("child {name}"),
                None,
                format!(
                    "{why}: one child for phase 2 reqid {}: {}; dpd_action {}{dpd_note}; {}",
                    e.reqid,
                    child.selectors(),
                    dpd.keyword(),
                    start_note(&e.start)
                ),
            );
            out.children.push(child);
        }
    } else if !entries.is_empty() {
        let mut local: Vec<Ipv4Net> = Vec::new();
        let mut remote: Vec<Ipv4Net> = Vec::new();
        let mut esp: Vec<Proposal> = Vec::new();
        let mut any_esp = false;
        for e in &entries {
            for n in &e.local {
                if !local.contains(n) {
                    local.push(*n);
                }
            }
            for n in &e.remote {
                if !remote.contains(n) {
                    remote.push(*n);
                }
            }
            if let Some(list) = &e.proposals {
                any_esp = true;
                for p in list {
                    if !esp.contains(p) {
                        esp.push(p.clone());
                    }
                }
            }
        }
        let mut child = Child::new(&base, local, remote, if any_esp { esp } else { Vec::new() });
        // pfSense merges each phase 2's child settings into one: the last one with a Life Time
        // sets the timers.
        timers(&mut child, entries.iter().rev().find_map(|e| e.timers));
        child.dpd_action = Some(dpd);
        child.start_action = Some(StartAction::None);
        let last_start = entries.last().map(|e| e.start.clone()).unwrap_or_default();
        report.used(
            format!("child {base}"),
            None,
            format!(
                "{} without Split connections: one child for {} phase 2 entr{}: {}; dpd_action {}{dpd_note}; {}",
                ike.version.name(),
                entries.len(),
                if entries.len() == 1 { "y" } else { "ies" },
                child.selectors(),
                dpd.keyword(),
                start_note(&last_start)
            ),
        );
        out.children.push(child);
    }
    for e in entries {
        let child = if ike.version == IkeVersion::V1 || ike.split { format!("{base}_{}", e.reqid) } else { base.clone() };
        if e.mode == Mode::Tunnel {
            for n in &e.remote {
                if n.prefix_len() > 0 && !out.remote_networks.contains(n) {
                    out.remote_networks.push(*n);
                }
            }
        }
        out.phase2.push(Phase2Info {
            reqid: e.reqid.clone(),
            uniqid: e.uniqid,
            descr: e.descr,
            vti: e.mode == Mode::Vti,
            child,
            local: e.local,
            remote: e.remote,
        });
    }
    // VTI interfaces: one per VTI phase 2 (IKEv1 or split), else one named by the first phase 2.
    out.vti = vti_interfaces(ike, phase2, first_reqid.as_deref());
    out
}

fn vti_interfaces(ike: &Ike, phase2: &[&Phase2], first_reqid: Option<&str>) -> Vec<Vti> {
    let mut out: Vec<Vti> = Vec::new();
    for p2 in phase2.iter().filter(|p| !p.disabled && !p.mobile && p.el.text_of("mode") == Some("vti")) {
        let Some((local, remote)) = vti_addresses(&p2.el) else { continue };
        let reqid = p2.reqid.clone().unwrap_or_default();
        let interface = if ike.version == IkeVersion::V1 || ike.split { format!("ipsec{reqid}") } else { format!("ipsec{}", first_reqid.unwrap_or(&reqid)) };
        out.push(Vti { interface, reqid, local, remote });
    }
    out
}

/// The local tunnel address with its prefix and the remote one, from a VTI phase 2.
pub(super) fn vti_addresses(el: &Element) -> Option<(Ipv4Net, Ipv4Addr)> {
    let local = el.child("localid")?;
    let remote = el.child("remoteid")?;
    let addr: Ipv4Addr = local.value_of("address")?.parse().ok()?;
    let prefix = match local.value_of("type") {
        Some("network") => local.value_of("netbits")?.parse().ok()?,
        _ => 30,
    };
    Some((Ipv4Net::new(addr, prefix).ok()?, remote.value_of("address")?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_follow_ipsec_inc() {
        let p1 = |lifetime, rekey, reauth, rand, v1: bool| Timers { lifetime, rekey, reauth, rand, phase1: true, ikev1_literal: v1 };
        // New-entry defaults: IKEv2 28800 s life, rekey 25920, no reauth, over 2880.
        let t = p1(28800, None, None, None, false);
        assert_eq!((t.life(), t.rekey(), t.reauth(), t.over(), t.rand()), (28800, 25920, 0, Some(2880), Some(2880)));
        // IKEv1: reauth at 90 %.
        let t = p1(28800, None, None, None, true);
        assert_eq!((t.reauth(), t.over()), (25920, Some(2880)));
        // Nothing set: 14400 rekey, life 16000.
        let t = p1(0, None, None, None, false);
        assert_eq!((t.life(), t.rekey(), t.over()), (16000, 14400, Some(1600)));
        // Explicit rekey and rand.
        let t = p1(28800, Some(20000), None, Some(100), false);
        assert_eq!((t.rekey(), t.over(), t.rand()), (20000, Some(8800), Some(100)));
        // Rekey 0 (off) and no reauth: over is 10 % of life.
        let t = p1(3600, Some(0), None, None, false);
        assert_eq!((t.rekey(), t.over()), (0, Some(360)));
        // Only rekey set: life = rekey / 0.9.
        let t = p1(0, Some(9000), None, None, false);
        assert_eq!((t.life(), t.over()), (10000, Some(1000)));
        // A renewal after the end of life.
        assert_eq!(p1(3600, Some(4000), None, None, false).over(), None);
        // Phase 2 defaults: 3600 life, rekey 3240, rand 360.
        let t = Timers { lifetime: 3600, ..Timers::default() };
        assert_eq!((t.rekey(), t.life(), t.rand()), (3240, 3600, Some(360)));
    }

    #[test]
    fn ninety_percent_truncates_like_php() {
        assert_eq!(ninety_percent(28800), 25920);
        assert_eq!(ninety_percent(3600), 3240);
        assert_eq!(ninety_percent(1001), 900);
        assert_eq!(ninety_percent(27000), 24300);
    }
}
