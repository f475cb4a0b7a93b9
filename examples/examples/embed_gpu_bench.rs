//! Embedding throughput on an NVIDIA GPU through ONNX Runtime's CUDA execution provider.
//!
//! ```text
//! scripts/bench_gpu.sh pack      # on the build machine: binary, libraries, models, sentences
//! scripts/bench_gpu.sh run       # on the GPU machine: this program, then the Python baseline
//! ```
//!
//! `embed_gpu_bench DIR` reads from `DIR`: `sentences.json` (an array of strings),
//! `reference.json` (FP32 CPU embeddings of the first sentences, as arrays) and one model
//! directory per name given in `AI_GPU_MODELS` (default `all-MiniLM-L6-v2-fp16-gpu
//! all-MiniLM-L6-v2-int8-gpu`). ONNX Runtime comes from `ORT_DYLIB_PATH`, the onnxruntime-gpu
//! build. It prints one JSON object per measurement:
//!
//! - `check`: the provider that runs, whether loading with CPU fallback forbidden worked, and the
//!   lowest cosine against the reference;
//! - `sequential`: one thread, calls of `batch` texts (tokenize, run, pool, one after another);
//! - `pipelined`: `threads` callers sharing one model, so one batch's host work overlaps
//!   another's GPU run;
//! - `batcher`: `callers` concurrent single-sentence callers through [`BatchedEmbedder`] with
//!   `concurrency` batches in flight — the way a service uses it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ai_core::EmbeddingModel;
use ai_infer::{
    BatchedEmbedder, BatcherConfig, ExecutionProvider, ModelFiles, OnnxEmbedder, SessionOptions,
    TextTokenizer,
};
use serde_json::json;

// Tokenization allocates per token; with 16 threads glibc's allocator becomes the bottleneck.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;
use common::rss_mib;

/// `AI_GPU_BENCH_CPU=1` runs everything on the CPU (a smoke test of this program).
fn on_cpu() -> bool {
    std::env::var("AI_GPU_BENCH_CPU").is_ok_and(|v| v == "1")
}

/// Texts per measurement (`AI_GPU_BENCH_N`, default 65 536).
fn total() -> usize {
    std::env::var("AI_GPU_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(65_536)
}

fn cuda(forbid_cpu_fallback: bool, parallel_runs: usize) -> SessionOptions {
    SessionOptions {
        parallel_runs,
        provider: if on_cpu() {
            ExecutionProvider::Cpu
        } else {
            ExecutionProvider::Cuda { device_id: 0 }
        },
        forbid_cpu_fallback,
        ..SessionOptions::default()
    }
}

fn load(dir: &str, batch: usize, strict: bool, runs: usize) -> Result<OnnxEmbedder, String> {
    let files = ModelFiles::from_dir(dir).map_err(|e| e.to_string())?;
    OnnxEmbedder::load_with_batch(&files, &cuda(strict, runs), batch).map_err(|e| e.to_string())
}

/// Tokenization alone (all cores, calls of 1 024 texts): the host-side ceiling. `general`
/// forces the `tokenizers` crate (no WordPiece fast path), for comparison.
fn tokenize_only(dir: &str, texts: &[String], general: bool) -> Result<f64, String> {
    let tok = TextTokenizer::from_file(std::path::Path::new(&format!("{dir}/tokenizer.json")), 256)
        .map_err(|e| e.to_string())?;
    let encode = |refs: &[&str]| {
        if general {
            tok.encode_batch_general(refs)
        } else {
            tok.encode_batch(refs)
        }
        .map(|_| ())
        .map_err(|e| e.to_string())
    };
    let warm: Vec<&str> = texts.iter().take(1024).map(String::as_str).collect();
    encode(&warm)?;
    let start = Instant::now();
    for call in texts.chunks(1024) {
        let refs: Vec<&str> = call.iter().map(String::as_str).collect();
        encode(&refs)?;
    }
    Ok(texts.len() as f64 / start.elapsed().as_secs_f64())
}

/// `n` texts cycling through `sentences`.
fn take(sentences: &[String], n: usize) -> Vec<String> {
    sentences.iter().cycle().take(n).cloned().collect()
}

fn sequential(model: &OnnxEmbedder, texts: &[String], batch: usize) -> Result<f64, String> {
    model
        .embed_blocking(&texts[..batch.min(texts.len())])
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    for call in texts.chunks(batch) {
        model.embed_blocking(call).map_err(|e| e.to_string())?;
    }
    Ok(texts.len() as f64 / start.elapsed().as_secs_f64())
}

fn pipelined(
    model: &OnnxEmbedder,
    texts: &Arc<Vec<String>>,
    batch: usize,
    threads: usize,
) -> Result<f64, String> {
    let next = Arc::new(AtomicUsize::new(0));
    let calls = texts.len().div_ceil(batch);
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (model, texts, next) = (model.clone(), texts.clone(), next.clone());
            std::thread::spawn(move || -> Result<(), String> {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= calls {
                        return Ok(());
                    }
                    let end = ((i + 1) * batch).min(texts.len());
                    model
                        .embed_blocking(&texts[i * batch..end])
                        .map_err(|e| e.to_string())?;
                }
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| "a worker thread panicked")??;
    }
    Ok(texts.len() as f64 / start.elapsed().as_secs_f64())
}

