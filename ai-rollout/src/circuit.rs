//! A circuit breaker: closed → open after N consecutive failures or a failure rate over a
//! window → half-open probes after a pause → closed again when the probes succeed.

use std::collections::VecDeque;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

use crate::metric;

/// When the breaker opens and how it recovers.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    /// Open after this many failures in a row (0 disables the rule).
    pub consecutive_failures: u32,
    /// Open when the failure rate over `window` reaches this (with at least `min_calls`).
    pub failure_rate: f64,
    /// The sliding window of the failure rate.
    pub window: Duration,
    /// Calls needed in the window before the rate counts.
    pub min_calls: usize,
    /// How long the breaker stays open before probing.
    pub open_for: Duration,
    /// Probes let through while half-open; all must succeed to close.
    pub half_open_probes: u32,
}

impl Default for BreakerConfig {
    /// 5 failures in a row, or 50 % of at least 20 calls over 30 s; open for 30 s; 3 probes.
    fn default() -> Self {
        Self {
            consecutive_failures: 5,
            failure_rate: 0.5,
            window: Duration::from_secs(30),
            min_calls: 20,
            open_for: Duration::from_secs(30),
            half_open_probes: 3,
        }
    }
}

/// The breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are refused until `open_for` has passed.
    Open,
    /// A few probe calls go through; their results decide.
    HalfOpen,
}

#[derive(Debug)]
struct Inner {
    state: BreakerState,
    consecutive: u32,
    calls: VecDeque<(Instant, bool)>,
    opened_at: Instant,
    probes_started: u32,
    probes_ok: u32,
    probe_at: Instant,
}

/// See the module docs. Time is Tokio's clock, so tests can pause it.
///
/// ```
/// use ai_rollout::{BreakerConfig, BreakerState, CircuitBreaker};
/// let b = CircuitBreaker::new(BreakerConfig { consecutive_failures: 2, ..BreakerConfig::default() });
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// assert!(b.allow());
/// b.record(false);
/// b.record(false);
/// assert_eq!(b.state(), BreakerState::Open);
/// assert!(!b.allow());
/// # });
/// ```
#[derive(Debug)]
pub struct CircuitBreaker {
    cfg: BreakerConfig,
    inner: Mutex<Inner>,
}

fn transition(inner: &mut Inner, to: BreakerState) {
    if inner.state != to {
        inner.state = to;
        let label = match to {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        };
        metrics::counter!(metric::BREAKER, "state" => label).increment(1);
        tracing::info!(target: "ai_rollout", state = label, "circuit breaker");
    }
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(cfg: BreakerConfig) -> Self {
        Self {
            cfg,
            inner: Mutex::new(Inner {
                state: BreakerState::Closed,
                consecutive: 0,
                calls: VecDeque::new(),
                opened_at: Instant::now(),
                probes_started: 0,
                probes_ok: 0,
                probe_at: Instant::now(),
            }),
        }
    }

    /// The current state (an open breaker whose pause is over reports `HalfOpen`).
    pub fn state(&self) -> BreakerState {
        let mut inner = self.inner.lock();
        self.refresh(&mut inner);
        inner.state
    }

    fn refresh(&self, inner: &mut Inner) {
        if inner.state == BreakerState::Open && inner.opened_at.elapsed() >= self.cfg.open_for {
            inner.probes_started = 0;
            inner.probes_ok = 0;
            transition(inner, BreakerState::HalfOpen);
        }
        // Probes whose callers gave up never report: after another pause, count them as
        // failed so the breaker cannot stay half-open for ever.
        if inner.state == BreakerState::HalfOpen
            && inner.probes_started >= self.cfg.half_open_probes.max(1)
            && inner.probe_at.elapsed() >= self.cfg.open_for
        {
            inner.opened_at = Instant::now();
            transition(inner, BreakerState::Open);
        }
    }

    /// Whether a call may go to the protected path now. In half-open state this hands out
    /// one of the probe slots; every allowed call must be followed by [`CircuitBreaker::record`].
    pub fn allow(&self) -> bool {
        let mut inner = self.inner.lock();
        self.refresh(&mut inner);
        match inner.state {
            BreakerState::Closed => true,
            BreakerState::Open => false,
            BreakerState::HalfOpen => {
                if inner.probes_started < self.cfg.half_open_probes.max(1) {
                    inner.probes_started += 1;
                    inner.probe_at = Instant::now();
                    true
                } else {
                    false
                }
            }
        }
    }

    /// Record the outcome of an allowed call.
    pub fn record(&self, success: bool) {
        let mut inner = self.inner.lock();
        let now = Instant::now();
        match inner.state {
            BreakerState::HalfOpen => {
                if success {
                    inner.probes_ok += 1;
                    if inner.probes_ok >= self.cfg.half_open_probes.max(1) {
                        inner.consecutive = 0;
                        inner.calls.clear();
                        transition(&mut inner, BreakerState::Closed);
                    }
                } else {
                    inner.opened_at = now;
                    transition(&mut inner, BreakerState::Open);
                }
            }
            BreakerState::Open => {}
            BreakerState::Closed => {
                inner.consecutive = if success { 0 } else { inner.consecutive + 1 };
                inner.calls.push_back((now, success));
                while inner
                    .calls
                    .front()
                    .is_some_and(|(t, _)| now.duration_since(*t) > self.cfg.window)
                {
                    inner.calls.pop_front();
                }
                let failures = inner.calls.iter().filter(|(_, ok)| !ok).count();
                let rate_trips = inner.calls.len() >= self.cfg.min_calls.max(1)
                    && failures as f64 / inner.calls.len() as f64 >= self.cfg.failure_rate;
                let streak_trips = self.cfg.consecutive_failures > 0
                    && inner.consecutive >= self.cfg.consecutive_failures;
                if rate_trips || streak_trips {
                    inner.opened_at = now;
                    transition(&mut inner, BreakerState::Open);
                }
            }
        }
    }
}
