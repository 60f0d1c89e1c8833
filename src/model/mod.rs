//! The lab file: raw serde types (`raw`), validated types (`lab`), resolution between them
//! (`resolve`) and errors that name file, line, column and field (`error`).
//! Nothing in `model/` touches the system.

#[cfg(test)]
mod fuzz_regressions;

pub mod error;
pub mod lab;
pub mod raw;
pub mod redact;
pub mod resolve;
pub mod tree;

pub use lab::*;
pub use resolve::{load, parse};
