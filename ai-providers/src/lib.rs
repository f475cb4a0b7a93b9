//! # ai-providers
//!
//! Providers implementing the `ai-core` traits, each behind a cargo feature:
//!
//! | feature | provider |
//! |---|---|
//! | `openai` (default) | OpenAI Chat Completions + Embeddings, Azure OpenAI, and any OpenAI-compatible server (vLLM, TGI, llama.cpp, Ollama, LM Studio) |
//! | `anthropic` | Anthropic Messages API (also llama.cpp's `/v1/messages`) |
//! | `gemini` | Google Gemini on AI Studio and Vertex AI (chat, embeddings) |
//! | `cohere` | Cohere embed and rerank |
//! | `ollama` | Ollama's native `/api/chat` and `/api/embed` |
//! | `bedrock` | AWS Bedrock: Converse / ConverseStream (SigV4 or API key), Titan and Cohere embeddings |
//!
//! `docs/providers.md` has the matrix of what each supports and how it is tested.
//!
//! Shared plumbing: one `reqwest` client per provider (or the caller's), timeouts on every
//! call ([`http::HttpOptions`]), an SSE decoder that is exact under any chunking ([`sse`]),
//! status-and-body to [`ai_core::AiError`] mapping ([`error_map`]), and [`from_env`].
//!
//! A provider composed with the `ai-core` layers (the README's example, compiled here):
//!
//! ```no_run
//! use std::{sync::Arc, time::Duration};
//! use ai_core::{ChatModel, ChatRequest, layers::*};
//! use ai_providers::openai::OpenAiProvider;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let metrics = ai_core::prometheus::install_recorder()?;           // serve metrics.render()
//! let provider = Arc::new(OpenAiProvider::openai(std::env::var("OPENAI_API_KEY")?)
//!     .model("gpt-4o-mini").build()?);
//! let prices = Arc::new(PriceTable::with_defaults());                   // override as needed
//! let model = Stack::new()                                              // outermost first
//!     .layer(TelemetryLayer::new())                                     // spans + GenAI metrics
//!     .layer(TimeoutLayer::new().total(Duration::from_secs(30)).first_chunk(Duration::from_secs(5)))
//!     .layer(CacheLayer::in_memory(64 << 20, Duration::from_secs(600)))
//!     .layer(RateLimitLayer::new(Limits { requests_per_minute: Some(60),
//!             cost_per_day_micros: Some(5_000_000), ..Limits::default() }).prices(prices.clone()))
//!     .layer(CostLayer::new(prices, Arc::new(InMemoryCostLedger::new())))
//!     .layer(RetryLayer::default())                                     // backoff, Retry-After, budget
//!     .build_chat(provider);
//! let answer = model.generate(ChatRequest::user("Hello").temperature(0.0).key("tenant-42")).await?;
//! println!("{} (cost {:?} n$)", answer.text(), answer.meta.cost_nanos);
//! # drop(metrics); Ok(()) }
//! ```

#[cfg(feature = "anthropic")]
pub mod anthropic;
#[cfg(feature = "bedrock")]
pub mod bedrock;
#[cfg(feature = "cohere")]
pub mod cohere;
#[cfg(feature = "openai")]
pub mod env;
pub mod error_map;
#[cfg(feature = "bedrock")]
pub mod eventstream;
#[cfg(feature = "gemini")]
pub mod gemini;
pub mod http;
#[cfg(any(feature = "bedrock", feature = "gemini"))]
mod json;
pub mod lines;
#[cfg(feature = "ollama")]
pub mod ollama;
#[cfg(feature = "openai")]
pub mod openai;
pub mod pool;
#[cfg(any(
    feature = "anthropic",
    feature = "bedrock",
    feature = "gemini",
    feature = "ollama"
))]
mod pump;
pub mod sse;

#[cfg(feature = "openai")]
pub use env::{builder_from_env, chat_from, embeddings_from, embeddings_from_env, from_env};
