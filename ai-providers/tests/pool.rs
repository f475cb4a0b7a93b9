//! The replica pool over three mock OpenAI-compatible servers: one is killed mid-run, one
//! fails; no request that could be retried fails, the bad replicas are ejected, and a
//! recovered one is re-admitted by the health check.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ai_core::{ChatModel, ChatRequest, ErrorKind};
use ai_providers::openai::OpenAiProvider;
use ai_providers::pool::{PoolConfig, ReplicaPool};
use ai_testkit::{MockResponse, MockServer};

const OK: &str = r#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#;

fn replica(server: &MockServer, name: &str) -> (String, Arc<dyn ChatModel>) {
    (
        name.to_owned(),
        Arc::new(
            OpenAiProvider::compatible(server.url("/v1"), "vllm")
                .model("m")
                .build()
                .unwrap(),
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_retryable_request_fails_when_a_replica_dies() {
    let a = MockServer::start(|_| MockResponse::json(200, OK))
        .await
        .unwrap();
    let b = MockServer::start(|_| MockResponse::json(200, OK))
        .await
        .unwrap();
    let healthy = Arc::new(AtomicBool::new(false));
    let h = healthy.clone();
    let c = MockServer::start(move |_| {
        if h.load(Ordering::SeqCst) {
            MockResponse::json(200, OK)
        } else {
            MockResponse::json(
                503,
                r#"{"error":{"message":"loading model","type":"unavailable"}}"#,
            )
        }
    })
    .await
    .unwrap();
    let pool = ReplicaPool::new(
        vec![replica(&a, "a"), replica(&b, "b"), replica(&c, "c")],
        PoolConfig::default(),
    );
    let mut b = Some(b);
    let mut tasks = Vec::new();
    for i in 0..300 {
        if i == 100 {
            drop(b.take()); // kill replica b mid-run
        }
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            pool.generate(ChatRequest::user("hi")).await
        }));
        if i % 20 == 0 {
            tokio::task::yield_now().await;
        }
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert!(r.is_ok(), "{:?}", r.err());
    }
    let up = pool.available();
    assert!(up.contains(&"a".to_owned()));
    assert!(
        !up.contains(&"c".to_owned()),
        "the failing replica is ejected: {up:?}"
    );
    pool.check_health().await;
    assert_eq!(
        pool.available(),
        ["a"],
        "health checks take b (dead) and c (503) out"
    );
    healthy.store(true, Ordering::SeqCst);
    pool.check_health().await;
    assert_eq!(
        pool.available(),
        ["a", "c"],
        "c is re-admitted once it answers"
    );

    // A bad request is not retried elsewhere.
    let bad = MockServer::start(|_| {
        MockResponse::json(
            400,
            r#"{"error":{"message":"bad","type":"invalid_request_error"}}"#,
        )
    })
    .await
    .unwrap();
    let only_bad = ReplicaPool::new(
        vec![replica(&bad, "x"), replica(&a, "a")],
        PoolConfig::default(),
    );
    let mut saw_bad = false;
    for _ in 0..20 {
        if let Err(e) = only_bad.generate(ChatRequest::user("hi")).await {
            assert_eq!(e.kind(), ErrorKind::BadRequest);
            saw_bad = true;
        }
    }
    assert!(saw_bad);
}
