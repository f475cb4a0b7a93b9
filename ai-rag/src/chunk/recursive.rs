//! Recursive splitting on a hierarchy of separators (paragraph, line, sentence, word,
//! character), then greedy merging with overlap.

use std::sync::Arc;

use memchr::memmem;

use super::{Atom, Chunk, Chunker, merge};
use crate::chunk::sizer::{CharSizer, Sizer};

/// The default separators: paragraph, line, sentence ends, word, then characters.
pub const DEFAULT_SEPARATORS: [&str; 6] = ["\n\n", "\n", ". ", "? ", "! ", " "];

/// Splits on the first separator that occurs, recursing into pieces still too large, and
/// merges the pieces greedily into chunks of at most `size` with about `overlap` of the
/// previous chunk repeated at the start of the next. Separators stay attached to the end of
/// the piece before them, so no text is lost. Linear in the input length.
///
/// ```
/// use ai_rag::chunk::{Chunker, RecursiveChunker};
/// let text = "First paragraph.\n\nSecond paragraph, a bit longer than the first one.";
/// let chunks = RecursiveChunker::new(40, 10).chunk(text);
/// assert_eq!(chunks[0].text(text), "First paragraph.\n\n");
/// ```
#[derive(Clone)]
pub struct RecursiveChunker {
    size: usize,
    overlap: usize,
    separators: Vec<String>,
    sizer: Arc<dyn Sizer>,
}

impl std::fmt::Debug for RecursiveChunker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecursiveChunker")
            .field("size", &self.size)
            .field("overlap", &self.overlap)
            .field("separators", &self.separators)
            .finish()
    }
}

impl Default for RecursiveChunker {
    /// 1 000 characters with 200 of overlap.
    fn default() -> Self {
        Self::new(1000, 200)
    }
}

impl RecursiveChunker {
    /// Chunks of at most `size` characters with about `overlap` characters of overlap.
    pub fn new(size: usize, overlap: usize) -> Self {
        let size = size.max(1);
        Self {
            size,
            overlap: overlap.min(size / 2),
            separators: DEFAULT_SEPARATORS.iter().map(|s| s.to_string()).collect(),
            sizer: Arc::new(CharSizer),
        }
    }

    /// Use other separators, most important first.
    pub fn separators(mut self, separators: Vec<String>) -> Self {
        self.separators = separators.into_iter().filter(|s| !s.is_empty()).collect();
        self
    }

    /// Measure size with `sizer` (for example tokens).
    pub fn sizer(mut self, sizer: Arc<dyn Sizer>) -> Self {
        self.sizer = sizer;
        self
    }

    /// Split `text[start..end]` into atoms no larger than the chunk size. The atoms of a piece
    /// that had to be split are fenced off with hard breaks, so a fragment of an oversized
    /// paragraph is never merged with the neighbouring paragraphs (chunk boundaries follow the
    /// separator hierarchy).
    pub(crate) fn atoms(
        &self,
        text: &str,
        start: usize,
        end: usize,
        level: usize,
        out: &mut Vec<Atom>,
    ) {
        let mut break_next = false;
        self.atoms_inner(text, start, end, level, out, &mut break_next);
    }

    fn push(out: &mut Vec<Atom>, mut atom: Atom, break_next: &mut bool) {
        if std::mem::take(break_next) {
            atom.hard_break = true;
        }
        out.push(atom);
    }

    fn atoms_inner(
        &self,
        text: &str,
        start: usize,
        end: usize,
        level: usize,
        out: &mut Vec<Atom>,
        break_next: &mut bool,
    ) {
        let piece = &text[start..end];
        let size = self.sizer.size(piece);
        if size <= self.size {
            let atom = Atom {
                bytes: start..end,
                chars: CharSizer.size(piece),
                size,
                hard_break: false,
            };
            Self::push(out, atom, break_next);
            return;
        }
        let first = out.len();
        self.split_oversized(text, start, end, level, out, break_next);
        if let Some(a) = out.get_mut(first) {
            a.hard_break = true;
        }
        *break_next = true;
    }

