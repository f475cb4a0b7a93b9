//! Recorded OpenAI, TGI, llama.cpp and Ollama traffic: decoded exactly, whatever the chunking,
//! and through a local mock server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ai_core::{
    ChatRequest, ErrorKind, FinishReason, StreamAccumulator, StreamEvent, collect_stream,
};
use ai_testkit::{MockResponse, MockServer};
use bytes::Bytes;
use common::*;
use serde_json::Value;

/// All SSE bodies the invariance test runs over: OpenAI and llama.cpp recordings as they are,
/// TGI chunk snapshots framed as SSE, and CRLF variants of all of them.
fn all_sse_bodies() -> Vec<(String, Vec<u8>)> {
    let mut bodies = Vec::new();
    for f in fixtures_in("openai/recorded", ".sse")
        .into_iter()
        .chain(fixtures_in("llamacpp", ".sse"))
    {
        bodies.push((f.clone(), read(&f)));
    }
    for f in fixtures_in("tgi", ".json") {
        let v: Value = serde_json::from_slice(&read(&f)).unwrap();
        if let Value::Array(chunks) = v {
            bodies.push((f, sse_from_chunks(&chunks)));
        }
    }
    let crlf: Vec<_> = bodies
        .iter()
        .map(|(n, b)| (format!("{n} (crlf)"), to_crlf(b)))
        .collect();
    bodies.extend(crlf);
    bodies
}

#[tokio::test]
async fn every_fixture_decodes_identically_under_any_chunking() {
    let bodies = all_sse_bodies();
    assert!(
        bodies.len() >= 40,
        "expected the fixtures, found {}",
        bodies.len()
    );
    for (name, body) in bodies {
        let reference = decode_pieces(vec![Bytes::from(body.clone())]).await;
        assert!(
            reference.iter().all(Result::is_ok),
            "{name} failed to decode: {reference:?}"
        );
        assert!(
            reference
                .iter()
                .any(|e| matches!(e, Ok(StreamEvent::Finish { .. }))),
            "{name} has no finish event"
        );
        for (how, pieces) in chunkings(&body) {
            let got = decode_pieces(pieces).await;
            assert_eq!(
                got, reference,
                "{name} decoded differently when split {how}"
            );
        }
    }
}

fn assemble(events: &[Result<StreamEvent, String>]) -> ai_core::ChatResponse {
    let mut acc = StreamAccumulator::new();
    for e in events {
        acc.push(e.as_ref().unwrap());
    }
    acc.finish()
}

#[tokio::test]
async fn openai_recordings_assemble_to_the_right_answers() {
    let dir = "openai/recorded";
    let get = |part: &str| {
        let name = fixtures_in(dir, ".sse")
            .into_iter()
            .find(|n| n.contains(part))
            .unwrap();
        read(&name)
    };
    // Two parallel tool calls, arguments streamed in pieces and assembled by index.
    let r = assemble(&decode_pieces(vec![Bytes::from(get("multiple_pydantic_tools"))]).await);
    assert_eq!(r.tool_calls().len(), 2);
    for call in r.tool_calls() {
        assert!(call.id.starts_with("call_"), "{call:?}");
        assert!(!call.name.is_empty());
        assert!(call.arguments_json().unwrap().is_object());
    }
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    let u = r.usage.unwrap();
    assert_eq!((u.input_tokens, u.output_tokens), (149, 60));
    assert_eq!(r.model.as_deref(), Some("gpt-4o-2024-08-06"));

    // Truncated by max_tokens.
    let r = assemble(&decode_pieces(vec![Bytes::from(get("max_tokens_reached"))]).await);
    assert_eq!(r.finish_reason, FinishReason::Length);

    // A refusal is surfaced as text with a content-filter finish.
    let r = assemble(&decode_pieces(vec![Bytes::from(get("pydantic_model_refusal__"))]).await);
    assert_eq!(r.finish_reason, FinishReason::ContentFilter);
    assert!(r.text().to_lowercase().contains("sorry") || !r.text().is_empty());

    // n=3: only choice 0 is assembled, and it is valid JSON on its own.
    let r = assemble(&decode_pieces(vec![Bytes::from(get("multiple_choices"))]).await);
    let v: Value = serde_json::from_str(&r.text()).unwrap();
    assert!(v.is_object());
}

#[tokio::test]
async fn tgi_snapshots_decode() {
    // Streamed tool call (TGI sends the tool call id "0" and arguments a few characters at a time).
    let chunks: Vec<Value> = serde_json::from_slice(&read(
        "tgi/test_flash_llama_grammar_tools_choice_stream.json",
    ))
    .unwrap();
    let r = assemble(&decode_pieces(vec![Bytes::from(sse_from_chunks(&chunks))]).await);
    assert_eq!(r.tool_calls().len(), 1);
    assert_eq!(r.tool_calls()[0].name, "get_current_weather");
    let args = r.tool_calls()[0].arguments_json().unwrap();
    assert!(args.get("location").is_some(), "{args}");

    // Stream with usage in the last chunk.
    let chunks: Vec<Value> =
        serde_json::from_slice(&read("tgi/test_chat_openai_usage.json")).unwrap();
    let r = assemble(&decode_pieces(vec![Bytes::from(sse_from_chunks(&chunks))]).await);
    assert!(r.usage.is_some());
    assert!(!r.text().is_empty());

    // Non-streamed responses through the mock server.
    for (file, check_tool) in [
        ("tgi/test_flash_llama_grammar_tools_nostream.json", true),
        ("tgi/test_flash_llama_simple.json", false),
        ("tgi/test_json_schema_basic.json", false),
    ] {
        let body = Bytes::from(read(file));
        let server = MockServer::start(move |_| MockResponse::json(200, body.clone()))
            .await
            .unwrap();
        let r = provider_for(&server)
            .generate(ChatRequest::user("x"))
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        if check_tool {
            assert_eq!(r.tool_calls()[0].name, "get_current_weather");
            assert_eq!(r.tool_calls()[0].id, "0");
            assert!(r.tool_calls()[0].arguments_json().unwrap().is_object());
        } else {
            assert!(!r.text().is_empty(), "{file}");
        }
        assert!(r.usage.unwrap().input_tokens > 0);
    }
}

