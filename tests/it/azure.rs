//! The simulated Azure VPN Gateway, behaviour by behaviour: each against a DUT that matches it
//! and one that does not, asserting the outcome (state, alert, selectors, algorithms).

use std::time::Duration;

use crate::common::*;

const CUSTOM_POLICY: &str = "        ipsecPolicies:
          - saLifeTimeSeconds: 27000
            saDataSizeKilobytes: 102400000
            ipsecEncryption: AES256
            ipsecIntegrity: SHA256
            ikeEncryption: AES256
            ikeIntegrity: SHA256
            dhGroup: DHGroup14
            pfsGroup: None
";
const DEFAULT_POLICY: &str = "        ipsecPolicies: []\n";

const DUT_PROPOSALS: &str = "proposals: [aes256-sha256-modp2048]";
const DUT_ESP: &str = "esp_proposals: [aes256-sha256]";
const DUT_TS: &str = "              local_ts: [0.0.0.0/0]\n              remote_ts: [0.0.0.0/0]\n";
const DUT_TS_NARROWED: &str = "              local_ts: [10.10.0.0/16]\n              remote_ts: [10.20.0.0/16]\n";

/// Azure initiates: the branch NAT forwards IKE to the firewall (ticket 11's port forwards).
const AZURE_INITIATES: [(&str, &str); 2] = [
    ("initiator: firewall", "initiator: azure-gw"),
    ("      masquerade: wan\n", "      masquerade: wan\n      port_forwards:\n        - { protocol: udp, port: 500, to: 172.16.0.2 }\n        - { protocol: udp, port: 4500, to: 172.16.0.2 }\n"),
];

fn run_with(edits: &[(&str, &str)]) -> (Option<i32>, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab_with_edits(dir.path(), edits);
    run_report(&lab)
}

fn assert_pass(code: Option<i32>, report: &serde_json::Value) {
    assert_eq!(code, Some(0), "verdicts: {:#}\nerror: {}", report["verdicts"], report["error"]);
    assert_eq!(report["result"], "pass");
}

fn assert_fail(code: Option<i32>, report: &serde_json::Value) {
    assert_eq!(code, Some(1), "expected a FAIL, got {:?}: {:#}\nerror: {}", code, report["verdicts"], report["error"]);
    assert_eq!(report["result"], "fail");
}

// --- 1. Route-based vs policy-based -------------------------------------------------------

const POLICY_BASED_GATEWAY: [(&str, &str); 4] = [
    ("        vpnType: RouteBased\n        sku: VpnGw2AZ\n", "        vpnType: PolicyBased\n        sku: Basic\n"),
    ("        connectionProtocol: IKEv2\n", "        connectionProtocol: IKEv1\n"),
    (CUSTOM_POLICY, DEFAULT_POLICY),
    // (the gateway's DPD timeout stays; a policy-based gateway simply runs no DPD)
    ("        connectionMode: Default\n", "        connectionMode: Default\n"),
];

#[test]
fn policy_based_gateway_and_ikev1_dut_pass() {
    if !privileged("policy_based_gateway_and_ikev1_dut_pass") {
        return;
    }
    let mut edits = POLICY_BASED_GATEWAY.to_vec();
    edits.extend([("          version: 2\n", "          version: 1\n"), (DUT_PROPOSALS, "proposals: [aes256-sha256-modp1024]"), (DUT_TS, DUT_TS_NARROWED)]);
    let (code, report) = run_with(&edits);
    assert_pass(code, &report);
    for node in ["firewall", "azure-gw"] {
        assert_eq!(report["sas"][node][0]["version"], 1, "{node} runs IKEv1");
    }
    assert_eq!(report["sas"]["azure-gw"][0]["children"][0]["local_ts"], serde_json::json!(["10.20.0.0/16"]));
    assert_eq!(report["sas"]["azure-gw"][0]["children"][0]["remote_ts"], serde_json::json!(["10.10.0.0/16"]));
}

