//! The demo platform: an axum service standing for an existing business application (a
//! legacy FAQ endpoint with its own rules) with AI added next to it.
//!
//! Routes: `GET /legacy/answer?q=` (the existing logic), `POST /ai/chat` (the model behind the
//! guards, with fallback to the legacy answer and a circuit breaker), `POST /ai/jobs` and
//! `GET /ai/jobs/{id}` (async summaries, optional signed webhook), `POST /ai/stream` (SSE),
//! `GET /ai/search?q=` and `POST /ai/answer` (RAG over the project's own `docs/`, cited),
//! `GET /metrics` (Prometheus), `GET /healthz` (ready when the model answers).
//!
//! ```sh
//! cargo run --release -p examples --example platform -- --demo          # start, drive, print, exit
//! cargo run --release -p examples --example platform -- --serve 0.0.0.0:8080
//! cargo run --release -p examples --example platform -- --load 20000 --concurrency 256  # mock model
//! ```
//!
//! Embedded defaults: the in-process SmolLM2 and MiniLM from `ai-infer`, in-memory stores.
//! Environment switches: `AI_PROVIDER` (+ the provider's variables, see `ai_providers::env`)
//! for a hosted or self-hosted model; `REDIS_URL` for a shared cache and rate limits;
//! `DATABASE_URL` for PostgreSQL jobs; `WEBHOOK_SECRET` (`whsec_…`) to sign callbacks.
#![allow(clippy::print_stdout)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ai_core::jobs::{JobQueue, JobStore, MemoryJobStore, Submit};
use ai_core::layers::Stack;
use ai_core::layers::cache::CacheLayer;
use ai_core::layers::rate_limit::{LimitStore, Limits, RateLimitLayer};
use ai_core::layers::retry::RetryLayer;
use ai_core::layers::telemetry::TelemetryLayer;
use ai_core::layers::timeout::TimeoutLayer;
use ai_core::webhook::{AddressPolicy, Secret, WebhookSender, spawn_dispatcher};
use ai_core::{ChatModel, ChatRequest, EmbeddingModel, ErrorKind, Message};
use ai_guard::{GuardLayer, GuardMode};
use ai_rag::chunk::MarkdownChunker;
use ai_rag::retrieve::Bm25Retriever;
use ai_rag::store::MemoryStore;
use ai_rag::{
    Bm25Index, ContextBuilder, DenseRetriever, Document, Extractive, HybridRetriever, Ingestor,
    RagPipeline, Retriever,
};
use ai_rollout::{BreakerConfig, CircuitBreaker, Fallback, Served};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

/// The "existing platform": keyword rules written years ago.
fn legacy_answer(q: &str) -> String {
    let q = q.to_lowercase();
    let rules = [
        (
            "refund",
            "Refunds are possible within 30 days of delivery; use the returns form.",
        ),
        ("password", "Reset your password under Settings → Security."),
        ("shipping", "Standard shipping takes 3–5 business days."),
        ("invoice", "Invoices are in your account under Billing."),
    ];
    rules
        .iter()
        .find(|(k, _)| q.contains(k))
        .map_or(
            "Please contact support; an agent will reply within one business day.",
            |r| r.1,
        )
        .to_owned()
}

#[derive(Clone)]
struct App {
    chat: Arc<dyn ChatModel>,
    fallback_breaker: Arc<CircuitBreaker>,
    ai_timeout: Duration,
    jobs: Arc<JobQueue>,
    retriever: Option<Arc<dyn Retriever>>,
    rag: Option<Arc<RagPipeline>>,
    metrics: Option<ai_core::prometheus::PrometheusHandle>,
}

fn error(e: &ai_core::AiError) -> Response {
    ai_core::sse::error_response(e)
}

#[derive(Deserialize)]
struct Q {
    q: String,
}

async fn legacy(Query(q): Query<Q>) -> Json<Value> {
    Json(json!({ "answer": legacy_answer(&q.q) }))
}

#[derive(Deserialize)]
struct ChatBody {
    question: String,
    #[serde(default)]
    tenant: Option<String>,
}

