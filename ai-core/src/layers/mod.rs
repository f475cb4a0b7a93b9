//! Layers: decorators that wrap a model in the same trait, composed by [`Stack`].
//!
//! Layers are listed outermost first, like `tower::ServiceBuilder`:
//!
//! ```
//! use std::{sync::Arc, time::Duration};
//! use ai_core::layers::{Stack, TelemetryLayer, TimeoutLayer, RetryLayer, CacheLayer};
//! # use ai_core::testing::ScriptedModel;
//! # let provider = Arc::new(ScriptedModel::always_text("hi"));
//! let model = Stack::new()
//!     .layer(TelemetryLayer::new())                          // sees everything below
//!     .layer(TimeoutLayer::new().total(Duration::from_secs(30)))
//!     .layer(RetryLayer::default())
//!     .layer(CacheLayer::in_memory(10_000, Duration::from_secs(600)))
//!     .build_chat(provider);
//! ```

use std::sync::Arc;

use crate::model::{ChatModel, EmbeddingModel};

/// Inside an `impl EmbeddingModel` of a wrapper with an `inner` model: pass `dimensions`,
/// `max_batch` and `model_name` through.
macro_rules! delegate_embedding_metadata {
    () => {
        fn dimensions(&self) -> usize {
            self.inner.dimensions()
        }
        fn max_batch(&self) -> usize {
            self.inner.max_batch()
        }
        fn model_name(&self) -> &str {
            self.inner.model_name()
        }
    };
}
pub(crate) use delegate_embedding_metadata;

pub mod cache;
pub mod concurrency;
pub mod cost;
mod counters;
pub mod rate_limit;
#[cfg(feature = "redis")]
pub mod redis_store;
pub mod retry;
pub mod routing;
pub mod telemetry;
pub mod timeout;

pub use cache::{CacheLayer, CacheStore, MokaCacheStore, cache_key};
pub use concurrency::ConcurrencyLayer;
pub use cost::{Cost, CostLayer, CostLedger, InMemoryCostLedger, ModelPrice, PriceTable};
pub use rate_limit::{InMemoryLimitStore, LimitStore, Limits, RateLimitLayer};
pub use retry::{RetryBudget, RetryLayer, RetryPolicy};
pub use routing::{Router, RouterBuilder, Rule, estimate_complexity};
pub use telemetry::TelemetryLayer;
pub use timeout::TimeoutLayer;

/// A decorator that can wrap a chat model and, where it makes sense, an embedding model.
pub trait Layer: Send + Sync {
    /// Wrap a chat model.
    fn wrap_chat(&self, inner: Arc<dyn ChatModel>) -> Arc<dyn ChatModel>;

    /// Wrap an embedding model. Layers that only make sense for chat return `inner` unchanged.
    fn wrap_embedding(&self, inner: Arc<dyn EmbeddingModel>) -> Arc<dyn EmbeddingModel> {
        inner
    }
}

/// Composes layers around a model. The first layer added is the outermost.
#[derive(Default, Clone)]
pub struct Stack {
    layers: Vec<Arc<dyn Layer>>,
}

impl Stack {
    /// An empty stack.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a layer inside the ones already added.
    pub fn layer(mut self, layer: impl Layer + 'static) -> Self {
        self.layers.push(Arc::new(layer));
        self
    }

    /// Add a shared layer (for example one whose state is shared between stacks).
    pub fn layer_arc(mut self, layer: Arc<dyn Layer>) -> Self {
        self.layers.push(layer);
        self
    }

    /// Wrap a chat model in all layers.
    pub fn build_chat(&self, model: Arc<dyn ChatModel>) -> Arc<dyn ChatModel> {
        self.layers
            .iter()
            .rev()
            .fold(model, |inner, layer| layer.wrap_chat(inner))
    }

    /// Wrap an embedding model in the layers that apply to embeddings.
    pub fn build_embedding(&self, model: Arc<dyn EmbeddingModel>) -> Arc<dyn EmbeddingModel> {
        self.layers
            .iter()
            .rev()
            .fold(model, |inner, layer| layer.wrap_embedding(inner))
    }
}
