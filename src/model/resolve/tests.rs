//! Lab-file validation: the shipped lab resolves as intended, and every kind of mistake gets
//! its message (snapshotted, so a change in wording is a reviewed change).

use std::path::Path;

use super::parse;
use crate::ike::intent::IkeVersion;
use crate::model::NextHop;

const SHIPPED: &str = include_str!("../../../labs/azure-strongswan/lab.yaml");
const FILE: &str = "labs/azure-strongswan/lab.yaml";

/// The shipped lab with one edit; panics if the edit does not apply, so a test can never
/// silently check the unmodified file.
fn edited(from: &str, to: &str) -> String {
    assert!(SHIPPED.contains(from), "edit target not found in the shipped lab: {from}");
    SHIPPED.replacen(from, to, 1)
}

fn errors(text: &str) -> String {
    match parse(Path::new(FILE), text) {
        Ok(_) => panic!("the lab was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn shipped_lab_resolves() {
    let lab = parse(Path::new(FILE), SHIPPED).unwrap();
    assert_eq!(lab.name, "azure-strongswan");
    let names: Vec<&str> = lab.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["lan-pc", "firewall", "branch-nat", "internet", "azure-gw", "azure-vm"]);
    assert_eq!(lab.links.len(), 5);
    assert_eq!(lab.plan.initiator, "firewall");
    assert_eq!(lab.plan.probes.len(), 2);

    let gw = lab.node("azure-gw").unwrap();
    let intent = gw.intent().expect("azure-gw runs an IKE daemon");
    assert_eq!(gw.ipsec().unwrap().device.family(), "azure");
    let conn = &intent.connections[0];
    assert_eq!(conn.version, IkeVersion::V2);
    assert_eq!(conn.proposals.iter().map(ToString::to_string).collect::<Vec<_>>(), ["aes256-sha256-modp2048"]);
    assert_eq!(conn.children[0].esp_proposals.iter().map(ToString::to_string).collect::<Vec<_>>(), ["aes256-sha256"]);
    assert_eq!(conn.remote_addrs, ["203.0.113.10"]);
    assert!(conn.children[0].is_any_to_any());
    // The LNG prefix becomes a route into the tunnel, as Azure installs it.
    assert!(gw.routes.iter().any(|r| r.to.to_string() == "10.10.0.0/16" && r.via == NextHop::Tunnel));
    assert_eq!(intent.secrets[0].secret, "S2sVpnAzure!Psk#2026");
    let (fw_node, fw) = lab.dut().expect("a device under test");
    assert_eq!((fw_node.name.as_str(), fw.device.family()), ("firewall", "strongswan"));
    assert_eq!(fw.intent.first_child().map(|(c, ch)| (c.name.as_str(), ch.name.as_str())), Some(("azure-ike-gw", "azure-ipsec-tunnel")));

    let fw = lab.node("firewall").unwrap();
    assert!(fw.routes.iter().any(|r| r.to.to_string() == "10.20.0.0/16" && r.via == NextHop::Tunnel));
}

#[test]
fn malformed_yaml() {
    insta::assert_snapshot!(errors(&edited(
        "    kind: host\n    interfaces:\n      eth0: 10.10.0.5/16",
        "    kind: host\n    interfaces: [eth0: 10.10.0.5/16"
    )));
}

#[test]
fn unknown_field() {
    insta::assert_snapshot!(errors(&edited("    kind: nat-router\n", "    kind: nat-router\n    colour: blue\n")));
}

#[test]
fn unknown_azure_property() {
    insta::assert_snapshot!(errors(&edited("        vpnType: RouteBased", "        vpnTyp: RouteBased")));
}

#[test]
fn invalid_cidr() {
    insta::assert_snapshot!(errors(&edited("eth0: 10.20.0.4/16", "eth0: 10.20.0.400/16")));
}

#[test]
fn network_address_on_an_interface() {
    insta::assert_snapshot!(errors(&edited("eth0: 10.20.0.4/16", "eth0: 10.20.0.0/16")));
}

#[test]
fn duplicate_node_name() {
    insta::assert_snapshot!(errors(&edited("  azure-vm:\n", "  lan-pc:\n")));
}

#[test]
fn link_to_missing_node() {
    insta::assert_snapshot!(errors(&edited("[azure-gw:vnet, azure-vm:eth0]", "[azure-gw:vnet, azure-vn:eth0]")));
}

#[test]
fn link_to_missing_interface() {
    insta::assert_snapshot!(errors(&edited("[lan-pc:eth0, firewall:lan]", "[lan-pc:eth0, firewall:inside]")));
}

#[test]
fn unknown_kind() {
    insta::assert_snapshot!(errors(&edited("    kind: router\n", "    kind: switch\n")));
}

#[test]
fn bad_proposal_keyword() {
    insta::assert_snapshot!(errors(&edited("proposals: [aes256-sha256-modp2048]", "proposals: [aes256-sha265-modp2048]")));
}

#[test]
fn gateway_off_subnet() {
    insta::assert_snapshot!(errors(&edited("    gateway: 10.10.0.1\n", "    gateway: 10.11.0.1\n")));
}

#[test]
fn azure_value_not_in_azure_vocabulary() {
    insta::assert_snapshot!(errors(&edited("dhGroup: DHGroup14", "dhGroup: DH14")));
}

#[test]
fn azure_shared_key_with_a_space() {
    let text = SHIPPED.replace("sharedKey: \"S2sVpnAzure!Psk#2026\"", "sharedKey: \"S2sVpnAzure!Psk#2026 \"");
    insta::assert_snapshot!(errors(&text));
}

#[test]
fn azure_dpd_timeout_out_of_range() {
    insta::assert_snapshot!(errors(&edited("dpdTimeoutSeconds: 45", "dpdTimeoutSeconds: 5")));
}

#[test]
fn azure_custom_policy_on_basic_sku() {
    insta::assert_snapshot!(errors(&edited("sku: VpnGw2AZ", "sku: Basic")));
}

#[test]
fn azure_gcm_integrity_mismatch() {
    insta::assert_snapshot!(errors(&edited("ipsecEncryption: AES256", "ipsecEncryption: GCMAES256")));
}

#[test]
fn duplicate_address() {
    insta::assert_snapshot!(errors(&edited("eth0: 10.20.0.4/16", "eth0: 10.20.0.1/16").replace("    gateway: 10.20.0.1\n\nlinks", "\nlinks")));
}

#[test]
fn link_between_subnets() {
    insta::assert_snapshot!(errors(&edited("wan: 172.16.0.2/30", "wan: 172.16.0.6/30").replace("gateway: 172.16.0.1", "gateway: 172.16.0.5")));
}

#[test]
fn unconnected_interface() {
    insta::assert_snapshot!(errors(&edited("  - endpoints: [azure-gw:vnet, azure-vm:eth0]\n", "")));
}

#[test]
fn initiator_without_ike_daemon() {
    insta::assert_snapshot!(errors(&edited("initiator: firewall", "initiator: lan-pc")));
}

#[test]
fn several_problems_are_all_reported() {
    let text = edited("dhGroup: DHGroup14", "dhGroup: DH14").replace("eth0: 10.20.0.4/16", "eth0: 10.20.0.400/16");
    // A syntax-level error stops at the first problem; resolution errors are collected.
    assert!(errors(&text).contains("invalid IP address") || errors(&text).contains("10.20.0.400"));
    let text = edited("dhGroup: DHGroup14", "dhGroup: DH14").replace("dpdTimeoutSeconds: 45", "dpdTimeoutSeconds: 4000");
    let out = errors(&text);
    assert!(out.contains("2 problems in"), "{out}");
    insta::assert_snapshot!(out);
}

// --- Azure rules, each refused the way Azure would, naming the rule -------------------------

#[test]
fn azure_policy_based_with_ikev2() {
    let text = edited("        vpnType: RouteBased\n        sku: VpnGw2AZ\n", "        vpnType: PolicyBased\n        sku: Basic\n").replace(
        "        ipsecPolicies:\n          - saLifeTimeSeconds: 27000\n            saDataSizeKilobytes: 102400000\n            ipsecEncryption: AES256\n            ipsecIntegrity: SHA256\n            ikeEncryption: AES256\n            ikeIntegrity: SHA256\n            dhGroup: DHGroup14\n            pfsGroup: None\n",
        "",
    );
    insta::assert_snapshot!(errors(&text));
}

#[test]
fn azure_policy_based_on_a_vpngw_sku() {
    insta::assert_snapshot!(errors(
        &edited("        vpnType: RouteBased\n", "        vpnType: PolicyBased\n").replace("connectionProtocol: IKEv2", "connectionProtocol: IKEv1")
    ));
}

#[test]
fn azure_bgp_on_basic() {
    let text = edited("        sku: VpnGw2AZ\n", "        sku: Basic\n        enableBgp: true\n");
    insta::assert_snapshot!(errors(&text));
}

#[test]
fn azure_ikev1_on_route_based_basic() {
    let text = edited("        sku: VpnGw2AZ\n", "        sku: Basic\n").replace("connectionProtocol: IKEv2", "connectionProtocol: IKEv1").replace(
        "        ipsecPolicies:\n          - saLifeTimeSeconds: 27000\n            saDataSizeKilobytes: 102400000\n            ipsecEncryption: AES256\n            ipsecIntegrity: SHA256\n            ikeEncryption: AES256\n            ikeIntegrity: SHA256\n            dhGroup: DHGroup14\n            pfsGroup: None\n",
        "",
    );
    insta::assert_snapshot!(errors(&text));
}

#[test]
fn azure_policy_based_selectors_need_ikev2() {
    let text = edited("connectionProtocol: IKEv2", "connectionProtocol: IKEv1")
        .replace("        connectionMode: Default\n", "        connectionMode: Default\n        usePolicyBasedTrafficSelectors: true\n");
    insta::assert_snapshot!(errors(&text));
}

#[test]
fn azure_responder_only_cannot_initiate() {
    let text = edited("connectionMode: Default", "connectionMode: ResponderOnly").replace("initiator: firewall", "initiator: azure-gw");
    insta::assert_snapshot!(errors(&text));
}

#[test]
fn azure_local_network_gateway_address_not_in_the_lab() {
    insta::assert_snapshot!(errors(&edited("gatewayIpAddress: 203.0.113.10", "gatewayIpAddress: 52.170.1.10")));
}

#[test]
fn azure_reserved_asn() {
    let text = edited(
        "        gatewayIpAddress: 203.0.113.10\n",
        "        gatewayIpAddress: 203.0.113.10\n        bgpSettings: { asn: 65515, bgpPeeringAddress: 10.10.255.1 }\n",
    );
    insta::assert_snapshot!(errors(&text));
}

#[test]
fn azure_missing_shared_key() {
    insta::assert_snapshot!(errors(&edited("        sharedKey: \"S2sVpnAzure!Psk#2026\"\n", "")));
}

#[test]
fn azure_fqdn_without_a_dns_record() {
    insta::assert_snapshot!(errors(&edited("gatewayIpAddress: 203.0.113.10", "fqdn: branch.example.com")));
}

#[test]
fn azure_unknown_model_switch_value() {
    insta::assert_snapshot!(errors(&edited("    azure:\n", "    azure:\n      model: { narrowedTrafficSelectors: maybe }\n")));
}

#[test]
fn time_scale_out_of_range() {
    insta::assert_snapshot!(errors(&edited("name: azure-strongswan\n", "name: azure-strongswan\ntime_scale: 0.5\n")));
}

#[test]
fn azure_active_active_on_basic() {
    let text = edited("        sku: VpnGw2AZ\n", "        sku: Basic\n        activeActive: true\n").replace(
        "        ipsecPolicies:\n          - saLifeTimeSeconds: 27000\n            saDataSizeKilobytes: 102400000\n            ipsecEncryption: AES256\n            ipsecIntegrity: SHA256\n            ikeEncryption: AES256\n            ikeIntegrity: SHA256\n            dhGroup: DHGroup14\n            pfsGroup: None\n",
        "",
    );
    insta::assert_snapshot!(errors(&text));
}

#[test]
fn azure_notes_for_accepted_but_ignored_settings() {
    let text = edited("        connectionMode: Default\n", "        connectionMode: Default\n        trafficSelectorPolicies:\n          - { localAddressRanges: [10.20.1.0/24], remoteAddressRanges: [10.10.1.0/24] }\n");
    let lab = parse(Path::new(FILE), &text).unwrap();
    assert_eq!(
        lab.notes,
        ["azure-gw: connection: trafficSelectorPolicies take effect only with usePolicyBasedTrafficSelectors; ignored (rule traffic-selector-policies)"]
    );
}

#[test]
fn azure_resources_imported_from_exports() {
    let file = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/azure/lab.yaml"));
    let lab = crate::model::load(file).unwrap();
    let (_, site, _) = lab.azure_gateway().expect("a gateway");
    assert_eq!(site.gateway.name, "vnetgw-prod-01");
    assert_eq!(site.gateway.sku, crate::device::azure::Sku::VpnGw2AZ);
    assert_eq!(site.gateway.public_ip.to_string(), "198.51.100.20", "the lab's address, not the export's");
    assert_eq!(site.vnet_prefixes.iter().map(|p| p.to_string()).collect::<Vec<_>>(), ["10.20.0.0/16"]);
    assert_eq!(site.local_gateway.prefixes.len(), 2);
    let c = &site.connection;
    assert_eq!(c.name, "cn-paloalto-custom");
    assert_eq!(c.mode, crate::device::azure::ConnectionMode::ResponderOnly);
    assert_eq!(c.dpd_timeout_seconds, 30);
    assert!(c.policy_based_selectors);
    assert_eq!(c.selector_policies.len(), 1);
    assert_eq!(c.policy.as_ref().unwrap().ike_proposal().to_string(), "aes256-sha256-modp2048");
    assert!(lab.notes.iter().any(|n| n.contains("ignored 11 read-only or deployment properties")), "{:#?}", lab.notes);
}

#[test]
fn azure_import_problems_name_the_export() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/azure"));
    for f in ["lab.yaml", "vnet-gateway.cli.json", "vnet.cli.json", "local-gateway.cli.json", "connection.cli.json"] {
        std::fs::copy(fixtures.join(f), dir.path().join(f)).unwrap();
    }
    // connection.cli.json has no sharedKey (az network vpn-connection show leaves it out).
    let text = std::fs::read_to_string(dir.path().join("lab.yaml")).unwrap().replace("connection-custom-policy.cli.json", "connection.cli.json");
    std::fs::write(dir.path().join("lab.yaml"), &text).unwrap();
    let err = crate::model::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("the connection has no sharedKey"), "{err}");
    assert!(err.contains("az network vpn-connection shared-key show"), "{err}");
    // A missing export.
    std::fs::write(dir.path().join("lab.yaml"), text.replace("vnet.cli.json", "nosuch.json")).unwrap();
    let err = crate::model::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("nosuch.json"), "{err}");
    assert!(err.contains("virtualNetwork.import"), "{err}");
}

