//! Phase 1 causes: nobody answered (the other IKE version ignored, a mode that forbids the
//! initiator, no port forward, NAT-T blocked), proposals refused, authentication failed.

use super::sides::Sides;
use super::{CauseId, Finding, Side};
use crate::device::azure::VpnType;
use crate::device::{Device, Remedy, Symptom, Vocabulary};
use crate::evidence::alert::AlertKind;
use crate::evidence::event::What;
use crate::evidence::Evidence;
use crate::ike::intent::{IkeVersion, Initiation};
use crate::ike::proposal::{groups_in, Proposal};
use crate::model::NodeKind;

/// IKE versions the two sides cannot agree on.
fn versions_differ(s: &Sides) -> bool {
    !s.fw_conn.version.compatible(s.gw_conn.version)
}

fn version_mismatch(s: &Sides, evidence: &[String], silent: bool) -> Finding {
    let cause = if silent {
        format!(
            "the firewall speaks {} and the Azure connection {} only; Azure ignores the other version, so the firewall retransmits IKE_SA_INIT and gives up with no useful error",
            s.fw_conn.version.name(),
            s.gw_conn.version.name()
        )
    } else {
        format!("the firewall speaks {} and the Azure connection {}", s.fw_conn.version.name(), s.gw_conn.version.name())
    };
    Finding::new(CauseId::IkeVersionMismatch, cause, Side::Either, evidence.join(", "))
        .firewall(Remedy::IkeVersion(s.gw_conn.version))
        .azure(Remedy::IkeVersion(if s.fw_conn.version == IkeVersion::Any { IkeVersion::V2 } else { s.fw_conn.version }))
        .symptom(if silent { Symptom::PeerNotResponding } else { Symptom::Phase1NoProposal })
}

/// Both ends waiting: nobody was told to initiate, no device starts on its own, and no IKE SA
/// exists anywhere (no IKE packet was ever sent).
pub(super) fn nobody_starts(s: &Sides, e: &Evidence) -> Vec<Finding> {
    if s.lab.plan.initiating_node().is_some() || e.initiated.is_some() || e.after.values().flatten().next().is_some() {
        return Vec::new();
    }
    let azure_waits = s.gw.initiation == Initiation::ResponderOnly || !s.site.starts_unprompted();
    let mode = s.site.connection.mode.azure_name();
    let azure_side =
        if azure_waits { format!("the Azure connection is {mode} and never initiates") } else { format!("the Azure connection ({mode}) would initiate") };
    let fw_side = if s.dut.initiation().may_initiate() {
        format!("{} only initiates when told or when traffic arrives, not on its own", s.dut_node.name)
    } else {
        format!("{} is set never to initiate (responder only)", s.dut_node.name)
    };
    vec![Finding::new(
        CauseId::NobodyCanInitiate,
        format!("both ends are waiting: {azure_side}, and {fw_side}; no IKE packet was sent"),
        Side::Either,
        e.steps.iter().find(|l| l.starts_with("nobody")).cloned().unwrap_or_else(|| "no IKE SA on any node".into()),
    )
    .firewall(Remedy::AllowInitiation)
    .azure(Remedy::AllowInitiation)
    .symptom(Symptom::NothingSent)]
}

/// Phase 1 never answered: no IKE SA came up and the initiator timed out.
pub(super) fn unanswered(s: &Sides, e: &Evidence) -> Vec<Finding> {
    let timeout = e.alerts(&[AlertKind::PeerInitUnreachable, AlertKind::RetransmitSendTimeout]);
    let ike_up = e.after.values().flatten().any(|sa| sa.is_established()) || e.events.iter().any(|ev| ev.what.ike_up());
    if timeout.is_empty() || ike_up {
        return Vec::new();
    }
    let nat = s.lab.nodes.iter().find_map(|n| match &n.kind {
        NodeKind::NatRouter(nat) => Some(nat),
        _ => None,
    });
    let ike_auth_lost = e.events.iter().any(|ev| matches!(ev.what, What::ControlLog { retransmit: Some(1), .. }));
    let evidence = timeout.join(", ");
    let mut out = Vec::new();
    if versions_differ(s) {
        out.push(version_mismatch(s, &timeout, true));
        if s.site.gateway.vpn_type == VpnType::PolicyBased {
            out.push(
                Finding::new(
                    CauseId::PolicyBasedGateway,
                    "the Azure gateway is PolicyBased: IKEv1 only, static routing, one tunnel; its VPN type cannot be changed, only the gateway deleted and re-created as RouteBased (the portal's default since October 2023)".into(),
                    Side::Azure,
                    format!("vpnType {}", s.site.gateway.vpn_type.azure_name()),
                )
                .firewall(Remedy::IkeVersion(IkeVersion::V1))
                .azure(Remedy::IkeVersion(IkeVersion::V2)),
            );
        }
    } else if !s.azure_initiates && s.gw.initiation == Initiation::InitiatorOnly {
        out.push(
            Finding::new(
                CauseId::NobodyCanInitiate,
                "the Azure connection is InitiatorOnly and drops the firewall's IKE_SA_INIT silently; only Azure may start the tunnel".into(),
                Side::Azure,
                evidence,
            )
            .azure(Remedy::AllowResponding)
            .network("let Azure initiate: forward UDP 500 and 4500 on the home/branch router to the firewall")
            .symptom(Symptom::PeerNotResponding),
        );
    } else if s.azure_initiates && nat.is_some_and(|n| !n.port_forwards.iter().any(|pf| pf.port == 500)) {
        out.push(
            Finding::new(
                CauseId::NobodyCanInitiate,
                "Azure initiates towards the branch's public address, but the NAT router in front of the firewall has no port forward, so nothing answers"
                    .into(),
                Side::Network,
                evidence,
            )
            .firewall(Remedy::AllowInitiation)
            .azure(Remedy::AllowResponding)
            .network("forward UDP 500 and 4500 on the home/branch router to the firewall, or let the firewall initiate (it sits behind NAT)"),
        );
    } else if ike_auth_lost || nat.is_some_and(|n| n.drops.iter().any(|d| d.dport == Some(4500) || d.sport == Some(4500))) {
        out.push(
            Finding::new(
                CauseId::NatTBlocked,
                "IKE_SA_INIT crossed on UDP 500, but IKE_AUTH on UDP 4500 (NAT-T) never arrived: something between the sites drops UDP 4500".into(),
                Side::Network,
                evidence,
            )
            .firewall(Remedy::NatTraversal)
            .azure(Remedy::NatTraversal)
            .network("allow UDP 4500 both ways on every router and filter between the firewall and Azure")
            .symptom(Symptom::PeerNotResponding),
        );
    }
    out
}

