//! The Anthropic provider against recorded Messages API traffic and documented error shapes,
//! through a local mock server (feature `anthropic`).
#![cfg(feature = "anthropic")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use ai_core::{
    ChatModel, ChatRequest, ErrorKind, FinishReason, Message, StreamAccumulator, StreamEvent, Tool,
    ToolCall, ToolChoice,
};
use ai_providers::anthropic::{AnthropicProvider, decode};
use ai_testkit::{MockResponse, MockServer, split_at};
use bytes::Bytes;
use futures::StreamExt;

const BASIC: &str = include_str!("fixtures/wire/anthropic/basic_response.txt");
const TOOL_USE: &str = include_str!("fixtures/wire/anthropic/tool_use_response.txt");
const CUT_TOOL: &str = include_str!("fixtures/wire/anthropic/incomplete_partial_json_response.txt");
const LLAMACPP: &str =
    include_str!("fixtures/wire/anthropic/llamacpp_anthropic_messages_stream.sse");

fn provider(server: &MockServer) -> AnthropicProvider {
    AnthropicProvider::anthropic("sk-ant-test-secret")
        .base_url(server.url(""))
        .model("claude-test")
        .build()
        .unwrap()
}

async fn collect(stream: ai_core::ChatStream) -> (ai_core::ChatResponse, Option<ai_core::AiError>) {
    let mut acc = StreamAccumulator::new();
    let mut s = stream;
    while let Some(item) = s.next().await {
        match item {
            Ok(ev) => acc.push(&ev),
            Err(e) => return (acc.finish(), Some(e)),
        }
    }
    (acc.finish(), None)
}

/// Decode `body` split at `cuts` directly (no server).
async fn decode_split(
    body: &str,
    cuts: &[usize],
) -> (ai_core::ChatResponse, Option<ai_core::AiError>) {
    let parts: Vec<ai_core::Result<Bytes>> = split_at(body.as_bytes(), cuts)
        .into_iter()
        .map(Ok)
        .collect();
    collect(decode::decode_stream(
        "anthropic",
        futures::stream::iter(parts),
    ))
    .await
}

#[tokio::test]
async fn recorded_streams_decode_the_same_whole_and_split() {
    for (name, body) in [
        ("basic", BASIC),
        ("tool_use", TOOL_USE),
        ("cut_tool", CUT_TOOL),
        ("llamacpp", LLAMACPP),
    ] {
        let (whole, err) = decode_split(body, &[]).await;
        assert!(err.is_none(), "{name}: {err:?}");
        let cuts: Vec<usize> = (1..body.len()).step_by(7).collect();
        let (split, err) = decode_split(body, &cuts).await;
        assert!(err.is_none(), "{name}");
        assert_eq!(whole, split, "{name}: the same however the bytes arrive");
    }
    let (basic, _) = decode_split(BASIC, &[]).await;
    assert!(basic.text().starts_with("Hello there"), "{}", basic.text());
    assert_eq!(basic.finish_reason, FinishReason::Stop);
    assert_eq!(
        basic.id.as_deref(),
        Some("msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK")
    );
    assert!(basic.usage.unwrap().input_tokens == 11);

    let (tool, _) = decode_split(TOOL_USE, &[]).await;
    assert_eq!(tool.finish_reason, FinishReason::ToolCalls);
    assert_eq!(tool.message.tool_calls.len(), 1);
    let call = &tool.message.tool_calls[0];
    assert_eq!(
        (call.id.as_str(), call.name.as_str()),
        ("toolu_01NRLabsLyVHZPKxbKvkfSMn", "get_weather")
    );
    let args = call.arguments_json().unwrap();
    assert!(
        args["location"].as_str().unwrap().starts_with("Paris"),
        "{args}"
    );
    assert!(tool.text().contains("Paris"));

    let (cut, _) = decode_split(CUT_TOOL, &[]).await;
    assert_eq!(cut.finish_reason, FinishReason::Length);
    assert!(
        cut.message.tool_calls[0].arguments_json().is_err(),
        "arguments cut by max_tokens stay as they came"
    );

    let (local, _) = decode_split(LLAMACPP, &[]).await;
    let u = local.usage.unwrap();
    assert_eq!(
        (u.cached_input_tokens, u.input_tokens),
        (31, 32),
        "cache reads count as input"
    );
}

