//! Retrieval evaluation on BEIR-format data: nDCG@k, Recall@k and MRR@k.

use std::collections::HashMap;
use std::path::Path;

use ai_core::{AiError, Result};
use serde::Deserialize;

/// A BEIR dataset: documents, queries and graded relevance judgements.
#[derive(Debug, Clone, Default)]
pub struct BeirData {
    /// `(id, title, text)` per document.
    pub corpus: Vec<(String, String, String)>,
    /// `(id, text)` per query.
    pub queries: Vec<(String, String)>,
    /// Relevance per query id, per document id.
    pub qrels: HashMap<String, HashMap<String, u32>>,
}

#[derive(Deserialize)]
struct CorpusLine {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct QueryLine {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    text: String,
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| AiError::config(format!("cannot read `{}`: {e}", path.display())))
}

/// Read `corpus.jsonl`, `queries.jsonl` and `qrels.tsv` (or `qrels/test.tsv`) from `dir`.
pub fn load_beir(dir: &Path) -> Result<BeirData> {
    let mut data = BeirData::default();
    for (n, line) in read(&dir.join("corpus.jsonl"))?.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let c: CorpusLine = serde_json::from_str(line)
            .map_err(|e| AiError::config(format!("corpus.jsonl line {}: {e}", n + 1)))?;
        data.corpus.push((c.id, c.title, c.text));
    }
    for (n, line) in read(&dir.join("queries.jsonl"))?.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let q: QueryLine = serde_json::from_str(line)
            .map_err(|e| AiError::config(format!("queries.jsonl line {}: {e}", n + 1)))?;
        data.queries.push((q.id, q.text));
    }
    let qrels_path = if dir.join("qrels.tsv").is_file() {
        dir.join("qrels.tsv")
    } else {
        dir.join("qrels").join("test.tsv")
    };
    for (n, line) in read(&qrels_path)?.lines().enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        if n == 0 && cols.first().is_some_and(|c| c.contains("query")) {
            continue;
        }
        if cols.len() < 3 {
            continue;
        }
        let score: u32 = cols[2].trim().parse().map_err(|_| {
            AiError::config(format!("qrels line {}: bad score `{}`", n + 1, cols[2]))
        })?;
        data.qrels
            .entry(cols[0].to_string())
            .or_default()
            .insert(cols[1].to_string(), score);
    }
    Ok(data)
}

/// nDCG@k of a ranking against graded judgements.
pub fn ndcg_at_k(ranking: &[String], relevant: &HashMap<String, u32>, k: usize) -> f64 {
    let gain = |rel: u32| 2f64.powi(rel as i32) - 1.0;
    let dcg: f64 = ranking
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, d)| gain(relevant.get(d).copied().unwrap_or(0)) / (i as f64 + 2.0).log2())
        .sum();
    let mut ideal: Vec<u32> = relevant.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, &r)| gain(r) / (i as f64 + 2.0).log2())
        .sum();
    if idcg == 0.0 { 0.0 } else { dcg / idcg }
}

/// Share of the relevant documents found in the top `k`.
pub fn recall_at_k(ranking: &[String], relevant: &HashMap<String, u32>, k: usize) -> f64 {
    let total = relevant.values().filter(|&&r| r > 0).count();
    if total == 0 {
        return 0.0;
    }
    let found = ranking
        .iter()
        .take(k)
        .filter(|d| relevant.get(*d).is_some_and(|&r| r > 0))
        .count();
    found as f64 / total as f64
}

/// Reciprocal rank of the first relevant document within the top `k` (0 if none).
pub fn mrr_at_k(ranking: &[String], relevant: &HashMap<String, u32>, k: usize) -> f64 {
    ranking
        .iter()
        .take(k)
        .position(|d| relevant.get(d).is_some_and(|&r| r > 0))
        .map_or(0.0, |i| 1.0 / (i as f64 + 1.0))
}

