//! The process-wide "stop" request. `main` raises it on the first SIGINT or SIGTERM; work that
//! builds labs (a run, every scenario of `vpnlab test`, `bench`, the `up` supervisor) watches it,
//! stops starting anything new, and tears down what it built before returning. Nothing is
//! dropped half-way: the work itself removes its runs and reaps its daemons.

use std::sync::LazyLock;

use tokio::sync::watch;

use crate::exit::Code;

static STOP: LazyLock<watch::Sender<Option<Code>>> = LazyLock::new(|| watch::channel(None).0);

/// Asks every run of this process to stop; `code` is the exit code the signal stands for.
pub fn request(code: Code) {
    STOP.send_if_modified(|c| {
        if c.is_none() {
            *c = Some(code);
            true
        } else {
            false
        }
    });
}

/// The exit code of the signal that asked to stop, if one did.
pub fn requested() -> Option<Code> {
    *STOP.borrow()
}

/// Resolves once a stop was requested (at once if it already was).
pub async fn wait() {
    let mut rx = STOP.subscribe();
    let _ = rx.wait_for(Option::is_some).await;
}

/// The error a run returns after it stopped on request and removed what it built.
#[derive(Debug, thiserror::Error)]
#[error("interrupted: the run was stopped and removed")]
pub struct Interrupted;

/// True when `e` is (or wraps) [`Interrupted`].
pub fn is_interrupted(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<Interrupted>())
}
