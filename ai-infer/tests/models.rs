//! ai-infer against real models provisioned by `scripts/models.sh install` (feature
//! `model-tests`): correctness against sentence-transformers and Python onnxruntime.
#![cfg(feature = "model-tests")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use ai_core::{EmbeddingModel, ErrorKind, Reranker};
use ai_infer::*;
use serde_json::Value;

fn models() -> PathBuf {
    PathBuf::from(std::env::var("AI_INFER_MODELS").unwrap_or_else(|_| {
        panic!("AI_INFER_MODELS is not set: run `eval \"$(scripts/models.sh env)\"` after `scripts/models.sh install` (scripts/test.sh does both)")
    }))
}

fn files(name: &str) -> ModelFiles {
    ModelFiles::from_dir(models().join(name)).unwrap()
}

fn reference() -> (Vec<String>, Vec<Vec<f32>>) {
    let data: Value = serde_json::from_str(include_str!("data/minilm_reference.json")).unwrap();
    let sentences = data["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let vectors = data["embeddings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect();
    (sentences, vectors)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let n = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (n(a) * n(b))
}

/// Degenerate inputs kept in the reference set for robustness, held to looser bounds by the
/// INT8 checks (one to three tokens: quantization noise is not averaged out).
const EDGE_CASES: [&str; 3] = ["", "a", "ok"];

fn min_cosine(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| cosine(x, y))
        .fold(1.0, f32::min)
}

/// Minimum cosine over real sentences and over the edge cases, separately.
fn min_cosines(sentences: &[String], a: &[Vec<f32>], b: &[Vec<f32>]) -> (f32, f32) {
    let mut real = 1.0f32;
    let mut edge = 1.0f32;
    for ((s, x), y) in sentences.iter().zip(a).zip(b) {
        let c = cosine(x, y);
        if EDGE_CASES.contains(&s.as_str()) {
            edge = edge.min(c);
        } else {
            real = real.min(c);
        }
    }
    (real, edge)
}

