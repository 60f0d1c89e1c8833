//! The pfSense device against realistic config.xml files (tests/fixtures/pfsense/): the
//! shipped lab's config, seed 003's VTI shape, tunnel mode with two phase 2 entries (merged,
//! split, IKEv1), lifetimes, disabled entries, an old backup, 20 tunnels, and broken files.
//! Outcomes are asserted (timers in seconds, proposals, children and selectors, forward
//! decisions, errors with line and element), and the import report and the rendered intent are
//! snapshots.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::*;
use crate::device::{ImportStatus, Remedy, Symptom, Vocabulary};
use crate::evidence::sa::{ChildState, IkeSa, IkeState};
use crate::ike::dh::DhGroup;
use crate::ike::intent::{Action, DpdAction, IkeVersion, Port, StartAction};
use crate::ike::proposal::{Proposal, ProposalKind};

const REAL_TIME: RunContext = RunContext { starts_first: true, time_scale: 1.0 };

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/pfsense/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn lab(ifaces: &[(&str, &str)]) -> Vec<(String, Ipv4Net)> {
    ifaces.iter().map(|(n, a)| (n.to_string(), a.parse().unwrap())).collect()
}

fn load_text(text: &str, select: Option<&str>, ifaces: &[(String, Ipv4Net)]) -> Result<PfsenseDevice, Vec<DeviceError>> {
    let source = DeviceSource { file: std::path::Path::new("config.xml"), text, select, psk: None, interfaces: ifaces, choices: &[] };
    load(&source)
}

fn load_fixture(name: &str, select: Option<&str>, ifaces: &[(&str, &str)]) -> PfsenseDevice {
    load_text(&fixture(name), select, &lab(ifaces)).unwrap_or_else(|e| panic!("{name}: {e:#?}"))
}

fn broken(name: &str) -> (String, Vec<DeviceError>) {
    let text = fixture(&format!("broken/{name}"));
    let errors = load_text(&text, None, &lab(&[("wan", "203.0.113.70/24"), ("lan", "192.168.70.1/24")])).expect_err(name);
    (text, errors)
}

/// The 1-based line of the first line holding `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("`{needle}` not in the fixture")) + 1
}

fn net(s: &str) -> Ipv4Net {
    s.parse().unwrap()
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn esp(list: &[&str]) -> Vec<Proposal> {
    list.iter().map(|p| Proposal::parse(p, ProposalKind::Esp).unwrap()).collect()
}

fn notation(list: &[Proposal]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

/// The intent as the driver sends it, secrets redacted.
fn rendered(intent: &IpsecIntent) -> String {
    let mut out = String::new();
    for (cmd, msg) in crate::strongswan::config::messages(intent) {
        out.push_str(&format!("# {cmd}\n{}\n", crate::strongswan::config::redacted(&msg).to_json()));
    }
    out
}

fn entry<'a>(d: &'a PfsenseDevice, element: &str) -> &'a ImportStatus {
    &d.import_report().and_then(|r| r.entries.iter().find(|e| e.element == element)).unwrap_or_else(|| panic!("no report entry {element}")).status
}

fn ignored_why(d: &PfsenseDevice, element: &str) -> String {
    match entry(d, element) {
        ImportStatus::Ignored { why } => why.clone(),
        other => panic!("{element} is not ignored: {other:?}"),
    }
}

fn used_value(d: &PfsenseDevice, element: &str) -> String {
    match entry(d, element) {
        ImportStatus::Used { value } => value.clone(),
        other => panic!("{element} is not used: {other:?}"),
    }
}

/// Everything a person may read of a device: no key in any of it.
fn assert_no_key(d: &PfsenseDevice, key: &str) {
    let intent = d.intent(REAL_TIME);
    let texts = [
        format!("{d:?}"),
        serde_json::to_string(d.import_report().unwrap()).unwrap(),
        d.summary(&intent).join("\n"),
        d.notes().join("\n"),
        rendered(&intent),
        d.remedy(&Remedy::SamePresharedKey),
        d.check(),
    ];
    for t in texts {
        assert!(!t.contains(key), "the key leaked: {t}");
    }
}

const HOME: &[(&str, &str)] = &[("lan", "192.168.10.1/24"), ("wan", "192.168.178.10/24")];
const BRANCH: &[(&str, &str)] = &[("wan", "203.0.113.10/24"), ("lan", "192.168.10.1/24"), ("dmz", "192.168.20.1/24")];

#[test]
fn the_shipped_labs_config_is_the_lab_file_s_tunnel() {
    let d = load_fixture("azure-pfsense-home.xml", None, HOME);
    let intent = d.intent(REAL_TIME);
    let c = &intent.connections[0];
    assert_eq!((c.name.as_str(), c.version), ("con1", IkeVersion::V2));
    assert_eq!((c.local_addrs.clone(), c.remote_addrs.clone()), (vec!["192.168.178.10".to_string()], vec!["198.51.100.30".to_string()]));
    assert_eq!(notation(&c.proposals), ["aes256-sha256-modp1024"]);
    assert_eq!(c.proposals[0].dh_groups(), [DhGroup::Modp1024], "Azure's Default policy: DH group 2");
    assert_eq!((c.local.id.as_deref(), c.remote.id.as_deref()), (Some("203.0.113.50"), Some("198.51.100.30")));
    assert_eq!((c.dpd_delay_s, c.dpd_timeout_s), (Some(10), None), "IKEv2: no DPD timeout, charon retransmits");
    assert_eq!((c.rekey_time_s, c.reauth_time_s, c.over_time_s), (Some(25920), Some(0), Some(2880)));
    assert_eq!((c.encap, c.mobike), (Some(false), Some(false)));
    let ch = &c.children[0];
    assert_eq!(c.children.len(), 1);
    assert_eq!((ch.name.as_str(), ch.selectors()), ("con1", "192.168.10.0/24 === 10.30.0.0/16".to_string()));
    assert_eq!(ch.esp_proposals, esp(&["aes256-sha256"]), "no PFS");
    assert_eq!((ch.rekey_time_s, ch.life_time_s, ch.rand_time_s), (Some(3240), Some(3600), Some(360)));
    assert_eq!((ch.dpd_action, ch.start_action), (Some(DpdAction::Restart), Some(StartAction::None)));
    assert_eq!(intent.secrets[0].ids, ["%any", "198.51.100.30"]);
    assert_eq!(intent.secrets[0].secret, "H0me!Lab#Psk2026");
    assert_eq!(d.initiation(), crate::ike::intent::Initiation::Either);
    assert_eq!(d.tunnel_routes(), [net("10.30.0.0/16")]);
    assert_eq!(
        d.site(),
        SiteHints {
            local_address: Some(net("192.168.178.10/24")),
            local_id: Some("203.0.113.50".into()),
            peer_address: Some(ip("198.51.100.30")),
            inside: vec![net("192.168.10.1/24")],
        }
    );
    let policy = intent.forward.as_ref().unwrap();
    let lan = Port::Interface("lan".into());
    let wan = Port::Interface("wan".into());
    assert_eq!(policy.decide(&Port::Tunnel, &lan, ip("10.30.0.4"), ip("192.168.10.10")), (Some("IPsec: Azure VNet to LAN"), Action::Accept));
    assert_eq!(policy.decide(&Port::Tunnel, &wan, ip("10.30.0.4"), ip("192.168.178.1")), (Some("Default deny rule IPv4"), Action::Drop));
    assert_eq!(policy.decide(&lan, &Port::Tunnel, ip("192.168.10.10"), ip("10.30.0.4")), (Some("LAN: Default allow LAN to any rule"), Action::Accept));
    assert_eq!(policy.decide(&wan, &lan, ip("192.168.178.1"), ip("192.168.10.10")), (Some("Default deny rule IPv4"), Action::Drop));
    assert!(used_value(&d, "ipsec/phase1[ikeid=1]/pre-shared-key").contains("never shown"));
    assert!(ignored_why(&d, "filter/rule[2]").contains("IPv4 only"), "the default IPv6 LAN rule");
    assert_no_key(&d, "H0me!Lab#Psk2026");
    insta::assert_json_snapshot!("home_import_report", d.import_report());
    insta::assert_snapshot!("home_intent", rendered(&intent));
}

