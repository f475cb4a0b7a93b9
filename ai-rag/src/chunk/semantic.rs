//! Semantic chunking: split between sentences where the meaning shifts.

use std::ops::Range;
use std::sync::Arc;

use ai_core::{EmbeddingModel, Result};

use super::recursive::RecursiveChunker;
use super::{Chunk, merge};
use crate::chunk::sizer::{CharSizer, Sizer};

/// Sentence ranges covering `text`: a sentence ends after `.`, `!`, `?` (or their CJK forms)
/// followed by whitespace, or at a blank line; the whitespace stays with the sentence before.
pub fn split_sentences(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let ends = matches!(c, '.' | '!' | '?' | '。' | '！' | '？')
            && chars
                .peek()
                .is_some_and(|&(_, n)| n.is_whitespace() || matches!(c, '。' | '！' | '？'));
        let blank = c == '\n' && chars.peek().is_some_and(|&(_, n)| n == '\n');
        if ends || blank {
            let mut end = i + c.len_utf8();
            while let Some(&(j, n)) = chars.peek() {
                if !n.is_whitespace() {
                    break;
                }
                end = j + n.len_utf8();
                chars.next();
            }
            out.push(start..end);
            start = end;
        }
    }
    if start < text.len() {
        out.push(start..text.len());
    }
    out
}

/// Splits between sentences where the cosine similarity of neighbouring sentences' embeddings
/// drops: boundaries are the gaps whose distance (1 − cosine) is above the given percentile of
/// all gaps in the document (95th by default). Chunks still respect the maximum size; long
/// sentences are split recursively.
pub struct SemanticChunker {
    model: Arc<dyn EmbeddingModel>,
    max: usize,
    percentile: f32,
    sizer: Arc<dyn Sizer>,
}

impl std::fmt::Debug for SemanticChunker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SemanticChunker")
            .field("max", &self.max)
            .field("percentile", &self.percentile)
            .finish()
    }
}

impl SemanticChunker {
    /// Chunks of at most `max` characters, split with embeddings from `model`.
    pub fn new(model: Arc<dyn EmbeddingModel>, max: usize) -> Self {
        Self {
            model,
            max: max.max(1),
            percentile: 95.0,
            sizer: Arc::new(CharSizer),
        }
    }

    /// The percentile (0–100) of neighbour distances above which a gap becomes a boundary.
    pub fn percentile(mut self, p: f32) -> Self {
        self.percentile = p.clamp(0.0, 100.0);
        self
    }

    /// Measure size with `sizer`.
    pub fn sizer(mut self, sizer: Arc<dyn Sizer>) -> Self {
        self.sizer = sizer;
        self
    }

    /// The chunks of `text`.
    pub async fn chunk(&self, text: &str) -> Result<Vec<Chunk>> {
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let sentences = split_sentences(text);
        let mut vectors = Vec::with_capacity(sentences.len());
        let batch = self.model.max_batch().max(1);
        let texts: Vec<String> = sentences
            .iter()
            .map(|r| text[r.clone()].to_string())
            .collect();
        for part in texts.chunks(batch) {
            vectors.extend(self.model.embed(part).await?);
        }
        let distances: Vec<f32> = vectors
            .windows(2)
            .map(|w| 1.0 - crate::document::cosine(&w[0], &w[1]))
            .collect();
        let threshold = if distances.is_empty() {
            f32::INFINITY
        } else {
            let mut sorted = distances.clone();
            sorted.sort_by(f32::total_cmp);
            let rank = ((self.percentile / 100.0) * (sorted.len() - 1) as f32).round() as usize;
            sorted[rank.min(sorted.len() - 1)]
        };
        let splitter = RecursiveChunker::new(self.max, 0).sizer(self.sizer.clone());
        let mut atoms = Vec::new();
        for (i, r) in sentences.iter().enumerate() {
            let first = atoms.len();
            splitter.atoms(text, r.start, r.end, 0, &mut atoms);
            if i > 0
                && distances[i - 1] > threshold
                && let Some(a) = atoms.get_mut(first)
            {
                a.hard_break = true;
            }
        }
        Ok(merge(&atoms, self.max, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::testing::check;
    use ai_core::Embedding;
    use async_trait::async_trait;

    #[test]
    fn sentences_cover_the_text() {
        let text = "One. Two!  Three? Four\n\nFive 東京です。次の文。 end";
        let s = split_sentences(text);
        let rebuilt: String = s.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(rebuilt, text);
        assert_eq!(&text[s[0].clone()], "One. ");
        assert_eq!(&text[s[1].clone()], "Two!  ");
        assert!(s.len() >= 6);
    }

    /// Embeds by topic word so the test knows where meaning shifts.
    struct TopicEmbedder;

    #[async_trait]
    impl EmbeddingModel for TopicEmbedder {
        async fn embed(&self, texts: &[String]) -> Result<Vec<Embedding>> {
            Ok(texts
                .iter()
                .map(|t| {
                    if t.contains("cat") {
                        vec![1.0, 0.1]
                    } else {
                        vec![0.1, 1.0]
                    }
                })
                .collect())
        }
        fn dimensions(&self) -> usize {
            2
        }
        fn max_batch(&self) -> usize {
            3
        }
        fn model_name(&self) -> &str {
            "topic"
        }
    }

    #[tokio::test]
    async fn splits_where_the_topic_changes() {
        let text = "The cat sleeps. The cat eats. The cat purrs. Stocks fell today. Markets closed lower. Bonds rallied.";
        let chunks = SemanticChunker::new(Arc::new(TopicEmbedder), 500)
            .percentile(50.0)
            .chunk(text)
            .await
            .unwrap();
        check(text, &chunks, 500);
        assert_eq!(chunks.len(), 2);
        assert_eq!(
            chunks[0].text(text),
            "The cat sleeps. The cat eats. The cat purrs. "
        );
    }
}
