//! Chunking throughput: ai-rag's recursive chunker (1 000 / 200) against the `text-splitter`
//! crate, on whole files and on 8 KB documents. `scripts/bench_chunking.sh` adds LangChain.
//!
//! ```text
//! cargo run --release -p ai-rag --example chunk_bench -- FILE...
//! ```

use std::time::Instant;

use ai_rag::chunk::{Chunker, RecursiveChunker};

fn mb_per_s(bytes: usize, f: impl Fn()) -> f64 {
    f(); // warm up
    let mut runs = 0;
    let start = Instant::now();
    while runs < 3 || start.elapsed().as_secs_f64() < 1.0 {
        f();
        runs += 1;
    }
    bytes as f64 * runs as f64 / start.elapsed().as_secs_f64() / 1e6
}

/// Cut a text into documents of about 8 KB at character boundaries.
fn documents(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + 8192).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push(&text[start..end]);
        start = end;
    }
    out
}

fn main() {
    let ours = RecursiveChunker::new(1000, 200);
    let theirs = text_splitter::TextSplitter::new(
        text_splitter::ChunkConfig::new(1000)
            .with_overlap(200)
            .unwrap_or_else(|_| text_splitter::ChunkConfig::new(1000)),
    );
    println!(
        "{:<40} {:>9} {:>12} {:>12} {:>14} {:>14}",
        "file", "MB", "ours whole", "ours 8KB", "crate whole", "crate 8KB"
    );
    for path in std::env::args().skip(1) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("cannot read {path}");
            continue;
        };
        let docs = documents(&text);
        let n = text.len();
        let ours_whole = mb_per_s(n, || {
            std::hint::black_box(ours.chunk(&text));
        });
        let ours_docs = mb_per_s(n, || {
            for d in &docs {
                std::hint::black_box(ours.chunk(d));
            }
        });
        let crate_docs = mb_per_s(n, || {
            for d in &docs {
                std::hint::black_box(theirs.chunk_indices(d).count());
            }
        });
        // The crate slows down sharply on long strings; measure whole files only when small.
        let crate_whole = if n <= 1_300_000 {
            format!(
                "{:.1}",
                mb_per_s(n, || {
                    std::hint::black_box(theirs.chunk_indices(&text).count());
                })
            )
        } else {
            "skipped".into()
        };
        let name = std::path::Path::new(&path)
            .file_name()
            .map_or(path.clone(), |f| f.to_string_lossy().into_owned());
        println!(
            "{name:<40} {:>9.2} {ours_whole:>12.1} {ours_docs:>12.1} {crate_whole:>14} {crate_docs:>14.1}",
            n as f64 / 1e6
        );
        println!(
            "{}",
            serde_json::json!({"file": name, "bytes": n, "ours_whole_mb_s": ours_whole, "ours_docs_mb_s": ours_docs, "crate_docs_mb_s": crate_docs})
        );
    }
}
