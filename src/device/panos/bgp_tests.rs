//! The PAN-OS device's BGP import against realistic configurations: the shipped lab's BGP
//! variant (`set` form, APIPA on the tunnel interface, labs/azure-paloalto/dut/variants/bgp.set)
//! and an XML export peering from a loopback with Azure's GatewaySubnet address over multihop,
//! with redistribution profiles, import and export rules and a second virtual router
//! (tests/fixtures/panos/azure-paloalto-bgp.xml). Assertions are on the `BgpIntent` the FRR
//! driver gets and on the import report's entries.

use std::path::Path;

use super::tests::{addr, entry, fixture, lab, load_file, net, psk_file, report_text};
use super::*;
use crate::bgp::{AddressOn, BgpIntent, Neighbor, Policy, PrefixRule, Timers};
use crate::device::{Device, ImportStatus};

const VARIANT: &str = "labs/azure-paloalto/dut/variants/bgp.set";

fn variant_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(VARIANT);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The variant with `edit` applied to its text, loaded as the lab loads it.
fn variant_with(edit: impl Fn(String) -> String) -> Result<PanosDevice, Vec<DeviceError>> {
    let text = edit(variant_text());
    let key = psk_file();
    let interfaces = lab();
    let source = DeviceSource { file: Path::new(VARIANT), text: &text, select: None, psk: Some(&key), interfaces: &interfaces, choices: &[] };
    load(&source)
}

fn variant() -> PanosDevice {
    variant_with(|t| t).unwrap_or_else(|e| panic!("{e:?}"))
}

fn used(d: &PanosDevice, element: &str) -> String {
    match entry(d, element) {
        ImportStatus::Used { value } => value.clone(),
        other => panic!("{element} is not used: {other:?}\n{}", report_text(&d.report)),
    }
}

fn ignored(d: &PanosDevice, element: &str) -> String {
    match entry(d, element) {
        ImportStatus::Ignored { why } => why.clone(),
        other => panic!("{element} is not ignored: {other:?}\n{}", report_text(&d.report)),
    }
}

fn defaulted(d: &PanosDevice, element: &str) -> (String, String) {
    match entry(d, element) {
        ImportStatus::Defaulted { value, source } => (value.clone(), source.clone()),
        other => panic!("{element} is not defaulted: {other:?}\n{}", report_text(&d.report)),
    }
}

/// Refuse 0.0.0.0/0 exactly, then the rules, then everything else passes.
fn after_default(rules: &[PrefixRule]) -> Policy {
    let mut all = vec![PrefixRule { prefix: net("0.0.0.0/0"), or_longer: false, permit: false }];
    all.extend_from_slice(rules);
    Policy::Filter { rules: all, otherwise_permit: true }
}

const PEER: &str = "network virtual-router default protocol bgp peer-group azure peer azure-vpngw";

