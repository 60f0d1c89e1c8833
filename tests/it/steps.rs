//! The steps of issue 11 through the binary: `initiator: none`, `restart`, `forget` and the
//! general `until`. Bad steps are refused with the scenario's own line and what is valid; an
//! `until` that does not hold within its bound says so and the run goes on; a `restart` whose
//! peer brings the tunnel back and one whose peer does not are the shipped scenarios
//! `azure-maintenance-dpd-restart` and `azure-maintenance-dpd-clear`.

use std::path::{Path, PathBuf};

use crate::common::*;

const HEAD: &str = "title: steps\nexpect:\n  phase1: { outcome: up }\n";

/// The strongSwan lab with one scenario, `s.yaml`.
fn lab_with_scenario(dir: &Path, scenario: &str) -> PathBuf {
    let lab = dir.join("azure-strongswan");
    std::fs::create_dir_all(lab.join("scenarios")).unwrap();
    std::fs::copy(repo().join(LAB).join("lab.yaml"), lab.join("lab.yaml")).unwrap();
    std::fs::write(lab.join("scenarios/s.yaml"), scenario).unwrap();
    lab
}

fn refused(scenario: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab_with_scenario(dir.path(), scenario);
    let state = dir.path().join("state");
    let out = vpnlab(&state).arg("test").arg(&lab).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(run_ids(&state).is_empty(), "a run was started for a bad scenario");
    text(&out.stderr)
}

#[test]
fn bad_steps_are_refused_with_their_line() {
    let e = refused(&format!("{HEAD}steps:\n  - restart: {{ node: lan-pc, down: 5s }}\n"));
    assert!(e.contains("s.yaml:5:") && e.contains("steps.restart.node") && e.contains("`lan-pc` runs no IKE daemon"), "{e}");
    let e = refused(&format!("{HEAD}steps:\n  - forget: internet\n"));
    assert!(e.contains("steps.forget") && e.contains("`internet` runs no IKE daemon"), "{e}");
    let e = refused(&format!("{HEAD}steps:\n  - until: {{ within: 5s }}\n"));
    assert!(e.contains("steps.until: needs exactly one condition") && e.contains("sa: {...}, bgp: {...} or ping: {...}"), "{e}");
    let e = refused(&format!("{HEAD}steps:\n  - until: {{ ping: {{ from: lan-pc, to: 10.20.0.4, source: 10.10.0.1 }}, within: 5s }}\n"));
    assert!(e.contains("steps.until.ping.source: 10.10.0.1 is not an address of lan-pc") && e.contains("10.10.0.5 (eth0)"), "{e}");
    let e = refused(&format!("{HEAD}steps:\n  - until: {{ sa: {{ node: firewall, child: up }}, within: 5s }}\n"));
    assert!(e.contains("steps.until.sa.child: `up` is not a state") && e.contains("installed or none"), "{e}");
    let e = refused(&format!("{HEAD}steps:\n  - until: {{ bgp: {{ node: azure-gw, state: established }}, within: 5s }}\n"));
    assert!(e.contains("`azure-gw` runs no BGP speaker") && e.contains("no node of this lab runs BGP"), "{e}");
    let e = refused(&format!("{HEAD}initiator: nobody\n"));
    assert!(e.contains("no node `nobody`") && e.contains("or `none` (nobody initiates)"), "{e}");
}

/// An `until` that holds reports how long it took; one that does not reports what it saw at
/// its bound, and the run goes on to its expectations.
#[test]
fn until_reports_whether_it_held_within_its_bound() {
    if !privileged("until_reports_whether_it_held_within_its_bound") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let scenario = "title: until\nsteps:\n  - until: { sa: { node: azure-gw, child: installed }, within: 5s }\n  - until: { sa: { node: azure-gw, ike: none }, within: 1s }\n  - until: { ping: { from: lan-pc, to: 10.20.0.4 }, within: 5s }\n  - until: { ping: { from: lan-pc, to: 10.20.0.99 }, within: 1s }\nexpect:\n  sas: [ { node: azure-gw, ike: established, child: installed } ]\n";
    let lab = lab_with_scenario(dir.path(), scenario);
    let state = dir.path().join("state");
    let out = vpnlab(&state).arg("test").arg(&lab).args(["--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let report = json(&out);
    let steps: Vec<String> = report["scenarios"][0]["steps"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect();
    assert!(steps[0].starts_with("azure-gw: IKE SA established, 1 CHILD SA(s) installed after"), "{steps:?}");
    assert_eq!(steps[1], "azure-gw: still IKE SA established, 1 CHILD SA(s) installed after 1 s", "{steps:?}");
    assert!(steps[2].starts_with("ping lan-pc -> 10.20.0.4 answered after"), "{steps:?}");
    assert!(steps[3].starts_with("ping lan-pc -> 10.20.0.99 still unanswered after 1 s"), "{steps:?}");
    assert!(run_ids(&state).is_empty());
}

/// `initiator: none` with a firewall that never starts on its own and an Azure connection that
/// does: Azure starts; with Azure ResponderOnly too, both ends wait and the diagnosis says so.
#[test]
fn initiator_none_lets_configurations_decide() {
    if !privileged("initiator_none_lets_configurations_decide") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let out = vpnlab(state.path())
        .args(["test", "labs/azure-pfsense-home", "-s", "both-ends-waiting", "-s", "azure-starts-on-its-own", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let report = json(&out);
    for s in report["scenarios"].as_array().unwrap() {
        let steps = s["steps"].to_string();
        match s["name"].as_str().unwrap() {
            "both-ends-waiting" => {
                assert!(steps.contains("nobody initiated: no IKE SA on any node after 2 s"), "{steps}");
                assert_eq!(s["diagnosis"][0]["id"], "nobody-can-initiate", "{}", s["diagnosis"]);
            }
            _ => assert!(steps.contains("azure-gw starts the tunnel on its own"), "{steps}"),
        }
    }
}
