//! BGP through the real binary: Azure's BGP load errors and bad BGP expectations are refused
//! with file, line, field and what would be valid (snapshots of the whole message), and the
//! shipped BGP scenario's run report carries both speakers' state. Validation needs no root.

use std::path::{Path, PathBuf};

use crate::common::{describe, repo, run_ids, text, vpnlab};

const HOME: &str = "labs/azure-pfsense-home";

/// A copy of the pfSense home lab (its dut folder included) with one scenario, `broken.yaml`:
/// seed 003's BGP scenario with `edits` applied.
fn home_lab_with_bgp_scenario(dir: &Path, edits: &[(&str, &str)]) -> PathBuf {
    let lab = dir.join("home");
    std::fs::create_dir_all(lab.join("scenarios")).unwrap();
    std::fs::create_dir_all(lab.join("dut")).unwrap();
    std::fs::copy(repo().join(HOME).join("lab.yaml"), lab.join("lab.yaml")).unwrap();
    for f in ["config.xml", "config-bgp.xml"] {
        std::fs::copy(repo().join(HOME).join("dut").join(f), lab.join("dut").join(f)).unwrap();
    }
    let mut scenario = std::fs::read_to_string(repo().join(HOME).join("scenarios/bgp.yaml")).unwrap();
    for (from, to) in edits {
        assert!(scenario.contains(from), "edit target `{from}` not in the BGP scenario");
        scenario = scenario.replacen(from, to, 1);
    }
    std::fs::write(lab.join("scenarios/broken.yaml"), scenario).unwrap();
    lab
}

/// `vpnlab test` refuses the lab: exit 2, nothing started; the message with the temporary
/// folder's path made stable.
fn refusal(edits: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let lab = home_lab_with_bgp_scenario(dir.path(), edits);
    let state = dir.path().join("state");
    let out = vpnlab(&state).arg("test").arg(&lab).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(run_ids(&state).is_empty(), "a run was started for bad input");
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("H0me!Lab#Psk2026"), "the pre-shared key in the output:\n{stderr}");
    stderr.replace(&lab.display().to_string(), "<lab>")
}

#[test]
fn a_custom_apipa_address_outside_azures_range() {
    let e = refusal(&[(
        "        virtualNetworkGateway: { enableBgp: true }",
        "        virtualNetworkGateway: { enableBgp: true, bgpSettings: { bgpPeeringAddresses: [{ customBgpIpAddresses: [169.254.30.1] }] } }",
    )]);
    assert!(e.contains("169.254.30.1 is not in Azure's custom APIPA range (rule bgp-apipa)"), "{e}");
    insta::assert_snapshot!("bgp_apipa_outside_range", e);
}

#[test]
fn an_apipa_peer_without_a_custom_apipa_address_on_the_gateway() {
    let e = refusal(&[("bgpPeeringAddress: 192.168.10.1", "bgpPeeringAddress: 169.254.21.2")]);
    assert!(e.contains("the on-premises BGP IP 169.254.21.2 is APIPA, but the gateway has no custom APIPA BGP address"), "{e}");
    insta::assert_snapshot!("bgp_apipa_peer_without_custom_address", e);
}

#[test]
fn the_on_premises_bgp_ip_is_the_public_address_or_in_the_vnet() {
    let e = refusal(&[("bgpPeeringAddress: 192.168.10.1", "bgpPeeringAddress: 203.0.113.50")]);
    assert!(e.contains("the on-premises BGP IP 203.0.113.50 is the device's public address (rule bgp-peer-addresses)"), "{e}");
    let e = refusal(&[("bgpPeeringAddress: 192.168.10.1", "bgpPeeringAddress: 10.30.1.1")]);
    assert!(e.contains("the on-premises BGP IP 10.30.1.1 is inside the virtual network's address space"), "{e}");
    insta::assert_snapshot!("bgp_peer_ip_inside_the_vnet", e);
}

#[test]
fn the_gateway_needs_a_gateway_subnet_or_a_bgp_peering_address() {
    let e = refusal(&[("        virtualNetwork:\n          subnets: [{ name: GatewaySubnet, addressPrefix: 10.30.255.0/27 }]\n", "")]);
    assert!(e.contains("BGP needs the gateway's BGP peer IP, which Azure takes from the GatewaySubnet (rule bgp-peer-addresses)"), "{e}");
    insta::assert_snapshot!("bgp_without_gateway_subnet", e);
}

