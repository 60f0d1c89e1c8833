//! The PAN-OS device against realistic configurations (tests/fixtures/panos/): the shipped
//! lab's firewall in both formats, seed 000's joined commands, several tunnels, IKEv1 with
//! proxy-IDs, IKEv2-preferred with predefined profiles, a Panorama template, and broken files.
//! Assertions are on outcomes: proposals, selectors and how they are matched, the forward
//! policy's decisions, the report's entries, errors with their line, element and message.

use std::net::Ipv4Addr;
use std::path::Path;

use ipnet::Ipv4Net;

use super::defaults::{Choices, IpsecDhDefault, LivenessDefault};
use super::*;
use crate::device::{ImportStatus, Remedy, Symptom, Vocabulary};
use crate::evidence::sa::IkeSa;
use crate::ike::intent::{Action, IkeVersion, Port};
use crate::ike::proposal::{self, ProposalKind};
use crate::strongswan::config::{messages, redacted};

const KEY: &str = "S2sVpnAzure!Psk#2026";

pub(super) fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/panos").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// The shipped lab's firewall interfaces.
pub(super) fn lab() -> Vec<(String, Ipv4Net)> {
    vec![("lan".into(), "10.10.0.1/16".parse().unwrap()), ("wan".into(), "172.16.0.2/30".parse().unwrap())]
}

pub(super) fn psk_file() -> String {
    fixture("psk.txt").strip_suffix('\n').unwrap().to_string()
}

fn load_with_choices(
    name: &str,
    select: Option<&str>,
    psk: Option<&str>,
    interfaces: &[(String, Ipv4Net)],
    choices: Choices,
) -> Result<PanosDevice, Vec<DeviceError>> {
    let text = fixture(name);
    let source = DeviceSource { file: Path::new(name), text: &text, select, psk, interfaces, choices: &[] };
    load_with(&source, choices)
}

pub(super) fn load_file(name: &str, select: Option<&str>, psk: Option<&str>, interfaces: &[(String, Ipv4Net)]) -> Result<PanosDevice, Vec<DeviceError>> {
    load_with_choices(name, select, psk, interfaces, Choices::default())
}

fn load_text(text: &str, select: Option<&str>, psk: Option<&str>) -> Result<PanosDevice, Vec<DeviceError>> {
    let source = DeviceSource { file: Path::new("inline.set"), text, select, psk, interfaces: &[], choices: &[] };
    load(&source)
}

fn shipped(name: &str) -> PanosDevice {
    let key = psk_file();
    load_file(name, None, Some(&key), &lab()).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn real_time(d: &PanosDevice, starts_first: bool) -> IpsecIntent {
    d.intent(RunContext { starts_first, time_scale: 1.0 })
}

fn rendered(intent: &IpsecIntent) -> String {
    messages(intent).iter().map(|(cmd, msg)| format!("# {cmd}\n{}\n", redacted(msg).to_json())).collect()
}

pub(super) fn report_text(report: &ImportReport) -> String {
    let mut out = String::new();
    for e in &report.entries {
        let at = e.line.map(|l| format!(" (line {l})")).unwrap_or_default();
        let (word, detail) = match &e.status {
            ImportStatus::Used { value } => ("used", value.clone()),
            ImportStatus::Defaulted { value, source } => ("default", format!("{value} [{source}]")),
            ImportStatus::Ignored { why } => ("ignored", why.clone()),
        };
        out.push_str(&format!("{word:<8} {}{at}: {detail}\n", e.element));
    }
    out
}

fn ike(s: &str) -> Proposal {
    Proposal::parse(s, ProposalKind::Ike).unwrap()
}

fn esp(s: &str) -> Proposal {
    Proposal::parse(s, ProposalKind::Esp).unwrap()
}

pub(super) fn net(s: &str) -> Ipv4Net {
    s.parse().unwrap()
}

pub(super) fn addr(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn lan() -> Port {
    Port::Interface("lan".into())
}

fn wan() -> Port {
    Port::Interface("wan".into())
}

/// The entry of the report for `element`.
pub(super) fn entry<'a>(d: &'a PanosDevice, element: &str) -> &'a ImportStatus {
    &d.report.entries.iter().find(|e| e.element == element).unwrap_or_else(|| panic!("no report entry {element}:\n{}", report_text(&d.report))).status
}

fn only_error(result: Result<PanosDevice, Vec<DeviceError>>) -> DeviceError {
    let errors = result.expect_err("the configuration should not load");
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors.into_iter().next().unwrap()
}

#[test]
fn shipped_lab_firewall_runs_seed_000s_tunnel() {
    let d = shipped("azure-paloalto.set");
    let intent = real_time(&d, true);
    let c = &intent.connections[0];
    assert_eq!(c.name, "azure-ike-gw");
    assert_eq!(c.version, IkeVersion::V2);
    assert_eq!(c.proposals, [ike("aes256-sha256-modp2048")]);
    assert_eq!(c.local_addrs, ["172.16.0.2"]);
    assert_eq!(c.remote_addrs, ["198.51.100.20"]);
    assert_eq!(c.local.id.as_deref(), Some("203.0.113.10"));
    assert_eq!(c.remote.id, None, "no peer-id: any identity");
    assert_eq!(c.selector_match, SelectorMatch::Narrowing);
    assert_eq!(c.dpd_delay_s, Some(5), "liveness check on, interval 5 s by default");
    assert_eq!(c.rekey_time_s, Some(28800));
    assert_eq!(c.mobike, Some(false));
    let ch = &c.children[0];
    assert_eq!(c.children.len(), 1);
    assert_eq!(ch.name, "azure-ipsec-tunnel:azure-any");
    assert!(ch.is_any_to_any());
    assert_eq!(ch.esp_proposals, [esp("aes256-sha256")]);
    assert!(!ch.esp_proposals[0].has_pfs(), "no-pfs");
    assert_eq!((ch.rekey_time_s, ch.life_time_s, ch.rand_time_s), (Some(3600), Some(3960), Some(0)));
    assert_eq!(ch.dpd_action, Some(DpdAction::Restart));
    assert_eq!(intent.secrets.len(), 1);
    assert_eq!(intent.secrets[0].secret, KEY, "the key comes from psk.txt");
    assert_eq!(intent.secrets[0].ids, ["203.0.113.10", "198.51.100.20"]);
    assert_eq!(intent.initiation, Initiation::Either);
    assert_eq!(intent.listen.only_from, Some(vec![addr("198.51.100.20")]));
    assert_eq!(d.tunnel_routes(), [net("10.20.0.0/16")]);
    assert_eq!(
        d.site(),
        SiteHints {
            local_address: Some(net("172.16.0.2/30")),
            local_id: Some("203.0.113.10".into()),
            peer_address: Some(addr("198.51.100.20")),
            inside: vec![net("10.10.0.1/16")]
        }
    );
    assert_eq!(d.family(), "pan-os");
    assert!(d.under_test());
    assert_eq!(d.notes(), Vec::<String>::new(), "nothing assumed: every disputed default is set in the file");
}

