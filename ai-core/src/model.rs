//! The three model contracts: [`ChatModel`], [`EmbeddingModel`] and [`Reranker`].

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::request::ChatRequest;
use crate::response::ChatResponse;
use crate::stream::ChatStream;

/// What a model (or a stack of layers around it) can do.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Provider name as used in metrics (`gen_ai.provider.name`), e.g. `openai`.
    pub provider: String,
    /// Default model name, used when a request names none.
    pub model: String,
    /// Supports [`ChatModel::stream`] natively (otherwise streams are replays).
    pub streaming: bool,
    /// Supports tool calls.
    pub tools: bool,
    /// Supports several tool calls in one turn.
    pub parallel_tool_calls: bool,
    /// Supports JSON mode.
    pub json_mode: bool,
    /// Supports JSON Schema constrained output.
    pub json_schema: bool,
    /// Accepts images.
    pub vision: bool,
    /// Context window in tokens, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u32>,
}

/// A chat model: a hosted provider, a local server, an in-process model, or a stack of layers
/// around any of these. Always used as `Arc<dyn ChatModel>`.
///
/// ```
/// use ai_core::{ChatModel, ChatRequest, ChatResponse, ChatStream, Capabilities, Result};
/// use async_trait::async_trait;
///
/// struct Echo(Capabilities);
///
/// #[async_trait]
/// impl ChatModel for Echo {
///     async fn generate(&self, req: ChatRequest) -> Result<ChatResponse> {
///         let last = req.messages.last().map(|m| m.text()).unwrap_or_default();
///         Ok(ChatResponse::text_answer(last))
///     }
///     async fn stream(&self, req: ChatRequest) -> Result<ChatStream> {
///         Ok(ai_core::replay_stream(&self.generate(req).await?))
///     }
///     fn capabilities(&self) -> &Capabilities { &self.0 }
/// }
/// ```
#[async_trait]
pub trait ChatModel: Send + Sync {
    /// Produce a complete answer.
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse>;

    /// Produce the answer as a stream of events. Errors before the first event are returned
    /// here; errors after it arrive as an `Err` item, after which the stream ends.
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream>;

    /// What this model supports.
    fn capabilities(&self) -> &Capabilities;
}

/// An embedding vector.
pub type Embedding = Vec<f32>;

/// A model that turns texts into vectors.
#[async_trait]
pub trait EmbeddingModel: Send + Sync {
    /// One vector per input text, in input order.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Embedding>>;

    /// Length of each vector, where known before the first call (0 when unknown).
    fn dimensions(&self) -> usize;

    /// Most texts accepted in one call; callers split larger batches.
    fn max_batch(&self) -> usize;

    /// Model name, for metrics.
    fn model_name(&self) -> &str;
}

/// A document's relevance to a query.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// Index of the document in the input slice.
    pub index: usize,
    /// Relevance; higher is more relevant. Scales differ between rerankers.
    pub score: f32,
}

/// A model that scores documents against a query (a cross-encoder or a rerank API).
#[async_trait]
pub trait Reranker: Send + Sync {
    /// Scores for the documents, sorted by descending score.
    async fn rerank(&self, query: &str, documents: &[String]) -> Result<Vec<Scored>>;
}
