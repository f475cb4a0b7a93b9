//! PII detection quality on JSON Lines cases: `text`, and `spans` with `entity_type`, `start`
//! and `end` as Unicode code-point offsets (the format of Presidio's recognizer tests).
//!
//! ```sh
//! cargo run --release -p ai-guard --example eval_pii -- FILE.jsonl [--regions US,GB,...]
//! ```
//!
//! Prints precision, recall and F1 per entity type, for exact span matches and for overlapping
//! ones, and overall. Only the types this crate recognizes count; rows flagged
//! `conflicting_expectations_for_same_text` or `positions_unknown`, or whose `expected_count`
//! differs from the number of spans given, are skipped. A finding that
//! lands on a gold span of a type this crate does not recognize (a Turkish licence plate, a
//! date) is reported in its own column instead of as a false positive.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;

use ai_guard::pii::{BuiltinConfig, PiiDetector, PiiKind};
use serde_json::Value;

fn ours(name: &str) -> Option<PiiKind> {
    Some(match name {
        "EMAIL_ADDRESS" | "EMAIL" => PiiKind::Email,
        "PHONE_NUMBER" | "PHONE" => PiiKind::Phone,
        "CREDIT_CARD" => PiiKind::CreditCard,
        "US_SSN" => PiiKind::UsSsn,
        "IBAN_CODE" | "IBAN" => PiiKind::Iban,
        "IP_ADDRESS" => PiiKind::IpAddress,
        _ => return None,
    })
}

#[derive(Default)]
struct Counts {
    tp_exact: usize,
    tp_overlap: usize,
    found: usize,
    gold: usize,
    gold_hit_overlap: usize,
    other_type: usize,
}

fn prf(tp_pred: usize, found: usize, tp_gold: usize, gold: usize) -> (f64, f64, f64) {
    let p = if found == 0 {
        1.0
    } else {
        tp_pred as f64 / found as f64
    };
    let r = if gold == 0 {
        1.0
    } else {
        tp_gold as f64 / gold as f64
    };
    let f = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    (p, r, f)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: eval_pii FILE.jsonl [--regions US,GB,...]")?;
    let mut config = BuiltinConfig::default();
    while let Some(a) = args.next() {
        if a == "--regions" {
            let list = args.next().ok_or("--regions needs a list")?;
            config.phone_regions = list.split(',').map(str::to_owned).collect();
        }
    }
    let detector = PiiDetector::new(config);
    let text = std::fs::read_to_string(&path)?;
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    let (mut rows, mut skipped) = (0, 0);
    let mut misses = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let row: Value = serde_json::from_str(line)?;
        if row
            .get("conflicting_expectations_for_same_text")
            .is_some_and(|v| v.as_bool() == Some(true))
        {
            skipped += 1;
            continue;
        }
        let spans = row["spans"].as_array().cloned().unwrap_or_default();
        let count_differs = row["expected_count"]
            .as_u64()
            .is_some_and(|n| n as usize != spans.len());
        if count_differs
            || spans.iter().any(|s| {
                s.get("positions_unknown")
                    .is_some_and(|v| v.as_bool() == Some(true))
            })
        {
            skipped += 1;
            continue;
        }
        rows += 1;
        let Some(t) = row["text"].as_str() else {
            continue;
        };
        let gold: Vec<(String, usize, usize)> = spans
            .iter()
            .filter_map(|s| {
                Some((
                    s["entity_type"].as_str()?.to_owned(),
                    s["start"].as_u64()? as usize,
                    s["end"].as_u64()? as usize,
                ))
            })
            .collect();
        let found = detector.detect(t);
        for (ty, start, end) in &gold {
            let Some(kind) = ours(ty) else { continue };
            let c = counts.entry(kind.to_string()).or_default();
            c.gold += 1;
            if found
                .iter()
                .any(|f| f.kind == kind && f.chars.start < *end && *start < f.chars.end)
            {
                c.gold_hit_overlap += 1;
            } else {
                misses.push(format!(
                    "missed {kind}: {:?}",
                    t.chars().skip(*start).take(end - start).collect::<String>()
                ));
            }
        }
        for f in &found {
            let c = counts.entry(f.kind.to_string()).or_default();
            let same_kind = |g: &&(String, usize, usize)| ours(&g.0).as_ref() == Some(&f.kind);
            let exact = gold
                .iter()
                .filter(same_kind)
                .any(|g| g.1 == f.chars.start && g.2 == f.chars.end);
            let overlap = gold
                .iter()
                .filter(same_kind)
                .any(|g| g.1 < f.chars.end && f.chars.start < g.2);
            let other = gold
                .iter()
                .any(|g| ours(&g.0).is_none() && g.1 < f.chars.end && f.chars.start < g.2);
            if other && !overlap {
                c.other_type += 1;
                continue;
            }
            c.found += 1;
            c.tp_exact += usize::from(exact);
            c.tp_overlap += usize::from(overlap);
            if overlap && !exact {
                misses.push(format!(
                    "inexact {}: {:?} in {:?}",
                    f.kind,
                    &t[f.bytes.clone()],
                    t.chars().take(80).collect::<String>()
                ));
            }
            if !overlap {
                misses.push(format!(
                    "false {}: {:?} in {:?}",
                    f.kind,
                    &t[f.bytes.clone()],
                    t.chars().take(80).collect::<String>()
                ));
            }
        }
    }
    println!("{rows} rows ({skipped} skipped)\n");
    println!(
        "{:<12} {:>5} {:>6} | {:>9} {:>7} {:>6} | {:>9} {:>7} {:>6} | {:>10}",
        "type",
        "gold",
        "found",
        "P exact",
        "R exact",
        "F1",
        "P overlap",
        "R overl.",
        "F1",
        "other type"
    );
    let mut total = Counts::default();
    for (kind, c) in &counts {
        // Exact recall: gold spans matched exactly = exact true positives (one finding per span).
        let (pe, re, fe) = prf(c.tp_exact, c.found, c.tp_exact, c.gold);
        let (po, ro, fo) = prf(c.tp_overlap, c.found, c.gold_hit_overlap, c.gold);
        println!(
            "{kind:<12} {:>5} {:>6} | {pe:>9.3} {re:>7.3} {fe:>6.3} | {po:>9.3} {ro:>7.3} {fo:>6.3} | {:>10}",
            c.gold, c.found, c.other_type
        );
        total.gold += c.gold;
        total.found += c.found;
        total.tp_exact += c.tp_exact;
        total.tp_overlap += c.tp_overlap;
        total.gold_hit_overlap += c.gold_hit_overlap;
        total.other_type += c.other_type;
    }
    let (pe, re, fe) = prf(total.tp_exact, total.found, total.tp_exact, total.gold);
    let (po, ro, fo) = prf(
        total.tp_overlap,
        total.found,
        total.gold_hit_overlap,
        total.gold,
    );
    println!(
        "{:<12} {:>5} {:>6} | {pe:>9.3} {re:>7.3} {fe:>6.3} | {po:>9.3} {ro:>7.3} {fo:>6.3} | {:>10}",
        "overall", total.gold, total.found, total.other_type
    );
    if std::env::var_os("EVAL_VERBOSE").is_some() {
        for m in misses {
            println!("{m}");
        }
    }
    Ok(())
}