#[test]
fn the_xml_export_is_the_same_firewall_as_the_set_file() {
    let (set, xml) = (shipped("azure-paloalto.set"), shipped("azure-paloalto.xml"));
    for starts_first in [true, false] {
        assert_eq!(rendered(&real_time(&set, starts_first)), rendered(&real_time(&xml, starts_first)));
    }
    assert_eq!(set.forward, xml.forward);
    assert_eq!(set.tunnel_routes(), xml.tunnel_routes());
    assert_eq!(set.site(), xml.site());
    assert_eq!(set.summary(&real_time(&set, true)), xml.summary(&real_time(&xml, true)));
    // Lines are the file's own: the gateway's version on line 29 of the set file, 133 of the XML.
    let line = |d: &PanosDevice| d.report.entries.iter().find(|e| e.element == "network ike gateway azure-ike-gw protocol version").and_then(|e| e.line);
    assert_eq!(line(&set), Some(28));
    assert_eq!(line(&xml), Some(124));
}

#[test]
fn the_security_rules_decide_the_lab_s_flows() {
    let d = shipped("azure-paloalto.set");
    let policy = real_time(&d, true).forward.expect("PAN-OS always filters");
    let (pc, vm, nat) = (addr("10.10.0.5"), addr("10.20.0.4"), addr("172.16.0.1"));
    assert_eq!(policy.decide(&lan(), &Port::Tunnel, pc, vm), (Some("trust-to-azure"), Action::Accept));
    assert_eq!(policy.decide(&Port::Tunnel, &lan(), vm, pc), (Some("azure-to-trust"), Action::Accept));
    // Outside the rules' addresses, or between zones no rule joins: interzone-default.
    assert_eq!(policy.decide(&Port::Tunnel, &lan(), addr("10.30.0.1"), pc), (None, Action::Drop));
    assert_eq!(policy.decide(&Port::Tunnel, &wan(), vm, nat), (None, Action::Drop));
    assert_eq!(policy.decide(&lan(), &wan(), pc, nat), (None, Action::Drop));
    // Within a zone: intrazone-default.
    assert_eq!(policy.decide(&lan(), &lan(), pc, addr("10.10.0.9")), (Some("intrazone-default"), Action::Accept));
}

#[test]
fn import_report_of_the_shipped_lab() {
    let d = shipped("azure-paloalto.set");
    insta::assert_snapshot!(report_text(&d.report));
}

#[test]
fn import_report_of_the_shipped_lab_as_xml() {
    let d = shipped("azure-paloalto.xml");
    insta::assert_snapshot!(report_text(&d.report));
}

#[test]
fn rendered_intent_of_the_shipped_lab() {
    let d = shipped("azure-paloalto.set");
    let text = rendered(&real_time(&d, true));
    assert!(!text.contains("S2sVpnAzure"), "a key leaked into the rendered messages");
    insta::assert_snapshot!(text);
}

#[test]
fn the_key_is_never_shown() {
    for (name, psk) in [("azure-paloalto.set", Some(KEY)), ("azure-paloalto.xml", Some(KEY)), ("seed-000.set", None)] {
        let d = load_file(name, None, psk, &[]).unwrap();
        let intent = real_time(&d, true);
        let shown = [
            format!("{d:?}"),
            format!("{intent:?}"),
            serde_json::to_string(&d.report).unwrap(),
            d.summary(&intent).join("\n"),
            d.notes().join("\n"),
            rendered(&intent),
        ];
        for text in shown {
            assert!(!text.contains("S2sVpnAzure") && !text.contains("Psk#2026"), "{name}: the key is shown in {text}");
        }
    }
    // Nor in errors: a key with an unterminated quote, a key followed by words.
    let e = load_file("broken-quote.set", None, None, &[]).unwrap_err();
    assert!(!format!("{e:?}").contains("Secret1"), "{e:?}");
}

#[test]
fn seed_000_as_printed_joined_on_one_line_with_its_plaintext_key() {
    let d = load_file("seed-000.set", None, None, &[]).unwrap();
    let intent = real_time(&d, true);
    let c = &intent.connections[0];
    assert_eq!((c.name.as_str(), c.version), ("azure-ike-gw", IkeVersion::V2));
    assert_eq!(c.proposals, [ike("aes256-sha256-modp2048")]);
    assert_eq!(c.children[0].esp_proposals, [esp("aes256-sha256")]);
    assert_eq!(c.children[0].name, "azure-ipsec-tunnel:azure-any");
    assert_eq!(c.remote_addrs, ["20.55.10.20"]);
    // Without lab interfaces (`vpnlab repro`), the configured address is the local one.
    assert_eq!(c.local_addrs, ["203.0.113.10"]);
    assert_eq!(intent.secrets[0].secret, KEY, "the plaintext key of a `set` file is used");
    assert_eq!(d.tunnel_routes(), [net("10.20.0.0/16")]);
    assert_eq!(d.site().local_address, Some(net("203.0.113.10/24")));
    // `commit` closes the joined line and is reported, not read.
    assert!(d.report.entries.iter().any(|e| e.element.ends_with(" commit") && e.line == Some(4)), "{}", report_text(&d.report));
    // The rule names zone `trust`, which the snippet never defines: reported, never matching.
    let ImportStatus::Ignored { why } = entry(&d, "rulebase security rules trust-to-azure") else { panic!("the rule should be ignored") };
    assert!(why.contains("trust is not defined"), "{why}");
}

