//! Behaviour of each layer and of a composed stack, against a scripted model.

use std::sync::Arc;
use std::time::Duration;

use ai_core::layers::*;
use ai_core::testing::{ScriptedModel, Step};
use ai_core::{
    AiError, CacheMode, ChatModel, ChatRequest, ChatResponse, ErrorKind, FinishReason, Sensitivity,
    StreamEvent, Usage, collect_stream,
};
use futures::StreamExt;

fn err(kind: ErrorKind) -> Step {
    Step::Fail(AiError::new(kind, "scripted"))
}

fn reply(text: &str) -> Step {
    Step::Reply(ChatResponse::text_answer(text))
}

fn reply_with_usage(text: &str, input: u64, output: u64) -> Step {
    let mut r = ChatResponse::text_answer(text);
    r.usage = Some(Usage {
        input_tokens: input,
        output_tokens: output,
        ..Usage::default()
    });
    Step::Reply(r)
}

fn fast_retry() -> RetryLayer {
    RetryLayer::new(RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
        budget: None,
        ..RetryPolicy::default()
    })
}

fn text_events(parts: &[&str], gap: Duration) -> Vec<(Duration, ai_core::Result<StreamEvent>)> {
    let mut v: Vec<_> = parts
        .iter()
        .map(|p| (gap, Ok(StreamEvent::text(*p))))
        .collect();
    v.push((
        Duration::ZERO,
        Ok(StreamEvent::Finish {
            reason: FinishReason::Stop,
        }),
    ));
    v
}

// ---------------------------------------------------------------- retry