fn chat_request(body: &ChatBody) -> ChatRequest {
    ChatRequest::new(vec![
        Message::system(
            "You are the support assistant of an online shop. Answer in one or two sentences.",
        ),
        Message::user(body.question.clone()),
    ])
    .temperature(0.0)
    .max_tokens(48)
    .key(body.tenant.clone().unwrap_or_else(|| "anonymous".into()))
}

async fn ai_chat(State(app): State<App>, Json(body): Json<ChatBody>) -> Response {
    let chat = app.chat.clone();
    let primary = move |req: ChatRequest| {
        let chat = chat.clone();
        async move { chat.generate(req).await.map(|r| r.text()) }
    };
    let legacy = |req: ChatRequest| async move {
        let q = req.messages.last().map(|m| m.text()).unwrap_or_default();
        Ok::<String, ai_core::AiError>(legacy_answer(&q))
    };
    // Guard refusals and bad requests are answers in themselves, not reasons to fall back.
    let fallback = Fallback::new(primary, legacy, app.ai_timeout)
        .fall_back_on(|e: &ai_core::AiError| {
            !matches!(e.kind(), ErrorKind::Guard | ErrorKind::BadRequest)
        })
        .breaker(app.fallback_breaker.clone());
    match fallback.call(chat_request(&body)).await {
        Ok((answer, served)) => {
            let served = match served {
                Served::Primary => "ai".to_owned(),
                Served::Fallback(why) => format!("legacy ({why})"),
            };
            Json(json!({ "answer": answer.trim(), "served_by": served })).into_response()
        }
        Err(ai_rollout::FallbackError::Primary(e)) => error(&e),
        Err(ai_rollout::FallbackError::Legacy { legacy, .. }) => error(&legacy),
    }
}

async fn ai_stream(State(app): State<App>, Json(body): Json<ChatBody>) -> Response {
    match app.chat.stream(chat_request(&body)).await {
        Ok(s) => ai_core::sse::sse(s).into_response(),
        Err(e) => error(&e),
    }
}

#[derive(Deserialize)]
struct JobBody {
    text: String,
    #[serde(default)]
    callback_url: Option<String>,
    #[serde(default)]
    idempotency_key: Option<String>,
}

async fn submit_job(State(app): State<App>, Json(body): Json<JobBody>) -> Response {
    let mut s = Submit::new(json!({ "text": body.text })).deadline(Duration::from_secs(300));
    if let Some(k) = body.idempotency_key {
        s = s.idempotency_key(k);
    }
    if let Some(u) = body.callback_url {
        s = s.callback_url(u);
    }
    match app.jobs.submit(s).await {
        Ok(job) => (
            StatusCode::ACCEPTED,
            Json(json!({ "id": job.id, "status": job.status })),
        )
            .into_response(),
        Err(e) => error(&e),
    }
}

async fn job_status(State(app): State<App>, Path(id): Path<String>) -> Response {
    match app.jobs.status(&id).await {
        Ok(job) => Json(serde_json::to_value(&job).unwrap_or(Value::Null)).into_response(),
        Err(e) => error(&e),
    }
}

async fn search(State(app): State<App>, Query(q): Query<Q>) -> Response {
    let Some(r) = &app.retriever else {
        return (StatusCode::SERVICE_UNAVAILABLE, "search is not configured").into_response();
    };
    match r.retrieve(&q.q, 3, None).await {
        Ok(hits) => Json(json!(hits.iter().map(|h| json!({
            "document": h.chunk.document_id, "bytes": [h.chunk.bytes.start, h.chunk.bytes.end],
            "score": h.score, "text": h.chunk.text.chars().take(160).collect::<String>(),
        })).collect::<Vec<_>>()))
        .into_response(),
        Err(e) => error(&e),
    }
}

#[derive(Deserialize)]
struct AnswerBody {
    question: String,
}

