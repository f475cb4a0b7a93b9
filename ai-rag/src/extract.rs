//! Extractive answers: the sentences of the retrieved sources closest in meaning to the
//! question, quoted verbatim and cited. No chat model is involved, so the answer cannot say
//! anything the sources do not — the mode to use with a tiny local model, under a strict
//! grounding requirement, or as a fallback when the chat model is unavailable.

use std::ops::Range;
use std::sync::Arc;

use ai_core::{EmbeddingModel, Result};

use crate::chunk::split_sentences;
use crate::context::Context;

/// A sentence quoted from a source.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    /// The number of the source it comes from (as cited, `[n]`).
    pub number: usize,
    /// The document.
    pub document_id: String,
    /// Byte range in the document.
    pub bytes: Range<usize>,
    /// Character range in the document.
    pub chars: Range<usize>,
    /// The sentence, trimmed.
    pub text: String,
    /// Cosine similarity to the question.
    pub score: f32,
}

/// Picks the sentences of a context that answer a question best.
#[derive(Clone)]
pub struct Extractive {
    embedder: Arc<dyn EmbeddingModel>,
    sentences: usize,
    min_score: f32,
    min_chars: usize,
}

impl std::fmt::Debug for Extractive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extractive")
            .field("sentences", &self.sentences)
            .field("min_score", &self.min_score)
            .finish()
    }
}

impl Extractive {
    /// Up to two sentences, scored with `embedder`, each at least 0.3 similar to the question.
    pub fn new(embedder: Arc<dyn EmbeddingModel>) -> Self {
        Self {
            embedder,
            sentences: 2,
            min_score: 0.3,
            min_chars: 20,
        }
    }

    /// How many sentences an answer quotes at most.
    pub fn sentences(mut self, n: usize) -> Self {
        self.sentences = n.max(1);
        self
    }

    /// The least cosine similarity a quoted sentence needs; below it the answer says the
    /// sources do not contain one.
    pub fn min_score(mut self, s: f32) -> Self {
        self.min_score = s;
        self
    }

    /// The quotes for `question`, in the order they appear in the context (source, then
    /// position). Empty when no sentence is similar enough.
    pub async fn quotes(&self, question: &str, context: &Context) -> Result<Vec<Quote>> {
        let mut candidates = Vec::new();
        for s in &context.sources {
            for r in split_sentences(&s.text) {
                let raw = &s.text[r.clone()];
                let lead = raw.len() - raw.trim_start().len();
                let text = raw.trim();
                if text.chars().count() < self.min_chars {
                    continue;
                }
                let start = r.start + lead;
                let end = start + text.len();
                let chars_before = s.text[..start].chars().count();
                candidates.push(Quote {
                    number: s.number,
                    document_id: s.document_id.clone(),
                    bytes: s.bytes.start + start..s.bytes.start + end,
                    chars: s.chars.start + chars_before
                        ..s.chars.start + chars_before + text.chars().count(),
                    text: text.to_owned(),
                    score: 0.0,
                });
            }
        }
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let mut inputs = Vec::with_capacity(candidates.len() + 1);
        inputs.push(question.to_owned());
        inputs.extend(candidates.iter().map(|q| q.text.clone()));
        let vectors = self.embedder.embed(&inputs).await?;
        let Some((q, rest)) = vectors.split_first() else {
            return Ok(Vec::new());
        };
        for (c, v) in candidates.iter_mut().zip(rest) {
            c.score = crate::document::cosine(q, v);
        }
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        order.sort_by(|&a, &b| {
            candidates[b]
                .score
                .total_cmp(&candidates[a].score)
                .then(a.cmp(&b))
        });
        let mut keep: Vec<usize> = order
            .into_iter()
            .filter(|&i| candidates[i].score >= self.min_score)
            .take(self.sentences)
            .collect();
        keep.sort_unstable();
        Ok(keep.into_iter().map(|i| candidates[i].clone()).collect())
    }

    /// The answer text for `quotes`: each sentence followed by its citation, or a plain
    /// statement that the sources hold no answer.
    pub fn render(quotes: &[Quote]) -> String {
        if quotes.is_empty() {
            return "The sources do not contain an answer.".to_owned();
        }
        quotes
            .iter()
            .map(|q| format!("{} [{}]", q.text.replace('\n', " "), q.number))
            .collect::<Vec<_>>()
            .join(" ")
    }
}
