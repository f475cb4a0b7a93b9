//! Fixed-size windows with overlap.

use super::{Chunk, Chunker};

/// Windows of exactly `size` characters (the last may be shorter), each starting
/// `size - overlap` characters after the previous one. Ignores structure; useful as a baseline
/// and for text without separators.
#[derive(Debug, Clone, Copy)]
pub struct FixedChunker {
    size: usize,
    overlap: usize,
}

impl FixedChunker {
    /// Windows of `size` characters overlapping by `overlap` (capped below `size`).
    pub fn new(size: usize, overlap: usize) -> Self {
        let size = size.max(1);
        Self {
            size,
            overlap: overlap.min(size - 1),
        }
    }
}

impl Chunker for FixedChunker {
    fn chunk(&self, text: &str) -> Vec<Chunk> {
        if text.is_empty() {
            return Vec::new();
        }
        // Byte offset of every character, plus the end.
        let mut offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        let n = offsets.len();
        offsets.push(text.len());
        let step = self.size - self.overlap;
        let mut chunks = Vec::new();
        let mut start = 0;
        loop {
            let end = (start + self.size).min(n);
            chunks.push(Chunk {
                index: chunks.len(),
                bytes: offsets[start]..offsets[end],
                chars: start..end,
                size: end - start,
            });
            if end == n {
                break;
            }
            start += step;
        }
        chunks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::testing::check;

    #[test]
    fn windows_cover_the_text() {
        let text = "héllo wörld, this is a fixed window test ✓";
        for (size, overlap) in [(5, 0), (5, 2), (10, 9), (100, 10), (1, 0)] {
            let chunks = FixedChunker::new(size, overlap).chunk(text);
            check(text, &chunks, size);
        }
    }
}