#[test]
fn several_tunnels_need_a_name_and_an_unknown_one_lists_them() {
    let e = only_error(load_file("multi.set", None, None, &lab()));
    assert_eq!(e.element, "network tunnel ipsec");
    assert_eq!(e.message, "the configuration has 3 IPsec tunnels; name the one to run");
    assert_eq!(e.hint.as_deref(), Some("`tunnel:` on the lab's node, one of: to aws, azure-ipsec-tunnel, branch b tunnel"));
    let e = only_error(load_file("multi.set", Some("to-aws"), None, &lab()));
    assert_eq!(e.message, "no IPsec tunnel `to-aws` in the configuration");
    assert_eq!(e.hint.as_deref(), Some("`tunnel:` one of: to aws, azure-ipsec-tunnel, branch b tunnel"));
}

#[test]
fn the_selected_tunnel_of_several_with_quoted_names_lists_and_lines_out_of_order() {
    let d = load_file("multi.set", Some("to aws"), None, &lab()).unwrap();
    let intent = real_time(&d, true);
    let c = &intent.connections[0];
    assert_eq!(c.name, "aws-gw");
    assert_eq!(c.version, IkeVersion::V1);
    assert_eq!(c.proposals, [ike("aes256-aes128-sha256-sha1-modp2048-modp1024")], "member lists keep their order");
    // AES-GCM and CBC in separate proposals, each with the PFS group.
    assert_eq!(c.children[0].esp_proposals, [esp("aes256gcm16-modp2048"), esp("aes128-sha1-modp2048")]);
    assert_eq!(c.children[0].name, "to aws", "no proxy-ID: one child named after the tunnel");
    assert!(c.children[0].is_any_to_any());
    assert_eq!(c.selector_match, SelectorMatch::Exact, "IKEv1 matches proxy-IDs exactly");
    assert_eq!((c.dpd_delay_s, c.dpd_timeout_s), (Some(10), Some(30)), "interval 10, retry 3");
    assert_eq!((c.rekey_time_s, c.reauth_time_s), (Some(0), Some(28800)), "IKEv1 renews Phase 1 by a new negotiation");
    assert_eq!(intent.secrets[0].secret, "aws shared secret", "a quoted plaintext key");
    assert_eq!(d.tunnel_routes(), [net("10.30.0.0/16")], "only the routes into this tunnel's interface");
    let policy = intent.forward.unwrap();
    let (pc, db, app) = (addr("10.10.0.5"), addr("10.10.5.9"), addr("10.30.0.9"));
    assert_eq!(policy.decide(&lan(), &Port::Tunnel, pc, app), (Some("LAN to clouds"), Action::Accept), "a static group of objects");
    assert_eq!(policy.decide(&Port::Tunnel, &lan(), app, db), (Some("Deny AWS DB"), Action::Drop), "first match wins");
    assert_eq!(policy.decide(&Port::Tunnel, &lan(), app, pc), (Some("AWS in"), Action::Accept));
    assert_eq!(policy.decide(&Port::Tunnel, &wan(), app, addr("172.16.0.1")), (None, Action::Drop), "the disabled rule is left out");
    let why = |rule: &str| match entry(&d, &format!("rulebase security rules {rule}")) {
        ImportStatus::Ignored { why } => why.clone(),
        other => panic!("{rule}: {other:?}"),
    };
    assert!(why("\"Allow Azure In\"").contains("no interface in this lab"), "{}", why("\"Allow Azure In\""));
    assert!(why("\"Block Telnet\"").contains("application telnet"));
    assert_eq!(why("\"Old rule\""), "a disabled rule");
    // Other tunnels and their objects are reported, not dropped.
    assert!(matches!(entry(&d, "network tunnel ipsec azure-ipsec-tunnel"), ImportStatus::Ignored { .. }));
    assert!(matches!(entry(&d, "network ike gateway \"branch b\""), ImportStatus::Ignored { .. }));
    assert!(matches!(entry(&d, "network interface ethernet ethernet1/3"), ImportStatus::Ignored { why } if why.contains("192.168.50.1/24")));
}

