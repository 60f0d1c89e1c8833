//! Arbitrary text as a lab file (`model::parse`) and as a scenario of the shipped lab
//! (`scenario::parse`), errors rendered as a person would see them. Any panic or hang is a bug;
//! every finding is kept under `fuzz/regressions/lab_file/` and replayed by `cargo test`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

const LAB: &str = include_str!("../../labs/azure-strongswan/lab.yaml");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(e) = vpnlab::model::parse(Path::new("labs/fuzz/lab.yaml"), text) {
        let _ = e.to_string();
    }
    let _ = vpnlab::scenario::parse(Path::new("labs/azure-strongswan/scenarios/fuzz.yaml"), text, Path::new("labs/azure-strongswan/lab.yaml"), LAB);
});
