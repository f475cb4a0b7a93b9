//! Shared test helpers: a deterministic embedder and a few documents.
#![allow(dead_code)]

use ai_core::{Embedding, EmbeddingModel};
use ai_rag::Document;
use async_trait::async_trait;

/// Words hashed into 64 dimensions: texts sharing words are similar.
pub struct HashEmbedder;

#[async_trait]
impl EmbeddingModel for HashEmbedder {
    async fn embed(&self, texts: &[String]) -> ai_core::Result<Vec<Embedding>> {
        Ok(texts
            .iter()
            .map(|t| {
                let mut v = vec![0f32; 64];
                for w in t
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| w.len() > 2)
                {
                    let h = w
                        .to_lowercase()
                        .bytes()
                        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
                    v[(h % 64) as usize] += 1.0;
                }
                v[63] += 0.01;
                v
            })
            .collect())
    }
    fn dimensions(&self) -> usize {
        64
    }
    fn max_batch(&self) -> usize {
        4
    }
    fn model_name(&self) -> &str {
        "hash"
    }
}

pub fn docs() -> Vec<Document> {
    vec![
        Document::new("refunds", "Refunds: return any item within thirty days of delivery for a full refund to the original payment method.")
            .with("tenant", "acme").with("lang", "en"),
        Document::new("shipping", "Shipping: standard delivery takes three to five business days; express delivery arrives the next day.")
            .with("tenant", "acme").with("lang", "en"),
        Document::new("passwords", "Passwords: open settings, choose security and click reset password to change your password.")
            .with("tenant", "globex").with("lang", "en"),
        Document::new("warranty", "Warranty: electronics carry a two year warranty covering manufacturing defects.")
            .with("tenant", "globex").with("lang", "en"),
    ]
}