// --- Secrets never printed (issue 7) ---------------------------------------------------------

const PSKS: [&str; 2] = ["S2sVpnAzure!Psk#2026", "H0me!Lab#Psk2026"];

/// The errors for `text`, checked to quote no part of the shipped keys.
fn secret_free_errors(text: &str) -> String {
    let out = errors(text);
    for psk in PSKS {
        assert!(!out.contains(psk), "a pre-shared key in:\n{out}");
        assert!(!out.contains(&psk[..10]), "part of a pre-shared key in:\n{out}");
    }
    out
}

const KEY_LINE: &str = "        sharedKey: \"S2sVpnAzure!Psk#2026\"\n";

#[test]
fn shared_key_with_a_newline_is_not_shown() {
    insta::assert_snapshot!(secret_free_errors(&edited(KEY_LINE, "        sharedKey: \"S2sVpnAzure!Psk#2026\\n\"\n")));
}

#[test]
fn shared_key_as_a_block_scalar_is_not_shown() {
    insta::assert_snapshot!(secret_free_errors(&edited(KEY_LINE, "        sharedKey: |\n          S2sVpnAzure!Psk#2026\n")));
}

#[test]
fn shared_key_of_200_characters_is_not_shown() {
    let long = format!("        sharedKey: \"S2sVpnAzure!Psk#2026{}\"\n", "x".repeat(180));
    insta::assert_snapshot!(secret_free_errors(&edited(KEY_LINE, &long)));
}

