//! Overhead benchmark: what the full stack costs on top of a bare `reqwest` call.
//!
//! ```text
//! cargo run --release -p examples --example overhead -- [--requests 9000] [--layers TOCL$R] [--provider-only]
//! ```
//!
//! `--layers` picks layers by letter for attribution (T telemetry, O timeout, C cache, L rate
//! limit, $ cost, R retry; the router is always included); `--provider-only` measures the
//! OpenAI provider's encode/decode alone.
//!
//! A mock OpenAI-compatible server runs in a child process (so its CPU is not counted) and
//! answers instantly: a small chat completion, or a 20-chunk SSE stream. The same requests are
//! sent (a) with a bare `reqwest` call that sends the JSON body and reads the response bytes,
//! and (b) through the full stack: telemetry (metrics recorded by the Prometheus recorder,
//! spans created for an installed `tracing` subscriber), timeout, cache (a miss on every
//! request: each prompt is unique), rate limit, cost, retry, a router and the OpenAI provider's
//! encode/decode. It prints CPU microseconds per request (user + system time of this process)
//! and p50/p99 latency, at concurrency 1 and 64, and the difference (b − a).

use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ai_core::layers::*;
use ai_core::{ChatModel, ChatRequest, Message, StreamEvent};
use ai_providers::openai::OpenAiProvider;
use ai_testkit::{MockResponse, MockServer};
use bytes::Bytes;
use futures::StreamExt;
use tokio::io::AsyncBufReadExt;

const CHAT_BODY: &str = r#"{"id":"chatcmpl-bench","object":"chat.completion","created":1,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"The quick brown fox jumps over the lazy dog. It was a sunny day."},"finish_reason":"stop"}],"usage":{"prompt_tokens":42,"completion_tokens":16,"total_tokens":58}}"#;

fn sse_parts() -> Vec<Bytes> {
    let mut parts = Vec::new();
    for i in 0..20 {
        parts.push(Bytes::from(format!(
            "data: {{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"bench-model\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"word{i} \"}},\"finish_reason\":null}}]}}\n\n"
        )));
    }
    parts.push(Bytes::from_static(b"data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"bench-model\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"));
    parts.push(Bytes::from_static(b"data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"bench-model\",\"choices\":[],\"usage\":{\"prompt_tokens\":42,\"completion_tokens\":20,\"total_tokens\":62}}\n\n"));
    parts.push(Bytes::from_static(b"data: [DONE]\n\n"));
    parts
}

/// Child-process mode: serve the mock and print its port.
async fn serve() -> std::io::Result<()> {
    let parts = sse_parts();
    let server = MockServer::start_on(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        move |req| {
            if req.body.windows(13).any(|w| w == b"\"stream\":true") {
                MockResponse::sse(parts.clone())
            } else {
                MockResponse::json(200, CHAT_BODY)
            }
        },
        false,
    )
    .await?;
    println!("{}", server.addr().port());
    // Run until the parent closes our stdin.
    let mut line = String::new();
    let _ = tokio::io::BufReader::new(tokio::io::stdin())
        .read_line(&mut line)
        .await;
    Ok(())
}

fn cpu_now() -> Duration {
    cpu_time::ProcessTime::try_now()
        .map(|t| t.as_duration())
        .unwrap_or_default()
}

struct Stats {
    cpu_us: f64,
    p50_us: f64,
    p99_us: f64,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)].as_secs_f64() * 1e6
}

/// Unique prompt numbers across all runs, so every stack request is a cache miss.
static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn unique() -> usize {
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

type Call =
    Arc<dyn Fn(usize) -> futures::future::BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// One timed run: CPU per request and every latency.
async fn run_once(
    call: &Call,
    requests: usize,
    concurrency: usize,
) -> Result<(f64, Vec<Duration>), String> {
    let per_task = (requests / concurrency).max(1);
    let cpu0 = cpu_now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_task);
            for _ in 0..per_task {
                let start = Instant::now();
                call(unique()).await?;
                lat.push(start.elapsed());
            }
            Ok::<_, String>(lat)
        }));
    }
    let mut all = Vec::with_capacity(requests);
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())??);
    }
    let cpu = cpu_now() - cpu0;
    Ok((cpu.as_secs_f64() * 1e6 / all.len() as f64, all))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Bare and stack runs interleaved in `ROUNDS` rounds, so drift in the machine's load hits
