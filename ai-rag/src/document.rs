//! Documents, stored chunks, search hits and metadata filters.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Free-form metadata (tenant, source, language, tags…).
pub type Metadata = Map<String, Value>;

/// A document to ingest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Stable id chosen by the caller (a URL, a database key…).
    pub id: String,
    /// The full text.
    pub text: String,
    /// Metadata copied to every chunk.
    #[serde(default)]
    pub metadata: Metadata,
}

impl Document {
    /// A document without metadata.
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            text: text.into(),
            metadata: Metadata::new(),
        }
    }

    /// Add a metadata field.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// SHA-256 (hex) over the text and the metadata: unchanged documents are skipped on
    /// re-ingestion.
    pub fn content_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.text.as_bytes());
        h.update([0u8]);
        h.update(Value::Object(self.metadata.clone()).to_string().as_bytes());
        hex::encode(h.finalize())
    }
}

/// A chunk as stored: text, position in its document, metadata and vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredChunk {
    /// `"{document_id}#{index}"`.
    pub id: String,
    /// The document it came from.
    pub document_id: String,
    /// Position among the document's chunks.
    pub index: usize,
    /// The chunk text.
    pub text: String,
    /// Byte range in the document.
    pub bytes: Range<usize>,
    /// Character range in the document.
    pub chars: Range<usize>,
    /// The document's metadata.
    pub metadata: Metadata,
    /// The document's content hash at ingestion.
    pub content_hash: String,
    /// The embedding (L2-normalised by the stores).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embedding: Vec<f32>,
}

/// A retrieved chunk with its score (higher is better; the scale depends on the retriever).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The chunk (its embedding may be left out).
    pub chunk: StoredChunk,
    /// Relevance score.
    pub score: f32,
}

/// A condition on chunk metadata. Values are compared as JSON values; stores bind them as
/// parameters, never as SQL text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Filter {
    /// `metadata[key] == value`.
    Eq(String, Value),
    /// `metadata[key]` is one of the values.
    In(String, Vec<Value>),
    /// All of them.
    And(Vec<Filter>),
    /// Any of them.
    Or(Vec<Filter>),
}

impl Filter {
    /// `metadata[key] == value`.
    pub fn eq(key: impl Into<String>, value: impl Into<Value>) -> Self {
        Filter::Eq(key.into(), value.into())
    }

    /// Whether `metadata` satisfies the filter.
    pub fn matches(&self, metadata: &Metadata) -> bool {
        match self {
            Filter::Eq(k, v) => metadata.get(k) == Some(v),
            Filter::In(k, vs) => metadata.get(k).is_some_and(|x| vs.contains(x)),
            Filter::And(fs) => fs.iter().all(|f| f.matches(metadata)),
            Filter::Or(fs) => fs.iter().any(|f| f.matches(metadata)),
        }
    }
}

/// Cosine similarity of two vectors of any length (0 when either is all zeros).
pub(crate) fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let n = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    dot / (n(a) * n(b))
}

/// L2-normalise in place (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Dot product (cosine similarity of normalised vectors), with SIMD where the CPU has it.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    crate::simd::dot(a, b)
}
