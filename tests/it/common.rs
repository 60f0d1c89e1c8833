//! Helpers shared by the integration tests: running the binary, waiting (bounded), and
//! finding what a run left behind.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const LAB: &str = "labs/azure-strongswan";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn vpnlab(state: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vpnlab"));
    c.env("VPNLAB_STATE_DIR", state).env_remove("VPNLAB_PAUSE_AFTER").env_remove("VPNLAB_CHARON").current_dir(repo()).stdin(Stdio::null());
    c
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// True when the test may run; prints why not otherwise. Under CI a missing root is a failure.
pub fn privileged(test: &str) -> bool {
    if is_root() {
        return true;
    }
    if std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false) {
        panic!("{test} needs root (namespaces, veth, charon) and CI=true: a privileged test may not be skipped in CI");
    }
    eprintln!("skipping {test}: needs root (network namespaces, veth pairs, charon daemons)");
    false
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn describe(out: &Output) -> String {
    format!("exit {:?}\n--- stdout\n{}\n--- stderr\n{}", out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// Waits (bounded) for a condition, saying what it waited for if it gives up.
pub fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "gave up after {} ms waiting for {what}", limit.as_millis());
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits (bounded) for a child to exit; kills it and fails if it does not.
pub fn wait_exit(child: &mut Child, what: &str, limit: Duration) -> std::process::ExitStatus {
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

pub fn run_ids(state: &Path) -> Vec<String> {
    std::fs::read_dir(state)
        .map(|d| d.filter_map(|e| e.ok()).filter(|e| e.path().is_dir()).filter_map(|e| e.file_name().into_string().ok()).collect())
        .unwrap_or_default()
}

pub fn namespaces_of(run_id: &str) -> Vec<String> {
    let prefix = format!("vpnlab-{run_id}-");
    std::fs::read_dir("/run/netns")
        .map(|d| d.filter_map(|e| e.ok()).filter_map(|e| e.file_name().into_string().ok()).filter(|n| n.starts_with(&prefix)).collect())
        .unwrap_or_default()
}

pub fn processes_of(run_id: &str) -> Vec<u32> {
    let needle = format!("VPNLAB_RUN={run_id}");
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
                .filter(|pid| {
                    let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                        .map(|s| !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
                        .unwrap_or(false);
                    alive && std::fs::read(format!("/proc/{pid}/environ")).map(|env| env.split(|b| *b == 0).any(|v| v == needle.as_bytes())).unwrap_or(false)
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn mounts_of(run_id: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&format!("vpnlab-{run_id}-")) || l.contains(&format!("/{run_id}/")))
        .map(str::to_string)
        .collect()
}

/// Nothing of the run may remain: namespace, process, mount or folder.
pub fn assert_nothing_left(state: &Path, run_id: &str) {
    assert!(namespaces_of(run_id).is_empty(), "namespaces of run {run_id} left behind: {:?}", namespaces_of(run_id));
    assert!(processes_of(run_id).is_empty(), "processes of run {run_id} left behind: {:?}", processes_of(run_id));
    assert!(mounts_of(run_id).is_empty(), "mounts of run {run_id} left behind: {:?}", mounts_of(run_id));
    assert!(!state.join(run_id).exists(), "run folder {} left behind", state.join(run_id).display());
}

pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", describe(out)))
}

pub fn verdict<'a>(report: &'a Value, check: &str, node: &str) -> &'a Value {
    report["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .find(|v| v["check"] == check && v["node"] == node)
        .unwrap_or_else(|| panic!("no verdict `{check}` for {node} in {}", report["verdicts"]))
}

pub fn assert_healthy(report: &Value) {
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

/// Writes a copy of the shipped lab with one edit into a temporary folder.
pub fn lab_with(dir: &Path, from: &str, to: &str) -> PathBuf {
    let original = std::fs::read_to_string(repo().join(LAB).join("lab.yaml")).unwrap();
    assert!(original.contains(from), "edit target `{from}` not in the shipped lab");
    let lab = dir.join("broken-lab");
    std::fs::create_dir_all(&lab).unwrap();
    std::fs::write(lab.join("lab.yaml"), original.replacen(from, to, 1)).unwrap();
    lab
}

/// Removes a lab left running by `up` when the test ends, pass or fail: a failed assertion
/// must not leave daemons and namespaces behind.
pub struct Running {
    pub state: PathBuf,
    pub id: String,
}

impl Running {
    /// `vpnlab down` of the lab, which must succeed and leave nothing behind.
    pub fn remove(&self) {
        let out = vpnlab(&self.state).args(["down", &self.id]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        assert_nothing_left(&self.state, &self.id);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = vpnlab(&self.state).args(["down", &self.id]).output();
    }
}

/// `vpnlab up` of `lab` with `state`; the exit code, stdout, and a guard that removes the lab.
pub fn up(state: &Path, lab: &Path) -> (Option<i32>, String, Running) {
    let out = vpnlab(state).arg("up").arg(lab).output().unwrap();
    let ids = run_ids(state);
    assert_eq!(
        ids.len(),
        1,
        "one run after up: {ids:?}
{}",
        describe(&out)
    );
    (out.status.code(), describe(&out), Running { state: state.to_path_buf(), id: ids[0].clone() })
}

/// A copy of the shipped lab with several edits (each must apply) in a temporary folder.
pub fn lab_with_edits(dir: &Path, edits: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(repo().join(LAB).join("lab.yaml")).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "edit target `{from}` not in the lab");
        text = text.replacen(from, to, 1);
    }
    let lab = dir.join("edited-lab");
    std::fs::create_dir_all(&lab).unwrap();
    std::fs::write(lab.join("lab.yaml"), text).unwrap();
    lab
}

/// Runs `vpnlab run --format json` on a lab; returns the exit code and the report, and checks
/// that nothing of the run is left behind, whatever the outcome.
pub fn run_report(lab: &Path) -> (Option<i32>, Value) {
    let state = tempfile::tempdir().unwrap();
    let out = vpnlab(state.path()).args(["run", "--format", "json"]).arg(lab).output().unwrap();
    let report = json(&out);
    if let Some(id) = report["run_id"].as_str() {
        assert_nothing_left(state.path(), id);
    }
    (out.status.code(), report)
}

/// (node, alert name) of every error-notify alert in a report.
pub fn alerts(report: &Value) -> Vec<(String, String)> {
    report["events"]
        .as_array()
        .map(|evs| {
            evs.iter()
                .filter(|e| e["source"] == "error-notify")
                .map(|e| (e["node"].as_str().unwrap_or("").to_string(), e["kind"].as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

pub fn has_alert(report: &Value, node: &str, kind: &str) -> bool {
    alerts(report).iter().any(|(n, k)| n == node && k == kind)
}

pub fn outcome<'a>(report: &'a Value, check: &str, node: &str) -> &'a str {
    verdict(report, check, node)["outcome"].as_str().unwrap_or("")
}
