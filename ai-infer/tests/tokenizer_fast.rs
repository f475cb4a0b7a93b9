//! The fast WordPiece path gives exactly what the `tokenizers` crate gives (ids, type ids,
//! offsets, special-token mask, sequence ids) on real text and on generated edge cases, with the
//! all-MiniLM-L6-v2 tokenizer provisioned by `scripts/models.sh install` and variants of it
//! (cased, short word limit, short truncation) (feature `model-tests`).
#![cfg(feature = "model-tests")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use ai_infer::TextTokenizer;
use serde_json::Value;

fn models() -> PathBuf {
    PathBuf::from(std::env::var("AI_INFER_MODELS").expect("AI_INFER_MODELS is not set"))
}

fn minilm_tokenizer() -> PathBuf {
    models().join("all-MiniLM-L6-v2-fp32/tokenizer.json")
}

/// Texts from the repository's test data: prompt-injection prompts (many languages, odd
/// characters), PII cases, a novel and a technical book, the embedding reference sentences.
fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut texts = Vec::new();
    for file in [
        "ai-guard/tests/data/injection_dev.jsonl",
        "ai-guard/tests/data/pii_presidio_cases.jsonl",
        "ai-guard/tests/data/pii_realistic.jsonl",
    ] {
        for line in std::fs::read_to_string(root.join(file)).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            if let Some(t) = v["text"].as_str() {
                texts.push(t.to_string());
            }
        }
    }
    for file in [
        "ai-rag/tests/data/moby_dick_part.txt",
        "ai-rag/tests/data/rust_book_ch08-02-strings.md",
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        texts.extend(text.split("\n\n").map(str::to_string));
        texts.extend(text.lines().map(str::to_string));
    }
    let reference: Value =
        serde_json::from_str(include_str!("data/minilm_reference.json")).unwrap();
    for s in reference["sentences"].as_array().unwrap() {
        texts.push(s.as_str().unwrap().to_string());
    }
    texts
}

/// Random strings built to hit every branch: punctuation runs, all whitespace kinds, control
/// characters, added tokens in any case, long and unknown words, non-ASCII characters.
fn generated(n: usize, seed: u64) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let pieces = [
        "the",
        "embedding",
        "Tokenization",
        "QUANTIZED",
        "xqzjvkw",
        "don't",
        "e-mail",
        "[SEP]",
        "[cls]",
        "[Mask]",
        "[PAD",
        "##",
        "#",
        "...",
        "?!",
        "3.14",
        "1,000",
        "\t",
        "\n",
        "\r\n",
        "  ",
        "\u{b}",
        "\u{c}",
        "\u{0}",
        "\u{7f}",
        "\u{1}",
        "café",
        "naïve",
        "東京",
        "ﬁ",
        "\u{a0}",
        "\u{200b}",
        "😀",
        "Ω",
        "a",
        "I",
        "unaffable",
        "\u{2019}",
        "\u{201c}",
        "\u{201d}",
        "\u{2014}",
        "\u{2013}",
        "\u{2026}",
        "\u{2025}",
        "\u{2027}",
        "\u{2028}",
        "\u{2000}",
        "\u{2001}",
        "\u{200a}",
        "\u{202f}",
        "\u{205f}",
        "\u{3000}",
        "\u{2030}",
        "\u{1680}",
        "\u{fffd}",
    ];
    (0..n)
        .map(|_| {
            let mut s = String::new();
            for _ in 0..rng.usize(0..40) {
                match rng.u8(0..10) {
                    0..=5 => s.push_str(pieces[rng.usize(0..pieces.len())]),
                    6 => s.push(char::from(rng.u8(0x20..0x7f))),
                    7 => {
                        let len = rng.usize(1..160);
                        s.extend((0..len).map(|_| char::from(rng.u8(b'a'..=b'z'))));
                    }
                    _ => s.push(' '),
                }
            }
            s
        })
        .collect()
}

