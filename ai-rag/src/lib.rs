//! # ai-rag
//!
//! **Not implemented yet.** This crate is a placeholder that keeps the workspace's crate map
//! stable; it exports nothing. Planned scope: chunking, idempotent ingestion, vector stores (in-memory exact and HNSW, PostgreSQL with pgvector), BM25 and hybrid retrieval, reranking, context assembly with citations, and BEIR evaluation.