#[test]
fn ikev1_proxy_ids_are_children_matched_exactly_with_pfs_required() {
    let ifaces = vec![("outside".to_string(), net("198.18.0.2/24")), ("inside".to_string(), net("10.10.0.1/16"))];
    let d = load_file("ikev1-proxy-ids.set", None, None, &ifaces).unwrap();
    let intent = real_time(&d, true);
    let c = &intent.connections[0];
    assert_eq!(c.version, IkeVersion::V1);
    assert_eq!(c.selector_match, SelectorMatch::Exact);
    assert_eq!(c.proposals, [ike("aes128-sha1-modp2048")]);
    let children: Vec<(&str, String)> = c.children.iter().map(|ch| (ch.name.as_str(), ch.selectors())).collect();
    assert_eq!(
        children,
        [("hq-tunnel:servers", "10.10.0.0/16 === 10.20.1.0/24".to_string()), ("hq-tunnel:users", "10.10.0.0/16 === 10.20.2.0/24".to_string())]
    );
    for ch in &c.children {
        assert_eq!(ch.esp_proposals, [esp("aes128-sha1-modp2048")], "every ESP proposal carries the PFS group");
        assert!(!ch.esp_proposals.iter().any(Proposal::allows_no_pfs), "PFS is required, not offered");
        assert_eq!((ch.rekey_time_s, ch.life_time_s), (Some(1800), Some(1980)), "lifetime minutes 30");
        assert_eq!(ch.rekey_bytes, Some(100 * 1024 * 1024), "lifesize mb 100");
    }
    assert_eq!((c.dpd_delay_s, c.dpd_timeout_s), (Some(5), Some(25)), "the schema's interval 5 and retry 5");
    assert_eq!(c.remote.id.as_deref(), Some("hq-vpn.example.com"));
    assert_eq!(intent.secrets[0].ids, ["198.18.0.2", "hq-vpn.example.com"]);
    assert_eq!(d.tunnel_routes(), [net("10.20.1.0/24"), net("10.20.2.0/24")]);
    assert!(matches!(entry(&d, "network ike gateway hq protocol version"), ImportStatus::Defaulted { value, .. } if value == "ikev1"));
    assert!(matches!(entry(&d, "network tunnel ipsec hq-tunnel auto-key proxy-id users protocol"), ImportStatus::Defaulted { value, .. } if value == "any"));
    assert!(matches!(entry(&d, "network profiles monitor-profile default"), ImportStatus::Defaulted { source, .. } if source.contains("[P10]")));
    let policy = intent.forward.unwrap();
    let inside = Port::Interface("inside".into());
    assert_eq!(policy.decide(&inside, &Port::Tunnel, addr("10.10.0.5"), addr("10.20.2.7")), (Some("to-hq"), Action::Accept));
    assert_eq!(policy.decide(&Port::Tunnel, &inside, addr("10.20.2.7"), addr("10.10.0.5")), (None, Action::Drop), "from-hq allows 10.20.1.0/24 only");
}

#[test]
fn ikev2_preferred_with_predefined_profiles_absent_from_the_file() {
    let d = load_file("ikev2-preferred.xml", None, Some("k"), &lab()).unwrap();
    let intent = real_time(&d, false);
    let c = &intent.connections[0];
    assert_eq!(c.version, IkeVersion::V2, "ikev2-preferred starts with IKEv2");
    assert_eq!(c.selector_match, SelectorMatch::Narrowing);
    // ... and falls back to IKEv1: a connection of its own, with the ikev1 block's profile,
    // the same children, proxy-IDs matched exactly, no IKE rekey (IKEv1 reauthenticates).
    assert_eq!(c.version_fallback.as_deref(), Some("cloud-gw-ikev1"));
    let v1 = &intent.connections[1];
    assert_eq!((v1.name.as_str(), v1.version, v1.selector_match), ("cloud-gw-ikev1", IkeVersion::V1, SelectorMatch::Exact));
    assert_eq!(v1.proposals, [ike("aes128-3des-sha1-modp1024")]);
    assert_eq!(v1.children.iter().map(|ch| &ch.name).collect::<Vec<_>>(), c.children.iter().map(|ch| &ch.name).collect::<Vec<_>>());
    assert_eq!((v1.rekey_time_s, v1.reauth_time_s), (Some(0), Some(28800)));
    assert_eq!(v1.dpd_delay_s, None, "IKEv1 DPD is off unless enabled");
    assert_eq!(c.proposals, [ike("aes128-3des-sha1-modp1024")], "the predefined IKE profile `default`");
    assert_eq!(c.children[0].esp_proposals, [esp("aes128gcm16-ecp256")], "the predefined IPsec profile Suite-B-GCM-128");
    assert_eq!(c.children[0].rekey_time_s, Some(3600));
    assert_eq!(c.remote_addrs, ["vpn.cloud.example.net"]);
    assert_eq!(intent.listen.only_from, None, "an FQDN peer has no fixed address to listen to");
    assert_eq!(c.dpd_delay_s, Some(5), "liveness: the choice `on` for an absent setting");
    let ImportStatus::Defaulted { source, .. } = entry(&d, "network ike crypto-profiles ike-crypto-profiles default") else { panic!() };
    assert!(source.contains("iron-skillet"), "{source}");
    let ImportStatus::Defaulted { value, source } = entry(&d, "network ike gateway cloud-gw protocol ikev2 dpd enable") else { panic!() };
    assert_eq!(value, "on, every 5 s");
    assert!(source.starts_with("choice ikev2-liveness-default = on"), "{source}");
    assert_eq!(
        d.notes(),
        [
            "network ike gateway cloud-gw protocol ikev2 dpd enable not set: on, every 5 s (ikev2-liveness-default = on; sources disagree)",
            "NAT-T is off on the gateway, but charon always detects NAT and moves to UDP 4500: a NAT between the sites is crossed in the lab where PAN-OS would fail"
        ]
    );
    assert!(matches!(entry(&d, "network ike gateway cloud-gw protocol ikev1 ike-crypto-profile"), ImportStatus::Used { value } if value == "default"));
    assert!(matches!(entry(&d, "network ike gateway cloud-gw protocol version (fallback)"), ImportStatus::Used { value } if value.contains("Main Mode")));
    // The interzone rule joins lan and cloud both ways; intrazone-default is overridden to deny.
    let policy = intent.forward.unwrap();
    let (pc, far) = (addr("10.10.0.5"), addr("10.50.0.5"));
    assert_eq!(policy.decide(&lan(), &Port::Tunnel, pc, far), (Some("lan-cloud-both-ways"), Action::Accept));
    assert_eq!(policy.decide(&Port::Tunnel, &lan(), far, pc), (Some("lan-cloud-both-ways"), Action::Accept));
    assert_eq!(policy.decide(&lan(), &lan(), pc, addr("10.10.0.6")), (Some("intrazone-default"), Action::Drop));
    assert_eq!(d.names.virtual_router.as_deref(), Some("vr-main"));
    // The other reading of the liveness default.
    let off =
        load_with_choices("ikev2-preferred.xml", None, Some("k"), &lab(), Choices { ikev2_liveness: LivenessDefault::Off, ..Choices::default() }).unwrap();
    assert_eq!(real_time(&off, true).connections[0].dpd_delay_s, None);
}

