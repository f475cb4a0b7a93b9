//! Cohere embed and rerank through a local mock with the v2 response and error shapes
//! (feature `cohere`).
#![cfg(feature = "cohere")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_core::{EmbeddingModel, ErrorKind, Reranker};
use ai_providers::cohere::CohereProvider;
use ai_testkit::{MockResponse, MockServer};

#[tokio::test]
async fn embed_rerank_and_errors() {
    let server = MockServer::start(|req| {
        let body: serde_json::Value = serde_json::from_str(&req.text()).unwrap_or_default();
        match req.path.as_str() {
            "/v2/embed" => {
                let n = body["texts"].as_array().map_or(0, Vec::len);
                let rows: Vec<Vec<f32>> = (0..n).map(|i| vec![i as f32, 1.0]).collect();
                MockResponse::json(200, serde_json::json!({"id": "e1", "embeddings": {"float": rows}, "texts": body["texts"], "meta": {"api_version": {"version": "2"}}}).to_string())
            }
            "/v2/rerank" if body["query"] == "limit" => MockResponse::json(429, r#"{"message":"You are using a Trial key, which is limited to 10 API calls / minute."}"#).header("retry-after", "6"),
            "/v2/rerank" => MockResponse::json(200, r#"{"id":"r1","results":[{"index":1,"relevance_score":0.91},{"index":0,"relevance_score":0.02}],"meta":{"billed_units":{"search_units":1}}}"#),
            _ => MockResponse::json(404, r#"{"message":"not found"}"#),
        }
    })
    .await
    .unwrap();
    let p = CohereProvider::cohere("co-secret")
        .base_url(server.url(""))
        .build()
        .unwrap();
    let v = p
        .embed(&["a".into(), "b".into(), "c".into()])
        .await
        .unwrap();
    assert_eq!(v.len(), 3);
    assert_eq!(v[2], vec![2.0, 1.0]);
    let sent = &server.requests()[0];
    assert_eq!(sent.header("authorization"), Some("Bearer co-secret"));
    let body: serde_json::Value = serde_json::from_str(&sent.text()).unwrap();
    assert_eq!(body["input_type"], "search_document");
    assert_eq!(body["embedding_types"][0], "float");
    let ranked = p
        .rerank(
            "refunds",
            &["Shipping is free.".into(), "Refunds take 5 days.".into()],
        )
        .await
        .unwrap();
    assert_eq!(ranked[0].index, 1);
    assert!(ranked[0].score > ranked[1].score);
    let e = p.rerank("limit", &["x".into()]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(6)));
    assert!(e.message().contains("Trial key"));
    assert!(!format!("{p:?}").contains("co-secret"));
}
