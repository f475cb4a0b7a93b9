//! Shadow traffic: the legacy path answers; the AI path runs in the background on a sample and
//! is compared, never adding latency or errors to the response.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::handler::Handler;
use crate::metric;

/// Sampling, bounds and timeout of the shadow path.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowConfig {
    /// Share of requests shadowed, 0 to 1.
    pub sample: f64,
    /// Shadow calls in flight at most; beyond that, shadow work is dropped (counted as
    /// `shed`).
    pub max_in_flight: usize,
    /// A shadow call taking longer is abandoned (counted as `timeout`).
    pub timeout: Duration,
}

impl Default for ShadowConfig {
    /// Every request, 16 in flight, 30 s.
    fn default() -> Self {
        Self {
            sample: 1.0,
            max_in_flight: 16,
            timeout: Duration::from_secs(30),
        }
    }
}

/// See the module docs. The comparison function gets the legacy answer and the AI answer and
/// says whether they agree; outcomes land in `ai.rollout.shadow{outcome}` and the AI path's
/// latency in `ai.rollout.shadow.latency`.
///
/// ```
/// use ai_rollout::{Shadow, ShadowConfig};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let legacy = |amount: u32| async move { Ok::<bool, String>(amount < 500) };     // approve?
/// let ai = |amount: u32| async move { Ok::<bool, String>(amount < 450) };
/// let shadow = Shadow::new(legacy, ai, |l: &bool, a: &bool| l == a, ShadowConfig::default());
/// assert_eq!(shadow.call(470).await, Ok(true)); // always the legacy answer
/// # });
/// ```
pub struct Shadow<L, A, C> {
    legacy: L,
    ai: Arc<A>,
    compare: Arc<C>,
    cfg: ShadowConfig,
    permits: Arc<Semaphore>,
}

impl<L, A, C> std::fmt::Debug for Shadow<L, A, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shadow")
            .field("cfg", &self.cfg)
            .field("free_slots", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

fn outcome(o: &'static str) {
    metrics::counter!(metric::SHADOW, "outcome" => o).increment(1);
}

impl<L, A, C> Shadow<L, A, C> {
    /// Shadow `legacy` with `ai`, comparing with `compare`.
    pub fn new(legacy: L, ai: A, compare: C, cfg: ShadowConfig) -> Self {
        Self {
            legacy,
            ai: Arc::new(ai),
            compare: Arc::new(compare),
            permits: Arc::new(Semaphore::new(cfg.max_in_flight.max(1))),
            cfg,
        }
    }

    /// Shadow calls running now.
    pub fn in_flight(&self) -> usize {
        self.cfg.max_in_flight.max(1) - self.permits.available_permits()
    }

    /// The legacy answer to `req`. When sampled and the legacy call succeeded, the AI path
    /// runs afterwards on a spawned task (Tokio runtime required).
    ///
    /// # Errors
    /// Exactly the legacy handler's errors.
    pub async fn call<Req, O, LE, AO, AE>(&self, req: Req) -> Result<O, LE>
    where
        Req: Clone + Send + 'static,
        O: Clone + Send + Sync + 'static,
        L: Handler<Req, Output = O, Error = LE>,
        A: Handler<Req, Output = AO, Error = AE> + 'static,
        AO: Send + 'static,
        AE: Send + 'static,
        C: Fn(&O, &AO) -> bool + Send + Sync + 'static,
    {
        let sampled = self.cfg.sample >= 1.0 || fastrand::f64() < self.cfg.sample;
        let shadow_req = sampled.then(|| req.clone());
        let result = self.legacy.call(req).await;
        let Some(shadow_req) = shadow_req else {
            outcome("skipped");
            return result;
        };
        let Ok(legacy_out) = &result else {
            outcome("skipped");
            return result;
        };
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            outcome("shed");
            return result;
        };
        let legacy_out = legacy_out.clone();
        let ai = self.ai.clone();
        let compare = self.compare.clone();
        let timeout = self.cfg.timeout;
        tokio::spawn(async move {
            let _permit = permit;
            let start = Instant::now();
            let r = tokio::time::timeout(timeout, ai.call(shadow_req)).await;
            metrics::histogram!(metric::SHADOW_LATENCY).record(start.elapsed().as_secs_f64());
            match r {
                Err(_) => outcome("timeout"),
                Ok(Err(_)) => outcome("error"),
                Ok(Ok(ai_out)) => {
                    // A panicking comparison must not take anything else down.
                    let agree = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        compare(&legacy_out, &ai_out)
                    }));
                    match agree {
                        Ok(true) => outcome("agree"),
                        Ok(false) => outcome("disagree"),
                        Err(_) => outcome("error"),
                    }
                }
            }
        });
        result
    }
}