#[test]
fn an_ipsec_profile_without_dh_group_follows_the_named_choice() {
    let text = fixture("azure-paloalto.set").replace(" dh-group no-pfs lifetime hours 1", " lifetime hours 1");
    let source = DeviceSource { file: Path::new("x.set"), text: &text, select: None, psk: Some(KEY), interfaces: &[], choices: &[] };
    let d = load(&source).unwrap();
    assert_eq!(real_time(&d, true).connections[0].children[0].esp_proposals, [esp("aes256-sha256-modp1024")], "group2 by default");
    let ImportStatus::Defaulted { value, source: from } = entry(&d, "network ike crypto-profiles ipsec-crypto-profiles azure-ipsec-crypto dh-group") else {
        panic!()
    };
    assert_eq!(value, "group2 (PFS on)");
    assert!(from.starts_with("choice ipsec-dh-group-default = group2"), "{from}");
    let d = load_with(&source, Choices { ipsec_dh_group: IpsecDhDefault::NoPfs, ..Choices::default() }).unwrap();
    assert_eq!(real_time(&d, true).connections[0].children[0].esp_proposals, [esp("aes256-sha256")]);
}

#[test]
fn a_panorama_template_and_device_group() {
    let d = load_file("panorama.xml", None, Some("k"), &lab()).unwrap();
    let intent = real_time(&d, false);
    let c = &intent.connections[0];
    assert_eq!(c.name, "az-gw");
    // GCM and CBC apart; the GCM proposal takes its PRF from the hash.
    assert_eq!(c.proposals, [ike("aes256gcm16-prfsha384-ecp384"), ike("aes256-sha384-ecp384")]);
    assert_eq!(c.children[0].esp_proposals, [esp("aes256gcm16")]);
    assert_eq!(c.children[0].rekey_time_s, Some(27000));
    assert_eq!(c.dpd_delay_s, Some(20), "the template stack's value comes first");
    assert_eq!(intent.initiation, Initiation::ResponderOnly, "passive mode");
    assert_eq!(c.children[0].dpd_action, Some(DpdAction::Clear), "a passive firewall does not start again");
    assert_eq!(d.tunnel_routes(), [net("10.20.0.0/16")], "a route to a shared address object");
    let policy = intent.forward.unwrap();
    assert_eq!(
        policy.decide(&lan(), &Port::Tunnel, addr("10.10.0.5"), addr("10.20.0.4")),
        (Some("inside-to-azure"), Action::Accept),
        "a device group's pre-rule"
    );
    let sources: Vec<&str> = d
        .report
        .entries
        .iter()
        .filter(|e| e.element == "configuration")
        .map(|e| if let ImportStatus::Used { value } = &e.status { value.as_str() } else { "" })
        .collect();
    assert_eq!(
        sources,
        [
            "read from Panorama template stack branch-stack",
            "read from Panorama template branch-template",
            "read from Panorama template empty-template",
            "read from Panorama device group branches"
        ]
    );
    let overridden = d
        .report
        .entries
        .iter()
        .find(|e| e.element == "network ike gateway az-gw protocol ikev2 dpd interval" && e.line == Some(63))
        .expect("the template's interval is reported");
    assert!(
        matches!(&overridden.status, ImportStatus::Ignored { why } if why == "set again by a later template; the first value (line 21) is used"),
        "{overridden:?}"
    );
    assert!(matches!(entry(&d, "deviceconfig"), ImportStatus::Ignored { why } if why.starts_with("device settings")));
}

#[test]
fn passive_mode_and_a_dynamic_peer_only_answer() {
    let passive = fixture("azure-paloalto.set").replace("nat-traversal enable yes", "nat-traversal enable yes passive-mode yes");
    let source = DeviceSource { file: Path::new("x.set"), text: &passive, select: None, psk: Some(KEY), interfaces: &[], choices: &[] };
    let d = load(&source).unwrap();
    assert_eq!(d.initiation(), Initiation::ResponderOnly);
    let d = load_file("multi.set", Some("branch b tunnel"), None, &lab()).unwrap_err();
    // The branch gateway's key is encrypted and no psk_file is given.
    assert_eq!(d[0].message, "the pre-shared key is stored encrypted with the firewall's master key, so it cannot be read from the file");
    let d = load_file("multi.set", Some("branch b tunnel"), Some("k"), &lab()).unwrap();
    let intent = real_time(&d, false);
    assert_eq!(intent.initiation, Initiation::ResponderOnly, "a dynamic peer cannot be reached first");
    assert!(intent.connections[0].remote_addrs.is_empty());
    assert_eq!(intent.connections[0].dpd_delay_s, None, "liveness explicitly off");
    assert_eq!(intent.connections[0].local_addrs, ["172.16.0.2"], "the interface's address, without `ip`");
}

#[test]
fn a_compressed_clock_keeps_the_expiry_after_the_rekey() {
    let d = shipped("azure-paloalto.set");
    let intent = d.intent(RunContext { starts_first: true, time_scale: 600.0 });
    let c = &intent.connections[0];
    assert_eq!(c.rekey_time_s, Some(48));
    let ch = &c.children[0];
    assert_eq!(ch.rekey_time_s, Some(6));
    assert!(ch.life_time_s > ch.rekey_time_s, "{:?}", ch.life_time_s);
    assert_eq!(c.dpd_delay_s, Some(1));
}

