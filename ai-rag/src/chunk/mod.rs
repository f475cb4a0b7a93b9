//! Chunkers: split a document into pieces that fit a size, with exact offsets back into it.
//!
//! Every chunker returns [`Chunk`]s whose byte and character ranges index the source text. Chunk
//! starts strictly increase and each chunk ends at or after the next one's start, so the
//! non-overlapping parts (`text[start_i..start_{i+1}]`, the last one to the end) concatenate
//! back to the input exactly; output is deterministic; every chunk is a valid UTF-8 slice.

use std::ops::Range;

mod fixed;
mod markdown;
mod recursive;
mod semantic;
mod sizer;

pub use fixed::FixedChunker;
pub use markdown::MarkdownChunker;
pub use recursive::RecursiveChunker;
pub use semantic::{SemanticChunker, split_sentences};
#[cfg(feature = "tokenizers")]
pub use sizer::TokenSizer;
pub use sizer::{CharSizer, Sizer};

/// One piece of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Position among the document's chunks.
    pub index: usize,
    /// Byte range in the source.
    pub bytes: Range<usize>,
    /// Character range in the source.
    pub chars: Range<usize>,
    /// Size in the chunker's unit (characters or tokens).
    pub size: usize,
}

impl Chunk {
    /// The chunk's text within `source`.
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        source.get(self.bytes.clone()).unwrap_or("")
    }
}

/// Splits text into chunks.
pub trait Chunker: Send + Sync {
    /// The chunks of `text`.
    fn chunk(&self, text: &str) -> Vec<Chunk>;
}

/// A contiguous piece of the source that is never split further.
#[derive(Debug, Clone)]
pub(crate) struct Atom {
    pub bytes: Range<usize>,
    pub chars: usize,
    pub size: usize,
    /// A chunk should start here (for example a Markdown heading).
    pub hard_break: bool,
}

/// Merge atoms greedily into chunks of at most `max` (an atom larger than `max` stands alone),
/// each chunk after the first starting with up to `overlap` of the previous chunk's tail.
pub(crate) fn merge(atoms: &[Atom], max: usize, overlap: usize) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    // Character offset of each atom's start.
    let mut char_at = Vec::with_capacity(atoms.len() + 1);
    let mut acc = 0;
    for a in atoms {
        char_at.push(acc);
        acc += a.chars;
    }
    char_at.push(acc);
    let mut i = 0;
    while i < atoms.len() {
        let start = i;
        let mut total = 0;
        while i < atoms.len()
            && (i == start || (total + atoms[i].size <= max && !atoms[i].hard_break))
        {
            total += atoms[i].size;
            i += 1;
        }
        chunks.push(Chunk {
            index: chunks.len(),
            bytes: atoms[start].bytes.start..atoms[i - 1].bytes.end,
            chars: char_at[start]..char_at[i],
            size: total,
        });
        if i >= atoms.len() {
            break;
        }
        if overlap > 0 && !atoms[i].hard_break {
            // Step back over trailing atoms that fit the overlap, keeping progress.
            let mut j = i;
            let mut ov = 0;
            while j > start + 1 && ov + atoms[j - 1].size <= overlap {
                ov += atoms[j - 1].size;
                j -= 1;
            }
            i = j;
        }
    }
    chunks
}

#[cfg(test)]
pub(crate) mod testing {
    use super::Chunk;

    /// Check the invariants every chunker promises.
    pub fn check(text: &str, chunks: &[Chunk], max: usize) {
        if text.is_empty() {
            assert!(chunks.is_empty());
            return;
        }
        assert_eq!(chunks.first().map(|c| c.bytes.start), Some(0));
        assert_eq!(chunks.last().map(|c| c.bytes.end), Some(text.len()));
        let mut rebuilt = String::new();
        for (i, c) in chunks.iter().enumerate() {
            assert_eq!(c.index, i);
            assert!(text.is_char_boundary(c.bytes.start) && text.is_char_boundary(c.bytes.end));
            assert_eq!(text[..c.bytes.start].chars().count(), c.chars.start);
            assert_eq!(text[..c.bytes.end].chars().count(), c.chars.end);
            let end = chunks.get(i + 1).map_or(text.len(), |n| n.bytes.start);
            assert!(end > c.bytes.start, "starts must increase");
            assert!(end <= c.bytes.end, "no gap between chunk {i} and the next");
            rebuilt.push_str(&text[c.bytes.start..end]);
            let chars = c.text(text).chars().count();
            assert!(
                chars <= max || c.size <= max || chars == 1,
                "chunk {i} too large: {chars}"
            );
        }
        assert_eq!(rebuilt, text);
    }
}
