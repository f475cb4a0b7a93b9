//! Ollama's native API: NDJSON streams (shapes from Ollama's API documentation), tool calls,
//! embeddings and the documented error shapes, through a local mock (feature `ollama`).
#![cfg(feature = "ollama")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_core::{
    ChatModel, ChatRequest, EmbeddingModel, ErrorKind, FinishReason, StreamAccumulator, Tool,
};
use ai_providers::ollama::{NdjsonDecoder, OllamaProvider, decode_stream};
use ai_testkit::{MockResponse, MockServer, split_at};
use bytes::Bytes;
use futures::StreamExt;

const STREAM: &str = concat!(
    r#"{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The","images":null},"done":false}"#,
    "\n",
    r#"{"model":"llama3.2","created_at":"2023-08-04T08:52:19.5Z","message":{"role":"assistant","content":" sky is"},"done":false}"#,
    "\n",
    r#"{"model":"llama3.2","created_at":"2023-08-04T08:52:19.6Z","message":{"role":"assistant","content":" blue."},"done":false}"#,
    "\n",
    r#"{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}"#,
    "\n",
);

const TOOLS: &str = r#"{"model":"llama3.2","created_at":"2025-07-07T20:32:53.844124Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Tokyo"}}}]},"done_reason":"stop","done":true,"total_duration":3244883583,"load_duration":2969184542,"prompt_eval_count":169,"prompt_eval_duration":141656333,"eval_count":18,"eval_duration":133293625}"#;

async fn collect(body: &str, cuts: &[usize]) -> (ai_core::ChatResponse, Option<ai_core::AiError>) {
    let parts: Vec<ai_core::Result<Bytes>> = split_at(body.as_bytes(), cuts)
        .into_iter()
        .map(Ok)
        .collect();
    let mut s = decode_stream("ollama", futures::stream::iter(parts));
    let mut acc = StreamAccumulator::new();
    while let Some(item) = s.next().await {
        match item {
            Ok(ev) => acc.push(&ev),
            Err(e) => return (acc.finish(), Some(e)),
        }
    }
    (acc.finish(), None)
}

#[tokio::test]
async fn ndjson_streams_decode_the_same_however_split() {
    let (whole, err) = collect(STREAM, &[]).await;
    assert!(err.is_none());
    assert_eq!(whole.text(), "The sky is blue.");
    assert_eq!(whole.finish_reason, FinishReason::Stop);
    let u = whole.usage.unwrap();
    assert_eq!((u.input_tokens, u.output_tokens), (26, 282));
    for step in [1, 3, 17] {
        let cuts: Vec<usize> = (1..STREAM.len()).step_by(step).collect();
        let (split, err) = collect(STREAM, &cuts).await;
        assert!(err.is_none());
        assert_eq!(split, whole, "split every {step} bytes");
    }
    let (tool, _) = collect(&format!("{TOOLS}\n"), &[]).await;
    assert_eq!(tool.finish_reason, FinishReason::ToolCalls);
    assert_eq!(tool.message.tool_calls[0].name, "get_weather");
    assert_eq!(
        tool.message.tool_calls[0].arguments_json().unwrap()["city"],
        "Tokyo"
    );
    // Cut before the final line, an error line mid-stream, garbage.
    let first_two: String = STREAM.lines().take(2).map(|l| format!("{l}\n")).collect();
    let (partial, err) = collect(&first_two, &[]).await;
    assert_eq!(partial.text(), "The sky is");
    assert_eq!(err.unwrap().kind(), ErrorKind::Unavailable);
    let (_, err) = collect(&format!("{}{{\"error\":\"an error was encountered while running the model: unexpected EOF\"}}\n", first_two), &[]).await;
    assert_eq!(err.unwrap().kind(), ErrorKind::Provider);
    let (_, err) = collect("{not json}\n", &[]).await;
    assert_eq!(err.unwrap().kind(), ErrorKind::Decode);
    let mut d = NdjsonDecoder::default();
    let mut out = Vec::new();
    d.feed(&vec![b'x'; ai_providers::ollama::MAX_LINE + 1], &mut out);
    assert!(out.iter().any(Result::is_err), "bounded lines");
    // A bad last line (no newline) is an error after the good lines before it.
    let (_, err) = collect(
        "{\"model\":\"m\",\"message\":{\"content\":\"a\"},\"done\":false}\n\u{fffd}",
        &[],
    )
    .await;
    assert!(err.is_some());
}

#[tokio::test]
async fn chat_embed_and_errors_over_http() {
    let server = MockServer::start(|req| {
        let body: serde_json::Value = serde_json::from_str(&req.text()).unwrap_or_default();
        if req.path.ends_with("/api/embed") {
            let n = body["input"].as_array().map_or(0, Vec::len);
            let rows: Vec<Vec<f32>> = (0..n).map(|i| vec![i as f32, 0.5]).collect();
            return MockResponse::json(
                200,
                serde_json::json!({"model": "all-minilm", "embeddings": rows}).to_string(),
            );
        }
        if body["model"] == "missing" {
            return MockResponse::json(404, r#"{"error":"model 'missing' not found"}"#);
        }
        if body["stream"] == true {
            MockResponse::new(200, STREAM).header("content-type", "application/x-ndjson")
        } else {
            MockResponse::json(200, TOOLS)
        }
    })
    .await
    .unwrap();
    let p = OllamaProvider::new(&server.url(""), "llama3.2").unwrap();
    let mut req = ChatRequest::user("Weather in Tokyo?")
        .temperature(0.0)
        .max_tokens(50);
    req.tools = vec![Tool {
        name: "get_weather".into(),
        description: Some("Get the weather".into()),
        parameters: serde_json::json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        strict: None,
    }];
    let r = p.generate(req).await.unwrap();
    assert_eq!(
        r.message.tool_calls[0].arguments_json().unwrap()["city"],
        "Tokyo"
    );
    let sent: serde_json::Value = serde_json::from_str(&server.requests()[0].text()).unwrap();
    assert_eq!(sent["options"]["num_predict"], 50);
    assert_eq!(sent["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(sent["stream"], false);
    let s = ai_core::collect_stream(
        p.stream(ChatRequest::user("Why is the sky blue?"))
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(s.text(), "The sky is blue.");
    let v = p.embed(&["a".into(), "b".into()]).await.unwrap();
    assert_eq!(v, vec![vec![0.0, 0.5], vec![1.0, 0.5]]);
    let e = p
        .generate(ChatRequest::user("x").model("missing"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}
