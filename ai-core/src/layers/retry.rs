//! Retry layer: exponential back-off with full jitter, `Retry-After`, and a retry budget.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use parking_lot::Mutex;
use tokio::time::Instant;

use crate::error::{AiError, Result};
use crate::layers::Layer;
use crate::model::{Capabilities, ChatModel, Embedding, EmbeddingModel};
use crate::names::{attr, metric};
use crate::request::ChatRequest;
use crate::response::ChatResponse;
use crate::stream::{ChatStream, StreamEvent};
use crate::timing::WaitClock;

/// Limits retries to a share of recent traffic so an outage does not multiply the load.
///
/// Within a sliding window of `ttl`, retries are allowed while
/// `retries < min_per_sec × ttl + ratio × requests`. With the defaults (10 s window, 10 % of
/// requests, at least 1 retry per second) a fully failing upstream sees at most about 1.1× its
/// normal request rate instead of 3×.
#[derive(Debug)]
pub struct RetryBudget {
    ttl: Duration,
    min_per_sec: u32,
    ratio: f64,
    buckets: Mutex<VecDeque<Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    start: Instant,
    requests: u64,
    retries: u64,
}

const BUCKETS: u32 = 10;

impl Default for RetryBudget {
    fn default() -> Self {
        Self::new(Duration::from_secs(10), 1, 0.1)
    }
}

impl RetryBudget {
    /// A budget over a window of `ttl`, with a floor of `min_per_sec` retries per second and
    /// `ratio` retries per request on top.
    pub fn new(ttl: Duration, min_per_sec: u32, ratio: f64) -> Self {
        Self {
            ttl: ttl.max(Duration::from_millis(BUCKETS as u64)),
            min_per_sec,
            ratio: ratio.max(0.0),
            buckets: Mutex::new(VecDeque::with_capacity(BUCKETS as usize + 1)),
        }
    }

    fn with_current<R>(&self, f: impl FnOnce(&mut VecDeque<Bucket>) -> R) -> R {
        let now = Instant::now();
        let width = self.ttl / BUCKETS;
        let mut buckets = self.buckets.lock();
        while buckets
            .front()
            .is_some_and(|b| now.duration_since(b.start) >= self.ttl)
        {
            buckets.pop_front();
        }
        if buckets
            .back()
            .is_none_or(|b| now.duration_since(b.start) >= width)
        {
            buckets.push_back(Bucket {
                start: now,
                requests: 0,
                retries: 0,
            });
        }
        f(&mut buckets)
    }

    /// Count one original request.
    pub fn deposit(&self) {
        self.with_current(|b| {
            if let Some(last) = b.back_mut() {
                last.requests += 1;
            }
        });
    }

    /// Take one retry from the budget; `false` when it is empty.
    pub fn try_withdraw(&self) -> bool {
        let floor = f64::from(self.min_per_sec) * self.ttl.as_secs_f64();
        self.with_current(|b| {
            let (requests, retries) = b
                .iter()
                .fold((0u64, 0u64), |(q, r), x| (q + x.requests, r + x.retries));
            let allowed = floor + self.ratio * requests as f64;
            if (retries as f64) < allowed {
                if let Some(last) = b.back_mut() {
                    last.retries += 1;
                }
                true
            } else {
                false
            }
        })
    }
}

/// When and how often to retry.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total attempts, the first included (1 disables retries).
    pub max_attempts: u32,
    /// Back-off cap for the first retry; doubles each retry.
    pub base_delay: Duration,
    /// Largest back-off between attempts.
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is not waited for: the error is returned instead.
    pub max_retry_after: Duration,
    /// Shared retry budget; `None` disables it.
    pub budget: Option<Arc<RetryBudget>>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            budget: Some(Arc::new(RetryBudget::default())),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based) after `err`, or `None` to give up.
    ///
    /// Full jitter: a uniform draw in `[0, min(max_delay, base × 2^(retry-1))]`. When the
    /// error carries a `Retry-After`, the wait is at least that long.
    pub fn delay(&self, retry: u32, err: &AiError) -> Option<Duration> {
        let exp = self.base_delay.saturating_mul(
            1u32.checked_shl(retry.saturating_sub(1))
                .unwrap_or(u32::MAX),
        );
        let cap = exp.min(self.max_delay);
        let jittered = cap.mul_f64(fastrand::f64());
        match err.retry_after() {
            Some(after) if after > self.max_retry_after => None,
            Some(after) => Some(after.max(jittered)),
            None => Some(jittered),
        }
    }

    fn should_retry(&self, attempt: u32, err: &AiError) -> Option<Duration> {
        if attempt >= self.max_attempts || !err.is_retryable() {
            return None;
        }
        let delay = self.delay(attempt, err)?;
        if let Some(budget) = &self.budget
            && !budget.try_withdraw()
        {
            metrics::counter!(metric::RETRY_BUDGET_EXHAUSTED).increment(1);
            tracing::debug!(error.type = err.kind().as_str(), "retry budget exhausted");
            return None;
        }
        metrics::counter!(metric::RETRIES, attr::ERROR_TYPE => err.kind().as_str()).increment(1);
        tracing::debug!(
            error.type = err.kind().as_str(),
            attempt,
            delay_ms = delay.as_millis() as u64,
            "retrying"
        );
        Some(delay)
    }

    fn deposit(&self) {
        if let Some(budget) = &self.budget {
            budget.deposit();
        }
    }
}