#[test]
fn shared_key_with_unicode_is_not_shown() {
    insta::assert_snapshot!(secret_free_errors(&edited(KEY_LINE, "        sharedKey: \"S2sVpnAzure!Psk#2026é\"\n")));
}

#[test]
fn shared_key_with_an_unterminated_quote_is_not_shown() {
    insta::assert_snapshot!(secret_free_errors(&edited(KEY_LINE, "        sharedKey: \"S2sVpnAzure!Psk#2026\n")));
}

#[test]
fn dut_secret_with_an_unterminated_quote_is_not_shown_where_the_parser_stops() {
    // The string runs on to the next `"`, the sharedKey line 42 lines below: reported there.
    let out = secret_free_errors(&edited("          secret: \"S2sVpnAzure!Psk#2026\"", "          secret: \"S2sVpnAzure!Psk#2026"));
    insta::assert_snapshot!(out);
}

#[test]
fn dut_secret_in_flow_style_is_not_shown() {
    let text = edited(
        "        - ids: [203.0.113.10, 198.51.100.20]\n          secret: \"S2sVpnAzure!Psk#2026\"",
        "        - { ids: [203.0.113.10, 198.51.100.20], secret: S2sVpnAzure!Psk#2026, colour: red }",
    );
    insta::assert_snapshot!(secret_free_errors(&text));
}