#[test]
fn the_shipped_variant_peers_from_its_apipa_tunnel_address_without_policy() {
    let d = variant();
    let expected = BgpIntent {
        asn: 65010,
        router_id: addr("10.10.0.1"),
        addresses: vec![(AddressOn::Tunnel, net("169.254.21.2/30"))],
        neighbors: vec![Neighbor {
            address: addr("169.254.21.1"),
            remote_asn: 65515,
            passive: false,
            update_source: Some(addr("169.254.21.2")),
            ebgp_multihop: None,
            timers: Some(Timers { keepalive_s: 60, hold_s: 180 }),
            max_prefix: Some(5000),
            max_prefix_restart_min: None,
            // reject-default-route (on by default) is the only import filter; nothing filters
            // the export: PAN-OS needs no policy on an eBGP session.
            import: after_default(&[]),
            export: Policy::None,
        }],
        networks: vec![net("10.10.0.0/16")],
        ebgp_requires_policy: false,
        timers: None,
        minimum_hold_s: None,
        install_routes: true,
    };
    assert_eq!(d.bgp.as_ref(), Some(&expected));
    assert_eq!(Device::bgp(&d), Some(expected.clone()));
    let n = &expected.neighbors[0];
    assert!(expected.exchanges(n, true) && expected.exchanges(n, false), "routes flow both ways without rules");
    // BGP routes the VNet: no static route into the tunnel.
    assert!(d.tunnel_routes().is_empty(), "{:?}", d.tunnel_routes());

    let (value, source) = defaulted(&d, "network virtual-router default protocol bgp (eBGP policy)");
    assert!(value.starts_with("none needed") && value.contains("no bgp ebgp-requires-policy"), "{value}");
    assert!(source.contains("no counterpart to FRR's `ebgp-requires-policy`") && source.contains("[P3]"), "{source}");
    assert_eq!(used(&d, "network virtual-router default protocol bgp enable"), "yes");
    assert_eq!(used(&d, "network virtual-router default protocol bgp local-as"), "AS 65010");
    assert!(used(&d, "network virtual-router default protocol bgp install-route").starts_with("yes"));
    assert_eq!(used(&d, &format!("{PEER} peer-address ip")), "169.254.21.1");
    assert!(used(&d, &format!("{PEER} local-address ip")).contains("put on the lab's tunnel as 169.254.21.2/30"));
    assert_eq!(used(&d, &format!("{PEER} connection-options hold-time")), "180 s");
    assert!(used(&d, &format!("{PEER} connection-options outgoing-bgp-connection allow")).starts_with("yes: the firewall opens"));
    let (multihop, source) = defaulted(&d, &format!("{PEER} connection-options multihop"));
    assert!(multihop.starts_with("0: a TTL of 1") && source.contains("The default value of 0 means 1 for eBGP"), "{multihop} [{source}]");
    assert_eq!(defaulted(&d, &format!("{PEER} max-prefixes")).0, "5000");
    assert!(used(&d, PEER).contains("neighbor 169.254.21.1 remote-as 65515, update-source 169.254.21.2"), "{}", used(&d, PEER));
    assert_eq!(
        used(&d, "network virtual-router default protocol redist-profile connected-lan"),
        "redistribution profile connected-lan: 10.10.0.0/16 (connected, ethernet1/2)"
    );
    assert!(ignored(&d, "network virtual-router default protocol bgp redist-rules connected-lan set-origin").starts_with("path attributes"));
    assert!(used(&d, "network interface tunnel units tunnel.1").contains("169.254.21.2/30: on the lab's tunnel, for BGP"));
    assert!(used(&d, "network virtual-router default protocol bgp").contains("peers 169.254.21.1 (AS 65515), originates 10.10.0.0/16"));
    // Every keyword of the variant is one the reader knows.
    let text = report_text(&d.report);
    assert!(!text.contains("is not a keyword"), "{text}");
    assert!(d.notes.iter().all(|n| !n.contains("BGP")), "{:?}", d.notes);
    let summary = d.summary(&d.intent(RunContext { starts_first: true, time_scale: 1.0 }));
    assert!(
        summary.contains(
            &"BGP AS 65010 in virtual router default (router-id 10.10.0.1): peer 169.254.21.1 AS 65515 from 169.254.21.2, timers 60/180; originates 10.10.0.0/16"
                .to_string()
        ),
        "{summary:?}"
    );
}

