//! Throughput of the PII detector and the prompt-injection scorer on real text.
//!
//! ```sh
//! cargo run --release -p ai-guard --example guard_bench -- FILE...
//! ```
//!
//! Prints one JSON line per file: PII detection MB/s over the whole text and over 8 KB
//! pieces, and injection scoring MB/s over 2 KB pieces (a long prompt), with the findings
//! count; then the cost of each scorer stage. One thread.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use ai_guard::injection::classifier::Features;
use ai_guard::injection::{InjectionScorer, heuristics, normalize};
use ai_guard::pii::PiiDetector;

fn pieces(text: &str, size: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + size).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push(&text[start..end]);
        start = end;
    }
    out
}

fn rate(bytes: usize, f: impl Fn() -> usize) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut n = 0;
    for _ in 0..3 {
        let t = Instant::now();
        n = f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    (bytes as f64 / best / 1e6, n)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let detector = PiiDetector::default();
    let scorer = InjectionScorer::default();
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path)?;
        let n = text.len();
        let (whole, found) = rate(n, || detector.detect(&text).len());
        let p8 = pieces(&text, 8192);
        let (docs, _) = rate(n, || p8.iter().map(|p| detector.detect(p).len()).sum());
        let p2 = pieces(&text, 2048);
        let (inj, flagged) = rate(n, || p2.iter().filter(|p| scorer.score(p).attack).count());
        let (norm, _) = rate(n, || p2.iter().map(|p| normalize(p).text.len()).sum());
        let normalized: Vec<String> = p2.iter().map(|p| normalize(p).text).collect();
        let (rules, _) = rate(n, || {
            normalized
                .iter()
                .map(|p| heuristics::signals(p).len())
                .sum()
        });
        let (feats, _) = rate(n, || {
            normalized
                .iter()
                .map(|p| Features::of(p, &[], 18).ngrams.len())
                .sum()
        });
        let file = std::path::Path::new(&path)
            .file_name()
            .map_or(path.clone(), |f| f.to_string_lossy().into_owned());
        println!(
            "{{\"file\": \"{file}\", \"bytes\": {n}, \"pii_whole_mb_s\": {whole:.1}, \"pii_8kb_mb_s\": {docs:.1}, \"pii_findings\": {found}, \"injection_mb_s\": {inj:.1}, \"injection_flagged_2kb_pieces\": {flagged}, \"stage_normalize_mb_s\": {norm:.1}, \"stage_rules_mb_s\": {rules:.1}, \"stage_features_mb_s\": {feats:.1}}}"
        );
    }
    Ok(())
}