#[test]
fn seed_003_route_based_vti_with_a_static_route() {
    // The WAN is DHCP in config.xml: the lab's address is the one used.
    let d = load_fixture("seed003-vti.xml", None, HOME);
    let intent = d.intent(REAL_TIME);
    let c = &intent.connections[0];
    assert_eq!(c.local_addrs, ["192.168.178.10"]);
    assert_eq!(notation(&c.proposals), ["aes256-sha256-modp2048"]);
    let ch = &c.children[0];
    assert!(ch.is_any_to_any(), "a VTI child offers 0.0.0.0/0 both ways: {}", ch.selectors());
    assert_eq!(ch.esp_proposals, esp(&["aes256gcm16-modp2048", "aes256-sha256-modp2048"]), "GCM first, PFS 14 on each");
    assert_eq!((ch.rekey_time_s, ch.life_time_s, ch.rand_time_s), (Some(24300), Some(27000), Some(2700)));
    assert_eq!(ch.dpd_action, Some(DpdAction::Restart), "VTI turns trap into restart");
    assert_eq!(ch.start_action, Some(StartAction::None), "the run plan initiates");
    assert_eq!(d.pfsense_start, "start");
    assert_eq!(d.tunnel_routes(), [net("10.30.0.0/16")], "only the static route whose gateway is the VTI's");
    assert_eq!(d.vti, [Vti { interface: "ipsec1".into(), reqid: "1".into(), local: net("10.30.255.29/30"), remote: ip("10.30.255.30") }]);
    assert!(used_value(&d, "ipsec/phase2[reqid=1]/localid").contains("transit network 10.30.255.28/30"));
    assert!(used_value(&d, "staticroutes/route[1]").contains("IPSecVTI_VTIV4"));
    assert!(ignored_why(&d, "staticroutes/route[2]").contains("not into the tunnel"));
    // The FRR package's BGP: AS 65010 to Azure's 65515 over the VTI, multihop, and no route map
    // or prefix filter on the neighbor, so FRR's ebgp-requires-policy lets nothing through.
    let bgp = d.bgp().expect("FRR's BGP is enabled");
    assert_eq!((bgp.asn, bgp.addresses.clone()), (65010, vec![(crate::bgp::AddressOn::Tunnel, net("10.30.255.29/30"))]));
    let n = &bgp.neighbors[0];
    assert_eq!((n.address, n.remote_asn, n.ebgp_multihop), (ip("10.30.255.30"), 65515, Some(2)));
    assert!(!bgp.exchanges(n, true) && !bgp.exchanges(n, false), "no policy on an eBGP neighbor under ebgp-requires-policy");
    assert!(used_value(&d, "installedpackages/frrbgpneighbors/config[1]").contains("no policy in"));
    assert!(ignored_why(&d, "installedpackages/frr/config/password").contains("vty password"));
    assert!(used_value(&d, "interfaces/opt1").contains("assigned VTI ipsec1"));
    assert!(used_value(&d, "interfaces/wan").contains("config.xml says dhcp"));
    assert_eq!(d.site().local_address, None, "a DHCP WAN has no address in the file");
    assert_eq!(d.site().local_id.as_deref(), Some("203.0.113.50"), "behind NAT: the identity is not the address");
    assert_eq!(d.site().inside, [net("192.168.10.1/24")]);
    let policy = intent.forward.as_ref().unwrap();
    let decided = policy.decide(&Port::Tunnel, &Port::Interface("lan".into()), ip("10.30.0.4"), ip("192.168.10.10"));
    assert_eq!(decided, (Some("IPsec: Allow all IPv4 between home and Azure"), Action::Accept));
    assert!(d.summary(&intent).iter().any(|l| l.contains("VTI ipsec1: 10.30.255.29/30 <-> 10.30.255.30")));
    assert_no_key(&d, "Seed003-VtiKey!");
    insta::assert_json_snapshot!("seed003_import_report", d.import_report());
    insta::assert_snapshot!("seed003_intent", rendered(&intent));
}

