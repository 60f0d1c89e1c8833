//! strongSwan: the generated strongswan.conf (`conf`), the daemon (`daemon`), the VICI
//! protocol (`vici`), the error-notify socket (`error_notify`), connection messages
//! (`config`) and typed SAs (`sas`).

pub mod conf;
pub mod config;
pub mod control;
pub mod daemon;
pub mod error_notify;
pub mod sas;
pub mod vici;
