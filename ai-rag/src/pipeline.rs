//! A RAG pipeline: retrieve, assemble a cited context, ask a chat model.

use std::sync::Arc;

use ai_core::{ChatModel, ChatRequest, Result, Usage};

use crate::context::{Context, ContextBuilder, Source};
use crate::document::Filter;
use crate::extract::{Extractive, Quote};
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
    /// Tokens used by the model call (`None` for extractive answers).
    pub usage: Option<Usage>,
    /// The quoted sentences of an extractive answer, with their exact offsets (empty for
    /// generated answers).
    pub quotes: Vec<Quote>,
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
    answerer: Answerer,
    context: ContextBuilder,
    top_k: usize,
    max_tokens: u32,
    adjust: Option<Arc<dyn Fn(ChatRequest) -> ChatRequest + Send + Sync>>,
    instructions: String,
}

enum Answerer {
    Chat(Arc<dyn ChatModel>),
    Extractive(Extractive),
}

impl RagPipeline {
    /// A pipeline over `retriever` and `model`, fitting sources into `context`.
    pub fn new(
        retriever: Arc<dyn Retriever>,
        model: Arc<dyn ChatModel>,
        context: ContextBuilder,
    ) -> Self {
        Self::with(retriever, Answerer::Chat(model), context)
    }

    /// A pipeline whose answers quote the best sentences of the sources instead of asking a
    /// chat model (see [`Extractive`]).
    ///
    /// ```no_run
    /// # async fn run(retriever: std::sync::Arc<dyn ai_rag::Retriever>, embedder: std::sync::Arc<dyn ai_core::EmbeddingModel>) -> ai_core::Result<()> {
    /// use ai_rag::{ContextBuilder, Extractive, RagPipeline};
    /// let rag = RagPipeline::extractive(retriever, Extractive::new(embedder), ContextBuilder::new(1500));
    /// let answer = rag.answer("How do refunds work?", None).await?;
    /// for q in &answer.quotes {
    ///     println!("[{}] {} bytes {:?}: {}", q.number, q.document_id, q.bytes, q.text);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn extractive(
        retriever: Arc<dyn Retriever>,
        extractive: Extractive,
        context: ContextBuilder,
    ) -> Self {
        Self::with(retriever, Answerer::Extractive(extractive), context)
    }

    fn with(retriever: Arc<dyn Retriever>, answerer: Answerer, context: ContextBuilder) -> Self {
        Self {
            retriever,
            answerer,
            context,
            top_k: 5,
            max_tokens: 256,
            adjust: None,
            instructions: crate::context::DEFAULT_INSTRUCTIONS.to_owned(),
        }
    }

    /// Replace the default rules of the prompt (the system message).
    pub fn instructions(mut self, text: impl Into<String>) -> Self {
        self.instructions = text.into();
        self
    }

    /// Adjust every request before it goes to the model (sampling options, metadata such as
    /// the tenant key, provider-specific `extra` fields).
    pub fn adjust_request(
        mut self,
        f: impl Fn(ChatRequest) -> ChatRequest + Send + Sync + 'static,
    ) -> Self {
        self.adjust = Some(Arc::new(f));
        self
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
        let model = match &self.answerer {
            Answerer::Chat(m) => m,
            Answerer::Extractive(x) => {
                let quotes = x.quotes(question, &context).await?;
                let text = Extractive::render(&quotes);
                let citations = context.cited(&text).into_iter().cloned().collect();
                return Ok(RagAnswer {
                    text,
                    citations,
                    context,
                    usage: None,
                    quotes,
                });
            }
        };
        let request = context
            .prompt_with(&self.instructions, question)
            .temperature(0.0)
            .max_tokens(self.max_tokens);
        let request = match &self.adjust {
            Some(f) => f(request),
            None => request,
        };
        let response = model.generate(request).await?;
        let text = response.text();
        let citations = context.cited(&text).into_iter().cloned().collect();
        Ok(RagAnswer {
            text,
            citations,
            context,
            usage: response.usage,
            quotes: Vec::new(),
        })
    }
}
