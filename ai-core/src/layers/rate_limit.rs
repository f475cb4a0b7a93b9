//! Rate limit and budget layer: requests, tokens and cost per key, per minute and per day.
//!
//! Each limit is a token bucket whose capacity is the limit and which refills continuously
//! over its window, so "60 requests per minute" allows a burst of 60 and then one per second.
//! Before a call the layer takes one request and an *estimate* of its tokens and cost from every
//! bucket of the key (all or nothing); after the call it corrects the buckets by the difference
//! between the real usage and the estimate (estimate, then reconcile).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use parking_lot::Mutex;
use tokio::time::Instant;

use crate::error::{AiError, ErrorKind, Result};
use crate::layers::Layer;
use crate::layers::cost::PriceTable;
use crate::model::{Capabilities, ChatModel};
use crate::names::{attr, metric};
use crate::request::ChatRequest;
use crate::response::ChatResponse;
use crate::stream::{ChatStream, StreamEvent};
use crate::usage::Usage;

/// Limits for one key. `None` means unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Requests per rolling minute.
    pub requests_per_minute: Option<u64>,
    /// Requests per rolling day.
    pub requests_per_day: Option<u64>,
    /// Input + output tokens per rolling minute.
    pub tokens_per_minute: Option<u64>,
    /// Input + output tokens per rolling day (a budget).
    pub tokens_per_day: Option<u64>,
    /// Cost per rolling day in micro-dollars (a budget).
    pub cost_per_day_micros: Option<u64>,
}

/// One of the limits in [`Limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// `requests_per_minute`.
    RequestsPerMinute,
    /// `requests_per_day`.
    RequestsPerDay,
    /// `tokens_per_minute`.
    TokensPerMinute,
    /// `tokens_per_day`.
    TokensPerDay,
    /// `cost_per_day_micros`.
    CostPerDay,
}

pub(crate) const ALL_LIMITS: [LimitKind; 5] = [
    LimitKind::RequestsPerMinute,
    LimitKind::RequestsPerDay,
    LimitKind::TokensPerMinute,
    LimitKind::TokensPerDay,
    LimitKind::CostPerDay,
];

const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(86_400);

impl LimitKind {
    /// Stable name, used in errors and as the `ai.limit` metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::RequestsPerMinute => "requests_per_minute",
            LimitKind::RequestsPerDay => "requests_per_day",
            LimitKind::TokensPerMinute => "tokens_per_minute",
            LimitKind::TokensPerDay => "tokens_per_day",
            LimitKind::CostPerDay => "cost_per_day",
        }
    }

    /// The refill window.
    pub fn window(self) -> Duration {
        match self {
            LimitKind::RequestsPerMinute | LimitKind::TokensPerMinute => MINUTE,
            _ => DAY,
        }
    }

    /// Rate limits reject with `RateLimited`; daily token and cost budgets with `Budget`.
    pub fn error_kind(self) -> ErrorKind {
        match self {
            LimitKind::TokensPerDay | LimitKind::CostPerDay => ErrorKind::Budget,
            _ => ErrorKind::RateLimited,
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// Capacity in the bucket's unit (requests, tokens or nano-dollars).
    pub(crate) fn capacity(self, limits: &Limits) -> Option<f64> {
        let v = match self {
            LimitKind::RequestsPerMinute => limits.requests_per_minute,
            LimitKind::RequestsPerDay => limits.requests_per_day,
            LimitKind::TokensPerMinute => limits.tokens_per_minute,
            LimitKind::TokensPerDay => limits.tokens_per_day,
            LimitKind::CostPerDay => limits.cost_per_day_micros.map(|m| m.saturating_mul(1000)),
        };
        v.map(|v| v as f64)
    }
}

/// What one call takes from the buckets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Amount {
    /// Requests (usually 1).
    pub requests: u64,
    /// Estimated input + output tokens.
    pub tokens: u64,
    /// Estimated cost in nano-dollars.
    pub cost_nanos: u64,
}