#[test]
fn bgp_expectations_name_a_speaker_a_neighbor_and_a_state() {
    let e = refusal(&[("node: azure-gw, peer: 192.168.10.1, state: established", "node: azure-vm, peer: 192.168.10.1, state: established")]);
    assert!(e.contains("`azure-vm` runs no BGP speaker") && e.contains("azure-gw, pfsense"), "{e}");
    let e = refusal(&[("node: pfsense, peer: 10.30.255.30, state: established", "node: pfsense, peer: 10.30.255.31, state: up")]);
    assert!(e.contains("10.30.255.31 is not a BGP neighbor of pfsense") && e.contains("`up` is not a BGP state"), "{e}");
    insta::assert_snapshot!("bgp_expectation_errors", e);
}

/// The run report keeps each speaker's state: seed 003's scenario, both sessions Established,
/// each side's learned and advertised prefixes, a "bgp settled" phase; `status --view azure` of
/// the same lab kept with `up` shows Azure's BGP peers blade.
#[test]
fn the_run_report_and_the_azure_view_show_bgp() {
    if !crate::common::privileged("the_run_report_and_the_azure_view_show_bgp") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let out = vpnlab(state.path()).args(["test", HOME, "-s", "bgp", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let report = crate::common::json(&out);
    let run = &report["scenarios"][0]["run"];
    let azure = &run["bgp"]["azure-gw"];
    assert_eq!(azure["asn"], 65515);
    assert_eq!(azure["peers"][0]["address"], "192.168.10.1");
    assert_eq!(azure["peers"][0]["state"], "Established");
    assert_eq!(azure["peers"][0]["prefixes_received"], 1);
    let pfsense_routes: Vec<&str> = run["bgp"]["pfsense"]["routes"].as_array().unwrap().iter().map(|r| r["prefix"].as_str().unwrap()).collect();
    assert!(pfsense_routes.contains(&"10.30.0.0/16") && pfsense_routes.contains(&"192.168.10.0/24"), "{pfsense_routes:?}");
    assert!(run["phases"].as_array().unwrap().iter().any(|p| p["phase"] == "bgp settled"), "{}", run["phases"]);
    crate::common::assert_nothing_left(state.path(), run["run_id"].as_str().unwrap());

    // The same BGP setup as a lab of its own, kept running.
    let dir = tempfile::tempdir().unwrap();
    let lab = dir.path().join("home-bgp");
    std::fs::create_dir_all(lab.join("dut")).unwrap();
    std::fs::copy(repo().join(HOME).join("dut/config-bgp.xml"), lab.join("dut/config-bgp.xml")).unwrap();
    let mut yaml = std::fs::read_to_string(repo().join(HOME).join("lab.yaml")).unwrap();
    for (from, to) in [
        ("config: dut/config.xml", "config: dut/config-bgp.xml"),
        ("        publicIpAddress: 198.51.100.30\n", "        publicIpAddress: 198.51.100.30\n        enableBgp: true\n"),
        (
            "          addressPrefixes: [10.30.0.0/16]\n",
            "          addressPrefixes: [10.30.0.0/16]\n        subnets: [{ name: GatewaySubnet, addressPrefix: 10.30.255.0/27 }]\n",
        ),
        (
            "        localNetworkAddressSpace:\n          addressPrefixes: [192.168.10.0/24]\n",
            "        bgpSettings: { asn: 65010, bgpPeeringAddress: 192.168.10.1 }\n",
        ),
        ("        connectionMode: Default\n", "        connectionMode: Default\n        enableBgp: true\n"),
    ] {
        assert!(yaml.contains(from), "`{from}` not in the home lab");
        yaml = yaml.replacen(from, to, 1);
    }
    std::fs::write(lab.join("lab.yaml"), yaml).unwrap();
    let (code, stdout, running) = crate::common::up(state.path(), &lab);
    assert_eq!(code, Some(0), "{stdout}");
    let view = vpnlab(state.path()).args(["status", &running.id, "--view", "azure"]).output().unwrap();
    let shown = text(&view.stdout);
    assert!(shown.contains("BGP peers (az network vnet-gateway list-bgp-peer-status)"), "{shown}");
    let peer_row = shown.lines().find(|l| l.trim_start().starts_with("192.168.10.1")).unwrap_or_else(|| panic!("no peer row:\n{shown}"));
    assert!(peer_row.contains("65010") && peer_row.contains("Connected"), "{peer_row}");
    assert!(shown.lines().any(|l| l.contains("192.168.10.0/24") && l.contains("EBgp")), "no learned route from the pfSense:\n{shown}");
    let plain = text(&vpnlab(state.path()).args(["status", &running.id]).output().unwrap().stdout);
    assert!(plain.lines().any(|l| l.contains("10.30.255.30") && l.contains("Established")), "{plain}");
}
