//! `vpnlab test`: the shipped scenarios reproduce their tickets, a wrong expectation fails with
//! a readable message and a diagnosis, reports for CI are well formed, bad scenario files are
//! refused with their line.

use crate::common::*;

#[test]
fn shipped_scenarios_match_their_expectations() {
    if !privileged("shipped_scenarios_match_their_expectations") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let artifacts = dir.path().join("artifacts");
    let out = vpnlab(&dir.path().join("state"))
        .args(["test", "labs/", "--format", "json", "--junit"])
        .arg(&junit)
        .arg("--artifacts")
        .arg(&artifacts)
        .output()
        .unwrap();
    let report = json(&out);
    let scenarios = report["scenarios"].as_array().expect("scenarios");
    let failed: Vec<String> =
        scenarios.iter().filter(|s| s["result"] != "pass").map(|s| format!("{}: {} {:#}", s["name"], s["error"], s["verdicts"])).collect();
    assert!(failed.is_empty(), "scenarios not matching their expectations:\n{}", failed.join("\n"));
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(scenarios.len() >= 16, "every seed ticket is shipped: {}", scenarios.len());
    // The narrowed proxy-ID ticket is shipped in both Azure models, and each result says which.
    let model = |name: &str| scenarios.iter().find(|s| s["name"] == name).unwrap()["azure_model"]["azure-gw"][0].clone();
    assert_eq!(model("proxy-id-narrowed-teaching"), "narrowedTrafficSelectors reject");
    assert_eq!(model("proxy-id-narrowed-documented"), "narrowedTrafficSelectors accept");
    // JUnit: one suite per lab, one case per scenario, no failure.
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), scenarios.len(), "{xml}");
    assert!(xml.contains("<testsuite name=\"azure-strongswan\""), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
    // Artifacts: each node's charon log and configs, secrets redacted.
    let dh = artifacts.join("azure-strongswan/dh-mismatch");
    assert!(dh.join("firewall/charon.log").exists() && dh.join("azure-gw/strongswan.conf").exists() && dh.join("events.json").exists());
    let patched = std::fs::read_to_string(dh.join("lab.patched.yaml")).unwrap();
    assert!(!patched.contains("S2sVpnAzure") && patched.contains("<redacted>"), "{patched}");
    assert!(!std::fs::read_to_string(dh.join("azure-gw/vici-messages.txt")).unwrap().contains("S2sVpnAzure"));
    // A device read from its configuration keeps its import report, in the run report and as
    // an artifact: what was used, defaulted (with the default's source) and ignored.
    let panos = scenarios.iter().find(|s| s["lab"] == "azure-paloalto" && s["name"] == "dh-mismatch").expect("azure-paloalto/dh-mismatch");
    let entries = panos["run"]["devices"]["firewall"]["import"]["entries"].as_array().expect("import entries in the run report");
    assert_eq!(panos["run"]["devices"]["firewall"]["family"], "pan-os");
    for status in ["used", "defaulted"] {
        assert!(entries.iter().any(|e| e["status"] == status), "no `{status}` entry: {entries:#?}");
    }
    let device = std::fs::read_to_string(artifacts.join("azure-paloalto/dh-mismatch/firewall/device.json")).unwrap();
    assert!(device.contains("\"family\": \"pan-os\"") && device.contains("\"status\": \"defaulted\""), "{device}");
    let psk = std::fs::read_to_string(repo().join("labs/azure-paloalto/dut/psk.txt")).unwrap();
    assert!(!device.contains(psk.trim()), "the key is in device.json");
}