impl Amount {
    pub(crate) fn of(self, kind: LimitKind) -> f64 {
        match kind {
            LimitKind::RequestsPerMinute | LimitKind::RequestsPerDay => self.requests as f64,
            LimitKind::TokensPerMinute | LimitKind::TokensPerDay => self.tokens as f64,
            LimitKind::CostPerDay => self.cost_nanos as f64,
        }
    }
}

/// Where the buckets live. The in-memory store serves one process; a Redis store (with an
/// atomic script) lets several replicas share limits.
#[async_trait]
pub trait LimitStore: Send + Sync {
    /// Take `amount` from every configured bucket of `key`, or nothing when any bucket is short:
    /// then fail with `RateLimited` or `Budget` and a `retry_after`.
    async fn acquire(&self, key: &str, limits: &Limits, amount: Amount) -> Result<()>;

    /// Correct the token and cost buckets of `key` by `actual − estimate` (negative refunds).
    async fn adjust(&self, key: &str, limits: &Limits, tokens: i64, cost_nanos: i64) -> Result<()>;
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    level: f64,
    last: Instant,
}

#[derive(Debug)]
struct KeyBuckets {
    buckets: [Option<Bucket>; 5],
}

impl KeyBuckets {
    /// Refill bucket `kind` to now and return it.
    fn refreshed(&mut self, kind: LimitKind, cap: f64, now: Instant) -> &mut Bucket {
        let bucket = self.buckets[kind.index()].get_or_insert(Bucket {
            level: cap,
            last: now,
        });
        let elapsed = now.duration_since(bucket.last).as_secs_f64();
        let rate = cap / kind.window().as_secs_f64();
        bucket.level = (bucket.level + elapsed * rate).min(cap);
        bucket.last = now;
        bucket
    }

    fn is_full(&self, limits: &Limits, now: Instant) -> bool {
        ALL_LIMITS
            .iter()
            .all(|&k| match (self.buckets[k.index()], k.capacity(limits)) {
                (Some(b), Some(cap)) => {
                    b.level
                        + now.duration_since(b.last).as_secs_f64() * cap / k.window().as_secs_f64()
                        >= cap
                }
                _ => true,
            })
    }
}

/// Token buckets in process memory. Keys whose buckets have refilled are pruned when the map
/// grows past `max_keys`.
#[derive(Debug)]
pub struct InMemoryLimitStore {
    keys: Mutex<HashMap<String, KeyBuckets>>,
    max_keys: usize,
}

impl Default for InMemoryLimitStore {
    fn default() -> Self {
        Self::new(100_000)
    }
}

impl InMemoryLimitStore {
    /// A store that starts pruning idle keys beyond `max_keys`.
    pub fn new(max_keys: usize) -> Self {
        Self {
            keys: Mutex::new(HashMap::new()),
            max_keys: max_keys.max(1),
        }
    }
}

#[async_trait]
impl LimitStore for InMemoryLimitStore {
    async fn acquire(&self, key: &str, limits: &Limits, amount: Amount) -> Result<()> {
        let now = Instant::now();
        let mut keys = self.keys.lock();
        if keys.len() >= self.max_keys && !keys.contains_key(key) {
            keys.retain(|_, b| !b.is_full(limits, now));
        }
        if !keys.contains_key(key) {
            keys.insert(key.to_string(), KeyBuckets { buckets: [None; 5] });
        }
        let Some(entry) = keys.get_mut(key) else {
            return Err(AiError::new(
                ErrorKind::Provider,
                "rate limiter state missing",
            ));
        };
        // Check every bucket first; take only if all have room.
        let mut denied: Option<(LimitKind, Duration)> = None;
        for kind in ALL_LIMITS {
            let Some(cap) = kind.capacity(limits) else {
                continue;
            };
            // A single call larger than the whole bucket may go when the bucket is full.
            let need = amount.of(kind).min(cap);
            let bucket = entry.refreshed(kind, cap, now);
            if bucket.level < need {
                let rate = cap / kind.window().as_secs_f64();
                let wait = if rate > 0.0 {
                    Duration::from_secs_f64(((need - bucket.level) / rate).max(0.001))
                } else {
                    kind.window()
                };
                if denied.is_none_or(|(_, w)| wait > w) {
                    denied = Some((kind, wait));
                }
            }
        }
        if let Some((kind, wait)) = denied {
            metrics::counter!(metric::LIMIT_REJECTIONS, attr::LIMIT => kind.as_str()).increment(1);
            return Err(AiError::new(
                kind.error_kind(),
                format!(
                    "{} limit reached; retry after {:.1}s",
                    kind.as_str(),
                    wait.as_secs_f64()
                ),
            )
            .with_retry_after(wait)
            .with_code(kind.as_str()));
        }
        for kind in ALL_LIMITS {
            if kind.capacity(limits).is_some()
                && let Some(b) = entry.buckets[kind.index()].as_mut()
            {
                b.level -= amount.of(kind);
            }
        }
        Ok(())
    }

