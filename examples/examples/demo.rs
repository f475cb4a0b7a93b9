//! The main demo: a production-style stack around a local model, with no API key.
//!
//! Run it with `scripts/demo.sh`, which starts the local llama.cpp server (SmolLM2-135M) and
//! then this program. It shows a composed stack (telemetry → timeout → retry → cache → rate
//! limit → cost) over a router that keeps personal data on a private route, streaming, a cache
//! hit, a rate-limit rejection, per-tenant cost, and the Prometheus metrics it all produced.
//!
//! Environment: `AI_DEMO_BASE_URL` (default `http://127.0.0.1:18080/v1`), `AI_DEMO_MODEL`
//! (default `smollm2-135m-instruct`).

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ai_core::layers::*;
use ai_core::{ChatModel, ChatRequest, ErrorKind, Message, StreamAccumulator, StreamEvent};
use ai_providers::openai::OpenAiProvider;
use futures::StreamExt;

fn looks_like_pii(text: &str) -> bool {
    // A stand-in for ai-guard's detectors: an e-mail address or a long digit run.
    let digits = text.chars().filter(char::is_ascii_digit).count();
    text.split_whitespace()
        .any(|w| w.contains('@') && w.contains('.'))
        || digits >= 9
}

async fn run() -> ai_core::Result<()> {
    let base =
        std::env::var("AI_DEMO_BASE_URL").unwrap_or_else(|_| "http://127.0.0.1:18080/v1".into());
    let model_name =
        std::env::var("AI_DEMO_MODEL").unwrap_or_else(|_| "smollm2-135m-instruct".into());
    let prometheus = ai_core::prometheus::install_recorder()?;

    // Two routes to local servers: "general" and "private" (in production the general route
    // would be a hosted model and "private" your own; both are local here so no key is needed).
    let general: Arc<dyn ChatModel> = Arc::new(
        OpenAiProvider::compatible(base.clone(), "llamacpp")
            .model(model_name.clone())
            .build()?,
    );
    let private: Arc<dyn ChatModel> = Arc::new(
        OpenAiProvider::compatible(base.clone(), "llamacpp-private")
            .model(model_name.clone())
            .build()?,
    );
    let router = Arc::new(
        Router::builder("general", general)
            .route(
                "private",
                Rule::any(vec![
                    Rule::sensitivity_at_least(ai_core::Sensitivity::Confidential),
                    Rule::contains_pii(looks_like_pii),
                ]),
                private,
            )
            .build(),
    );

    // Pretend the local model costs like a small hosted one, to show cost accounting.
    let mut table = PriceTable::with_defaults();
    table.set(model_name.clone(), ModelPrice::new(150_000, 600_000));
    let prices = Arc::new(table);
    let ledger = Arc::new(InMemoryCostLedger::new());

    // Outermost first. The cache sits outside the limiter (hits cost nothing); the limiter sits
    // outside the retry layer, so a local limit is reported to the caller instead of waited out.
    let model = Stack::new()
        .layer(TelemetryLayer::new())
        .layer(
            TimeoutLayer::new()
                .total(Duration::from_secs(60))
                .first_chunk(Duration::from_secs(20)),
        )
        .layer(CacheLayer::in_memory(32 << 20, Duration::from_secs(300)))
        .layer(
            RateLimitLayer::new(Limits {
                requests_per_minute: Some(4),
                tokens_per_day: Some(200_000),
                ..Limits::default()
            })
            .prices(prices.clone()),
        )
        .layer(CostLayer::new(prices, ledger.clone()))
        .layer(RetryLayer::default())
        .build_chat(router);

    println!("== 1. Streaming an answer (tenant-a) ==");
    let question = || {
        ChatRequest::new(vec![
            Message::system("You are a helpful assistant. Answer in one or two sentences."),
            Message::user("Why is the sky blue?"),
        ])
        .temperature(0.0)
        .max_tokens(60)
        .key("tenant-a")
    };
    let start = Instant::now();
    let mut stream = model.stream(question()).await?;
    let mut acc = StreamAccumulator::new();
    let mut first: Option<Duration> = None;
    let mut out = std::io::stdout();
    while let Some(event) = stream.next().await {
        let event = event?;
        if let StreamEvent::TextDelta { text } = &event {
            first.get_or_insert_with(|| start.elapsed());
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
        acc.push(&event);
    }
    let streamed = acc.finish();
    println!(
        "\n   first token after {:?}, whole answer after {:?}, usage {:?}",
        first.unwrap_or_default(),
        start.elapsed(),
        streamed.usage.map(|u| (u.input_tokens, u.output_tokens))
    );

    println!("\n== 2. The same deterministic question again: served from the cache ==");
    let start = Instant::now();
    let cached = model.generate(question()).await?;
    println!(
        "   cache_hit={} in {:?}; same text: {}",
        cached.meta.cache_hit,
        start.elapsed(),
        cached.text() == streamed.text()
    );

    println!("\n== 3. A request with personal data goes to the private route ==");
    let r = model
        .generate(
            ChatRequest::user("Write a one-line greeting to jane.doe@example.com.")
                .temperature(0.0)
                .max_tokens(30)
                .key("tenant-a"),
        )
        .await?;
    println!("   route={:?}: {}", r.meta.route, r.text().trim());

    println!("\n== 4. tenant-b is limited to 4 requests per minute ==");
    for i in 1..=5 {
        let req = ChatRequest::user(format!("Say the number {i}."))
            .temperature(0.0)
            .max_tokens(8)
            .key("tenant-b");
        match model.generate(req).await {
            Ok(r) => println!("   request {i}: ok ({})", r.text().trim()),
            Err(e) if e.kind() == ErrorKind::RateLimited => println!(
                "   request {i}: rejected ({}), retry after {:.1}s",
                e.kind(),
                e.retry_after().unwrap_or_default().as_secs_f64()
            ),
            Err(e) => return Err(e),
        }
    }

    println!("\n== 5. Cost per tenant (prices from the overridable table) ==");
    for (key, model, cost, usage, n) in ledger.snapshot() {
        println!(
            "   {key:<9} {model}: {n} calls, {} in / {} out tokens, ${:.6}",
            usage.input_tokens,
            usage.output_tokens,
            cost.dollars()
        );
    }

    println!("\n== 6. Prometheus metrics (excerpt) ==");
    for line in prometheus.render().lines() {
        let wanted = [
            "ai_requests",
            "ai_cache_requests",
            "ai_route_decisions",
            "ai_limit_rejections",
            "ai_cost_nanodollars",
        ];
        if !line.starts_with('#') && wanted.iter().any(|w| line.starts_with(w)) {
            println!("   {line}");
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo failed: {e}");
            if e.kind() == ErrorKind::Unavailable {
                eprintln!(
                    "is the local server running? start it with scripts/services.sh start (scripts/demo.sh does)"
                );
            }
            ExitCode::FAILURE
        }
    }
}
