//! Retrievers: dense, BM25, hybrid (reciprocal rank fusion), reranking and multi-query
//! expansion, plus de-duplication.

use std::collections::HashMap;
use std::sync::Arc;

use ai_core::{ChatModel, ChatRequest, EmbeddingModel, Message, Reranker, Result};
use async_trait::async_trait;

use crate::document::{Filter, Hit};
use crate::store::VectorStore;

mod bm25;

pub use bm25::{Bm25Index, analyze};

/// Finds chunks for a query.
#[async_trait]
pub trait Retriever: Send + Sync {
    /// Up to `k` hits, best first.
    async fn retrieve(&self, query: &str, k: usize, filter: Option<&Filter>) -> Result<Vec<Hit>>;
}

/// Embeds the query and searches a vector store.
pub struct DenseRetriever {
    store: Arc<dyn VectorStore>,
    embedder: Arc<dyn EmbeddingModel>,
}

impl DenseRetriever {
    /// Search `store` with vectors from `embedder`.
    pub fn new(store: Arc<dyn VectorStore>, embedder: Arc<dyn EmbeddingModel>) -> Self {
        Self { store, embedder }
    }
}

#[async_trait]
impl Retriever for DenseRetriever {
    async fn retrieve(&self, query: &str, k: usize, filter: Option<&Filter>) -> Result<Vec<Hit>> {
        let v = self.embedder.embed(&[query.to_string()]).await?;
        let q = v
            .first()
            .ok_or_else(|| ai_core::AiError::config("the embedder returned nothing"))?;
        self.store.search(q, k, filter).await
    }
}

/// BM25 over an in-memory index.
pub struct Bm25Retriever {
    index: Arc<Bm25Index>,
}

impl Bm25Retriever {
    /// Search `index`.
    pub fn new(index: Arc<Bm25Index>) -> Self {
        Self { index }
    }
}

#[async_trait]
impl Retriever for Bm25Retriever {
    async fn retrieve(&self, query: &str, k: usize, filter: Option<&Filter>) -> Result<Vec<Hit>> {
        Ok(self.index.search(query, k, filter))
    }
}

/// Reciprocal rank fusion: each list contributes `1 / (k + rank)` (rank from 1) to a chunk's
/// score; the usual `k` is 60.
pub fn reciprocal_rank_fusion(lists: &[Vec<Hit>], k: f32) -> Vec<Hit> {
    let mut fused: HashMap<String, Hit> = HashMap::new();
    for list in lists {
        for (rank, hit) in list.iter().enumerate() {
            let add = 1.0 / (k + rank as f32 + 1.0);
            fused
                .entry(hit.chunk.id.clone())
                .and_modify(|h| h.score += add)
                .or_insert_with(|| Hit {
                    chunk: hit.chunk.clone(),
                    score: add,
                });
        }
    }
    let mut out: Vec<Hit> = fused.into_values().collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.chunk.id.cmp(&b.chunk.id))
    });
    out
}

/// Drop repeated chunks: the same chunk id, or the same text after whitespace is normalised
/// (duplicated documents, overlapping sources). Keeps the first (best) occurrence.
pub fn dedup(hits: Vec<Hit>) -> Vec<Hit> {
    let mut ids = std::collections::HashSet::new();
    let mut texts = std::collections::HashSet::new();
    hits.into_iter()
        .filter(|h| {
            let norm: String = h
                .chunk
                .text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            ids.insert(h.chunk.id.clone()) && texts.insert(norm)
        })
        .collect()
}

/// Dense and lexical results fused by reciprocal rank.
pub struct HybridRetriever {
    retrievers: Vec<Arc<dyn Retriever>>,
    candidates: usize,
    rrf_k: f32,
}

impl HybridRetriever {
    /// Fuse `retrievers` (typically dense and BM25), each asked for `candidates` hits.
    pub fn new(retrievers: Vec<Arc<dyn Retriever>>, candidates: usize) -> Self {
        Self {
            retrievers,
            candidates: candidates.max(1),
            rrf_k: 60.0,
        }
    }
}

