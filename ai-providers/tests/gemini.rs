//! Gemini (AI Studio and Vertex AI): every recorded mock response of Google's SDK test data,
//! request encoding, and Vertex AI OAuth (service-account JWT, refresh, caching, ADC files).
#![cfg(feature = "gemini")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ai_core::{ChatModel, ChatRequest, EmbeddingModel, ErrorKind, FinishReason, StreamEvent};
use ai_providers::error_map;
use ai_providers::gemini::decode::{decode_response, decode_stream};
use ai_providers::gemini::{GeminiProvider, GoogleCredentials, TokenSource};
use ai_testkit::{MockResponse, MockServer};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use common::{fixtures_in, read};
use futures::StreamExt;
use serde_json::Value;
use serde_json::json;

/// What a fixture gives: `Ok(finish)` or `Err(kind)`.
fn unary_outcome(rel: &str) -> Result<FinishReason, ErrorKind> {
    let body = read(rel);
    if let Ok(v) = serde_json::from_slice::<Value>(&body)
        && let Some(code) = v["error"]["code"].as_u64()
    {
        let e = error_map::from_response("gemini", code as u16, &Default::default(), &body);
        return Err(e.kind());
    }
    if rel.ends_with(".html") {
        let e = error_map::from_response("vertex", 404, &Default::default(), &body);
        return Err(e.kind());
    }
    decode_response("gemini", &body, true)
        .map(|r| r.finish_reason)
        .map_err(|e| e.kind())
}

async fn stream_outcome(rel: &str, cut: usize) -> (String, Result<FinishReason, ErrorKind>) {
    let body = read(rel);
    let pieces: Vec<Result<Bytes, ai_core::AiError>> = body
        .chunks(cut)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let mut s = decode_stream("gemini", futures::stream::iter(pieces));
    let mut text = String::new();
    let mut finish = None;
    while let Some(item) = s.next().await {
        match item {
            Ok(StreamEvent::TextDelta { text: t }) => text.push_str(&t),
            Ok(StreamEvent::Finish { reason }) => finish = Some(reason),
            Ok(_) => {}
            Err(e) => return (text, Err(e.kind())),
        }
    }
    (text, finish.ok_or(ErrorKind::Provider))
}

/// Fixtures of other endpoints in the same data set: Imagen's `predict` and `countTokens`.
fn other_endpoint(rel: &str) -> bool {
    rel.contains("generate-images")
        || rel.contains("total-tokens")
        || rel.contains("detailed-token-response")
        || rel.contains("no-billable-characters")
}

/// The outcome each failure fixture must give (success fixtures must decode without error).
fn expected_failure(name: &str) -> Option<Result<FinishReason, ErrorKind>> {
    use ErrorKind::*;
    let kind = |k| Some(Err(k));
    match name {
        "unary-failure-api-key.json" | "streaming-failure-api-key.txt" => kind(Auth),
        "unary-failure-generativelanguage-api-not-enabled.json"
        | "unary-failure-firebaseml-api-not-enabled.json"
        | "unary-failure-firebasevertexai-api-not-enabled.json"
        | "unary-failure-iam-permission-denied.json" => kind(Auth),
        "unary-failure-unknown-model.json"
        | "unary-failure-model-not-found.json"
        | "streaming-failure-unknown-model.txt"
        | "unary-failure-context-cache-not-found.json"
        | "unary-failure-invalid-location-url-not-found.html" => kind(NotFound),
        "unary-failure-quota-exceeded.json" => kind(RateLimited),
        "unary-failure-prompt-blocked-safety.json"
        | "unary-failure-prompt-blocked-safety-with-message.json"
        | "unary-failure-unknown-enum-prompt-blocked.json"
        | "unary-failure-finish-reason-safety-no-content.json"
        | "streaming-failure-prompt-blocked-safety.txt"
        | "streaming-failure-prompt-blocked-safety-with-message.txt" => kind(ContentFiltered),
        // Safety or recitation stops after some content: the content, finish ContentFilter.
        "unary-failure-finish-reason-safety.json"
        | "streaming-failure-finish-reason-safety.txt"
        | "streaming-failure-recitation-no-content.txt" => Some(Ok(FinishReason::ContentFilter)),
        "unary-failure-context-cache-model-doesnt-match.json"
        | "unary-failure-http-error.json"
        | "unary-failure-image-rejected.json"
        | "unary-failure-invalid-context-cache-id.json"
        | "unary-failure-unsupported-user-location.json"
        | "streaming-failure-http-error.txt"
        | "streaming-failure-image-rejected.txt"
        | "streaming-failure-error-mid-stream.txt" => kind(BadRequest),
        "unary-failure-invalid-response.json"
        | "unary-failure-empty-content.json"
        | "unary-failure-malformed-content.json"
        | "unary-failure-only-prompt-feedback.json"
        | "streaming-failure-invalid-json.txt"
        | "streaming-failure-empty-content.txt"
        | "streaming-failure-malformed-content.txt" => kind(Decode),
        "unary-failure-with-message-no-content.json" => kind(Provider),
        // Unknown enum values are kept, never a decoding failure.
        "unary-failure-unknown-enum-finish-reason.json" => {
            Some(Ok(FinishReason::Other("FAKE_NEW_FINISH_REASON".into())))
        }
        "streaming-failure-unknown-finish-enum.txt" => {
            Some(Ok(FinishReason::Other("FAKE_ENUM".into())))
        }
        // Recorded without a final finishReason: indistinguishable from a cut stream, so the
        // text arrives whole and the stream ends with a retryable error.
        "streaming-success-quotes-escaped.txt" => kind(Unavailable),
        _ => None,
    }
}