#[tokio::test]
async fn stream_errors_and_cut_streams() {
    let overloaded = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"x\",\"usage\":{\"input_tokens\":1,\"output_tokens\":0}}}\n\n\
                      event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    let (_, err) = decode_split(overloaded, &[]).await;
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.is_retryable());
    // Cut cleanly after an event: the text so far, then a retryable error.
    let at = BASIC.find(" there").unwrap();
    let cut = &BASIC[..at + BASIC[at..].find("\n\n").unwrap() + 2];
    let (partial, err) = decode_split(cut, &[]).await;
    assert_eq!(partial.text(), "Hello there");
    let err = err.unwrap();
    assert!(err.message().contains("before message_stop"), "{err:?}");
    assert!(err.is_retryable());
    // Cut inside an event: an error too, never a silent end.
    let (_, err) = decode_split(&BASIC[..BASIC.len() / 2], &[]).await;
    assert!(err.is_some());
    let (_, err) = decode_split("event: content_block_delta\ndata: {not json\n\n", &[]).await;
    assert_eq!(err.unwrap().kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn requests_are_encoded_for_the_messages_api() {
    let server = MockServer::start(|_| MockResponse::sse(vec![Bytes::from(TOOL_USE)]))
        .await
        .unwrap();
    let p = provider(&server);
    let mut assistant = Message::assistant("Let me look.");
    assistant.tool_calls = vec![ToolCall {
        id: "toolu_1".into(),
        name: "get_weather".into(),
        arguments: r#"{"location":"Paris"}"#.into(),
    }];
    let mut req = ChatRequest::new(vec![
        Message::system("Be brief."),
        Message::user("Weather in Paris?"),
        assistant,
        Message::tool_result("toolu_1", "18°C, cloudy"),
        Message::user("And tomorrow?"),
    ])
    .temperature(0.2)
    .max_tokens(200);
    req.tools = vec![Tool {
        name: "get_weather".into(),
        description: Some("Current weather".into()),
        parameters: serde_json::json!({"type": "object", "properties": {"location": {"type": "string"}}}),
        strict: None,
    }];
    req.tool_choice = Some(ToolChoice::Required);
    req.extra
        .insert("cache_system".into(), serde_json::json!(true));
    let (resp, err) = collect(p.stream(req).await.unwrap()).await;
    assert!(err.is_none());
    assert_eq!(resp.message.tool_calls.len(), 1);
    let sent = &server.requests()[0];
    assert_eq!(sent.header("x-api-key"), Some("sk-ant-test-secret"));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    let body: serde_json::Value = serde_json::from_str(&sent.text()).unwrap();
    assert_eq!(body["model"], "claude-test");
    assert_eq!(body["max_tokens"], 200);
    assert_eq!(body["stream"], true);
    assert_eq!(body["system"][0]["text"], "Be brief.");
    assert_eq!(body["system"][0]["cache_control"]["type"], "ephemeral");
    assert_eq!(body["tool_choice"]["type"], "any");
    assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
    let msgs = body["messages"].as_array().unwrap();
    let roles: Vec<&str> = msgs.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(
        roles,
        ["user", "assistant", "user"],
        "the tool result and the next question merge"
    );
    assert_eq!(msgs[1]["content"][1]["type"], "tool_use");
    assert_eq!(msgs[1]["content"][1]["input"]["location"], "Paris");
    assert_eq!(msgs[2]["content"][0]["type"], "tool_result");
    assert_eq!(msgs[2]["content"][0]["tool_use_id"], "toolu_1");
    assert_eq!(msgs[2]["content"][1]["text"], "And tomorrow?");
    assert!(
        !format!("{p:?}").contains("sk-ant"),
        "the key never shows in Debug"
    );
}

#[tokio::test]
async fn whole_responses_and_documented_errors() {
    let message = serde_json::json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
        "content": [
            {"type": "thinking", "thinking": "Let me think.", "signature": "sig"},
            {"type": "text", "text": "Paris is 18°C."},
            {"type": "tool_use", "id": "toolu_2", "name": "log", "input": {"city": "Paris"}},
            {"type": "server_tool_use_from_the_future", "id": "x"}
        ],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 7}
    });
    let server = MockServer::start(move |_| MockResponse::json(200, message.to_string()))
        .await
        .unwrap();
    let r = provider(&server)
        .generate(ChatRequest::user("hi"))
        .await
        .unwrap();
    assert_eq!(r.text(), "Paris is 18°C.");
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(
        r.message.tool_calls[0].arguments_json().unwrap()["city"],
        "Paris"
    );
    assert_eq!(r.extra["reasoning"], "Let me think.");
    let u = r.usage.unwrap();
    assert_eq!(
        (
            u.input_tokens,
            u.cached_input_tokens,
            u.cache_write_input_tokens,
            u.output_tokens
        ),
        (117, 100, 7, 5)
    );

    let err_body = |t: &str, m: &str| {
        serde_json::json!({"type": "error", "error": {"type": t, "message": m}}).to_string()
    };
    for (status, t, kind) in [
        (400, "invalid_request_error", ErrorKind::BadRequest),
        (401, "authentication_error", ErrorKind::Auth),
        (403, "permission_error", ErrorKind::Auth),
        (404, "not_found_error", ErrorKind::NotFound),
        (413, "request_too_large", ErrorKind::BadRequest),
        (429, "rate_limit_error", ErrorKind::RateLimited),
        (500, "api_error", ErrorKind::Provider),
        (529, "overloaded_error", ErrorKind::Unavailable),
    ] {
        let body = err_body(t, "details");
        let server = MockServer::start(move |_| {
            MockResponse::json(status, body.clone()).header("retry-after", "3")
        })
        .await
        .unwrap();
        let e = provider(&server)
            .generate(ChatRequest::user("hi"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), kind, "{status} {t}");
        assert_eq!(e.status(), Some(status));
        assert_eq!(e.code(), Some(t));
        if status == 429 {
            assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        }
        assert!(!e.to_string().contains("sk-ant"));
    }
}

