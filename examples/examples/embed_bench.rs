//! Embedding throughput, batcher efficiency and memory of `ai-infer` on the CPU.
//!
//! ```text
//! scripts/bench_embeddings.sh            # this program and the Python baseline, with ratios
//! cargo run --release -p examples --example embed_bench -- SENTENCES_FILE
//! ```
//!
//! Reads sentences (one JSON array of strings per line: `uniform`, then `mixed`) and prints one
//! JSON object per measurement. Models come from `AI_INFER_MODELS` (scripts/models.sh), ONNX
//! Runtime from `ORT_DYLIB_PATH`; one intra-op thread.

use std::sync::Arc;
use std::time::Instant;

use ai_core::EmbeddingModel;
use ai_infer::{BatchedEmbedder, BatcherConfig, ModelFiles, OnnxEmbedder, SessionOptions};

mod common;
use common::rss_mib;

/// Sentences per second when the caller hands over `per_call` texts at a time (the embedder
/// sorts each call's texts by length and runs them in batches of 32).
fn throughput(
    model: &OnnxEmbedder,
    sentences: &[String],
    rounds: usize,
    per_call: usize,
) -> Result<f64, String> {
    model
        .embed_blocking(&sentences[..32.min(sentences.len())])
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut n = 0;
    for _ in 0..rounds {
        for call in sentences.chunks(per_call) {
            model.embed_blocking(call).map_err(|e| e.to_string())?;
            n += call.len();
        }
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

async fn run(path: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut sets = text
        .lines()
        .map(|l| serde_json::from_str::<Vec<String>>(l).map_err(|e| e.to_string()));
    let uniform = sets.next().ok_or("no uniform set")??;
    let mixed = sets.next().ok_or("no mixed set")??;
    let models =
        std::env::var("AI_INFER_MODELS").map_err(|_| "AI_INFER_MODELS is not set".to_string())?;
    let opts = SessionOptions::with_threads(1);
    let base_rss = rss_mib();
    let mut fp32_uniform = 0.0;
    for name in [
        "all-MiniLM-L6-v2-fp32",
        "all-MiniLM-L6-v2-int8",
        "all-MiniLM-L6-v2-int8-packaged",
    ] {
        let before = rss_mib();
        let files = ModelFiles::from_dir(format!("{models}/{name}")).map_err(|e| e.to_string())?;
        let model = OnnxEmbedder::load(&files, &opts).map_err(|e| e.to_string())?;
        let loaded = rss_mib();
        let u = throughput(&model, &uniform, 2, uniform.len())?;
        let m = throughput(&model, &mixed, 2, mixed.len())?;
        let m32 = throughput(&model, &mixed, 1, 32)?;
        if name.ends_with("fp32") {
            fp32_uniform = u;
        }
        println!(
            "{}",
            serde_json::json!({"measure": "throughput", "model": name, "uniform_per_s": u, "mixed_per_s": m, "mixed_calls_of_32_per_s": m32,
                "rss_model_mib": loaded - before, "int8_over_fp32": if fp32_uniform > 0.0 { u / fp32_uniform } else { 0.0 }})
        );
    }

    // Batcher: 64 concurrent single-sentence callers against one caller with batches of 32.
    let files = ModelFiles::from_dir(format!("{models}/all-MiniLM-L6-v2-int8"))
        .map_err(|e| e.to_string())?;
    let model = OnnxEmbedder::load(&files, &opts).map_err(|e| e.to_string())?;
    let direct = throughput(&model, &uniform, 2, 32)?;
    let batched = Arc::new(BatchedEmbedder::new(
        model.clone(),
        BatcherConfig::default(),
    ));
    let total = uniform.len() * 2;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..64 {
        let b = batched.clone();
        let mine: Vec<String> = uniform
            .iter()
            .cycle()
            .skip(c)
            .step_by(64)
            .take(total / 64)
            .cloned()
            .collect();
        tasks.push(tokio::spawn(async move {
            for s in mine {
                b.embed(&[s]).await.map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    let concurrent = (total / 64 * 64) as f64 / start.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"measure": "batcher", "model": "all-MiniLM-L6-v2-int8", "batches_of_32_per_s": direct,
            "concurrent_64_single_per_s": concurrent, "ratio": concurrent / direct})
    );

    // Memory growth over 10 000 single-sentence requests.
    let after_warm = {
        for s in uniform.iter().take(200) {
            model
                .embed_blocking(std::slice::from_ref(s))
                .map_err(|e| e.to_string())?;
        }
        rss_mib()
    };
    for i in 0..10_000 {
        let s = &mixed[i % mixed.len()];
        model
            .embed_blocking(std::slice::from_ref(s))
            .map_err(|e| e.to_string())?;
    }
    println!(
        "{}",
        serde_json::json!({"measure": "memory", "rss_start_mib": base_rss, "rss_before_mib": after_warm,
            "rss_after_10000_mib": rss_mib(), "growth_mib": rss_mib() - after_warm})
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: embed_bench SENTENCES_FILE");
        return std::process::ExitCode::FAILURE;
    };
    common::block_on("embed_bench", Some(2), run(&path))
}
