//! HTTP statuses, provider error bodies and transport failures map to the right `AiError`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use ai_core::{ChatRequest, ErrorKind, StreamEvent};
use ai_providers::openai::{Auth, OpenAiProvider};
use ai_testkit::{MockResponse, MockServer};
use bytes::Bytes;
use common::*;
use secrecy::SecretString;

async fn error_for(response: MockResponse) -> ai_core::AiError {
    let server = MockServer::start(move |_| response.clone()).await.unwrap();
    provider_for(&server)
        .generate(ChatRequest::user("x"))
        .await
        .unwrap_err()
}

fn openai_error(message: &str, kind: &str, code: Option<&str>) -> String {
    serde_json::json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
        .to_string()
}

#[tokio::test]
async fn status_codes_map_to_kinds_with_status_and_raw_body() {
    for (status, kind) in [
        (400, ErrorKind::BadRequest),
        (401, ErrorKind::Auth),
        (403, ErrorKind::Auth),
        (404, ErrorKind::NotFound),
        (408, ErrorKind::Timeout),
        (409, ErrorKind::Provider),
        (413, ErrorKind::BadRequest),
        (422, ErrorKind::BadRequest),
        (429, ErrorKind::RateLimited),
        (500, ErrorKind::Provider),
        (502, ErrorKind::Unavailable),
        (503, ErrorKind::Unavailable),
        (504, ErrorKind::Unavailable),
    ] {
        let body = openai_error(&format!("failure {status}"), "some_error", None);
        let e = error_for(MockResponse::json(status, body.clone())).await;
        assert_eq!(e.kind(), kind, "HTTP {status}");
        assert_eq!(e.status(), Some(status));
        assert_eq!(e.raw_body(), Some(body.as_str()));
        assert_eq!(e.message(), format!("failure {status}"));
        assert_eq!(e.provider(), Some("mock"));
        assert_eq!(
            e.is_retryable(),
            matches!(status, 408 | 409 | 429 | 500 | 502 | 503 | 504),
            "HTTP {status}"
        );
    }
}

#[tokio::test]
async fn provider_codes_refine_the_kind() {
    let e = error_for(MockResponse::json(
        400,
        openai_error(
            "This model's maximum context length is 128000 tokens.",
            "invalid_request_error",
            Some("context_length_exceeded"),
        ),
    ))
    .await;
    assert_eq!(e.kind(), ErrorKind::ContextLength);
    assert_eq!(e.code(), Some("context_length_exceeded"));
    assert!(!e.is_retryable());

    let e = error_for(MockResponse::json(
        429,
        openai_error(
            "You exceeded your current quota",
            "insufficient_quota",
            Some("insufficient_quota"),
        ),
    ))
    .await;
    assert_eq!(e.kind(), ErrorKind::QuotaExceeded);
    assert!(!e.is_retryable());

    let e = error_for(MockResponse::json(
        400,
        serde_json::json!({"error": {"code": "content_filter", "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy."}}).to_string(),
    ))
    .await;
    assert_eq!(e.kind(), ErrorKind::ContentFiltered);
}

#[tokio::test]
async fn retry_after_in_seconds_and_as_a_date() {
    let e = error_for(
        MockResponse::json(
            429,
            openai_error(
                "Rate limit reached",
                "requests",
                Some("rate_limit_exceeded"),
            ),
        )
        .header("retry-after", "17"),
    )
    .await;
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(17)));

    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(120));
    let e = error_for(MockResponse::json(503, "{}").header("retry-after", &date)).await;
    let after = e.retry_after().unwrap();
    assert!(
        after > Duration::from_secs(100) && after <= Duration::from_secs(120),
        "{after:?}"
    );
}

