//! The runs this process owns and must remove if it is interrupted. A signal handler in `main`
//! tears down whatever is registered here after the interrupted work has been dropped.

use std::sync::Mutex;

use super::state::RunDir;

static ACTIVE: Mutex<Vec<RunDir>> = Mutex::new(Vec::new());

pub fn register(run: &RunDir) {
    if let Ok(mut a) = ACTIVE.lock() {
        a.push(run.clone());
    }
}

pub fn unregister(run: &RunDir) {
    if let Ok(mut a) = ACTIVE.lock() {
        a.retain(|r| r.id != run.id);
    }
}

/// Takes every registered run (leaving none).
pub fn take_all() -> Vec<RunDir> {
    ACTIVE.lock().map(|mut a| std::mem::take(&mut *a)).unwrap_or_default()
}