/// both alike; CPU is the median over rounds, the difference the median of paired rounds.
const ROUNDS: usize = 9;

async fn compare(
    bare: Call,
    stack: Call,
    requests: usize,
    concurrency: usize,
) -> Result<(Stats, Stats, f64), String> {
    for _ in 0..200.min(requests) {
        bare(unique()).await?;
        stack(unique()).await?;
    }
    let per_round = (requests / ROUNDS).max(concurrency);
    let (mut bare_cpu, mut stack_cpu, mut diffs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut bare_lat, mut stack_lat) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let (b, bl) = run_once(&bare, per_round, concurrency).await?;
        let (s, sl) = run_once(&stack, per_round, concurrency).await?;
        bare_cpu.push(b);
        stack_cpu.push(s);
        diffs.push(s - b);
        bare_lat.extend(bl);
        stack_lat.extend(sl);
    }
    bare_lat.sort_unstable();
    stack_lat.sort_unstable();
    let stats = |cpu: Vec<f64>, lat: &[Duration]| Stats {
        cpu_us: median(cpu),
        p50_us: percentile(lat, 0.5),
        p99_us: percentile(lat, 0.99),
    };
    Ok((
        stats(bare_cpu, &bare_lat),
        stats(stack_cpu, &stack_lat),
        median(diffs),
    ))
}

fn bare_call(client: reqwest::Client, url: String, stream: bool) -> Call {
    Arc::new(move |i| {
        let client = client.clone();
        let url = url.clone();
        Box::pin(async move {
            let body = serde_json::json!({
                "model": "bench-model",
                "messages": [{"role": "user", "content": format!("Question number {i}: what is the capital of France?")}],
                "temperature": 0.0,
                "max_tokens": 64,
                "stream": stream,
            });
            let resp = client
                .post(&url)
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&body).map_err(|e| e.to_string())?)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if stream {
                let mut s = resp.bytes_stream();
                while let Some(chunk) = s.next().await {
                    chunk.map_err(|e| e.to_string())?;
                }
            } else {
                resp.bytes().await.map_err(|e| e.to_string())?;
            }
            Ok(())
        })
    })
}

fn stack_call(model: Arc<dyn ChatModel>, stream: bool) -> Call {
    Arc::new(move |i| {
        let model = model.clone();
        Box::pin(async move {
            let request = ChatRequest::new(vec![Message::user(format!(
                "Question number {i}: what is the capital of France?"
            ))])
            .temperature(0.0)
            .max_tokens(64)
            .key(format!("tenant-{}", i % 16));
            if stream {
                let mut s = model.stream(request).await.map_err(|e| e.to_string())?;
                let mut n = 0;
                while let Some(ev) = s.next().await {
                    if let StreamEvent::TextDelta { .. } = ev.map_err(|e| e.to_string())? {
                        n += 1;
                    }
                }
                if n != 20 {
                    return Err(format!("expected 20 text chunks, got {n}"));
                }
            } else {
                let r = model.generate(request).await.map_err(|e| e.to_string())?;
                if r.text().is_empty() {
                    return Err("empty answer".into());
                }
            }
            Ok(())
        })
    })
}

/// The stack under test. `layers` picks layers by letter (default all): T telemetry,
/// O timeout, C cache, L rate limit, $ cost, R retry; the router is always there.
fn full_stack(base: &str, layers: &str) -> Result<Arc<dyn ChatModel>, String> {
    let provider: Arc<dyn ChatModel> = Arc::new(
        OpenAiProvider::compatible(base, "openai")
            .model("bench-model")
            .build()
            .map_err(|e| e.to_string())?,
    );
    let router = Arc::new(
        Router::builder("cloud", provider.clone())
            .route(
                "local",
                Rule::sensitivity_at_least(ai_core::Sensitivity::Restricted),
                provider,
            )
            .build(),
    );
    let mut prices = PriceTable::with_defaults();
    prices.set("bench-model", ModelPrice::new(150_000, 600_000));
    let prices = Arc::new(prices);
    let which = layers;
    let mut s = Stack::new();
    if which.contains('T') {
        s = s.layer(TelemetryLayer::new());
    }
    if which.contains('O') {
        s = s.layer(
            TimeoutLayer::new()
                .total(Duration::from_secs(30))
                .first_chunk(Duration::from_secs(10)),
        );
    }
    if which.contains('C') {
        s = s.layer(CacheLayer::in_memory(256 << 20, Duration::from_secs(600)));
    }
    if which.contains('L') {
        s = s.layer(
            RateLimitLayer::new(Limits {
                requests_per_minute: Some(100_000_000),
                tokens_per_day: Some(u64::MAX / 4),
                cost_per_day_micros: Some(u64::MAX / 4_000),
                ..Limits::default()
            })
            .prices(prices.clone()),
        );
    }
    if which.contains('$') {
        s = s.layer(CostLayer::new(prices, Arc::new(InMemoryCostLedger::new())));
    }
    if which.contains('R') {
        s = s.layer(RetryLayer::default());
    }
    Ok(s.build_chat(router))
}