/// Retries transient failures ([`AiError::is_retryable`]).
///
/// Permanent errors (auth, bad request, not found, context length, quota…) are returned at
/// once. A stream is retried only while it has delivered nothing to the caller: once an event
/// has been yielded, a later error ends the stream instead of starting over.
#[derive(Debug, Clone, Default)]
pub struct RetryLayer {
    policy: Arc<RetryPolicy>,
}

impl RetryLayer {
    /// A layer with this policy.
    pub fn new(policy: RetryPolicy) -> Self {
        Self {
            policy: Arc::new(policy),
        }
    }
}

impl Layer for RetryLayer {
    fn wrap_chat(&self, inner: Arc<dyn ChatModel>) -> Arc<dyn ChatModel> {
        Arc::new(RetryModel {
            inner,
            policy: self.policy.clone(),
        })
    }

    fn wrap_embedding(&self, inner: Arc<dyn EmbeddingModel>) -> Arc<dyn EmbeddingModel> {
        Arc::new(RetryEmbedding {
            inner,
            policy: self.policy.clone(),
        })
    }
}

struct RetryModel {
    inner: Arc<dyn ChatModel>,
    policy: Arc<RetryPolicy>,
}

async fn back_off(delay: Duration, wait: &WaitClock) {
    tokio::time::sleep(delay).await;
    wait.add(delay);
}

#[async_trait]
impl ChatModel for RetryModel {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        self.policy.deposit();
        let mut attempt = 1;
        loop {
            match self.inner.generate(request.clone()).await {
                Ok(mut response) => {
                    response.meta.attempts = Some(attempt);
                    return Ok(response);
                }
                Err(err) => match self.policy.should_retry(attempt, &err) {
                    Some(delay) => {
                        back_off(delay, &request.metadata.wait).await;
                        attempt += 1;
                    }
                    None => return Err(err),
                },
            }
        }
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        self.policy.deposit();
        let mut attempt = 1;
        // Open the stream and pull the first item, retrying while nothing has been delivered.
        loop {
            let err = match self.inner.stream(request.clone()).await {
                Ok(mut stream) => match stream.next().await {
                    Some(Ok(first)) => return Ok(prepend(first, stream)),
                    Some(Err(err)) => err,
                    None => return Ok(Box::pin(futures::stream::empty())),
                },
                Err(err) => err,
            };
            match self.policy.should_retry(attempt, &err) {
                Some(delay) => {
                    back_off(delay, &request.metadata.wait).await;
                    attempt += 1;
                }
                None => return Err(err),
            }
        }
    }

    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
}

fn prepend(first: StreamEvent, rest: ChatStream) -> ChatStream {
    Box::pin(futures::stream::once(async move { Ok(first) }).chain(rest))
}

struct RetryEmbedding {
    inner: Arc<dyn EmbeddingModel>,
    policy: Arc<RetryPolicy>,
}

#[async_trait]
impl EmbeddingModel for RetryEmbedding {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Embedding>> {
        self.policy.deposit();
        let mut attempt = 1;
        let wait = WaitClock::new();
        loop {
            match self.inner.embed(texts).await {
                Ok(v) => return Ok(v),
                Err(err) => match self.policy.should_retry(attempt, &err) {
                    Some(delay) => {
                        back_off(delay, &wait).await;
                        attempt += 1;
                    }
                    None => return Err(err),
                },
            }
        }
    }
    crate::layers::delegate_embedding_metadata!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn full_jitter_stays_under_the_cap() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            ..RetryPolicy::default()
        };
        let e = AiError::new(ErrorKind::Unavailable, "x");
        for retry in 1..10 {
            let cap =
                Duration::from_millis(100 * (1 << (retry - 1))).min(Duration::from_millis(300));
            for _ in 0..50 {
                assert!(p.delay(retry, &e).unwrap() <= cap);
            }
        }
    }

    #[test]
    fn retry_after_is_a_floor_and_too_long_gives_up() {
        let p = RetryPolicy::default();
        let e = AiError::new(ErrorKind::RateLimited, "x").with_retry_after(Duration::from_secs(3));
        assert!(p.delay(1, &e).unwrap() >= Duration::from_secs(3));
        let e =
            AiError::new(ErrorKind::RateLimited, "x").with_retry_after(Duration::from_secs(3600));
        assert!(p.delay(1, &e).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn budget_caps_retries_to_a_share_of_requests() {
        let budget = RetryBudget::new(Duration::from_secs(10), 0, 0.2);
        for _ in 0..100 {
            budget.deposit();
        }
        let granted = (0..100).filter(|_| budget.try_withdraw()).count();
        assert_eq!(granted, 20);
        // After the window passes, old requests no longer fund retries.
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(!budget.try_withdraw());
    }
}