#[test]
fn broken_files_name_the_line_the_element_and_what_is_valid() {
    let e = only_error(load_file("broken-quote.set", None, None, &[]));
    assert_eq!((e.line, e.element.as_str(), e.message.as_str()), (Some(3), "", "a double quote is not closed on this line"));

    let e = only_error(load_file("broken-profile.set", None, None, &[]));
    assert_eq!(e.line, Some(9));
    assert_eq!(e.element, "network tunnel ipsec t auto-key ipsec-crypto-profile");
    assert_eq!(e.message, "tunnel `t` names IPsec crypto profile `azure-ipsec-crypt`, which is neither in the configuration nor predefined");
    assert_eq!(e.hint.as_deref(), Some("one of: azure-ipsec-crypto, default, Suite-B-GCM-128, Suite-B-GCM-256"));

    let e = only_error(load_file("broken-encryption.xml", None, Some("k"), &[]));
    assert_eq!(e.line, Some(11));
    assert_eq!(e.element, "network ike crypto-profiles ike-crypto-profiles p encryption");
    assert_eq!(e.message, "`aes-257-cbc` is not an IKE encryption of PAN-OS");
    assert!(e.hint.as_deref().is_some_and(|h| h.contains("aes-256-cbc")), "{:?}", e.hint);

    let e = only_error(load_file("broken.xml", None, None, &[]));
    assert_eq!(e.line, Some(6));
    assert!(e.message.starts_with("the XML does not parse"), "{}", e.message);

    let e = only_error(load_file("broken-lifetime.set", None, None, &[]));
    assert_eq!((e.line, e.element.as_str()), (Some(1), "network ike crypto-profiles ike-crypto-profiles p lifetime hours"));
    assert_eq!(e.message, "`0` is not a number of hours PAN-OS accepts");
    assert_eq!(e.hint.as_deref(), Some("1 to 65535 hours"));

    // The export's key is encrypted: without psk_file the device cannot run.
    let e = only_error(load_file("azure-paloalto.xml", None, None, &lab()));
    assert_eq!(e.line, Some(114));
    assert_eq!(e.element, "network ike gateway azure-ike-gw authentication pre-shared-key key");
    assert_eq!(e.hint.as_deref(), Some("put the key in a file beside the lab and name it with `psk_file:`"));

    // The gateway's address is not on the lab node.
    let other = vec![("wan".to_string(), net("192.0.2.2/24"))];
    let e = only_error(load_file("azure-paloalto.set", None, Some(KEY), &other));
    assert_eq!((e.line, e.element.as_str()), (Some(31), "network ike gateway azure-ike-gw local-address"));
    assert_eq!(e.message, "the gateway's local address 172.16.0.2 is not an address of this node in the lab");
}

#[test]
fn inline_problems_are_errors_with_their_place() {
    let e = only_error(load_text(
        "set network ike gateway gw protocol version ikev3\nset network tunnel ipsec t tunnel-interface tunnel.1 auto-key ike-gateway gw\n",
        None,
        None,
    ));
    assert_eq!((e.line, e.element.as_str()), (Some(1), "network ike gateway gw protocol version"));
    assert_eq!(e.message, "`ikev3` is not an IKE version of PAN-OS");
    assert_eq!(e.hint.as_deref(), Some("ikev1, ikev2, ikev2-preferred"));

    let e = only_error(load_text("set network tunnel ipsec t tunnel-interface tunnel.1 auto-key ike-gateway nowhere\n", None, None));
    assert_eq!((e.line, e.element.as_str()), (Some(1), "network tunnel ipsec t auto-key ike-gateway"));
    assert_eq!(e.message, "tunnel `t` names IKE gateway `nowhere`, which the configuration does not define");

    let e = only_error(load_text("set network ike gateway gw protocol version\n", None, None));
    assert_eq!((e.line, e.element.as_str(), e.message.as_str()), (Some(1), "network ike gateway gw protocol version", "`version` needs a value"));

    let e = only_error(load_text("# none here\nset zone trust network layer3 ethernet1/2\n", None, None));
    assert_eq!(e.message, "the configuration has no IPsec tunnel");

    let cbc_without_auth = "set network ike crypto-profiles ipsec-crypto-profiles p esp encryption aes-256-cbc esp authentication none\n\
        set network ike gateway gw protocol version ikev2 authentication pre-shared-key key k\n\
        set network ike gateway gw local-address interface ethernet1/1 ip 192.0.2.1/24 peer-address ip 192.0.2.2\n\
        set network tunnel ipsec t tunnel-interface tunnel.1 auto-key ike-gateway gw ipsec-crypto-profile p\n";
    let e = only_error(load_text(cbc_without_auth, None, None));
    assert_eq!((e.line, e.element.as_str()), (Some(1), "network ike crypto-profiles ipsec-crypto-profiles p"));
    assert_eq!(e.message, "esp authentication none with aes-256-cbc: ESP needs an integrity algorithm unless the encryption is AES-GCM");
}

#[test]
fn nothing_in_the_file_is_dropped_silently() {
    let d = shipped("azure-paloalto.xml");
    let ignored: Vec<&str> = d.report.entries.iter().filter(|e| matches!(e.status, ImportStatus::Ignored { .. })).map(|e| e.element.as_str()).collect();
    for element in [
        "mgt-config",
        "deviceconfig",
        "import",
        "network interface ethernet ethernet1/1 comment",
        "network virtual-router default routing-table ip static-route default-route",
        "network virtual-router default routing-table ip static-route to-azure-vnet metric",
    ] {
        assert!(ignored.contains(&element), "{element} is not reported:\n{}", report_text(&d.report));
    }
}

#[test]
fn status_view_as_pan_os_prints_it() {
    let d = shipped("azure-paloalto.set");
    let intent = real_time(&d, true);
    let mut sa = IkeSa::example(Some("azure-ipsec-tunnel:azure-any"), 840);
    sa.name = "azure-ike-gw".into();
    sa.local_host = "172.16.0.2".into();
    sa.remote_host = "198.51.100.20".into();
    sa.established_s = 12;
    let view = d.status_view("firewall", &intent, &[sa]).unwrap();
    let titles: Vec<&str> = view.tables.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["show vpn ike-sa: IKEv2 SAs", "show vpn ike-sa: IKEv2 IPSec Child SAs", "show vpn ipsec-sa", "show vpn flow"]);
    assert_eq!(
        view.tables[0].headers,
        ["Gateway ID", "Peer-Address", "Gateway Name", "Role", "SN", "Algorithm", "Established", "Expiration", "Xt", "Child", "ST"]
    );
    assert_eq!(
        view.tables[0].rows[0],
        ["1", "198.51.100.20", "azure-ike-gw", "Init", "1", "PSK/DH14/A256/SHA256", "12 s ago", "in 28788 s", "-", "1", "Established"]
    );
    assert_eq!(
        view.tables[2].rows[0],
        ["1", "1", "198.51.100.20", "azure-ipsec-tunnel:azure-any(azure-ike-gw)", "ESP/A256/SHA256", "-", "-", "3600/Unlimited", "-"]
    );
    assert_eq!(view.tables[3].rows[0], ["1", "azure-ipsec-tunnel:azure-any", "active", "off", "172.16.0.2", "198.51.100.20", "tunnel.1"]);
    let down = d.status_view("firewall", &intent, &[]).unwrap();
    assert!(down.tables[0].rows.is_empty());
    assert_eq!(down.tables[3].rows[0][2], "init");
}