async fn batched(
    model: &OnnxEmbedder,
    texts: &[String],
    callers: usize,
    config: BatcherConfig,
) -> Result<f64, String> {
    let embedder = Arc::new(BatchedEmbedder::new(model.clone(), config));
    let callers = callers.clamp(1, texts.len().max(1));
    let per = texts.len() / callers;
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(callers);
    for c in 0..callers {
        let e = embedder.clone();
        let mine: Vec<String> = texts[c * per..(c + 1) * per].to_vec();
        tasks.push(tokio::spawn(async move {
            for s in mine {
                e.embed(&[s]).await.map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok((per * callers) as f64 / start.elapsed().as_secs_f64())
}

async fn bench_model(
    dir: &str,
    name: &str,
    sentences: &[String],
    reference: &[Vec<f32>],
) -> Result<(), String> {
    let path = format!("{dir}/{name}");
    let before = rss_mib();
    let (strict, strict_error) = match load(&path, 256, true, 1) {
        Ok(m) => (Some(m), None),
        Err(e) => (None, Some(e)),
    };
    let model = match strict {
        Some(m) => m,
        None => load(&path, 256, false, 1)?,
    };
    let got = model
        .embed_blocking(&sentences[..reference.len()])
        .map_err(|e| e.to_string())?;
    let min_cos = got
        .iter()
        .zip(reference)
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>())
        .fold(f32::INFINITY, f32::min);
    println!(
        "{}",
        json!({"measure": "check", "model": name, "provider": model.provider(),
            "cpu_fallback_forbidden_load": strict_error.is_none(), "strict_error": strict_error,
            "min_cosine_vs_fp32_cpu": min_cos, "rss_after_load_mib": rss_mib() - before})
    );

    let n_all = total();
    let texts = Arc::new(take(sentences, n_all));
    println!(
        "{}",
        json!({"measure": "tokenize_only", "model": name, "per_s": tokenize_only(&path, &texts, false)?,
               "general_path_per_s": tokenize_only(&path, &texts[..texts.len() / 4], true)?})
    );
    for batch in [32, 256, 1024] {
        let m = load(&path, batch, false, 1)?;
        let n = if batch == 32 { n_all / 8 } else { n_all / 2 };
        let per_s = sequential(&m, &texts[..n], batch)?;
        println!(
            "{}",
            json!({"measure": "sequential", "model": name, "batch": batch, "per_s": per_s})
        );
    }
    for (batch, threads, runs) in [
        (512, 8, 1),
        (512, 8, 2),
        (1024, 8, 2),
        (512, 16, 2),
        (256, 16, 2),
        (512, 16, 4),
    ] {
        let m = load(&path, batch, false, runs)?;
        let per_s = pipelined(&m, &texts, batch, threads)?;
        println!(
            "{}",
            json!({"measure": "pipelined", "model": name, "batch": batch, "threads": threads,
                "parallel_runs": runs, "per_s": per_s})
        );
    }
    for (max_batch, concurrency, runs) in [(512, 4, 1), (512, 8, 2), (1024, 8, 2), (512, 16, 2)] {
        let m = load(&path, max_batch, false, runs)?;
        let config = BatcherConfig {
            max_batch,
            max_wait: Duration::from_millis(2),
            queue: 16_384,
            concurrency,
        };
        let callers = 4096;
        let per_s = batched(&m, &texts, callers, config).await?;
        println!(
            "{}",
            json!({"measure": "batcher", "model": name, "max_batch": max_batch, "concurrency": concurrency,
                "parallel_runs": runs, "callers": callers, "per_s": per_s, "rss_mib": rss_mib()})
        );
    }
    Ok(())
}

async fn run(dir: &str) -> Result<(), String> {
    let read =
        |f: &str| std::fs::read_to_string(format!("{dir}/{f}")).map_err(|e| format!("{f}: {e}"));
    let sentences: Vec<String> =
        serde_json::from_str(&read("sentences.json")?).map_err(|e| e.to_string())?;
    let reference: Vec<Vec<f32>> =
        serde_json::from_str(&read("reference.json")?).map_err(|e| e.to_string())?;
    if reference.len() > sentences.len() {
        return Err("more reference vectors than sentences".into());
    }
    let names = std::env::var("AI_GPU_MODELS")
        .unwrap_or_else(|_| "all-MiniLM-L6-v2-fp16-gpu all-MiniLM-L6-v2-int8-gpu".to_string());
    for name in names.split_whitespace() {
        if let Err(e) = bench_model(dir, name, &sentences, &reference).await {
            println!("{}", json!({"measure": "error", "model": name, "error": e}));
        }
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: embed_gpu_bench DIR");
        return std::process::ExitCode::FAILURE;
    };
    common::block_on("embed_gpu_bench", None, run(&dir))
}