/// Asserts the fast and general paths agree on every text; returns how many took the fast path.
fn assert_same(tok: &TextTokenizer, texts: &[String], what: &str) -> usize {
    assert!(tok.has_fast_path(), "{what}: the fast path is not in use");
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let fast = tok.encode_batch(&refs).unwrap();
    let general = tok.encode_batch_general(&refs).unwrap();
    assert_eq!(fast.len(), general.len());
    for (i, (f, g)) in fast.iter().zip(&general).enumerate() {
        assert_eq!(f, g, "{what}: text {i} {:?}", texts[i]);
    }
    texts.iter().filter(|t| tok.takes_fast_path(t)).count()
}

/// Texts made only of what the fast path takes, without a `[` (added tokens are bracketed).
fn simple(text: &str) -> bool {
    text.chars().all(|c| {
        matches!(c, ' '..='~' | '\t' | '\n' | '\r' | '\u{a0}' | '\u{2000}'..='\u{200a}' | '\u{2010}'..='\u{2027}' | '\u{202f}' | '\u{205f}' | '\u{3000}')
            && c != '['
    })
}

#[test]
fn fast_path_equals_the_tokenizers_crate_on_real_text() {
    let texts = corpus();
    let plain = texts
        .iter()
        .filter(|t| {
            t.bytes()
                .all(|b| matches!(b, 0x20..=0x7e | b'\t' | b'\n' | b'\r'))
        })
        .count();
    assert!(
        texts.len() > 5_000 && plain > 3_000,
        "{} texts, {plain} plain ASCII",
        texts.len()
    );
    let expected = texts.iter().filter(|t| simple(t)).count();
    let accented = "Caf\u{e9} na\u{ef}ve Stra\u{df}e \u{c6}R\u{d8} \u{41f}\u{440}\u{438}\u{432}\u{435}\u{442} \u{3a9}mega \u{2014} \u{201c}ok\u{201d} \u{1f513}unlocked \u{1f916}\u{1f916}";
    let default = TextTokenizer::from_file(&minilm_tokenizer(), 256).unwrap();
    assert!(default.takes_fast_path(accented));
    assert_eq!(
        default.encode_batch(&[accented]).unwrap(),
        default.encode_batch_general(&[accented]).unwrap()
    );
    for max_length in [256, 16, 2] {
        let tok = TextTokenizer::from_file(&minilm_tokenizer(), max_length).unwrap();
        let fast = assert_same(&tok, &texts, &format!("corpus, max_length {max_length}"));
        assert!(
            fast >= expected,
            "{fast} of {} texts took the fast path, expected {expected}",
            texts.len()
        );
    }
}

#[test]
fn fast_path_equals_the_tokenizers_crate_on_generated_edge_cases() {
    let texts = generated(20_000, 7);
    for max_length in [256, 32] {
        let tok = TextTokenizer::from_file(&minilm_tokenizer(), max_length).unwrap();
        let fast = assert_same(&tok, &texts, &format!("generated, max_length {max_length}"));
        assert!(
            fast >= texts.iter().filter(|t| simple(t)).count() && fast > 1_000,
            "{fast}"
        );
    }
}

/// Pairs `(texts[i], texts[j])` with every length relation: short/long, long/short, equal.
fn pairs(texts: &[String], n: usize, seed: u64) -> Vec<(&str, &str)> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..n)
        .map(|_| {
            let a = &texts[rng.usize(0..texts.len())];
            let b = if rng.u8(0..8) == 0 {
                a
            } else {
                &texts[rng.usize(0..texts.len())]
            };
            (a.as_str(), b.as_str())
        })
        .collect()
}

fn assert_same_pairs(tok: &TextTokenizer, pairs: &[(&str, &str)], what: &str) {
    let fast = tok.encode_pairs(pairs).unwrap();
    let general = tok.encode_pairs_general(pairs).unwrap();
    assert_eq!(fast.len(), general.len());
    for (i, (f, g)) in fast.iter().zip(&general).enumerate() {
        assert_eq!(f, g, "{what}: pair {i} {:?}", pairs[i]);
    }
}

