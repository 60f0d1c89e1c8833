//! Probes and per-child expectations with real daemons: pings from a chosen source address,
//! TCP transfers to a sink in the destination's node, CHILD SAs found by name or selector pair.
//! Each expectation holds in a shipped scenario and fails, saying what was observed, when the
//! same run is expected otherwise.

use std::path::{Path, PathBuf};

use crate::common::*;

const PALOALTO: &str = "labs/azure-paloalto";

/// The shipped scenarios of these gaps, by name.
const SHIPPED: [&str; 4] =
    ["ping-from-outside-address-not-in-lng", "ping-from-outside-address-in-lng", "tcp-through-tunnel", "policy-based-one-pair-missing-per-subnet"];

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A scenario to write: its name, the shipped scenario it starts from, and text edits.
type Edited<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

/// The PAN-OS lab with only the given scenarios: each a shipped one with edits.
fn paloalto_with(dir: &Path, scenarios: &[Edited]) -> PathBuf {
    let lab = dir.join("azure-paloalto");
    std::fs::create_dir_all(lab.join("scenarios")).unwrap();
    std::fs::copy(repo().join(PALOALTO).join("lab.yaml"), lab.join("lab.yaml")).unwrap();
    copy_dir(&repo().join(PALOALTO).join("dut"), &lab.join("dut"));
    for (name, shipped, edits) in scenarios {
        let mut text = std::fs::read_to_string(repo().join(PALOALTO).join("scenarios").join(format!("{shipped}.yaml"))).unwrap();
        for (from, to) in *edits {
            assert!(text.contains(from), "edit target `{from}` not in {shipped}");
            text = text.replacen(from, to, 1);
        }
        std::fs::write(lab.join("scenarios").join(format!("{name}.yaml")), text).unwrap();
    }
    lab
}

fn scenario<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["scenarios"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("no scenario {name}"))
}

fn verdict_of<'a>(s: &'a serde_json::Value, check: &str, node: &str) -> &'a serde_json::Value {
    s["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["check"] == check && v["node"] == node)
        .unwrap_or_else(|| panic!("no verdict `{check}` on {node}: {:#}", s["verdicts"]))
}

#[test]
fn shipped_probe_scenarios_hold_and_record_their_probes() {
    if !privileged("shipped_probe_scenarios_hold_and_record_their_probes") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = vpnlab(&dir.path().join("state"));
    cmd.args(["test", PALOALTO, "--format", "json"]);
    for s in SHIPPED {
        cmd.args(["-s", s]);
    }
    let out = cmd.output().unwrap();
    let report = json(&out);
    let failed: Vec<String> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["result"] != "pass")
        .map(|s| format!("{}: {} {:#}", s["name"], s["error"], s["verdicts"]))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    // The run record keeps every probe: the ping's source, the transfer's bytes and times.
    let healthy = scenario(&report, "tcp-through-tunnel");
    let tcp = healthy["run"]["tcp"].as_array().expect("tcp in the run record");
    assert_eq!(tcp.len(), 2);
    for t in tcp {
        assert_eq!((t["outcome"].as_str(), t["received"].as_u64()), (Some("completed"), Some(1_048_576)), "{t:#}");
        assert!(t["connect_ms"].as_f64().is_some(), "{t:#}");
    }
    let lost = scenario(&report, "ping-from-outside-address-not-in-lng");
    assert_eq!(lost["run"]["pings"][1]["source"], "172.16.0.2", "{:#}", lost["run"]["pings"]);
    assert_eq!(lost["run"]["tcp"][0]["outcome"], "no_connection", "{:#}", lost["run"]["tcp"]);
    assert!(lost["run"]["tcp"][0]["connect_ms"].is_null());
}

