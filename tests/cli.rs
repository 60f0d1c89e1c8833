//! vpnlab as a user runs it: the real binary, real namespaces, real charon daemons, real
//! nftables and ping. Tests that need root skip with a reason when not root; under CI=true
//! they fail instead, so a CI run can never pass by skipping.
//!
//! Each test uses its own state folder (`VPNLAB_STATE_DIR`), so `down --all` in one test
//! never touches another test's labs. No assertion is on time; speed lives in `make bench`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const LAB: &str = "labs/azure-paloalto";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn vpnlab(state: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vpnlab"));
    c.env("VPNLAB_STATE_DIR", state).env_remove("VPNLAB_PAUSE_AFTER").env_remove("VPNLAB_CHARON").current_dir(repo()).stdin(Stdio::null());
    c
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// True when the test may run; prints why not otherwise. Under CI a missing root is a failure.
fn privileged(test: &str) -> bool {
    if is_root() {
        return true;
    }
    if std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false) {
        panic!("{test} needs root (namespaces, veth, charon) and CI=true: a privileged test may not be skipped in CI");
    }
    eprintln!("skipping {test}: needs root (network namespaces, veth pairs, charon daemons)");
    false
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn describe(out: &Output) -> String {
    format!("exit {:?}\n--- stdout\n{}\n--- stderr\n{}", out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// Waits (bounded) for a condition, saying what it waited for if it gives up.
fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "gave up after {} ms waiting for {what}", limit.as_millis());
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits (bounded) for a child to exit; kills it and fails if it does not.
fn wait_exit(child: &mut Child, what: &str, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{what} did not exit within {} ms", limit.as_millis());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn run_ids(state: &Path) -> Vec<String> {
    std::fs::read_dir(state)
        .map(|d| d.filter_map(|e| e.ok()).filter(|e| e.path().is_dir()).filter_map(|e| e.file_name().into_string().ok()).collect())
        .unwrap_or_default()
}

fn namespaces_of(run_id: &str) -> Vec<String> {
    let prefix = format!("vpnlab-{run_id}-");
    std::fs::read_dir("/run/netns")
        .map(|d| d.filter_map(|e| e.ok()).filter_map(|e| e.file_name().into_string().ok()).filter(|n| n.starts_with(&prefix)).collect())
        .unwrap_or_default()
}

fn processes_of(run_id: &str) -> Vec<u32> {
    let needle = format!("VPNLAB_RUN={run_id}");
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
                .filter(|pid| {
                    let alive = std::fs::read_to_string(format!("/proc/{pid}/stat")).map(|s| !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z')).unwrap_or(false);
                    alive && std::fs::read(format!("/proc/{pid}/environ")).map(|env| env.split(|b| *b == 0).any(|v| v == needle.as_bytes())).unwrap_or(false)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn mounts_of(run_id: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default().lines().filter(|l| l.contains(&format!("vpnlab-{run_id}-")) || l.contains(&format!("/{run_id}/"))).map(str::to_string).collect()
}

/// Nothing of the run may remain: namespace, process, mount or folder.
fn assert_nothing_left(state: &Path, run_id: &str) {
    assert!(namespaces_of(run_id).is_empty(), "namespaces of run {run_id} left behind: {:?}", namespaces_of(run_id));
    assert!(processes_of(run_id).is_empty(), "processes of run {run_id} left behind: {:?}", processes_of(run_id));
    assert!(mounts_of(run_id).is_empty(), "mounts of run {run_id} left behind: {:?}", mounts_of(run_id));
    assert!(!state.join(run_id).exists(), "run folder {} left behind", state.join(run_id).display());
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", describe(out)))
}

fn verdict<'a>(report: &'a Value, check: &str, node: &str) -> &'a Value {
    report["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .find(|v| v["check"] == check && v["node"] == node)
        .unwrap_or_else(|| panic!("no verdict `{check}` for {node} in {}", report["verdicts"]))
}

fn assert_healthy(report: &Value) {
    assert_eq!(report["result"], "pass", "verdicts: {:#}", report["verdicts"]);
    assert_eq!(report["schema"], "vpnlab.run/1");
    assert_eq!(report["data_path"]["name"], "kernel-libipsec");
    for v in report["verdicts"].as_array().unwrap() {
        assert_eq!(v["outcome"], "pass", "{v}");
    }
    // Phase 1 and Phase 2 on both daemons, with the algorithms of the custom policy.
    for node in ["firewall", "azure-gw"] {
        let ike = &report["sas"][node][0];
        assert_eq!(ike["state"], "ESTABLISHED", "{node}: {ike}");
        assert_eq!(ike["version"], 2);
        assert_eq!(ike["algorithms"], "AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048");
        let child = &ike["children"][0];
        assert_eq!(child["state"], "INSTALLED");
        assert_eq!(child["mode"], "TUNNEL");
        assert_eq!(child["protocol"], "ESP");
        assert_eq!(child["encap"], true, "NAT-T: ESP in UDP");
        assert_eq!(child["algorithms"], "AES_CBC-256/HMAC_SHA2_256_128");
        assert_eq!(child["local_ts"], serde_json::json!(["0.0.0.0/0"]));
        assert_eq!(child["remote_ts"], serde_json::json!(["0.0.0.0/0"]));
        assert!(child["bytes_in"].as_u64().unwrap() > 0 && child["bytes_out"].as_u64().unwrap() > 0, "{node} counters: {child}");
    }
    // The firewall is behind the NAT router; Azure sees the NAT's public address.
    assert_eq!(report["sas"]["firewall"][0]["nat_local"], true);
    assert_eq!(report["sas"]["azure-gw"][0]["nat_remote"], true);
    assert_eq!(report["sas"]["azure-gw"][0]["remote_host"], "203.0.113.10");
    assert_eq!(verdict(report, "ping lan-pc -> 10.20.0.4", "lan-pc")["outcome"], "pass");
    assert_eq!(verdict(report, "ping azure-vm -> 10.10.0.5", "azure-vm")["outcome"], "pass");
    let phases: Vec<&str> = report["phases"].as_array().unwrap().iter().map(|p| p["phase"].as_str().unwrap()).collect();
    assert_eq!(phases, ["namespaces and links", "daemons ready", "configs loaded", "tunnel up", "probes", "teardown"]);
}

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
    for needle in ["IKE SA established", "CHILD SA installed", "ping lan-pc -> 10.20.0.4", "SA counters rise", "kernel-libipsec", "PASS: 11 of 11 checks passed"] {
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
    assert!(text(&up.stdout).contains(&format!("vpnlab down {id}")), "up tells how to remove the lab:\n{}", text(&up.stdout));
    assert_eq!(namespaces_of(&id).len(), 6, "one namespace per node");
    assert_eq!(processes_of(&id).len(), 2, "two charons keep running after up");

    let status = vpnlab(state.path()).args(["status"]).output().unwrap();
    assert_eq!(status.status.code(), Some(0), "{}", describe(&status));
    assert!(text(&status.stdout).contains(&id) && text(&status.stdout).contains("azure-paloalto"), "{}", describe(&status));

    let detail = vpnlab(state.path()).args(["status", "azure-paloalto", "--format", "json"]).output().unwrap();
    assert_eq!(detail.status.code(), Some(0), "{}", describe(&detail));
    let detail = json(&detail);
    assert_eq!(detail["sas"]["firewall"][0]["state"], "ESTABLISHED");
    assert_eq!(detail["sas"]["azure-gw"][0]["children"][0]["state"], "INSTALLED");
    assert_eq!(detail["nodes"].as_array().unwrap().len(), 6);

    // The data path works for a person too, both ways.
    let ping = vpnlab(state.path()).args(["exec", "azure-paloalto", "lan-pc", "--", "ping", "-c1", "-W2", "10.20.0.4"]).output().unwrap();
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

    let down = vpnlab(state.path()).args(["down", "azure-paloalto"]).output().unwrap();
    assert_eq!(down.status.code(), Some(0), "{}", describe(&down));
    assert_nothing_left(state.path(), &id);
    let again = vpnlab(state.path()).args(["down", "azure-paloalto"]).output().unwrap();
    assert_eq!(again.status.code(), Some(2), "down of a lab that is gone: {}", describe(&again));
}

#[test]
fn sigint_during_bring_up_leaves_nothing() {
    if !privileged("sigint_during_bring_up_leaves_nothing") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let mut child = vpnlab(state.path()).args(["run", LAB]).env("VPNLAB_PAUSE_AFTER", "daemons ready").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
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
    let mut child = vpnlab(state.path()).args(["run", LAB]).env("VPNLAB_PAUSE_AFTER", "namespaces and links").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let mut id = String::new();
    wait_for("the run's namespaces", Duration::from_secs(20), || {
        run_ids(state.path()).first().map(|i| id = i.clone()).is_some() && namespaces_of(&id).len() == 6
    });
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = wait_exit(&mut child, "vpnlab run after SIGTERM", Duration::from_secs(20));
    assert_eq!(status.code(), Some(143));
    assert_nothing_left(state.path(), &id);
}

#[test]
fn down_all_after_kill_9_of_up() {
    if !privileged("down_all_after_kill_9_of_up") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let mut child = vpnlab(state.path()).args(["up", LAB]).env("VPNLAB_PAUSE_AFTER", "configs loaded").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let mut id = String::new();
    wait_for("vpnlab up to load the daemons' configs", Duration::from_secs(20), || {
        run_ids(state.path()).first().map(|i| id = i.clone()).is_some()
            && processes_of(&id).len() == 2
            && std::fs::read_to_string(state.path().join(&id).join("nodes/azure-gw/charon.log")).map(|l| l.contains("added vici connection")).unwrap_or(false)
    });
    child.kill().unwrap(); // SIGKILL: vpnlab gets no chance to clean up.
    child.wait().unwrap();
    assert_eq!(processes_of(&id).len(), 2, "the charons outlive a kill -9'd vpnlab");
    assert_eq!(namespaces_of(&id).len(), 6);

    let down = vpnlab(state.path()).args(["down", "--all"]).output().unwrap();
    assert_eq!(down.status.code(), Some(0), "{}", describe(&down));
    assert!(text(&down.stdout).contains(&format!("removed run {id}")), "{}", describe(&down));
    assert_nothing_left(state.path(), &id);
}

/// Writes a copy of the shipped lab with one edit into a temporary folder.
fn lab_with(dir: &Path, from: &str, to: &str) -> PathBuf {
    let original = std::fs::read_to_string(repo().join(LAB).join("lab.yaml")).unwrap();
    assert!(original.contains(from), "edit target `{from}` not in the shipped lab");
    let lab = dir.join("broken-lab");
    std::fs::create_dir_all(&lab).unwrap();
    std::fs::write(lab.join("lab.yaml"), original.replacen(from, to, 1)).unwrap();
    lab
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
        let lab = lab_with(dir.path(), "name: azure-paloalto", "name: azure-paloalto");
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
