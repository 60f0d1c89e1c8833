//! strongSwan, the driver of every IPsec node (`driver`, the run's [`crate::driver::Driver`]):
//! the generated strongswan.conf (`conf`), the daemon (`daemon`), the VICI protocol (`vici`),
//! the error-notify socket (`error_notify`), the intent as VICI messages (`config`), commands
//! (`control`), events (`events`) and typed SAs (`sas`). Nothing here knows a vendor.

pub mod conf;
pub mod config;
pub mod control;
pub mod daemon;
pub mod driver;
pub mod error_notify;
pub mod events;
pub mod sas;
pub mod vici;
