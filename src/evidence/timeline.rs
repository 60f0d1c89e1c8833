//! The run's timeline: every event of every daemon, stamped with the time since the run
//! started. Each daemon's streams are read by their own tasks (the driver's); the streams are
//! separate sockets, so their relative order is only as good as the timestamps (lab notes §0).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::event::{Event, What};

#[derive(Clone)]
pub struct Timeline {
    start: Instant,
    events: Arc<Mutex<Vec<Event>>>,
}

impl Timeline {
    pub fn new(start: Instant) -> Self {
        Timeline { start, events: Arc::new(Mutex::new(Vec::new())) }
    }

    /// Milliseconds since the run started, on the timeline's clock.
    pub fn now_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    pub fn push(&self, node: &str, what: What) {
        let at_ms = self.start.elapsed().as_secs_f64() * 1000.0;
        if let Ok(mut ev) = self.events.lock() {
            ev.push(Event { at_ms, node: node.to_string(), what });
        }
    }

    pub fn snapshot(&self) -> Vec<Event> {
        let mut ev = self.events.lock().map(|e| e.clone()).unwrap_or_default();
        ev.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
        ev
    }
}