fn check(rel: &str, got: &Result<FinishReason, ErrorKind>) {
    let name = rel.rsplit('/').next().unwrap();
    match expected_failure(name) {
        Some(want) => assert_eq!(got, &want, "{rel}"),
        None => {
            assert!(name.contains("success"), "{rel}: no expectation");
            assert!(got.is_ok(), "{rel}: {got:?}");
        }
    }
}

#[tokio::test]
async fn every_recorded_gemini_response_decodes_or_maps_to_its_error() {
    let (mut unary, mut streams, mut skipped) = (0, 0, 0);
    for dir in ["gemini/googleai", "gemini/vertexai"] {
        for f in fixtures_in(dir, ".json")
            .into_iter()
            .chain(fixtures_in(dir, ".html"))
        {
            if other_endpoint(&f) {
                skipped += 1;
                continue;
            }
            check(&f, &unary_outcome(&f));
            unary += 1;
        }
        for f in fixtures_in(dir, ".txt") {
            if f.contains("/unary-") {
                continue; // the same responses as the .json files, with HTTP headers
            }
            let (whole_text, whole) = stream_outcome(&f, usize::MAX).await;
            check(&f, &whole);
            for cut in [1, 7, 64] {
                let (text, o) = stream_outcome(&f, cut).await;
                assert_eq!(
                    (text.as_str(), &o),
                    (whole_text.as_str(), &whole),
                    "{f} cut {cut}"
                );
            }
            streams += 1;
        }
    }
    assert_eq!(skipped, 10, "Imagen and countTokens fixtures");
    assert_eq!((unary, streams), (72, 39), "every fixture was checked");
}

#[test]
fn thinking_calls_keep_their_signature_and_usage_counts_thoughts() {
    let body =
        read("gemini/googleai/unary-success-thinking-function-call-thought-summary-signature.json");
    let r = decode_response("gemini", &body, false).unwrap();
    let call = &r.message.tool_calls[0];
    assert!(
        call.id
            .contains(ai_providers::gemini::decode::SIGNATURE_MARK),
        "{}",
        call.id
    );
    assert!(r.extra["reasoning"].as_str().unwrap().len() > 20);
    let u = r.usage.unwrap();
    assert!(u.reasoning_tokens > 0 && u.output_tokens > u.reasoning_tokens);
    // Sending the turn back returns the signature on the functionCall part.
    let mut assistant = ai_core::Message::assistant("");
    assistant.tool_calls = vec![call.clone()];
    let result = ai_core::Message::tool_result(call.id.clone(), "{\"now\": \"2025-06-01\"}");
    let req = ai_core::ChatRequest::new(vec![
        ai_core::Message::user("days to new year?"),
        assistant,
        result,
    ]);
    let body = ai_providers::gemini::encode::encode(&req).unwrap();
    let parts = &body["contents"][1]["parts"];
    assert_eq!(parts[0]["functionCall"]["name"], call.name);
    assert!(parts[0]["thoughtSignature"].as_str().unwrap().len() > 10);
    assert!(!parts[0]["functionCall"]["id"].is_string());
    let response = &body["contents"][2]["parts"][0]["functionResponse"];
    assert_eq!(
        response["name"], call.name,
        "the name comes from the call's id"
    );
    assert_eq!(response["response"]["now"], "2025-06-01");
}