#[test]
fn shared_key_in_an_export_is_not_shown() {
    let dir = tempfile::tempdir().unwrap();
    let export = r#"{"name": "cn", "type": "Microsoft.Network/connections", "properties": {"connectionType": "IPsec", "sharedKey": "S2sVpnAzure!Psk#2026 "}}"#;
    std::fs::write(dir.path().join("connection.json"), export).unwrap();
    let text = edited(KEY_LINE, "        import: connection.json\n");
    std::fs::write(dir.path().join("lab.yaml"), &text).unwrap();
    let out = crate::model::load(dir.path()).unwrap_err().to_string();
    assert!(!out.contains("S2sVpnAzure"), "{out}");
    let out = out.replace(&dir.path().display().to_string(), "LAB");
    assert_eq!(
        out,
        "error: connection.json (imported by LAB/lab.yaml): nodes.azure-gw.azure.connection.sharedKey: the shared key contains a space at position 21; Azure accepts printable ASCII except space, hyphen (-) and tilde (~)\n"
    );
}

#[test]
fn debug_of_errors_leaves_the_text_out() {
    let e = parse(Path::new(FILE), &edited("dpdTimeoutSeconds: 45", "dpdTimeoutSeconds: 4")).unwrap_err();
    let debug = format!("{e:?}");
    assert!(!debug.contains("S2sVpnAzure") && debug.contains("bytes>"), "{debug}");
}

