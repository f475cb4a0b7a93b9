//! Sequence classification (labels for a text) and token classification (labels per token,
//! merged into character spans).

use std::sync::Arc;

use ai_core::{AiError, Result};
use serde::{Deserialize, Serialize};

use crate::bert::{Encoder, by_length};
use crate::config::{ModelFiles, ModelKind};
use crate::embed::blocking;
use crate::options::SessionOptions;
use crate::session::OnnxSession;
use crate::tokenize::{Encoded, TextTokenizer};

/// A label and its probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelScore {
    /// Label name.
    pub label: String,
    /// Softmax probability.
    pub score: f32,
}

/// An entity found by a token classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntitySpan {
    /// Entity type (the label without its `B-`/`I-` prefix).
    pub label: String,
    /// Mean probability of its tokens.
    pub score: f32,
    /// Start, in characters.
    pub start: usize,
    /// End (exclusive), in characters.
    pub end: usize,
    /// Start, in bytes.
    pub byte_start: usize,
    /// End (exclusive), in bytes.
    pub byte_end: usize,
}

pub(crate) fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|x| (x - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

fn check_labels(files: &ModelFiles, kind: ModelKind) -> Result<Vec<String>> {
    if files.config.kind != kind {
        return Err(AiError::config(format!(
            "`{}` is configured as {:?}, not {kind:?}",
            files.model.display(),
            files.config.kind
        )));
    }
    if files.config.labels.is_empty() {
        return Err(AiError::config(format!(
            "`{}` has no labels in its config",
            files.model.display()
        )));
    }
    Ok(files.config.labels.clone())
}

fn width_check(got: usize, labels: &[String]) -> Result<()> {
    if got != labels.len() {
        return Err(AiError::config(format!(
            "the model outputs {got} scores per item but the config names {} labels",
            labels.len()
        )));
    }
    Ok(())
}

/// Labels for whole texts (for example a prompt-injection classifier).
#[derive(Clone)]
pub struct SequenceClassifier {
    inner: Arc<SeqInner>,
}

struct SeqInner {
    encoder: Encoder,
    tokenizer: TextTokenizer,
    labels: Vec<String>,
}

impl std::fmt::Debug for SequenceClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequenceClassifier")
            .field("labels", &self.inner.labels)
            .finish()
    }
}

impl SequenceClassifier {
    /// Load a model whose config kind is `sequence-classification`.
    pub fn load(files: &ModelFiles, options: &SessionOptions) -> Result<Self> {
        let labels = check_labels(files, ModelKind::SequenceClassification)?;
        let session = OnnxSession::load(&files.model, options)?;
        Ok(Self {
            inner: Arc::new(SeqInner {
                encoder: Encoder::new(session, files.config.output.as_deref(), 2)?,
                tokenizer: TextTokenizer::from_file(&files.tokenizer, files.config.max_length)?,
                labels,
            }),
        })
    }

    /// The label names, by output index.
    pub fn labels(&self) -> &[String] {
        &self.inner.labels
    }

    /// Per text, every label with its probability, most likely first.
    pub async fn classify(&self, texts: &[String]) -> Result<Vec<Vec<LabelScore>>> {
        let inner = self.inner.clone();
        let texts = texts.to_vec();
        blocking(move || inner.classify(&texts)).await
    }

    /// The raw logits per text, on the calling thread.
    pub fn logits_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        self.inner.logits(texts)
    }
}

impl SeqInner {
    fn logits(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let encoded = self.tokenizer.encode_batch(&refs)?;
        let order = by_length(encoded.iter().map(|e| e.len()));
        let mut out = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(32) {
            let batch: Vec<_> = chunk.iter().map(|&i| &encoded[i]).collect();
            let (logits, _, _) = self.encoder.run(&batch)?;
            let n = logits.shape.get(1).copied().unwrap_or(0);
            width_check(n, &self.labels)?;
            for (row, &original) in chunk.iter().enumerate() {
                out[original] = logits.data[row * n..(row + 1) * n].to_vec();
            }
        }
        Ok(out)
    }

