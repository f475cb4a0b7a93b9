//! Differential fuzzing of the WordPiece fast path: on any UTF-8 input, `encode_batch` (fast path
//! where it applies) must equal `encode_batch_general` (the `tokenizers` crate alone), and
//! `encode_pairs` must equal `encode_pairs_general` on the input split in two.
//!
//! `AI_FUZZ_TOKENIZER` names a BERT `tokenizer.json` (default: the all-MiniLM-L6-v2 one that
//! `scripts/models.sh install` provisions). Run from `ai-infer/`:
//! `cargo +nightly fuzz run wordpiece -O -- -max_total_time=300`.
#![no_main]

use std::sync::OnceLock;

use ai_infer::TextTokenizer;
use libfuzzer_sys::fuzz_target;

fn tokenizers() -> &'static [TextTokenizer; 2] {
    static TOK: OnceLock<[TextTokenizer; 2]> = OnceLock::new();
    TOK.get_or_init(|| {
        let path = std::env::var("AI_FUZZ_TOKENIZER").unwrap_or_else(|_| {
            "../.cache/models/all-MiniLM-L6-v2-fp32/tokenizer.json".to_string()
        });
        let load = |max| TextTokenizer::from_file(std::path::Path::new(&path), max).unwrap();
        let tokenizers = [load(256), load(13)];
        assert!(tokenizers.iter().all(TextTokenizer::has_fast_path));
        tokenizers
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for tok in tokenizers() {
        let fast = tok.encode_batch(&[text]).unwrap();
        let general = tok.encode_batch_general(&[text]).unwrap();
        assert_eq!(fast, general, "{text:?}");
        let mut cut = text.len() / 3;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let pair = [(&text[..cut], &text[cut..])];
        let fast = tok.encode_pairs(&pair).unwrap();
        let general = tok.encode_pairs_general(&pair).unwrap();
        assert_eq!(fast, general, "{pair:?}");
    }
});