#[test]
fn ikev2_merges_two_phase2_entries_into_one_child() {
    let d = load_fixture("tunnel-ikev2-two-p2.xml", None, BRANCH);
    let intent = d.intent(REAL_TIME);
    let c = &intent.connections[0];
    assert_eq!(c.name, "con2");
    assert_eq!(notation(&c.proposals), ["aes256gcm16-prfsha384-ecp384", "aes256-sha256-prfsha256-modp2048"], "PRF selection on; GCM keeps only its PRF");
    assert_eq!((c.encap, c.mobike), (Some(true), Some(true)), "NAT-T force, MOBIKE on");
    assert_eq!((c.rekey_time_s, c.reauth_time_s, c.over_time_s), (Some(25000), Some(0), Some(3800)));
    assert_eq!((c.dpd_delay_s, c.dpd_timeout_s), (Some(10), None));
    assert_eq!(c.local.id.as_deref(), Some("203.0.113.10"), "My IP address");
    assert_eq!(intent.secrets[0].secret, "Branch-2-Azure-Key", "pfSense trims the key");
    assert_eq!(c.children.len(), 1);
    let ch = &c.children[0];
    assert_eq!(ch.name, "con2");
    assert_eq!(ch.local_ts, [net("192.168.10.0/24"), net("192.168.20.0/24")], "lan and opt1 resolved from <interfaces>");
    assert_eq!(ch.remote_ts, [net("10.30.0.0/16"), net("10.31.0.0/16")]);
    assert_eq!(
        notation(&ch.esp_proposals),
        [
            "aes128gcm16-modp2048",
            "aes256-sha256-modp2048",
            "aes256-sha1-modp2048",
            "aes192-sha256-modp2048",
            "aes192-sha1-modp2048",
            "aes128-sha256-modp2048",
            "aes128-sha1-modp2048"
        ],
        "GCM first, auto key lengths high to low, every hash; the second entry's proposal is already there"
    );
    assert_eq!((ch.rekey_time_s, ch.life_time_s, ch.rand_time_s), (Some(6480), Some(7200), Some(720)), "the last entry's timers win");
    assert_eq!(ch.dpd_action, Some(DpdAction::Restart), "close action Restart");
    assert_eq!(d.tunnel_routes(), [net("10.30.0.0/16"), net("10.31.0.0/16")]);

    let policy = intent.forward.as_ref().unwrap();
    let lan = Port::Interface("lan".into());
    let dmz = Port::Interface("dmz".into());
    let t = &Port::Tunnel;
    assert_eq!(policy.decide(t, &lan, ip("10.30.0.4"), ip("192.168.10.10")), (Some("IPsec: VNets to LAN"), Action::Accept));
    assert_eq!(policy.decide(t, &lan, ip("10.31.5.9"), ip("192.168.10.10")), (Some("IPsec: Quarantine subnet stays out of the LAN"), Action::Drop));
    assert_eq!(policy.decide(t, &dmz, ip("10.31.1.1"), ip("192.168.20.5")), (Some("IPsec: Spoke may ping the DMZ"), Action::Accept));
    assert_eq!(policy.decide(t, &dmz, ip("10.30.0.4"), ip("192.168.20.5")), (Some("Default deny rule IPv4"), Action::Drop));
    assert_eq!(policy.decide(&lan, t, ip("192.168.10.10"), ip("10.30.0.4")), (Some("LAN: Default allow LAN to any rule"), Action::Accept));
    assert_eq!(policy.decide(&dmz, t, ip("192.168.20.5"), ip("10.31.0.4")), (Some("Default deny rule IPv4"), Action::Drop), "no rule on the DMZ tab");

    assert!(ignored_why(&d, "filter/rule[2]").contains("protocol tcp"));
    assert!(ignored_why(&d, "filter/rule[6]").contains("disabled"));
    assert!(ignored_why(&d, "filter/rule[7]").contains("host name nas.corp.example"));
    assert!(ignored_why(&d, "filter/rule[8]").contains("inverted"));
    assert!(ignored_why(&d, "filter/rule[10]").contains("floating"));
    assert!(used_value(&d, "filter/rule[5]").contains("ICMP only"));
    assert!(used_value(&d, "aliases/alias[name=Azure_Nets]").contains("10.30.0.0/16 10.31.0.0/16"));
    assert!(ignored_why(&d, "aliases/alias[name=Web_Ports]").contains("not named"));
    assert!(ignored_why(&d, "ipsec/phase1[ikeid=2]/ikeport").contains("remote IKE port"));
    assert!(ignored_why(&d, "ipsec/phase2[reqid=3]/pinghost").contains("ping"));
    assert!(used_value(&d, "ipsec/phase1[ikeid=2]/pre-shared-key").contains("trims"));
    assert!(used_value(&d, "system/webgui/noantilockout").contains("anti-lockout"));
    assert_no_key(&d, "Branch-2-Azure-Key");
    insta::assert_json_snapshot!("ikev2_two_p2_import_report", d.import_report());
    insta::assert_snapshot!("ikev2_two_p2_intent", rendered(&intent));
}

#[test]
fn split_connections_give_one_child_per_phase2() {
    let d = load_fixture("tunnel-ikev2-splitconn.xml", None, BRANCH);
    let intent = d.intent(REAL_TIME);
    let children = &intent.connections[0].children;
    let names: Vec<&str> = children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["con2_3", "con2_4"]);
    assert_eq!(children[0].selectors(), "192.168.10.0/24 === 10.30.0.0/16");
    assert_eq!(children[1].selectors(), "192.168.20.0/24 === 10.31.0.0/16");
    assert_eq!(children[0].esp_proposals.len(), 7, "its own proposals only");
    assert_eq!(children[1].esp_proposals, esp(&["aes256-sha256-modp2048"]));
    assert_eq!((children[0].rekey_time_s, children[0].life_time_s, children[0].rand_time_s), (Some(3000), Some(3600), Some(120)));
    assert_eq!((children[1].rekey_time_s, children[1].life_time_s, children[1].rand_time_s), (Some(6480), Some(7200), Some(720)));
    assert!(used_value(&d, "ipsec/phase1[ikeid=2]/splitconn").contains("one child per phase 2"));
    insta::assert_snapshot!("splitconn_intent", rendered(&intent));
}

