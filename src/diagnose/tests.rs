//! Unit tests of the diagnosis from typed evidence (no daemons): each cause from the alerts,
//! events, SAs and pings a run would have gathered, over the shipped labs with one edit. The
//! real runs of the same causes are the shipped scenarios (tests/it/scenarios.rs).

use std::path::Path;

use super::*;
use crate::evidence::alert::AlertKind;
use crate::evidence::event::{Change, Event, Notify, What};
use crate::evidence::sa::{ChildState, IkeSa, IkeState};
use crate::evidence::PingResult;

const PALOALTO: &str = "azure-strongswan";
const PFSENSE: &str = "azure-pfsense-home";

/// A shipped lab with edits (each must apply, so a test never checks the unedited lab), read
/// from its own folder so that the files it names (a device's configuration) are found.
fn lab(name: &str, edits: &[(&str, &str)]) -> Lab {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("labs").join(name).join("lab.yaml");
    let mut t = std::fs::read_to_string(&file).unwrap();
    for (from, to) in edits {
        assert!(t.contains(from), "edit target not in the lab: {from}");
        t = t.replacen(from, to, 1);
    }
    crate::model::parse(&file, &t).unwrap_or_else(|e| panic!("{e}"))
}

fn event(node: &str, what: What) -> Event {
    Event { at_ms: 0.0, node: node.into(), what }
}

fn alert(node: &str, kind: AlertKind) -> Event {
    event(node, What::Alert { kind, message: String::new(), connection: String::new(), peer: String::new() })
}

fn ike_up(node: &str) -> Event {
    event(node, What::Ike { change: Change::Up, sa: "c".into(), state: IkeState::Established })
}

fn child_up(node: &str) -> Event {
    event(node, What::Child { change: Change::Up, sa: "c".into(), child: "ch".into(), state: ChildState::Installed, local_ts: vec![], remote_ts: vec![] })
}

fn ping(from: &str, to: &str, success: bool) -> PingResult {
    PingResult { from: from.into(), to: to.into(), source: None, size: None, df: false, success, attempts: 1, output: "100% packet loss".into() }
}

/// Evidence of a tunnel that is up on both IPsec nodes.
fn tunnel_up(lab: &Lab) -> Evidence {
    let mut e = Evidence::default();
    for n in lab.ipsec_nodes() {
        e.after.insert(n.name.clone(), vec![IkeSa::example(Some("ch"), 0)]);
        e.events.push(ike_up(&n.name));
        e.events.push(child_up(&n.name));
    }
    e
}

fn only(found: Vec<Diagnosis>) -> Diagnosis {
    assert_eq!(found.len(), 1, "{found:#?}");
    found.into_iter().next().unwrap()
}

const POLICY_BASED: (&str, &str) = ("vpnType: RouteBased\n        sku: VpnGw2AZ", "vpnType: PolicyBased\n        sku: Basic");
const IKEV1_CONNECTION: (&str, &str) = ("connectionProtocol: IKEv2", "connectionProtocol: IKEv1");
const DEFAULT_POLICY: (&str, &str) = (
    "        ipsecPolicies:\n          - saLifeTimeSeconds: 27000\n            saDataSizeKilobytes: 102400000\n            ipsecEncryption: AES256\n            ipsecIntegrity: SHA256\n            ikeEncryption: AES256\n            ikeIntegrity: SHA256\n            dhGroup: DHGroup14\n            pfsGroup: None\n",
    "",
);

#[test]
fn catalogue_ids_are_unique_and_round_trip() {
    let mut ids: Vec<&str> = CauseId::all().map(CauseId::as_str).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), CAUSES.len());
    for c in CauseId::all() {
        assert_eq!(CauseId::parse(c.as_str()), Some(c));
    }
    assert_eq!(CauseId::parse("no-such-cause"), None);
}

#[test]
fn a_healthy_run_has_no_cause() {
    let l = lab(PALOALTO, &[]);
    let mut e = tunnel_up(&l);
    e.pings = vec![ping("lan-pc", "10.20.0.4", true), ping("azure-vm", "10.10.0.5", true)];
    assert!(diagnose(&l, &e).is_empty());
}