    async fn adjust(&self, key: &str, limits: &Limits, tokens: i64, cost_nanos: i64) -> Result<()> {
        let now = Instant::now();
        let mut keys = self.keys.lock();
        let Some(entry) = keys.get_mut(key) else {
            return Ok(());
        };
        for (kind, delta) in [
            (LimitKind::TokensPerMinute, tokens),
            (LimitKind::TokensPerDay, tokens),
            (LimitKind::CostPerDay, cost_nanos),
        ] {
            if let Some(cap) = kind.capacity(limits) {
                let b = entry.refreshed(kind, cap, now);
                // Over-use becomes debt (negative level); refunds never exceed capacity.
                b.level = (b.level - delta as f64).min(cap);
            }
        }
        Ok(())
    }
}

/// A cheap token estimate of a request's input: about 4 bytes of text per token, plus a few
/// tokens of framing per message and the size of the tool schemas.
pub fn estimate_input_tokens(request: &ChatRequest) -> u64 {
    let tools: usize = request
        .tools
        .iter()
        .map(|t| {
            t.name.len()
                + t.description.as_ref().map_or(0, String::len)
                + t.parameters.to_string().len()
        })
        .sum();
    ((request.text_len() + tools).div_ceil(4) + 4 * request.messages.len()) as u64
}

type KeyFn = Arc<dyn Fn(&ChatRequest) -> String + Send + Sync>;
type LimitsFn = Arc<dyn Fn(&str) -> Limits + Send + Sync>;

/// Rejects calls over the key's limits with `RateLimited` or `Budget` and a `retry_after`.
///
/// ```
/// use std::sync::Arc;
/// use ai_core::layers::{RateLimitLayer, Limits, PriceTable};
/// let layer = RateLimitLayer::new(Limits {
///     requests_per_minute: Some(60),
///     tokens_per_day: Some(1_000_000),
///     cost_per_day_micros: Some(5_000_000), // $5 a day
///     ..Limits::default()
/// })
/// .prices(Arc::new(PriceTable::with_defaults()))
/// .key_by(|req| req.metadata.key.clone().unwrap_or_else(|| "anonymous".into()));
/// ```
#[derive(Clone)]
pub struct RateLimitLayer {
    store: Arc<dyn LimitStore>,
    limits: LimitsFn,
    key_fn: KeyFn,
    prices: Option<Arc<PriceTable>>,
    default_output_tokens: u32,
}

impl RateLimitLayer {
    /// The same limits for every key, in an in-memory store, keyed by the request's
    /// `metadata.key` (or `"default"`).
    pub fn new(limits: Limits) -> Self {
        Self {
            store: Arc::new(InMemoryLimitStore::default()),
            limits: Arc::new(move |_| limits),
            key_fn: Arc::new(|r| r.metadata.key.clone().unwrap_or_else(|| "default".into())),
            prices: None,
            default_output_tokens: 256,
        }
    }

    /// Use another store (for example a Redis store shared by replicas).
    pub fn store(mut self, store: Arc<dyn LimitStore>) -> Self {
        self.store = store;
        self
    }