#[test]
fn an_empty_iketype_is_ikev1_with_pfsenses_own_defaults() {
    let d = load_fixture("tunnel-ikev1-empty-iketype.xml", None, BRANCH);
    let intent = d.intent(REAL_TIME);
    let c = &intent.connections[0];
    assert_eq!(c.version, IkeVersion::V1);
    assert_eq!(c.rekey_time_s, None, "IKEv1 has no IKE rekey");
    // ipsec.inc's 90 % reauth and its DPD timeout apply to a literal `ikev1` only.
    assert_eq!((c.reauth_time_s, c.over_time_s), (Some(0), Some(2880)));
    assert_eq!((c.dpd_delay_s, c.dpd_timeout_s), (Some(10), None));
    let names: Vec<&str> = c.children.iter().map(|ch| ch.name.as_str()).collect();
    assert_eq!(names, ["con2_3", "con2_4"], "IKEv1: one child per phase 2");
    assert!(used_value(&d, "ipsec/phase1[ikeid=2]/iketype").starts_with("empty: IKEv1"));
    assert!(used_value(&d, "ipsec/phase1[ikeid=2]/mode").contains("Main Mode"));
    let ImportStatus::Defaulted { source, .. } = entry(&d, "ipsec/phase1[ikeid=2]/reauth_time") else { panic!("reauth_time is derived") };
    assert!(source.contains("never reauthenticated"), "{source}");
    insta::assert_snapshot!("ikev1_intent", rendered(&intent));
}

