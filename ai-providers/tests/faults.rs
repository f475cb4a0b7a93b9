//! The whole stack (retry + timeout + provider) against a misbehaving server: every fault ends
//! in the right `AiError` or a successful retry, within its deadline, without a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ai_core::layers::{RetryLayer, RetryPolicy, Stack, TimeoutLayer};
use ai_core::{ChatModel, ChatRequest, ErrorKind, collect_stream};
use ai_testkit::{Ending, MockResponse, MockServer};
use bytes::Bytes;
use common::*;

const OK_BODY: &str = r#"{"id":"c1","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"fine"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#;

fn sse_ok() -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"str\"}}]}\n\n"),
        Bytes::from_static(b"data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"eam\"},\"finish_reason\":\"stop\"}]}\n\n"),
        Bytes::from_static(b"data: [DONE]\n\n"),
    ]
}

/// A server that answers `faults` in order for the first requests, then succeeds.
async fn flaky(faults: Vec<MockResponse>, stream: bool) -> (MockServer, Arc<AtomicUsize>) {
    let n = Arc::new(AtomicUsize::new(0));
    let count = n.clone();
    let server = MockServer::start(move |_| {
        let i = count.fetch_add(1, Ordering::SeqCst);
        match faults.get(i) {
            Some(f) => f.clone(),
            None if stream => MockResponse::sse(sse_ok()),
            None => MockResponse::json(200, OK_BODY),
        }
    })
    .await
    .unwrap();
    (server, n)
}

fn stack(server: &MockServer, total: Duration) -> Arc<dyn ChatModel> {
    Stack::new()
        .layer(TimeoutLayer::new().total(total).first_chunk(total / 2))
        .layer(RetryLayer::new(RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
            budget: None,
            ..RetryPolicy::default()
        }))
        .build_chat(provider_for(server))
}

