//! # ai-core
//!
//! Contracts and composition for adding AI to an existing Rust service:
//!
//! - the model traits [`ChatModel`], [`EmbeddingModel`] and [`Reranker`], used as
//!   `Arc<dyn …>` so business code never knows which vendor answers;
//! - request, response and streaming types ([`ChatRequest`], [`ChatResponse`],
//!   [`StreamEvent`]) with tools, tool-call deltas, JSON output, usage and raw payloads;
//! - one error type, [`AiError`], whose [`ErrorKind`] drives retries and fallbacks;
//! - [`layers`]: timeout, retry, cache, rate limit and budget, cost, concurrency, telemetry and
//!   routing, composed by [`layers::Stack`] in the order the caller chooses.
//!
//! ```
//! use std::{sync::Arc, time::Duration};
//! use ai_core::{ChatModel, ChatRequest, layers::*, testing::ScriptedModel};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let provider: Arc<dyn ChatModel> = Arc::new(ScriptedModel::always_text("Paris"));
//! let prices = Arc::new(PriceTable::with_defaults());
//! let model = Stack::new()
//!     .layer(TelemetryLayer::new())
//!     .layer(TimeoutLayer::new().total(Duration::from_secs(30)).first_chunk(Duration::from_secs(5)))
//!     .layer(RetryLayer::default())
//!     .layer(CacheLayer::in_memory(64 << 20, Duration::from_secs(600)))
//!     .layer(RateLimitLayer::new(Limits { requests_per_minute: Some(600), ..Limits::default() })
//!         .prices(prices.clone()))
//!     .layer(CostLayer::new(prices, Arc::new(InMemoryCostLedger::new())))
//!     .build_chat(provider);
//!
//! let answer = model
//!     .generate(ChatRequest::user("Capital of France?").temperature(0.0).key("tenant-1"))
//!     .await?;
//! assert_eq!(answer.text(), "Paris");
//! # Ok::<(), ai_core::AiError>(())
//! # }).unwrap();
//! ```

pub mod error;
pub mod jobs;
pub mod layers;
pub mod message;
pub mod model;
pub mod names;
#[cfg(feature = "prometheus")]
pub mod prometheus;
pub mod request;
pub mod response;
#[cfg(feature = "axum")]
pub mod sse;
pub mod stream;
pub mod testing;
pub mod timing;
pub mod tool;
#[cfg(feature = "tower")]
pub mod tower_adapter;
pub mod usage;
#[cfg(feature = "webhooks")]
pub mod webhook;

pub use error::{AiError, ErrorKind, Result};
pub use message::{ContentPart, ImageSource, Message, Role, ToolCall};
pub use model::{Capabilities, ChatModel, Embedding, EmbeddingModel, Reranker, Scored};
pub use request::{CacheMode, ChatRequest, RequestMetadata, ResponseFormat, Sensitivity};
pub use response::{ChatResponse, FinishReason, ResponseMeta};
pub use stream::{
    ChatStream, StreamAccumulator, StreamEvent, ToolCallDelta, collect_stream, replay_events,
    replay_stream,
};
pub use timing::WaitClock;
pub use tool::{Tool, ToolChoice};
pub use usage::Usage;
