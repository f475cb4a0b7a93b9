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

    /// Called after each document.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Ingest `documents`.
    pub async fn ingest(&self, documents: Vec<Document>) -> Result<IngestReport> {
        let total = documents.len();
        let mut report = IngestReport::default();
        for (i, doc) in documents.into_iter().enumerate() {
            let hash = doc.content_hash();
            let existing = self.store.document_hash(&doc.id).await?;
            if existing.as_deref() == Some(hash.as_str()) {
                report.unchanged += 1;
            } else {
                let chunks = self.prepare(&doc, &hash).await?;
                report.chunks_written += chunks.len();
                if let Some(ix) = &self.lexical {
                    ix.remove_document(&doc.id);
                    ix.add(&chunks);
                }
                self.store.replace_document(&doc.id, chunks).await?;
                if existing.is_some() {
                    report.updated += 1;
                } else {
                    report.added += 1;
                }
            }
            if let Some(p) = &self.progress {
                p(Progress {
                    documents_done: i + 1,
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

    async fn prepare(&self, doc: &Document, hash: &str) -> Result<Vec<StoredChunk>> {
        let pieces = self.chunker.chunk(&doc.text);
        let texts: Vec<String> = pieces
            .iter()
            .map(|c| c.text(&doc.text).to_string())
            .collect();
        let batch = self.embedder.max_batch().max(1);
        let vectors: Vec<Vec<f32>> = futures::stream::iter(texts.chunks(batch).map(|b| b.to_vec()))
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
        if vectors.len() != pieces.len() {
            return Err(AiError::config(format!(
                "the embedder returned {} vectors for {} chunks",
                vectors.len(),
                pieces.len()
            )));
        }
        Ok(pieces
            .into_iter()
            .zip(texts)
            .zip(vectors)
            .map(|((c, text), embedding)| StoredChunk {
                id: format!("{}#{}", doc.id, c.index),
                document_id: doc.id.clone(),
                index: c.index,
                text,
                bytes: c.bytes,
                chars: c.chars,
                metadata: doc.metadata.clone(),
                content_hash: hash.to_string(),
                embedding,
            })
            .collect())
    }
}
