//! Bad input through the real binary: broken lab files and scenario files are refused with exit
//! code 2 before anything is built (no run folder), each error names file:line:column and what
//! was wrong, and no shipped pre-shared key ever appears in the output, whatever the mistake.
//! Parse and validation errors come before the root check, so these tests need no root.

use std::path::Path;

use crate::common::{describe, lab_with, repo, run_ids, text, vpnlab, LAB};

const PSKS: [&str; 2] = ["S2sVpnAzure!Psk#2026", "H0me!Lab#Psk2026"];

/// Runs `vpnlab VERB LAB` and checks the refusal: exit 2, no run, no key, `at` and `message`.
fn refused(verb: &str, lab: &Path, at: &str, message: &str) {
    let state = lab.parent().unwrap().join("state");
    let out = vpnlab(&state).arg(verb).arg(lab).output().unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    for psk in PSKS {
        assert!(!stdout.contains(psk) && !stderr.contains(psk), "a pre-shared key in the output:\n{}", describe(&out));
        assert!(!stderr.contains(&psk[..12]), "part of a pre-shared key in the output:\n{}", describe(&out));
    }
    assert!(stderr.contains(at), "no `{at}` in:\n{stderr}");
    assert!(stderr.contains(message), "no `{message}` in:\n{stderr}");
    assert!(run_ids(&state).is_empty(), "a run was started for bad input");
}

/// `vpnlab run` of the shipped lab with one edit.
fn lab_refused(from: &str, to: &str, at: &str, message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab_with(dir.path(), from, to);
    refused("run", &lab, &format!("broken-lab/lab.yaml:{at}: "), message);
}

/// `vpnlab test` of the shipped lab with one scenario, `broken.yaml`.
fn scenario_refused(scenario: &str, at: &str, message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab_with(dir.path(), "name: azure-strongswan", "name: azure-strongswan");
    std::fs::create_dir_all(lab.join("scenarios")).unwrap();
    std::fs::write(lab.join("scenarios/broken.yaml"), scenario).unwrap();
    refused("test", &lab, at, message);
}

const KEY: &str = "        sharedKey: \"S2sVpnAzure!Psk#2026\"\n";
const SECRET: &str = "          secret: \"S2sVpnAzure!Psk#2026\"";
const HEAD: &str = "title: broken\nexpect:\n  phase1: { outcome: up }\n";

// --- lab files -------------------------------------------------------------------------------

#[test]
fn shared_key_with_a_trailing_space() {
    lab_refused(KEY, "        sharedKey: \"S2sVpnAzure!Psk#2026 \"\n", "90:20", "sharedKey: the shared key contains a space at position 21");
}

#[test]
fn shared_key_with_a_newline() {
    lab_refused(KEY, "        sharedKey: \"S2sVpnAzure!Psk#2026\\n\"\n", "90:20", "the shared key contains a newline at position 21");
}

#[test]
fn shared_key_of_200_characters() {
    lab_refused(
        KEY,
        &format!("        sharedKey: \"S2sVpnAzure!Psk#2026{}\"\n", "Q".repeat(180)),
        "90:20",
        "the shared key is 200 characters long; Azure accepts 1 to 128",
    );
}

#[test]
fn shared_key_with_unicode() {
    lab_refused(KEY, "        sharedKey: \"S2sVpnAzure!Psk#2026ü\"\n", "90:20", "the shared key contains the character U+00FC at position 21");
}

#[test]
fn shared_key_with_an_unterminated_quote() {
    lab_refused(KEY, "        sharedKey: \"S2sVpnAzure!Psk#2026\n", "90:20", "sharedKey: unclosed quote");
}

#[test]
fn shared_key_as_a_block_scalar() {
    lab_refused(KEY, "        sharedKey: |\n          S2sVpnAzure!Psk#2026\n", "91:11", "the shared key contains a newline at position 21");
}

#[test]
fn dut_secret_with_an_unterminated_quote() {
    lab_refused(SECRET, "          secret: \"S2sVpnAzure!Psk#2026", "48:19", "this quoted value is not closed on its line (the parser read on to line 90)");
}

#[test]
fn dut_secret_as_a_list() {
    lab_refused(SECRET, "          secret: [\"S2sVpnAzure!Psk#2026\"]", "48:19", "secret: expected string scalar");
}

#[test]
fn invalid_number() {
    lab_refused("dpdTimeoutSeconds: 45", "dpdTimeoutSeconds: -5", "91:28", "invalid u32\n");
}

#[test]
fn invalid_number_says_what_is_valid() {
    lab_refused("dpdTimeoutSeconds: 45", "dpdTimeoutSeconds: lots", "91:28", "= valid: a whole number from 0 to 4294967295, e.g. `dpdTimeoutSeconds: 45`");
}

