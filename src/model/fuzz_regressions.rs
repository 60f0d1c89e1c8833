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
