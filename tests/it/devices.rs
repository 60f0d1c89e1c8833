//! Firewalls read from their own configuration, end to end: `vpnlab repro` on three export sets
//! (`tests/fixtures/repro/`: a PAN-OS `set` file with a matching and with a mismatching Azure
//! policy, a pfSense config.xml), a saved repro lab replayed with `vpnlab test`, and
//! `vpnlab device explain` of the shipped PAN-OS and pfSense labs.

use std::path::Path;

use crate::common::*;

const KEYS: [&str; 2] = ["S2sVpnAzure!Psk#2026", "H0me!Lab#Psk2026"];

fn repro(state: &Path, set: &str, device: &str, psk: bool, save: Option<&Path>) -> std::process::Output {
    let dir = format!("tests/fixtures/repro/{set}");
    let mut c = vpnlab(state);
    c.args(["repro", "--format", "json", "--device", &format!("{dir}/{device}")]);
    if psk {
        c.args(["--psk-file", &format!("{dir}/psk.txt")]);
    }
    c.arg("--azure");
    for f in ["gateway.json", "connection.json", "lng.json", "vnet.json"] {
        c.arg(format!("{dir}/{f}"));
    }
    if let Some(s) = save {
        c.arg("--save").arg(s);
    }
    c.output().unwrap()
}

fn no_key_in(out: &std::process::Output) {
    for k in KEYS {
        assert!(!text(&out.stdout).contains(k) && !text(&out.stderr).contains(k), "a key in the output:\n{}", describe(out));
    }
}

/// A healthy PAN-OS ticket: the lab around its exports works with each side initiating and
/// each side rekeying; saved, it replays with `vpnlab test`.
#[test]
fn repro_of_a_healthy_pan_os_ticket_passes_and_replays() {
    if !privileged("repro_of_a_healthy_pan_os_ticket_passes_and_replays") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let saved = dir.path().join("ticket-4711");
    let out = repro(&state, "paloalto", "running-config.set", true, Some(&saved));
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    no_key_in(&out);
    let report = json(&out);
    let names: Vec<&str> = report["scenarios"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["azure-initiates", "firewall-initiates", "rekey"]);
    assert!(report["scenarios"].as_array().unwrap().iter().all(|s| s["result"] == "pass"), "{report:#}");
    let notes = report["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n.as_str().unwrap().contains("a NAT router in front of it has the local network gateway's address 203.0.113.10")),
        "{notes:?}"
    );
    // The saved lab is a lab like any other.
    let lab = std::fs::read_to_string(saved.join("lab.yaml")).unwrap();
    assert!(lab.contains("name: ticket-4711") && lab.contains("device: pan-os") && lab.contains("import: exports/connection.json"), "{lab}");
    let replay = vpnlab(&state).arg("test").arg(&saved).output().unwrap();
    assert_eq!(replay.status.code(), Some(0), "{}", describe(&replay));
    assert!(run_ids(&state).is_empty(), "a run was left behind");
}

/// A failing PAN-OS ticket: the firewall's DH group 14 against Azure's Default policy. Every
/// run fails, and the diagnosis names the Phase 1 proposals with the fix in PAN-OS `set`
/// commands beside the portal field and the az command.
#[test]
fn repro_of_a_dh_mismatch_names_the_cause_in_each_vocabulary() {
    if !privileged("repro_of_a_dh_mismatch_names_the_cause_in_each_vocabulary") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = repro(dir.path(), "paloalto-dh-mismatch", "running-config.set", true, None);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    no_key_in(&out);
    let report = json(&out);
    for s in report["scenarios"].as_array().unwrap() {
        assert_eq!(s["result"], "fail", "{s:#}");
        let d = &s["diagnosis"][0];
        assert_eq!(d["id"], "ike-proposal-mismatch", "{s:#}");
        assert!(d["cause"].as_str().unwrap().starts_with("the firewall offers aes-256-cbc/sha256/group14 and Azure accepts"), "{d:#}");
        assert!(d["firewall"].as_str().unwrap().starts_with("`set network ike crypto-profiles ike-crypto-profiles azure-ike-crypto"), "{d:#}");
        assert!(d["azure"].as_str().unwrap().contains("az network vpn-connection ipsec-policy add"), "{d:#}");
    }
    assert!(run_ids(dir.path()).is_empty(), "a run was left behind");
}