    fn classify(&self, texts: &[String]) -> Result<Vec<Vec<LabelScore>>> {
        Ok(self
            .logits(texts)?
            .into_iter()
            .map(|l| {
                let mut scored: Vec<LabelScore> = softmax(&l)
                    .into_iter()
                    .zip(&self.labels)
                    .map(|(score, label)| LabelScore {
                        label: label.clone(),
                        score,
                    })
                    .collect();
                scored.sort_by(|a, b| b.score.total_cmp(&a.score));
                scored
            })
            .collect())
    }
}

/// Labels per token, merged into entity spans (for NER and PII models).
#[derive(Clone)]
pub struct TokenClassifier {
    inner: Arc<TokInner>,
}

struct TokInner {
    encoder: Encoder,
    tokenizer: TextTokenizer,
    labels: Vec<String>,
}

impl std::fmt::Debug for TokenClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenClassifier")
            .field("labels", &self.inner.labels)
            .finish()
    }
}

/// One token's prediction, before merging.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenPrediction {
    /// Predicted label (with its `B-`/`I-` prefix).
    pub label: String,
    /// Its probability.
    pub score: f32,
    /// Byte offsets in the text.
    pub byte_start: usize,
    /// Byte end.
    pub byte_end: usize,
}

fn split_tag(label: &str) -> (bool, &str) {
    if let Some(t) = label.strip_prefix("B-") {
        (true, t)
    } else if let Some(t) = label.strip_prefix("I-") {
        (false, t)
    } else {
        (false, label)
    }
}

/// Merge token predictions into spans with the BIO/IOB convention: a token joins the current
/// span when it has the same entity type and is not a `B-` tag; `O` spans are dropped; the
/// span's score is the mean of its tokens'. (The same rule as the `simple` aggregation of the
/// transformers token-classification pipeline.) Character offsets are computed from `text`.
pub fn merge_entities(text: &str, tokens: &[TokenPrediction]) -> Vec<EntitySpan> {
    let mut groups: Vec<Vec<&TokenPrediction>> = Vec::new();
    for t in tokens {
        let start_new = match groups.last().and_then(|g| g.last()) {
            None => true,
            Some(prev) => {
                let (is_b, tag) = split_tag(&t.label);
                let (_, prev_tag) = split_tag(&prev.label);
                is_b || tag != prev_tag
            }
        };
        if start_new {
            groups.push(vec![t]);
        } else if let Some(g) = groups.last_mut() {
            g.push(t);
        }
    }
    let char_at = |byte: usize| text.get(..byte).map_or(0, |s| s.chars().count());
    groups
        .into_iter()
        .filter_map(|g| {
            let first = g.first()?;
            let last = g.last()?;
            let (_, tag) = split_tag(&first.label);
            if tag == "O" {
                return None;
            }
            let score = g.iter().map(|t| t.score).sum::<f32>() / g.len() as f32;
            Some(EntitySpan {
                label: tag.to_string(),
                score,
                start: char_at(first.byte_start),
                end: char_at(last.byte_end),
                byte_start: first.byte_start,
                byte_end: last.byte_end,
            })
        })
        .collect()
}

impl TokenClassifier {
    /// Load a model whose config kind is `token-classification`.
    pub fn load(files: &ModelFiles, options: &SessionOptions) -> Result<Self> {
        let labels = check_labels(files, ModelKind::TokenClassification)?;
        let session = OnnxSession::load(&files.model, options)?;
        Ok(Self {
            inner: Arc::new(TokInner {
                encoder: Encoder::new(session, files.config.output.as_deref(), 3)?,
                tokenizer: TextTokenizer::from_file(&files.tokenizer, files.config.max_length)?,
                labels,
            }),
        })
    }

    /// Entity spans per text.
    pub async fn entities(&self, texts: &[String]) -> Result<Vec<Vec<EntitySpan>>> {
        let inner = self.inner.clone();
        let texts = texts.to_vec();
        blocking(move || {
            let preds = inner.predict(&texts)?;
            Ok(texts
                .iter()
                .zip(preds)
                .map(|(t, p)| merge_entities(t, &p))
                .collect())
        })
        .await
    }

