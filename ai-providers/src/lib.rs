//! # ai-providers
//!
//! Providers implementing the `ai-core` traits, each behind a cargo feature:
//!
//! | feature | provider |
//! |---|---|
//! | `openai` (default) | OpenAI Chat Completions + Embeddings, Azure OpenAI, and any OpenAI-compatible server (vLLM, TGI, llama.cpp, Ollama, LM Studio) |
//!
//! Anthropic, Gemini, Bedrock, Cohere and Ollama's native API are planned as further features.
//!
//! Shared plumbing: one `reqwest` client per provider (or the caller's), timeouts on every
//! call ([`http::HttpOptions`]), an SSE decoder that is exact under any chunking ([`sse`]),
//! status-and-body to [`ai_core::AiError`] mapping ([`error_map`]), and [`from_env`].

#[cfg(feature = "openai")]
pub mod env;
pub mod error_map;
pub mod http;
#[cfg(feature = "openai")]
pub mod openai;
pub mod sse;

#[cfg(feature = "openai")]
pub use env::{builder_from_env, embeddings_from_env, from_env};
