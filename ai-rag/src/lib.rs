//! # ai-rag
//!
//! Retrieval-augmented generation building blocks over the `ai-core` traits.
//!
//! Implemented so far: [`chunk`] — recursive, fixed-size, Markdown-aware and semantic chunkers
//! with exact offsets and character or token sizing. Ingestion, vector stores (in memory and
//! PostgreSQL + pgvector), BM25 and hybrid retrieval, context assembly and BEIR evaluation are
//! still to come.

pub mod chunk;