async fn bench(requests: usize, layers: &str, provider_only: bool) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = tokio::process::Command::new(exe)
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| e.to_string())?;
    let stdout = child.stdout.take().ok_or("no child stdout")?;
    let mut line = String::new();
    tokio::io::BufReader::new(stdout)
        .read_line(&mut line)
        .await
        .map_err(|e| e.to_string())?;
    let port: u16 = line
        .trim()
        .parse()
        .map_err(|_| format!("bad port line `{line}`"))?;
    let base = format!("http://127.0.0.1:{port}/v1");
    let url = format!("{base}/chat/completions");

    // A realistic observability set-up: metrics recorded, spans created for a subscriber.
    let _prom = ai_core::prometheus::install_recorder().map_err(|e| e.to_string())?;
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _ = tracing::subscriber::set_global_default(subscriber);

    let client =
        ai_providers::http::build_client(&Default::default()).map_err(|e| e.to_string())?;
    let stack: Arc<dyn ChatModel> = if provider_only {
        Arc::new(
            OpenAiProvider::compatible(base.as_str(), "openai")
                .model("bench-model")
                .build()
                .map_err(|e| e.to_string())?,
        )
    } else {
        full_stack(&base, layers)?
    };
    println!(
        "stack under test: {}",
        if provider_only {
            "the OpenAI provider alone".to_string()
        } else {
            format!("layers `{layers}` + router + OpenAI provider")
        }
    );

    println!(
        "requests per scenario and path: {requests} in {ROUNDS} interleaved rounds; CPU = user+system time of this process per request (median of rounds); Δ cpu = median of paired round differences"
    );
    println!(
        "{:<12} {:>5} | {:>9} {:>9} {:>9} | {:>9} {:>9} {:>9} | {:>9} {:>9}",
        "scenario",
        "conc",
        "bare cpu",
        "bare p50",
        "bare p99",
        "stack cpu",
        "stack p50",
        "stack p99",
        "Δ cpu µs",
        "Δ p50 µs"
    );
    for stream in [false, true] {
        for concurrency in [1usize, 64] {
            let (bare, full, cpu_diff) = compare(
                bare_call(client.clone(), url.clone(), stream),
                stack_call(stack.clone(), stream),
                requests,
                concurrency,
            )
            .await?;
            println!(
                "{:<12} {:>5} | {:>9.1} {:>9.1} {:>9.1} | {:>9.1} {:>9.1} {:>9.1} | {:>9.1} {:>9.1}",
                if stream { "stream-20" } else { "non-stream" },
                concurrency,
                bare.cpu_us,
                bare.p50_us,
                bare.p99_us,
                full.cpu_us,
                full.p50_us,
                full.p99_us,
                cpu_diff,
                full.p50_us - bare.p50_us,
            );
        }
    }
    drop(child);
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let serving = args.iter().any(|a| a == "--serve");
    let requests = args
        .iter()
        .position(|a| a == "--requests")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(9000usize)
        .max(64);
    let layers = args
        .iter()
        .position(|a| a == "--layers")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "TOCL$R".to_string());
    let provider_only = args.iter().any(|a| a == "--provider-only");
    // The client runs on a current-thread runtime: its CPU time is then the work of the calls
    // themselves, not idle workers spinning and stealing on a 2-core machine shared with the
    // mock server process.
    let built = if serving {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    let runtime = match built {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = if serving {
        runtime.block_on(serve()).map_err(|e| e.to_string())
    } else {
        runtime.block_on(bench(requests, &layers, provider_only))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("overhead benchmark failed: {e}");
            ExitCode::FAILURE
        }
    }
}