/// A pfSense at home behind its router, from its config.xml and the exports (the key is in
/// both): healthy both ways and across rekeys.
#[test]
fn repro_of_a_pfsense_behind_nat_passes() {
    if !privileged("repro_of_a_pfsense_behind_nat_passes") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = repro(dir.path(), "pfsense", "config.xml", false, None);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    no_key_in(&out);
    let report = json(&out);
    let firewall = report["scenarios"].as_array().unwrap().iter().find(|s| s["name"] == "firewall-initiates").unwrap();
    assert!(firewall["phase2"].as_str().unwrap().contains("192.168.10.0/24 === 10.30.0.0/16"), "{firewall:#}");
}

/// Input errors: a configuration vpnlab cannot read names the file and what it is; a PAN-OS
/// export without its key says how to give it.
#[test]
fn repro_refuses_what_it_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    let out = vpnlab(dir.path())
        .args(["repro", "--device", "tests/fixtures/repro/paloalto/gateway.json", "--azure", "tests/fixtures/repro/paloalto/lng.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(text(&out.stderr).contains("is neither a PAN-OS configuration"), "{}", describe(&out));
    let out = repro(dir.path(), "paloalto", "running-config.set", false, None);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(text(&out.stderr).contains("give the key with --psk-file FILE"), "{}", describe(&out));
}

/// `device explain` of the shipped labs: what was imported, defaulted with its source, and
/// ignored, and the intent; never a key.
#[test]
fn device_explain_reports_every_element() {
    let dir = tempfile::tempdir().unwrap();
    for (lab, node, needles) in [
        ("labs/azure-paloalto", "firewall", ["pan-os device", "network ike gateway azure-ike-gw", "forward policy"]),
        ("labs/azure-pfsense-home", "pfsense", ["pfsense device", "ipsec/phase1[ikeid=1]/encryption", "forward policy"]),
    ] {
        let out = vpnlab(dir.path()).args(["device", "explain", lab, "--node", node]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        let shown = text(&out.stdout);
        for n in needles {
            assert!(shown.contains(n), "`{n}` missing from {lab}:\n{shown}");
        }
        assert!(shown.contains("default ") && shown.contains("ignored "), "{shown}");
        let wide: Vec<&str> = shown.lines().filter(|l| l.chars().count() > 80).collect();
        assert!(wide.iter().all(|l| !l.contains(' ') || l.trim_start().split(' ').count() == 1), "lines wider than 80 columns:\n{}", wide.join("\n"));
        no_key_in(&out);
        let out = vpnlab(dir.path()).args(["device", "explain", lab, "--format", "json"]).output().unwrap();
        let report = json(&out);
        let imported = report["devices"].as_array().unwrap().iter().find(|d| d["node"] == node).unwrap();
        assert!(!imported["import"]["entries"].as_array().unwrap().is_empty(), "{imported:#}");
    }
}

/// Each device's own status view of a running lab, from live SAs: PAN-OS's `show vpn`
/// commands, pfSense's Status > IPsec, Azure's connection blade.
#[test]
fn status_views_speak_each_vendor() {
    if !privileged("status_views_speak_each_vendor") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (lab, name, views) in [
        (
            "labs/azure-paloalto",
            "azure-paloalto",
            [("pan-os", vec!["show vpn ike-sa", "azure-ike-gw", "Established", "show vpn flow", "tunnel.1"]), ("azure", vec!["connectionStatus", "Connected"])],
        ),
        (
            "labs/azure-pfsense-home",
            "azure-pfsense-home",
            [("pfsense", vec!["Status > IPsec > Overview", "Azure vng-home-lab", "Established", "Bytes-In"]), ("azure", vec!["connectionStatus", "Connected"])],
        ),
    ] {
        let up = vpnlab(dir.path()).args(["up", lab]).output().unwrap();
        assert_eq!(up.status.code(), Some(0), "{}", describe(&up));
        for (view, needles) in views {
            let out = vpnlab(dir.path()).args(["status", name, "--view", view]).output().unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
            for n in needles {
                assert!(text(&out.stdout).contains(n), "`{n}` missing from --view {view}:\n{}", describe(&out));
            }
            let json_out = vpnlab(dir.path()).args(["status", name, "--view", view, "--format", "json"]).output().unwrap();
            assert_eq!(json(&json_out)["schema"], "vpnlab.status-view/1");
            no_key_in(&out);
        }
        let down = vpnlab(dir.path()).args(["down", name]).output().unwrap();
        assert_eq!(down.status.code(), Some(0), "{}", describe(&down));
    }
    assert!(run_ids(dir.path()).is_empty(), "a run was left behind");
}

/// A command that only prints ends quietly when its reader goes away (`... | head`), as a Unix
/// filter does: killed by SIGPIPE, no panic on stderr.
#[test]
fn a_printing_command_ends_quietly_on_a_closed_pipe() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let mut child = vpnlab(dir.path())
        .args(["device", "explain", "labs/azure-paloalto"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{}", describe(&out));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}