    /// Choose the key from the request (user, tenant, feature…).
    pub fn key_by(mut self, f: impl Fn(&ChatRequest) -> String + Send + Sync + 'static) -> Self {
        self.key_fn = Arc::new(f);
        self
    }

    /// Different limits per key (for example by tenant tier).
    pub fn limits_by(mut self, f: impl Fn(&str) -> Limits + Send + Sync + 'static) -> Self {
        self.limits = Arc::new(f);
        self
    }

    /// Prices for the cost estimate; without them the cost limit only counts real usage.
    pub fn prices(mut self, prices: Arc<PriceTable>) -> Self {
        self.prices = Some(prices);
        self
    }

    /// Output tokens assumed when a request sets no `max_tokens` (default 256).
    pub fn default_output_tokens(mut self, n: u32) -> Self {
        self.default_output_tokens = n;
        self
    }
}

impl Layer for RateLimitLayer {
    fn wrap_chat(&self, inner: Arc<dyn ChatModel>) -> Arc<dyn ChatModel> {
        Arc::new(RateLimitModel {
            inner,
            cfg: self.clone(),
        })
    }
}

struct RateLimitModel {
    inner: Arc<dyn ChatModel>,
    cfg: RateLimitLayer,
}

/// What was reserved for one call, to reconcile afterwards.
struct Reservation {
    store: Arc<dyn LimitStore>,
    key: String,
    limits: Limits,
    model: String,
    prices: Option<Arc<PriceTable>>,
    tokens: u64,
    cost_nanos: u64,
}

impl Reservation {
    fn cost_of(&self, usage: &Usage) -> u64 {
        self.prices
            .as_ref()
            .map_or(0, |p| p.cost(&self.model, usage).nanos)
    }

    /// Correct the buckets with the real usage; `None` refunds the estimate (failed call).
    async fn settle(self, usage: Option<Usage>) {
        let (tokens, cost) = match usage {
            Some(u) => (u.total_tokens(), self.cost_of(&u)),
            None => (0, 0),
        };
        let dt = tokens as i64 - self.tokens as i64;
        let dc = cost as i64 - self.cost_nanos as i64;
        if dt == 0 && dc == 0 {
            return;
        }
        if let Err(err) = self.store.adjust(&self.key, &self.limits, dt, dc).await {
            tracing::warn!(error = %err, "could not reconcile rate limit usage");
        }
    }
}

impl RateLimitModel {
    async fn reserve(&self, request: &ChatRequest) -> Result<Reservation> {
        let key = (self.cfg.key_fn)(request);
        let limits = (self.cfg.limits)(&key);
        let model = request
            .model
            .clone()
            .unwrap_or_else(|| self.inner.capabilities().model.clone());
        let input = estimate_input_tokens(request);
        let output = u64::from(request.max_tokens.unwrap_or(self.cfg.default_output_tokens));
        let estimate = Usage {
            input_tokens: input,
            output_tokens: output,
            ..Usage::default()
        };
        let cost_nanos = self
            .cfg
            .prices
            .as_ref()
            .map_or(0, |p| p.cost(&model, &estimate).nanos);
        let amount = Amount {
            requests: 1,
            tokens: input + output,
            cost_nanos,
        };
        self.cfg.store.acquire(&key, &limits, amount).await?;
        Ok(Reservation {
            store: self.cfg.store.clone(),
            key,
            limits,
            model,
            prices: self.cfg.prices.clone(),
            tokens: amount.tokens,
            cost_nanos,
        })
    }
}

/// Usage when the provider reported none: the input estimate plus ~4 bytes per output token.
fn fallback_usage(reserved_input: u64, output_text_len: usize) -> Usage {
    Usage {
        input_tokens: reserved_input,
        output_tokens: output_text_len.div_ceil(4) as u64,
        ..Usage::default()
    }
}