#[test]
fn policy_based_gateway_ignores_an_ikev2_dut() {
    if !privileged("policy_based_gateway_ignores_an_ikev2_dut") {
        return;
    }
    // Ticket 2: the firewall sits in init, retransmitting, with no useful error.
    let (code, report) = run_with(&POLICY_BASED_GATEWAY);
    assert_fail(code, &report);
    assert_eq!(outcome(&report, "tunnel initiated", "firewall"), "fail");
    assert!(has_alert(&report, "firewall", "RETRANSMIT_SEND_TIMEOUT"), "{:?}", alerts(&report));
    assert!(has_alert(&report, "firewall", "PEER_INIT_UNREACHABLE"), "{:?}", alerts(&report));
    let gateway_events = report["events"].as_array().unwrap().iter().filter(|e| e["node"] == "azure-gw").count();
    assert_eq!(gateway_events, 0, "the gateway must not even notice the IKEv2 attempt");
}

#[test]
fn policy_based_gateway_with_reject_switch_answers_no_proposal() {
    if !privileged("policy_based_gateway_with_reject_switch_answers_no_proposal") {
        return;
    }
    let mut edits = POLICY_BASED_GATEWAY.to_vec();
    edits.push(("    azure:\n", "    azure:\n      model: { otherIkeVersion: reject }\n"));
    let (code, report) = run_with(&edits);
    assert_fail(code, &report);
    assert!(has_alert(&report, "firewall", "PROPOSAL_MISMATCH_IKE"), "{:?}", alerts(&report));
    assert!(!has_alert(&report, "firewall", "PEER_INIT_UNREACHABLE"), "{:?}", alerts(&report));
}

// --- 2. Default policy ---------------------------------------------------------------------

#[test]
fn default_policy_accepts_a_dh2_dut() {
    if !privileged("default_policy_accepts_a_dh2_dut") {
        return;
    }
    let (code, report) =
        run_with(&[(CUSTOM_POLICY, DEFAULT_POLICY), (DUT_PROPOSALS, "proposals: [aes256-sha1-modp1024]"), (DUT_ESP, "esp_proposals: [aes256-sha1]")]);
    assert_pass(code, &report);
    assert_eq!(report["sas"]["azure-gw"][0]["algorithms"], "AES_CBC-256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024");
    assert_eq!(report["sas"]["azure-gw"][0]["children"][0]["algorithms"], "AES_CBC-256/HMAC_SHA1_96");
}

#[test]
fn default_policy_refuses_a_dh14_dut() {
    if !privileged("default_policy_refuses_a_dh14_dut") {
        return;
    }
    // Ticket 4: firewall DH14 against Azure's Default policy (DH group 2 only).
    let (code, report) = run_with(&[(CUSTOM_POLICY, DEFAULT_POLICY)]);
    assert_fail(code, &report);
    assert!(has_alert(&report, "firewall", "PROPOSAL_MISMATCH_IKE"), "{:?}", alerts(&report));
    assert!(has_alert(&report, "azure-gw", "PROPOSAL_MISMATCH_IKE"), "{:?}", alerts(&report));
    assert_eq!(report["sas"]["azure-gw"], serde_json::json!([]));
}

/// aes128-sha256 is in the 26 offers Azure accepts as responder, but not in the 6 it offers.
const DUT_ONLY_AES128_SHA256: [(&str, &str); 3] =
    [(CUSTOM_POLICY, DEFAULT_POLICY), (DUT_PROPOSALS, "proposals: [aes256-sha1-modp1024]"), (DUT_ESP, "esp_proposals: [aes128-sha256]")];

#[test]
fn default_policy_accepts_more_as_responder() {
    if !privileged("default_policy_accepts_more_as_responder") {
        return;
    }
    let (code, report) = run_with(&DUT_ONLY_AES128_SHA256);
    assert_pass(code, &report);
    assert_eq!(report["sas"]["azure-gw"][0]["children"][0]["algorithms"], "AES_CBC-128/HMAC_SHA2_256_128");
}

#[test]
fn default_policy_offers_less_as_initiator() {
    if !privileged("default_policy_offers_less_as_initiator") {
        return;
    }
    let mut edits = DUT_ONLY_AES128_SHA256.to_vec();
    edits.extend(AZURE_INITIATES);
    let (code, report) = run_with(&edits);
    assert_fail(code, &report);
    // Phase 1 comes up, Phase 2 finds no common proposal.
    assert_eq!(outcome(&report, "IKE SA established", "azure-gw"), "pass");
    assert_eq!(outcome(&report, "CHILD SA installed", "azure-gw"), "fail");
    assert!(has_alert(&report, "firewall", "PROPOSAL_MISMATCH_CHILD") || has_alert(&report, "azure-gw", "PROPOSAL_MISMATCH_CHILD"), "{:?}", alerts(&report));
}

