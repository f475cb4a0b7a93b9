//! # ai-infer
//!
//! Models running inside your process on ONNX Runtime (`ort` 2.x, loaded dynamically): an
//! in-process model is just another `ai-core` [`EmbeddingModel`](ai_core::EmbeddingModel) or
//! [`Reranker`](ai_core::Reranker).
//!
//! - [`OnnxEmbedder`]: sentence embeddings (mean or CLS pooling, L2 normalisation, truncation,
//!   batches sorted by length so short texts are not padded to long ones);
//! - [`BatchedEmbedder`] / [`DynamicBatcher`]: concurrent single-text callers gathered into
//!   batches (max batch, max wait, bounded queue, cancellation-safe);
//! - [`CrossEncoder`]: reranking (query, document) pairs;
//! - [`SequenceClassifier`] and [`TokenClassifier`]: labels for texts and for tokens, the latter
//!   merged into character spans (BIO/IOB);
//! - [`OnnxChatModel`]: a small decoder-only model exported with a KV cache as a
//!   [`ChatModel`](ai_core::ChatModel): chat template, greedy and sampled decoding, stop
//!   sequences, streaming whole characters, usage.
//!
//! Models load from a directory holding `model.onnx`, `tokenizer.json` and `ai-infer.json`
//! ([`ModelFiles::from_dir`]) or from a Hugging Face cache ([`ModelFiles::from_hf_cache`]).
//! ONNX Runtime itself is found through `ORT_DYLIB_PATH` or [`RuntimeOptions`]; a missing or
//! too-old library is a clear `Config` error. `scripts/models.sh` provisions the library and the
//! models used by the tests and the demo.

pub mod batcher;
mod bert;
pub mod classify;
pub mod config;
pub mod embed;
pub mod generate;
pub mod options;
pub mod rerank;
pub mod runtime;
pub mod session;
pub mod tokenize;
mod wordpiece;

pub use batcher::{BatchedEmbedder, BatcherConfig, DynamicBatcher};
pub use classify::{
    EntitySpan, LabelScore, SequenceClassifier, TokenClassifier, TokenPrediction, merge_entities,
};
pub use config::{ModelConfig, ModelFiles, ModelKind, Pooling, ScoreActivation};
pub use embed::OnnxEmbedder;
pub use generate::{OnnxChatModel, Sampling, TimedIds};
pub use options::{ExecutionProvider, Optimization, SessionOptions};
pub use rerank::CrossEncoder;
pub use runtime::{RuntimeOptions, init as init_runtime};
pub use session::OnnxSession;
pub use tokenize::{Encoded, TextTokenizer};