#[test]
fn a_wrong_expectation_fails_readably() {
    if !privileged("a_wrong_expectation_fails_readably") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lab = lab_with_edits(dir.path(), &[]);
    std::fs::create_dir_all(lab.join("scenarios")).unwrap();
    // The DH mismatch ticket, with the expectation of a healthy Phase 1.
    let wrong = std::fs::read_to_string(repo().join(LAB).join("scenarios/dh-mismatch.yaml"))
        .unwrap()
        .replace("phase1: { outcome: failed, reason: NO_PROPOSAL_CHOSEN }", "phase1: { outcome: up }");
    std::fs::write(lab.join("scenarios/dh-mismatch.yaml"), wrong).unwrap();
    let junit = dir.path().join("junit.xml");
    let out = vpnlab(&dir.path().join("state")).arg("test").arg(&lab).arg("--junit").arg(&junit).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stdout = text(&out.stdout);
    for needle in [
        "FAIL azure-strongswan/dh-mismatch",
        "FAIL phase 1 (firewall): expected up; observed failed: NO_PROPOSAL_CHOSEN",
        "cause: Phase 1 proposal mismatch (ike-proposal-mismatch)",
        "DH group 14",
        "0 passed, 1 failed, 0 inconclusive",
    ] {
        assert!(stdout.contains(needle), "`{needle}` missing from:\n{stdout}");
    }
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<failure") && xml.contains("diagnosis: the firewall offers aes256-sha256-modp2048"), "{xml}");
    // Read back with a JUnit reader, as a CI system would: one suite, one failing case.
    let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap_or_else(|e| panic!("not JUnit XML ({e}):\n{xml}"));
    assert_eq!(parsed.test_suites.len(), 1);
    let suite = &parsed.test_suites[0];
    assert_eq!((suite.tests, suite.failures, suite.errors), (1, 1, 0));
    assert_eq!(suite.test_cases[0].name.as_str(), "dh-mismatch");
}

/// The shape of a JSON value: keys and types, arrays as the shape of their first element.
fn shape(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.first().map(shape).into_iter().collect()),
        Value::String(_) => Value::String("string".into()),
        Value::Number(_) => Value::String("number".into()),
        Value::Bool(_) => Value::String("bool".into()),
        Value::Null => Value::String("null".into()),
    }
}

#[test]
fn test_report_json_schema_is_stable() {
    if !privileged("test_report_json_schema_is_stable") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = vpnlab(dir.path()).args(["test", LAB, "-s", "dh-mismatch", "-s", "healthy", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let report = json(&out);
    assert_eq!(report["schema"], "vpnlab.test/1");
    // A change of the schema is a change to review here (and a new schema version).
    insta::assert_json_snapshot!(shape(&report));
}

#[test]
fn bad_scenario_files_are_refused_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab_with_edits(dir.path(), &[]);
    std::fs::create_dir_all(lab.join("scenarios")).unwrap();
    std::fs::write(lab.join("scenarios/typo.yaml"), "title: x\nexpect:\n  phase1: { outcome: upp }\n  pings: []\n").unwrap();
    let out = vpnlab(&dir.path().join("state")).arg("test").arg(&lab).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("scenarios/typo.yaml:4:3") && stderr.contains("unknown field `pings`"), "{stderr}");
    std::fs::write(lab.join("scenarios/typo.yaml"), "title: x\nexpect:\n  phase1: { outcome: upp }\n").unwrap();
    let out = vpnlab(&dir.path().join("state")).arg("test").arg(&lab).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(text(&out.stderr).contains("`upp` is not an outcome"), "{}", describe(&out));
}

#[test]
fn explain_tells_the_ticket_the_cause_and_the_fix() {
    if !privileged("explain_tells_the_ticket_the_cause_and_the_fix") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = vpnlab(dir.path()).args(["explain", "labs/azure-strongswan/scenarios/psk-trailing-space.yaml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let stdout = text(&out.stdout);
    for needle in [
        "(brief ticket 6)",
        "dragged a trailing space",
        "phase 1: failed: AUTHENTICATION_FAILED",
        "cause: pre-shared key with trailing whitespace (psk-whitespace)",
        "fix (firewall side)",
        "  firewall: swanctl.conf secrets.ike-<name>.secret: type the key again by hand",
        "  Azure: Portal: Connection VNet-to-PaloAlto → Authentication → Shared key",
        "confirm on strongSwan: swanctl --list-sas",
        "As the scenario expects: yes",
    ] {
        assert!(stdout.contains(needle), "`{needle}` missing from:\n{stdout}");
    }
    assert!(!stdout.contains("S2sVpnAzure"), "a key leaked");
}
