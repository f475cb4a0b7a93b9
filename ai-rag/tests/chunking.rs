//! Chunker invariants on real text: lossless reassembly, valid UTF-8 boundaries, size limits,
//! determinism.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_rag::chunk::{Chunk, Chunker, FixedChunker, MarkdownChunker, RecursiveChunker};

fn check(text: &str, chunks: &[Chunk], max: usize) {
    assert_eq!(chunks[0].bytes.start, 0);
    assert_eq!(chunks.last().unwrap().bytes.end, text.len());
    let mut rebuilt = String::with_capacity(text.len());
    for (i, c) in chunks.iter().enumerate() {
        let end = chunks.get(i + 1).map_or(text.len(), |n| n.bytes.start);
        assert!(end > c.bytes.start && end <= c.bytes.end, "chunk {i}");
        rebuilt.push_str(&text[c.bytes.start..end]);
        assert!(
            c.text(text).chars().count() <= max,
            "chunk {i} exceeds {max}"
        );
        assert_eq!(c.chars.end - c.chars.start, c.text(text).chars().count());
    }
    assert_eq!(rebuilt, text);
}

fn texts() -> Vec<(&'static str, String)> {
    vec![
        ("moby", include_str!("data/moby_dick_part.txt").to_string()),
        (
            "rust book",
            include_str!("data/rust_book_ch08-02-strings.md").to_string(),
        ),
        ("no separators", "ä".repeat(5000)),
        (
            "crlf",
            "line one\r\nline two\r\n\r\nparagraph two\r\n".repeat(200),
        ),
    ]
}

#[test]
fn recursive_default_on_real_text() {
    for (name, text) in texts() {
        let chunker = RecursiveChunker::default();
        let chunks = chunker.chunk(&text);
        check(&text, &chunks, 1000);
        assert_eq!(chunks, chunker.chunk(&text), "{name}: deterministic");
        // Overlap: whole pieces (sentences, lines, paragraphs) that fit in 200 characters are
        // repeated at the start of the next chunk, as LangChain does; boundaries at the edge of
        // a split paragraph or with a long trailing piece have none.
        let overlapping = chunks
            .windows(2)
            .filter(|w| w[0].bytes.end > w[1].bytes.start)
            .count();
        if chunks.len() > 3 && name != "no separators" {
            assert!(overlapping > 0, "{name}: no overlap at all");
        }
        for w in chunks.windows(2) {
            let shared = w[0].chars.end.saturating_sub(w[1].chars.start);
            assert!(shared <= 200, "{name}: overlap {shared}");
        }
    }
}

#[test]
fn other_chunkers_on_real_text() {
    for (_, text) in texts() {
        for (size, overlap) in [(300, 50), (1000, 0)] {
            check(&text, &FixedChunker::new(size, overlap).chunk(&text), size);
            check(
                &text,
                &MarkdownChunker::new(size, overlap).chunk(&text),
                size,
            );
            check(
                &text,
                &RecursiveChunker::new(size, overlap).chunk(&text),
                size,
            );
        }
    }
}

#[test]
fn markdown_keeps_code_fences_whole_when_they_fit() {
    let text = include_str!("data/rust_book_ch08-02-strings.md");
    let chunks = MarkdownChunker::new(1500, 0).chunk(text);
    check(text, &chunks, 1500);
    for c in &chunks {
        let fences = c
            .text(text)
            .lines()
            .filter(|l| l.trim_start().starts_with("```"))
            .count();
        assert_eq!(fences % 2, 0, "a fence was split: {:?}", c.text(text));
    }
}