// --- Error gaps (issue 7) --------------------------------------------------------------------

#[test]
fn invalid_number_says_what_is_valid() {
    insta::assert_snapshot!(errors(&edited("dpdTimeoutSeconds: 45", "dpdTimeoutSeconds: forty-five")));
}

#[test]
fn scalar_where_a_list_belongs_says_what_is_valid() {
    insta::assert_snapshot!(errors(&edited("remote_addrs: [198.51.100.20]", "remote_addrs: 198.51.100.20")));
}

#[test]
fn empty_file_says_what_is_valid() {
    assert_eq!(
        errors(""),
        "error: labs/azure-strongswan/lab.yaml:1:1: unexpected end of input\n  = valid: the file ends where a value must follow: a lab is a mapping with at least `name:` and `nodes:` (see labs/azure-strongswan/lab.yaml)\n"
    );
}

#[test]
fn tab_is_reported_on_its_own_line() {
    // The scanner gives up at the end of the line before (`kind: host`).
    insta::assert_snapshot!(errors(&edited(
        "    kind: host\n    interfaces:\n      eth0: 10.10.0.5/16",
        "    kind: host\n\tinterfaces:\n      eth0: 10.10.0.5/16"
    )));
}

#[test]
fn missing_field_is_reported_under_its_own_path() {
    insta::assert_snapshot!(errors(&edited("name: azure-strongswan\n", "")));
    let out = errors(&edited("          local: { auth: psk, id: 203.0.113.10 }\n", ""));
    assert!(out.contains(": nodes.firewall.strongswan.connections.azure-ike-gw.local: missing field `local`"), "{out}");
    let out = errors(&edited("    - ping: { from: lan-pc, to: 10.20.0.4 }", "    - ping: { to: 10.20.0.4, size: 100 }"));
    assert!(out.contains(": run.probes[0].ping.from: missing field `from`\n"), "{out}");
}

#[test]
fn misspelt_kind_is_one_error_with_a_suggestion() {
    insta::assert_snapshot!(errors(&edited("    kind: nat-router\n", "    kind: hots\n")));
    let out = errors(&edited("  lan-pc:\n    kind: host\n", "  lan-pc:\n    kind: hots\n"));
    assert!(out.contains("unknown node kind `hots`; did you mean `host`?") && !out.contains("problems in"), "{out}");
}

#[test]
fn long_line_is_cut_around_the_column() {
    let long = format!("        name: lng-paloalto-hq\n        gatewayIpAddress: 203.0.113.10 # {}\n", "a".repeat(300));
    let text = edited("        name: lng-paloalto-hq\n        gatewayIpAddress: 203.0.113.10\n", &long)
        .replace("dhGroup: DHGroup14", &format!("dhGroup: DH14 {}", "b".repeat(250)));
    insta::assert_snapshot!(errors(&text));
}