// --- 3. Custom policy ----------------------------------------------------------------------

#[test]
fn custom_policy_refuses_another_phase1_integrity() {
    if !privileged("custom_policy_refuses_another_phase1_integrity") {
        return;
    }
    let (code, report) = run_with(&[(DUT_PROPOSALS, "proposals: [aes256-sha1-modp2048]")]);
    assert_fail(code, &report);
    assert!(has_alert(&report, "azure-gw", "PROPOSAL_MISMATCH_IKE"), "{:?}", alerts(&report));
}

#[test]
fn custom_policy_refuses_another_phase2_cipher_and_keeps_phase1() {
    if !privileged("custom_policy_refuses_another_phase2_cipher_and_keeps_phase1") {
        return;
    }
    let (code, report) = run_with(&[(DUT_ESP, "esp_proposals: [aes128-sha256]")]);
    assert_fail(code, &report);
    assert_eq!(outcome(&report, "IKE SA established", "firewall"), "pass");
    assert_eq!(outcome(&report, "CHILD SA installed", "firewall"), "fail");
    assert!(has_alert(&report, "azure-gw", "PROPOSAL_MISMATCH_CHILD"), "{:?}", alerts(&report));
}

// --- 4. Traffic selectors --------------------------------------------------------------------

#[test]
fn narrowed_proxy_id_is_accepted_by_the_documented_model() {
    if !privileged("narrowed_proxy_id_is_accepted_by_the_documented_model") {
        return;
    }
    let (code, report) = run_with(&[(DUT_TS, DUT_TS_NARROWED)]);
    assert_pass(code, &report);
    assert_eq!(report["azure_model"]["azure-gw"][0], "narrowedTrafficSelectors accept");
    assert_eq!(report["sas"]["azure-gw"][0]["children"][0]["local_ts"], serde_json::json!(["10.20.0.0/16"]));
    assert!(has_alert(&report, "azure-gw", "TS_NARROWED"), "{:?}", alerts(&report));
}

const REJECT_NARROWED: (&str, &str) = ("    azure:\n", "    azure:\n      model: { narrowedTrafficSelectors: reject }\n");

#[test]
fn narrowed_proxy_id_fails_phase2_in_the_teaching_model() {
    if !privileged("narrowed_proxy_id_fails_phase2_in_the_teaching_model") {
        return;
    }
    // Ticket 3, teaching model: Phase 1 up, Phase 2 NO_PROPOSAL_CHOSEN.
    let (code, report) = run_with(&[REJECT_NARROWED, (DUT_TS, DUT_TS_NARROWED)]);
    assert_fail(code, &report);
    assert_eq!(report["azure_model"]["azure-gw"][0], "narrowedTrafficSelectors reject");
    assert_eq!(outcome(&report, "IKE SA established", "azure-gw"), "pass");
    assert_eq!(outcome(&report, "CHILD SA installed", "firewall"), "fail");
    assert!(has_alert(&report, "azure-gw", "PROPOSAL_MISMATCH_CHILD"), "{:?}", alerts(&report));
    assert!(has_alert(&report, "firewall", "KEEP_ON_CHILD_SA_FAILURE"), "{:?}", alerts(&report));
}

#[test]
fn teaching_model_still_accepts_any_to_any() {
    if !privileged("teaching_model_still_accepts_any_to_any") {
        return;
    }
    let (code, report) = run_with(&[REJECT_NARROWED]);
    assert_pass(code, &report);
}

const PBTS: (&str, &str) = ("        connectionMode: Default\n", "        connectionMode: Default\n        usePolicyBasedTrafficSelectors: true\n");

#[test]
fn policy_based_selectors_offered_when_azure_initiates() {
    if !privileged("policy_based_selectors_offered_when_azure_initiates") {
        return;
    }
    let mut edits = vec![PBTS, (DUT_TS, DUT_TS_NARROWED)];
    edits.extend(AZURE_INITIATES);
    let (code, report) = run_with(&edits);
    assert_pass(code, &report);
    let child = &report["sas"]["azure-gw"][0]["children"][0];
    assert_eq!(child["local_ts"], serde_json::json!(["10.20.0.0/16"]));
    assert_eq!(child["remote_ts"], serde_json::json!(["10.10.0.0/16"]));
}

