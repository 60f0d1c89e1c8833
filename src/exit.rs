//! Exit codes, one per kind of outcome, documented in `--help` and the README.

use std::process::ExitCode;

/// A failure that maps to a specific exit code, with a message for people.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub code: Code,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Every check passed (or the command did what was asked).
    Ok = 0,
    /// The lab ran and at least one verdict failed.
    VerdictFailed = 1,
    /// Bad input: invalid command line, lab file, or an unknown lab/run/node.
    BadInput = 2,
    /// The environment cannot run labs: not root, strongSwan or nftables missing, no TUN.
    Environment = 3,
    /// The lab never became testable (a daemon failed to start, a bounded wait ran out,
    /// teardown failed): INCONCLUSIVE, not FAIL.
    Inconclusive = 4,
    /// Interrupted by SIGINT (Ctrl-C); everything of the run was removed.
    Interrupted = 130,
    /// Terminated by SIGTERM; everything of the run was removed.
    Terminated = 143,
}

impl Code {
    pub fn exit(self) -> ExitCode {
        ExitCode::from(self as u8)
    }
}

pub fn fail(code: Code, message: impl Into<String>) -> anyhow::Error {
    Failure { code, message: message.into() }.into()
}

/// The text `--help` shows.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    every check passed (or the command did what was asked)
  1    the lab ran and at least one verdict FAILED
  2    bad input: command line, lab file, or an unknown lab, run or node
  3    this host cannot run labs: not root, strongSwan/nftables/ping missing, no /dev/net/tun
  4    INCONCLUSIVE: the lab never became testable (daemon did not start, a bounded wait ran out)
  130  interrupted by Ctrl-C (SIGINT); the run was removed
  143  terminated by SIGTERM; the run was removed
  For `exec`, the exit code is the command's own.";