#[test]
fn export_without_required_properties_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let lng = r#"{"name": "lng-hq", "type": "Microsoft.Network/localNetworkGateways", "properties": {"gatewayIpAddress": "203.0.113.10"}}"#;
    std::fs::write(dir.path().join("lng.json"), lng).unwrap();
    let gw = r#"{"name": "gw", "type": "Microsoft.Network/virtualNetworkGateways", "properties": {"sku": {"name": "VpnGw2AZ"}}}"#;
    std::fs::write(dir.path().join("gw.json"), gw).unwrap();
    let text = edited(
        "        name: lng-paloalto-hq\n        gatewayIpAddress: 203.0.113.10\n        localNetworkAddressSpace:\n          addressPrefixes: [10.10.0.0/16]\n",
        "        import: lng.json\n",
    )
    .replace("        name: vnetgw-prod-01\n        vpnType: RouteBased\n        sku: VpnGw2AZ\n", "        import: gw.json\n");
    std::fs::write(dir.path().join("lab.yaml"), &text).unwrap();
    let out = crate::model::load(dir.path()).unwrap_err().to_string().replace(&dir.path().display().to_string(), "LAB");
    insta::assert_snapshot!(out);
}

#[test]
fn import_paths_stay_inside_the_lab_folder() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("lng.json"), "{}").unwrap();
    std::os::unix::fs::symlink(outside.path().join("lng.json"), dir.path().join("link.json")).unwrap();
    let at = "        name: lng-paloalto-hq\n";
    for (import, problem) in [
        ("../../etc/passwd", "`../../etc/passwd` leads out of the lab's folder (`..`); imports are read from the lab's folder only"),
        ("/etc/passwd", "`/etc/passwd` is an absolute path; imports are read from the lab's folder only"),
        ("exports/../../x.json", "`exports/../../x.json` leads out of the lab's folder (`..`); imports are read from the lab's folder only"),
        ("link.json", "`link.json` resolves (through a symbolic link) to OUT/lng.json, outside the lab's folder"),
    ] {
        let text = edited(at, &format!("        import: {import}\n{at}"));
        std::fs::write(dir.path().join("lab.yaml"), &text).unwrap();
        let out = crate::model::load(dir.path()).unwrap_err().to_string();
        let out = out.replace(&outside.path().canonicalize().unwrap().display().to_string(), "OUT").replace(&dir.path().display().to_string(), "LAB");
        assert_eq!(
            out,
            format!(
                "error: LAB/lab.yaml:82:17: nodes.azure-gw.azure.localNetworkGateway.import: {problem}\n   |\n82 |         import: {import}\n   |                 ^\n  = valid: a path relative to the lab's folder and inside it, e.g. `import: exports/connection.json`\n"
            )
        );
    }
}

/// The device keys: a family that does not exist, a vendor device without its file or with the
/// strongSwan device's keys, a key of another family, a file outside the lab.
#[test]
fn device_keys() {
    insta::assert_snapshot!(errors(&edited("    kind: dut\n", "    kind: dut\n    device: panos\n")));
    let vendor = "    kind: dut\n    device: pan-os\n";
    insta::assert_snapshot!(errors(&edited("    kind: dut\n", vendor)));
    insta::assert_snapshot!(errors(&edited("    kind: dut\n", "    kind: dut\n    phase1: 2\n")));
    insta::assert_snapshot!(errors(&edited("    kind: dut\n", "    kind: dut\n    device: pfsense\n    config: ../../etc/passwd\n")));
}