#[test]
fn an_xml_export_peering_from_a_loopback_over_multihop_with_rules_and_profiles() {
    let key = psk_file();
    let d = load_file("azure-paloalto-bgp.xml", None, Some(&key), &lab()).unwrap_or_else(|e| panic!("{e:?}"));
    let expected = BgpIntent {
        asn: 65010,
        router_id: addr("10.10.255.1"),
        addresses: vec![(AddressOn::Loopback, net("10.10.255.1/32"))],
        neighbors: vec![Neighbor {
            address: addr("10.20.255.30"),
            remote_asn: 65515,
            passive: false,
            update_source: Some(addr("10.10.255.1")),
            ebgp_multihop: Some(2),
            // PAN-OS's own defaults, not FRR's 60/180.
            timers: Some(Timers { keepalive_s: 30, hold_s: 90 }),
            max_prefix: Some(1000),
            max_prefix_restart_min: None,
            import: after_default(&[PrefixRule { prefix: net("10.20.0.0/16"), or_longer: true, permit: true }]),
            export: Policy::Filter {
                rules: vec![
                    PrefixRule { prefix: net("0.0.0.0/0"), or_longer: false, permit: false },
                    PrefixRule { prefix: net("10.10.0.0/16"), or_longer: true, permit: true },
                    PrefixRule { prefix: net("192.168.50.0/24"), or_longer: true, permit: true },
                ],
                otherwise_permit: true,
            },
        }],
        // The prefix rule, then the profiles' routes: the LAN and the loopback (connected, inside
        // 10.10.0.0/16) and the branch servers' static route; the default route and the route to
        // Azure's BGP IP are withheld.
        networks: vec![net("172.31.0.0/16"), net("10.10.0.0/16"), net("10.10.255.1/32"), net("192.168.50.0/24")],
        ebgp_requires_policy: false,
        timers: None,
        minimum_hold_s: None,
        // The export sets no install-route: PAN-OS's default keeps learned routes out.
        install_routes: false,
    };
    assert_eq!(d.bgp.as_ref(), Some(&expected));
    // The host route to Azure's BGP IP is the configuration's static route into tunnel.1.
    assert_eq!(d.tunnel_routes(), vec![net("10.20.255.30/32")]);

    let bgp = "network virtual-router default protocol bgp";
    let peer = format!("{bgp} peer-group azure peer azure-vpngw-in0");
    assert_eq!(defaulted(&d, &format!("{bgp} install-route")).0, "no");
    assert!(d.notes.iter().any(|n| n.starts_with("BGP install-route is off")), "{:?}", d.notes);
    assert!(defaulted(&d, &format!("{bgp} reject-default-route")).1.contains("pan-os-python"));
    assert_eq!(used(&d, &format!("{bgp} peer-group azure type ebgp")), "ebgp");
    assert!(used(&d, &format!("{peer} local-address ip")).contains("put on the node's loopback as 10.10.255.1/32"));
    assert_eq!(used(&d, &format!("{peer} connection-options multihop")), "2: ebgp-multihop 2");
    assert_eq!(defaulted(&d, &format!("{peer} connection-options keep-alive-interval")).0, "30 s");
    assert_eq!(defaulted(&d, &format!("{peer} connection-options hold-time")).0, "90 s");
    assert_eq!(used(&d, &format!("{peer} connection-options incoming-bgp-connection remote-port")), "0: any port");
    assert_eq!(ignored(&d, &format!("{bgp} peer-group azure peer azure-vpngw-in1")), "a disabled peer");
    assert!(ignored(&d, &format!("{peer} connection-options idle-hold-time")).contains("FRR's defaults apply"));
    assert!(ignored(&d, &format!("{peer} bfd")).starts_with("BFD"));
    assert!(ignored(&d, &format!("{bgp} peer-group azure type ebgp import-nexthop")).starts_with("next-hop handling"));
    assert!(ignored(&d, &format!("{bgp} routing-options")).starts_with("routing options"));
    assert!(ignored(&d, &format!("{bgp} policy export rules by-community")).starts_with("matches on community"));
    assert!(ignored(&d, &format!("{bgp} policy import rules vnet-from-azure action allow update")).starts_with("attribute changes"));
    assert_eq!(used(&d, &format!("{bgp} policy export rules branch-only")), "export rule for azure: allow 10.10.0.0/16 or longer, 192.168.50.0/24 or longer");
    assert!(defaulted(&d, &format!("{bgp} policy export rules branch-only match address-prefix 192.168.50.0/24 exact")).0.starts_with("no"));
    assert_eq!(
        used(&d, "network virtual-router default protocol redist-profile not-into-azure"),
        "redistribution profile not-into-azure: withholds 10.20.255.30/32 (static route azure-bgp-peer)"
    );
    assert_eq!(
        used(&d, "network virtual-router default protocol redist-profile statics"),
        "redistribution profile statics: withholds 0.0.0.0/0 (static route default-route) (allow-redist-default-route no); 192.168.50.0/24 (static route branch-servers)"
    );
    assert!(used(&d, &format!("{bgp} redist-rules 172.31.0.0/16")).starts_with("originates 172.31.0.0/16"));
    assert_eq!(ignored(&d, "network virtual-router default protocol redist-profile unused-ospf"), "no redistribution rule of BGP names this profile");
    assert!(ignored(&d, "network virtual-router default protocol ospf").starts_with("OSPF and RIP"));
    assert!(ignored(&d, "network virtual-router mgmt-vr protocol bgp").contains("which does not hold tunnel.1"));
}