#[test]
fn lifetimes_follow_pfsenses_arithmetic() {
    let text = fixture("lifetimes.xml");
    let ifaces = lab(&[("wan", "203.0.113.20/24"), ("lan", "192.168.30.1/24")]);
    // (ikeid, version, IKE rekey, reauth, over, DPD timeout, child rekey, life, rand)
    type Row = (&'static str, IkeVersion, Option<u64>, u64, u64, Option<u64>, Option<u64>, Option<u64>, Option<u64>);
    let rows: [Row; 7] = [
        ("1", IkeVersion::V2, Some(25920), 0, 2880, None, Some(3240), Some(3600), Some(360)),
        ("2", IkeVersion::V2, Some(20000), 26000, 2800, None, Some(3000), Some(3600), Some(60)),
        ("3", IkeVersion::V1, None, 25920, 2880, Some(40), None, None, None),
        ("4", IkeVersion::V2, Some(14400), 0, 1600, None, None, None, None),
        ("5", IkeVersion::V2, Some(28260), 0, 540, None, Some(3240), Some(3600), Some(360)),
        ("6", IkeVersion::V2, Some(0), 0, 360, None, Some(1620), Some(1800), Some(180)),
        ("7", IkeVersion::Any, Some(25920), 0, 2880, None, Some(24300), Some(27000), Some(2700)),
    ];
    for (ikeid, version, rekey, reauth, over, dpd_timeout, ch_rekey, ch_life, ch_rand) in rows {
        let d = load_text(&text, Some(ikeid), &ifaces).unwrap_or_else(|e| panic!("ikeid {ikeid}: {e:?}"));
        let c = &d.intent(REAL_TIME).connections[0];
        assert_eq!(c.version, version, "ikeid {ikeid}");
        assert_eq!((c.rekey_time_s, c.reauth_time_s, c.over_time_s, c.dpd_timeout_s), (rekey, Some(reauth), Some(over), dpd_timeout), "ikeid {ikeid}");
        let ch = &c.children[0];
        assert_eq!((ch.rekey_time_s, ch.life_time_s, ch.rand_time_s), (ch_rekey, ch_life, ch_rand), "ikeid {ikeid}");
    }
    let nothing = load_text(&text, Some("4"), &ifaces).unwrap();
    let ImportStatus::Defaulted { value, .. } = entry(&nothing, "ipsec/phase1[ikeid=4]/lifetime") else { panic!("derived") };
    assert_eq!(value, "16000 s");
    assert!(ignored_why(&nothing, "ipsec/phase2[reqid=4]/rekey_time").contains("only with a Life Time"));
    let explicit = load_text(&text, Some("2"), &ifaces).unwrap();
    assert!(ignored_why(&explicit, "ipsec/phase1[ikeid=2]/rand_time").contains("500"), "the intent has no IKE rand_time");
    let legacy = load_text(&text, Some("5"), &ifaces).unwrap();
    assert!(used_value(&legacy, "ipsec/phase1[ikeid=5]/margintime").contains("before 21.3"));
}

#[test]
fn a_compressed_clock_compresses_every_timer_but_off_stays_off() {
    let text = fixture("lifetimes.xml");
    let ifaces = lab(&[("wan", "203.0.113.20/24"), ("lan", "192.168.30.1/24")]);
    let fast = RunContext { starts_first: true, time_scale: 60.0 };
    let d = load_text(&text, Some("1"), &ifaces).unwrap();
    let c = &d.intent(fast).connections[0];
    assert_eq!((c.rekey_time_s, c.reauth_time_s, c.over_time_s), (Some(432), Some(0), Some(48)));
    assert_eq!((c.children[0].rekey_time_s, c.children[0].life_time_s, c.children[0].rand_time_s), (Some(54), Some(60), Some(6)));
    // A phase 2 without Life Time: charon's defaults, made explicit and compressed.
    let d = load_text(&text, Some("3"), &ifaces).unwrap();
    let ch = &d.intent(fast).connections[0].children[0];
    assert_eq!((ch.rekey_time_s, ch.life_time_s, ch.rand_time_s), (Some(60), Some(66), Some(6)));
}

#[test]
fn twenty_tunnels_need_a_choice() {
    let text = fixture("twenty-tunnels.xml");
    let ifaces = lab(&[("wan", "203.0.113.2/24"), ("lan", "10.0.0.1/16"), ("dmz", "172.16.0.1/24")]);
    let errors = load_text(&text, None, &ifaces).expect_err("20 enabled phase 1 entries");
    assert_eq!(errors[0].element, "ipsec/phase1");
    assert_eq!(errors[0].message, "config.xml has 20 enabled phase 1 entries");
    let hint = errors[0].hint.clone().unwrap();
    assert!(hint.contains("ikeid 1 (\"Branch 01\")") && hint.contains("ikeid 20 (\"Branch 20\")"), "{hint}");
    let errors = load_text(&text, Some("21"), &ifaces).expect_err("no ikeid 21");
    assert_eq!(errors[0].message, "no phase 1 has ikeid 21");

    // How long this takes is measured by `vpnlab bench --import`, never asserted here.
    let d = load_text(&text, Some("17"), &ifaces).unwrap();
    let intent = d.intent(REAL_TIME);
    let c = &intent.connections[0];
    assert_eq!((c.name.as_str(), c.remote_addrs.clone()), ("con17", vec!["198.51.100.117".to_string()]));
    assert_eq!(c.children[0].selectors(), "10.0.0.0/16,172.16.0.0/24 === 10.117.0.0/17,10.117.128.0/17");
    assert_eq!(d.tunnel_routes(), [net("10.117.0.0/17"), net("10.117.128.0/17")]);
    let report = d.import_report().unwrap();
    let others = report
        .entries
        .iter()
        .filter(|e| e.element.starts_with("ipsec/phase1[") && !e.element.contains("ikeid=17") && matches!(e.status, ImportStatus::Ignored { .. }));
    assert_eq!(others.count(), 19);
    let other_p2 = report
        .entries
        .iter()
        .filter(|e| e.element.starts_with("ipsec/phase2[") && matches!(&e.status, ImportStatus::Ignored { why } if why.contains("not imported")));
    assert_eq!(other_p2.count(), 38);
    let policy = intent.forward.as_ref().unwrap();
    assert_eq!(
        policy.decide(&Port::Tunnel, &Port::Interface("lan".into()), ip("10.117.1.1"), ip("10.0.5.5")),
        (Some("IPsec: Branch 17 to LAN"), Action::Accept)
    );
}

#[test]
fn disabled_and_unusable_entries_are_reported_not_dropped() {
    let ifaces = lab(&[("wan", "203.0.113.30/24"), ("lan", "192.168.40.1/24")]);
    let text = fixture("disabled-entries.xml");
    let d = load_text(&text, None, &ifaces).unwrap();
    assert_eq!(d.ikeid, "3", "the only enabled site-to-site phase 1");
    let c = &d.intent(REAL_TIME).connections[0];
    assert_eq!(c.children.len(), 1);
    assert_eq!(c.children[0].selectors(), "192.168.40.0/24 === 10.40.0.0/16");
    assert!(ignored_why(&d, "ipsec/phase1[ikeid=1]").contains("disabled"));
    assert!(ignored_why(&d, "ipsec/phase1[ikeid=2]").contains("mobile-client"));
    assert!(ignored_why(&d, "ipsec/phase2[reqid=5]").contains("disabled"));
    assert!(ignored_why(&d, "ipsec/phase2[reqid=7]").contains("transport"));
    assert!(ignored_why(&d, "ipsec/phase2[reqid=8]").contains("IPv4 only"));
    assert!(ignored_why(&d, "ipsec/phase2[reqid=9]").contains("no <mode>"));
    assert!(ignored_why(&d, "ipsec/phase2[reqid=10]").contains("no phase 1 has"));
    assert!(ignored_why(&d, "ipsec/phase2[reqid=1]").contains("not imported"));
    assert!(ignored_why(&d, "ipsec/mobilekey").contains("mobile-client"));
    assert!(ignored_why(&d, "ipsec/uniqueids").contains("unique-ID"));
    assert!(ignored_why(&d, "filter/rule[2]").contains("disabled"));
    // With its only IPsec rule disabled, nothing from the tunnel passes.
    let policy = d.intent(REAL_TIME).forward.unwrap();
    assert_eq!(
        policy.decide(&Port::Tunnel, &Port::Interface("lan".into()), ip("10.40.0.4"), ip("192.168.40.10")),
        (Some("Default deny rule IPv4"), Action::Drop)
    );
    let errors = load_text(&text, Some("1"), &ifaces).expect_err("disabled");
    assert!(errors[0].message.contains("ikeid 1 is disabled"), "{}", errors[0].message);
    let errors = load_text(&text, Some("2"), &ifaces).expect_err("mobile");
    assert!(errors[0].message.contains("mobile-client"), "{}", errors[0].message);
    insta::assert_json_snapshot!("disabled_import_report", d.import_report());
}

#[test]
fn an_old_backup_is_read_as_pfsenses_upgrade_converts_it() {
    let ifaces = lab(&[("wan", "203.0.113.60/24"), ("lan", "192.168.60.1/24")]);
    let d = load_text(&fixture("legacy-2017.xml"), None, &ifaces).unwrap();
    let intent = d.intent(REAL_TIME);
    let c = &intent.connections[0];
    assert_eq!(c.version, IkeVersion::V1);
    assert_eq!(notation(&c.proposals), ["aes256-sha1-modp1024"], "the flat pre-17.5 proposal");
    // margintime 540: reauth = lifetime - margin, rand = margin (upgrade 21.2 -> 21.3).
    assert_eq!((c.rekey_time_s, c.reauth_time_s, c.over_time_s), (None, Some(28260), Some(540)));
    assert_eq!(c.dpd_timeout_s, Some(60), "a literal ikev1: delay x (max failures + 1)");
    assert_eq!(c.children[0].esp_proposals, esp(&["aes256-sha1-modp1024"]), "3DES and MD5 dropped as 22.8 drops them");
    assert!(ignored_why(&d, "ipsec/phase2[reqid=1]/encryption-algorithm-option[1]").contains("3des"));
    assert!(ignored_why(&d, "ipsec/phase2[reqid=1]/hash-algorithm-option[1]").contains("MD5"));
    assert!(ignored_why(&d, "ipsec/vtimaps").contains("21.9"));
    assert!(used_value(&d, "ipsec/phase1[ikeid=1]/encryption-algorithm").contains("before 17.5"));
    let policy = intent.forward.as_ref().unwrap();
    let decided = policy.decide(&Port::Tunnel, &Port::Interface("lan".into()), ip("10.60.0.4"), ip("192.168.60.10"));
    assert_eq!(decided, (Some("IPsec: IPsec to LAN (a rule of old, without a type)"), Action::Accept), "a rule without a type passes");
}

#[test]
fn interfaces_map_by_address_when_the_names_differ() {
    let ifaces = lab(&[("eth0", "192.168.178.10/24"), ("eth1", "192.168.10.1/24"), ("mgmt", "10.255.0.1/24")]);
    let d = load_text(&fixture("azure-pfsense-home.xml"), None, &ifaces).unwrap();
    assert!(used_value(&d, "interfaces/lan").contains("lab interface `eth1` (by address)"));
    assert!(used_value(&d, "interfaces/wan").contains("lab interface `eth0` (by address)"));
    assert!(ignored_why(&d, "lab interface mgmt").contains("no pfSense interface"));
    let policy = d.intent(REAL_TIME).forward.unwrap();
    let decided = policy.decide(&Port::Interface("eth1".into()), &Port::Tunnel, ip("192.168.10.10"), ip("10.30.0.4"));
    assert_eq!(decided, (Some("LAN: Default allow LAN to any rule"), Action::Accept), "rules follow the mapping");
    // An interface the lab does not have: its static address in config.xml still names its
    // network (the phase 2 selector), but no rule can be placed on it.
    let d = load_text(&fixture("tunnel-ikev2-two-p2.xml"), None, &lab(&[("wan", "203.0.113.10/24"), ("lan", "192.168.10.1/24")])).unwrap();
    assert!(ignored_why(&d, "interfaces/opt1").contains("no lab interface"));
    assert_eq!(d.intent(REAL_TIME).connections[0].children[0].local_ts, [net("192.168.10.0/24"), net("192.168.20.0/24")]);
    // A DHCP WAN the lab does not have: its address is unknown, charon picks the source.
    let d = load_text(&fixture("seed003-vti.xml"), None, &lab(&[("lan", "192.168.10.1/24")])).unwrap();
    assert!(d.intent(REAL_TIME).connections[0].local_addrs.is_empty());
    assert!(ignored_why(&d, "ipsec/phase1[ikeid=1]/interface").contains("local_addrs left open"));
}

#[test]
fn a_phase2_on_an_interface_without_an_address_is_skipped_as_pfsense_skips_it() {
    // The LAN on DHCP and not in the lab: pfSense logs "Invalid IPsec Phase 2" and skips it.
    let text = fixture("tunnel-ikev2-two-p2.xml").replace("<ipaddr>192.168.10.1</ipaddr>", "<ipaddr>dhcp</ipaddr>");
    let d = load_text(&text, None, &lab(&[("wan", "203.0.113.10/24"), ("dmz", "192.168.20.1/24")])).unwrap();
    assert!(ignored_why(&d, "ipsec/phase2[reqid=3]").contains("Invalid IPsec Phase 2"));
    assert_eq!(d.intent(REAL_TIME).connections[0].children[0].selectors(), "192.168.20.0/24 === 10.31.0.0/16");
}

#[test]
fn the_lab_s_psk_file_overrides_the_key_and_is_never_shown() {
    let text = fixture("azure-pfsense-home.xml");
    let ifaces = lab(HOME);
    let source =
        DeviceSource { file: std::path::Path::new("config.xml"), text: &text, select: None, psk: Some("Another-Key-9"), interfaces: &ifaces, choices: &[] };
    let d = load(&source).unwrap();
    assert_eq!(d.intent(REAL_TIME).secrets[0].secret, "Another-Key-9");
    assert!(used_value(&d, "ipsec/phase1[ikeid=1]/pre-shared-key").contains("psk_file"));
    assert_no_key(&d, "Another-Key-9");
}

#[test]
fn broken_files_name_the_line_the_element_and_what_is_valid() {
    // (file, the text on the error's line, element, words of the message)
    let cases: &[(&str, &str, &str, &str)] = &[
        ("mismatched-tag.xml", "</remote-gatway>", "", "does not parse"),
        ("bad-keylen.xml", "<item>", "ipsec/phase1[ikeid=1]/encryption/item[1]", "AES with a 512-bit key"),
        ("no-remote-gateway.xml", "<phase1>", "ipsec/phase1[ikeid=1]/remote-gateway", "without a Remote Gateway"),
        ("bad-lifetime.xml", "<lifetime>8h", "ipsec/phase1[ikeid=1]/lifetime", "`8h` is not a number of seconds"),
        ("bad-remote-network.xml", "10.70.0.300", "ipsec/phase2[reqid=1]/remoteid/address", "Remote Network `10.70.0.300` is not an IPv4 address"),
        ("rekey-after-life.xml", "<lifetime>3600", "ipsec/phase1[ikeid=1]/lifetime", "ends before the Rekey/Reauth Time"),
        ("transport-only.xml", "<phase1>", "ipsec/phase1[ikeid=1]", "no phase 2 entry the lab can build"),
        ("only-3des.xml", "<encryption>", "ipsec/phase1[ikeid=1]/encryption", "no usable Encryption Algorithm"),
        ("certificate-auth.xml", "<authentication_method>", "ipsec/phase1[ikeid=1]/authentication_method", "pre-shared keys only"),
        ("unknown-dh-group.xml", "<item>", "ipsec/phase1[ikeid=1]/encryption/item[1]", "there is no DH group 13"),
        ("empty-psk.xml", "<pre-shared-key>", "ipsec/phase1[ikeid=1]/pre-shared-key", "the Pre-Shared Key is empty"),
        ("not-pfsense.xml", "<opnsense>", "opnsense", "not <pfsense>"),
    ];
    for (file, on_line, element, words) in cases {
        let (text, errors) = broken(file);
        let e = &errors[0];
        assert_eq!(e.line, Some(line_of(&text, on_line)), "{file}: {e:?}");
        assert_eq!(e.element, *element, "{file}");
        assert!(e.message.contains(words), "{file}: {}", e.message);
        assert!(e.hint.as_deref().is_some_and(|h| !h.is_empty()), "{file}: what would be valid");
        for e in &errors {
            assert!(!format!("{e:?}").contains("Broken-Lab-Key-70"), "{file}: the key leaked");
        }
    }
    let (text, errors) = broken("psk-with-ampersand.xml");
    assert_eq!(errors[0].line, Some(line_of(&text, "<pre-shared-key>")));
    let shown = format!("{errors:?}");
    assert!(!shown.contains("Broken") && !shown.contains("Lab-Key"), "a parse error inside the key shows none of it: {shown}");
}

#[test]
fn fixes_speak_pfsenses_gui() {
    let home = load_fixture("azure-pfsense-home.xml", None, HOME);
    let ike = Proposal::parse("aes256-sha256-modp1024", ProposalKind::Ike).unwrap();
    assert_eq!(home.name(), "pfSense");
    assert_eq!(home.proposal(&Proposal::parse("aes256-sha256-modp2048", ProposalKind::Ike).unwrap()), "AES 256 bits, SHA256, DH group 14 (2048 bit)");
    let p1 = "VPN > IPsec > Tunnels > Edit Phase 1 (ikeid 1, \"Azure vng-home-lab\")";
    let p2 = "VPN > IPsec > Tunnels > ikeid 1 > Show Phase 2 Entries > Edit Phase 2 (reqid 1, \"LAN to Azure VNet\")";
    let vnet = net("10.30.0.0/16");
    let lan = net("192.168.10.0/24");
    let expect: Vec<(Remedy, String)> = vec![
        (Remedy::IkeVersion(IkeVersion::V2), format!("{p1} > IKE Endpoint Configuration > Key Exchange version: IKEv2")),
        (Remedy::IkeProposals(vec![ike.clone()]), format!("{p1} > Phase 1 Proposal (Encryption Algorithm): Algorithm AES, Key length 256 bits, Hash SHA256, DH Group 2 (1024 bit)")),
        (Remedy::EspProposals(esp(&["aes256gcm16"])), format!("{p2} > Phase 2 Proposal (SA/Key Exchange): Encryption Algorithms AES256-GCM 128 bits, Hash Algorithms none needed (AEAD), PFS key group off")),
        (Remedy::PfsGroup(Some(DhGroup::Modp2048)), format!("{p2} > Phase 2 Proposal (SA/Key Exchange) > PFS key group: 14 (2048 bit)")),
        (Remedy::PfsGroup(None), format!("{p2} > Phase 2 Proposal (SA/Key Exchange) > PFS key group: off")),
        (Remedy::Selectors { local: vec![lan], remote: vec![vnet] }, format!("{p2}: Mode Tunnel IPv4, Local Network: Network 192.168.10.0/24, Remote Network: Network 10.30.0.0/16")),
        (Remedy::TunnelRoute(net("10.31.0.0/16")), "VPN > IPsec > Tunnels > ikeid 1 > Add P2: Mode Tunnel IPv4, Local Network LAN subnet, Remote Network: Network 10.31.0.0/16".into()),
        (Remedy::AllowForward { into_tunnel: false, src: vnet, dst: lan }, "Firewall > Rules > IPsec > Add: Action Pass, Address Family IPv4, Protocol Any, Source: Network 10.30.0.0/16, Destination: Network 192.168.10.0/24".into()),
        (Remedy::AllowForward { into_tunnel: true, src: lan, dst: vnet }, "Firewall > Rules > LAN > Add: Action Pass".into()),
        (Remedy::ChildLifetimeBelow(27000), format!("{p2} > Expiration and Replacement > Life Time: below 27000 s, e.g. 24300")),
        (Remedy::RetypePresharedKey, format!("{p1} > Phase 1 Proposal (Authentication) > Pre-Shared Key: type the key again")),
        (Remedy::SamePresharedKey, format!("{p1} > Phase 1 Proposal (Authentication) > Pre-Shared Key: the same key as the peer")),
        (Remedy::DeadPeerDetection, format!("{p1} > Advanced Options > Dead Peer Detection: Enable DPD, Delay 10, Max failures 5")),
        (Remedy::NatTraversal, format!("{p1} > Advanced Options > NAT Traversal: Force")),
        (Remedy::TunnelMtu { mtu: 1400, mss: 1350 }, "VPN > IPsec > Advanced Settings > Maximum MSS: Enable MSS clamping on VPN traffic, 1350".into()),
        (Remedy::AllowInitiation, format!("{p1} > Advanced Options > Child SA Start Action: Initiate at start (VTI or Tunnel Mode)")),
        (Remedy::AllowResponding, "nothing blocks answering on pfSense".into()),
        (Remedy::PeerAddress { name: Some("gw.example".into()), address: ip("198.51.100.31") }, format!("{p1} > Remote Gateway: gw.example")),
        (Remedy::PeerAddress { name: None, address: ip("198.51.100.31") }, format!("{p1} > Remote Gateway: 198.51.100.31")),
        (Remedy::Nothing("the peer refused it"), "nothing to change on pfSense: the peer refused it".into()),
    ];
    for (remedy, start) in expect {
        let text = home.remedy(&remedy);
        assert!(text.starts_with(&start), "{remedy:?}:\n  got  {text}\n  want {start}");
    }
    let ike_3des = Proposal::parse("3des-sha1-modp1024", ProposalKind::Ike).unwrap();
    assert!(home.remedy(&Remedy::IkeProposals(vec![ike_3des])).contains("change the peer instead"));

    // A routed tunnel: routes and MTU on the VTI.
    let vti = load_fixture("seed003-vti.xml", None, HOME);
    assert_eq!(
        vti.remedy(&Remedy::TunnelRoute(net("10.40.0.0/16"))),
        "System > Routing > Static Routes > Add: Destination network 10.40.0.0/16, Gateway IPSecVTI_VTIV4 (the VTI's gateway)"
    );
    assert!(vti.remedy(&Remedy::TunnelMtu { mtu: 1400, mss: 1350 }).starts_with("Interfaces > ipsec1 > MTU: 1400, MSS: 1350"));
    assert!(vti.remedy(&Remedy::Selectors { local: vec![lan], remote: vec![vnet] }).contains("Routed (VTI) phase 2 offers 0.0.0.0/0"));

    for symptom in [
        Symptom::PeerNotResponding,
        Symptom::Phase1NoProposal,
        Symptom::Phase2NoProposal,
        Symptom::AuthenticationFailed,
        Symptom::RekeyRefused,
        Symptom::SelectorsRefused,
        Symptom::DeadPeer,
    ] {
        let line = home.log_line(symptom).unwrap();
        assert!(line.starts_with("Status > System Logs > IPsec: charon ") && line.contains("<con1|1>"), "{line}");
    }
    assert!(home.log_line(Symptom::Blocked).unwrap().contains("Default deny rule IPv4"));
    let check = home.check();
    assert!(check.contains("Status > IPsec > Overview: con1 \"Azure vng-home-lab\" Established") && check.contains("swanctl --list-sas --ike con1"), "{check}");
}

#[test]
fn status_overview_from_live_sas() {
    let d = load_fixture("azure-pfsense-home.xml", None, HOME);
    let intent = d.intent(REAL_TIME);
    let mut sa = IkeSa::example(Some("con1"), 1680);
    sa.name = "con1".into();
    sa.local_host = "192.168.178.10".into();
    sa.local_id = "203.0.113.50".into();
    sa.remote_host = "198.51.100.30".into();
    sa.remote_id = "198.51.100.30".into();
    sa.nat_local = true;
    sa.established_s = 125;
    sa.children[0].local_ts = vec!["192.168.10.0/24".into()];
    sa.children[0].remote_ts = vec!["10.30.0.0/16".into()];
    let view = d.status_view("pfsense", &intent, std::slice::from_ref(&sa)).unwrap();
    assert_eq!(view.tables.len(), 3, "Overview, its child SA entries, SPDs");
    let row = &view.tables[0].rows[0];
    assert_eq!(row[0], "con1 #1");
    assert_eq!(row[1], "Azure vng-home-lab");
    assert_eq!(row[2], "ID: 203.0.113.50\nHost: 192.168.178.10:4500 NAT-T");
    assert_eq!(row[4], "IKEv2\nInitiator");
    assert_eq!(row[7], "Established\n125 seconds (0:02:05) ago");
    let child = &view.tables[1].rows[0];
    assert_eq!((child[1].as_str(), child[2].as_str(), child[4].as_str()), ("LAN to Azure VNet", "192.168.10.0/24", "10.30.0.0/16"));
    assert!(child[7].starts_with("Bytes-In: 1680\nPackets-In: 20"), "{}", child[7]);
    let spd = &view.tables[2].rows;
    assert_eq!(spd[0], ["Tunnel", "192.168.10.0/24", "10.30.0.0/16", "→ Outbound", "ESP", "192.168.178.10 → 198.51.100.30"]);
    assert_eq!(spd[1][3], "← Inbound");
    insta::assert_json_snapshot!("home_status_view", view);

    // Nothing up: the configured phase 1 shows as Disconnected.
    let mut down = sa.clone();
    down.state = IkeState::Connecting;
    down.children.clear();
    let view = d.status_view("pfsense", &intent, &[]).unwrap();
    assert_eq!(view.tables[0].rows[0][7], "Disconnected");
    assert_eq!(view.tables[0].rows[0][3], "ID: 198.51.100.30\nHost: 198.51.100.30");
    let view = d.status_view("pfsense", &intent, &[down]).unwrap();
    assert_eq!(view.tables[0].rows[0][7], "Connecting");
    assert_eq!(view.tables[1].rows[0][7], "Disconnected", "its phase 2 has no CHILD SA");
    assert_eq!(view.tables[2].rows[0][0], "No IPsec security policies configured.");
    let _ = ChildState::Installed;
}

#[test]
fn every_phase1_and_phase2_field_is_in_the_report() {
    for (name, ifaces) in
        [("azure-pfsense-home.xml", HOME), ("seed003-vti.xml", HOME), ("tunnel-ikev2-two-p2.xml", BRANCH), ("tunnel-ikev1-empty-iketype.xml", BRANCH)]
    {
        let text = fixture(name);
        let d = load_fixture(name, None, ifaces);
        let report = d.import_report().unwrap();
        let root = super::xml::parse(&text).unwrap();
        let ipsec = root.child("ipsec").unwrap();
        for p1 in ipsec.all("phase1") {
            let path = format!("ipsec/phase1[ikeid={}]", p1.text_of("ikeid").unwrap());
            for field in &p1.children {
                let element = format!("{path}/{}", field.name);
                let covered = report.entries.iter().any(|e| e.element.starts_with(&element) || e.element == path)
                    || (field.name == "disabled" || field.name == "mobile" || field.text().is_empty());
                assert!(covered, "{name}: {element} is not in the report");
            }
        }
        for p2 in ipsec.all("phase2") {
            let path = format!("ipsec/phase2[reqid={}]", p2.text_of("reqid").unwrap());
            for field in &p2.children {
                let element = format!("{path}/{}", field.name);
                let covered =
                    report.entries.iter().any(|e| e.element.starts_with(&element) || e.element == path) || field.text().is_empty() && field.children.is_empty();
                assert!(covered, "{name}: {element} is not in the report");
            }
        }
    }
}

#[test]
fn filter_mode_if_ipsec_filters_on_the_vti_interface() {
    // Filter mode if_ipsec: the IPsec tab filters nothing, the assigned VTI's tab does.
    let text = fixture("seed003-vti.xml").replace("\t\t<client></client>", "\t\t<client></client>\n\t\t<filtermode>if_ipsec</filtermode>").replace(
        "\t</filter>",
        "\t\t<rule>\n\t\t\t<type>pass</type>\n\t\t\t<interface>opt1</interface>\n\t\t\t<ipprotocol>inet</ipprotocol>\n\t\t\t<source><address>10.30.0.0/16</address></source>\n\t\t\t<destination><network>lan</network></destination>\n\t\t\t<descr><![CDATA[VNet to LAN on the VTI]]></descr>\n\t\t</rule>\n\t</filter>",
    );
    let d = load_text(&text, None, &lab(HOME)).unwrap();
    let policy = d.intent(REAL_TIME).forward.unwrap();
    let lan = Port::Interface("lan".into());
    assert_eq!(policy.decide(&Port::Tunnel, &lan, ip("10.30.0.4"), ip("192.168.10.10")), (Some("IPSecVTI: VNet to LAN on the VTI"), Action::Accept));
    assert_eq!(
        policy.decide(&Port::Tunnel, &lan, ip("10.99.0.4"), ip("192.168.10.10")),
        (Some("Default deny rule IPv4"), Action::Drop),
        "the IPsec tab's any-to-any rule no longer applies"
    );
    assert!(ignored_why(&d, "filter/rule[2]").contains("if_ipsec"));
    assert!(d
        .remedy(&Remedy::AllowForward { into_tunnel: false, src: net("10.30.0.0/16"), dst: net("192.168.10.0/24") })
        .starts_with("Firewall > Rules > IPSecVTI > Add"));

    // In the default mode, rules on the VTI's interface are not generated at all.
    let text = fixture("seed003-vti.xml").replace(
        "\t</filter>",
        "\t\t<rule>\n\t\t\t<type>block</type>\n\t\t\t<interface>opt1</interface>\n\t\t\t<source><any></any></source>\n\t\t\t<destination><any></any></destination>\n\t\t</rule>\n\t</filter>",
    );
    let d = load_text(&text, None, &lab(HOME)).unwrap();
    assert!(ignored_why(&d, "filter/rule[3]").contains("filtered on the IPsec tab"));

    // Tunnel mode under if_ipsec: everything from the tunnel is blocked.
    let text = fixture("azure-pfsense-home.xml").replace("\t\t<client></client>", "\t\t<client></client>\n\t\t<filtermode>if_ipsec</filtermode>");
    let d = load_text(&text, None, &lab(HOME)).unwrap();
    let policy = d.intent(REAL_TIME).forward.unwrap();
    let decided = policy.decide(&Port::Tunnel, &Port::Interface("lan".into()), ip("10.30.0.4"), ip("192.168.10.10"));
    assert_eq!(decided, (Some("IPsec filter mode if_ipsec blocks tunnel-mode traffic"), Action::Drop));
}
