//! Cost layer: an overridable price table in integer micro-dollars, per-request cost, and a
//! per-key ledger.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use parking_lot::Mutex;

use crate::error::Result;
use crate::layers::Layer;
use crate::layers::counters::KeyedCounters;
use crate::model::{Capabilities, ChatModel};
use crate::names::metric;
use crate::request::ChatRequest;
use crate::response::ChatResponse;
use crate::stream::{ChatStream, StreamEvent};
use crate::usage::Usage;

/// Prices of one model in micro-dollars per million tokens ($2.50 per million = 2_500_000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ModelPrice {
    /// Uncached prompt tokens.
    pub input_per_million: u64,
    /// Completion tokens.
    pub output_per_million: u64,
    /// Prompt tokens read from the provider's prompt cache.
    pub cached_input_per_million: u64,
    /// Prompt tokens written to the provider's prompt cache.
    pub cache_write_per_million: u64,
}

impl ModelPrice {
    /// Input and output prices; cached input at the input price, cache writes at the input price.
    pub const fn new(input_per_million: u64, output_per_million: u64) -> Self {
        Self {
            input_per_million,
            output_per_million,
            cached_input_per_million: input_per_million,
            cache_write_per_million: input_per_million,
        }
    }

    /// Set the cached-input price.
    pub const fn cached(mut self, cached_input_per_million: u64) -> Self {
        self.cached_input_per_million = cached_input_per_million;
        self
    }

    /// The cost of `usage` at these prices.
    pub fn cost(&self, usage: &Usage) -> Cost {
        let cached = usage.cached_input_tokens.min(usage.input_tokens);
        let uncached = usage.input_tokens - cached;
        // tokens × micro-dollars per million = pico-dollars; ÷ 1000 = nano-dollars.
        let pico = u128::from(uncached) * u128::from(self.input_per_million)
            + u128::from(cached) * u128::from(self.cached_input_per_million)
            + u128::from(usage.cache_write_input_tokens) * u128::from(self.cache_write_per_million)
            + u128::from(usage.output_tokens) * u128::from(self.output_per_million);
        Cost {
            nanos: u64::try_from(pico.div_ceil(1000)).unwrap_or(u64::MAX),
        }
    }
}

/// An amount of money in nano-dollars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cost {
    /// Nano-dollars (10⁻⁹ USD).
    pub nanos: u64,
}

impl Cost {
    /// Rounded up to whole micro-dollars.
    pub fn micros(&self) -> u64 {
        self.nanos.div_ceil(1000)
    }

    /// As dollars, for display only.
    pub fn dollars(&self) -> f64 {
        self.nanos as f64 / 1e9
    }
}

/// Prices by model name. Lookups try the exact name, then the longest known prefix
/// (`gpt-4o-mini-2024-07-18` is priced as `gpt-4o-mini`). Unknown models cost nothing and are
/// reported by [`PriceTable::price`] as `None`.
///
/// ```
/// use ai_core::layers::{PriceTable, ModelPrice};
/// use ai_core::Usage;
/// let mut table = PriceTable::with_defaults();
/// table.set("my-finetune", ModelPrice::new(3_000_000, 12_000_000));
/// let usage = Usage { input_tokens: 1000, output_tokens: 500, ..Usage::default() };
/// // 1000 × $3/M + 500 × $12/M = $0.009
/// assert_eq!(table.cost("my-finetune", &usage).micros(), 9_000);
/// ```
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    prices: HashMap<String, ModelPrice>,
}