#[test]
fn the_other_ike_version_ignored_by_a_policy_based_gateway() {
    let l = lab(PALOALTO, &[POLICY_BASED, IKEV1_CONNECTION, DEFAULT_POLICY]);
    let e = Evidence { events: vec![alert("firewall", AlertKind::RetransmitSendTimeout)], ..Evidence::default() };
    let found = diagnose(&l, &e);
    let ids: Vec<CauseId> = found.iter().map(|d| d.id).collect();
    assert_eq!(ids, [CauseId::IkeVersionMismatch, CauseId::PolicyBasedGateway]);
    assert!(found[0].cause.contains("the firewall speaks IKEv2 and the Azure connection IKEv1 only"), "{}", found[0].cause);
    assert!(found[0].firewall.starts_with("swanctl.conf connections.azure-ike-gw.version = 1 (IKEv1)"), "{}", found[0].firewall);
    assert!(found[0].firewall.contains("Log: charon: retransmit 5"), "the device's own log line: {}", found[0].firewall);
    assert!(found[0].azure.contains("IKE Protocol: IKEv2 (ARM connectionProtocol"), "{}", found[0].azure);
    assert_eq!(found[0].check[0], "strongSwan: swanctl --list-sas (bytes in/out per CHILD SA), swanctl --log");
}

#[test]
fn dh_groups_that_do_not_overlap_in_each_vocabulary() {
    let l = lab(PALOALTO, &[DEFAULT_POLICY]);
    let e = Evidence { events: vec![alert("azure-gw", AlertKind::ProposalMismatchIke)], ..Evidence::default() };
    let d = only(diagnose(&l, &e));
    assert_eq!(d.id, CauseId::IkeProposalMismatch);
    assert!(d.cause.starts_with("the firewall offers aes256-sha256-modp2048 and Azure accepts aes256-sha1-modp1024"), "{}", d.cause);
    assert!(d.cause.ends_with("the DH groups do not overlap (DH group 14 vs DH group 2)"), "{}", d.cause);
    assert!(d.firewall.starts_with("swanctl.conf connections.azure-ike-gw.proposals: add one the peer accepts, e.g. aes256-sha1-modp1024"), "{}", d.firewall);
    assert!(d.azure.contains("IKE encryption AES256, IKE integrity SHA256, DH group DHGroup14"), "Azure's own names: {}", d.azure);
    assert!(
        d.azure.contains("CLI: az network vpn-connection ipsec-policy add -g <rg> --connection-name VNet-to-PaloAlto --ike-encryption AES256 --ike-integrity SHA256 --dh-group DHGroup14"),
        "the az command beside the portal field: {}",
        d.azure
    );
    assert_eq!(d.change, Side::Either);
}

#[test]
fn a_key_with_a_trailing_space_and_a_different_key() {
    let l = lab(PALOALTO, &[("secret: \"S2sVpnAzure!Psk#2026\"", "secret: \"S2sVpnAzure!Psk#2026 \"")]);
    let e = Evidence { events: vec![alert("firewall", AlertKind::LocalAuthFailed)], ..Evidence::default() };
    let d = only(diagnose(&l, &e));
    assert_eq!((d.id, d.change), (CauseId::PskWhitespace, Side::Firewall));
    assert!(d.firewall.contains("type the key again by hand"), "{}", d.firewall);
    assert!(!format!("{d:?}").contains("S2sVpnAzure"), "a key in a diagnosis");

    // IKEv1: the responder cannot decrypt the identity; that is the only evidence.
    let l = lab(
        PALOALTO,
        &[POLICY_BASED, IKEV1_CONNECTION, DEFAULT_POLICY, ("secret: \"S2sVpnAzure!Psk#2026\"", "secret: \"another-key\""), ("version: 2", "version: 1")],
    );
    let e = Evidence { events: vec![alert("azure-gw", AlertKind::ParseErrorBody)], ..Evidence::default() };
    let d = only(diagnose(&l, &e));
    assert_eq!(d.id, CauseId::PskMismatch);
    assert!(d.evidence.contains("the peer's ID payload could not be decrypted"), "{}", d.evidence);
}