fn answer() -> String {
    json!({"candidates":[{"content":{"role":"model","parts":[{"text":"ok"}]},"finishReason":"STOP"}],
        "usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":1}})
    .to_string()
}

#[tokio::test]
async fn ai_studio_sends_the_key_header_and_the_request_shape() {
    let server = MockServer::start(|_| MockResponse::json(200, answer()))
        .await
        .unwrap();
    let m = GeminiProvider::ai_studio("secret-key")
        .base_url(server.url(""))
        .model("gemini-2.5-flash")
        .build()
        .unwrap();
    let mut req = ChatRequest::new(vec![
        ai_core::Message::system("Be brief."),
        ai_core::Message::user("Weather?"),
    ])
    .max_tokens(5)
    .temperature(0.0);
    req.tools = vec![ai_core::Tool {
        name: "get_weather".into(),
        description: Some("Weather by city".into()),
        parameters: json!({"type":"object","properties":{"city":{"type":"string"}}}),
        strict: None,
    }];
    req.tool_choice = Some(ai_core::ToolChoice::Tool("get_weather".into()));
    req.response_format = Some(ai_core::ResponseFormat::JsonSchema {
        name: "w".into(),
        schema: json!({"type":"object"}),
        strict: false,
    });
    req = req.extra("generationConfig", json!({"topK": 3}));
    assert_eq!(m.generate(req).await.unwrap().text(), "ok");
    let r = &server.requests()[0];
    assert_eq!(r.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(r.header("x-goog-api-key"), Some("secret-key"));
    assert!(r.header("authorization").is_none());
    let b: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(b["systemInstruction"]["parts"][0]["text"], "Be brief.");
    assert_eq!(b["contents"][0]["role"], "user");
    let g = &b["generationConfig"];
    assert_eq!(
        (g["maxOutputTokens"].as_u64(), g["topK"].as_u64()),
        (Some(5), Some(3))
    );
    assert_eq!(g["responseMimeType"], "application/json");
    assert_eq!(g["responseJsonSchema"], json!({"type":"object"}));
    assert_eq!(
        b["tools"][0]["functionDeclarations"][0]["name"],
        "get_weather"
    );
    assert_eq!(
        b["toolConfig"]["functionCallingConfig"],
        json!({"mode":"ANY","allowedFunctionNames":["get_weather"]})
    );
    // The key never shows in Debug output.
    assert!(!format!("{m:?}").contains("secret-key"));
    // Streams ask for SSE.
    let body = format!("data: {}\n\n", answer());
    let server = MockServer::start(move |_| {
        MockResponse::new(200, body.clone()).header("content-type", "text/event-stream")
    })
    .await
    .unwrap();
    let m = GeminiProvider::ai_studio("k")
        .base_url(server.url(""))
        .model("g")
        .build()
        .unwrap();
    let mut s = m.stream(ChatRequest::user("hi")).await.unwrap();
    while s.next().await.is_some() {}
    assert_eq!(
        server.requests()[0].path,
        "/v1beta/models/g:streamGenerateContent?alt=sse"
    );
}

/// A token endpoint that checks the JWT assertion with the test key's public half.
async fn token_server(issued: Arc<AtomicUsize>, expires_in: u64) -> MockServer {
    let key: Value = serde_json::from_slice(&read_key()).unwrap();
    let public = STANDARD
        .decode(key["test_public_key_der_b64"].as_str().unwrap())
        .unwrap();
    MockServer::start(move |r| {
        let form: Vec<(String, String)> = url_pairs(&r.text());
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if get("grant_type").as_deref() == Some("refresh_token") {
            if get("refresh_token").as_deref() != Some("rt-1") {
                return MockResponse::json(400, r#"{"error":"invalid_grant","error_description":"Bad Request"}"#);
            }
        } else {
            assert_eq!(get("grant_type").as_deref(), Some("urn:ietf:params:oauth:grant-type:jwt-bearer"));
            let jwt = get("assertion").unwrap();
            let (signed, sig) = jwt.rsplit_once('.').unwrap();
            let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
            ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, &public)
                .verify(signed.as_bytes(), &sig)
                .expect("the assertion is signed with the service account's key");
            let claims: Value = serde_json::from_slice(
                &URL_SAFE_NO_PAD.decode(signed.split('.').nth(1).unwrap()).unwrap(),
            )
            .unwrap();
            assert_eq!(claims["iss"], "tester@test-project.iam.gserviceaccount.com");
            assert_eq!(claims["scope"], "https://www.googleapis.com/auth/cloud-platform");
            assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 3600);
        }
        let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
        MockResponse::json(200, json!({"access_token": format!("token-{n}"), "expires_in": expires_in, "token_type": "Bearer"}).to_string())
    })
    .await
    .unwrap()
}

