//! Generation speed of the in-process SmolLM2 exports (`ai-infer`), for comparison with
//! llama.cpp in `scripts/bench_generation.sh`.
//!
//! ```text
//! cargo run --release -p examples --example gen_bench -- MODEL_DIR_NAME THREADS TOKENS
//! ```
//!
//! Prints one JSON line: prompt tokens, prefill milliseconds and decoding tokens per second for
//! exactly TOKENS greedy tokens (end-of-sequence ignored), plus the resident memory the model
//! added (one model per process, so the figure is the model's own).

use ai_core::Message;
use ai_infer::{ModelFiles, OnnxChatModel, Sampling, SessionOptions};

/// The prompt used by the llama.cpp side of the comparison too.
const PROMPT: &str =
    "Write a short story about a lighthouse keeper who finds a message in a bottle.";

mod common;
use common::rss_mib;

fn run(name: &str, threads: usize, tokens: u32) -> ai_core::Result<()> {
    let models = std::env::var("AI_INFER_MODELS").map_err(|_| {
        ai_core::AiError::config("AI_INFER_MODELS is not set (scripts/models.sh env)")
    })?;
    {
        let before = rss_mib();
        let model = OnnxChatModel::load(
            &ModelFiles::from_dir(format!("{models}/{name}"))?,
            &SessionOptions::with_threads(threads),
        )?;
        let loaded = rss_mib();
        let prompt = model.prompt_ids(&[Message::user(PROMPT)])?;
        // Warm up, then measure the best of three runs.
        model.generate_timed(&prompt, 8, &Sampling::greedy(), true)?;
        let mut best: Option<ai_infer::TimedIds> = None;
        for _ in 0..3 {
            let t = model.generate_timed(&prompt, tokens, &Sampling::greedy(), true)?;
            if best
                .as_ref()
                .is_none_or(|b| t.decode_tokens_per_second() > b.decode_tokens_per_second())
            {
                best = Some(t);
            }
        }
        let Some(best) = best else {
            return Ok(());
        };
        println!(
            "{}",
            serde_json::json!({
                "engine": "ai-infer", "model": name, "threads": threads,
                "prompt_tokens": prompt.len(), "generated": best.ids.len(),
                "prefill_ms": best.prefill.as_secs_f64() * 1e3,
                "decode_tokens_per_s": best.decode_tokens_per_second(),
                "rss_model_mib": loaded - before,
            })
        );
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let name = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "smollm2-135m-instruct-int4".into());
    let threads = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1);
    let tokens = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(128);
    match run(&name, threads, tokens) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_bench failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