#[test]
fn an_exact_responder_refuses_selectors_either_way() {
    // The teaching model: Azure matches 0/0 exactly and the firewall proposes a narrower pair.
    let narrowed = ("local_ts: [0.0.0.0/0]\n              remote_ts: [0.0.0.0/0]", "local_ts: [10.10.0.0/16]\n              remote_ts: [10.20.0.0/16]");
    let l = lab(PALOALTO, &[narrowed, ("    azure:\n", "    azure:\n      model: { narrowedTrafficSelectors: reject }\n")]);
    let mut e = Evidence { events: vec![ike_up("firewall"), ike_up("azure-gw"), alert("azure-gw", AlertKind::ProposalMismatchChild)], ..Evidence::default() };
    let d = only(diagnose(&l, &e));
    assert_eq!((d.id, d.change), (CauseId::SelectorMismatch, Side::Firewall));
    assert!(d.cause.starts_with("the firewall proposes the proxy-ID 10.10.0.0/16 === 10.20.0.0/16; Azure accepts only 0.0.0.0/0"), "{}", d.cause);
    assert!(d.firewall.contains("local_ts = 0.0.0.0/0, remote_ts = 0.0.0.0/0"), "{}", d.firewall);

    // Azure initiates a policy-based pair towards a firewall whose proxy-ID differs and which
    // matches exactly: the firewall refuses, and receives nothing; Azure gets the notify.
    let l = lab(
        PALOALTO,
        &[
            POLICY_BASED,
            IKEV1_CONNECTION,
            DEFAULT_POLICY,
            ("version: 2", "version: 1"),
            ("local_ts: [0.0.0.0/0]\n              remote_ts: [0.0.0.0/0]", "local_ts: [10.10.0.0/16]\n              remote_ts: [10.20.1.0/24]"),
            ("    kind: dut\n", "    kind: dut\n    exact_proxy_id: true\n"),
            ("  initiator: firewall", "  initiator: azure-gw"),
        ],
    );
    e.events = vec![ike_up("firewall"), ike_up("azure-gw"), event("azure-gw", What::Notify { notify: Notify::NoProposalChosen })];
    let d = only(diagnose(&l, &e));
    assert_eq!(d.id, CauseId::SelectorMismatch);
    assert!(
        d.cause.starts_with(
            "Azure proposes 10.20.0.0/16 === 10.10.0.0/16 and the firewall accepts only a proposal equal to its own proxy-ID 10.10.0.0/16 === 10.20.1.0/24"
        ),
        "{}",
        d.cause
    );
    assert!(d.firewall.contains("local_ts = 10.10.0.0/16, remote_ts = 10.20.0.0/16"), "{}", d.firewall);
}

#[test]
fn a_fallback_that_came_up_is_no_cause() {
    let l = lab(
        PALOALTO,
        &[
            ("local_ts: [0.0.0.0/0]\n              remote_ts: [0.0.0.0/0]", "local_ts: [10.10.0.0/16]\n              remote_ts: [10.20.0.0/16]"),
            ("    kind: dut\n", "    kind: dut\n    exact_proxy_id: true\n"),
            ("  initiator: firewall", "  initiator: azure-gw"),
        ],
    );
    let mut e = tunnel_up(&l);
    e.events.push(alert("firewall", AlertKind::ProposalMismatchChild));
    e.events.push(event("azure-gw", What::Fallback { child: "VNet-to-PaloAlto-fallback".into() }));
    assert!(diagnose(&l, &e).is_empty());
}

