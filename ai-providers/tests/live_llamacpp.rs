//! Integration tests against a real llama.cpp server (SmolLM2-135M-Instruct) started by
//! `scripts/services.sh start`. Compiled only with the `live-tests` feature; when compiled they
//! require the servers and fail loudly without them.
#![cfg(feature = "live-tests")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use ai_core::layers::{RetryLayer, Stack, TimeoutLayer};
use ai_core::{
    ChatModel, ChatRequest, EmbeddingModel, ErrorKind, FinishReason, Message, collect_stream,
};
use ai_providers::openai::OpenAiProvider;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run `scripts/services.sh start` and `eval \"$(scripts/services.sh env)\"` (scripts/test.sh does both)")
    })
}

fn model_name() -> String {
    std::env::var("AI_TEST_LLAMACPP_MODEL").unwrap_or_else(|_| "smollm2-135m-instruct".into())
}

fn chat() -> OpenAiProvider {
    OpenAiProvider::compatible(env("AI_TEST_LLAMACPP_URL"), "llamacpp")
        .model(model_name())
        .build()
        .unwrap()
}

fn stacked() -> Arc<dyn ChatModel> {
    Stack::new()
        .layer(TimeoutLayer::new().total(Duration::from_secs(120)))
        .layer(RetryLayer::default())
        .build_chat(Arc::new(chat()))
}

fn question() -> ChatRequest {
    ChatRequest::new(vec![
        Message::system("You are a concise assistant."),
        Message::user("Name three colours of the rainbow."),
    ])
    .temperature(0.0)
    .max_tokens(40)
}

#[tokio::test]
async fn generate_answers_with_usage() {
    let r = stacked().generate(question()).await.unwrap();
    assert!(!r.text().trim().is_empty());
    assert!(matches!(
        r.finish_reason,
        FinishReason::Stop | FinishReason::Length
    ));
    let u = r.usage.unwrap();
    assert!(u.input_tokens > 10 && u.output_tokens > 0, "{u:?}");
    assert_eq!(r.model.as_deref(), Some(model_name().as_str()));
}

