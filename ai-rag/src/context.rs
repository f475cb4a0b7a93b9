//! Context assembly: fit the best chunks into a token budget, number them, and map the
//! citations in an answer back to documents and offsets.

use std::ops::Range;
use std::sync::Arc;

use ai_core::{ChatRequest, Message};

use crate::chunk::Sizer;
use crate::document::Hit;

/// About four characters per token: the default budget measure when no tokenizer is given.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApproxTokens;

impl Sizer for ApproxTokens {
    fn size(&self, text: &str) -> usize {
        text.chars().count().div_ceil(4)
    }
}

/// The default rules of a RAG prompt.
pub const DEFAULT_INSTRUCTIONS: &str = "Answer the question in one or two sentences using only the numbered sources. \
     After each statement, cite the source it comes from as [1] or [2]. \
     If the sources do not contain the answer, say that you do not know.";

/// A numbered source in a context.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The number the answer cites, from 1.
    pub number: usize,
    /// The document.
    pub document_id: String,
    /// The chunk.
    pub chunk_id: String,
    /// Byte range in the document.
    pub bytes: Range<usize>,
    /// Character range in the document.
    pub chars: Range<usize>,
    /// The chunk text.
    pub text: String,
    /// The retrieval score.
    pub score: f32,
}

/// The assembled context.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// Sources in citation order.
    pub sources: Vec<Source>,
    /// `[1] …\n\n[2] …`, ready for a prompt.
    pub text: String,
    /// Budget units used.
    pub used: usize,
}

impl Context {
    /// The chat request for `question` with the default instructions
    /// ([`DEFAULT_INSTRUCTIONS`]): a system message with the rules, then a user message with
    /// the numbered sources followed by the question (small models follow a question that
    /// comes last far better than one that comes before long sources).
    pub fn prompt(&self, question: &str) -> ChatRequest {
        self.prompt_with(DEFAULT_INSTRUCTIONS, question)
    }

    /// [`Context::prompt`] with other instructions.
    pub fn prompt_with(&self, instructions: &str, question: &str) -> ChatRequest {
        ChatRequest::new(vec![
            Message::system(instructions),
            Message::user(format!("Sources:\n\n{}\n\nQuestion: {question}", self.text)),
        ])
    }

    /// The sources an answer cites (`[n]`, also `[n, m]` and `[n][m]`), in order of first
    /// citation; unknown numbers are ignored.
    pub fn cited(&self, answer: &str) -> Vec<&Source> {
        let mut out: Vec<&Source> = Vec::new();
        let mut rest = answer;
        while let Some(open) = rest.find('[') {
            let after = &rest[open + 1..];
            let Some(close) = after.find(']') else { break };
            for part in after[..close].split(',') {
                if let Ok(n) = part.trim().parse::<usize>()
                    && let Some(s) = self.sources.iter().find(|s| s.number == n)
                    && !out.iter().any(|o| o.number == n)
                {
                    out.push(s);
                }
            }
            rest = &after[close + 1..];
        }
        out
    }
}

/// Builds contexts within a budget.
#[derive(Clone)]
pub struct ContextBuilder {
    budget: usize,
    sizer: Arc<dyn Sizer>,
}

impl std::fmt::Debug for ContextBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextBuilder")
            .field("budget", &self.budget)
            .finish()
    }
}

impl ContextBuilder {
    /// At most `budget` tokens of sources (estimated at four characters per token).
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            sizer: Arc::new(ApproxTokens),
        }
    }

    /// Measure the budget with `sizer` (for example the model's tokenizer).
    pub fn sizer(mut self, sizer: Arc<dyn Sizer>) -> Self {
        self.sizer = sizer;
        self
    }

    /// Take hits best first, skipping any that would overflow the budget (a smaller one later
    /// may still fit), and number them in that order.
    pub fn build(&self, hits: &[Hit]) -> Context {
        let mut sources = Vec::new();
        let mut text = String::new();
        let mut used = 0;
        for h in hits {
            let entry = format!("[{}] {}", sources.len() + 1, h.chunk.text.trim());
            let cost = self.sizer.size(&entry);
            if used + cost > self.budget {
                continue;
            }
            used += cost;
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&entry);
            sources.push(Source {
                number: sources.len() + 1,
                document_id: h.chunk.document_id.clone(),
                chunk_id: h.chunk.id.clone(),
                bytes: h.chunk.bytes.clone(),
                chars: h.chunk.chars.clone(),
                text: h.chunk.text.clone(),
                score: h.score,
            });
        }
        Context {
            sources,
            text,
            used,
        }
    }
}