/// PFS at rekey: the side that started the failing exchange is read from the evidence, and its
/// offer is compared with the other side's accept list.
#[test]
fn pfs_at_rekey_names_who_started_it() {
    let pfs = ("esp_proposals: [aes256-sha256]", "esp_proposals: [aes256-sha256-modp1024]");
    let l = lab(PALOALTO, &[DEFAULT_POLICY, pfs, ("proposals: [aes256-sha256-modp2048]", "proposals: [aes256-sha256-modp1024]")]);
    // Azure started it: the firewall refused (its alert), Azure offered no PFS.
    let mut e = Evidence { events: vec![ike_up("firewall"), child_up("firewall"), alert("firewall", AlertKind::ProposalMismatchChild)], ..Evidence::default() };
    let d = only(diagnose(&l, &e));
    assert_eq!(d.id, CauseId::PfsMismatch);
    assert!(d.cause.starts_with("Azure starts the first Phase 2 rekey (its CHILD SA is renewed after 24300 s, the firewall's after 3600 s) and, with the Default policy, offers no PFS; the firewall requires PFS (DH group 2)"), "{}", d.cause);
    assert!(d.cause.ends_with("Azure would have accepted its PFS proposal"), "the responder table has aes256-sha256-modp1024: {}", d.cause);
    assert!(d.firewall.contains("rekey_time below 24300s"), "{}", d.firewall);
    assert!(d.azure.contains("PFS Group PFS2"), "{}", d.azure);
    // The same refusal when a step made Azure rekey at once, while the CHILD SA lives on.
    let steps = Evidence {
        rekeys: vec![crate::evidence::RekeyOutcome { node: "azure-gw".into(), child: "c".into(), success: false, detail: "refused".into() }],
        after: [("firewall".to_string(), vec![IkeSa::example(Some("c"), 0)]), ("azure-gw".to_string(), vec![IkeSa::example(Some("c"), 0)])].into(),
        ..e.clone()
    };
    let d = only(diagnose(&l, &steps));
    assert!(d.cause.starts_with("When Azure rekeys (a step started it here; on their own clocks Azure renews its CHILD SA after 24300 s"), "{}", d.cause);
    assert!(d.cause.contains("so the rekey is refused (the old CHILD SA lives on until it expires)"), "{}", d.cause);

    // The firewall started it (Azure refused) with a group Azure's table does not have.
    let l = lab(PALOALTO, &[DEFAULT_POLICY, ("esp_proposals: [aes256-sha256]", "esp_proposals: [aes256-sha256-ecp384]")]);
    e.events = vec![ike_up("firewall"), child_up("firewall"), alert("azure-gw", AlertKind::ProposalMismatchChild)];
    let d = only(diagnose(&l, &e));
    assert_eq!(d.id, CauseId::PfsMismatch);
    assert!(
        d.cause.starts_with("the firewall starts the first Phase 2 rekey (after 3600 s, Azure's after 24300 s) with PFS DH group 20 (aes256-sha256-ecp384), and Azure, with the Default policy, accepts aes256gcm16-none"),
        "{}",
        d.cause
    );
    assert!(d.firewall.contains("with PFS DH group 14, e.g. aes256-sha256-modp2048"), "the strongest group Azure accepts: {}", d.firewall);
}

#[test]
fn a_first_child_refused_for_its_proposal() {
    let l = lab(PALOALTO, &[("esp_proposals: [aes256-sha256]", "esp_proposals: [aes128gcm16]")]);
    let e = Evidence { events: vec![ike_up("firewall"), ike_up("azure-gw"), alert("azure-gw", AlertKind::ProposalMismatchChild)], ..Evidence::default() };
    let d = only(diagnose(&l, &e));
    assert_eq!(d.id, CauseId::EspProposalMismatch);
    assert_eq!(d.cause, "the firewall offers aes128gcm16 in Phase 2 and Azure accepts aes256-sha256");
    assert!(d.azure.contains("IPsec encryption GCMAES128, IPsec integrity GCMAES128, PFS group None"), "{}", d.azure);
}

#[test]
fn routes_missing_there_and_back() {
    // No route into the tunnel on the firewall: the way there.
    let l =
        lab(PALOALTO, &[("    routes:\n      # PAN-OS: static route to-azure-vnet 10.20.0.0/16 -> tunnel.1\n      - { to: 10.20.0.0/16, via: tunnel }\n", "")]);
    let mut e = tunnel_up(&l);
    e.pings = vec![ping("lan-pc", "10.20.0.4", false)];
    let d = only(diagnose(&l, &e));
    assert_eq!((d.id, d.change), (CauseId::MissingRoute, Side::Firewall));
    assert!(d.firewall.contains("a route for 10.20.0.0/16 into the tunnel"), "{}", d.firewall);
    // The local network gateway lacks the LAN: the way back, on Azure.
    let l = lab(PALOALTO, &[("addressPrefixes: [10.10.0.0/16]", "addressPrefixes: [10.11.0.0/16]")]);
    let mut e = tunnel_up(&l);
    e.pings = vec![ping("lan-pc", "10.20.0.4", false)];
    let d = only(diagnose(&l, &e));
    assert_eq!((d.id, d.change), (CauseId::MissingRoute, Side::Azure));
    assert!(d.cause.contains("azure-gw has no route back to 10.10.0.5"), "{}", d.cause);
    assert!(d.azure.contains("Local network gateway lng-paloalto-hq → Configuration → Address space: add 10.10.0.0/16"), "{}", d.azure);
}

