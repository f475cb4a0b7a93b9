//! A RAG pipeline: retrieve, assemble a cited context, ask a chat model.

use std::sync::Arc;

use ai_core::{ChatModel, Result, Usage};

use crate::context::{Context, ContextBuilder, Source};
use crate::document::Filter;
use crate::retrieve::Retriever;

/// An answer with its sources.
#[derive(Debug, Clone)]
pub struct RagAnswer {
    /// The model's answer.
    pub text: String,
    /// The sources it cites, in order of first citation.
    pub citations: Vec<Source>,
    /// Every source the model was given.
    pub context: Context,
    /// Tokens used by the model call.
    pub usage: Option<Usage>,
}

/// Retrieval, context and generation tied together.
///
/// ```no_run
/// # async fn run(retriever: std::sync::Arc<dyn ai_rag::Retriever>, model: std::sync::Arc<dyn ai_core::ChatModel>) -> ai_core::Result<()> {
/// use ai_rag::{ContextBuilder, RagPipeline};
/// let rag = RagPipeline::new(retriever, model, ContextBuilder::new(1500)).top_k(5);
/// let answer = rag.answer("How do refunds work?", None).await?;
/// for s in &answer.citations {
///     println!("[{}] {} bytes {:?}", s.number, s.document_id, s.bytes);
/// }
/// # Ok(()) }
/// ```
pub struct RagPipeline {
    retriever: Arc<dyn Retriever>,
    model: Arc<dyn ChatModel>,
    context: ContextBuilder,
    top_k: usize,
    max_tokens: u32,
}

impl RagPipeline {
    /// A pipeline over `retriever` and `model`, fitting sources into `context`.
    pub fn new(
        retriever: Arc<dyn Retriever>,
        model: Arc<dyn ChatModel>,
        context: ContextBuilder,
    ) -> Self {
        Self {
            retriever,
            model,
            context,
            top_k: 5,
            max_tokens: 256,
        }
    }

    /// How many chunks to retrieve.
    pub fn top_k(mut self, k: usize) -> Self {
        self.top_k = k.max(1);
        self
    }

    /// Output token limit of the answer.
    pub fn max_tokens(mut self, n: u32) -> Self {
        self.max_tokens = n;
        self
    }

    /// Answer `question` from the retrieved sources.
    pub async fn answer(&self, question: &str, filter: Option<&Filter>) -> Result<RagAnswer> {
        let hits = self
            .retriever
            .retrieve(question, self.top_k, filter)
            .await?;
        let context = self.context.build(&hits);
        let request = context
            .prompt(question)
            .temperature(0.0)
            .max_tokens(self.max_tokens);
        let response = self.model.generate(request).await?;
        let text = response.text();
        let citations = context.cited(&text).into_iter().cloned().collect();
        Ok(RagAnswer {
            text,
            citations,
            context,
            usage: response.usage,
        })
    }
}