async fn answer(State(app): State<App>, Json(body): Json<AnswerBody>) -> Response {
    let Some(rag) = &app.rag else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "answers are not configured",
        )
            .into_response();
    };
    match rag.answer(&body.question, None).await {
        Ok(a) => Json(json!({
            "answer": a.text,
            "sources": a.quotes.iter().map(|q| json!({
                "number": q.number, "document": q.document_id, "bytes": [q.bytes.start, q.bytes.end],
            })).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(e) => error(&e),
    }
}

async fn metrics(State(app): State<App>) -> Response {
    match &app.metrics {
        Some(h) => h.render().into_response(),
        None => (StatusCode::NOT_FOUND, "metrics are not installed").into_response(),
    }
}

/// Ready when the model produces a token within 30 s.
async fn healthz(State(app): State<App>) -> Response {
    let probe = ChatRequest::user("Say OK.").max_tokens(1).temperature(0.0);
    match tokio::time::timeout(Duration::from_secs(30), app.chat.generate(probe)).await {
        Ok(Ok(_)) => Json(json!({ "status": "ready" })).into_response(),
        Ok(Err(e)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not ready", "error": e.message() })),
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not ready", "error": "model timed out" })),
        )
            .into_response(),
    }
}

fn router(app: App) -> Router {
    Router::new()
        .route("/legacy/answer", get(legacy))
        .route("/ai/chat", post(ai_chat))
        .route("/ai/stream", post(ai_stream))
        .route("/ai/jobs", post(submit_job))
        .route("/ai/jobs/{id}", get(job_status))
        .route("/ai/search", get(search))
        .route("/ai/answer", post(answer))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(app)
}

struct Parts {
    chat: Arc<dyn ChatModel>,
    embedder: Option<Arc<dyn EmbeddingModel>>,
}

fn models_dir() -> String {
    std::env::var("AI_INFER_MODELS").unwrap_or_else(|_| ".cache/models".into())
}

/// The model: a provider from the environment, or the embedded SmolLM2.
type Models = (Arc<dyn ChatModel>, Option<Arc<dyn EmbeddingModel>>);

fn load_models() -> ai_core::Result<Models> {
    if std::env::var_os("AI_PROVIDER").is_some() {
        return Ok((ai_providers::from_env()?, None));
    }
    let models = models_dir();
    let options = ai_infer::SessionOptions::with_threads(2);
    let chat = ai_infer::OnnxChatModel::load(
        &ai_infer::ModelFiles::from_dir(format!("{models}/smollm2-135m-instruct-int4"))?,
        &options,
    )?;
    let embedder = ai_infer::OnnxEmbedder::load(
        &ai_infer::ModelFiles::from_dir(format!("{models}/all-MiniLM-L6-v2-int8"))?,
        &options,
    )?;
    Ok((Arc::new(chat), Some(Arc::new(embedder))))
}

async fn build_stack(
    raw: Arc<dyn ChatModel>,
    requests_per_minute: u64,
) -> ai_core::Result<Arc<dyn ChatModel>> {
    let limits = Limits {
        requests_per_minute: Some(requests_per_minute),
        ..Limits::default()
    };
    let (cache, limit_store): (CacheLayer, Option<Arc<dyn LimitStore>>) =
        match std::env::var("REDIS_URL") {
            Ok(url) => (
                CacheLayer::new(
                    Arc::new(
                        ai_core::layers::redis_store::RedisCacheStore::connect(
                            &url,
                            "platform:cache:",
                        )
                        .await?,
                    ),
                    Duration::from_secs(600),
                ),
                Some(Arc::new(
                    ai_core::layers::redis_store::RedisLimitStore::connect(&url, "platform:limit:")
                        .await?,
                )),
            ),
            Err(_) => (
                CacheLayer::in_memory(64 << 20, Duration::from_secs(600)),
                None,
            ),
        };
    let mut rate = RateLimitLayer::new(limits);
    if let Some(s) = limit_store {
        rate = rate.store(s);
    }
    Ok(Stack::new()
        .layer(TelemetryLayer::new())
        .layer(GuardLayer::standard(GuardMode::Redact))
        .layer(TimeoutLayer::new().total(Duration::from_secs(60)))
        .layer(cache)
        .layer(rate)
        .layer(RetryLayer::default())
        .build_chat(raw))
}

async fn build_app(
    parts: Parts,
    metrics: Option<ai_core::prometheus::PrometheusHandle>,
    with_docs: bool,
) -> ai_core::Result<App> {
    let store: Arc<dyn JobStore> = match std::env::var("DATABASE_URL") {
        Ok(url) => Arc::new(ai_core::jobs::PgJobStore::connect(&url, "platform_jobs").await?),
        Err(_) => Arc::new(MemoryJobStore::new()),
    };
    let summarizer = parts.chat.clone();
    let jobs = JobQueue::builder(store.clone())
        .workers(2)
        .start(move |input: Value| {
            let model = summarizer.clone();
            async move {
                let text = input["text"].as_str().unwrap_or_default().to_owned();
                let r = model
                    .generate(
                        ChatRequest::user(format!("Summarise in one sentence: {text}"))
                            .temperature(0.0)
                            .max_tokens(40),
                    )
                    .await?;
                Ok::<_, ai_core::AiError>(json!({ "summary": r.text().trim() }))
            }
        });
    let secret = match std::env::var("WEBHOOK_SECRET") {
        Ok(s) => Secret::from_string(&s)?,
        Err(_) => Secret::generate(),
    };
    let mut policy = AddressPolicy::public_only();
    if std::env::var("WEBHOOK_ALLOW_LOOPBACK").as_deref() == Ok("1") {
        policy = policy.allow(
            "127.0.0.1"
                .parse()
                .map_err(|_| ai_core::AiError::config("ip"))?,
        );
    }
    let sender = Arc::new(WebhookSender::new(secret).policy(policy).retries(
        5,
        Duration::from_millis(200),
        Duration::from_secs(30),
    ));
    let _dispatcher = spawn_dispatcher(sender, store, Duration::from_millis(100));

    let (retriever, rag) = match (&parts.embedder, with_docs) {
        (Some(embedder), true) => {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let mut docs = Vec::new();
            for entry in std::fs::read_dir(root.join("docs"))
                .map_err(|e| ai_core::AiError::config(format!("docs/: {e}")))?
            {
                let path = entry
                    .map_err(|e| ai_core::AiError::config(e.to_string()))?
                    .path();
                if path.extension().is_some_and(|x| x == "md") {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| ai_core::AiError::config(e.to_string()))?;
                    let name = format!(
                        "docs/{}",
                        path.file_name()
                            .map(|f| f.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    );
                    docs.push(Document::new(name, text));
                }
            }
            let store = Arc::new(MemoryStore::exact());
            let bm25 = Arc::new(Bm25Index::default());
            Ingestor::new(
                Arc::new(MarkdownChunker::new(600, 0)),
                embedder.clone(),
                store.clone(),
            )
            .with_bm25(bm25.clone())
            .ingest(docs)
            .await?;
            let retriever: Arc<dyn Retriever> = Arc::new(HybridRetriever::new(
                vec![
                    Arc::new(DenseRetriever::new(store, embedder.clone())),
                    Arc::new(Bm25Retriever::new(bm25)),
                ],
                20,
            ));
            let rag = RagPipeline::extractive(
                retriever.clone(),
                Extractive::new(embedder.clone()),
                ContextBuilder::new(700),
            )
            .top_k(4);
            (Some(retriever), Some(Arc::new(rag)))
        }
        _ => (None, None),
    };
    Ok(App {
        chat: parts.chat,
        fallback_breaker: Arc::new(CircuitBreaker::new(BreakerConfig::default())),
        ai_timeout: Duration::from_secs(60),
        jobs: Arc::new(jobs),
        retriever,
        rag,
        metrics,
    })
}

async fn serve(
    app: App,
    addr: SocketAddr,
) -> ai_core::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| ai_core::AiError::config(format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| ai_core::AiError::config(e.to_string()))?;
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router(app)).await {
            eprintln!("server stopped: {e}");
        }
    });
    Ok((local, handle))
}

