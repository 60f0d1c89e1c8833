//! Scenario loading: every shipped scenario loads, a patch changes only what the lab has, and
//! an invalid patched lab is reported where the bad value was written (scenario or lab file).

use std::path::{Path, PathBuf};

use super::{files, load, parse};

const LAB: &str = include_str!("../../labs/azure-strongswan/lab.yaml");
const LAB_FILE: &str = "labs/azure-strongswan/lab.yaml";
const FILE: &str = "labs/azure-strongswan/scenarios/broken.yaml";
const PSKS: [&str; 2] = ["S2sVpnAzure!Psk#2026", "H0me!Lab#Psk2026"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The error for a scenario text against the shipped lab, checked to quote no shipped key.
fn error(text: &str) -> String {
    let out = match parse(Path::new(FILE), text, Path::new(LAB_FILE), LAB) {
        Ok(_) => panic!("the scenario was accepted"),
        Err(e) => e,
    };
    for psk in PSKS {
        assert!(!out.contains(psk), "a pre-shared key in:\n{out}");
    }
    out
}

const HEAD: &str = "title: t\nexpect:\n  phase1: { outcome: up }\n";

#[test]
fn every_shipped_scenario_loads() {
    let mut count = 0;
    let mut labs: Vec<_> = std::fs::read_dir(repo().join("labs")).unwrap().map(|e| e.unwrap().path()).collect();
    labs.sort();
    for dir in labs {
        for f in files(&dir) {
            if let Err(e) = load(&dir, &f) {
                panic!("{}:\n{e}", f.display());
            }
            count += 1;
        }
    }
    // Every shipped lab's scenarios: a scenario that stops loading is a failure here.
    assert_eq!(count, 100);
}

#[test]
fn patch_may_not_add_a_misspelt_node() {
    let text = format!("{HEAD}patch:\n  nodes:\n    lan-pcc:\n      kind: host\n");
    insta::assert_snapshot!(error(&text));
}

#[test]
fn patch_may_not_create_a_field() {
    let text = format!("{HEAD}patch:\n  nodes:\n    branch-nat:\n      nat:\n        drop:\n          - {{ protocol: udp, port: 4500 }}\n");
    insta::assert_snapshot!(error(&text));
}

#[test]
fn patch_may_not_remove_what_is_not_there() {
    let text = format!("{HEAD}patch:\n  nodes:\n    firewall:\n      tunnel_rules: null\n");
    insta::assert_snapshot!(error(&text));
}

#[test]
fn add_creates_fields_and_nodes() {
    let text = format!("{HEAD}add:\n  nodes:\n    branch-nat:\n      nat:\n        drop:\n          - {{ protocol: udp, port: 4500 }}\n");
    let s = parse(Path::new(FILE), &text, Path::new(LAB_FILE), LAB).unwrap();
    let nat = s.lab.node("branch-nat").unwrap();
    let crate::model::NodeKind::NatRouter(nat) = &nat.kind else { panic!("not a nat-router") };
    assert_eq!(nat.drops.len(), 1);
}

#[test]
fn bad_value_in_the_patch_is_reported_at_the_patch_key() {
    let text = format!("{HEAD}patch:\n  nodes:\n    azure-gw:\n      azure:\n        connection: {{ dpdTimeoutSeconds: 5 }}\n");
    insta::assert_snapshot!(error(&text));
}

#[test]
fn wrong_type_in_the_patch_is_reported_at_the_patch_key() {
    let text = format!("{HEAD}patch:\n  nodes:\n    azure-gw:\n      azure:\n        connection:\n          dpdTimeoutSeconds: soon\n");
    insta::assert_snapshot!(error(&text));
}

#[test]
fn bad_key_in_the_patch_is_not_shown() {
    let text = format!("{HEAD}patch:\n  nodes:\n    azure-gw:\n      azure:\n        connection:\n          sharedKey: \"S2sVpnAzure!Psk#2026 \"\n");
    insta::assert_snapshot!(error(&text));
}

#[test]
fn problem_with_an_unchanged_lab_value_is_reported_in_the_lab() {
    // The Basic SKU refuses the lab's own custom policy: the policy is in lab.yaml, the SKU in the scenario.
    let text = format!("{HEAD}patch:\n  nodes:\n    azure-gw:\n      azure:\n        virtualNetworkGateway: {{ sku: Basic }}\n");
    insta::assert_snapshot!(error(&text));
}

#[test]
fn scenario_values_outside_the_patch_are_reported_where_written() {
    let text = "title: t\ninitiator: lan-pc\ntime_scale: 0.5\nexpect:\n  ping:\n    - { from: nobody, to: 10.20.0.4, succeeds: true }\n";
    insta::assert_snapshot!(error(text));
}