#[test]
fn both_formats_give_the_same_speaker() {
    // The variant's BGP, written as the firewall exports it, in place of the XML fixture's.
    let xml = fixture("azure-paloalto.xml")
        .replace(
            "<entry name=\"tunnel.1\">\n                <comment>",
            "<entry name=\"tunnel.1\">\n                <ip><entry name=\"169.254.21.2/30\"/></ip>\n                <comment>",
        )
        .replace(
            "            </routing-table>\n          </entry>\n        </virtual-router>",
            r#"            </routing-table>
            <protocol>
              <redist-profile><entry name="connected-lan"><priority>1</priority><filter><type><member>connect</member></type><interface><member>ethernet1/2</member></interface></filter><action><redist/></action></entry></redist-profile>
              <bgp>
                <enable>yes</enable><router-id>10.10.0.1</router-id><local-as>65010</local-as><install-route>yes</install-route>
                <peer-group><entry name="azure"><type><ebgp/></type><peer><entry name="azure-vpngw">
                  <peer-as>65515</peer-as>
                  <local-address><interface>tunnel.1</interface><ip>169.254.21.2/30</ip></local-address>
                  <peer-address><ip>169.254.21.1</ip></peer-address>
                  <connection-options><keep-alive-interval>60</keep-alive-interval><hold-time>180</hold-time><outgoing-bgp-connection><allow>yes</allow></outgoing-bgp-connection></connection-options>
                </entry></peer></entry></peer-group>
                <redist-rules><entry name="connected-lan"><enable>yes</enable><set-origin>incomplete</set-origin></entry></redist-rules>
              </bgp>
            </protocol>
          </entry>
        </virtual-router>"#,
        );
    let key = psk_file();
    let interfaces = lab();
    let source = DeviceSource { file: Path::new("bgp.xml"), text: &xml, select: None, psk: Some(&key), interfaces: &interfaces, choices: &[] };
    let from_xml = load(&source).unwrap_or_else(|e| panic!("{e:?}"));
    let from_set = variant();
    assert!(from_xml.bgp.is_some());
    // The XML still has its static route to the VNet; the speakers are the same.
    assert_eq!(from_xml.bgp, from_set.bgp);
}

#[test]
fn the_firewall_waiting_for_azure_is_passive() {
    let d = variant_with(|t| t.replace("outgoing-bgp-connection allow yes", "outgoing-bgp-connection allow no")).unwrap();
    let n = &d.bgp.as_ref().unwrap().neighbors[0];
    assert!(n.passive);
    assert!(used(&d, &format!("{PEER} connection-options outgoing-bgp-connection allow")).contains("waits for the peer (passive)"));
}

#[test]
fn bgp_disabled_or_in_another_virtual_router_runs_no_speaker() {
    let d = variant_with(|t| t.replace("protocol bgp enable yes", "protocol bgp enable no")).unwrap();
    assert_eq!(d.bgp, None);
    assert!(ignored(&d, "network virtual-router default protocol bgp").starts_with("BGP is disabled"));
    assert_eq!(ignored(&d, "network virtual-router default protocol redist-profile connected-lan"), "BGP is disabled: nothing redistributes through it");

    // The tunnel's interface moved to another virtual router: the default one's BGP cannot use it.
    let d = variant_with(|t| {
        t.replace("interface [ ethernet1/1 ethernet1/2 tunnel.1 ]", "interface [ ethernet1/1 ethernet1/2 ]")
            .replace("set zone trust", "set network virtual-router vpn interface tunnel.1\nset zone trust")
    })
    .unwrap();
    assert_eq!(d.bgp, None);
    assert!(ignored(&d, "network virtual-router default protocol bgp").contains("which does not hold tunnel.1"));

    // A confederation group is not modelled: no peer is left.
    let d = variant_with(|t| t.replace("peer-group azure type ebgp", "peer-group azure type ebgp-confed")).unwrap();
    assert_eq!(d.bgp, None);
    assert!(ignored(&d, "network virtual-router default protocol bgp peer-group azure").contains("confederations are not modelled"));
    assert!(d.notes.iter().any(|n| n.contains("no peer the lab can run")), "{:?}", d.notes);
}

