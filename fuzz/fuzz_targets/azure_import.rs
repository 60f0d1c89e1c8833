//! Arbitrary bytes as an Azure export (az CLI, REST, ARM template; UTF-8 or UTF-16), for every
//! resource kind, with and without a resource name. Any panic or hang is a bug; every finding is
//! kept under `fuzz/regressions/azure_import/` and replayed by `cargo test`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use vpnlab::device::azure::import::{import_bytes, ResourceKind};

fuzz_target!(|data: &[u8]| {
    for kind in [ResourceKind::VirtualNetworkGateway, ResourceKind::VirtualNetwork, ResourceKind::LocalNetworkGateway, ResourceKind::Connection] {
        for name in [None, Some("cn-hq")] {
            if let Err(e) = import_bytes(Path::new("export.json"), data, kind, name) {
                let _ = e.to_string();
            }
        }
    }
});