#[test]
fn fast_path_equals_the_tokenizers_crate_on_pairs() {
    // Texts cut to 400 bytes (at a character boundary): the crate keeps every truncated-away
    // piece of both texts as "overflowing" encodings and combines them pairwise, which for
    // long texts and short limits takes gigabytes.
    let mut texts: Vec<String> = corpus().into_iter().chain(generated(2_000, 5)).collect();
    for t in &mut texts {
        let mut cut = t.len().min(400);
        while !t.is_char_boundary(cut) {
            cut -= 1;
        }
        t.truncate(cut);
    }
    let many = pairs(&texts, 4_000, 3);
    for max_length in [512, 256, 33, 3] {
        let tok = TextTokenizer::from_file(&minilm_tokenizer(), max_length).unwrap();
        assert_same_pairs(&tok, &many, &format!("pairs, max_length {max_length}"));
    }
    let few = pairs(&texts, 300, 4);
    let tok = TextTokenizer::from_file(&minilm_tokenizer(), 12).unwrap();
    assert_same_pairs(&tok, &few, "pairs, max_length 12");
    let tok = TextTokenizer::from_file(&minilm_tokenizer(), 128).unwrap();
    let query = "How do I reset my password?";
    let doc =
        "To reset your password, open Settings \u{2014} Account and choose \u{201c}Reset\u{201d}.";
    let fast = tok.encode_pairs(&[(query, doc)]).unwrap();
    assert_eq!(fast, tok.encode_pairs_general(&[(query, doc)]).unwrap());
    assert!(fast[0].type_ids.contains(&1), "the document is segment 1");
}

/// Rewrite the MiniLM tokenizer's JSON and load the variant.
fn variant(edit: impl FnOnce(&mut Value), max_length: usize) -> TextTokenizer {
    let mut json: Value =
        serde_json::from_str(&std::fs::read_to_string(minilm_tokenizer()).unwrap()).unwrap();
    edit(&mut json);
    let dir = std::env::temp_dir().join(format!(
        "ai-infer-tok-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokenizer.json");
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    let tok = TextTokenizer::from_file(&path, max_length).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    tok
}

#[test]
fn fast_path_follows_the_tokenizer_settings() {
    let mut texts = corpus();
    texts.truncate(3_000);
    texts.extend(generated(5_000, 11));
    let cased = variant(|j| j["normalizer"]["lowercase"] = Value::Bool(false), 256);
    assert_same(&cased, &texts, "cased");
    let short_words = variant(|j| j["model"]["max_input_chars_per_word"] = 5.into(), 256);
    assert_same(&short_words, &texts, "max_input_chars_per_word 5");
    let no_clean = variant(|j| j["normalizer"]["clean_text"] = Value::Bool(false), 64);
    assert_same(&no_clean, &texts, "clean_text false");
    let keep_accents = variant(
        |j| j["normalizer"]["strip_accents"] = Value::Bool(false),
        256,
    );
    assert_same(&keep_accents, &texts, "strip_accents false");
    let strip_cased = variant(
        |j| {
            j["normalizer"]["strip_accents"] = Value::Bool(true);
            j["normalizer"]["lowercase"] = Value::Bool(false);
        },
        256,
    );
    assert_same(&strip_cased, &texts, "strip_accents true, cased");
    let short: Vec<String> = texts.iter().filter(|t| t.len() <= 400).cloned().collect();
    let pairs = pairs(&short, 2_000, 9);
    assert_same_pairs(&cased, &pairs, "pairs, cased");
    assert_same_pairs(&short_words, &pairs, "pairs, max_input_chars_per_word 5");
}

#[test]
fn other_tokenizers_take_the_general_path() {
    // A byte-level BPE tokenizer (SmolLM2) is not WordPiece: no fast path, same results.
    let tok = TextTokenizer::from_file(
        &models().join("smollm2-135m-instruct-int4/tokenizer.json"),
        256,
    )
    .unwrap();
    assert!(!tok.has_fast_path());
    // A WordPiece tokenizer behind another pre-tokenizer is not taken either.
    let whitespace = variant(
        |j| j["pre_tokenizer"] = serde_json::json!({"type": "Whitespace"}),
        256,
    );
    assert!(!whitespace.has_fast_path());
}