    /// Per text, the raw logits of every token (special tokens included), on the calling thread.
    pub fn logits_blocking(&self, texts: &[String]) -> Result<Vec<Vec<Vec<f32>>>> {
        self.inner
            .logits(texts)
            .map(|v| v.into_iter().map(|(_, l)| l).collect())
    }

    /// Per text, the prediction of every non-special token, on the calling thread.
    pub fn predict_blocking(&self, texts: &[String]) -> Result<Vec<Vec<TokenPrediction>>> {
        self.inner.predict(texts)
    }
}

impl TokInner {
    fn logits(&self, texts: &[String]) -> Result<Vec<(Encoded, Vec<Vec<f32>>)>> {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let encoded = self.tokenizer.encode_batch(&refs)?;
        let order = by_length(encoded.iter().map(|e| e.len()));
        let mut out: Vec<Option<(Encoded, Vec<Vec<f32>>)>> = vec![None; texts.len()];
        for chunk in order.chunks(32) {
            let batch: Vec<_> = chunk.iter().map(|&i| &encoded[i]).collect();
            let (logits, _, width) = self.encoder.run(&batch)?;
            let n = logits.shape.get(2).copied().unwrap_or(0);
            width_check(n, &self.labels)?;
            for (row, &original) in chunk.iter().enumerate() {
                let len = encoded[original].len();
                let rows = (0..len)
                    .map(|t| {
                        let at = (row * width + t) * n;
                        logits.data[at..at + n].to_vec()
                    })
                    .collect();
                out[original] = Some((encoded[original].clone(), rows));
            }
        }
        out.into_iter()
            .map(|o| o.ok_or_else(|| AiError::config("a text was not classified")))
            .collect()
    }

    fn predict(&self, texts: &[String]) -> Result<Vec<Vec<TokenPrediction>>> {
        Ok(self
            .logits(texts)?
            .into_iter()
            .map(|(enc, rows)| {
                rows.iter()
                    .enumerate()
                    .filter(|(i, _)| !enc.special[*i])
                    .map(|(i, l)| {
                        let p = softmax(l);
                        let (best, score) =
                            p.iter()
                                .copied()
                                .enumerate()
                                .fold(
                                    (0, f32::MIN),
                                    |acc, (j, s)| if s > acc.1 { (j, s) } else { acc },
                                );
                        TokenPrediction {
                            label: self.labels[best].clone(),
                            score,
                            byte_start: enc.offsets[i].0,
                            byte_end: enc.offsets[i].1,
                        }
                    })
                    .collect()
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(label: &str, score: f32, a: usize, b: usize) -> TokenPrediction {
        TokenPrediction {
            label: label.into(),
            score,
            byte_start: a,
            byte_end: b,
        }
    }

    #[test]
    fn bio_merging() {
        let text = "John Smith lives in São Paulo";
        let toks = vec![
            tp("B-PER", 0.9, 0, 4),
            tp("I-PER", 0.7, 5, 10),
            tp("O", 0.99, 11, 16),
            tp("O", 0.99, 17, 19),
            tp("B-LOC", 0.8, 20, 24),
            tp("I-LOC", 0.6, 25, 30),
        ];
        let spans = merge_entities(text, &toks);
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0].label, "PER");
        assert!((spans[0].score - 0.8).abs() < 1e-6);
        assert_eq!((spans[0].start, spans[0].end), (0, 10));
        // "São" has a two-byte character: byte 25..30 is chars 24..29.
        assert_eq!(spans[1].label, "LOC");
        assert_eq!((spans[1].byte_start, spans[1].byte_end), (20, 30));
        assert_eq!((spans[1].start, spans[1].end), (20, 29));
        assert_eq!(&text[spans[1].byte_start..spans[1].byte_end], "São Paulo");
    }

    #[test]
    fn b_tag_splits_and_type_change_splits() {
        let toks = vec![
            tp("B-PER", 1.0, 0, 1),
            tp("B-PER", 1.0, 2, 3),
            tp("I-LOC", 1.0, 4, 5),
            tp("I-PER", 1.0, 6, 7),
        ];
        let spans = merge_entities("a b c d", &toks);
        let labels: Vec<&str> = spans.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["PER", "PER", "LOC", "PER"]);
    }
}