#[test]
fn scalar_where_a_list_belongs() {
    lab_refused("remote_addrs: [198.51.100.20]", "remote_addrs: 198.51.100.20", "35:25", "= valid: a list: `[a, b]` on one line");
}

#[test]
fn tab_indentation() {
    lab_refused(
        "    kind: host\n    interfaces:\n",
        "    kind: host\n\tinterfaces:\n",
        "18:1",
        "nodes.lan-pc.interfaces: a tab character: YAML indents with spaces only",
    );
}

#[test]
fn missing_lab_name() {
    lab_refused("name: azure-strongswan\n", "", "115:1", ": name: missing field `name`");
}

#[test]
fn missing_ping_source() {
    lab_refused("    - ping: { from: lan-pc, to: 10.20.0.4 }", "    - ping: { to: 10.20.0.4 }", "119:15", "run.probes[0].ping.from: missing field `from`");
}

#[test]
fn misspelt_kind() {
    lab_refused("    kind: nat-router\n", "    kind: hots\n", "51:11", "unknown node kind `hots`; did you mean `host`?\n");
}

#[test]
fn misspelt_kind_is_the_only_error() {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab_with(dir.path(), "    kind: nat-router\n", "    kind: hots\n");
    let out = vpnlab(&dir.path().join("state")).arg("run").arg(&lab).output().unwrap();
    assert_eq!(text(&out.stderr).matches("error: ").count(), 1, "{}", describe(&out));
}

#[test]
fn unknown_field() {
    lab_refused("    kind: nat-router\n", "    kind: nat-router\n    colour: blue\n", "52:5", "unknown field `colour`, valid fields are: kind, interfaces");
}

#[test]
fn empty_lab_file() {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab_with(dir.path(), "name: azure-strongswan", "name: azure-strongswan");
    std::fs::write(lab.join("lab.yaml"), "").unwrap();
    refused("run", &lab, "broken-lab/lab.yaml:1:1: unexpected end of input", "= valid: the file ends where a value must follow");
}

#[test]
fn long_line_is_cut() {
    lab_refused(
        "dhGroup: DHGroup14",
        &format!("dhGroup: DH14 # {}", "z".repeat(400)),
        "100:22",
        &format!("100 |             dhGroup: DH14 # {}…\n", "z".repeat(172)),
    );
}

#[test]
fn import_outside_the_lab_folder() {
    lab_refused(
        "        name: lng-paloalto-hq\n",
        "        import: ../../etc/passwd\n        name: lng-paloalto-hq\n",
        "82:17",
        "localNetworkGateway.import: `../../etc/passwd` leads out of the lab's folder",
    );
}

#[test]
fn import_by_absolute_path() {
    lab_refused(
        "        name: lng-paloalto-hq\n",
        "        import: /etc/passwd\n        name: lng-paloalto-hq\n",
        "82:17",
        "`/etc/passwd` is an absolute path",
    );
}

#[test]
fn import_through_a_symlink_out_of_the_lab() {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab_with(dir.path(), "        name: lng-paloalto-hq\n", "        import: lng.json\n        name: lng-paloalto-hq\n");
    std::os::unix::fs::symlink("/etc/passwd", lab.join("lng.json")).unwrap();
    refused("run", &lab, "broken-lab/lab.yaml:82:17: ", "`lng.json` resolves (through a symbolic link) to /etc/passwd, outside the lab's folder");
}

#[test]
fn export_without_the_local_network_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab_with(
        dir.path(),
        "        name: lng-paloalto-hq\n        gatewayIpAddress: 203.0.113.10\n        localNetworkAddressSpace:\n          addressPrefixes: [10.10.0.0/16]\n",
        "        import: lng.json\n",
    );
    let export = r#"{"name": "lng-hq", "type": "Microsoft.Network/localNetworkGateways", "properties": {"gatewayIpAddress": "203.0.113.10"}}"#;
    std::fs::write(lab.join("lng.json"), export).unwrap();
    refused("run", &lab, "error: lng.json (imported by ", "localNetworkAddressSpace.addressPrefixes: the local network gateway has no localNetworkAddressSpace.addressPrefixes: the export lng.json does not set it");
}

#[test]
fn export_with_a_bad_shared_key() {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab_with(dir.path(), KEY, "        import: connection.json\n");
    let export = r#"{"name": "cn", "type": "Microsoft.Network/connections", "properties": {"connectionType": "IPsec", "sharedKey": "S2sVpnAzure!Psk#2026~"}}"#;
    std::fs::write(lab.join("connection.json"), export).unwrap();
    refused("run", &lab, "error: connection.json (imported by ", "sharedKey: the shared key contains a tilde at position 21");
}

