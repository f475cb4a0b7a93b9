//! Detection quality on the project's realistic sentences (`tests/data/pii_realistic.jsonl`,
//! written for this project, personal data mixed with look-alikes) and on the shared
//! Presidio cases for the kinds where those cases are realistic (e-mail, card, IBAN, IP).
//! The detector is deterministic, so these are plain assertions, not timings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use ai_guard::pii::{PiiDetector, PiiKind};

fn kind(name: &str) -> Option<PiiKind> {
    Some(match name {
        "EMAIL_ADDRESS" => PiiKind::Email,
        "PHONE_NUMBER" => PiiKind::Phone,
        "CREDIT_CARD" => PiiKind::CreditCard,
        "US_SSN" => PiiKind::UsSsn,
        "IBAN_CODE" => PiiKind::Iban,
        "IP_ADDRESS" => PiiKind::IpAddress,
        _ => return None,
    })
}

/// Exact-span F1 per kind over rows whose spans are all known.
fn f1_by_kind(jsonl: &str) -> BTreeMap<String, (usize, usize, usize, f64)> {
    let detector = PiiDetector::default();
    let mut counts: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for line in jsonl.lines().filter(|l| !l.is_empty()) {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let spans = row["spans"].as_array().unwrap();
        if row["conflicting_expectations_for_same_text"].as_bool() == Some(true)
            || row["expected_count"].as_u64() != Some(spans.len() as u64)
            || spans
                .iter()
                .any(|s| s["positions_unknown"].as_bool() == Some(true))
        {
            continue;
        }
        let text = row["text"].as_str().unwrap();
        let gold: Vec<(PiiKind, usize, usize)> = spans
            .iter()
            .filter_map(|s| {
                Some((
                    kind(s["entity_type"].as_str()?)?,
                    s["start"].as_u64()? as usize,
                    s["end"].as_u64()? as usize,
                ))
            })
            .collect();
        let others: Vec<(usize, usize)> = spans
            .iter()
            .filter(|s| kind(s["entity_type"].as_str().unwrap()).is_none())
            .map(|s| {
                (
                    s["start"].as_u64().unwrap() as usize,
                    s["end"].as_u64().unwrap() as usize,
                )
            })
            .collect();
        let found = detector.detect(text);
        for g in &gold {
            let c = counts.entry(g.0.to_string()).or_default();
            c.2 += 1;
            if found.iter().any(|f| f.kind == g.0 && f.chars == (g.1..g.2)) {
                c.0 += 1;
            }
        }
        for f in &found {
            let on_other = others
                .iter()
                .any(|o| o.0 < f.chars.end && f.chars.start < o.1);
            if !on_other {
                counts.entry(f.kind.to_string()).or_default().1 += 1;
            }
        }
    }
    counts
        .into_iter()
        .map(|(k, (tp, found, gold))| {
            let p = tp as f64 / found.max(1) as f64;
            let r = tp as f64 / gold.max(1) as f64;
            let f1 = if p + r == 0.0 {
                0.0
            } else {
                2.0 * p * r / (p + r)
            };
            (k, (tp, found, gold, f1))
        })
        .collect()
}

#[test]
fn realistic_sentences_reach_the_target() {
    let scores = f1_by_kind(include_str!("data/pii_realistic.jsonl"));
    for k in [
        "EMAIL",
        "PHONE",
        "CREDIT_CARD",
        "US_SSN",
        "IBAN",
        "IP_ADDRESS",
    ] {
        let (tp, found, gold, f1) = scores[k];
        assert!(
            f1 >= 0.97,
            "{k}: F1 {f1:.3} ({tp} of {gold} found exactly, {found} findings)"
        );
    }
}

#[test]
fn presidio_cases_for_checksummed_kinds() {
    let scores = f1_by_kind(include_str!("data/pii_presidio_cases.jsonl"));
    for k in ["EMAIL", "CREDIT_CARD", "IBAN", "IP_ADDRESS"] {
        let (tp, found, gold, f1) = scores[k];
        assert!(
            f1 >= 0.97,
            "{k}: F1 {f1:.3} ({tp} of {gold}, {found} findings)"
        );
    }
}
