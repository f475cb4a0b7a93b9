//! Markdown-aware chunking: headings start chunks; code fences and tables stay whole where
//! they fit.

use std::sync::Arc;

use super::recursive::RecursiveChunker;
use super::{Atom, Chunk, Chunker, merge};
use crate::chunk::sizer::{CharSizer, Sizer};

/// Splits Markdown into blocks (headings, fenced code, tables, paragraphs), keeps each block
/// whole when it fits, splits larger ones recursively (code by lines), and merges blocks into
/// chunks that never cross a heading: each heading starts a new chunk, so sections stay
/// together.
///
/// ```
/// use ai_rag::chunk::{Chunker, MarkdownChunker};
/// let md = "# Title\n\nIntro.\n\n## Part\n\n```rust\nfn main() {}\n```\n";
/// let chunks = MarkdownChunker::new(200, 0).chunk(md);
/// assert_eq!(chunks.len(), 2);
/// assert!(chunks[1].text(md).starts_with("## Part"));
/// ```
#[derive(Clone)]
pub struct MarkdownChunker {
    size: usize,
    overlap: usize,
    sizer: Arc<dyn Sizer>,
    prose: RecursiveChunker,
    code: RecursiveChunker,
}

impl std::fmt::Debug for MarkdownChunker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MarkdownChunker")
            .field("size", &self.size)
            .field("overlap", &self.overlap)
            .finish()
    }
}

impl MarkdownChunker {
    /// Chunks of at most `size` characters with about `overlap` characters of overlap inside a
    /// section.
    pub fn new(size: usize, overlap: usize) -> Self {
        let size = size.max(1);
        Self {
            size,
            overlap: overlap.min(size / 2),
            sizer: Arc::new(CharSizer),
            prose: RecursiveChunker::new(size, overlap),
            code: RecursiveChunker::new(size, overlap).separators(vec!["\n".into(), " ".into()]),
        }
    }

    /// Measure size with `sizer` (for example tokens).
    pub fn sizer(mut self, sizer: Arc<dyn Sizer>) -> Self {
        self.prose = self.prose.sizer(sizer.clone());
        self.code = self.code.sizer(sizer.clone());
        self.sizer = sizer;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Heading,
    Code,
    Table,
    Prose,
}

fn is_heading(line: &str) -> bool {
    let hashes = line.bytes().take_while(|&b| b == b'#').count();
    (1..=6).contains(&hashes) && line[hashes..].starts_with([' ', '\t', '\n', '\r'])
}

fn fence(line: &str) -> Option<&str> {
    let t = line.trim_start();
    if t.starts_with("```") {
        Some("```")
    } else if t.starts_with("~~~") {
        Some("~~~")
    } else {
        None
    }
}

/// Split into (kind, byte range) blocks covering the text.
fn blocks(text: &str) -> Vec<(Block, usize, usize)> {
    let mut out: Vec<(Block, usize, usize)> = Vec::new();
    let mut lines = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        lines.push((at, line));
        at += line.len();
    }
    let mut i = 0;
    let push = |out: &mut Vec<(Block, usize, usize)>, kind: Block, s: usize, e: usize| {
        // Consecutive prose lines (and blank lines) form one block.
        if let Some(last) = out.last_mut()
            && kind == Block::Prose
            && last.0 == Block::Prose
            && last.2 == s
        {
            last.2 = e;
            return;
        }
        out.push((kind, s, e));
    };
    while i < lines.len() {
        let (s, line) = lines[i];
        if let Some(marker) = fence(line) {
            let mut j = i + 1;
            while j < lines.len() && !lines[j].1.trim_start().starts_with(marker) {
                j += 1;
            }
            let last = j.min(lines.len() - 1);
            push(
                &mut out,
                Block::Code,
                s,
                lines[last].0 + lines[last].1.len(),
            );
            i = last + 1;
        } else if is_heading(line) {
            push(&mut out, Block::Heading, s, s + line.len());
            i += 1;
        } else if line.trim_start().starts_with('|') {
            let mut j = i;
            while j < lines.len() && lines[j].1.trim_start().starts_with('|') {
                j += 1;
            }
            push(
                &mut out,
                Block::Table,
                s,
                lines[j - 1].0 + lines[j - 1].1.len(),
            );
            i = j;
        } else {
            // A blank line ends a paragraph; the next paragraph starts a new prose run, but
            // consecutive prose is merged by `push` (paragraph splits happen in the recursive
            // splitter).
            push(&mut out, Block::Prose, s, s + line.len());
            i += 1;
        }
    }
    out
}

impl Chunker for MarkdownChunker {
    fn chunk(&self, text: &str) -> Vec<Chunk> {
        if text.is_empty() {
            return Vec::new();
        }
        let mut atoms: Vec<Atom> = Vec::new();
        for (kind, s, e) in blocks(text) {
            let piece = &text[s..e];
            let size = self.sizer.size(piece);
            let first = atoms.len();
            if size <= self.size && kind != Block::Prose {
                atoms.push(Atom {
                    bytes: s..e,
                    chars: CharSizer.size(piece),
                    size,
                    hard_break: false,
                });
            } else {
                let splitter = if kind == Block::Code {
                    &self.code
                } else {
                    &self.prose
                };
                splitter.atoms(text, s, e, 0, &mut atoms);
            }
            if kind == Block::Heading
                && let Some(a) = atoms.get_mut(first)
            {
                a.hard_break = true;
            }
        }
        merge(&atoms, self.size, self.overlap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::testing::check;

    const DOC: &str = "# Guide\n\nSome intro text that explains things.\n\n## Install\n\nRun this:\n\n```sh\ncargo add ai-core\ncargo build\n```\n\n| feature | default |\n|---|---|\n| openai | on |\n\n## Use\n\nCall the model. Then read the answer. Repeat until done.\n";

    #[test]
    fn sections_and_blocks_stay_together() {
        let chunks = MarkdownChunker::new(200, 0).chunk(DOC);
        check(DOC, &chunks, 200);
        let texts: Vec<&str> = chunks.iter().map(|c| c.text(DOC)).collect();
        assert!(texts[0].starts_with("# Guide"));
        assert!(texts.iter().any(|t| t.starts_with("## Install")
            && t.contains("cargo build\n```")
            && t.contains("| openai | on |")));
        assert!(texts.last().unwrap().starts_with("## Use"));
    }

    #[test]
    fn large_blocks_are_split_and_invariants_hold() {
        let big_code = format!("```\n{}```\n", "let x = 1;\n".repeat(50));
        let doc = format!("# A\n\n{big_code}\n## B\n\n{}\n", "word ".repeat(100));
        for (size, overlap) in [(40, 0), (40, 10), (100, 20), (5000, 0)] {
            let chunks = MarkdownChunker::new(size, overlap).chunk(&doc);
            check(&doc, &chunks, size);
        }
        let chunks = MarkdownChunker::new(5000, 0).chunk(&doc);
        assert_eq!(
            chunks.len(),
            2,
            "one chunk per section when everything fits"
        );
    }
}