impl PriceTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// A table with list prices (USD, standard tier) of common hosted models as of 2025.
    /// Check them against your contract and override with [`PriceTable::set`].
    pub fn with_defaults() -> Self {
        let mut t = Self::new();
        for (name, price) in [
            (
                "gpt-4o",
                ModelPrice::new(2_500_000, 10_000_000).cached(1_250_000),
            ),
            (
                "gpt-4o-mini",
                ModelPrice::new(150_000, 600_000).cached(75_000),
            ),
            (
                "gpt-4.1",
                ModelPrice::new(2_000_000, 8_000_000).cached(500_000),
            ),
            (
                "gpt-4.1-mini",
                ModelPrice::new(400_000, 1_600_000).cached(100_000),
            ),
            (
                "gpt-4.1-nano",
                ModelPrice::new(100_000, 400_000).cached(25_000),
            ),
            ("o3", ModelPrice::new(2_000_000, 8_000_000).cached(500_000)),
            (
                "o4-mini",
                ModelPrice::new(1_100_000, 4_400_000).cached(275_000),
            ),
            ("text-embedding-3-small", ModelPrice::new(20_000, 0)),
            ("text-embedding-3-large", ModelPrice::new(130_000, 0)),
            (
                "claude-3-5-haiku",
                ModelPrice {
                    input_per_million: 800_000,
                    output_per_million: 4_000_000,
                    cached_input_per_million: 80_000,
                    cache_write_per_million: 1_000_000,
                },
            ),
            (
                "claude-sonnet-4",
                ModelPrice {
                    input_per_million: 3_000_000,
                    output_per_million: 15_000_000,
                    cached_input_per_million: 300_000,
                    cache_write_per_million: 3_750_000,
                },
            ),
            (
                "gemini-2.0-flash",
                ModelPrice::new(100_000, 400_000).cached(25_000),
            ),
            (
                "gemini-2.5-flash",
                ModelPrice::new(300_000, 2_500_000).cached(75_000),
            ),
            (
                "gemini-2.5-pro",
                ModelPrice::new(1_250_000, 10_000_000).cached(310_000),
            ),
        ] {
            t.set(name, price);
        }
        t
    }

    /// Set or replace the price of a model (or of a name prefix).
    pub fn set(&mut self, model: impl Into<String>, price: ModelPrice) -> &mut Self {
        self.prices.insert(model.into(), price);
        self
    }

    /// The price of `model`: exact match, else the longest matching prefix.
    pub fn price(&self, model: &str) -> Option<&ModelPrice> {
        if let Some(p) = self.prices.get(model) {
            return Some(p);
        }
        self.prices
            .iter()
            .filter(|(name, _)| model.starts_with(name.as_str()))
            .max_by_key(|(name, _)| name.len())
            .map(|(_, p)| p)
    }

    /// The cost of `usage` on `model` (zero for unknown models).
    pub fn cost(&self, model: &str, usage: &Usage) -> Cost {
        self.price(model).map(|p| p.cost(usage)).unwrap_or_default()
    }
}

/// Where per-key costs are recorded.
pub trait CostLedger: Send + Sync {
    /// Record `cost` for `key` on `model`.
    fn record(&self, key: &str, model: &str, cost: Cost, usage: &Usage);
}

/// Total cost, total usage and request count of one (key, model).
type LedgerRow = (Cost, Usage, u64);

/// Totals per key and model, in memory.
#[derive(Debug, Default)]
pub struct InMemoryCostLedger {
    totals: Mutex<HashMap<String, HashMap<String, LedgerRow>>>,
}

impl InMemoryCostLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Total cost recorded for `key`, all models together.
    pub fn total_for_key(&self, key: &str) -> Cost {
        let nanos = self
            .totals
            .lock()
            .get(key)
            .map_or(0, |models| models.values().map(|(c, _, _)| c.nanos).sum());
        Cost { nanos }
    }

    /// Every (key, model) with its total cost, usage and request count.
    pub fn snapshot(&self) -> Vec<(String, String, Cost, Usage, u64)> {
        let mut rows: Vec<_> = self
            .totals
            .lock()
            .iter()
            .flat_map(|(k, models)| {
                models
                    .iter()
                    .map(move |(m, (c, u, n))| (k.clone(), m.clone(), *c, *u, *n))
            })
            .collect();
        rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        rows
    }
}

impl CostLedger for InMemoryCostLedger {
    fn record(&self, key: &str, model: &str, cost: Cost, usage: &Usage) {
        let mut totals = self.totals.lock();
        if !totals.contains_key(key) {
            totals.insert(key.to_string(), HashMap::new());
        }
        let Some(models) = totals.get_mut(key) else {
            return;
        };
        if !models.contains_key(model) {
            models.insert(model.to_string(), LedgerRow::default());
        }
        let Some(entry) = models.get_mut(model) else {
            return;
        };
        entry.0.nanos = entry.0.nanos.saturating_add(cost.nanos);
        entry.1.input_tokens += usage.input_tokens;
        entry.1.output_tokens += usage.output_tokens;
        entry.1.cached_input_tokens += usage.cached_input_tokens;
        entry.1.cache_write_input_tokens += usage.cache_write_input_tokens;
        entry.1.reasoning_tokens += usage.reasoning_tokens;
        entry.2 += 1;
    }
}

/// Prices every answer that reports usage: sets [`ResponseMeta::cost_nanos`]
/// (crate::ResponseMeta), records it in the ledger under the request's key (`"default"` when it
/// has none) and counts it in the `ai.cost.nanodollars` metric by model. Streams are priced
/// when their usage arrives (ask OpenAI-style servers for `stream_options.include_usage`;
/// the OpenAI provider does).
#[derive(Clone)]
pub struct CostLayer {
    prices: Arc<PriceTable>,
    ledger: Arc<dyn CostLedger>,
    counters: Arc<KeyedCounters<String>>,
}