#[test]
fn no_pass_rule_for_traffic_from_the_tunnel() {
    // The pfSense without its IPsec-tab rule: its own deny rule drops the flow, and the fix is in
    // pfSense's words.
    let l = lab(PFSENSE, &[("config: dut/config.xml", "config: dut/config-no-ipsec-rules.xml")]);
    let mut e = tunnel_up(&l);
    e.pings = vec![ping("azure-vm", "192.168.10.10", false)];
    let d = only(diagnose(&l, &e));
    assert_eq!(d.id, CauseId::MissingFirewallRule);
    assert!(d.cause.contains("the firewall's policy drops it (its rule `Default deny rule IPv4`)"), "{}", d.cause);
    assert!(d.firewall.starts_with("Firewall > Rules > IPsec > Add: Action Pass"), "{}", d.firewall);
    assert!(d.firewall.contains("Source: Network 10.30.0.0/16, Destination: Network 192.168.10.0/24"), "{}", d.firewall);
    // The lab file's shorthand on a strongSwan device: its own words.
    let l = lab(PALOALTO, &[("    routes:\n", "    tunnel_rules:\n      - { from: 10.21.0.0/16, to: 10.10.0.0/16 }\n    routes:\n")]);
    let mut e = tunnel_up(&l);
    e.pings = vec![ping("azure-vm", "10.10.0.5", false)];
    let d = only(diagnose(&l, &e));
    assert_eq!(d.id, CauseId::MissingFirewallRule);
    assert!(d.cause.contains("(its rule `no pass rule for traffic from the tunnel`)"), "{}", d.cause);
    assert!(d.firewall.contains("tunnel_rules: `- { from: 10.20.0.0/16, to: 10.10.0.0/16 }`"), "{}", d.firewall);
}

#[test]
fn packets_too_large_for_the_tunnel() {
    let l = lab(PALOALTO, &[]);
    let mut e = tunnel_up(&l);
    e.pings =
        vec![PingResult { size: Some(1400), df: true, output: "ping: local error: message too long, mtu=1400".into(), ..ping("lan-pc", "10.20.0.4", false) }];
    let d = only(diagnose(&l, &e));
    assert_eq!(d.id, CauseId::Mtu);
    assert!(d.cause.starts_with("a 1428-byte DF packet does not fit the tunnel"), "{}", d.cause);
}

#[test]
fn nobody_answers() {
    // InitiatorOnly Azure drops the firewall's IKE_SA_INIT.
    let l = lab(PALOALTO, &[("connectionMode: Default", "connectionMode: InitiatorOnly")]);
    let e = Evidence { events: vec![alert("firewall", AlertKind::RetransmitSendTimeout)], ..Evidence::default() };
    let d = only(diagnose(&l, &e));
    assert_eq!((d.id, d.change), (CauseId::NobodyCanInitiate, Side::Azure));
    assert!(d.azure.contains("Connection mode: Default or ResponderOnly"), "{}", d.azure);
    assert!(d.network.as_deref().is_some_and(|n| n.contains("forward UDP 500 and 4500")), "{:?}", d.network);
    // IKE_SA_INIT answered, IKE_AUTH (message 1) retransmitted: UDP 4500 is dropped.
    let l = lab(PALOALTO, &[]);
    let e = Evidence {
        events: vec![
            alert("firewall", AlertKind::RetransmitSendTimeout),
            event("firewall", What::ControlLog { line: "retransmit 1 of request with message ID 1".into(), retransmit: Some(1) }),
        ],
        ..Evidence::default()
    };
    let d = only(diagnose(&l, &e));
    assert_eq!((d.id, d.change), (CauseId::NatTBlocked, Side::Network));
}

#[test]
fn a_dead_peer_and_a_moved_peer() {
    let l = lab(PALOALTO, &[]);
    let e = Evidence {
        killed: vec!["firewall".into()],
        events: vec![event("azure-gw", What::Ike { change: Change::Down, sa: "c".into(), state: IkeState::Deleting })],
        ..Evidence::default()
    };
    let d = only(diagnose(&l, &e));
    assert_eq!(d.id, CauseId::PeerDead);
    assert!(d.cause.contains("after its DPD timeout (45 s)"), "{}", d.cause);
    assert!(d.azure.contains("DPD timeout in seconds"), "{}", d.azure);

    let l = lab(PFSENSE, &[]);
    let (_, site, _) = l.azure_gateway().unwrap();
    let old = ipnet::Ipv4Net::new(site.local_gateway.gateway_ip, 24).unwrap();
    let e = Evidence { address_changes: vec![("fritzbox".into(), "wan".into(), old, "203.0.113.60/24".parse().unwrap())], ..Evidence::default() };
    let d = only(diagnose(&l, &e));
    assert_eq!(d.id, CauseId::PeerAddressChanged);
    assert!(d.firewall.starts_with("Services > Dynamic DNS: the client for home.example.com on the WAN must update it to 203.0.113.60"), "{}", d.firewall);
}