#[tokio::test]
async fn openai_examples_decode_through_the_mock() {
    let examples: Value = serde_json::from_slice(&read("openai/examples.json")).unwrap();
    let mut checked = 0;
    for ex in examples["POST /chat/completions"].as_array().unwrap() {
        let raw = ex["response_raw"].as_str().unwrap();
        let Ok(json) = serde_json::from_str::<Value>(raw) else {
            continue; // the streaming example is an abridged SSE text with "...." lines
        };
        let body = Bytes::from(serde_json::to_vec(&json).unwrap());
        let server = MockServer::start(move |_| MockResponse::json(200, body.clone()))
            .await
            .unwrap();
        let r = provider_for(&server)
            .generate(ChatRequest::user("x"))
            .await
            .unwrap();
        let expected_text = json["choices"][0]["message"]["content"]
            .as_str()
            .unwrap_or("");
        assert_eq!(r.text(), expected_text, "{}", ex["title"]);
        assert_eq!(r.id.as_deref(), json["id"].as_str());
        let tool_calls = json["choices"][0]["message"]["tool_calls"].as_array();
        assert_eq!(r.tool_calls().len(), tool_calls.map_or(0, Vec::len));
        assert_eq!(
            r.usage.unwrap().input_tokens,
            json["usage"]["prompt_tokens"].as_u64().unwrap()
        );
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} examples checked");
}

#[tokio::test]
async fn llamacpp_recordings_through_the_mock_with_random_chunking() {
    for file in fixtures_in("llamacpp", ".sse") {
        let body = read(&file);
        let reference = assemble(&decode_pieces(vec![Bytes::from(body.clone())]).await);
        for (how, pieces) in chunkings(&body)
            .into_iter()
            .filter(|(h, _)| h.starts_with("random"))
        {
            let server = MockServer::start(move |_| MockResponse::sse(pieces.clone()))
                .await
                .unwrap();
            let r = collect_stream(
                provider_for(&server)
                    .stream(ChatRequest::user("x"))
                    .await
                    .unwrap(),
            )
            .await
            .unwrap_or_else(|e| panic!("{file} {how}: {e}"));
            assert_eq!(r, reference, "{file} {how}");
        }
        assert!(!reference.text().is_empty());
        let sent_usage = String::from_utf8_lossy(&body).contains("\"usage\":{\"");
        assert_eq!(
            reference.usage.is_some(),
            sent_usage,
            "{file}: usage decoded iff sent"
        );
    }
    // The non-streamed capture and the embeddings capture.
    // The capture's second line is the capturing tool's own status note; the body is line one.
    let capture = read("llamacpp/chat_nonstream.json");
    let first_line = capture.split(|b| *b == b'\n').next().unwrap().to_vec();
    let body = Bytes::from(first_line);
    let server = MockServer::start(move |_| MockResponse::json(200, body.clone()))
        .await
        .unwrap();
    let r = provider_for(&server)
        .generate(ChatRequest::user("x"))
        .await
        .unwrap();
    assert_eq!(r.model.as_deref(), Some("smollm2-135m-instruct"));
    assert!(
        r.extra.contains_key("timings"),
        "vendor fields are kept in extra"
    );

    let body = Bytes::from(read("llamacpp/embeddings.json"));
    let server = MockServer::start(move |_| MockResponse::json(200, body.clone()))
        .await
        .unwrap();
    let p = ai_providers::openai::OpenAiProvider::compatible(server.url("/v1"), "mock")
        .model("m")
        .build()
        .unwrap();
    // The capture answered two inputs.
    let v = ai_core::EmbeddingModel::embed(&p, &["hello".to_string(), "world".to_string()])
        .await
        .unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].len(), v[1].len());
    assert!(v[0].len() >= 64);
    assert_ne!(v[0], v[1]);
}

#[tokio::test]
async fn ollama_error_shapes() {
    let doc = String::from_utf8(read("ollama/errors.mdx")).unwrap();
    let errors: Vec<&str> = doc
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("{\"error\""))
        .collect();
    assert!(!errors.is_empty());
    // As an HTTP error body.
    let body = Bytes::from(errors[0].to_string());
    let server = MockServer::start(move |_| MockResponse::json(500, body.clone()))
        .await
        .unwrap();
    let e = provider_for(&server)
        .generate(ChatRequest::user("x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Provider);
    assert_eq!(e.status(), Some(500));
    assert!(e.message().contains("error was encountered") || e.message().contains("failed"));
    // As an error after the stream has started (HTTP 200).
    let first = br#"data: {"id":"x","model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}"#;
    let body = format!(
        "{}\n\ndata: {}\n\n",
        String::from_utf8_lossy(first),
        errors.last().unwrap()
    );
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
        matches!(items.last(), Some(Err(e)) if e.contains("error was encountered")),
        "{items:?}"
    );
    assert!(
        items
            .iter()
            .any(|i| matches!(i, Ok(StreamEvent::TextDelta { text }) if text == "Hi"))
    );
}