async fn post_json(client: &reqwest::Client, url: &str, body: Value) -> Result<Value, String> {
    let r = client
        .post(url)
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    r.json().await.map_err(|e| e.to_string())
}

/// The platform as served: the configured model behind the guarded stack, docs indexed,
/// metrics from `handle`.
async fn embedded_app(handle: ai_core::prometheus::PrometheusHandle) -> ai_core::Result<App> {
    let (chat, embedder) = load_models()?;
    let guarded = build_stack(chat, 600).await?;
    build_app(
        Parts {
            chat: guarded,
            embedder,
        },
        Some(handle),
        true,
    )
    .await
}

/// Start the platform on an ephemeral port, drive one request of each kind, print, exit.
async fn demo() -> ai_core::Result<()> {
    let handle = ai_core::prometheus::install_recorder()?;
    let app = embedded_app(handle.clone()).await?;
    let (addr, server) = serve(
        app,
        "127.0.0.1:0"
            .parse()
            .map_err(|_| ai_core::AiError::config("addr"))?,
    )
    .await?;
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| ai_core::AiError::config(e.to_string()))?;
    println!("platform listening on {base}");
    let show = |label: &str, v: &Result<Value, String>| match v {
        Ok(v) => println!("  {label}: {v}"),
        Err(e) => println!("  {label}: failed: {e}"),
    };

    println!("\n== GET /healthz ==");
    let h = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .map_err(|e| ai_core::AiError::config(e.to_string()))?;
    println!("  {} {}", h.status(), h.text().await.unwrap_or_default());

    println!("\n== GET /legacy/answer (the existing logic) ==");
    let v = async {
        client
            .get(format!("{base}/legacy/answer?q=how+do+refunds+work"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json::<Value>()
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    show("refunds", &v);

    println!("\n== POST /ai/chat (guarded local model; legacy answer on failure) ==");
    let v = post_json(
        &client,
        &format!("{base}/ai/chat"),
        json!({"question": "How long does standard shipping take?", "tenant": "acme"}),
    )
    .await;
    show("shipping", &v);

    println!("\n== POST /ai/stream (Server-Sent Events) ==");
    let r = client
        .post(format!("{base}/ai/stream"))
        .json(&json!({"question": "Say hello to a new customer."}))
        .send()
        .await
        .map_err(|e| ai_core::AiError::config(e.to_string()))?;
    let body = r.text().await.unwrap_or_default();
    let events: Vec<&str> = body
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    let text: String = body
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .collect();
    let preview: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(120)
        .collect();
    println!(
        "  {} events ({} text_delta, last: {}): {preview}",
        events.len(),
        events.iter().filter(|e| **e == "text_delta").count(),
        events.last().unwrap_or(&"-")
    );

    println!("\n== POST /ai/jobs, then GET /ai/jobs/{{id}} until done ==");
    let job = post_json(&client, &format!("{base}/ai/jobs"), json!({"text": "The customer ordered a blue kettle on Monday, it arrived broken on Wednesday, and they want a replacement rather than a refund.", "idempotency_key": "demo-1"})).await;
    show("submitted", &job);
    if let Ok(job) = &job
        && let Some(id) = job["id"].as_str()
    {
        let start = Instant::now();
        loop {
            let v = async {
                client
                    .get(format!("{base}/ai/jobs/{id}"))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .json::<Value>()
                    .await
                    .map_err(|e| e.to_string())
            }
            .await;
            let done = v
                .as_ref()
                .map(|v| {
                    matches!(
                        v["status"].as_str(),
                        Some("succeeded" | "failed" | "cancelled")
                    )
                })
                .unwrap_or(true);
            if done || start.elapsed() > Duration::from_secs(60) {
                match v {
                    Ok(v) => println!(
                        "  {}: {} (attempts {}, result {})",
                        v["id"], v["status"], v["attempts"], v["result"]
                    ),
                    Err(e) => println!("  failed: {e}"),
                }
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    println!("\n== GET /ai/search (hybrid retrieval over docs/) ==");
    let v = async {
        client
            .get(format!("{base}/ai/search?q=circuit+breaker+half-open"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json::<Value>()
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    if let Ok(Value::Array(hits)) = &v {
        for h in hits {
            println!(
                "  {} bytes {} score {:.3}",
                h["document"],
                h["bytes"],
                h["score"].as_f64().unwrap_or(0.0)
            );
        }
    } else {
        show("search", &v);
    }

    println!("\n== POST /ai/answer (cited, from docs/) ==");
    let v = post_json(
        &client,
        &format!("{base}/ai/answer"),
        json!({"question": "Which addresses are refused as webhook targets?"}),
    )
    .await;
    match &v {
        Ok(v) => {
            println!("  answer: {}", v["answer"].as_str().unwrap_or(""));
            println!("  sources: {}", v["sources"]);
        }
        Err(e) => println!("  failed: {e}"),
    }

    println!("\n== GET /metrics (summary) ==");
    let m = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .map_err(|e| ai_core::AiError::config(e.to_string()))?
        .text()
        .await
        .unwrap_or_default();
    for line in m.lines().filter(|l| !l.starts_with('#')) {
        if [
            "ai_requests",
            "ai_guard_decisions",
            "ai_rollout_fallback",
            "ai_jobs_finished",
            "ai_cache_requests",
        ]
        .iter()
        .any(|p| line.starts_with(p))
        {
            println!("  {line}");
        }
    }
    server.abort();
    println!("\nplatform demo done");
    Ok(())
}

/// `--load N --concurrency C`: N requests to /ai/chat with a mock model (no model, no network
/// beyond loopback); prints errors, throughput, resident memory growth and live tasks.
async fn load(n: usize, concurrency: usize) -> ai_core::Result<()> {
    let mock: Arc<dyn ChatModel> = Arc::new(ai_core::testing::ScriptedModel::new(vec![
        ai_core::testing::Step::Reply(ai_core::ChatResponse::text_answer(
            "Standard shipping takes 3 to 5 business days.",
        )),
    ]));
    // Limits high enough that the load test measures the service, not the limiter.
    let guarded = build_stack(mock, 10_000_000).await?;
    let app = build_app(
        Parts {
            chat: guarded,
            embedder: None,
        },
        None,
        false,
    )
    .await?;
    let (addr, server) = serve(
        app,
        "127.0.0.1:0"
            .parse()
            .map_err(|_| ai_core::AiError::config("addr"))?,
    )
    .await?;
    let url = format!("http://{addr}/ai/chat");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| ai_core::AiError::config(e.to_string()))?;
    let rss = common::rss_mib;
    let tasks = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    let run = |count: usize| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let errors = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let mut workers = Vec::new();
            for w in 0..concurrency {
                let (client, url, next, errors) =
                    (client.clone(), url.clone(), next.clone(), errors.clone());
                workers.push(tokio::spawn(async move {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= count {
                            break;
                        }
                        // Distinct questions: no cache hits, every request reaches the model.
                        let body = json!({"question": format!("Where is order {i}?"), "tenant": format!("t{}", w % 8)});
                        let ok = match client.post(&url).json(&body).send().await {
                            Ok(r) => r.status().is_success() && r.json::<Value>().await.map(|v| v["served_by"] == "ai").unwrap_or(false),
                            Err(_) => false,
                        };
                        if !ok {
                            errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                }));
            }
            for w in workers {
                let _ = w.await;
            }
            errors.load(std::sync::atomic::Ordering::Relaxed)
        }
    };
    // Warm-up (connections, allocator), then the measured run.
    run(2_000).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (rss0, tasks0) = (rss(), tasks());
    let start = Instant::now();
    let errors = run(n).await;
    let secs = start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (rss1, tasks1) = (rss(), tasks());
    println!(
        "load: {n} requests at concurrency {concurrency}: {errors} errors, {:.0} requests/s, RSS {rss0:.1} → {rss1:.1} MiB (+{:.1}), live tasks {tasks0} → {tasks1}",
        n as f64 / secs,
        rss1 - rss0
    );
    server.abort();
    if errors > 0 {
        return Err(ai_core::AiError::new(
            ErrorKind::Provider,
            format!("{errors} requests failed"),
        ));
    }
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let result = if args.iter().any(|a| a == "--demo") {
        demo().await
    } else if let Some(n) = arg("--load") {
        let n = n.parse().unwrap_or(20_000);
        let c = arg("--concurrency")
            .and_then(|c| c.parse().ok())
            .unwrap_or(256);
        load(n, c).await
    } else {
        let addr: SocketAddr = arg("--serve")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080)));
        async {
            let app = embedded_app(ai_core::prometheus::install_recorder()?).await?;
            let (local, server) = serve(app, addr).await?;
            println!("platform listening on http://{local}");
            let _ = tokio::signal::ctrl_c().await;
            server.abort();
            Ok(())
        }
        .await
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("platform failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