#[test]
fn policy_based_selectors_refused_by_a_dut_with_other_prefixes() {
    if !privileged("policy_based_selectors_refused_by_a_dut_with_other_prefixes") {
        return;
    }
    let mut edits = vec![PBTS, (DUT_TS, "              local_ts: [10.30.0.0/16]\n              remote_ts: [10.20.0.0/16]\n")];
    edits.extend(AZURE_INITIATES);
    let (code, report) = run_with(&edits);
    assert_fail(code, &report);
    assert_eq!(outcome(&report, "IKE SA established", "azure-gw"), "pass");
    assert_eq!(outcome(&report, "CHILD SA installed", "azure-gw"), "fail");
}

// --- 5. Connection modes -------------------------------------------------------------------

const INITIATOR_ONLY: (&str, &str) = ("        connectionMode: Default\n", "        connectionMode: InitiatorOnly\n");

#[test]
fn initiator_only_gateway_drops_the_dut_silently() {
    if !privileged("initiator_only_gateway_drops_the_dut_silently") {
        return;
    }
    let (code, report) = run_with(&[INITIATOR_ONLY]);
    assert_fail(code, &report);
    assert!(has_alert(&report, "firewall", "PEER_INIT_UNREACHABLE"), "{:?}", alerts(&report));
    let gateway_events = report["events"].as_array().unwrap().iter().filter(|e| e["node"] == "azure-gw").count();
    assert_eq!(gateway_events, 0, "InitiatorOnly drops inbound IKE without a trace");
}

#[test]
fn initiator_only_gateway_connects_when_it_initiates() {
    if !privileged("initiator_only_gateway_connects_when_it_initiates") {
        return;
    }
    let mut edits = vec![INITIATOR_ONLY];
    edits.extend(AZURE_INITIATES);
    let (code, report) = run_with(&edits);
    assert_pass(code, &report);
    assert_eq!(report["sas"]["azure-gw"][0]["initiator"], true);
}

#[test]
fn responder_only_gateway_accepts_the_dut() {
    if !privileged("responder_only_gateway_accepts_the_dut") {
        return;
    }
    let (code, report) = run_with(&[("        connectionMode: Default\n", "        connectionMode: ResponderOnly\n")]);
    assert_pass(code, &report);
}

#[test]
fn responder_only_gateway_may_not_be_the_initiator() {
    let dir = tempfile::tempdir().unwrap();
    let mut edits = vec![("        connectionMode: Default\n", "        connectionMode: ResponderOnly\n")];
    edits.extend(AZURE_INITIATES);
    let lab = lab_with_edits(dir.path(), &edits);
    let out = vpnlab(&dir.path().join("state")).arg("run").arg(&lab).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(text(&out.stderr).contains("ResponderOnly mode, which never initiates"), "{}", describe(&out));
}

// --- 6. Local network gateway by FQDN ------------------------------------------------------

fn fqdn_lab(record: &str) -> Vec<(&'static str, String)> {
    vec![
        ("        gatewayIpAddress: 203.0.113.10\n", "        fqdn: branch.example.com\n".to_string()),
        ("links:\n", format!("dns:\n  records:\n    branch.example.com: {record}\n\nlinks:\n")),
    ]
}

#[test]
fn fqdn_local_network_gateway_resolved_in_the_lab() {
    if !privileged("fqdn_local_network_gateway_resolved_in_the_lab") {
        return;
    }
    let edits = fqdn_lab("203.0.113.10");
    let edits: Vec<(&str, &str)> = edits.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let (code, report) = run_with(&edits);
    assert_pass(code, &report);
}

#[test]
fn fqdn_resolving_to_an_old_address_fails() {
    if !privileged("fqdn_resolving_to_an_old_address_fails") {
        return;
    }
    // The record still names the branch's previous WAN address (ticket 13's stale DNS).
    let edits = fqdn_lab("203.0.113.99");
    let edits: Vec<(&str, &str)> = edits.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let (code, report) = run_with(&edits);
    assert_fail(code, &report);
    assert_eq!(outcome(&report, "tunnel initiated", "firewall"), "fail");
}

// --- 7. DPD with a compressed clock --------------------------------------------------------