impl CostLayer {
    /// A layer pricing with `prices` and recording into `ledger`.
    pub fn new(prices: Arc<PriceTable>, ledger: Arc<dyn CostLedger>) -> Self {
        Self {
            prices,
            ledger,
            counters: Arc::default(),
        }
    }
}

impl Layer for CostLayer {
    fn wrap_chat(&self, inner: Arc<dyn ChatModel>) -> Arc<dyn ChatModel> {
        Arc::new(CostModel {
            inner,
            cfg: self.clone(),
        })
    }
}

struct CostModel {
    inner: Arc<dyn ChatModel>,
    cfg: CostLayer,
}

fn record(cfg: &CostLayer, key: &str, model: &str, usage: &Usage) -> Cost {
    let cost = cfg.prices.cost(model, usage);
    cfg.ledger.record(key, model, cost, usage);
    cfg.counters.add(model, cost.nanos, || {
        let c =
            metrics::counter!(metric::COST, crate::names::attr::REQUEST_MODEL => model.to_string());
        (model.to_string(), c)
    });
    cost
}

#[async_trait]
impl ChatModel for CostModel {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        let key = request.metadata.key.clone();
        let requested = request.model.clone();
        let mut response = self.inner.generate(request).await?;
        if response.meta.cache_hit {
            response.meta.cost_nanos = Some(0);
            return Ok(response);
        }
        if let Some(usage) = response.usage {
            let model = requested
                .as_deref()
                .or(response.model.as_deref())
                .unwrap_or(&self.inner.capabilities().model);
            let cost = record(
                &self.cfg,
                key.as_deref().unwrap_or("default"),
                model,
                &usage,
            );
            response.meta.cost_nanos = Some(cost.nanos);
        }
        Ok(response)
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let key = request
            .metadata
            .key
            .clone()
            .unwrap_or_else(|| "default".into());
        let model = request
            .model
            .clone()
            .unwrap_or_else(|| self.inner.capabilities().model.clone());
        let inner = self.inner.stream(request).await?;
        Ok(Box::pin(CostStream {
            inner,
            usage: None,
            cfg: self.cfg.clone(),
            key,
            model,
        }))
    }

    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
}

/// Prices a stream once, when it ends or is dropped, from the usage it reported.
struct CostStream {
    inner: ChatStream,
    usage: Option<Usage>,
    cfg: CostLayer,
    key: String,
    model: String,
}

impl CostStream {
    fn settle(&mut self) {
        if let Some(usage) = self.usage.take() {
            record(&self.cfg, &self.key, &self.model, &usage);
        }
    }
}

impl Stream for CostStream {
    type Item = Result<StreamEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = self.inner.as_mut().poll_next(cx);
        match &item {
            Poll::Ready(Some(Ok(StreamEvent::Usage(u)))) => {
                self.usage.get_or_insert_with(Usage::default).absorb(u);
            }
            Poll::Ready(None) => self.settle(),
            _ => {}
        }
        item
    }
}

impl Drop for CostStream {
    fn drop(&mut self) {
        self.settle();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_tokens_use_the_cached_price() {
        let p = ModelPrice::new(2_500_000, 10_000_000).cached(1_250_000);
        let u = Usage {
            input_tokens: 1_000_000,
            cached_input_tokens: 400_000,
            output_tokens: 100_000,
            ..Usage::default()
        };
        // 600k × 2.5 + 400k × 1.25 + 100k × 10 = 1.5 + 0.5 + 1.0 = $3.00
        assert_eq!(p.cost(&u).micros(), 3_000_000);
    }

    #[test]
    fn longest_prefix_wins() {
        let t = PriceTable::with_defaults();
        assert_eq!(
            t.price("gpt-4o-mini-2024-07-18").unwrap().input_per_million,
            150_000
        );
        assert_eq!(
            t.price("gpt-4o-2024-08-06").unwrap().input_per_million,
            2_500_000
        );
        assert!(t.price("smollm2").is_none());
        assert_eq!(t.cost("smollm2", &Usage::default()), Cost::default());
    }

    #[test]
    fn tiny_costs_are_not_lost() {
        let p = ModelPrice::new(150_000, 600_000);
        let u = Usage {
            input_tokens: 7,
            output_tokens: 1,
            ..Usage::default()
        };
        // 7 × 0.15 µ$ + 1 × 0.6 µ$ = 1.65 µ$ = 1650 n$
        assert_eq!(p.cost(&u).nanos, 1650);
    }
}
