//! Phase 2 causes: selectors refused by a side that matches them exactly, ESP proposals that do
//! not meet, and PFS at a rekey, decided by the side that started the failing exchange and that
//! exchange's offer against the other side's accept list.

use super::sides::Sides;
use super::{CauseId, Finding, Side};
use crate::device::{Remedy, Symptom, Vocabulary};
use crate::evidence::alert::AlertKind;
use crate::evidence::event::{Notify, What};
use crate::evidence::sa::ChildState;
use crate::evidence::Evidence;
use crate::ike::dh::DhGroup;
use crate::ike::intent::{Child, Connection, SelectorMatch};
use crate::ike::proposal::{Proposal, ProposalKind};

/// charon's CHILD SA rekey time when a child sets none (1 h, real time).
const DEFAULT_CHILD_REKEY_S: u64 = 3600;

/// Whether a responder with `accept` takes something of `offer`.
pub(super) fn accepts(offer: &[Proposal], accept: &[Proposal]) -> bool {
    offer.iter().any(|o| accept.iter().any(|a| o.agrees_with(a, ProposalKind::Esp)))
}

/// The key exchange a side puts into a CREATE_CHILD_SA it starts: the group of the first
/// proposal with a key exchange transform (`none` counts: it means no PFS), as charon does
/// (5.9.8 `child_cfg.c` get_dh_group; ARCHITECTURE.md).
pub(super) fn rekey_group(esp: &[Proposal]) -> Option<DhGroup> {
    esp.iter().find(|p| !p.ke.is_empty()).and_then(|p| p.ke[0].group())
}

/// What a side offers in a rekey it starts: the proposals that carry its rekey group (or, with
/// no group, the proposals without one).
fn rekey_offer(esp: &[Proposal]) -> Vec<Proposal> {
    match rekey_group(esp) {
        Some(g) => esp.iter().filter(|p| p.dh_groups().contains(&g)).cloned().collect(),
        None => esp.iter().filter(|p| p.allows_no_pfs()).map(Proposal::without_ke).collect(),
    }
}

/// The group to advise among those a side accepts: group 14 or an elliptic curve before the
/// legacy groups 1 and 2 that tables like Azure's Default policy also list.
fn advisable(groups: &[DhGroup]) -> Option<DhGroup> {
    const PREFERRED: [DhGroup; 6] = [DhGroup::Modp2048, DhGroup::Ecp256, DhGroup::Ecp384, DhGroup::Modp2048s256, DhGroup::Modp1024, DhGroup::Modp768];
    PREFERRED.iter().copied().find(|g| groups.contains(g)).or_else(|| groups.first().copied())
}

fn pfs_words(g: Option<DhGroup>) -> String {
    match g {
        Some(g) => format!("PFS {g}"),
        None => "no PFS".to_string(),
    }
}

/// The selector pairs of a child, as sets, seen from the other side when `mirrored`.
fn pair(child: &Child, mirrored: bool) -> (Vec<ipnet::Ipv4Net>, Vec<ipnet::Ipv4Net>) {
    let (mut l, mut r) = if mirrored { (child.remote_ts.clone(), child.local_ts.clone()) } else { (child.local_ts.clone(), child.remote_ts.clone()) };
    l.sort();
    r.sort();
    (l, r)
}

/// Whether the CHILD SA is installed on both sides at the end of the run.
fn child_up_at_end(s: &Sides, e: &Evidence) -> bool {
    let up = |node: &str| {
        e.after.get(node).is_some_and(|sas| sas.iter().any(|sa| sa.is_established() && sa.children.iter().any(|c| c.state == ChildState::Installed)))
    };
    up(&s.dut_node.name) && up(&s.gw_node.name)
}

pub(super) fn phase2(s: &Sides, e: &Evidence) -> Vec<Finding> {
    let npc = e.child_refusals();
    let ts = e.alerts(&[AlertKind::TsMismatch]);
    let step_refused = e.rekeys.iter().any(|r| !r.success);
    if (npc.is_empty() && ts.is_empty()) || (child_up_at_end(s, e) && !step_refused) {
        // Nothing refused, or the tunnel came up after all (Azure's fallback offer). A rekey a
        // step started and the peer refused is a finding even while the old CHILD SA lives on.
        return Vec::new();
    }
    let evidence = [npc.clone(), ts.clone()].concat().join(", ");
    let child_was_up = e.events.iter().any(|ev| ev.what.child_up());
    if !child_was_up {
        if let Some(f) = selectors_refused(s, &evidence, !ts.is_empty()) {
            return vec![f];
        }
        return vec![first_proposal(s, &evidence)];
    }
    vec![rekey_refused(s, e, &evidence)]
}

