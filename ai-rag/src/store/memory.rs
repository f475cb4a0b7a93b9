//! The in-memory vector store: exact search or an HNSW index, metadata filters, save and load.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use ai_core::{AiError, ErrorKind, Result};
use async_trait::async_trait;
use parking_lot::RwLock;

use super::VectorStore;
use super::hnsw::{Hnsw, HnswConfig};
use crate::document::{Filter, Hit, StoredChunk, dot, normalize};

/// How the in-memory store searches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IndexKind {
    /// Compare the query with every vector (exact; fine up to tens of thousands of chunks).
    Exact,
    /// An HNSW graph (approximate, for large sets).
    Hnsw(HnswConfig),
}

#[derive(Debug, Default)]
struct Inner {
    dim: usize,
    vectors: Vec<f32>,
    /// Chunk per slot; `None` once replaced or deleted.
    slots: Vec<Option<StoredChunk>>,
    live: usize,
    by_id: HashMap<String, u32>,
    by_doc: HashMap<String, Vec<u32>>,
    doc_hash: HashMap<String, String>,
    hnsw: Option<Hnsw>,
}

/// Chunks and vectors in process memory.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use ai_rag::store::{MemoryStore, VectorStore};
/// use ai_rag::StoredChunk;
/// let store = MemoryStore::exact();
/// store.upsert(vec![StoredChunk {
///     id: "doc#0".into(), document_id: "doc".into(), index: 0, text: "hello".into(),
///     bytes: 0..5, chars: 0..5, metadata: Default::default(), content_hash: "h".into(),
///     embedding: vec![1.0, 0.0],
/// }]).await.unwrap();
/// let hits = store.search(&[1.0, 0.0], 1, None).await.unwrap();
/// assert_eq!(hits[0].chunk.id, "doc#0");
/// # });
/// ```
#[derive(Debug)]
pub struct MemoryStore {
    kind: IndexKind,
    inner: RwLock<Inner>,
}

fn bad(msg: impl Into<String>) -> AiError {
    AiError::new(ErrorKind::BadRequest, msg)
}

impl MemoryStore {
    /// A store with exact search.
    pub fn exact() -> Self {
        Self::new(IndexKind::Exact)
    }

    /// A store with an HNSW index.
    pub fn hnsw(config: HnswConfig) -> Self {
        Self::new(IndexKind::Hnsw(config))
    }

    /// A store of the given kind.
    pub fn new(kind: IndexKind) -> Self {
        Self {
            kind,
            inner: RwLock::new(Inner::default()),
        }
    }

    fn insert(&self, inner: &mut Inner, mut chunk: StoredChunk) -> Result<()> {
        if chunk.embedding.is_empty() {
            return Err(bad(format!("chunk `{}` has no embedding", chunk.id)));
        }
        if inner.dim == 0 {
            inner.dim = chunk.embedding.len();
        }
        if chunk.embedding.len() != inner.dim {
            return Err(bad(format!(
                "chunk `{}` has {} dimensions; the store holds {}",
                chunk.id,
                chunk.embedding.len(),
                inner.dim
            )));
        }
        if let Some(old) = inner.by_id.remove(&chunk.id)
            && inner.slots[old as usize].take().is_some()
        {
            inner.live -= 1;
        }
        normalize(&mut chunk.embedding);
        let slot = u32::try_from(inner.slots.len()).map_err(|_| bad("the store is full"))?;
        inner.vectors.extend_from_slice(&chunk.embedding);
        inner.by_id.insert(chunk.id.clone(), slot);
        inner
            .by_doc
            .entry(chunk.document_id.clone())
            .or_default()
            .push(slot);
        inner
            .doc_hash
            .insert(chunk.document_id.clone(), chunk.content_hash.clone());
        chunk.embedding = Vec::new();
        inner.slots.push(Some(chunk));
        inner.live += 1;
        if let IndexKind::Hnsw(cfg) = self.kind {
            let dim = inner.dim;
            let vectors = std::mem::take(&mut inner.vectors);
            inner
                .hnsw
                .get_or_insert_with(|| Hnsw::new(dim, cfg))
                .insert(&vectors, slot);
            inner.vectors = vectors;
        }
        Ok(())
    }

