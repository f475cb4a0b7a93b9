//! Prompt-injection detection quality on JSON Lines with `text`, `label` (1 attack, 0 benign)
//! and optional `source`, at the shipped threshold.
//!
//! ```sh
//! cargo run --release -p ai-guard --example eval_injection -- FILE.jsonl [--threshold T] [--rules-only]
//! ```
//!
//! Prints TPR, FPR, precision and F1 overall and per source (a source with only attacks has
//! no FPR; one with only benign rows has no TPR).
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;

use ai_guard::injection::InjectionScorer;

#[derive(Default, Clone, Copy)]
struct C {
    tp: usize,
    fp: usize,
    tn: usize,
    fn_: usize,
}

fn ratio(a: usize, b: usize) -> String {
    if b == 0 {
        "    -".into()
    } else {
        format!("{:.3}", a as f64 / b as f64)
    }
}

fn line(name: &str, c: C) {
    let p = c.tp as f64 / (c.tp + c.fp).max(1) as f64;
    let r = c.tp as f64 / (c.tp + c.fn_).max(1) as f64;
    let f1 = if c.tp + c.fn_ == 0 || p + r == 0.0 {
        "    -".into()
    } else {
        format!("{:.3}", 2.0 * p * r / (p + r))
    };
    println!(
        "{name:<30} {:>6} {:>6} | {:>6} {:>6} {:>9} {:>6}",
        c.tp + c.fn_,
        c.fp + c.tn,
        ratio(c.tp, c.tp + c.fn_),
        ratio(c.fp, c.fp + c.tn),
        ratio(c.tp, c.tp + c.fp),
        f1
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: eval_injection FILE.jsonl [--threshold T] [--rules-only]")?;
    let mut scorer = InjectionScorer::default();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threshold" => {
                let t = args.next().ok_or("--threshold T")?.parse()?;
                scorer = scorer.threshold(t);
            }
            "--rules-only" => scorer = InjectionScorer::rules_only(),
            other => return Err(format!("unexpected argument {other}").into()),
        }
    }
    let verbose = std::env::var_os("EVAL_VERBOSE").is_some();
    let mut by_source: BTreeMap<String, C> = BTreeMap::new();
    let mut all = C::default();
    let start = std::time::Instant::now();
    let mut bytes = 0usize;
    for l in std::fs::read_to_string(&path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let v: serde_json::Value = serde_json::from_str(l)?;
        let (Some(text), Some(label)) = (v["text"].as_str(), v["label"].as_i64()) else {
            continue;
        };
        bytes += text.len();
        let source = v["source"].as_str().unwrap_or("-").to_owned();
        let verdict = scorer.score(text);
        let c = by_source.entry(source.clone()).or_default();
        for c in [c, &mut all] {
            match (verdict.attack, label > 0) {
                (true, true) => c.tp += 1,
                (false, true) => c.fn_ += 1,
                (true, false) => c.fp += 1,
                (false, false) => c.tn += 1,
            }
        }
        if verbose && verdict.attack != (label > 0) {
            let names: Vec<&str> = verdict.signals.iter().take(3).map(|s| s.name).collect();
            println!(
                "{} {source} {:.3} {names:?}: {:?}",
                if label > 0 { "missed" } else { "false " },
                verdict.score,
                text.chars().take(120).collect::<String>()
            );
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "threshold {:.4}; {:.1} MB/s\n",
        scorer.current_threshold(),
        bytes as f64 / secs / 1e6
    );
    println!(
        "{:<30} {:>6} {:>6} | {:>6} {:>6} {:>9} {:>6}",
        "source", "attack", "benign", "TPR", "FPR", "precision", "F1"
    );
    for (s, c) in &by_source {
        line(s, *c);
    }
    line("overall", all);
    Ok(())
}
