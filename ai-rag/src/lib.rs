//! # ai-rag
//!
//! Retrieval-augmented generation over the `ai-core` traits: bring any
//! [`EmbeddingModel`](ai_core::EmbeddingModel), [`Reranker`](ai_core::Reranker) and
//! [`ChatModel`](ai_core::ChatModel) (for example from `ai-infer` or `ai-providers`).
//!
//! - [`chunk`]: recursive (the default, 1 000 / 200), fixed, Markdown-aware and semantic
//!   chunkers with exact byte and character offsets; sizes in characters or tokens.
//! - [`Ingestor`]: chunk → embed in batches → upsert, idempotent by content hash.
//! - [`store`]: the [`VectorStore`](store::VectorStore) trait, an in-memory store (exact or
//!   HNSW, filters, save/load) and PostgreSQL + pgvector.
//! - [`retrieve`]: dense, BM25, hybrid (reciprocal rank fusion), rerank, multi-query, dedup.
//! - [`ContextBuilder`] and [`RagPipeline`]: sources fitted into a token budget, numbered for
//!   `[n]` citations, citations mapped back to documents and offsets; or [`Extractive`]
//!   answers that quote the best sentences of the sources verbatim, with exact offsets.
//! - [`eval`]: nDCG@10, Recall@100 and MRR@10 on BEIR-format data (`examples/beir_eval.rs`).
//! - PostgreSQL + pgvector (feature `pgvector`): `store::PgVectorStore`.

pub mod chunk;
pub mod context;
pub mod document;
pub mod eval;
pub mod extract;
pub mod ingest;
pub mod pipeline;
pub mod retrieve;
mod simd;
pub mod store;

pub use context::{Context, ContextBuilder, DEFAULT_INSTRUCTIONS, Source};
pub use document::{Document, Filter, Hit, Metadata, StoredChunk};
pub use extract::{Extractive, Quote};
pub use ingest::{IngestReport, Ingestor, Progress};
pub use pipeline::{RagAnswer, RagPipeline};
pub use retrieve::{Bm25Index, DenseRetriever, HybridRetriever, Retriever};