/// `choices:` sets a default on which the vendor's sources disagree: the intent follows it and
/// the import report names the value used; a choice the family does not offer, or a value the
/// choice does not take, is refused at its line with the valid ones.
#[test]
fn device_choices() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = Path::new("labs/azure-paloalto");
    std::fs::create_dir_all(dir.path().join("dut")).unwrap();
    // The shipped firewall with an IPsec crypto profile that names no dh-group.
    let config = std::fs::read_to_string(shipped.join("dut/running-config.set")).unwrap();
    assert!(config.contains(" dh-group no-pfs "));
    std::fs::write(dir.path().join("dut/running-config.set"), config.replace(" dh-group no-pfs ", " ")).unwrap();
    std::fs::copy(shipped.join("dut/psk.txt"), dir.path().join("dut/psk.txt")).unwrap();
    let lab_yaml = std::fs::read_to_string(shipped.join("lab.yaml")).unwrap();
    let file = dir.path().join("lab.yaml");
    let esp_and_choice = |text: &str| {
        let lab = parse(&file, text).unwrap_or_else(|e| panic!("{e}"));
        let (_, fw) = lab.dut().unwrap();
        let esp: Vec<String> = fw.intent.first_child().unwrap().1.esp_proposals.iter().map(ToString::to_string).collect();
        let report = serde_json::to_string(&fw.device.import_report().unwrap()).unwrap();
        let choice = report.split("choice ipsec-dh-group-default = ").nth(1).map(|r| r.split(':').next().unwrap().to_string());
        (esp, choice)
    };
    assert_eq!(esp_and_choice(&lab_yaml), (vec!["aes256-sha256-modp1024".to_string()], Some("group2".to_string())));
    let chosen = lab_yaml.replacen("    device: pan-os\n", "    device: pan-os\n    choices: { ipsec-dh-group-default: no-pfs }\n", 1);
    assert_eq!(esp_and_choice(&chosen), (vec!["aes256-sha256".to_string()], Some("no-pfs".to_string())));

    let refused = |text: &str| match parse(&file, text) {
        Ok(_) => panic!("the lab was accepted"),
        Err(e) => e.to_string().replace(&dir.path().display().to_string(), "LAB"),
    };
    let unknown = lab_yaml.replacen("    device: pan-os\n", "    device: pan-os\n    choices: { ikev2-liveness: off }\n", 1);
    insta::assert_snapshot!(refused(&unknown));
    let bad_value = lab_yaml.replacen("    device: pan-os\n", "    device: pan-os\n    choices: { ipsec-dh-group-default: group14 }\n", 1);
    insta::assert_snapshot!(refused(&bad_value));
    insta::assert_snapshot!(errors(&edited("    kind: dut\n", "    kind: dut\n    choices: { ikev2-liveness-default: off }\n")));
}

// --- A strongSwan dut's BGP speaker (`frr:`) -------------------------------------------------

/// The shipped firewall with a BGP speaker: a loopback BGP IP, one neighbor at Azure's BGP IP.
const FRR: &str = "    frr:
      asn: 65010
      address: 10.10.255.1/32
      networks: [10.10.0.0/16]
      neighbors:
        - address: 10.20.255.30
          remote_as: 65515
          update_source: 10.10.255.1
          ebgp_multihop: 2
          timers: { keepalive: 10, hold: 30 }
          max_prefix: 100
          policy: permit-all
    strongswan:
";

fn with_frr(frr: &str) -> String {
    edited("    strongswan:\n", frr)
}

#[test]
fn strongswan_frr_section_is_the_devices_bgp_speaker() {
    use crate::bgp::{AddressOn, Policy, Timers};
    let lab = parse(Path::new(FILE), &with_frr(FRR)).unwrap_or_else(|e| panic!("{e}"));
    let (_, fw) = lab.dut().unwrap();
    let bgp = fw.bgp.as_ref().expect("the firewall runs BGP");
    assert_eq!(fw.device.bgp().as_ref(), Some(bgp));
    assert_eq!(bgp.asn, 65010);
    // FRR's own choice without `router_id`: the loopback address.
    assert_eq!(bgp.router_id.to_string(), "10.10.255.1");
    assert_eq!(bgp.addresses, [(AddressOn::Loopback, "10.10.255.1/32".parse().unwrap())]);
    assert_eq!(bgp.networks, ["10.10.0.0/16".parse::<ipnet::Ipv4Net>().unwrap()]);
    assert!(bgp.ebgp_requires_policy, "FRR's default since 7.4");
    assert_eq!(bgp.timers, None);
    let n = &bgp.neighbors[0];
    assert_eq!((n.address.to_string(), n.remote_asn, n.passive), ("10.20.255.30".to_string(), 65515, false));
    assert_eq!(n.update_source.map(|a| a.to_string()).as_deref(), Some("10.10.255.1"));
    assert_eq!((n.ebgp_multihop, n.max_prefix), (Some(2), Some(100)));
    assert_eq!(n.timers, Some(Timers { keepalive_s: 10, hold_s: 30 }));
    assert!(matches!(&n.import, Policy::Filter { rules, otherwise_permit: true } if rules.is_empty()));
    assert_eq!(n.import, n.export);
    assert!(bgp.exchanges(n, true) && bgp.exchanges(n, false));
    let summary = fw.device.summary(&fw.intent);
    assert_eq!(
        summary.last().map(String::as_str),
        Some(
            "FRR AS 65010, router-id 10.10.255.1, lo 10.10.255.1/32: neighbor 10.20.255.30 AS 65515 (update-source 10.10.255.1, ebgp-multihop 2, timers 10 30, maximum-prefix 100, permit-all); networks 10.10.0.0/16"
        )
    );
}