    fn split_oversized(
        &self,
        text: &str,
        start: usize,
        end: usize,
        level: usize,
        out: &mut Vec<Atom>,
        break_next: &mut bool,
    ) {
        let piece = &text[start..end];
        let Some(sep) = self.separators.get(level) else {
            self.cut(text, start, end, out);
            return;
        };
        let mut pieces = Vec::new();
        let mut last = start;
        for at in memmem::find_iter(piece.as_bytes(), sep.as_bytes()) {
            let cut = start + at + sep.len();
            if cut > last && cut < end {
                pieces.push(last..cut);
                last = cut;
            }
        }
        if pieces.is_empty() {
            self.split_oversized(text, start, end, level + 1, out, break_next);
            return;
        }
        pieces.push(last..end);
        for p in pieces {
            self.atoms_inner(text, p.start, p.end, level + 1, out, break_next);
        }
    }

    /// No separator left: cut at character boundaries into pieces of at most the chunk size.
    fn cut(&self, text: &str, start: usize, end: usize, out: &mut Vec<Atom>) {
        let piece = &text[start..end];
        let mut from = 0;
        let mut chars = 0;
        for (i, _) in piece.char_indices() {
            if chars == self.size.max(1) {
                let p = &piece[from..i];
                out.push(Atom {
                    bytes: start + from..start + i,
                    chars,
                    size: self.sizer.size(p),
                    hard_break: false,
                });
                from = i;
                chars = 0;
            }
            chars += 1;
        }
        if from < piece.len() {
            out.push(Atom {
                bytes: start + from..end,
                chars,
                size: self.sizer.size(&piece[from..]),
                hard_break: false,
            });
        }
    }
}

impl Chunker for RecursiveChunker {
    fn chunk(&self, text: &str) -> Vec<Chunk> {
        if text.is_empty() {
            return Vec::new();
        }
        let mut atoms = Vec::new();
        self.atoms(text, 0, text.len(), 0, &mut atoms);
        merge(&atoms, self.size, self.overlap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::testing::check;

    #[test]
    fn invariants_on_varied_text() {
        let text = "Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse, and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world.\n\nIt is a way I have of driving off the spleen.\nWhenever I find myself growing grim about the mouth; whenever it is a damp, drizzly November in my soul…\n\n東京は日本の首都です。東京は日本の首都です。東京は日本の首都です。\n\nshort";
        for (size, overlap) in [(20, 5), (50, 10), (100, 30), (1000, 200), (1, 0), (7, 3)] {
            let c = RecursiveChunker::new(size, overlap);
            let chunks = c.chunk(text);
            check(text, &chunks, size);
            assert_eq!(chunks, c.chunk(text), "deterministic");
        }
    }

    #[test]
    fn prefers_paragraphs_and_overlaps() {
        let text = "aaaa aaaa aaaa.\n\nbbbb bbbb bbbb.\n\ncccc cccc cccc.";
        let chunks = RecursiveChunker::new(20, 0).chunk(text);
        let texts: Vec<&str> = chunks.iter().map(|c| c.text(text)).collect();
        assert_eq!(
            texts,
            [
                "aaaa aaaa aaaa.\n\n",
                "bbbb bbbb bbbb.\n\n",
                "cccc cccc cccc."
            ]
        );
        let chunks = RecursiveChunker::new(12, 6).chunk("one two three four five six seven");
        check("one two three four five six seven", &chunks, 12);
        assert!(
            chunks.windows(2).any(|w| w[0].bytes.end > w[1].bytes.start),
            "overlap present"
        );
    }

    #[test]
    fn no_separators_cuts_characters() {
        let text = "x".repeat(25) + "ü".repeat(10).as_str();
        let chunks = RecursiveChunker::new(10, 0).chunk(&text);
        check(&text, &chunks, 10);
        assert_eq!(chunks.len(), 4);
    }
}