#[async_trait]
impl Retriever for HybridRetriever {
    async fn retrieve(&self, query: &str, k: usize, filter: Option<&Filter>) -> Result<Vec<Hit>> {
        let n = self.candidates.max(k);
        let lists = futures::future::try_join_all(
            self.retrievers.iter().map(|r| r.retrieve(query, n, filter)),
        )
        .await?;
        let mut fused = dedup(reciprocal_rank_fusion(&lists, self.rrf_k));
        fused.truncate(k);
        Ok(fused)
    }
}

/// Retrieves `candidates` hits, then orders them with a [`Reranker`] (a cross-encoder).
pub struct RerankRetriever {
    inner: Arc<dyn Retriever>,
    reranker: Arc<dyn Reranker>,
    candidates: usize,
}

impl RerankRetriever {
    /// Rerank the top `candidates` of `inner`.
    pub fn new(inner: Arc<dyn Retriever>, reranker: Arc<dyn Reranker>, candidates: usize) -> Self {
        Self {
            inner,
            reranker,
            candidates: candidates.max(1),
        }
    }
}

#[async_trait]
impl Retriever for RerankRetriever {
    async fn retrieve(&self, query: &str, k: usize, filter: Option<&Filter>) -> Result<Vec<Hit>> {
        let hits = dedup(
            self.inner
                .retrieve(query, self.candidates.max(k), filter)
                .await?,
        );
        if hits.is_empty() {
            return Ok(hits);
        }
        let docs: Vec<String> = hits.iter().map(|h| h.chunk.text.clone()).collect();
        let scored = self.reranker.rerank(query, &docs).await?;
        let mut out: Vec<Hit> = scored
            .into_iter()
            .filter_map(|s| {
                hits.get(s.index).map(|h| Hit {
                    chunk: h.chunk.clone(),
                    score: s.score,
                })
            })
            .collect();
        out.truncate(k);
        Ok(out)
    }
}

/// Asks a chat model for alternative phrasings of the query, retrieves for each and fuses the
/// lists by reciprocal rank (multi-query expansion). If the model fails, the original query
/// alone is used.
pub struct MultiQueryRetriever {
    inner: Arc<dyn Retriever>,
    model: Arc<dyn ChatModel>,
    variants: usize,
}

impl MultiQueryRetriever {
    /// Expand into `variants` extra queries with `model`.
    pub fn new(inner: Arc<dyn Retriever>, model: Arc<dyn ChatModel>, variants: usize) -> Self {
        Self {
            inner,
            model,
            variants,
        }
    }

    /// The alternative queries the model proposes (one per line, numbering removed).
    pub async fn expand(&self, query: &str) -> Vec<String> {
        let request = ChatRequest::new(vec![
            Message::system(
                "Rewrite the user's search query in different words. Reply with one rewrite per line and nothing else.",
            ),
            Message::user(format!("{} rewrites of: {query}", self.variants)),
        ])
        .temperature(0.0)
        .max_tokens(160);
        match self.model.generate(request).await {
            Ok(r) => r
                .text()
                .lines()
                .map(|l| {
                    l.trim()
                        .trim_start_matches(|c: char| {
                            c.is_ascii_digit() || c == '.' || c == '-' || c == ')'
                        })
                        .trim()
                })
                .filter(|l| !l.is_empty() && !l.eq_ignore_ascii_case(query))
                .take(self.variants)
                .map(str::to_string)
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "query expansion failed; using the query alone");
                Vec::new()
            }
        }
    }
}

#[async_trait]
impl Retriever for MultiQueryRetriever {
    async fn retrieve(&self, query: &str, k: usize, filter: Option<&Filter>) -> Result<Vec<Hit>> {
        let mut queries = vec![query.to_string()];
        queries.extend(self.expand(query).await);
        let lists = futures::future::try_join_all(
            queries.iter().map(|q| self.inner.retrieve(q, k, filter)),
        )
        .await?;
        let mut fused = dedup(reciprocal_rank_fusion(&lists, 60.0));
        fused.truncate(k);
        Ok(fused)
    }
}