// --- scenario files --------------------------------------------------------------------------

#[test]
fn scenario_patch_with_a_misspelt_node() {
    scenario_refused(
        &format!("{HEAD}patch:\n  nodes:\n    lan-pcc:\n      kind: host\n"),
        "scenarios/broken.yaml:6:5: patch.nodes.lan-pcc: ",
        "`nodes.lan-pcc` is not in ",
    );
    scenario_refused(&format!("{HEAD}patch:\n  nodes:\n    lan-pcc:\n      kind: host\n"), "did you mean `lan-pc`?", "write it under `add:` instead");
}

#[test]
fn scenario_patch_that_creates_a_field() {
    scenario_refused(
        &format!("{HEAD}patch:\n  nodes:\n    firewall:\n      exact_proxy_id: true\n"),
        "scenarios/broken.yaml:7:7: patch.nodes.firewall.exact_proxy_id: ",
        "to create a node or a field, write it under `add:` instead",
    );
}

#[test]
fn scenario_patch_removing_what_is_not_there() {
    scenario_refused(
        &format!("{HEAD}patch:\n  nodes:\n    firewall: {{ tunnel_rules: null }}\n"),
        "scenarios/broken.yaml:6:17: ",
        "so there is nothing to remove",
    );
}

#[test]
fn scenario_patch_with_a_bad_value() {
    scenario_refused(
        &format!("{HEAD}patch:\n  nodes:\n    azure-gw:\n      azure:\n        connection: {{ dpdTimeoutSeconds: 5 }}\n"),
        "scenarios/broken.yaml:8:42: nodes.azure-gw.azure.connection.dpdTimeoutSeconds: ",
        "5 is outside Azure's range (rule dpd-timeout)",
    );
}

#[test]
fn scenario_patch_with_a_bad_shared_key() {
    scenario_refused(
        &format!("{HEAD}patch:\n  nodes:\n    azure-gw:\n      azure:\n        connection:\n          sharedKey: \"S2sVpnAzure!Psk#2026 \"\n"),
        "scenarios/broken.yaml:9:22: nodes.azure-gw.azure.connection.sharedKey: ",
        "the shared key contains a space at position 21",
    );
}

#[test]
fn scenario_patch_with_an_unterminated_secret() {
    scenario_refused(
        &format!(
            "{HEAD}patch:\n  nodes:\n    firewall:\n      strongswan:\n        secrets:\n          - ids: [a]\n            secret: \"S2sVpnAzure!Psk#2026\n"
        ),
        "scenarios/broken.yaml:10:21: ",
        "unclosed quote",
    );
}

#[test]
fn scenario_patch_making_a_lab_value_invalid() {
    scenario_refused(
        &format!("{HEAD}patch:\n  nodes:\n    azure-gw:\n      azure:\n        virtualNetworkGateway: {{ sku: Basic }}\n"),
        "broken-lab/lab.yaml:94:13: nodes.azure-gw.azure.connection.ipsecPolicies[0]: ",
        "custom IPsec/IKE policies are not supported on the Basic SKU",
    );
}

#[test]
fn scenario_with_a_bad_initiator_and_time_scale() {
    scenario_refused(
        "title: t\ninitiator: lan-pc\ntime_scale: 0.5\nexpect:\n  phase1: { outcome: up }\n",
        "scenarios/broken.yaml:2:12: run.initiator: ",
        "`lan-pc` is a host and runs no IKE daemon",
    );
}

#[test]
fn scenario_with_a_wrong_type() {
    scenario_refused("title: [t]\nexpect:\n  phase1: { outcome: up }\n", "scenarios/broken.yaml:1:8: title: expected string scalar", "= valid: a single value");
}

#[test]
fn shipped_scenarios_print_no_key_when_refused() {
    // Every shipped lab with its keys, and a scenario that breaks the lab elsewhere.
    for lab in ["labs/azure-strongswan", "labs/azure-pfsense-home"] {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("lab");
        std::fs::create_dir_all(copy.join("scenarios")).unwrap();
        std::fs::copy(repo().join(lab).join("lab.yaml"), copy.join("lab.yaml")).unwrap();
        std::fs::write(
            copy.join("scenarios/broken.yaml"),
            format!("{HEAD}patch:\n  nodes:\n    azure-gw:\n      azure:\n        connection: {{ sharedKey: \"x y\" }}\n"),
        )
        .unwrap();
        refused("test", &copy, "scenarios/broken.yaml:8:34: ", "the shared key contains a space at position 2");
    }
    let _ = LAB;
}