#[test]
fn vocabulary_speaks_pan_os_with_this_configuration_s_names() {
    let d = shipped("azure-paloalto.set");
    assert_eq!(d.name(), "PAN-OS");
    assert_eq!(d.proposal(&ike("aes256-sha256-modp2048")), "aes-256-cbc/sha256/group14");
    assert_eq!(d.proposal(&esp("aes256gcm16")), "aes-256-gcm/no-pfs");
    assert_eq!(d.proposal(&ike("chacha20poly1305-prfsha256-curve25519")), "chacha20poly1305/curve25519 (PAN-OS has no name for chacha20poly1305)");
    assert_eq!(
        d.check(),
        "show vpn ike-sa gateway azure-ike-gw; test vpn ike-sa gateway azure-ike-gw; show vpn ipsec-sa tunnel azure-ipsec-tunnel; less mp-log ikemgr.log"
    );
    let remedies = [
        Remedy::IkeVersion(IkeVersion::V1),
        Remedy::IkeProposals(vec![ike("aes256-sha256-modp1024")]),
        Remedy::EspProposals(vec![esp("aes256gcm16")]),
        Remedy::PfsGroup(Some(crate::ike::dh::DhGroup::Modp2048)),
        Remedy::PfsGroup(None),
        Remedy::ChildLifetimeBelow(27000),
        Remedy::Selectors { local: vec![net("10.10.0.0/16")], remote: vec![net("10.20.0.0/16")] },
        Remedy::RetypePresharedKey,
        Remedy::SamePresharedKey,
        Remedy::DeadPeerDetection,
        Remedy::NatTraversal,
        Remedy::TunnelRoute(net("10.30.0.0/16")),
        Remedy::AllowForward { into_tunnel: true, src: net("10.10.0.0/16"), dst: net("10.20.0.0/16") },
        Remedy::AllowForward { into_tunnel: false, src: net("10.20.0.0/16"), dst: net("10.10.0.0/16") },
        Remedy::TunnelMtu { mtu: 1400, mss: 1350 },
        Remedy::AllowInitiation,
        Remedy::AllowResponding,
        Remedy::DynamicDns { name: "branch.example.net".into(), address: addr("203.0.113.99") },
        Remedy::PeerAddress { name: None, address: addr("203.0.113.99") },
        Remedy::Nothing("Azure's side is wrong"),
    ];
    let texts: Vec<String> = remedies.iter().map(|r| d.remedy(r)).collect();
    let expect = [
        "`set network ike gateway azure-ike-gw protocol version ikev1` and `set network ike gateway azure-ike-gw protocol ikev1 ike-crypto-profile azure-ike-crypto` (Network > Network Profiles > IKE Gateways > azure-ike-gw > General > Version)",
        "`set network ike crypto-profiles ike-crypto-profiles azure-ike-crypto encryption aes-256-cbc hash sha256 dh-group group2` (`set` adds to the lists; Network > Network Profiles > IKE Crypto > azure-ike-crypto)",
        "`set network ike crypto-profiles ipsec-crypto-profiles azure-ipsec-crypto esp encryption aes-256-gcm esp authentication none` (`set` adds to the lists; Network > Network Profiles > IPSec Crypto > azure-ipsec-crypto)",
        "`set network ike crypto-profiles ipsec-crypto-profiles azure-ipsec-crypto dh-group group14` (Network > Network Profiles > IPSec Crypto > azure-ipsec-crypto > DH Group: group14)",
        "`set network ike crypto-profiles ipsec-crypto-profiles azure-ipsec-crypto dh-group no-pfs` (Network > Network Profiles > IPSec Crypto > azure-ipsec-crypto > DH Group: no-pfs)",
        "`set network ike crypto-profiles ipsec-crypto-profiles azure-ipsec-crypto lifetime seconds 24300` (Network > Network Profiles > IPSec Crypto > azure-ipsec-crypto > Lifetime), so that PAN-OS renegotiates first",
        "`delete network tunnel ipsec azure-ipsec-tunnel auto-key proxy-id` and `set network tunnel ipsec azure-ipsec-tunnel auto-key proxy-id proxy1 local 10.10.0.0/16 remote 10.20.0.0/16 protocol any` (Network > IPSec Tunnels > azure-ipsec-tunnel > Proxy IDs; each proxy-ID is its own SA)",
    ];
    for (text, want) in texts.iter().zip(expect) {
        assert_eq!(text, want);
    }
    assert!(texts[7].contains("azure-ike-gw authentication pre-shared-key key <KEY>") && texts[7].contains("typed by hand"));
    assert!(texts[9].contains("protocol ikev2 dpd enable yes interval 5") && texts[9].contains("tunnel-monitor enable yes"));
    assert!(texts[10].contains("protocol-common nat-traversal enable yes"));
    assert_eq!(
        texts[11],
        "`set network virtual-router default routing-table ip static-route to-10.30.0.0-16 destination 10.30.0.0/16 interface tunnel.1` (Network > Virtual Routers > default > Static Routes)"
    );
    assert!(
        texts[12].starts_with("`set rulebase security rules allow-10.10.0.0-16-to-10.20.0.0-16 from trust to azure-vpn source 10.10.0.0/16"),
        "{}",
        texts[12]
    );
    assert!(texts[13].contains("from azure-vpn to trust"), "{}", texts[13]);
    assert!(texts[14].contains("units tunnel.1 mtu 1400") && texts[14].contains("ipv4-mss-adjustment 50"), "{}", texts[14]);
    assert!(texts[15].contains("passive-mode no") && texts[15].contains("test vpn ike-sa gateway azure-ike-gw"));
    assert!(texts[16].contains("198.51.100.20"));
    assert!(texts[17].contains("DDNS") && texts[17].contains("ethernet1/1"));
    assert!(texts[17].contains("local-id type ipaddr id 203.0.113.99"));
    assert_eq!(texts[18], "`set network ike gateway azure-ike-gw peer-address ip 203.0.113.99` (Network > Network Profiles > IKE Gateways > azure-ike-gw > General > Peer Address)");
    assert_eq!(texts[19], "nothing to change on PAN-OS: Azure's side is wrong");
    assert_eq!(
        d.remedy(&Remedy::Selectors { local: vec![Ipv4Net::default()], remote: vec![] }).split(':').next(),
        Some("`delete network tunnel ipsec azure-ipsec-tunnel auto-key proxy-id`")
    );
    assert!(d.remedy(&Remedy::ChildLifetimeBelow(150)).starts_with("nothing PAN-OS can set"));
    for s in [
        Symptom::PeerNotResponding,
        Symptom::Phase1NoProposal,
        Symptom::Phase2NoProposal,
        Symptom::AuthenticationFailed,
        Symptom::RekeyRefused,
        Symptom::SelectorsRefused,
        Symptom::DeadPeer,
        Symptom::NotRouted,
        Symptom::Blocked,
    ] {
        assert!(d.log_line(s).is_some(), "{s:?}");
    }
    assert_eq!(
        d.log_line(Symptom::PeerNotResponding).unwrap(),
        "IKEv2 IKE SA negotiation is failed as initiator, non-rekey. Failed SA: 172.16.0.2[500]-198.51.100.20[500] SPI:... due to timeout. (PAN-OS-style)"
    );
    assert!(d.log_line(Symptom::RekeyRefused).unwrap().contains("message lacks KE payload"));
    let v1 = load_file("ikev1-proxy-ids.set", None, None, &[]).unwrap();
    assert!(v1
        .log_line(Symptom::PeerNotResponding)
        .unwrap()
        .starts_with("IKE phase-1 negotiation is failed as initiator, main mode. Failed SA: 198.18.0.2[500]-198.18.0.10[500]"));
    assert!(v1.remedy(&Remedy::DeadPeerDetection).contains("protocol ikev1 dpd enable yes interval 5 retry 5"));
    assert_eq!(v1.proposals(&real_time(&v1, true).connections[0].children[0].esp_proposals), "aes-128-cbc/sha1/group14");
    assert_eq!(proposal::list(&[ike("aes256-sha256-modp2048")]), "aes256-sha256-modp2048");
}

