//! BM25 over chunks, in memory.

use std::collections::HashMap;

use parking_lot::RwLock;
use rust_stemmers::{Algorithm, Stemmer};

use crate::document::{Filter, Hit, StoredChunk};

const STOPWORDS: [&str; 33] = [
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

/// Lower-cased alphanumeric words, English stop words removed, Snowball-stemmed.
pub fn analyze(text: &str, stemmer: &Stemmer) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .map(|w| stemmer.stem(&w).into_owned())
        .collect()
}

#[derive(Default)]
struct Index {
    chunks: Vec<Option<StoredChunk>>,
    lengths: Vec<u32>,
    postings: HashMap<String, Vec<(u32, u32)>>,
    by_doc: HashMap<String, Vec<u32>>,
    by_id: HashMap<String, u32>,
    live: usize,
    total_len: u64,
}

/// A BM25 index (k1 = 1.2, b = 0.75 by default) over chunk texts.
pub struct Bm25Index {
    k1: f32,
    b: f32,
    stemmer: Stemmer,
    inner: RwLock<Index>,
}

impl std::fmt::Debug for Bm25Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bm25Index")
            .field("k1", &self.k1)
            .field("b", &self.b)
            .field("chunks", &self.len())
            .finish()
    }
}

impl Default for Bm25Index {
    fn default() -> Self {
        Self::new(1.2, 0.75)
    }
}

impl Bm25Index {
    /// An empty index with these parameters.
    pub fn new(k1: f32, b: f32) -> Self {
        Self {
            k1,
            b,
            stemmer: Stemmer::create(Algorithm::English),
            inner: RwLock::new(Index::default()),
        }
    }

    /// Chunks indexed.
    pub fn len(&self) -> usize {
        self.inner.read().live
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Add chunks (a chunk id already present is replaced).
    pub fn add(&self, chunks: &[StoredChunk]) {
        let mut ix = self.inner.write();
        for c in chunks {
            if let Some(old) = ix.by_id.remove(&c.id) {
                Self::remove_slot(&mut ix, old);
            }
            let terms = analyze(&c.text, &self.stemmer);
            let slot = ix.chunks.len() as u32;
            let mut tf: HashMap<&str, u32> = HashMap::new();
            for t in &terms {
                *tf.entry(t.as_str()).or_default() += 1;
            }
            for (t, n) in tf {
                ix.postings
                    .entry(t.to_string())
                    .or_default()
                    .push((slot, n));
            }
            ix.lengths.push(terms.len() as u32);
            ix.total_len += terms.len() as u64;
            ix.by_id.insert(c.id.clone(), slot);
            ix.by_doc
                .entry(c.document_id.clone())
                .or_default()
                .push(slot);
            let mut stored = c.clone();
            stored.embedding = Vec::new();
            ix.chunks.push(Some(stored));
            ix.live += 1;
        }
    }

    fn remove_slot(ix: &mut Index, slot: u32) {
        if ix
            .chunks
            .get_mut(slot as usize)
            .and_then(Option::take)
            .is_some()
        {
            ix.live -= 1;
            ix.total_len -= u64::from(ix.lengths[slot as usize]);
        }
    }

    /// Remove every chunk of a document.
    pub fn remove_document(&self, document_id: &str) -> usize {
        let mut ix = self.inner.write();
        let slots = ix.by_doc.remove(document_id).unwrap_or_default();
        let mut n = 0;
        for s in slots {
            if let Some(Some(c)) = ix.chunks.get(s as usize) {
                let id = c.id.clone();
                ix.by_id.remove(&id);
                Self::remove_slot(&mut ix, s);
                n += 1;
            }
        }
        n
    }

    /// The `k` best chunks for `query` that pass `filter`, best first.
    pub fn search(&self, query: &str, k: usize, filter: Option<&Filter>) -> Vec<Hit> {
        let ix = self.inner.read();
        if ix.live == 0 || k == 0 {
            return Vec::new();
        }
        let n = ix.live as f32;
        let avgdl = (ix.total_len as f32 / n).max(1.0);
        let mut scores: HashMap<u32, f32> = HashMap::new();
        let mut terms = analyze(query, &self.stemmer);
        terms.sort();
        terms.dedup();
        for t in &terms {
            let Some(list) = ix.postings.get(t) else {
                continue;
            };
            let live: Vec<&(u32, u32)> = list
                .iter()
                .filter(|(s, _)| ix.chunks[*s as usize].is_some())
                .collect();
            let df = live.len() as f32;
            if df == 0.0 {
                continue;
            }
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            for &&(slot, tf) in &live {
                let tf = tf as f32;
                let dl = ix.lengths[slot as usize] as f32;
                let s = idf * tf * (self.k1 + 1.0)
                    / (tf + self.k1 * (1.0 - self.b + self.b * dl / avgdl));
                *scores.entry(slot).or_default() += s;
            }
        }
        let mut ranked: Vec<(f32, u32)> = scores
            .into_iter()
            .filter(|(slot, _)| {
                filter.is_none_or(|f| {
                    ix.chunks[*slot as usize]
                        .as_ref()
                        .is_some_and(|c| f.matches(&c.metadata))
                })
            })
            .map(|(slot, s)| (s, slot))
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked
            .into_iter()
            .take(k)
            .filter_map(|(s, slot)| {
                ix.chunks[slot as usize].as_ref().map(|c| Hit {
                    chunk: c.clone(),
                    score: s,
                })
            })
            .collect()
    }
}