    fn hit(inner: &Inner, slot: u32, score: f32) -> Option<Hit> {
        inner.slots.get(slot as usize)?.as_ref().map(|c| Hit {
            chunk: c.clone(),
            score,
        })
    }

    fn exact_search(inner: &Inner, q: &[f32], k: usize, filter: Option<&Filter>) -> Vec<Hit> {
        let mut scored: Vec<(f32, u32)> = Vec::new();
        for (slot, chunk) in inner.slots.iter().enumerate() {
            let Some(c) = chunk else { continue };
            if filter.is_some_and(|f| !f.matches(&c.metadata)) {
                continue;
            }
            let v = &inner.vectors[slot * inner.dim..(slot + 1) * inner.dim];
            scored.push((dot(q, v), slot as u32));
        }
        let k = k.min(scored.len());
        if k == 0 {
            return Vec::new();
        }
        scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
        scored.truncate(k);
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored
            .into_iter()
            .filter_map(|(s, slot)| Self::hit(inner, slot, s))
            .collect()
    }

    /// Write the store to a file (chunks as JSON lines, vectors and graph as binary).
    pub fn save(&self, path: &Path) -> Result<()> {
        let inner = self.inner.read();
        let io =
            |e: std::io::Error| AiError::config(format!("cannot write `{}`: {e}", path.display()));
        let mut out = Vec::new();
        out.extend_from_slice(b"AIRAGMS1");
        let put = |out: &mut Vec<u8>, v: u64| out.extend_from_slice(&v.to_le_bytes());
        put(&mut out, inner.dim as u64);
        put(&mut out, inner.slots.len() as u64);
        for v in &inner.vectors {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for slot in &inner.slots {
            let json = serde_json::to_vec(slot)
                .map_err(|e| AiError::config(format!("cannot encode a chunk: {e}")))?;
            put(&mut out, json.len() as u64);
            out.extend_from_slice(&json);
        }
        match &inner.hnsw {
            Some(h) => {
                out.push(1);
                h.write(&mut out);
            }
            None => out.push(0),
        }
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&out).map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Read a store written by [`MemoryStore::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path)
            .map_err(|e| AiError::config(format!("cannot read `{}`: {e}", path.display())))?;
        let corrupt = || AiError::config(format!("`{}` is not a valid store file", path.display()));
        if bytes.len() < 8 || &bytes[..8] != b"AIRAGMS1" {
            return Err(corrupt());
        }
        // Plain sequential decoding with bounds checks.
        let mut cur: &[u8] = &bytes[8..];
        let read_u64 = |cur: &mut &[u8]| -> Result<u64> {
            if cur.len() < 8 {
                return Err(corrupt());
            }
            let (h, t) = cur.split_at(8);
            *cur = t;
            Ok(u64::from_le_bytes(h.try_into().map_err(|_| corrupt())?))
        };
        let dim = read_u64(&mut cur)? as usize;
        let n = read_u64(&mut cur)? as usize;
        let floats = n.checked_mul(dim).ok_or_else(corrupt)?;
        if cur.len() < floats * 4 {
            return Err(corrupt());
        }
        let (vb, rest) = cur.split_at(floats * 4);
        cur = rest;
        let vectors: Vec<f32> = vb
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let mut inner = Inner {
            dim,
            vectors,
            ..Inner::default()
        };
        for slot in 0..n {
            let len = read_u64(&mut cur)? as usize;
            if cur.len() < len {
                return Err(corrupt());
            }
            let (j, rest) = cur.split_at(len);
            cur = rest;
            let chunk: Option<StoredChunk> = serde_json::from_slice(j).map_err(|_| corrupt())?;
            if let Some(c) = &chunk {
                inner.by_id.insert(c.id.clone(), slot as u32);
                inner
                    .by_doc
                    .entry(c.document_id.clone())
                    .or_default()
                    .push(slot as u32);
                inner
                    .doc_hash
                    .insert(c.document_id.clone(), c.content_hash.clone());
                inner.live += 1;
            }
            inner.slots.push(chunk);
        }
        let kind = match cur.first() {
            Some(1) => {
                let mut g = &cur[1..];
                let h = Hnsw::read(&mut g).ok_or_else(corrupt)?;
                if h.len() != n {
                    return Err(corrupt());
                }
                let cfg = *h.config();
                inner.hnsw = Some(h);
                IndexKind::Hnsw(cfg)
            }
            Some(0) => IndexKind::Exact,
            _ => return Err(corrupt()),
        };
        Ok(Self {
            kind,
            inner: RwLock::new(inner),
        })
    }
}

#[async_trait]
impl VectorStore for MemoryStore {
    async fn upsert(&self, chunks: Vec<StoredChunk>) -> Result<()> {
        let mut inner = self.inner.write();
        for c in chunks {
            self.insert(&mut inner, c)?;
        }
        Ok(())
    }

    async fn delete_document(&self, document_id: &str) -> Result<usize> {
        let mut inner = self.inner.write();
        let slots = inner.by_doc.remove(document_id).unwrap_or_default();
        inner.doc_hash.remove(document_id);
        let mut n = 0;
        for s in slots {
            if let Some(c) = inner.slots.get_mut(s as usize).and_then(Option::take) {
                inner.by_id.remove(&c.id);
                inner.live -= 1;
                n += 1;
            }
        }
        Ok(n)
    }

    async fn search(&self, query: &[f32], k: usize, filter: Option<&Filter>) -> Result<Vec<Hit>> {
        let inner = self.inner.read();
        if inner.live == 0 || k == 0 {
            return Ok(Vec::new());
        }
        if query.len() != inner.dim {
            return Err(bad(format!(
                "the query has {} dimensions; the store holds {}",
                query.len(),
                inner.dim
            )));
        }
        let mut q = query.to_vec();
        normalize(&mut q);
        let Some(h) = &inner.hnsw else {
            return Ok(Self::exact_search(&inner, &q, k, filter));
        };
        // Widen the candidate list until enough live, matching chunks come back; a very
        // selective filter falls back to an exact scan of the matching chunks.
        let mut ef = h.config().ef_search.max(k);
        loop {
            let found = h.search(&inner.vectors, &q, k, ef);
            let hits: Vec<Hit> = found
                .iter()
                .filter_map(|&(slot, s)| Self::hit(&inner, slot, s))
                .filter(|hit| filter.is_none_or(|f| f.matches(&hit.chunk.metadata)))
                .take(k)
                .collect();
            if hits.len() >= k.min(inner.live) {
                return Ok(hits);
            }
            if ef >= inner.slots.len() || ef >= 4096 {
                return Ok(Self::exact_search(&inner, &q, k, filter));
            }
            ef *= 4;
        }
    }

    async fn count(&self) -> Result<usize> {
        Ok(self.inner.read().live)
    }

    async fn document_hash(&self, document_id: &str) -> Result<Option<String>> {
        Ok(self.inner.read().doc_hash.get(document_id).cloned())
    }

    async fn replace_document(&self, document_id: &str, chunks: Vec<StoredChunk>) -> Result<()> {
        // One write lock: readers never see the document half replaced.
        let mut inner = self.inner.write();
        let slots = inner.by_doc.remove(document_id).unwrap_or_default();
        inner.doc_hash.remove(document_id);
        for s in slots {
            if let Some(c) = inner.slots.get_mut(s as usize).and_then(Option::take) {
                inner.by_id.remove(&c.id);
                inner.live -= 1;
            }
        }
        for c in chunks {
            self.insert(&mut inner, c)?;
        }
        Ok(())
    }
}