fn read_key() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/google/service_account_test_key.json"
    ))
    .unwrap()
}

fn url_pairs(body: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

#[tokio::test]
async fn vertex_exchanges_a_signed_jwt_caches_the_token_and_refreshes_it() {
    let issued = Arc::new(AtomicUsize::new(0));
    let tokens = token_server(issued.clone(), 3600).await;
    let creds = GoogleCredentials::from_json(std::str::from_utf8(&read_key()).unwrap())
        .unwrap()
        .with_token_uri(tokens.url("/token"));
    let api = MockServer::start(|_| MockResponse::json(200, answer()))
        .await
        .unwrap();
    let m = GeminiProvider::vertex("test-project", "europe-west4")
        .credentials(creds)
        .base_url(api.url(""))
        .model("gemini-2.5-flash")
        .build()
        .unwrap();
    let calls: Vec<_> = (0..5)
        .map(|_| m.generate(ChatRequest::user("hi")))
        .collect();
    for r in futures::future::join_all(calls).await {
        assert_eq!(r.unwrap().text(), "ok");
    }
    assert_eq!(
        issued.load(Ordering::SeqCst),
        1,
        "one exchange for five concurrent calls"
    );
    for r in api.requests() {
        assert_eq!(
            r.path,
            "/v1/projects/test-project/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent"
        );
        assert_eq!(r.header("authorization"), Some("Bearer token-1"));
        assert!(r.header("x-goog-api-key").is_none());
    }
    // A token about to expire (inside the five-minute margin) is replaced on the next call.
    let issued = Arc::new(AtomicUsize::new(0));
    let tokens = token_server(issued.clone(), 60).await;
    let creds = GoogleCredentials::from_json(std::str::from_utf8(&read_key()).unwrap())
        .unwrap()
        .with_token_uri(tokens.url("/token"));
    for want in ["token-1", "token-2"] {
        assert_eq!(
            secrecy::ExposeSecret::expose_secret(&creds.token().await.unwrap()),
            want
        );
    }
}

#[tokio::test]
async fn authorized_user_files_application_default_and_caller_tokens() {
    let issued = Arc::new(AtomicUsize::new(0));
    let tokens = token_server(issued.clone(), 3600).await;
    let user = json!({"type":"authorized_user","client_id":"cid","client_secret":"cs","refresh_token":"rt-1","token_uri": tokens.url("/token")});
    let dir = std::env::temp_dir().join(format!("adc-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("adc.json");
    std::fs::write(&path, user.to_string()).unwrap();
    let creds = GoogleCredentials::application_default_with(|k| {
        (k == "GOOGLE_APPLICATION_CREDENTIALS").then(|| path.clone().into_os_string())
    })
    .unwrap();
    // gcloud's file under CLOUDSDK_CONFIG is the fallback.
    std::fs::write(
        dir.join("application_default_credentials.json"),
        user.to_string(),
    )
    .unwrap();
    let from_gcloud = GoogleCredentials::application_default_with(|k| {
        (k == "CLOUDSDK_CONFIG").then(|| dir.clone().into_os_string())
    });
    assert!(from_gcloud.is_ok());
    let none = GoogleCredentials::application_default_with(|_| None).unwrap_err();
    assert_eq!(none.kind(), ErrorKind::Config);
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&creds.token().await.unwrap()),
        "token-1"
    );
    let debug = format!("{creds:?}");
    assert!(
        !debug.contains("rt-1") && !debug.contains("cs\""),
        "{debug}"
    );
    // A refused refresh is an Auth error that does not echo the refresh token.
    let bad = json!({"type":"authorized_user","client_id":"cid","client_secret":"cs","refresh_token":"stolen","token_uri": tokens.url("/token")});
    let e = GoogleCredentials::from_json(&bad.to_string())
        .unwrap()
        .token()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(!e.to_string().contains("stolen"), "{e}");
    // Unusable files are clear Config errors.
    let e = GoogleCredentials::from_json(r#"{"type":"external_account"}"#).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    let e = GoogleCredentials::from_json(r#"{"type":"service_account","client_email":"a","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}"#).unwrap_err();
    assert!(e.to_string().contains("PKCS#8"), "{e}");
    // Vertex without credentials is refused at build time; a caller's token is used as is.
    assert!(GeminiProvider::vertex("p", "l").model("m").build().is_err());
    let api = MockServer::start(|_| MockResponse::json(200, answer()))
        .await
        .unwrap();
    let m = GeminiProvider::vertex("p", "global")
        .access_token("mine")
        .base_url(api.url(""))
        .model("m")
        .build()
        .unwrap();
    m.generate(ChatRequest::user("hi")).await.unwrap();
    assert_eq!(
        api.requests()[0].header("authorization"),
        Some("Bearer mine")
    );
    assert!(
        api.requests()[0]
            .path
            .starts_with("/v1/projects/p/locations/global/")
    );
}

#[tokio::test]
async fn embeddings_on_ai_studio_and_vertex() {
    let server = MockServer::start(|r| {
        let b: Value = serde_json::from_slice(&r.body).unwrap();
        let body = if r.path.ends_with(":batchEmbedContents") {
            let n = b["requests"].as_array().unwrap().len();
            json!({"embeddings": (0..n).map(|i| json!({"values":[i as f32, 1.0]})).collect::<Vec<_>>()})
        } else if r.path.ends_with(":embedContent") {
            json!({"embedding": {"values": [9.0, 1.0]}})
        } else {
            let n = b["instances"].as_array().unwrap().len();
            json!({"predictions": (0..n).map(|i| json!({"embeddings":{"values":[i as f32, 2.0],"statistics":{"token_count":1}}})).collect::<Vec<_>>()})
        };
        MockResponse::json(200, body.to_string())
    })
    .await
    .unwrap();
    let studio = GeminiProvider::ai_studio("k")
        .base_url(server.url(""))
        .embed_model("gemini-embedding-001")
        .task_type("RETRIEVAL_DOCUMENT")
        .dimensions(2)
        .build()
        .unwrap();
    let texts: Vec<String> = (0..150).map(|i| format!("t{i}")).collect();
    let v = studio.embed(&texts).await.unwrap();
    assert_eq!(v.len(), 150);
    assert_eq!(
        (v[0][0], v[149][0]),
        (0.0, 49.0),
        "order kept across batches of 100"
    );
    assert_eq!(studio.embed(&texts[..1]).await.unwrap()[0][0], 9.0);
    let reqs = server.requests();
    assert_eq!(
        reqs[0].path,
        "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    );
    let b: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(b["requests"][0]["model"], "models/gemini-embedding-001");
    assert_eq!(b["requests"][0]["taskType"], "RETRIEVAL_DOCUMENT");
    assert_eq!(b["requests"][0]["outputDimensionality"], 2);
    assert_eq!(
        reqs[2].path,
        "/v1beta/models/gemini-embedding-001:embedContent"
    );
    let vertex = GeminiProvider::vertex("p", "us-central1")
        .access_token("t")
        .base_url(server.url(""))
        .embed_model("text-embedding-005")
        .build()
        .unwrap();
    let v = vertex.embed(&texts[..3]).await.unwrap();
    assert_eq!(v[2], vec![2.0, 2.0]);
    assert!(
        server
            .requests()
            .last()
            .unwrap()
            .path
            .ends_with("/publishers/google/models/text-embedding-005:predict")
    );
    // A count mismatch is a Decode error, not a silent short answer.
    let short =
        MockServer::start(|_| MockResponse::json(200, r#"{"embeddings":[{"values":[1]}]}"#))
            .await
            .unwrap();
    let m = GeminiProvider::ai_studio("k")
        .base_url(short.url(""))
        .build()
        .unwrap();
    let e = m.embed(&texts[..2]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode);
}
