//! vpnlab as a user runs it: the real binary, real namespaces, real charon daemons, real
//! nftables and ping. Tests that need root skip with a reason when not root; under CI=true
//! they fail instead, so a CI run can never pass by skipping.
//!
//! Each test uses its own state folder (`VPNLAB_STATE_DIR`), so `down --all` in one test
//! never touches another test's labs. No assertion is on time; speed lives in `make bench`.

mod azure;
mod bad_input;
mod bgp;
mod cli;
mod common;
mod devices;
mod lifecycle;
mod probes;
mod scenarios;
mod steps;