#[tokio::test]
async fn transient_faults_are_retried_to_success() {
    let cases: Vec<(&str, MockResponse)> = vec![
        (
            "429 + Retry-After",
            MockResponse::json(429, r#"{"error":{"message":"slow down"}}"#)
                .header("retry-after", "1"),
        ),
        (
            "500",
            MockResponse::json(500, r#"{"error":{"message":"oops"}}"#),
        ),
        ("502", MockResponse::new(502, "<html>bad gateway</html>")),
        ("503", MockResponse::json(503, "{}")),
        ("reset", MockResponse::reset()),
    ];
    for stream in [false, true] {
        for (name, fault) in &cases {
            let (server, calls) = flaky(vec![fault.clone(), fault.clone()], stream).await;
            let model = stack(&server, Duration::from_secs(10));
            let start = Instant::now();
            let text = if stream {
                collect_stream(model.stream(ChatRequest::user("x")).await.unwrap())
                    .await
                    .map(|r| r.text())
            } else {
                model
                    .generate(ChatRequest::user("x"))
                    .await
                    .map(|r| r.text())
            };
            let text = text.unwrap_or_else(|e| panic!("{name} (stream={stream}): {e}"));
            assert_eq!(text, if stream { "stream" } else { "fine" });
            assert_eq!(calls.load(Ordering::SeqCst), 3, "{name}");
            if name.starts_with("429") {
                assert!(
                    start.elapsed() >= Duration::from_secs(2),
                    "Retry-After honoured twice"
                );
            }
        }
    }
}

#[tokio::test]
async fn permanent_faults_are_not_retried() {
    for status in [400, 401, 404, 422] {
        let (server, calls) = flaky(
            vec![MockResponse::json(status, r#"{"error":{"message":"no"}}"#)],
            false,
        )
        .await;
        let e = stack(&server, Duration::from_secs(5))
            .generate(ChatRequest::user("x"))
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(status));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}

#[tokio::test]
async fn a_stream_that_stops_midway_is_an_error_and_is_not_retried() {
    for ending in [Ending::Close, Ending::Reset] {
        let partial = MockResponse::sse(vec![sse_ok()[0].clone()]).ending(ending);
        let (server, calls) = flaky(vec![partial], true).await;
        let mut s = stack(&server, Duration::from_secs(5))
            .stream(ChatRequest::user("x"))
            .await
            .unwrap();
        let mut text = String::new();
        let mut error = None;
        while let Some(item) = futures::StreamExt::next(&mut s).await {
            match item {
                Ok(ai_core::StreamEvent::TextDelta { text: t }) => text.push_str(&t),
                Ok(_) => {}
                Err(e) => error = Some(e),
            }
        }
        assert_eq!(text, "str");
        assert_eq!(error.unwrap().kind(), ErrorKind::Unavailable, "{ending:?}");
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "no retry after bytes were delivered"
        );
    }
}

#[tokio::test]
async fn malformed_sse_and_error_events_end_the_stream_with_the_right_kind() {
    let cases = vec![
        ("data: {not json}\n\n", ErrorKind::Decode),
        (
            "data: {\"error\":{\"message\":\"rate limited\",\"type\":\"rate_limit_error\"}}\n\n",
            ErrorKind::RateLimited,
        ),
        (
            "data: {\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\",\"code\":400}}\n\n",
            ErrorKind::BadRequest,
        ),
    ];
    for (body, kind) in cases {
        let (server, _) = flaky(
            vec![MockResponse::sse(vec![Bytes::from_static(body.as_bytes())])],
            true,
        )
        .await;
        // The error is the first item, so the retry layer sees it before anything was
        // delivered: transient kinds are retried to success, permanent ones come back.
        let result = stack(&server, Duration::from_secs(5))
            .stream(ChatRequest::user("x"))
            .await;
        match result {
            Ok(s) => {
                let r = collect_stream(s).await;
                if kind == ErrorKind::RateLimited {
                    assert_eq!(r.unwrap().text(), "stream");
                } else {
                    assert_eq!(r.unwrap_err().kind(), kind);
                }
            }
            Err(e) => assert_eq!(e.kind(), kind, "{body}"),
        }
    }
}

#[tokio::test]
async fn slow_servers_hit_the_deadlines() {
    // Headers never come within the deadline (every attempt is slow).
    let server =
        MockServer::start(|_| MockResponse::json(200, OK_BODY).delay(Duration::from_secs(30)))
            .await
            .unwrap();
    let start = Instant::now();
    let e = stack(&server, Duration::from_millis(800))
        .generate(ChatRequest::user("x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );

    // A drip: one chunk every 300 ms, never finishing before the 1.2 s total.
    let drip: Vec<Bytes> = (0..50)
        .map(|_| Bytes::from_static(b"data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"d\"}}]}\n\n"))
        .collect();
    let server = MockServer::start(move |_| {
        MockResponse::sse(drip.clone()).drip(Duration::from_millis(300))
    })
    .await
    .unwrap();
    let start = Instant::now();
    let mut s = stack(&server, Duration::from_millis(1200))
        .stream(ChatRequest::user("x"))
        .await
        .unwrap();
    let mut chunks = 0;
    let mut err = None;
    while let Some(item) = futures::StreamExt::next(&mut s).await {
        match item {
            Ok(_) => chunks += 1,
            Err(e) => err = Some(e),
        }
    }
    assert!(chunks >= 2, "content flowed before the deadline");
    assert_eq!(err.unwrap().kind(), ErrorKind::Timeout);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );

    // Headers arrive, then the body hangs: the first-chunk deadline fires.
    let server = MockServer::start(|_| {
        MockResponse::sse(vec![Bytes::from_static(b": keep-alive\n\n")]).ending(Ending::Hang)
    })
    .await
    .unwrap();
    let start = Instant::now();
    let r = stack(&server, Duration::from_millis(1000))
        .stream(ChatRequest::user("x"))
        .await;
    let e = match r {
        Ok(s) => collect_stream(s).await.unwrap_err(),
        Err(e) => e,
    };
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}