#[test]
fn fixes_quote_names_with_spaces() {
    let d = load_file("multi.set", Some("to aws"), None, &lab()).unwrap();
    assert_eq!(d.check(), "show vpn ike-sa gateway aws-gw; test vpn ike-sa gateway aws-gw; show vpn ipsec-sa tunnel \"to aws\"; less mp-log ikemgr.log");
    assert!(d.remedy(&Remedy::PfsGroup(None)).starts_with("`set network ike crypto-profiles ipsec-crypto-profiles aws-ipsec dh-group no-pfs`"));
    let selectors = d.remedy(&Remedy::Selectors { local: vec![net("10.10.0.0/16")], remote: vec![net("10.30.0.0/16"), net("10.31.0.0/16")] });
    assert_eq!(
        selectors,
        "`set network tunnel ipsec \"to aws\" auto-key proxy-id proxy1 local 10.10.0.0/16 remote 10.30.0.0/16 protocol any` and `set network tunnel ipsec \"to aws\" auto-key proxy-id proxy2 local 10.10.0.0/16 remote 10.31.0.0/16 protocol any` (Network > IPSec Tunnels > \"to aws\" > Proxy IDs; each proxy-ID is its own SA)"
    );
    assert!(d.log_line(Symptom::AuthenticationFailed).unwrap().starts_with("IKE phase-1 negotiation is failed"), "an IKEv1 gateway's line");
    let rule = d.remedy(&Remedy::AllowForward { into_tunnel: true, src: net("10.10.0.0/16"), dst: net("10.30.0.0/16") });
    assert!(rule.contains("from trust to aws-vpn"), "{rule}");
}

#[test]
fn the_family_loads_through_the_device_seam() {
    let text = fixture("azure-paloalto.xml");
    let interfaces = lab();
    let source = DeviceSource { file: Path::new("azure-paloalto.xml"), text: &text, select: None, psk: Some(KEY), interfaces: &interfaces, choices: &[] };
    let device = crate::device::load("pan-os", &source).unwrap();
    assert_eq!(device.family(), "pan-os");
    assert_eq!(device.initiation(), Initiation::Either);
    assert!(device.import_report().is_some_and(|r| !r.entries.is_empty()));
    assert!(device.as_any().downcast_ref::<PanosDevice>().is_some());
    assert_eq!(device.clone_box().tunnel_routes(), [net("10.20.0.0/16")]);
}

#[test]
fn an_xml_list_written_as_text_is_read_as_its_one_value() {
    let text = fixture("azure-paloalto.xml")
        .replace("<dh-group>\n                  <member>group14</member>\n                </dh-group>", "<dh-group>group20</dh-group>");
    assert!(text.contains("<dh-group>group20</dh-group>"));
    let source = DeviceSource { file: Path::new("x.xml"), text: &text, select: None, psk: Some(KEY), interfaces: &[], choices: &[] };
    let d = load(&source).unwrap();
    assert_eq!(real_time(&d, true).connections[0].proposals, [ike("aes256-sha256-ecp384")]);
}