#[test]
fn strongswan_frr_defaults_follow_frr() {
    let minimal = "    frr:\n      asn: 65010\n      tunnel_address: 169.254.21.2/30\n      ebgp_requires_policy: false\n      timers: { keepalive: 20, hold: 60 }\n      neighbors: [{ address: 169.254.21.1, remote_as: 65515, passive: true }]\n    strongswan:\n";
    let lab = parse(Path::new(FILE), &with_frr(minimal)).unwrap_or_else(|e| panic!("{e}"));
    let (_, fw) = lab.dut().unwrap();
    let bgp = fw.bgp.as_ref().unwrap();
    // No loopback address: the highest interface address, as zebra picks it.
    assert_eq!(bgp.router_id.to_string(), "172.16.0.2");
    assert_eq!(bgp.addresses, [(crate::bgp::AddressOn::Tunnel, "169.254.21.2/30".parse().unwrap())]);
    assert!(!bgp.ebgp_requires_policy);
    let n = &bgp.neighbors[0];
    assert!(n.passive && n.import == crate::bgp::Policy::None && bgp.exchanges(n, true));
    assert!(fw
        .device
        .summary(&fw.intent)
        .last()
        .unwrap()
        .contains("no bgp ebgp-requires-policy, timers 20 60: neighbor 169.254.21.1 AS 65515 (passive, no policy); networks none"));
    // Without `frr:` the device runs no speaker.
    let (_, fw) = parse(Path::new(FILE), SHIPPED).unwrap().dut().map(|(n, i)| (n.name.clone(), i.bgp.clone())).unwrap();
    assert_eq!(fw, None);
}

/// Values FRR would refuse, or that cannot work on this node, each at its own line.
#[test]
fn strongswan_frr_values_refused() {
    let text = with_frr(
        &FRR.replace("asn: 65010", "asn: 0")
            .replace("address: 10.10.255.1/32", "address: 10.10.255.1/24")
            .replace("- address: 10.20.255.30", "- address: 10.10.0.1")
            .replace("update_source: 10.10.255.1", "update_source: 10.10.255.9")
            .replace("ebgp_multihop: 2", "ebgp_multihop: 300")
            .replace("hold: 30", "hold: 2")
            .replace("policy: permit-all", "policy: permit-al"),
    );
    insta::assert_snapshot!(errors(&text));
}

#[test]
fn strongswan_frr_unknown_key_and_no_neighbors() {
    insta::assert_snapshot!(errors(&with_frr(&FRR.replace("          max_prefix: 100\n", "          maximum_prefix: 100\n"))));
    insta::assert_snapshot!(errors(&with_frr("    frr: { asn: 4294967296, networks: [10.10.0.0/16] }\n    strongswan:\n")));
}

/// `frr:` belongs to a strongSwan dut: a pfSense reads its speaker from its config.xml, and a
/// router has no IKE daemon to carry one.
#[test]
fn strongswan_frr_on_another_device_or_kind() {
    let file = Path::new("labs/azure-pfsense-home/lab.yaml");
    let text = std::fs::read_to_string(file).unwrap();
    let at = "    device: pfsense\n";
    assert!(text.contains(at));
    let text = text.replacen(at, &format!("{at}    frr: {{ asn: 65010, neighbors: [{{ address: 10.30.255.30, remote_as: 65515 }}] }}\n"), 1);
    let out = match parse(file, &text) {
        Ok(_) => panic!("the lab was accepted"),
        Err(e) => e.to_string(),
    };
    insta::assert_snapshot!(out);
    let out = errors(&edited("    kind: router\n", "    kind: router\n    frr: { asn: 65010, neighbors: [{ address: 10.20.255.30, remote_as: 65515 }] }\n"));
    assert!(out.contains("nodes.internet.frr: `frr` belongs to kind dut, but `internet` is a router"), "{out}");
}