#[test]
fn dpd_clears_the_sas_of_a_dead_peer() {
    if !privileged("dpd_clears_the_sas_of_a_dead_peer") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let lab = lab_with_edits(
        dir.path(),
        &[("dpdTimeoutSeconds: 45", "dpdTimeoutSeconds: 9"), ("name: azure-strongswan\n", "name: azure-strongswan\ntime_scale: 3\n")],
    );
    let (code, output, guard) = up(&state, &lab);
    assert_eq!(code, Some(0), "{output}");
    let id = guard.id.clone();
    let sas = |node: &str| {
        let out = vpnlab(&state).args(["status", &id, "--format", "json"]).output().unwrap();
        json(&out)["sas"][node].as_array().map(Vec::len).unwrap_or(0)
    };
    assert_eq!(sas("azure-gw"), 1);
    // The firewall's daemon dies without a word (kill -9).
    let pids = processes_of(&id);
    let firewall = pids
        .into_iter()
        .find(|p| std::fs::read(format!("/proc/{p}/environ")).map(|e| e.split(|b| *b == 0).any(|v| v == b"VPNLAB_NODE=firewall")).unwrap_or(false))
        .expect("the firewall's charon");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(firewall as i32), nix::sys::signal::Signal::SIGKILL).unwrap();
    // DPD (every 1 s at this time scale) plus the retransmits clears the gateway's SAs.
    wait_for("the gateway to clear the dead peer's SAs by DPD", Duration::from_secs(30), || sas("azure-gw") == 0);
    guard.remove();
}

// --- explain -----------------------------------------------------------------------------------