#[tokio::test(start_paused = true)]
async fn retry_recovers_from_transient_errors_and_honours_retry_after() {
    let inner = Arc::new(ScriptedModel::new(vec![
        err(ErrorKind::Unavailable),
        Step::Fail(
            AiError::new(ErrorKind::RateLimited, "slow down")
                .with_retry_after(Duration::from_secs(7)),
        ),
        reply("ok"),
    ]));
    let model = Stack::new().layer(fast_retry()).build_chat(inner.clone());
    let start = tokio::time::Instant::now();
    let r = model.generate(ChatRequest::user("x")).await.unwrap();
    assert_eq!(r.text(), "ok");
    assert_eq!(r.meta.attempts, Some(3));
    assert_eq!(inner.calls(), 3);
    assert!(
        start.elapsed() >= Duration::from_secs(7),
        "waited {:?}",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn retry_never_repeats_permanent_errors() {
    for kind in [
        ErrorKind::Auth,
        ErrorKind::BadRequest,
        ErrorKind::ContextLength,
        ErrorKind::QuotaExceeded,
        ErrorKind::NotFound,
    ] {
        let inner = Arc::new(ScriptedModel::new(vec![err(kind), reply("never")]));
        let model = Stack::new().layer(fast_retry()).build_chat(inner.clone());
        let e = model.generate(ChatRequest::user("x")).await.unwrap_err();
        assert_eq!(e.kind(), kind);
        assert_eq!(inner.calls(), 1, "{kind}");
    }
}

#[tokio::test(start_paused = true)]
async fn retry_gives_up_after_max_attempts() {
    let inner = Arc::new(ScriptedModel::new(vec![err(ErrorKind::Unavailable)]));
    let model = Stack::new().layer(fast_retry()).build_chat(inner.clone());
    let e = model.generate(ChatRequest::user("x")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(inner.calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn retry_budget_limits_retries_during_an_outage() {
    let inner = Arc::new(ScriptedModel::new(vec![err(ErrorKind::Unavailable)]));
    let model = Stack::new()
        .layer(RetryLayer::new(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            budget: Some(Arc::new(RetryBudget::new(Duration::from_secs(10), 0, 0.1))),
            ..RetryPolicy::default()
        }))
        .build_chat(inner.clone());
    for _ in 0..100 {
        let _ = model.generate(ChatRequest::user("x")).await;
    }
    // 100 requests, at most 10 % extra: without a budget this would be 300 calls.
    assert!(inner.calls() <= 110, "{} calls", inner.calls());
    assert!(inner.calls() >= 100);
}

#[tokio::test(start_paused = true)]
async fn stream_is_retried_only_before_the_first_event() {
    // Fails on open, then streams: retried.
    let inner = Arc::new(ScriptedModel::new(vec![
        err(ErrorKind::Unavailable),
        Step::Stream(text_events(&["a", "b"], Duration::ZERO)),
    ]));
    let model = Stack::new().layer(fast_retry()).build_chat(inner.clone());
    let r = collect_stream(model.stream(ChatRequest::user("x")).await.unwrap())
        .await
        .unwrap();
    assert_eq!(r.text(), "ab");
    assert_eq!(inner.calls(), 2);

    // Delivers an event, then fails: the error reaches the caller, no second call.
    let inner = Arc::new(ScriptedModel::new(vec![
        Step::Stream(vec![
            (Duration::ZERO, Ok(StreamEvent::text("partial"))),
            (
                Duration::ZERO,
                Err(AiError::new(ErrorKind::Unavailable, "cut")),
            ),
        ]),
        Step::Stream(text_events(&["full"], Duration::ZERO)),
    ]));
    let model = Stack::new().layer(fast_retry()).build_chat(inner.clone());
    let mut s = model.stream(ChatRequest::user("x")).await.unwrap();
    assert_eq!(
        s.next().await.unwrap().unwrap(),
        StreamEvent::text("partial")
    );
    assert_eq!(
        s.next().await.unwrap().unwrap_err().kind(),
        ErrorKind::Unavailable
    );
    assert!(s.next().await.is_none());
    assert_eq!(inner.calls(), 1);
}

// ---------------------------------------------------------------- timeout

#[tokio::test(start_paused = true)]
async fn total_timeout_ends_a_slow_call() {
    let inner = Arc::new(ScriptedModel::new(vec![Step::Delay(
        Duration::from_secs(60),
        Box::new(reply("late")),
    )]));
    let model = Stack::new()
        .layer(TimeoutLayer::new().total(Duration::from_secs(2)))
        .build_chat(inner);
    let start = tokio::time::Instant::now();
    let e = model.generate(ChatRequest::user("x")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn first_chunk_timeout_and_slow_drip() {
    // Nothing for 5 s: the 1 s first-chunk deadline fires.
    let inner = Arc::new(ScriptedModel::new(vec![Step::Stream(text_events(
        &["x"],
        Duration::from_secs(5),
    ))]));
    let model = Stack::new()
        .layer(
            TimeoutLayer::new()
                .first_chunk(Duration::from_secs(1))
                .total(Duration::from_secs(30)),
        )
        .build_chat(inner);
    let mut s = model.stream(ChatRequest::user("x")).await.unwrap();
    let e = s.next().await.unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(e.message().contains("first-chunk"), "{e}");
    assert!(s.next().await.is_none());

    // A chunk every 450 ms forever: content flows, then the 2 s total deadline ends it.
    let drip: Vec<&str> = vec!["d"; 50];
    let inner = Arc::new(ScriptedModel::new(vec![Step::Stream(text_events(
        &drip,
        Duration::from_millis(450),
    ))]));
    let model = Stack::new()
        .layer(
            TimeoutLayer::new()
                .first_chunk(Duration::from_secs(1))
                .total(Duration::from_secs(2)),
        )
        .build_chat(inner);
    let start = tokio::time::Instant::now();
    let mut s = model.stream(ChatRequest::user("x")).await.unwrap();
    let mut got = 0;
    let mut last_err = None;
    while let Some(item) = s.next().await {
        match item {
            Ok(_) => got += 1,
            Err(e) => last_err = Some(e),
        }
    }
    assert_eq!(got, 4);
    assert_eq!(last_err.unwrap().kind(), ErrorKind::Timeout);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

// ---------------------------------------------------------------- cache

#[tokio::test]
async fn cache_serves_deterministic_repeats_and_replays_streams() {
    let inner = Arc::new(ScriptedModel::new(vec![reply_with_usage(
        "cached answer",
        5,
        2,
    )]));
    let model = Stack::new()
        .layer(CacheLayer::in_memory(1 << 20, Duration::from_secs(60)))
        .build_chat(inner.clone());
    let req = ChatRequest::user("q").temperature(0.0);
    let first = model.generate(req.clone()).await.unwrap();
    assert!(!first.meta.cache_hit);
    let second = model.generate(req.clone()).await.unwrap();
    assert!(second.meta.cache_hit);
    assert_eq!(second.text(), "cached answer");
    let streamed = collect_stream(model.stream(req.clone()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(streamed.text(), "cached answer");
    assert_eq!(streamed.usage.unwrap().output_tokens, 2);
    assert_eq!(inner.calls(), 1);

    // Not deterministic: not cached unless asked.
    let hot = ChatRequest::user("q").temperature(0.9);
    model.generate(hot.clone()).await.unwrap();
    model.generate(hot.clone()).await.unwrap();
    assert_eq!(inner.calls(), 3);
    let mut opted = hot.clone();
    opted.metadata.cache = CacheMode::AllowNonDeterministic;
    model.generate(opted.clone()).await.unwrap();
    model.generate(opted).await.unwrap();
    assert_eq!(inner.calls(), 4);

    // Bypass skips even deterministic requests.
    let mut bypass = req;
    bypass.metadata.cache = CacheMode::Bypass;
    model.generate(bypass).await.unwrap();
    assert_eq!(inner.calls(), 5);
}

#[tokio::test]
async fn cache_stores_a_finished_stream_but_not_a_failed_one() {
    let inner = Arc::new(ScriptedModel::new(vec![
        Step::Stream(vec![
            (Duration::ZERO, Ok(StreamEvent::text("half"))),
            (
                Duration::ZERO,
                Err(AiError::new(ErrorKind::Unavailable, "cut")),
            ),
        ]),
        Step::Stream(text_events(&["wh", "ole"], Duration::ZERO)),
    ]));
    let model = Stack::new()
        .layer(CacheLayer::in_memory(1 << 20, Duration::from_secs(60)))
        .build_chat(inner.clone());
    let req = ChatRequest::user("s").temperature(0.0);
    assert!(
        collect_stream(model.stream(req.clone()).await.unwrap())
            .await
            .is_err()
    );
    let ok = collect_stream(model.stream(req.clone()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(ok.text(), "whole");
    let hit = model.generate(req).await.unwrap();
    assert!(hit.meta.cache_hit);
    assert_eq!(hit.text(), "whole");
    assert_eq!(inner.calls(), 2);
}

#[tokio::test]
async fn cache_entries_expire() {
    let inner = Arc::new(ScriptedModel::always_text("a"));
    let model = Stack::new()
        .layer(CacheLayer::in_memory(1 << 20, Duration::from_millis(50)))
        .build_chat(inner.clone());
    let req = ChatRequest::user("q").temperature(0.0);
    model.generate(req.clone()).await.unwrap();
    model.generate(req.clone()).await.unwrap();
    assert_eq!(inner.calls(), 1);
    tokio::time::sleep(Duration::from_millis(120)).await;
    model.generate(req).await.unwrap();
    assert_eq!(inner.calls(), 2);
}

// ---------------------------------------------------------------- rate limit, budget, cost

#[tokio::test(start_paused = true)]
async fn rate_limit_rejects_per_key_with_retry_after() {
    let inner = Arc::new(ScriptedModel::always_text("ok"));
    let model = Stack::new()
        .layer(RateLimitLayer::new(Limits {
            requests_per_minute: Some(2),
            ..Limits::default()
        }))
        .build_chat(inner.clone());
    let a = || ChatRequest::user("x").key("tenant-a");
    model.generate(a()).await.unwrap();
    model.generate(a()).await.unwrap();
    let e = model.generate(a()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert!(e.retry_after().unwrap() > Duration::from_secs(20));
    assert!(!e.retry_after().unwrap().is_zero());
    // Another tenant is not affected.
    model
        .generate(ChatRequest::user("x").key("tenant-b"))
        .await
        .unwrap();
    assert_eq!(inner.calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn token_budget_reconciles_with_real_usage() {
    // Every answer really uses 1000 tokens, far more than the estimate (~10 + max_tokens 10).
    let inner = Arc::new(ScriptedModel::new(vec![reply_with_usage("x", 900, 100)]));
    let model = Stack::new()
        .layer(RateLimitLayer::new(Limits {
            tokens_per_day: Some(2500),
            ..Limits::default()
        }))
        .build_chat(inner.clone());
    let req = || ChatRequest::user("hello").max_tokens(10).key("k");
    model.generate(req()).await.unwrap();
    model.generate(req()).await.unwrap();
    // 2000 of 2500 used; the estimate (~18) fits, so the third call is allowed and overdraws.
    model.generate(req()).await.unwrap();
    let e = model.generate(req()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Budget);
    assert_eq!(inner.calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn failed_calls_refund_their_estimate() {
    let inner = Arc::new(ScriptedModel::new(vec![err(ErrorKind::BadRequest)]));
    let model = Stack::new()
        .layer(RateLimitLayer::new(Limits {
            tokens_per_minute: Some(600),
            ..Limits::default()
        }))
        .build_chat(inner.clone());
    for _ in 0..10 {
        let e = model
            .generate(ChatRequest::user("x").max_tokens(500))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadRequest, "refund lost: {e}");
    }
}

#[tokio::test]
async fn cost_is_recorded_per_request_and_per_key() {
    let mut prices = PriceTable::new();
    prices.set("m", ModelPrice::new(1_000_000, 2_000_000)); // $1 / $2 per million
    let ledger = Arc::new(InMemoryCostLedger::new());
    let inner =
        Arc::new(ScriptedModel::new(vec![reply_with_usage("x", 1000, 500)]).named("p", "m"));
    let model = Stack::new()
        .layer(CostLayer::new(Arc::new(prices), ledger.clone()))
        .build_chat(inner);
    let r = model
        .generate(ChatRequest::user("a").key("alice"))
        .await
        .unwrap();
    // 1000 × $1/M + 500 × $2/M = $0.002 = 2_000_000 n$
    assert_eq!(r.meta.cost_nanos, Some(2_000_000));
    let s = model
        .stream(ChatRequest::user("b").key("alice"))
        .await
        .unwrap();
    collect_stream(s).await.unwrap();
    model
        .generate(ChatRequest::user("c").key("bob"))
        .await
        .unwrap();
    assert_eq!(ledger.total_for_key("alice").micros(), 4_000);
    assert_eq!(ledger.total_for_key("bob").micros(), 2_000);
}

// ---------------------------------------------------------------- routing, concurrency

#[tokio::test]
async fn router_sends_sensitive_and_pii_requests_to_the_local_model() {
    let local = Arc::new(ScriptedModel::always_text("local").named("llamacpp", "small"));
    let cloud = Arc::new(ScriptedModel::always_text("cloud").named("openai", "big"));
    let router = Router::builder("cloud", cloud.clone())
        .route(
            "local",
            Rule::sensitivity_at_least(Sensitivity::Confidential),
            local.clone(),
        )
        .route(
            "local",
            Rule::contains_pii(|t| t.contains('@')),
            local.clone(),
        )
        .build();
    let r = router
        .generate(ChatRequest::user("summarise").sensitivity(Sensitivity::Restricted))
        .await
        .unwrap();
    assert_eq!(
        (r.text().as_str(), r.meta.route.as_deref()),
        ("local", Some("local"))
    );
    let r = router
        .generate(ChatRequest::user("mail bob@example.com"))
        .await
        .unwrap();
    assert_eq!(r.text(), "local");
    let r = router
        .generate(
            ChatRequest::user("hello")
                .model("gpt-4o")
                .sensitivity(Sensitivity::Public),
        )
        .await
        .unwrap();
    assert_eq!(
        (r.text().as_str(), r.meta.route.as_deref()),
        ("cloud", Some("cloud"))
    );
    // The request's model name does not leak to another provider.
    assert_eq!(cloud.requests()[0].model, None);
}

#[tokio::test(start_paused = true)]
async fn concurrency_layer_queues_then_rejects() {
    let inner = Arc::new(ScriptedModel::new(vec![Step::Delay(
        Duration::from_secs(5),
        Box::new(reply("slow")),
    )]));
    let model = Stack::new()
        .layer(ConcurrencyLayer::new(1, Duration::from_secs(1)))
        .build_chat(inner);
    let m2 = model.clone();
    let first = tokio::spawn(async move { m2.generate(ChatRequest::user("a")).await });
    tokio::task::yield_now().await;
    let e = model.generate(ChatRequest::user("b")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(e.is_retryable());
    assert_eq!(first.await.unwrap().unwrap().text(), "slow");
}

// ---------------------------------------------------------------- telemetry

#[test]
fn telemetry_records_genai_metrics_and_overhead() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let inner = Arc::new(
                ScriptedModel::new(vec![
                    reply_with_usage("a", 10, 3),
                    Step::Stream(text_events(&["x", "y"], Duration::from_millis(5))),
                    err(ErrorKind::Auth),
                ])
                .named("openai", "gpt-4o-mini"),
            );
            let router = Arc::new(
                Router::builder("cloud", inner.clone())
                    .route("local", Rule::contains_pii(|t| t.contains('@')), inner)
                    .build(),
            );
            let model = Stack::new().layer(TelemetryLayer::new()).build_chat(router);
            model.generate(ChatRequest::user("a@b.c")).await.unwrap();
            collect_stream(model.stream(ChatRequest::user("b")).await.unwrap())
                .await
                .unwrap();
            model.generate(ChatRequest::user("c")).await.unwrap_err();
        });
    });
    let snapshot = snapshotter.snapshot().into_vec();
    let find = |name: &str| {
        snapshot
            .iter()
            .filter(|(k, ..)| k.key().name() == name)
            .collect::<Vec<_>>()
    };
    assert!(!find("gen_ai.client.operation.duration").is_empty());
    assert!(!find("gen_ai.client.operation.time_to_first_chunk").is_empty());
    assert!(!find("ai.stack.overhead").is_empty());
    let routes = find("ai.route.decisions");
    assert!(routes.iter().any(|(k, ..)| {
        k.key()
            .labels()
            .any(|l| l.key() == "ai.route.reason" && l.value() == "pii")
    }));
    let tokens = find("gen_ai.client.token.usage");
    assert_eq!(tokens.len(), 2, "input and output series");
    let requests = find("ai.requests");
    let errors: u64 = requests
        .iter()
        .filter(|(k, ..)| {
            k.key()
                .labels()
                .any(|l| l.key() == "error.type" && l.value() == "auth")
        })
        .map(|(_, _, _, v)| match v {
            DebugValue::Counter(c) => *c,
            _ => 0,
        })
        .sum();
    assert_eq!(errors, 1);
    let model_label = requests.iter().all(|(k, ..)| {
        k.key()
            .labels()
            .any(|l| l.key() == "gen_ai.request.model" && l.value() == "gpt-4o-mini")
    });
    assert!(model_label);
}

// ---------------------------------------------------------------- whole stack

#[tokio::test(start_paused = true)]
async fn composed_stack_retries_caches_limits_and_prices() {
    let inner = Arc::new(
        ScriptedModel::new(vec![
            err(ErrorKind::Unavailable),
            reply_with_usage("four", 12, 1),
        ])
        .named("openai", "gpt-4o-mini"),
    );
    let prices = Arc::new(PriceTable::with_defaults());
    let ledger = Arc::new(InMemoryCostLedger::new());
    let model = Stack::new()
        .layer(TelemetryLayer::new())
        .layer(TimeoutLayer::new().total(Duration::from_secs(30)))
        .layer(fast_retry())
        .layer(CacheLayer::in_memory(1 << 20, Duration::from_secs(60)))
        .layer(
            RateLimitLayer::new(Limits {
                requests_per_minute: Some(5),
                ..Limits::default()
            })
            .prices(prices.clone()),
        )
        .layer(CostLayer::new(prices, ledger.clone()))
        .build_chat(inner.clone());
    let req = ChatRequest::user("2+2?").temperature(0.0).key("t1");
    let r = model.generate(req.clone()).await.unwrap();
    assert_eq!(r.text(), "four");
    assert_eq!(r.meta.attempts, Some(2));
    assert!(r.meta.cost_nanos.unwrap() > 0);
    // Served from cache: neither the limiter nor the model sees it.
    for _ in 0..10 {
        assert!(model.generate(req.clone()).await.unwrap().meta.cache_hit);
    }
    assert_eq!(inner.calls(), 2);
    assert_eq!(ledger.snapshot().len(), 1);
}

#[cfg(feature = "prometheus")]
#[test]
fn prometheus_renders_the_genai_metrics() {
    let recorder = ai_core::prometheus::build_recorder().unwrap();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let inner = Arc::new(ScriptedModel::new(vec![reply_with_usage("a", 10, 3)]));
            let model = Stack::new().layer(TelemetryLayer::new()).build_chat(inner);
            model.generate(ChatRequest::user("a")).await.unwrap();
        });
    });
    let text = handle.render();
    for name in [
        "gen_ai_client_operation_duration_bucket",
        "gen_ai_client_token_usage_bucket",
        "ai_stack_overhead_bucket",
        "ai_requests",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    assert!(text.contains("gen_ai_token_type=\"input\""));
}

#[cfg(feature = "tower")]
#[tokio::test]
async fn tower_adapters_work_both_ways() {
    use ai_core::tower_adapter::{ChatService, ServiceModel};
    use tower::ServiceExt;
    let inner: Arc<dyn ChatModel> = Arc::new(ScriptedModel::always_text("via tower"));
    let svc = ChatService::new(inner.clone());
    let r = svc.clone().oneshot(ChatRequest::user("x")).await.unwrap();
    assert_eq!(r.text(), "via tower");
    let back = ServiceModel::new(svc, inner.capabilities().clone());
    let s = back.stream(ChatRequest::user("y")).await.unwrap();
    assert_eq!(collect_stream(s).await.unwrap().text(), "via tower");
}

// ---------------------------------------------------------------- embeddings

struct FlakyEmbedder {
    failures: std::sync::atomic::AtomicU32,
    delay: Duration,
}

#[async_trait::async_trait]
impl ai_core::EmbeddingModel for FlakyEmbedder {
    async fn embed(&self, texts: &[String]) -> ai_core::Result<Vec<ai_core::Embedding>> {
        tokio::time::sleep(self.delay).await;
        if self
            .failures
            .fetch_update(
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
                |n| n.checked_sub(1),
            )
            .is_ok()
        {
            return Err(AiError::new(ErrorKind::Unavailable, "flaky"));
        }
        Ok(texts.iter().map(|t| vec![t.len() as f32, 1.0]).collect())
    }
    fn dimensions(&self) -> usize {
        2
    }
    fn max_batch(&self) -> usize {
        16
    }
    fn model_name(&self) -> &str {
        "flaky-embedder"
    }
}

#[tokio::test(start_paused = true)]
async fn embedding_stack_retries_and_times_out() {
    let stack = Stack::new()
        .layer(TelemetryLayer::new())
        .layer(TimeoutLayer::new().total(Duration::from_secs(5)))
        .layer(fast_retry());
    let model = stack.build_embedding(Arc::new(FlakyEmbedder {
        failures: 2.into(),
        delay: Duration::from_millis(10),
    }));
    let v = model.embed(&["ab".into(), "abcd".into()]).await.unwrap();
    assert_eq!(v, vec![vec![2.0, 1.0], vec![4.0, 1.0]]);
    assert_eq!(
        (model.dimensions(), model.max_batch(), model.model_name()),
        (2, 16, "flaky-embedder")
    );

    let slow = stack.build_embedding(Arc::new(FlakyEmbedder {
        failures: 0.into(),
        delay: Duration::from_secs(60),
    }));
    let e = slow.embed(&["x".into()]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
}
