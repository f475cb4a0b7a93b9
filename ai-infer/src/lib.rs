//! # ai-infer
//!
//! **Not implemented yet.** This crate is a placeholder that keeps the workspace's crate map
//! stable; it exports nothing. Planned scope: in-process ONNX Runtime models (embeddings, cross-encoder reranking, sequence and token classification, small-model generation) behind the ai-core traits, on CPU or CUDA, with dynamic batching.
