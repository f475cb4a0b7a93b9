//! Redis-backed limits and cache shared by two "replicas" (two connections), against the real
//! Redis started by `scripts/services.sh` (feature `live-tests`, `AI_TEST_REDIS_URL`).
#![cfg(feature = "live-tests")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use ai_core::layers::Stack;
use ai_core::layers::cache::CacheLayer;
use ai_core::layers::rate_limit::{Amount, LimitStore, Limits, RateLimitLayer};
use ai_core::layers::redis_store::{RedisCacheStore, RedisLimitStore};
use ai_core::testing::{ScriptedModel, Step};
use ai_core::{ChatRequest, ChatResponse, ErrorKind};

fn url() -> String {
    std::env::var("AI_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("AI_TEST_REDIS_URL is not set: run `scripts/services.sh start` and `eval \"$(scripts/services.sh env)\"` (scripts/test.sh does both)")
    })
}

fn prefix(what: &str) -> String {
    format!("test:{what}:{}:{}:", std::process::id(), fastrand::u64(..))
}

#[tokio::test]
async fn replicas_share_one_limit_atomically() {
    let p = prefix("limit");
    let a: Arc<dyn LimitStore> = Arc::new(RedisLimitStore::connect(&url(), &p).await.unwrap());
    let b: Arc<dyn LimitStore> = Arc::new(RedisLimitStore::connect(&url(), &p).await.unwrap());
    let limits = Limits {
        requests_per_minute: Some(20),
        ..Limits::default()
    };
    let one = Amount {
        requests: 1,
        ..Amount::default()
    };
    // 50 concurrent calls through two replicas: exactly 20 get through.
    let mut tasks = Vec::new();
    for i in 0..50 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            store.acquire("tenant-1", &limits, one).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::RateLimited);
                let wait = e.retry_after().unwrap();
                assert!(
                    wait > Duration::ZERO && wait <= Duration::from_secs(4),
                    "{wait:?}"
                );
            }
        }
    }
    assert_eq!(ok, 20);
    // Another key has its own bucket.
    a.acquire("tenant-2", &limits, one).await.unwrap();

    // Reconciliation: a call that used more tokens than estimated leaves debt.
    let tl = Limits {
        tokens_per_minute: Some(100),
        ..Limits::default()
    };
    let ten = Amount {
        requests: 1,
        tokens: 10,
        cost_nanos: 0,
    };
    a.acquire("tenant-3", &tl, ten).await.unwrap();
    b.adjust("tenant-3", &tl, 95, 0).await.unwrap();
    let e = a.acquire("tenant-3", &tl, ten).await.unwrap_err();
    assert_eq!(e.code(), Some("tokens_per_minute"));
}

#[tokio::test]
async fn the_rate_limit_layer_on_redis() {
    let p = prefix("layer");
    let limits = Limits {
        requests_per_minute: Some(3),
        ..Limits::default()
    };
    let replica = |store: RedisLimitStore| {
        let model = Arc::new(ScriptedModel::new(vec![Step::Reply(
            ChatResponse::text_answer("ok"),
        )]));
        Stack::new()
            .layer(RateLimitLayer::new(limits).store(Arc::new(store)))
            .build_chat(model)
    };
    let a = replica(RedisLimitStore::connect(&url(), &p).await.unwrap());
    let b = replica(RedisLimitStore::connect(&url(), &p).await.unwrap());
    let req = || ChatRequest::user("hi").key("acme");
    a.generate(req()).await.unwrap();
    b.generate(req()).await.unwrap();
    a.generate(req()).await.unwrap();
    let e = b.generate(req()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
}

#[tokio::test]
async fn replicas_share_one_cache() {
    let p = prefix("cache");
    let model_a = Arc::new(ScriptedModel::new(vec![Step::Reply(
        ChatResponse::text_answer("computed once"),
    )]));
    let model_b = Arc::new(ScriptedModel::new(vec![Step::Reply(
        ChatResponse::text_answer("never"),
    )]));
    let a = Stack::new()
        .layer(CacheLayer::new(
            Arc::new(RedisCacheStore::connect(&url(), &p).await.unwrap()),
            Duration::from_secs(60),
        ))
        .build_chat(model_a.clone());
    let b = Stack::new()
        .layer(CacheLayer::new(
            Arc::new(RedisCacheStore::connect(&url(), &p).await.unwrap()),
            Duration::from_secs(60),
        ))
        .build_chat(model_b.clone());
    let req = || ChatRequest::user("What is 2 + 2?").temperature(0.0);
    let first = a.generate(req()).await.unwrap();
    assert!(!first.meta.cache_hit);
    let second = b.generate(req()).await.unwrap();
    assert!(second.meta.cache_hit, "served from the shared cache");
    assert_eq!(second.text(), "computed once");
    assert!(model_b.requests().is_empty());
}

#[tokio::test]
async fn an_unreachable_redis_is_a_clear_error() {
    let start = std::time::Instant::now();
    let e = RedisLimitStore::connect("redis://127.0.0.1:1", "x")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(start.elapsed() < Duration::from_secs(10));
    let e = RedisCacheStore::connect("not a url", "x")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn redis_job_store_semantics() {
    use ai_core::jobs::{JobStatus, JobStore, NewJob, RedisJobStore};
    let store = RedisJobStore::connect(&url(), &prefix("jobs"))
        .await
        .unwrap();
    let new = |key: Option<&str>, cb: Option<&str>| NewJob {
        input: serde_json::json!({"text": "x"}),
        idempotency_key: key.map(str::to_owned),
        deadline_ms: None,
        callback_url: cb.map(str::to_owned),
    };
    let (a, created) = store
        .submit(new(Some("k1"), Some("https://example.com/hook")))
        .await
        .unwrap();
    assert!(created);
    let (again, created) = store.submit(new(Some("k1"), None)).await.unwrap();
    assert!(!created);
    assert_eq!(again.id, a.id);
    let (b, _) = store.submit(new(None, None)).await.unwrap();
    assert!(store.cancel(&a.id).await.unwrap());
    assert!(!store.cancel(&a.id).await.unwrap());
    // The cancelled job is skipped by claims; its webhook is pending in the outbox.
    let claimed = store
        .claim("w1", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (claimed.id.as_str(), claimed.status, claimed.attempts),
        (b.id.as_str(), JobStatus::Running, 1)
    );
    assert!(
        store
            .claim("w2", Duration::from_secs(30))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .renew(&b.id, "w1", Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert!(
        !store
            .renew(&b.id, "w2", Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert!(
        !store
            .complete(&b.id, "w2", Ok(serde_json::json!(1)))
            .await
            .unwrap()
    );
    assert!(
        store
            .complete(&b.id, "w1", Ok(serde_json::json!({"ok": true})))
            .await
            .unwrap()
    );
    let done = store.get(&b.id).await.unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Succeeded);
    assert_eq!(done.result.unwrap()["ok"], true);
    let pending = store.undelivered(10).await.unwrap();
    assert_eq!(
        pending.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        [a.id.as_str()]
    );
    store.mark_delivered(&a.id).await.unwrap();
    assert!(store.undelivered(10).await.unwrap().is_empty());
    assert_eq!(store.purge(Duration::ZERO).await.unwrap(), 2);
    assert!(store.get(&a.id).await.unwrap().is_none());
    let (c, created) = store.submit(new(Some("k1"), None)).await.unwrap();
    assert!(created && c.id != a.id, "the key is free again after purge");
}