#[tokio::test]
async fn fp32_matches_sentence_transformers() {
    let (sentences, expected) = reference();
    assert!(sentences.len() >= 40);
    let model =
        OnnxEmbedder::load(&files("all-MiniLM-L6-v2-fp32"), &SessionOptions::default()).unwrap();
    assert_eq!(model.dimensions(), 384);
    let got = model.embed(&sentences).await.unwrap();
    let min = min_cosine(&got, &expected);
    assert!(min >= 0.9999, "min cosine {min}");
    for v in &got {
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
}

#[tokio::test]
async fn packaged_int8_matches_sentence_transformers() {
    let (sentences, expected) = reference();
    let model = OnnxEmbedder::load(
        &files("all-MiniLM-L6-v2-int8-packaged"),
        &SessionOptions::default(),
    )
    .unwrap();
    let got = model.embed(&sentences).await.unwrap();
    let (real, edge) = min_cosines(&sentences, &got, &expected);
    assert!(real >= 0.998, "min cosine over sentences {real}");
    assert!(edge >= 0.995, "min cosine over edge cases {edge}");
}

#[tokio::test]
async fn dynamic_int8_stays_close_to_fp32() {
    let (sentences, _) = reference();
    let fp32 =
        OnnxEmbedder::load(&files("all-MiniLM-L6-v2-fp32"), &SessionOptions::default()).unwrap();
    let int8 =
        OnnxEmbedder::load(&files("all-MiniLM-L6-v2-int8"), &SessionOptions::default()).unwrap();
    let a = fp32.embed(&sentences).await.unwrap();
    let b = int8.embed(&sentences).await.unwrap();
    let (real, edge) = min_cosines(&sentences, &a, &b);
    assert!(real >= 0.99, "min cosine over sentences {real}");
    // Dynamic quantization scales activations per tensor, so a one-token input's vector also
    // depends on what it is batched with; the edge cases get a looser bound.
    assert!(edge >= 0.97, "min cosine over edge cases {edge}");
}

#[tokio::test]
async fn batching_and_sorting_do_not_change_results() {
    let (sentences, _) = reference();
    let model = OnnxEmbedder::load_with_batch(
        &files("all-MiniLM-L6-v2-fp32"),
        &SessionOptions::default(),
        7,
    )
    .unwrap();
    let together = model.embed(&sentences).await.unwrap();
    for (i, s) in sentences.iter().enumerate().step_by(5) {
        let alone = model.embed(std::slice::from_ref(s)).await.unwrap();
        assert!(cosine(&alone[0], &together[i]) > 0.99999, "sentence {i}");
    }
    assert!(model.embed(&[]).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batcher_serves_concurrent_single_text_callers() {
    let (sentences, expected) = reference();
    let model =
        OnnxEmbedder::load(&files("all-MiniLM-L6-v2-fp32"), &SessionOptions::default()).unwrap();
    let batched = Arc::new(BatchedEmbedder::new(model, BatcherConfig::default()));
    let tasks: Vec<_> = sentences
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, s)| {
            let b = batched.clone();
            tokio::spawn(async move { (i, b.embed(&[s]).await) })
        })
        .collect();
    for t in tasks {
        let (i, r) = t.await.unwrap();
        let v = r.unwrap();
        assert!(
            cosine(&v[0], &expected[i]) >= 0.9999,
            "caller {i} got someone else's vector"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooling_inside_the_graph_and_parallel_runs_give_the_same_vectors() {
    let (sentences, _) = reference();
    // Same batches on both sides: the dynamic INT8 graph quantizes activations per batch.
    let tokens = OnnxEmbedder::load_with_batch(
        &files("all-MiniLM-L6-v2-int8"),
        &SessionOptions::default(),
        4,
    )
    .unwrap();
    let pooled_files = files("all-MiniLM-L6-v2-int8-pooled");
    assert_eq!(pooled_files.config.pooling, Pooling::Model);
    let options = SessionOptions {
        parallel_runs: 2,
        ..SessionOptions::default()
    };
    let pooled = OnnxEmbedder::load_with_batch(&pooled_files, &options, 4).unwrap();
    assert_eq!(pooled.dimensions(), 384);
    // Four concurrent callers share the two session copies.
    let tasks: Vec<_> = (0..4)
        .map(|c| {
            let (m, s) = (pooled.clone(), sentences.clone());
            tokio::task::spawn_blocking(move || m.embed_blocking(&s[c * 5..c * 5 + 10]))
        })
        .collect();
    for (c, t) in tasks.into_iter().enumerate() {
        let got = t.await.unwrap().unwrap();
        let expected = tokens
            .embed_blocking(&sentences[c * 5..c * 5 + 10])
            .unwrap();
        for (i, v) in got.iter().enumerate() {
            let n: f32 = v.iter().map(|x| x * x).sum();
            assert!((n - 1.0).abs() < 1e-4, "not normalised");
            assert!(cosine(v, &expected[i]) > 0.99999, "caller {c} text {i}");
        }
    }
    // A token-level graph configured as pooled (or the reverse) is refused with the reason.
    let mut wrong = files("all-MiniLM-L6-v2-int8");
    wrong.config.pooling = Pooling::Model;
    let err = OnnxEmbedder::load(&wrong, &SessionOptions::default()).unwrap_err();
    assert!(err.to_string().contains("rank 2"), "{err}");
}

fn tiny(name: &str) -> ModelFiles {
    ModelFiles::from_dir(models().join("tiny-bert").join(name)).unwrap()
}

fn tiny_reference() -> Value {
    let text = std::fs::read_to_string(models().join("tiny-bert/reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn close(a: f32, b: f64, what: &str) {
    assert!((f64::from(a) - b).abs() < 2e-4, "{what}: {a} vs {b}");
}

#[tokio::test]
async fn cross_encoder_matches_python_onnxruntime() {
    let r = &tiny_reference()["cross_encoder"];
    let model = CrossEncoder::load(&tiny("cross-encoder"), &SessionOptions::default()).unwrap();
    let pairs = r["pairs"].as_array().unwrap();
    let query = pairs[0][0].as_str().unwrap();
    let docs: Vec<String> = pairs
        .iter()
        .filter(|p| p[0].as_str() == Some(query))
        .map(|p| p[1].as_str().unwrap().to_string())
        .collect();
    let scores = model.score_blocking(query, &docs).unwrap();
    for (i, s) in scores.iter().enumerate() {
        let logit = r["logits"][i][0].as_f64().unwrap();
        close(*s, 1.0 / (1.0 + (-logit).exp()), "sigmoid score");
    }
    let ranked = model.rerank(query, &docs).await.unwrap();
    assert!(ranked[0].score >= ranked[1].score);
    assert_eq!(ranked.len(), docs.len());
}

#[tokio::test]
async fn sequence_classifier_matches_python_onnxruntime() {
    let r = &tiny_reference()["sequence_classifier"];
    let model =
        SequenceClassifier::load(&tiny("sequence-classifier"), &SessionOptions::default()).unwrap();
    let texts: Vec<String> = r["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().into())
        .collect();
    let logits = model.logits_blocking(&texts).unwrap();
    for (i, row) in logits.iter().enumerate() {
        for (j, x) in row.iter().enumerate() {
            close(*x, r["logits"][i][j].as_f64().unwrap(), "logit");
        }
    }
    let labels = model.classify(&texts).await.unwrap();
    for (i, scored) in labels.iter().enumerate() {
        let row = &r["logits"][i];
        let best = (0..3)
            .max_by(|&a, &b| {
                row[a]
                    .as_f64()
                    .unwrap()
                    .total_cmp(&row[b].as_f64().unwrap())
            })
            .unwrap();
        assert_eq!(scored[0].label, r["labels"][best].as_str().unwrap());
        let total: f32 = scored.iter().map(|s| s.score).sum();
        assert!((total - 1.0).abs() < 1e-5);
    }
}

#[tokio::test]
async fn token_classifier_matches_python_onnxruntime_and_the_pipeline_spans() {
    let r = &tiny_reference()["token_classifier"];
    let model =
        TokenClassifier::load(&tiny("token-classifier"), &SessionOptions::default()).unwrap();
    let texts: Vec<String> = r["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().into())
        .collect();
    let logits = model.logits_blocking(&texts).unwrap();
    for (i, rows) in logits.iter().enumerate() {
        let expected = r["logits"][i].as_array().unwrap();
        assert_eq!(rows.len(), expected.len(), "token count of text {i}");
        for (t, row) in rows.iter().enumerate() {
            for (j, x) in row.iter().enumerate() {
                close(*x, expected[t][j].as_f64().unwrap(), "token logit");
            }
        }
    }
    let spans = model.entities(&texts).await.unwrap();
    for (i, got) in spans.iter().enumerate() {
        let want = r["entities"][i].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "text {i}: {got:?} vs {want:?}");
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g.label, w["label"].as_str().unwrap());
            assert_eq!(g.start as u64, w["start"].as_u64().unwrap(), "{g:?} vs {w}");
            assert_eq!(g.end as u64, w["end"].as_u64().unwrap(), "{g:?} vs {w}");
            close(g.score, w["score"].as_f64().unwrap(), "span score");
            let text = &texts[i];
            assert_eq!(
                &text[g.byte_start..g.byte_end],
                text.chars()
                    .skip(g.start)
                    .take(g.end - g.start)
                    .collect::<String>()
            );
        }
    }
}

#[test]
fn hugging_face_cache_layout_loads() {
    let src = models().join("all-MiniLM-L6-v2-source");
    let root = std::env::temp_dir().join(format!("ai-infer-hf-{}", std::process::id()));
    let snap = root.join("models--sentence-transformers--all-MiniLM-L6-v2/snapshots/abc123");
    std::fs::create_dir_all(snap.join("onnx")).unwrap();
    std::fs::create_dir_all(snap.join("1_Pooling")).unwrap();
    std::fs::create_dir_all(root.join("models--sentence-transformers--all-MiniLM-L6-v2/refs"))
        .unwrap();
    std::fs::write(
        root.join("models--sentence-transformers--all-MiniLM-L6-v2/refs/main"),
        "abc123",
    )
    .unwrap();
    for f in [
        "tokenizer.json",
        "config.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
    ] {
        std::fs::copy(src.join(f), snap.join(f)).unwrap();
    }
    std::fs::copy(
        models().join("all-MiniLM-L6-v2-fp32/model.onnx"),
        snap.join("onnx/model.onnx"),
    )
    .unwrap();
    let files = ModelFiles::from_hf_cache(&root, "sentence-transformers/all-MiniLM-L6-v2").unwrap();
    assert_eq!(files.config.kind, ModelKind::Embedding);
    assert_eq!(files.config.pooling, Pooling::Mean);
    assert_eq!(files.config.max_length, 256);
    let model = OnnxEmbedder::load(&files, &SessionOptions::default()).unwrap();
    assert_eq!(
        model.embed_blocking(&["hello".into()]).unwrap()[0].len(),
        384
    );
    let e = ModelFiles::from_hf_cache(&root, "nobody/nothing").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn wrong_graphs_are_refused_with_the_reason() {
    // A token classifier's graph loaded as an embedder is fine shape-wise (rank 3), but a
    // sequence classifier's rank-2 output is not.
    let mut f = tiny("sequence-classifier");
    f.config = ModelConfig::new(ModelKind::Embedding);
    let e = OnnxEmbedder::load(&f, &SessionOptions::default()).unwrap_err();
    assert!(e.message().contains("no output of rank 3"), "{e}");
    let mut f = tiny("token-classifier");
    f.config.labels.pop();
    let model = TokenClassifier::load(&f, &SessionOptions::default()).unwrap();
    let e = model.logits_blocking(&["x".into()]).unwrap_err();
    assert!(e.message().contains("names 4 labels"), "{e}");
}