#[test]
fn explain_shows_behaviour_with_evidence() {
    let out = vpnlab(&std::env::temp_dir()).args(["azure", "explain", LAB]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let stdout = text(&out.stdout);
    for needle in [
        "offers as initiator",
        "aes256-sha256-modp2048",
        "28,800 s",
        "27,000 s / 102400000 KB",
        "custom-policy-exact",
        "documented (Microsoft)",
        "narrowed-selectors",
        "sources conflict",
    ] {
        assert!(stdout.contains(needle), "`{needle}` missing from:\n{stdout}");
    }
    let out = vpnlab(&std::env::temp_dir()).args(["azure", "explain", LAB, "--format", "json"]).output().unwrap();
    let v = json(&out);
    assert_eq!(v["schema"], "vpnlab.azure-explain/1");
    assert_eq!(v["gateways"][0]["role"], "responder");
    let all = vpnlab(&std::env::temp_dir()).args(["azure", "explain", "--all"]).output().unwrap();
    assert_eq!(all.status.code(), Some(0));
    assert_eq!(
        text(&all.stdout),
        std::fs::read_to_string(repo().join("docs/azure-model.md")).unwrap(),
        "docs/azure-model.md is the output of `vpnlab azure explain --all`"
    );
}

#[test]
fn lab_built_from_azure_exports_passes() {
    if !privileged("lab_built_from_azure_exports_passes") {
        return;
    }
    let (code, report) = run_report(&repo().join("tests/fixtures/azure"));
    assert_pass(code, &report);
    assert!(report["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("connection-custom-policy.cli.json")), "{}", report["notes"]);
    assert_eq!(report["sas"]["azure-gw"][0]["name"], "cn-paloalto-custom");
}

// --- Rekeys under a compressed clock -----------------------------------------------------------

/// A lab whose CHILD SAs live Azure's minimum 300 s, run 30x faster: Azure rekeys after 9 s
/// and the SA expires after 10 s.
fn short_lifetime_lab(dir: &std::path::Path, extra: &[(&str, &str)]) -> std::path::PathBuf {
    let mut edits = vec![("saLifeTimeSeconds: 27000", "saLifeTimeSeconds: 300"), ("name: azure-strongswan\n", "name: azure-strongswan\ntime_scale: 30\n")];
    edits.extend_from_slice(extra);
    lab_with_edits(dir, &edits)
}

fn child_of(state: &std::path::Path, id: &str, node: &str) -> Option<serde_json::Value> {
    let out = vpnlab(state).args(["status", id, "--format", "json"]).output().unwrap();
    let v = json(&out);
    v["sas"][node][0]["children"].as_array().and_then(|c| c.first().cloned())
}

#[test]
fn child_sa_rekeys_in_compressed_time() {
    if !privileged("child_sa_rekeys_in_compressed_time") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let lab = short_lifetime_lab(dir.path(), &[]);
    let (code, output, guard) = up(&state, &lab);
    assert_eq!(code, Some(0), "{output}");
    let id = guard.id.clone();
    let first = child_of(&state, &id, "azure-gw").expect("a CHILD SA after up")["uniqueid"].clone();
    wait_for("the gateway to rekey its CHILD SA", Duration::from_secs(40), || {
        child_of(&state, &id, "azure-gw").is_some_and(|c| c["uniqueid"] != first && c["state"] == "INSTALLED")
    });
    let ping = vpnlab(&state).args(["exec", &id, "lan-pc", "--", "ping", "-c1", "-W2", "10.20.0.4"]).output().unwrap();
    assert_eq!(ping.status.code(), Some(0), "traffic after the rekey: {}", describe(&ping));
    guard.remove();
}

#[test]
fn pfs_on_one_side_fails_at_the_first_rekey() {
    if !privileged("pfs_on_one_side_fails_at_the_first_rekey") {
        return;
    }
    // Ticket 7: the firewall wants PFS (DH14) in Phase 2, Azure's policy says pfsGroup None.
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let lab = short_lifetime_lab(dir.path(), &[(DUT_ESP, "esp_proposals: [aes256-sha256-modp2048]")]);
    let (code, output, guard) = up(&state, &lab);
    assert_eq!(code, Some(0), "the first CHILD SA comes up (no KE in IKE_AUTH): {output}");
    let id = guard.id.clone();
    wait_for("the CHILD SA to expire after its failed rekey", Duration::from_secs(40), || child_of(&state, &id, "azure-gw").is_none());
    let out = vpnlab(&state).args(["status", &id, "--format", "json"]).output().unwrap();
    assert_eq!(json(&out)["sas"]["azure-gw"][0]["state"], "ESTABLISHED", "Phase 1 stays up");
    let ping = vpnlab(&state).args(["exec", &id, "lan-pc", "--", "ping", "-c1", "-W1", "10.20.0.4"]).output().unwrap();
    assert_ne!(ping.status.code(), Some(0), "no traffic without a CHILD SA");
    guard.remove();
}

#[test]
fn fqdn_is_re_resolved_while_the_tunnel_is_down() {
    if !privileged("fqdn_is_re_resolved_while_the_tunnel_is_down") {
        return;
    }
    // The record still names the branch's previous address; the lab's clock runs 60x faster,
    // so Azure's 5-minute DNS refresh comes every 5 s.
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let lab = lab_with_edits(
        dir.path(),
        &[
            ("        gatewayIpAddress: 203.0.113.10\n", "        fqdn: branch.example.com\n"),
            ("links:\n", "dns:\n  server: internet\n  records:\n    branch.example.com: 203.0.113.99\n\nlinks:\n"),
            ("name: azure-strongswan\n", "name: azure-strongswan\ntime_scale: 60\n"),
        ],
    );
    let (code, output, guard) = up(&state, &lab);
    assert_eq!(code, Some(1), "the stale record keeps the tunnel down: {output}");
    let id = guard.id.clone();
    assert_eq!(processes_of(&id).len(), 3, "two daemons and the lab's supervisor");
    // The branch updates its dynamic DNS record.
    let set = vpnlab(&state).args(["dns", &id, "branch.example.com", "203.0.113.10"]).output().unwrap();
    assert_eq!(set.status.code(), Some(0), "{}", describe(&set));
    wait_for("the firewall's initiate to succeed once Azure has re-resolved the FQDN", Duration::from_secs(40), || {
        std::thread::sleep(Duration::from_millis(500));
        vpnlab(&state).args(["initiate", &id, "firewall"]).output().unwrap().status.code() == Some(0)
    });
    let log = std::fs::read_to_string(state.join(&id).join("supervisor.log")).unwrap();
    assert!(log.contains("branch.example.com re-resolved while disconnected: 203.0.113.99 -> 203.0.113.10"), "{log}");
    let ping = vpnlab(&state).args(["exec", &id, "lan-pc", "--", "ping", "-c1", "-W2", "10.20.0.4"]).output().unwrap();
    assert_eq!(ping.status.code(), Some(0), "{}", describe(&ping));
    guard.remove();
}

#[test]
fn ikev1_main_mode_rekey_drops_and_rebuilds_the_tunnel() {
    if !privileged("ikev1_main_mode_rekey_drops_and_rebuilds_the_tunnel") {
        return;
    }
    // A route-based IKEv1 connection at time scale 3000: the 28,800 s IKE SA is renewed after
    // about 9 s (the CHILD SA lives far longer here, so only the Main Mode rekey happens).
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let lab = lab_with_edits(
        dir.path(),
        &[
            ("connectionProtocol: IKEv2", "connectionProtocol: IKEv1"),
            ("saLifeTimeSeconds: 27000", "saLifeTimeSeconds: 270000"),
            ("          version: 2\n", "          version: 1\n"),
            ("rekey_time: 3600s", "rekey_time: 200000s"),
            ("name: azure-strongswan\n", "name: azure-strongswan\ntime_scale: 3000\n"),
        ],
    );
    let (code, output, guard) = up(&state, &lab);
    assert_eq!(code, Some(0), "{output}");
    let id = guard.id.clone();
    assert_eq!(processes_of(&id).len(), 3, "two daemons and the lab's supervisor");
    let ike = |state: &std::path::Path| {
        let out = vpnlab(state).args(["status", &id, "--format", "json"]).output().unwrap();
        json(&out)["sas"]["azure-gw"][0].clone()
    };
    let first = ike(&state)["uniqueid"].clone();
    assert_eq!(ike(&state)["version"], 1);
    let log = state.join(&id).join("supervisor.log");
    wait_for("the gateway's IKEv1 Main Mode rekey to drop and rebuild the tunnel", Duration::from_secs(60), || {
        std::thread::sleep(Duration::from_millis(300));
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("tunnel down") && l.contains(": up"))
    });
    let now = ike(&state);
    assert_eq!(now["state"], "ESTABLISHED");
    assert_ne!(now["uniqueid"], first, "a new IKE SA, not the old one rekeyed in place");
    let ping = vpnlab(&state).args(["exec", &id, "lan-pc", "--", "ping", "-c1", "-W2", "10.20.0.4"]).output().unwrap();
    assert_eq!(ping.status.code(), Some(0), "{}", describe(&ping));
    guard.remove();
}

/// Azure's role is per exchange (rule default-policy-phase2-per-exchange): in a lab the firewall
/// starts, the gateway's own CHILD rekey carries no KE payload (its initiator table has no PFS),
/// and a firewall that requires PFS refuses it; the same firewall's own PFS rekey is accepted.
/// Read on the wire as charon logs it, not only from the verdicts.
#[test]
fn gateway_rekeys_without_key_exchange_and_accepts_the_peers_pfs_rekey() {
    if !privileged("gateway_rekeys_without_key_exchange_and_accepts_the_peers_pfs_rekey") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let art = dir.path().join("artifacts");
    let out = vpnlab(&dir.path().join("state"))
        .args(["test", LAB, "-s", "pfs-required-azure-rekeys-first", "-s", "pfs-required-firewall-rekeys-first", "--artifacts"])
        .arg(&art)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let log = |scenario: &str, node: &str| std::fs::read_to_string(art.join("azure-strongswan").join(scenario).join(node).join("charon.log")).unwrap();
    let gw = log("pfs-required-azure-rekeys-first", "azure-gw");
    let rekey = gw.lines().find(|l| l.contains("generating CREATE_CHILD_SA request") && l.contains("N(REKEY_SA)")).expect("the gateway starts a CHILD rekey");
    assert!(rekey.contains("[ N(REKEY_SA) SA No TSi TSr ]"), "the gateway's rekey must carry no KE: {rekey}");
    assert!(log("pfs-required-azure-rekeys-first", "firewall").contains("no acceptable proposal found"), "the PFS-only firewall refuses it");
    let fw = log("pfs-required-firewall-rekeys-first", "firewall");
    let own = fw.lines().find(|l| l.contains("generating CREATE_CHILD_SA request") && l.contains("N(REKEY_SA)")).expect("the firewall rekeys");
    assert!(own.contains(" KE "), "the firewall's rekey carries its PFS group: {own}");
    assert!(log("pfs-required-firewall-rekeys-first", "azure-gw").contains("MODP_1024"), "the gateway selected the PFS proposal");
}