/// The first CHILD SA refused for its selectors: the responder matches exactly and the
/// initiator's pair is not one of its own (or the peer sent TS_UNACCEPTABLE).
fn selectors_refused(s: &Sides, evidence: &str, ts_alert: bool) -> Option<Finding> {
    let fw_child = s.fw_child?;
    let (gw_first, gw_conn): (&Child, &Connection) = (s.gw_conn.children.first()?, s.gw_conn);
    if s.azure_initiates {
        // Azure proposed its selectors; the firewall answers.
        let offered = pair(gw_first, true);
        let fw_own = s.fw_conn.children.iter().map(|c| pair(c, false)).any(|p| p == offered);
        if !(ts_alert || (s.fw_conn.selector_match == SelectorMatch::Exact && !fw_own)) {
            return None;
        }
        let tried: Vec<String> = gw_conn.children.iter().map(Child::selectors).collect();
        return Some(
            Finding::new(
                CauseId::SelectorMismatch,
                format!(
                    "Azure proposes {} and the firewall accepts only a proposal equal to its own proxy-ID {} (exact match), so it refuses with NO_PROPOSAL_CHOSEN",
                    tried.join(", then "),
                    fw_child.selectors()
                ),
                Side::Firewall,
                evidence.to_string(),
            )
            .firewall(Remedy::Selectors { local: gw_first.remote_ts.clone(), remote: gw_first.local_ts.clone() })
            .azure(Remedy::Selectors { local: fw_child.remote_ts.clone(), remote: fw_child.local_ts.clone() })
            .symptom(Symptom::SelectorsRefused),
        );
    }
    // The firewall proposed; Azure answers.
    let proposed = pair(fw_child, true);
    let matches = gw_conn.children.iter().map(|c| pair(c, false)).any(|p| p == proposed);
    if !(ts_alert || (gw_conn.selector_match == SelectorMatch::Exact && !matches)) {
        return None;
    }
    Some(
        Finding::new(
            CauseId::SelectorMismatch,
            format!(
                "the firewall proposes the proxy-ID {}; Azure accepts {}; so Phase 2 is refused while Phase 1 stays up",
                fw_child.selectors(),
                s.az.selectors_accepted,
            ),
            Side::Firewall,
            evidence.to_string(),
        )
        .firewall(Remedy::Selectors { local: gw_first.remote_ts.clone(), remote: gw_first.local_ts.clone() })
        .azure(Remedy::Selectors { local: fw_child.remote_ts.clone(), remote: fw_child.local_ts.clone() })
        .symptom(Symptom::SelectorsRefused),
    )
}

/// The first CHILD SA refused for its proposals: what the initiator offered against what the
/// responder accepts.
fn first_proposal(s: &Sides, evidence: &str) -> Finding {
    let fw = s.fw_esp();
    let cause = if s.azure_initiates {
        format!("Azure offers {} in Phase 2 and the firewall accepts {}", s.site.proposals(&s.az.esp_offered), s.dut.proposals(fw))
    } else {
        format!("the firewall offers {} in Phase 2 and Azure accepts {}", s.dut.proposals(fw), s.site.proposals(&s.az.esp_accepted))
    };
    Finding::new(CauseId::EspProposalMismatch, cause, Side::Either, evidence.to_string())
        .firewall(Remedy::EspProposals(s.az.esp_accepted.clone()))
        .azure(Remedy::EspProposals(fw.iter().filter(|p| !p.is_defaults()).cloned().collect()))
        .symptom(Symptom::Phase2NoProposal)
}