#[test]
fn a_broken_speaker_names_the_line_the_element_and_what_is_valid() {
    let e = variant_with(|t| t.replace(" local-as 65010", "")).expect_err("no local AS");
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!((e[0].line, e[0].element.as_str()), (Some(30), "network virtual-router default protocol bgp"));
    assert_eq!(e[0].message, "BGP is enabled without a local AS");

    let e = variant_with(|t| t.replace("peer-as 65515", "peer-as AS65515")).expect_err("a broken peer AS");
    assert_eq!((e[0].line, e[0].element.as_str()), (Some(32), "network virtual-router default protocol bgp peer-group azure peer azure-vpngw peer-as"));
    assert_eq!(e[0].message, "`AS65515` is not an AS number");

    let e = variant_with(|t| t.replace("hold-time 180", "hold-time 2")).expect_err("a hold time below 3");
    assert_eq!(e[0].element, format!("{PEER} connection-options hold-time"));
    assert_eq!(e[0].hint.as_deref(), Some("3 to 3600 seconds"));
}

#[test]
fn an_md5_secret_is_reported_without_its_value() {
    let d = variant_with(|t| {
        t.replace(
            "set network virtual-router default protocol bgp peer-group azure type ebgp",
            "set network virtual-router default protocol bgp auth-profile azure-md5 secret Sup3r-S3cret\n\
             set network virtual-router default protocol bgp peer-group azure type ebgp\n\
             set network virtual-router default protocol bgp peer-group azure peer azure-vpngw connection-options authentication azure-md5",
        )
    })
    .unwrap();
    let text = report_text(&d.report);
    assert!(!text.contains("Sup3r-S3cret") && !format!("{d:?}").contains("Sup3r-S3cret"), "{text}");
    assert!(ignored(&d, &format!("{PEER} connection-options authentication")).starts_with("MD5 authentication (auth profile azure-md5)"));
    assert!(ignored(&d, "network virtual-router default protocol bgp auth-profile").starts_with("MD5 authentication profiles"));
    // The session itself still runs.
    assert_eq!(d.bgp.as_ref().map(|b| b.neighbors.len()), Some(1));
}

#[test]
fn the_loopback_variant_peers_over_multihop_through_its_host_route() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("labs/azure-paloalto/dut/variants/bgp-loopback.set")).unwrap();
    let key = psk_file();
    let interfaces = lab();
    let source = DeviceSource { file: Path::new("bgp-loopback.set"), text: &text, select: None, psk: Some(&key), interfaces: &interfaces, choices: &[] };
    let d = load(&source).unwrap_or_else(|e| panic!("{e:?}"));
    let b = d.bgp.as_ref().expect("a speaker");
    assert_eq!(b.addresses, vec![(AddressOn::Loopback, net("10.10.255.1/32"))]);
    assert_eq!(b.router_id, addr("10.10.255.1"));
    let n = &b.neighbors[0];
    assert_eq!((n.address, n.update_source, n.ebgp_multihop, n.passive), (addr("10.20.255.30"), Some(addr("10.10.255.1")), Some(2), false));
    assert_eq!(n.timers, Some(Timers { keepalive_s: 30, hold_s: 90 }), "PAN-OS's defaults");
    // The loopback is in the virtual router, but the profile takes ethernet1/2's network only.
    assert_eq!(b.networks, vec![net("10.10.0.0/16")]);
    assert_eq!(d.tunnel_routes(), vec![net("10.20.255.30/32")]);
    assert!(!report_text(&d.report).contains("is not a keyword"));
}

#[test]
fn bgp_fixes_name_this_configuration_s_virtual_router_group_and_peer() {
    use crate::device::{Remedy, Vocabulary};
    let d = variant();
    assert_eq!(
        d.remedy(&Remedy::BgpActive),
        format!("`set {PEER} connection-options outgoing-bgp-connection allow yes` (BGP > Peer Group > Peer > Connection Options > Outgoing Connections: Allow; Azure does not open sessions towards an APIPA peer)")
    );
    assert_eq!(d.remedy(&Remedy::BgpPeerAsn(65515)), format!("`set {PEER} peer-as 65515` (BGP > Peer Group > Peer > Peer AS)"));
    assert!(d.remedy(&Remedy::BgpHoldTime(180)).starts_with(&format!("`set {PEER} connection-options hold-time 180 keep-alive-interval 60`")));
    // Without BGP in the file, the virtual router holding the tunnel and placeholders.
    let plain = super::tests::load_file("azure-paloalto.set", None, Some(&psk_file()), &lab()).unwrap();
    assert!(plain
        .remedy(&Remedy::BgpPeerAsn(65515))
        .starts_with("`set network virtual-router default protocol bgp peer-group <GROUP> peer <PEER> peer-as 65515`"));
}
