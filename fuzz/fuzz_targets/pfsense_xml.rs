//! Arbitrary text as a pfsense configuration file (`device::load`), with the lab interfaces of
//! the shipped labs, errors rendered as a person would see them. Any panic or hang is a bug;
//! every finding is kept under `fuzz/regressions/pfsense_xml/` and replayed by `cargo test`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use vpnlab::device::{load, DeviceSource};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let interfaces = [("lan".to_string(), "10.10.0.1/16".parse().unwrap()), ("wan".to_string(), "172.16.0.2/30".parse().unwrap())];
    let source = DeviceSource { file: Path::new("dut/config"), text, select: None, psk: Some("fuzz-key"), interfaces: &interfaces, choices: &[] };
    if let Err(errors) = load("pfsense", &source) {
        for e in errors {
            let _ = format!("{e:?}");
        }
    }
});
