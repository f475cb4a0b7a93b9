//! In-process cost of each layer and of the provider's encode/decode, without a network.
//!
//! ```text
//! cargo run --release -p examples --example layer_costs
//! ```
//!
//! Complements the `overhead` benchmark (which includes the network, the kernel and cache
//! effects): here a scripted model answers instantly on a current-thread runtime, so the
//! numbers are the CPU of the layers' own code. Metrics go to the Prometheus recorder and spans
//! to a `tracing` fmt subscriber writing to a sink, as in `overhead`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ai_core::layers::*;
use ai_core::testing::{ScriptedModel, Step};
use ai_core::{ChatModel, ChatRequest, ChatResponse, FinishReason, Message, StreamEvent, Usage};
use ai_providers::openai::{EncodeOptions, MaxTokensField, decode_response, decode_stream, encode};
use futures::StreamExt;

const N: usize = 20_000;

fn request(i: usize) -> ChatRequest {
    ChatRequest::new(vec![Message::user(format!(
        "Question number {i}: what is the capital of France?"
    ))])
    .temperature(0.0)
    .max_tokens(64)
    .key(format!("tenant-{}", i % 16))
}

fn models() -> (Arc<dyn ChatModel>, Arc<dyn ChatModel>) {
    let mut r = ChatResponse::text_answer("The quick brown fox jumps over the lazy dog.");
    r.usage = Some(Usage {
        input_tokens: 42,
        output_tokens: 16,
        ..Usage::default()
    });
    let mut events = vec![(
        Duration::ZERO,
        Ok(StreamEvent::Start {
            id: Some("x".into()),
            model: Some("bench-model".into()),
        }),
    )];
    for i in 0..20 {
        events.push((Duration::ZERO, Ok(StreamEvent::text(format!("word{i} ")))));
    }
    events.push((
        Duration::ZERO,
        Ok(StreamEvent::Finish {
            reason: FinishReason::Stop,
        }),
    ));
    events.push((
        Duration::ZERO,
        Ok(StreamEvent::Usage(Usage {
            input_tokens: 42,
            output_tokens: 20,
            ..Usage::default()
        })),
    ));
    (
        Arc::new(ScriptedModel::new(vec![Step::Reply(r)]).named("openai", "bench-model")),
        Arc::new(ScriptedModel::new(vec![Step::Stream(events)]).named("openai", "bench-model")),
    )
}

fn stack(letters: &str, inner: Arc<dyn ChatModel>) -> Arc<dyn ChatModel> {
    let prices = Arc::new(PriceTable::with_defaults());
    let mut s = Stack::new();
    for c in letters.chars() {
        s = match c {
            'T' => s.layer(TelemetryLayer::new()),
            'O' => s.layer(
                TimeoutLayer::new()
                    .total(Duration::from_secs(30))
                    .first_chunk(Duration::from_secs(10)),
            ),
            'C' => s.layer(CacheLayer::in_memory(256 << 20, Duration::from_secs(600))),
            'L' => s.layer(
                RateLimitLayer::new(Limits {
                    requests_per_minute: Some(100_000_000),
                    tokens_per_day: Some(u64::MAX / 4),
                    ..Limits::default()
                })
                .prices(prices.clone()),
            ),
            '$' => s.layer(CostLayer::new(
                prices.clone(),
                Arc::new(InMemoryCostLedger::new()),
            )),
            'R' => s.layer(RetryLayer::default()),
            _ => s,
        };
    }
    if letters.contains('X') {
        let router = Router::builder("a", inner.clone())
            .route(
                "b",
                Rule::sensitivity_at_least(ai_core::Sensitivity::Restricted),
                inner,
            )
            .build();
        return s.build_chat(Arc::new(router));
    }
    s.build_chat(inner)
}

async fn time_calls(
    model: &Arc<dyn ChatModel>,
    stream: bool,
    offset: usize,
) -> Result<f64, String> {
    let start = Instant::now();
    for i in 0..N {
        let req = request(offset + i);
        if stream {
            let mut s = model.stream(req).await.map_err(|e| e.to_string())?;
            while let Some(e) = s.next().await {
                e.map_err(|e| e.to_string())?;
            }
        } else {
            model.generate(req).await.map_err(|e| e.to_string())?;
        }
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / N as f64)
}

async fn run() -> Result<(), String> {
    let _prom = ai_core::prometheus::install_recorder().map_err(|e| e.to_string())?;
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _ = tracing::subscriber::set_global_default(subscriber);
    let (plain, streaming) = models();
    println!("µs per call (scripted model answering instantly, {N} calls each)");
    println!("{:<28} {:>10} {:>12}", "layers", "generate", "stream (20)");
    let mut offset = 0;
    let mut base = (0.0, 0.0);
    for (name, letters) in [
        ("none (scripted model)", ""),
        ("telemetry", "T"),
        ("timeout", "O"),
        ("cache (miss + store)", "C"),
        ("rate limit", "L"),
        ("cost", "$"),
        ("retry", "R"),
        ("router", "X"),
        ("all", "TOCL$RX"),
    ] {
        let g = time_calls(&stack(letters, plain.clone()), false, offset).await?;
        offset += N;
        let s = time_calls(&stack(letters, streaming.clone()), true, offset).await?;
        offset += N;
        if letters.is_empty() {
            base = (g, s);
            println!("{name:<28} {g:>10.2} {s:>12.2}");
        } else {
            println!("{name:<28} {:>+10.2} {:>+12.2}", g - base.0, s - base.1);
        }
    }

    let opts = EncodeOptions {
        max_tokens_field: MaxTokensField::MaxTokens,
        stream_usage: true,
    };
    let req = request(0);
    let start = Instant::now();
    for _ in 0..N {
        encode(&req, "bench-model", true, opts).map_err(|e| e.to_string())?;
    }
    println!(
        "{:<28} {:>10.2}",
        "provider: encode request",
        start.elapsed().as_secs_f64() * 1e6 / N as f64
    );
    let body = br#"{"id":"chatcmpl-bench","object":"chat.completion","created":1,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"The quick brown fox jumps over the lazy dog."},"finish_reason":"stop"}],"usage":{"prompt_tokens":42,"completion_tokens":16,"total_tokens":58}}"#;
    let start = Instant::now();
    for _ in 0..N {
        decode_response("bench", body, false).map_err(|e| e.to_string())?;
    }
    println!(
        "{:<28} {:>10.2}",
        "provider: decode response",
        start.elapsed().as_secs_f64() * 1e6 / N as f64
    );
    let mut sse = Vec::new();
    for i in 0..20 {
        sse.extend_from_slice(format!("data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"bench-model\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"word{i} \"}},\"finish_reason\":null}}]}}\n\n").as_bytes());
    }
    sse.extend_from_slice(b"data: {\"id\":\"c\",\"model\":\"bench-model\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
    let sse = bytes::Bytes::from(sse);
    let start = Instant::now();
    for _ in 0..N / 10 {
        let mut s = decode_stream("bench", futures::stream::iter(vec![Ok(sse.clone())]));
        while let Some(e) = s.next().await {
            e.map_err(|e| e.to_string())?;
        }
    }
    println!(
        "{:<28} {:>10} {:>12.2}",
        "provider: decode 20 chunks",
        "",
        start.elapsed().as_secs_f64() * 1e6 / (N / 10) as f64
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("layer_costs failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
