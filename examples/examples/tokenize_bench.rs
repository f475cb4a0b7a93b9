//! Tokenization throughput: `ai-infer`'s WordPiece fast path against the `tokenizers` crate it
//! replaces for plain ASCII text, measured in one process.
//!
//! ```text
//! scripts/bench_tokenize.sh
//! cargo run --release -p examples --example tokenize_bench -- TOKENIZER_JSON SENTENCES_FILE [CORPUS...]
//! ```
//!
//! `SENTENCES_FILE` is the embedding benchmark's (JSON arrays of strings per line: `uniform`,
//! then `mixed`); each `CORPUS` file is read as paragraphs (blank-line separated) or, for
//! `.jsonl`, as the `text` field of each line. Prints one JSON object per measurement: texts
//! per second on one thread (`TOKENIZERS_PARALLELISM=false` is set by the program for that) and
//! on every core, for calls of 1 024 texts, and the ratio.

use std::time::Instant;

use ai_infer::TextTokenizer;
use serde_json::{Value, json};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn read_sets(sentences: &str, corpora: &[String]) -> Result<Vec<(String, Vec<String>)>, String> {
    let text = std::fs::read_to_string(sentences).map_err(|e| format!("{sentences}: {e}"))?;
    let mut sets = Vec::new();
    for (name, line) in ["uniform", "mixed"].iter().zip(text.lines()) {
        let v: Vec<String> = serde_json::from_str(line).map_err(|e| e.to_string())?;
        sets.push(((*name).to_string(), v));
    }
    for path in corpora {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        let texts: Vec<String> = if path.ends_with(".jsonl") {
            text.lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter_map(|v| v["text"].as_str().map(str::to_string))
                .collect()
        } else {
            text.split("\n\n")
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect()
        };
        let name = std::path::Path::new(path)
            .file_name()
            .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned());
        sets.push((name, texts));
    }
    Ok(sets)
}

/// Texts per second over at least `min_texts` texts (the set repeated), calls of 1 024.
fn rate(texts: &[String], min_texts: usize, f: impl Fn(&[&str]) -> usize) -> f64 {
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let all: Vec<&str> = refs
        .iter()
        .copied()
        .cycle()
        .take(min_texts.max(refs.len()))
        .collect();
    f(&all[..all.len().min(1024)]);
    let start = Instant::now();
    let mut tokens = 0;
    for call in all.chunks(1024) {
        tokens += f(call);
    }
    std::hint::black_box(tokens);
    all.len() as f64 / start.elapsed().as_secs_f64()
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [tokenizer, sentences, corpora @ ..] = args.as_slice() else {
        return Err("usage: tokenize_bench TOKENIZER_JSON SENTENCES_FILE [CORPUS...]".into());
    };
    let tok = TextTokenizer::from_file(std::path::Path::new(tokenizer), 256)
        .map_err(|e| e.to_string())?;
    if !tok.has_fast_path() {
        return Err(format!("{tokenizer}: no fast path for this tokenizer"));
    }
    let sets = read_sets(sentences, corpora)?;
    let fast = |t: &[&str]| {
        tok.encode_batch(t)
            .map_or(0, |e| e.iter().map(|e| e.len()).sum())
    };
    let general = |t: &[&str]| {
        tok.encode_batch_general(t)
            .map_or(0, |e| e.iter().map(|e| e.len()).sum())
    };
    for parallel in [false, true] {
        tokenizers::parallelism::set_parallelism(parallel);
        for (name, texts) in &sets {
            let plain = texts.iter().filter(|t| tok.takes_fast_path(t)).count();
            let tokens: usize = fast(&texts.iter().map(String::as_str).collect::<Vec<_>>());
            let g = rate(texts, 20_000, general);
            let f = rate(texts, 20_000, fast);
            // Cross-encoder input: a fixed query with each text as the document.
            let query = "how do I get a refund for an order that arrived damaged?";
            let pairs_general = |t: &[&str]| {
                let p: Vec<(&str, &str)> = t.iter().map(|d| (query, *d)).collect();
                tok.encode_pairs_general(&p)
                    .map_or(0, |e| e.iter().map(|e| e.len()).sum())
            };
            let pairs_fast = |t: &[&str]| {
                let p: Vec<(&str, &str)> = t.iter().map(|d| (query, *d)).collect();
                tok.encode_pairs(&p)
                    .map_or(0, |e| e.iter().map(|e| e.len()).sum())
            };
            let pg = rate(texts, 20_000, pairs_general);
            let pf = rate(texts, 20_000, pairs_fast);
            println!(
                "{}",
                json!({
                    "measure": "tokenize", "set": name, "threads": if parallel { "all" } else { "1" },
                    "texts": texts.len(), "fast_path_share": plain as f64 / texts.len() as f64,
                    "mean_tokens": tokens as f64 / texts.len() as f64,
                    "general_per_s": g, "fast_per_s": f, "ratio": f / g,
                    "pairs_general_per_s": pg, "pairs_fast_per_s": pf, "pairs_ratio": pf / pg,
                })
            );
        }
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tokenize_bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