#[async_trait]
impl ChatModel for RateLimitModel {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        let input_estimate = estimate_input_tokens(&request);
        let reservation = self.reserve(&request).await?;
        match self.inner.generate(request).await {
            Ok(response) => {
                let usage = if response.meta.cache_hit {
                    Usage::default()
                } else {
                    response.usage.unwrap_or_else(|| {
                        fallback_usage(input_estimate, response.message.text_len())
                    })
                };
                reservation.settle(Some(usage)).await;
                Ok(response)
            }
            Err(err) => {
                reservation.settle(None).await;
                Err(err)
            }
        }
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let input_estimate = estimate_input_tokens(&request);
        let reservation = self.reserve(&request).await?;
        let inner = match self.inner.stream(request).await {
            Ok(s) => s,
            Err(err) => {
                reservation.settle(None).await;
                return Err(err);
            }
        };
        struct State {
            inner: ChatStream,
            reservation: Option<Reservation>,
            usage: Option<Usage>,
            text_len: usize,
            input_estimate: u64,
        }
        let state = State {
            inner,
            reservation: Some(reservation),
            usage: None,
            text_len: 0,
            input_estimate,
        };
        let stream = futures::stream::unfold(state, |mut st| async move {
            match st.inner.next().await {
                Some(item) => {
                    match &item {
                        Ok(StreamEvent::Usage(u)) => {
                            st.usage.get_or_insert_with(Usage::default).absorb(u)
                        }
                        Ok(StreamEvent::TextDelta { text })
                        | Ok(StreamEvent::ReasoningDelta { text }) => {
                            st.text_len += text.len();
                        }
                        Ok(StreamEvent::ToolCallDelta(d)) => st.text_len += d.arguments.len(),
                        _ => {}
                    }
                    Some((item, st))
                }
                None => {
                    if let Some(r) = st.reservation.take() {
                        let usage = st
                            .usage
                            .unwrap_or_else(|| fallback_usage(st.input_estimate, st.text_len));
                        r.settle(Some(usage)).await;
                    }
                    None
                }
            }
        });
        Ok(Box::pin(stream))
    }

    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_per_minute_refill_continuously() {
        let store = InMemoryLimitStore::default();
        let limits = Limits {
            requests_per_minute: Some(2),
            ..Limits::default()
        };
        let one = Amount {
            requests: 1,
            ..Amount::default()
        };
        store.acquire("k", &limits, one).await.unwrap();
        store.acquire("k", &limits, one).await.unwrap();
        let err = store.acquire("k", &limits, one).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        let wait = err.retry_after().unwrap();
        assert!(
            wait > Duration::from_secs(29) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        // Other keys are independent.
        store.acquire("other", &limits, one).await.unwrap();
        tokio::time::advance(Duration::from_secs(30)).await;
        store.acquire("k", &limits, one).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn denial_takes_nothing_and_budget_kind_for_cost() {
        let store = InMemoryLimitStore::default();
        let limits = Limits {
            requests_per_minute: Some(10),
            cost_per_day_micros: Some(1),
            ..Limits::default()
        };
        let costly = Amount {
            requests: 1,
            tokens: 0,
            cost_nanos: 900,
        };
        store.acquire("k", &limits, costly).await.unwrap();
        let err = store.acquire("k", &limits, costly).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Budget);
        assert_eq!(err.code(), Some("cost_per_day"));
        // A refund makes room again.
        store.adjust("k", &limits, 0, -900).await.unwrap();
        store.acquire("k", &limits, costly).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn overuse_becomes_debt() {
        let store = InMemoryLimitStore::default();
        let limits = Limits {
            tokens_per_minute: Some(100),
            ..Limits::default()
        };
        let a = Amount {
            requests: 1,
            tokens: 50,
            cost_nanos: 0,
        };
        store.acquire("k", &limits, a).await.unwrap();
        // The call really used 150 tokens: 100 more than estimated.
        store.adjust("k", &limits, 100, 0).await.unwrap();
        let err = store.acquire("k", &limits, a).await.unwrap_err();
        // Level is -50; 100 tokens needed at 100/60 per second → 60 s.
        let wait = err.retry_after().unwrap().as_secs_f64();
        assert!((wait - 60.0).abs() < 0.5, "{wait}");
    }
}