/// Mean nDCG@10, Recall@100 and MRR@10 over the judged queries.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Scores {
    /// Mean nDCG@10.
    pub ndcg_at_10: f64,
    /// Mean Recall@100.
    pub recall_at_100: f64,
    /// Mean MRR@10.
    pub mrr_at_10: f64,
    /// Queries scored.
    pub queries: usize,
}

/// Score rankings (document ids, best first, per query id) against `data`'s judgements.
pub fn score(data: &BeirData, rankings: &HashMap<String, Vec<String>>) -> Scores {
    let mut s = Scores::default();
    for (qid, rel) in &data.qrels {
        if !rel.values().any(|&r| r > 0) {
            continue;
        }
        let empty = Vec::new();
        let ranking = rankings.get(qid).unwrap_or(&empty);
        s.ndcg_at_10 += ndcg_at_k(ranking, rel, 10);
        s.recall_at_100 += recall_at_k(ranking, rel, 100);
        s.mrr_at_10 += mrr_at_k(ranking, rel, 10);
        s.queries += 1;
    }
    if s.queries > 0 {
        let n = s.queries as f64;
        s.ndcg_at_10 /= n;
        s.recall_at_100 /= n;
        s.mrr_at_10 /= n;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(pairs: &[(&str, u32)]) -> HashMap<String, u32> {
        pairs.iter().map(|(d, r)| (d.to_string(), *r)).collect()
    }

    fn ids(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn metrics_on_hand_computed_cases() {
        let r = rel(&[("a", 1), ("b", 1)]);
        // Perfect ranking.
        assert!((ndcg_at_k(&ids(&["a", "b", "c"]), &r, 10) - 1.0).abs() < 1e-12);
        // Relevant at ranks 2 and 3: DCG = 1/log2(3) + 1/log2(4); IDCG = 1 + 1/log2(3).
        let expected = (1.0 / 3f64.log2() + 0.5) / (1.0 + 1.0 / 3f64.log2());
        assert!((ndcg_at_k(&ids(&["x", "a", "b"]), &r, 10) - expected).abs() < 1e-12);
        assert_eq!(recall_at_k(&ids(&["x", "a"]), &r, 100), 0.5);
        assert_eq!(mrr_at_k(&ids(&["x", "y", "b"]), &r, 10), 1.0 / 3.0);
        assert_eq!(mrr_at_k(&ids(&["x"]), &r, 10), 0.0);
        // Graded: a relevance-2 document first beats a relevance-1 one.
        let g = rel(&[("a", 2), ("b", 1)]);
        assert!(ndcg_at_k(&ids(&["a", "b"]), &g, 10) > ndcg_at_k(&ids(&["b", "a"]), &g, 10));
    }

    #[test]
    fn loads_a_beir_directory() {
        let dir = std::env::temp_dir().join(format!("beir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("corpus.jsonl"), "{\"_id\": \"1\", \"text\": \"alpha\"}\n{\"_id\": \"2\", \"title\": \"T\", \"text\": \"beta\"}\n").unwrap();
        std::fs::write(
            dir.join("queries.jsonl"),
            "{\"_id\": \"q1\", \"text\": \"alpha?\"}\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("qrels.tsv"),
            "query-id\tcorpus-id\tscore\nq1\t1\t1\n",
        )
        .unwrap();
        let d = load_beir(&dir).unwrap();
        assert_eq!(d.corpus.len(), 2);
        assert_eq!(d.corpus[1].1, "T");
        assert_eq!(d.qrels["q1"]["1"], 1);
        let rankings: HashMap<String, Vec<String>> = [("q1".to_string(), ids(&["1", "2"]))].into();
        let s = score(&d, &rankings);
        assert_eq!(s.queries, 1);
        assert!((s.ndcg_at_10 - 1.0).abs() < 1e-12);
        std::fs::write(dir.join("qrels.tsv"), "q1\t1\tlots\n").unwrap();
        assert!(load_beir(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