#[tokio::test]
async fn transport_failures() {
    // Nothing listens: connection refused.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let p = OpenAiProvider::compatible(format!("http://127.0.0.1:{port}/v1"), "mock")
        .model("m")
        .build()
        .unwrap();
    let e = ai_core::ChatModel::generate(&p, ChatRequest::user("x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(e.is_retryable());

    // Connection reset before any answer.
    let e = error_for(MockResponse::reset()).await;
    assert_eq!(e.kind(), ErrorKind::Unavailable);

    // A 200 whose body is not JSON: a decode error that keeps what arrived.
    let e = error_for(MockResponse::json(200, "<html>maintenance</html>")).await;
    assert_eq!(e.kind(), ErrorKind::Decode);
    assert_eq!(e.raw_body(), Some("<html>maintenance</html>"));

    // A 200 with an error object instead of choices.
    let e = error_for(MockResponse::json(
        200,
        r#"{"error":{"message":"model overloaded","type":"server_error","code":503}}"#,
    ))
    .await;
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(e.is_retryable());
}

#[tokio::test]
async fn stream_errors_after_http_200() {
    let start = r#"data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"Hel"}}]}"#;
    let cases: Vec<(&str, String, ErrorKind)> = vec![
        (
            "error object",
            format!(
                "{start}\n\ndata: {{\"error\":{{\"message\":\"boom\",\"type\":\"server_error\"}}}}\n\n"
            ),
            ErrorKind::Provider,
        ),
        (
            "event: error",
            format!(
                "{start}\n\nevent: error\ndata: {{\"message\":\"overloaded\",\"type\":\"overloaded_error\"}}\n\n"
            ),
            ErrorKind::Unavailable,
        ),
        (
            "malformed JSON",
            format!("{start}\n\ndata: {{\"choices\": [ {{\"delta\"\n\n"),
            ErrorKind::Decode,
        ),
        (
            "cut short (no finish, no [DONE])",
            format!("{start}\n\n"),
            ErrorKind::Unavailable,
        ),
    ];
    for (name, body, kind) in cases {
        let server = MockServer::start(move |_| MockResponse::sse(vec![Bytes::from(body.clone())]))
            .await
            .unwrap();
        let items = collect_items(
            provider_for(&server)
                .stream(ChatRequest::user("x"))
                .await
                .unwrap(),
        )
        .await;
        assert!(
            items
                .iter()
                .find(|i| matches!(i, Ok(StreamEvent::TextDelta { .. })))
                .is_some(),
            "{name}: the text before the error is delivered"
        );
        let last = items.last().unwrap();
        let Err(e) = last else {
            panic!("{name}: expected an error, got {items:?}")
        };
        assert!(e.starts_with(&format!("{kind:?}:")), "{name}: {e}");
    }
}

#[tokio::test]
async fn stream_http_errors_are_returned_before_the_stream() {
    let server = MockServer::start(|_| {
        MockResponse::json(
            401,
            openai_error(
                "Incorrect API key provided",
                "invalid_request_error",
                Some("invalid_api_key"),
            ),
        )
    })
    .await
    .unwrap();
    let e = match provider_for(&server).stream(ChatRequest::user("x")).await {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    };
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert_eq!(e.code(), Some("invalid_api_key"));
}

#[tokio::test]
async fn api_keys_are_sent_but_never_shown() {
    let server =
        MockServer::start(|_| MockResponse::json(401, openai_error("bad key", "auth", None)))
            .await
            .unwrap();
    let p = OpenAiProvider::compatible(server.url("/v1"), "mock")
        .model("m")
        .auth(Auth::Bearer(SecretString::from(
            "sk-test-SECRET-1234".to_string(),
        )))
        .build()
        .unwrap();
    let e = ai_core::ChatModel::generate(&p, ChatRequest::user("x"))
        .await
        .unwrap_err();
    let req = &server.requests()[0];
    assert_eq!(
        req.header("authorization"),
        Some("Bearer sk-test-SECRET-1234")
    );
    for shown in [format!("{e}"), format!("{e:?}"), format!("{p:?}")] {
        assert!(!shown.contains("SECRET"), "{shown}");
    }

    let azure = OpenAiProvider::azure(
        server.url(""),
        "my-deployment",
        "2024-10-21",
        Auth::AzureApiKey(SecretString::from("azure-SECRET".to_string())),
    )
    .build()
    .unwrap();
    let _ = ai_core::ChatModel::generate(&azure, ChatRequest::user("x")).await;
    let req = server.requests().pop().unwrap();
    assert_eq!(
        req.path,
        "/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(req.header("api-key"), Some("azure-SECRET"));
    assert!(req.header("authorization").is_none());
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert!(body.get("max_tokens").is_none() || body["max_tokens"].is_number());
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let big = "x".repeat(4096);
    for chunked in [false, true] {
        let body = big.clone();
        let server = MockServer::start(move |_| {
            let r = MockResponse::json(200, body.clone());
            if chunked { r.chunked() } else { r }
        })
        .await
        .unwrap();
        let p = OpenAiProvider::compatible(server.url("/v1"), "mock")
            .model("m")
            .http_options(ai_providers::http::HttpOptions {
                max_response_bytes: 1000,
                ..Default::default()
            })
            .build()
            .unwrap();
        let e = ai_core::ChatModel::generate(&p, ChatRequest::user("x"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        assert!(e.message().contains("1000-byte limit"), "{e}");
    }
}