/// Phase 1 refused with NO_PROPOSAL_CHOSEN: versions or proposals.
pub(super) fn refused(s: &Sides, e: &Evidence) -> Vec<Finding> {
    let npc = e.alerts(&[AlertKind::ProposalMismatchIke]);
    if npc.is_empty() {
        return Vec::new();
    }
    if versions_differ(s) {
        return vec![version_mismatch(s, &npc, false)];
    }
    let fw = &s.fw_conn.proposals;
    let az = &s.az.ike_proposals;
    let dh = |list: &[Proposal]| groups_in(list).iter().map(ToString::to_string).collect::<Vec<_>>();
    let (fw_dh, az_dh) = (dh(fw), dh(az));
    let dh_note = if !fw.is_empty() && fw_dh.iter().all(|g| !az_dh.contains(g)) {
        format!(": the DH groups do not overlap ({} vs {})", fw_dh.join(", "), az_dh.join(", "))
    } else {
        String::new()
    };
    // What the firewall would have to offer: Azure's list. What Azure would have to set: the
    // firewall's first proposal, if Azure has a custom policy for it.
    vec![Finding::new(
        CauseId::IkeProposalMismatch,
        format!("the firewall offers {} and Azure accepts {}{dh_note}", s.dut.proposals(fw), s.site.proposals(az)),
        Side::Either,
        npc.join(", "),
    )
    .firewall(Remedy::IkeProposals(az.clone()))
    .azure(Remedy::IkeProposals(fw.iter().filter(|p| !p.is_defaults()).cloned().collect()))
    .symptom(Symptom::Phase1NoProposal)]
}

/// Authentication failed: the keys differ, or differ only by whitespace.
pub(super) fn authentication(s: &Sides, e: &Evidence) -> Vec<Finding> {
    let mut auth = e.alerts(&[AlertKind::LocalAuthFailed, AlertKind::PeerAuthFailed]);
    // IKEv1 Main Mode encrypts the identity with a key derived from the PSK: with different
    // keys the responder cannot decrypt message 5 and reports a parse error (lab, measured),
    // while the initiator only sees its retransmits time out.
    let undecryptable = e.ikev1_undecryptable(s.fw.runs_ikev1() || s.gw.runs_ikev1());
    if auth.is_empty() && !undecryptable.is_empty() {
        auth = undecryptable.iter().map(|a| format!("{a} (IKEv1 Main Mode: the peer's ID payload could not be decrypted)")).collect();
    }
    if auth.is_empty() {
        return Vec::new();
    }
    let fw_key = s.fw.secrets.first().map(|k| k.secret.as_str()).unwrap_or("");
    let az_key = s.site.connection.shared_key.as_str();
    let finding = if fw_key != az_key && fw_key.trim() == az_key.trim() {
        Finding::new(
            CauseId::PskWhitespace,
            "the two pre-shared keys are the same except for whitespace at one end: the key was copied with a trailing space or newline".into(),
            Side::Firewall,
            auth.join(", "),
        )
        .firewall(Remedy::RetypePresharedKey)
        .azure(Remedy::RetypePresharedKey)
    } else {
        Finding::new(CauseId::PskMismatch, "the pre-shared keys differ".into(), Side::Either, auth.join(", "))
            .firewall(Remedy::SamePresharedKey)
            .azure(Remedy::SamePresharedKey)
    };
    vec![finding.symptom(Symptom::AuthenticationFailed)]
}
