//! Ingestion: chunk, embed in batches, upsert — idempotent by content hash.

use std::sync::Arc;

use ai_core::{AiError, EmbeddingModel, Result};
use futures::{StreamExt, TryStreamExt};

use crate::chunk::Chunker;
use crate::document::{Document, StoredChunk};
use crate::retrieve::Bm25Index;
use crate::store::VectorStore;

/// Progress of a long ingestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Documents handled so far.
    pub documents_done: usize,
    /// Documents in this call.
    pub documents_total: usize,
    /// Chunks written so far.
    pub chunks_written: usize,
}

/// What an ingestion did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// New documents.
    pub added: usize,
    /// Documents whose content changed (their old chunks were replaced).
    pub updated: usize,
    /// Documents skipped because their content hash was unchanged.
    pub unchanged: usize,
    /// Chunks written.
    pub chunks_written: usize,
}

type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Chunk → embed → upsert, with a content-hash check so re-ingesting an unchanged document
/// writes nothing and a changed one replaces its old chunks. Embedding calls run in batches of
/// the model's `max_batch`, at most `concurrency` at a time.
pub struct Ingestor {
    chunker: Arc<dyn Chunker>,
    embedder: Arc<dyn EmbeddingModel>,
    store: Arc<dyn VectorStore>,
    lexical: Option<Arc<Bm25Index>>,
    concurrency: usize,
    group: usize,
    progress: Option<ProgressFn>,
}

impl Ingestor {
    /// Ingest into `store` with these components.
    pub fn new(
        chunker: Arc<dyn Chunker>,
        embedder: Arc<dyn EmbeddingModel>,
        store: Arc<dyn VectorStore>,
    ) -> Self {
        Self {
            chunker,
            embedder,
            store,
            lexical: None,
            concurrency: 2,
            group: 256,
            progress: None,
        }
    }

    /// Also keep a BM25 index up to date.
    pub fn with_bm25(mut self, index: Arc<Bm25Index>) -> Self {
        self.lexical = Some(index);
        self
    }

    /// Embedding calls in flight at once.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Documents processed (and written) together.
    pub fn group_size(mut self, n: usize) -> Self {
        self.group = n.max(1);
        self
    }

    /// Called after each group of documents.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Ingest `documents`. They are processed in groups (256 by default): unchanged ones are
    /// skipped, the chunks of the others are embedded together in full batches, and each group
    /// is written at once (in one transaction where the store has them).
    pub async fn ingest(&self, documents: Vec<Document>) -> Result<IngestReport> {
        let total = documents.len();
        let mut report = IngestReport::default();
        let mut done = 0;
        let mut rest = documents;
        while !rest.is_empty() {
            let tail = rest.split_off(self.group.min(rest.len()));
            let group = std::mem::replace(&mut rest, tail);
            done += group.len();
            let mut changed = Vec::new();
            for doc in group {
                let hash = doc.content_hash();
                let existing = self.store.document_hash(&doc.id).await?;
                if existing.as_deref() == Some(hash.as_str()) {
                    report.unchanged += 1;
                } else {
                    if existing.is_some() {
                        report.updated += 1;
                    } else {
                        report.added += 1;
                    }
                    changed.push((doc, hash));
                }
            }
            let prepared = self.prepare(&changed).await?;
            if let Some(ix) = &self.lexical {
                for (id, chunks) in &prepared {
                    ix.remove_document(id);
                    ix.add(chunks);
                }
            }
            report.chunks_written += prepared.iter().map(|(_, c)| c.len()).sum::<usize>();
            self.store.replace_documents(prepared).await?;
            if let Some(p) = &self.progress {
                p(Progress {
                    documents_done: done,
                    documents_total: total,
                    chunks_written: report.chunks_written,
                });
            }
        }
        Ok(report)
    }

    /// Delete a document and its chunks.
    pub async fn delete(&self, document_id: &str) -> Result<usize> {
        if let Some(ix) = &self.lexical {
            ix.remove_document(document_id);
        }
        self.store.delete_document(document_id).await
    }

    /// Chunk the documents and embed all their chunks together.
    async fn prepare(
        &self,
        docs: &[(Document, String)],
    ) -> Result<Vec<(String, Vec<StoredChunk>)>> {
        let pieces: Vec<Vec<crate::chunk::Chunk>> = docs
            .iter()
            .map(|(d, _)| self.chunker.chunk(&d.text))
            .collect();
        let texts: Vec<String> = docs
            .iter()
            .zip(&pieces)
            .flat_map(|((d, _), ps)| ps.iter().map(|c| c.text(&d.text).to_string()))
            .collect();
        // Batches of similar lengths waste little on padding: embed in order of length, then
        // put the vectors back in chunk order.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let batch = self.embedder.max_batch().max(1);
        let batches: Vec<Vec<String>> = order
            .chunks(batch)
            .map(|ix| ix.iter().map(|&i| texts[i].clone()).collect())
            .collect();
        let sorted: Vec<Vec<f32>> = futures::stream::iter(batches)
            .map(|b| {
                let embedder = self.embedder.clone();
                async move { embedder.embed(&b).await }
            })
            .buffered(self.concurrency)
            .try_collect::<Vec<_>>()
            .await?
            .into_iter()
            .flatten()
            .collect();
        if sorted.len() != texts.len() {
            return Err(AiError::config(format!(
                "the embedder returned {} vectors for {} chunks",
                sorted.len(),
                texts.len()
            )));
        }
        let mut vectors = vec![Vec::new(); texts.len()];
        for (v, &i) in sorted.into_iter().zip(&order) {
            vectors[i] = v;
        }
        let mut vectors = vectors.into_iter();
        let mut texts = texts.into_iter();
        let mut out = Vec::with_capacity(docs.len());
        for ((doc, hash), ps) in docs.iter().zip(pieces) {
            let mut chunks = Vec::with_capacity(ps.len());
            for c in ps {
                let (Some(text), Some(embedding)) = (texts.next(), vectors.next()) else {
                    return Err(AiError::config("chunk and vector counts diverged"));
                };
                chunks.push(StoredChunk {
                    id: format!("{}#{}", doc.id, c.index),
                    document_id: doc.id.clone(),
                    index: c.index,
                    text,
                    bytes: c.bytes,
                    chars: c.chars,
                    metadata: doc.metadata.clone(),
                    content_hash: hash.clone(),
                    embedding,
                });
            }
            out.push((doc.id.clone(), chunks));
        }
        Ok(out)
    }
}