/// A CHILD SA that was up and fell at a rekey. The side that did not raise the refusal started
/// the exchange (or, without that evidence, the side whose rekey timer fires first); its offer
/// in that exchange carries its rekey group, and the other side's list decides.
fn rekey_refused(s: &Sides, e: &Evidence, evidence: &str) -> Finding {
    let fw_esp = s.fw_esp();
    let gw_child = s.gw_conn.children.first();
    let gw_esp: &[Proposal] = gw_child.map(|c| c.esp_proposals.as_slice()).unwrap_or_default();
    let fw_rekey = s.fw_child.and_then(|c| c.rekey_time_s).unwrap_or(DEFAULT_CHILD_REKEY_S);
    let gw_rekey = gw_child.and_then(|c| c.rekey_time_s).unwrap_or(DEFAULT_CHILD_REKEY_S);
    // A rekey a step started names its side; otherwise the responder raises the alert and the
    // initiator receives the notify.
    let by_step = e.rekeys.iter().find(|r| !r.success).map(|r| r.node == s.gw_node.name);
    let started_by = by_step.or_else(|| {
        e.events.iter().find_map(|ev| match &ev.what {
            What::Alert { kind: AlertKind::ProposalMismatchChild, .. } if ev.node == s.dut_node.name => Some(true),
            What::Alert { kind: AlertKind::ProposalMismatchChild, .. } if ev.node == s.gw_node.name => Some(false),
            What::Notify { notify: Notify::NoProposalChosen } if ev.node == s.gw_node.name => Some(true),
            What::Notify { notify: Notify::NoProposalChosen } if ev.node == s.dut_node.name => Some(false),
            _ => None,
        })
    });
    let azure_started = started_by.unwrap_or(gw_rekey < fw_rekey);
    let policy = match &s.site.connection.policy {
        Some(p) => format!("its custom IPsec/IKE policy (pfsGroup {})", p.pfs_group.azure_name()),
        None => "the Default policy".to_string(),
    };
    // Who rekeys first is decided in real time, as the run ran; people read lab seconds. An unset
    // rekey time is charon's default, which the lab's clock does not compress.
    let (fw_lab, gw_lab) = s.lab_rekey_times();
    let scale = |real: u64| (real as f64 * s.lab.time_scale).round() as u64;
    let (fw_at, gw_at) = (fw_lab.unwrap_or_else(|| scale(fw_rekey)), gw_lab.unwrap_or_else(|| scale(gw_rekey)));
    let fw_groups: Vec<DhGroup> = crate::ike::proposal::groups_in(fw_esp);
    let groups = |g: &[DhGroup]| g.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    let fw_requires_pfs = !fw_esp.is_empty() && fw_esp.iter().all(|p| p.has_pfs() && !p.allows_no_pfs());
    // Who starts the exchange on its own clock, or that a step started it now.
    let (az_when, fw_when) = match by_step {
        Some(_) => (
            format!("When Azure rekeys (a step started it here; on their own clocks Azure renews its CHILD SA after {gw_at} s, the firewall after {fw_at} s)"),
            format!("when the firewall rekeys (a step started it here; on their own clocks the firewall renews after {fw_at} s, Azure after {gw_at} s)"),
        ),
        None => (
            format!("Azure starts the first Phase 2 rekey (its CHILD SA is renewed after {gw_at} s, the firewall's after {fw_at} s)"),
            format!("the firewall starts the first Phase 2 rekey (after {fw_at} s, Azure's after {gw_at} s)"),
        ),
    };
    let outcome = if by_step.is_some() { "the rekey is refused (the old CHILD SA lives on until it expires)" } else { "the CHILD SA expires" };
    if azure_started {
        let group = rekey_group(gw_esp);
        let offer = rekey_offer(gw_esp);
        let would_accept_fw = accepts(&rekey_offer(fw_esp), gw_esp);
        let cause = match group {
            None if fw_requires_pfs => format!(
                "{az_when} and, with {policy}, offers no PFS; the firewall requires PFS ({}) and refuses it (NO_PROPOSAL_CHOSEN), so {outcome}. Had the firewall started the rekey, Azure would have {} its PFS proposal",
                groups(&fw_groups),
                if would_accept_fw { "accepted" } else { "refused" }
            ),
            _ => format!(
                "{az_when} with {} ({}), and the firewall accepts {}; {outcome}",
                pfs_words(group),
                s.site.proposals(&offer),
                s.dut.proposals(fw_esp)
            ),
        };
        let f = Finding::new(
            CauseId::PfsMismatch,
            cause,
            Side::Either,
            format!("{evidence} after the CHILD SA was up; Azure started the rekey (its CHILD rekey at {gw_at} s, the firewall's at {fw_at} s)"),
        );
        let f = match group {
            None => f.firewall(Remedy::ChildLifetimeBelow(gw_at)).firewall(Remedy::PfsGroup(None)).azure(Remedy::PfsGroup(fw_groups.first().copied())),
            Some(g) => f.firewall(Remedy::PfsGroup(Some(g))).azure(Remedy::PfsGroup(None)),
        };
        return f.symptom(Symptom::RekeyRefused);
    }
    let group = rekey_group(fw_esp);
    let offer = rekey_offer(fw_esp);
    let az_groups: Vec<DhGroup> = crate::ike::proposal::groups_in(gw_esp);
    let cause =
        format!("{fw_when} with {} ({}), and Azure, with {policy}, accepts {}; {outcome}", pfs_words(group), s.dut.proposals(&offer), s.site.proposals(gw_esp));
    let firewall_fix = match advisable(&az_groups) {
        Some(g) if !gw_esp.iter().any(Proposal::allows_no_pfs) => Remedy::PfsGroup(Some(g)),
        Some(g) if group.is_some() => Remedy::PfsGroup(Some(g)),
        _ => Remedy::PfsGroup(None),
    };
    Finding::new(
        CauseId::PfsMismatch,
        cause,
        Side::Either,
        format!("{evidence} after the CHILD SA was up; the firewall started the rekey (its CHILD rekey at {fw_at} s comes first)"),
    )
    .firewall(firewall_fix)
    .azure(Remedy::PfsGroup(group))
    .symptom(Symptom::RekeyRefused)
}