#[tokio::test]
async fn events_come_in_order() {
    let (_, _) = decode_split(BASIC, &[]).await;
    let parts: Vec<ai_core::Result<Bytes>> = vec![Ok(Bytes::from(TOOL_USE))];
    let events: Vec<StreamEvent> = decode::decode_stream("anthropic", futures::stream::iter(parts))
        .map(|e| e.unwrap())
        .collect()
        .await;
    assert!(matches!(events[0], StreamEvent::Start { .. }));
    assert!(matches!(
        events.last().unwrap(),
        StreamEvent::Finish {
            reason: FinishReason::ToolCalls
        }
    ));
    let usage_before_finish = events
        .iter()
        .rposition(|e| matches!(e, StreamEvent::Usage(_)))
        .unwrap();
    assert_eq!(usage_before_finish, events.len() - 2);
}

#[test]
fn from_the_environment() {
    use std::collections::HashMap;
    let vars: HashMap<&str, &str> =
        [("ANTHROPIC_API_KEY", "sk-ant-x"), ("AI_MODEL", "claude-x")].into();
    let get = |k: &str| vars.get(k).map(|v| (*v).to_owned());
    let p = ai_providers::env::anthropic_from(&get).unwrap();
    assert_eq!(p.capabilities().model, "claude-x");
    let none = |_: &str| None;
    let e = ai_providers::env::anthropic_from(&none).unwrap_err();
    assert!(e.message().contains("ANTHROPIC_API_KEY"));
}
