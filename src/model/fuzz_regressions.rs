//! Every input the fuzzer ever found a problem with (`fuzz/regressions/<target>/`), replayed
//! through the same entry points as the fuzz targets: each must give a lab or a proper error
//! (rendered, naming the file), never a panic. Part of `cargo test`; `make fuzz` finds new ones.

use std::path::{Path, PathBuf};

use crate::device::azure::import::{import_bytes, ResourceKind};

/// Every regression input of `target`, and its seed corpus too: while no regression was found,
/// the seeds keep these tests exercising the entry points instead of passing on nothing.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [root.join("regressions").join(target), root.join("seeds").join(target)] {
        files.extend(std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).map(|e| e.unwrap().path()));
    }
    files.sort();
    let inputs: Vec<(PathBuf, Vec<u8>)> =
        files.into_iter().filter(|p| p.file_name().is_some_and(|n| n != "README.md")).map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect();
    assert!(!inputs.is_empty(), "no regression or seed inputs for {target}");
    inputs
}

const LAB: &str = include_str!("../../labs/azure-strongswan/lab.yaml");

#[test]
fn lab_file_regressions_give_a_result_or_a_proper_error() {
    for (path, data) in inputs("lab_file") {
        let Ok(text) = std::str::from_utf8(&data) else { continue };
        let name = path.display();
        if let Err(e) = crate::model::parse(Path::new("labs/fuzz/lab.yaml"), text) {
            let shown = e.to_string();
            assert!(shown.starts_with("error: labs/fuzz/lab.yaml"), "{name}: {shown}");
            assert!(!e.errors.is_empty() && e.errors.iter().all(|x| !x.message.is_empty()), "{name}: {shown}");
        }
        if let Err(e) = crate::scenario::parse(Path::new("labs/azure-strongswan/scenarios/fuzz.yaml"), text, Path::new("labs/azure-strongswan/lab.yaml"), LAB) {
            assert!(
                e.starts_with("error: labs/azure-strongswan/") || e.starts_with("the lab as patched by labs/azure-strongswan/scenarios/fuzz.yaml"),
                "{name}: {e}"
            );
            assert!(!e.contains("S2sVpnAzure!Psk#2026"), "{name}: {e}");
        }
    }
}

#[test]
fn azure_import_regressions_give_a_result_or_a_proper_error() {
    for (path, data) in inputs("azure_import") {
        for kind in [ResourceKind::VirtualNetworkGateway, ResourceKind::VirtualNetwork, ResourceKind::LocalNetworkGateway, ResourceKind::Connection] {
            for name in [None, Some("cn-hq")] {
                if let Err(e) = import_bytes(Path::new("export.json"), &data, kind, name) {
                    let shown = e.to_string();
                    assert!(shown.contains("export.json"), "{}: {shown}", path.display());
                }
            }
        }
    }
}

/// The device configuration parsers: every input gives a device or errors that say what and
/// where, and never holds the key it was given.
#[test]
fn device_config_regressions_give_a_device_or_proper_errors() {
    let interfaces = [("lan".to_string(), "10.10.0.1/16".parse().unwrap()), ("wan".to_string(), "172.16.0.2/30".parse().unwrap())];
    for (target, family) in [("panos_set", "pan-os"), ("panos_xml", "pan-os"), ("pfsense_xml", "pfsense")] {
        for (path, data) in inputs(target) {
            let Ok(text) = std::str::from_utf8(&data) else { continue };
            let source = crate::device::DeviceSource {
                file: Path::new("dut/config"),
                text,
                select: None,
                psk: Some("fuzz-key-2026"),
                interfaces: &interfaces,
                choices: &[],
            };
            if let Err(errors) = crate::device::load(family, &source) {
                assert!(!errors.is_empty(), "{}: an error list with no error", path.display());
                for e in errors {
                    assert!(!e.message.is_empty(), "{}: an error without a message: {e:?}", path.display());
                    assert!(!e.message.contains("fuzz-key-2026"), "{}: the key in an error: {e:?}", path.display());
                }
            }
        }
    }
}
