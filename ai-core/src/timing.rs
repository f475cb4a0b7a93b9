//! Accounting for time spent waiting on the provider, so the stack can report its own overhead.
//!
//! A [`WaitClock`] travels inside a request's metadata. Providers add the time they spend
//! waiting on the network to it; the telemetry layer subtracts that from the wall time of the
//! whole call to get the toolkit's own overhead (`ai.stack.overhead`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Shared counter of nanoseconds spent waiting on a provider. Clones share the same counter.
#[derive(Debug, Clone, Default)]
pub struct WaitClock(Arc<AtomicU64>);

impl WaitClock {
    /// A fresh clock at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a waited duration.
    pub fn add(&self, waited: Duration) {
        let nanos = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
        self.0.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Add the time elapsed since `start`.
    pub fn add_since(&self, start: Instant) {
        self.add(start.elapsed());
    }

    /// Total waited so far.
    pub fn total(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }
}
