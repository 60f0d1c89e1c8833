//! The command line as a user runs it: the healthy lab, cleanup after every kind of ending,
//! concurrent labs, a running lab's status/exec/down, and every kind of bad input.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::*;

#[test]
fn healthy_lab_passes_and_leaves_nothing() {
    if !privileged("healthy_lab_passes_and_leaves_nothing") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let out = vpnlab(state.path()).args(["run", LAB, "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let report = json(&out);
    assert_healthy(&report);
    assert!(!text(&out.stdout).contains("S2sVpnAzure"), "the shared key leaked into the report");
    assert_nothing_left(state.path(), report["run_id"].as_str().unwrap());
}

#[test]
fn table_report_names_checks_and_result() {
    if !privileged("table_report_names_checks_and_result") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let out = vpnlab(state.path()).args(["run", LAB]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let stdout = text(&out.stdout);
    for needle in
        ["IKE SA established", "CHILD SA installed", "ping lan-pc -> 10.20.0.4", "SA counters rise", "kernel-libipsec", "PASS: 11 of 11 checks passed"]
    {
        assert!(stdout.contains(needle), "`{needle}` missing from:\n{stdout}");
    }
}

#[test]
fn two_labs_at_once_both_pass() {
    if !privileged("two_labs_at_once_both_pass") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let spawn = || vpnlab(state.path()).args(["run", LAB, "--format", "json"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!(a.status.code(), Some(0), "{}", describe(&a));
    assert_eq!(b.status.code(), Some(0), "{}", describe(&b));
    let (ra, rb) = (json(&a), json(&b));
    assert_healthy(&ra);
    assert_healthy(&rb);
    assert_ne!(ra["run_id"], rb["run_id"]);
    assert_nothing_left(state.path(), ra["run_id"].as_str().unwrap());
    assert_nothing_left(state.path(), rb["run_id"].as_str().unwrap());
}

#[test]
fn up_status_exec_down() {
    if !privileged("up_status_exec_down") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let up = vpnlab(state.path()).args(["up", LAB]).output().unwrap();
    assert_eq!(up.status.code(), Some(0), "{}", describe(&up));
    let ids = run_ids(state.path());
    assert_eq!(ids.len(), 1, "one run folder after up: {ids:?}");
    let id = ids[0].clone();
    let _guard = Running { state: state.path().to_path_buf(), id: id.clone() };
    assert!(text(&up.stdout).contains(&format!("vpnlab down {id}")), "up tells how to remove the lab:\n{}", text(&up.stdout));
    assert_eq!(namespaces_of(&id).len(), 6, "one namespace per node");
    assert_eq!(processes_of(&id).len(), 3, "two charons and their keeper keep running after up");

    let status = vpnlab(state.path()).args(["status"]).output().unwrap();
    assert_eq!(status.status.code(), Some(0), "{}", describe(&status));
    assert!(text(&status.stdout).contains(&id) && text(&status.stdout).contains("azure-strongswan"), "{}", describe(&status));

    let detail = vpnlab(state.path()).args(["status", "azure-strongswan", "--format", "json"]).output().unwrap();
    assert_eq!(detail.status.code(), Some(0), "{}", describe(&detail));
    let detail = json(&detail);
    assert_eq!(detail["sas"]["firewall"][0]["state"], "ESTABLISHED");
    assert_eq!(detail["sas"]["azure-gw"][0]["children"][0]["state"], "INSTALLED");
    assert_eq!(detail["nodes"].as_array().unwrap().len(), 6);

    // The data path works for a person too, both ways.
    let ping = vpnlab(state.path()).args(["exec", "azure-strongswan", "lan-pc", "--", "ping", "-c1", "-W2", "10.20.0.4"]).output().unwrap();
    assert_eq!(ping.status.code(), Some(0), "{}", describe(&ping));
    let ping = vpnlab(state.path()).args(["exec", &id, "azure-vm", "--", "ping", "-c1", "-W2", "10.10.0.5"]).output().unwrap();
    assert_eq!(ping.status.code(), Some(0), "{}", describe(&ping));
    // exec passes the command's own exit code through.
    let fail = vpnlab(state.path()).args(["exec", &id, "lan-pc", "--", "sh", "-c", "exit 7"]).output().unwrap();
    assert_eq!(fail.status.code(), Some(7), "{}", describe(&fail));
    // Route-based semantics: charon's catch-all policy-routing rule is gone, only declared routes lead into the tunnel.
    let rules = vpnlab(state.path()).args(["exec", &id, "firewall", "--", "ip", "rule"]).output().unwrap();
    assert!(!text(&rules.stdout).contains("lookup 220"), "charon's rule 220 still steers traffic:\n{}", text(&rules.stdout));
    let route = vpnlab(state.path()).args(["exec", &id, "firewall", "--", "ip", "route", "get", "10.20.0.4"]).output().unwrap();
    assert!(text(&route.stdout).contains("dev ipsec0"), "{}", describe(&route));
    let route = vpnlab(state.path()).args(["exec", &id, "firewall", "--", "ip", "route", "get", "198.51.100.20"]).output().unwrap();
    assert!(text(&route.stdout).contains("dev wan"), "IKE to the gateway must not enter the tunnel: {}", describe(&route));
    // Sealed: no link of the lab is in the host's namespace.
    let host_links = Command::new("ip").args(["-o", "link"]).output().unwrap();
    assert!(!text(&host_links.stdout).contains(&format!("vpnlab run={id}")), "a lab link is in the host namespace");

    let unknown = vpnlab(state.path()).args(["exec", &id, "nosuchnode", "--", "true"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2), "{}", describe(&unknown));
    assert!(text(&unknown.stderr).contains("no node `nosuchnode`"), "{}", describe(&unknown));

    let down = vpnlab(state.path()).args(["down", "azure-strongswan"]).output().unwrap();
    assert_eq!(down.status.code(), Some(0), "{}", describe(&down));
    assert_nothing_left(state.path(), &id);
    let again = vpnlab(state.path()).args(["down", "azure-strongswan"]).output().unwrap();
    assert_eq!(again.status.code(), Some(2), "down of a lab that is gone: {}", describe(&again));
}

#[test]
fn sigint_during_bring_up_leaves_nothing() {
    if !privileged("sigint_during_bring_up_leaves_nothing") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let mut child =
        vpnlab(state.path()).args(["run", LAB]).env("VPNLAB_PAUSE_AFTER", "daemons ready").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut id = String::new();
    wait_for("the run's daemons to start", Duration::from_secs(20), || {
        if let Some(i) = run_ids(state.path()).first() {
            id = i.clone();
            processes_of(&id).len() == 2 && namespaces_of(&id).len() == 6
        } else {
            false
        }
    });
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    let status = wait_exit(&mut child, "vpnlab run after SIGINT", Duration::from_secs(20));
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "stderr: {stderr}");
    assert!(stderr.contains(&format!("removed run {id}")), "stderr: {stderr}");
    assert_nothing_left(state.path(), &id);
}

#[test]
fn sigterm_during_bring_up_leaves_nothing() {
    if !privileged("sigterm_during_bring_up_leaves_nothing") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let mut child =
        vpnlab(state.path()).args(["run", LAB]).env("VPNLAB_PAUSE_AFTER", "namespaces and links").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let mut id = String::new();
    wait_for("the run's namespaces", Duration::from_secs(20), || {
        run_ids(state.path()).first().map(|i| id = i.clone()).is_some() && namespaces_of(&id).len() == 6
    });
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = wait_exit(&mut child, "vpnlab run after SIGTERM", Duration::from_secs(20));
    assert_eq!(status.code(), Some(143));
    assert_nothing_left(state.path(), &id);
}

/// A `vpnlab run` killed with SIGKILL leaves its daemons and namespaces; its owner is gone, so
/// `vpnlab down RUN` (same user) removes them.
#[test]
fn down_after_kill_9_of_run() {
    if !privileged("down_after_kill_9_of_run") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let mut child =
        vpnlab(state.path()).args(["run", LAB]).env("VPNLAB_PAUSE_AFTER", "configs loaded").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let mut id = String::new();
    wait_for("vpnlab run to load the daemons' configs", Duration::from_secs(20), || {
        run_ids(state.path()).first().map(|i| id = i.clone()).is_some()
            && processes_of(&id).len() == 2
            && std::fs::read_to_string(state.path().join(&id).join("nodes/azure-gw/charon.log")).map(|l| l.contains("added vici connection")).unwrap_or(false)
    });
    let _guard = Running { state: state.path().to_path_buf(), id: id.clone() };
    child.kill().unwrap(); // SIGKILL: vpnlab gets no chance to clean up.
    child.wait().unwrap();
    assert_eq!(processes_of(&id).len(), 2, "the charons outlive a kill -9'd vpnlab");
    assert_eq!(namespaces_of(&id).len(), 6);
    let status = vpnlab(state.path()).args(["status"]).output().unwrap();
    assert!(text(&status.stdout).contains("gone") && text(&status.stdout).contains(&id), "{}", describe(&status));

    let down = vpnlab(state.path()).args(["down", &id]).output().unwrap();
    assert_eq!(down.status.code(), Some(0), "{}", describe(&down));
    assert!(text(&down.stdout).contains(&format!("removed run {id}")), "{}", describe(&down));
    assert_nothing_left(state.path(), &id);
}

/// A bad lab file: exit 2, the message names file:line:column and the problem, nothing created.
fn assert_rejected(from: &str, to: &str, location: &str, message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let lab = lab_with(dir.path(), from, to);
    let out = vpnlab(&state).args(["run"]).arg(&lab).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("broken-lab/lab.yaml:{location}")), "no `lab.yaml:{location}` in:\n{stderr}");
    assert!(stderr.contains(message), "no `{message}` in:\n{stderr}");
    assert!(run_ids(&state).is_empty(), "a run was started for an invalid lab");
}

#[test]
fn malformed_yaml_is_rejected() {
    assert_rejected("    interfaces:\n      eth0: 10.10.0.5/16", "    interfaces: [eth0: 10.10.0.5/16", "18:17", "expected mapping start");
}

#[test]
fn unknown_field_is_rejected() {
    assert_rejected("    kind: nat-router\n", "    kind: nat-router\n    colour: blue\n", "52:5", "unknown field `colour`, valid fields are: kind, interfaces");
}

#[test]
fn invalid_cidr_is_rejected() {
    assert_rejected("eth0: 10.20.0.4/16", "eth0: 10.20.0.400/16", "106:13", "`10.20.0.400/16` is not an IPv4 prefix");
}

#[test]
fn duplicate_node_name_is_rejected() {
    assert_rejected("  azure-vm:\n", "  lan-pc:\n", "103:3", "`lan-pc` is defined twice");
}

#[test]
fn link_to_missing_node_is_rejected() {
    assert_rejected("[azure-gw:vnet, azure-vm:eth0]", "[azure-gw:vnet, azure-vn:eth0]", "114:32", "link to a missing node `azure-vn`");
}

#[test]
fn missing_lab_folder_is_rejected() {
    let state = tempfile::tempdir().unwrap();
    let out = vpnlab(state.path()).args(["run", "labs/no-such-lab"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(text(&out.stderr).contains("cannot read lab file labs/no-such-lab/lab.yaml"), "{}", describe(&out));
}

#[test]
fn not_root_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let out = if is_root() {
        // Drop to nobody, with a copy of the binary and the lab that nobody can read.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let bin = dir.path().join("vpnlab");
        std::fs::copy(env!("CARGO_BIN_EXE_vpnlab"), &bin).unwrap();
        let lab = lab_with(dir.path(), "name: azure-strongswan", "name: azure-strongswan");
        for p in [&lab, &lab.join("lab.yaml")] {
            let mode = if p.is_dir() { 0o755 } else { 0o644 };
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .arg("run")
            .arg(&lab)
            .env("VPNLAB_STATE_DIR", &state)
            .output()
            .expect("setpriv (util-linux) is needed to test running as a non-root user")
    } else {
        vpnlab(&state).args(["run", LAB]).output().unwrap()
    };
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(text(&out.stderr).contains("vpnlab needs root"), "{}", describe(&out));
    assert!(run_ids(&state).is_empty(), "a run was started without root");
}

#[test]
fn missing_strongswan_is_a_clear_error() {
    if !privileged("missing_strongswan_is_a_clear_error") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let out = vpnlab(state.path()).args(["run", LAB]).env("VPNLAB_CHARON", "/nonexistent/charon").output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("strongSwan's charon daemon is missing (looked for /nonexistent/charon)") && stderr.contains("strongswan-charon"), "{stderr}");
    assert!(run_ids(state.path()).is_empty(), "a run was started without strongSwan");
}

#[test]
fn help_documents_exit_codes() {
    let out = Command::new(env!("CARGO_BIN_EXE_vpnlab")).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for needle in ["Exit codes:", "1    the lab ran and at least one verdict FAILED", "130", "vpnlab run labs/azure-paloalto"] {
        assert!(help.contains(needle), "`{needle}` missing from --help:\n{help}");
    }
}

#[test]
fn failing_tunnel_exits_1_with_evidence_and_leaves_nothing() {
    if !privileged("failing_tunnel_exits_1_with_evidence_and_leaves_nothing") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    // The firewall's PSK differs from the connection's sharedKey (ticket 6's trailing space).
    let lab = lab_with(dir.path(), "          secret: \"S2sVpnAzure!Psk#2026\"", "          secret: \"S2sVpnAzure!Psk#2026 \"");
    let out = vpnlab(&state).args(["run", "--format", "json"]).arg(&lab).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let report = json(&out);
    assert_eq!(report["result"], "fail");
    let initiated = verdict(&report, "tunnel initiated", "firewall");
    assert_eq!(initiated["outcome"], "fail");
    assert!(initiated["evidence"].as_str().unwrap().contains("failed"), "{initiated}");
    assert_eq!(verdict(&report, "ping lan-pc -> 10.20.0.4", "lan-pc")["outcome"], "fail");
    // The typed alerts of both daemons are in the timeline.
    let alerts: Vec<(String, String)> = report["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "error-notify")
        .map(|e| (e["node"].as_str().unwrap().to_string(), e["kind"].as_str().unwrap().to_string()))
        .collect();
    assert!(alerts.contains(&("azure-gw".into(), "PEER_AUTH_FAILED".into())), "{alerts:?}");
    assert!(alerts.contains(&("firewall".into(), "LOCAL_AUTH_FAILED".into())), "{alerts:?}");
    assert!(!text(&out.stdout).contains("S2sVpnAzure"), "a key leaked into the report");
    assert_nothing_left(&state, report["run_id"].as_str().unwrap());
}

#[test]
fn daemon_that_cannot_start_is_inconclusive_and_leaves_nothing() {
    if !privileged("daemon_that_cannot_start_is_inconclusive_and_leaves_nothing") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let out = vpnlab(state.path()).args(["run", LAB, "--format", "json"]).env("VPNLAB_CHARON", "/bin/false").output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    let report = json(&out);
    assert_eq!(report["result"], "inconclusive");
    assert!(report["error"].as_str().unwrap().contains("exited during start"), "{}", report["error"]);
    assert_nothing_left(state.path(), report["run_id"].as_str().unwrap());
}
