//! Cross-encoder reranking: one relevance score per (query, document) pair.

use std::sync::Arc;

use ai_core::{AiError, Reranker, Result, Scored};
use async_trait::async_trait;

use crate::bert::{Encoder, by_length};
use crate::config::{ModelFiles, ModelKind, ScoreActivation};
use crate::embed::blocking;
use crate::options::SessionOptions;
use crate::session::OnnxSession;
use crate::tokenize::TextTokenizer;

/// A cross-encoder (any BERT-shaped `…ForSequenceClassification` with one output logit).
#[derive(Clone)]
pub struct CrossEncoder {
    inner: Arc<Inner>,
}

struct Inner {
    encoder: Encoder,
    tokenizer: TextTokenizer,
    activation: ScoreActivation,
    batch_size: usize,
}

impl std::fmt::Debug for CrossEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrossEncoder").finish_non_exhaustive()
    }
}

impl CrossEncoder {
    /// Load a model whose config kind is `cross-encoder`.
    pub fn load(files: &ModelFiles, options: &SessionOptions) -> Result<Self> {
        if files.config.kind != ModelKind::CrossEncoder {
            return Err(AiError::config(format!(
                "`{}` is configured as {:?}, not a cross-encoder",
                files.model.display(),
                files.config.kind
            )));
        }
        let session = OnnxSession::load(&files.model, options)?;
        let encoder = Encoder::new(session, files.config.output.as_deref(), 2)?;
        Ok(Self {
            inner: Arc::new(Inner {
                encoder,
                tokenizer: TextTokenizer::from_file(&files.tokenizer, files.config.max_length)?,
                activation: files.config.score_activation,
                batch_size: 32,
            }),
        })
    }

    /// Scores in input order (not sorted), on the calling thread.
    pub fn score_blocking(&self, query: &str, documents: &[String]) -> Result<Vec<f32>> {
        self.inner.score(query, documents)
    }
}

impl Inner {
    fn score(&self, query: &str, documents: &[String]) -> Result<Vec<f32>> {
        let pairs: Vec<(&str, &str)> = documents.iter().map(|d| (query, d.as_str())).collect();
        let encoded = self.tokenizer.encode_pairs(&pairs)?;
        let order = by_length(encoded.iter().map(|e| e.len()));
        let mut scores = vec![0f32; documents.len()];
        for chunk in order.chunks(self.batch_size) {
            let batch: Vec<_> = chunk.iter().map(|&i| &encoded[i]).collect();
            let (logits, _, _) = self.encoder.run(&batch)?;
            let per_row = logits.shape.get(1).copied().unwrap_or(1).max(1);
            for (row, &original) in chunk.iter().enumerate() {
                // One-logit models give relevance directly; two-logit models the "relevant" class.
                let logit = if per_row == 1 {
                    logits.data[row]
                } else {
                    logits.data[row * per_row + per_row - 1]
                };
                scores[original] = match self.activation {
                    ScoreActivation::Sigmoid => 1.0 / (1.0 + (-logit).exp()),
                    ScoreActivation::None => logit,
                };
            }
        }
        Ok(scores)
    }
}

#[async_trait]
impl Reranker for CrossEncoder {
    async fn rerank(&self, query: &str, documents: &[String]) -> Result<Vec<Scored>> {
        let inner = self.inner.clone();
        let (query, documents) = (query.to_string(), documents.to_vec());
        let scores = blocking(move || inner.score(&query, &documents)).await?;
        let mut scored: Vec<Scored> = scores
            .into_iter()
            .enumerate()
            .map(|(index, score)| Scored { index, score })
            .collect();
        scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
        Ok(scored)
    }
}
