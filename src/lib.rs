//! vpnlab as a library: the modules behind the `vpnlab` binary (`main.rs`), exposed so that the
//! fuzz targets (`fuzz/`) can drive the lab-file, scenario and Azure-export parsers directly.
//! Nothing outside this repository is meant to depend on it.

pub mod bgp;
pub mod cli;
pub mod device;
pub mod diagnose;
pub mod dns;
pub mod driver;
pub mod evidence;
pub mod exit;
pub mod frr;
pub mod ike;
pub mod model;
pub mod preflight;
pub mod process;
pub mod report;
pub mod repro;
pub mod run;
pub mod scenario;
pub mod strongswan;
pub mod topology;
pub mod wait;