#[tokio::test]
async fn streamed_text_equals_generated_text_at_temperature_zero() {
    let model = stacked();
    let whole = model.generate(question()).await.unwrap();
    let streamed = collect_stream(model.stream(question()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(streamed.text(), whole.text());
    assert_eq!(streamed.finish_reason, whole.finish_reason);
    // include_usage makes llama.cpp send usage in the last chunk.
    assert_eq!(
        streamed.usage.unwrap().output_tokens,
        whole.usage.unwrap().output_tokens
    );
}

#[tokio::test]
async fn json_schema_output_parses() {
    let req = ChatRequest::user("Give the capital of France as JSON.")
        .temperature(0.0)
        .max_tokens(60)
        .json_schema(
            "capital",
            serde_json::json!({
                "type": "object",
                "properties": {"capital": {"type": "string"}},
                "required": ["capital"]
            }),
        );
    let r = stacked().generate(req).await.unwrap();
    let v: serde_json::Value = serde_json::from_str(&r.text()).unwrap();
    assert!(v["capital"].is_string(), "{v}");
}

#[tokio::test]
async fn embeddings_from_the_embedding_server() {
    let p = OpenAiProvider::compatible(env("AI_TEST_LLAMACPP_EMBED_URL"), "llamacpp")
        .model(model_name())
        .build()
        .unwrap();
    let texts = vec![
        "The cat sat on the mat.".to_string(),
        "A kitten rested on the rug.".to_string(),
        "Quarterly revenue grew by 12 percent.".to_string(),
    ];
    let v = p.embed(&texts).await.unwrap();
    assert_eq!(v.len(), 3);
    let dim = v[0].len();
    assert!(dim >= 64 && v.iter().all(|e| e.len() == dim), "dim {dim}");
    assert!(v.iter().flatten().all(|x| x.is_finite()));
    let again = p.embed(&texts[..1]).await.unwrap();
    let cos = |a: &[f32], b: &[f32]| {
        let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let n = |x: &[f32]| x.iter().map(|v| v * v).sum::<f32>().sqrt();
        dot / (n(a) * n(b))
    };
    assert!(cos(&again[0], &v[0]) > 0.999, "same text, same vector");
}

#[tokio::test]
async fn context_length_error_is_typed_and_not_retried() {
    let long = "word ".repeat(3000);
    let e = stacked()
        .generate(ChatRequest::user(long).max_tokens(10))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ContextLength, "{e:?}");
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.code(), Some("exceed_context_size_error"));
    assert!(e.raw_body().unwrap().contains("n_ctx"));
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn unknown_model_name_is_served_by_the_loaded_model() {
    // llama.cpp's server hosts one model and answers for any model name; the response reports
    // the model that really answered, which is what cost and metrics layers record.
    let r = chat()
        .generate(question().model("no-such-model"))
        .await
        .unwrap();
    assert_eq!(r.model.as_deref(), Some(model_name().as_str()));
    assert_ne!(r.model.as_deref(), Some("no-such-model"));
}

#[tokio::test]
async fn wrong_path_is_not_found() {
    let base = env("AI_TEST_LLAMACPP_URL");
    let p = OpenAiProvider::compatible(
        format!("{}/no-such-prefix", base.trim_end_matches('/')),
        "llamacpp",
    )
    .model(model_name())
    .build()
    .unwrap();
    let e = p.generate(question()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e:?}");
}

/// llama.cpp's server also speaks the Anthropic Messages API (`/v1/messages`).
#[tokio::test]
async fn anthropic_provider_against_llamacpp_messages_api() {
    use ai_providers::anthropic::AnthropicProvider;
    let base = env("AI_TEST_LLAMACPP_URL");
    let p = AnthropicProvider::compatible(base.trim_end_matches("/v1"), "llamacpp")
        .model(model_name())
        .build()
        .unwrap();
    let req = || {
        ChatRequest::new(vec![
            Message::system("You are terse."),
            Message::user("What is the capital of France?"),
        ])
        .temperature(0.0)
        .max_tokens(16)
    };
    let whole = p.generate(req()).await.unwrap();
    assert!(!whole.text().is_empty());
    assert!(matches!(
        whole.finish_reason,
        FinishReason::Stop | FinishReason::Length
    ));
    assert!(whole.usage.unwrap().output_tokens > 0);
    let streamed = collect_stream(p.stream(req()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(
        streamed.text(),
        whole.text(),
        "streamed text equals whole text (greedy)"
    );
}

/// A llama.cpp server this test owns (killed when dropped).
struct OwnServer {
    child: std::process::Child,
    url: String,
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn own_server(port: u16) -> OwnServer {
    let cmd = env("AI_TEST_LLAMA_SERVER");
    let mut parts = cmd.split_whitespace();
    let child = std::process::Command::new(parts.next().unwrap())
        .args(parts)
        .args([
            "--port",
            &port.to_string(),
            "--threads",
            "1",
            "--parallel",
            "1",
            "--ctx",
            "512",
        ])
        .env("OMP_WAIT_POLICY", "PASSIVE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start llama.cpp");
    let server = OwnServer {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..240 {
        if let Ok(r) = client
            .get(format!("{}/health", server.url))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            && r.status().is_success()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("llama.cpp on port {port} did not become ready");
}

fn replica(name: &str, url: &str) -> (String, Arc<dyn ChatModel>) {
    let model = OpenAiProvider::compatible(url, "llamacpp")
        .model(model_name())
        .build()
        .unwrap();
    (name.to_owned(), Arc::new(model))
}

/// Three real llama.cpp servers behind the replica pool; one is killed mid-run: no request
/// fails, the dead one is ejected, and the health check keeps it out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_pool_survives_a_real_server_killed_mid_run() {
    use ai_providers::pool::{PoolConfig, ReplicaPool};
    let b = own_server(18091).await;
    let mut c = Some(own_server(18092).await);
    let c_url = c.as_ref().unwrap().url.clone();
    let pool = ReplicaPool::new(
        vec![
            replica("a", &env("AI_TEST_LLAMACPP_URL")),
            replica("b", &format!("{}/v1", b.url)),
            replica("c", &format!("{c_url}/v1")),
        ],
        PoolConfig::default(),
    );
    // The active check proves each model answers (a one-token generation).
    pool.check_health().await;
    assert_eq!(pool.available().len(), 3, "{:?}", pool.available());
    let mut tasks = Vec::new();
    for i in 0..24 {
        if i == 8 {
            drop(c.take()); // kill replica c while requests are in flight
        }
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            pool.generate(
                ChatRequest::user("Say hello.")
                    .max_tokens(4)
                    .temperature(0.0),
            )
            .await
        }));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert!(r.is_ok(), "a request failed: {:?}", r.err());
    }
    pool.check_health().await;
    let up = pool.available();
    assert!(
        !up.contains(&"c".to_owned()),
        "the killed server is out: {up:?}"
    );
    assert!(
        up.contains(&"a".to_owned()) && up.contains(&"b".to_owned()),
        "{up:?}"
    );
}