#[test]
fn probe_and_child_expectations_fail_saying_what_was_observed() {
    if !privileged("probe_and_child_expectations_fail_saying_what_was_observed") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lab = paloalto_with(
        dir.path(),
        &[
            (
                "wrong-children",
                "policy-based-one-pair-missing-per-subnet",
                &[
                    ("{node: firewall, name: lan-high, state: none}", "{node: firewall, name: lan-high, state: installed}"),
                    ("remote_ts: [10.10.0.0/17], state: installed}", "remote_ts: [10.10.0.0/17], state: none}"),
                    (
                        "{from: firewall, source: 10.10.0.1, to: 10.20.0.4, succeeds: true}",
                        "{from: firewall, source: 10.10.0.1, to: 10.20.0.4, succeeds: false}",
                    ),
                    ("{from: lan-pc, to: 10.20.0.4, succeeds: false}", "{from: lan-pc, to: 10.20.0.4, succeeds: true}"),
                ],
            ),
            (
                "wrong-tcp",
                "ping-from-outside-address-not-in-lng",
                &[
                    ("within: 1s, completes: false", "within: 1s, completes: true"),
                    ("source: 172.16.0.2, to: 10.20.0.4, succeeds: false", "source: 172.16.0.2, to: 10.20.0.4, succeeds: true"),
                ],
            ),
            (
                "wrong-healthy-tcp",
                "tcp-through-tunnel",
                &[("within: 3s, completes: true }\n    - { from: azure-vm", "within: 3s, completes: false }\n    - { from: azure-vm")],
            ),
        ],
    );
    let out = vpnlab(&dir.path().join("state")).arg("test").arg(&lab).args(["--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let report = json(&out);

    let s = scenario(&report, "wrong-children");
    assert_eq!(s["result"], "fail");
    let v = verdict_of(s, "CHILD SA lan-high", "firewall");
    assert_eq!(v["outcome"], "fail");
    assert_eq!(v["evidence"], "expected installed; observed 1 installed: azure-ipsec-tunnel:lan-low 10.10.0.0/17 === 10.20.0.0/16");
    let v = verdict_of(s, "CHILD SA 10.20.0.0/16 === 10.10.0.0/17", "azure-gw");
    assert_eq!(v["outcome"], "fail");
    assert_eq!(v["evidence"], "expected none installed; observed 1 installed: VNet-to-PaloAlto 10.20.0.0/16 === 10.10.0.0/17");
    // The expectations not edited still hold.
    assert_eq!(verdict_of(s, "CHILD SA lan-low 10.10.0.0/17 === 10.20.0.0/16", "firewall")["outcome"], "pass");
    let v = verdict_of(s, "ping firewall -> 10.20.0.4 from 10.10.0.1", "firewall");
    assert_eq!(v["outcome"], "fail");
    assert!(v["evidence"].as_str().unwrap().contains("observed reply from 10.20.0.4"), "{v:#}");
    let v = verdict_of(s, "ping lan-pc -> 10.20.0.4", "lan-pc");
    assert_eq!(v["outcome"], "fail");
    assert!(v["evidence"].as_str().unwrap().contains("observed no reply"), "{v:#}");

    let s = scenario(&report, "wrong-tcp");
    let v = verdict_of(s, "tcp firewall -> 10.20.0.4:5001 from 172.16.0.2", "firewall");
    assert_eq!(v["outcome"], "fail");
    assert_eq!(v["evidence"], "expected 65536 bytes within 1 s; observed no connection: no answer to the connection attempt within 1 s");
    assert_eq!(verdict_of(s, "ping firewall -> 10.20.0.4 from 172.16.0.2", "firewall")["outcome"], "fail");

    let s = scenario(&report, "wrong-healthy-tcp");
    let v = verdict_of(s, "tcp lan-pc -> 10.20.0.4:5001", "lan-pc");
    assert_eq!(v["outcome"], "fail");
    let evidence = v["evidence"].as_str().unwrap();
    assert!(evidence.starts_with("expected no complete transfer; observed completed: connected in "), "{evidence}");
    assert!(evidence.contains("1048576 bytes in"), "{evidence}");
}
