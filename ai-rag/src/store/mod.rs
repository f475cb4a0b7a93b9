//! Vector stores: one trait, an in-memory store (exact or HNSW) and PostgreSQL + pgvector.

use ai_core::Result;
use async_trait::async_trait;

use crate::document::{Filter, Hit, StoredChunk};

pub mod hnsw;
mod memory;
#[cfg(feature = "pgvector")]
mod pgvector;

pub use hnsw::{Hnsw, HnswConfig};
pub use memory::{IndexKind, MemoryStore};
#[cfg(feature = "pgvector")]
pub use pgvector::{PgOptions, PgVectorStore};

/// Where chunks and their vectors live.
#[async_trait]
pub trait VectorStore: Send + Sync {
    /// Insert or replace chunks (by chunk id).
    async fn upsert(&self, chunks: Vec<StoredChunk>) -> Result<()>;

    /// Delete every chunk of a document; returns how many were deleted.
    async fn delete_document(&self, document_id: &str) -> Result<usize>;

    /// The `k` chunks most similar to `query` (cosine), best first, that pass `filter`. Stores
    /// return `k` hits whenever `k` matching chunks exist, however selective the filter.
    async fn search(&self, query: &[f32], k: usize, filter: Option<&Filter>) -> Result<Vec<Hit>>;

    /// Number of chunks stored.
    async fn count(&self) -> Result<usize>;

    /// The content hash recorded for a document, if it is stored.
    async fn document_hash(&self, document_id: &str) -> Result<Option<String>>;

    /// Replace all chunks of a document in one step (delete, then insert). Stores with
    /// transactions make it atomic.
    async fn replace_document(&self, document_id: &str, chunks: Vec<StoredChunk>) -> Result<()> {
        self.delete_document(document_id).await?;
        self.upsert(chunks).await
    }

    /// Replace the chunks of several documents (stores with transactions do it in one).
    async fn replace_documents(&self, documents: Vec<(String, Vec<StoredChunk>)>) -> Result<()> {
        for (id, chunks) in documents {
            self.replace_document(&id, chunks).await?;
        }
        Ok(())
    }
}
