//! One conformance suite over every chat provider: the same scenarios, each provider's own wire
//! format served by a local mock. A provider passes when every scenario gives the same
//! `ai-core` result: same text, same events, same usage, same error kinds.
#![cfg(all(
    feature = "openai",
    feature = "anthropic",
    feature = "ollama",
    feature = "gemini",
    feature = "bedrock"
))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use ai_core::{ChatModel, ChatRequest, ErrorKind, FinishReason, StreamAccumulator, Tool};
use ai_providers::anthropic::AnthropicProvider;
use ai_providers::bedrock::{AwsCredentials, BedrockProvider};
use ai_providers::eventstream::Frame;
use ai_providers::gemini::GeminiProvider;
use ai_providers::http::HttpOptions;
use ai_providers::ollama::OllamaProvider;
use ai_providers::openai::OpenAiProvider;
use ai_testkit::{MockResponse, MockServer};
use futures::StreamExt;
use serde_json::json;

/// What a provider's server sends for each scenario.
struct Wire {
    name: &'static str,
    whole_text: String,
    stream_text: Vec<u8>,
    stream_tool: Vec<u8>,
    malformed: Vec<u8>,
    cut: Vec<u8>,
    error_body: fn(&str) -> String,
    overload_status: u16,
    stream_type: &'static str,
    build: fn(&str, HttpOptions) -> Arc<dyn ChatModel>,
}

fn sse(events: &[(&str, serde_json::Value)]) -> String {
    events
        .iter()
        .map(|(e, d)| {
            if e.is_empty() {
                format!("data: {d}\n\n")
            } else {
                format!("event: {e}\ndata: {d}\n\n")
            }
        })
        .collect()
}

fn openai() -> Wire {
    let chunk = |delta: serde_json::Value, finish: Option<&str>| json!({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":delta,"finish_reason":finish}]});
    let usage = json!({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}});
    let text = sse(&[
        (
            "",
            chunk(json!({"role":"assistant","content":"Hello"}), None),
        ),
        ("", chunk(json!({"content":" world"}), None)),
        ("", chunk(json!({}), Some("stop"))),
        ("", usage.clone()),
    ]) + "data: [DONE]\n\n";
    let tool = sse(&[
        (
            "",
            chunk(
                json!({"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}),
                None,
            ),
        ),
        (
            "",
            chunk(
                json!({"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}),
                None,
            ),
        ),
        (
            "",
            chunk(
                json!({"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}),
                None,
            ),
        ),
        ("", chunk(json!({}), Some("tool_calls"))),
        ("", usage),
    ]) + "data: [DONE]\n\n";
    Wire {
        name: "openai",
        whole_text: json!({"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello world"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}).to_string(),
        cut: (sse(&[("", chunk(json!({"role":"assistant","content":"Hello"}), None))])).into(),
        stream_text: (text).into(),
        stream_tool: (tool).into(),
        malformed: "data: {not json\n\n".into(),
        error_body: |t| json!({"error":{"message":"details","type":t,"code":null}}).to_string(),
        overload_status: 503,
        stream_type: "text/event-stream",
        build: |url, opts| Arc::new(OpenAiProvider::compatible(format!("{url}/v1"), "vllm").model("m").http_options(opts).build().unwrap()),
    }
}

fn anthropic() -> Wire {
    let start = json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"usage":{"input_tokens":3,"output_tokens":0}}});
    let delta =
        |i: u32, d: serde_json::Value| json!({"type":"content_block_delta","index":i,"delta":d});
    let text = sse(&[
        ("message_start", start.clone()),
        (
            "content_block_start",
            json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
        ),
        ("ping", json!({"type":"ping"})),
        (
            "content_block_delta",
            delta(0, json!({"type":"text_delta","text":"Hello"})),
        ),
        (
            "content_block_delta",
            delta(0, json!({"type":"text_delta","text":" world"})),
        ),
        (
            "content_block_stop",
            json!({"type":"content_block_stop","index":0}),
        ),
        (
            "message_delta",
            json!({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}),
        ),
        ("message_stop", json!({"type":"message_stop"})),
    ]);
    let tool = sse(&[
        ("message_start", start.clone()),
        (
            "content_block_start",
            json!({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"call_1","name":"get_weather","input":{}}}),
        ),
        (
            "content_block_delta",
            delta(
                0,
                json!({"type":"input_json_delta","partial_json":"{\"city\":"}),
            ),
        ),
        (
            "content_block_delta",
            delta(
                0,
                json!({"type":"input_json_delta","partial_json":"\"Paris\"}"}),
            ),
        ),
        (
            "content_block_stop",
            json!({"type":"content_block_stop","index":0}),
        ),
        (
            "message_delta",
            json!({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":2}}),
        ),
        ("message_stop", json!({"type":"message_stop"})),
    ]);
    Wire {
        name: "anthropic",
        whole_text: json!({"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"Hello world"}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":2}}).to_string(),
        cut: (sse(&[("message_start", start), ("content_block_delta", delta(0, json!({"type":"text_delta","text":"Hello"})))])).into(),
        stream_text: (text).into(),
        stream_tool: (tool).into(),
        malformed: "event: content_block_delta\ndata: {not json\n\n".into(),
        error_body: |t| json!({"type":"error","error":{"type":t,"message":"details"}}).to_string(),
        overload_status: 529,
        stream_type: "text/event-stream",
        build: |url, opts| Arc::new(AnthropicProvider::anthropic("k").base_url(url).model("m").http_options(opts).build().unwrap()),
    }
}

fn ollama() -> Wire {
    let line = |content: &str, done: bool| {
        let mut v = json!({"model":"m","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":content},"done":done});
        if done {
            v["done_reason"] = json!("stop");
            v["prompt_eval_count"] = json!(3);
            v["eval_count"] = json!(2);
        }
        format!("{v}\n")
    };
    let tool_line = json!({"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":2});
    Wire {
        name: "ollama",
        whole_text: json!({"model":"m","message":{"role":"assistant","content":"Hello world"},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":2}).to_string(),
        stream_text: (line("Hello", false) + &line(" world", false) + &line("", true)).into(),
        stream_tool: (format!("{tool_line}\n")).into(),
        cut: (line("Hello", false)).into(),
        malformed: "{not json\n".into(),
        error_body: |_| json!({"error":"details"}).to_string(),
        overload_status: 503,
        stream_type: "application/x-ndjson",
        build: |url, opts| Arc::new(OllamaProvider::with_options(url, "m", opts).unwrap()),
    }
}

fn gemini_wire(name: &'static str, build: fn(&str, HttpOptions) -> Arc<dyn ChatModel>) -> Wire {
    let chunk = |parts: serde_json::Value, finish: Option<&str>, usage: bool| {
        let mut c = json!({"candidates":[{"content":{"role":"model","parts":parts},"index":0}],"modelVersion":"m","responseId":"r1"});
        if let Some(f) = finish {
            c["candidates"][0]["finishReason"] = json!(f);
        }
        if usage {
            c["usageMetadata"] =
                json!({"promptTokenCount":3,"candidatesTokenCount":2,"totalTokenCount":5});
        }
        c
    };
    Wire {
        name,
        whole_text: chunk(json!([{"text":"Hello world"}]), Some("STOP"), true).to_string(),
        stream_text: sse(&[
            ("", chunk(json!([{"text":"Hello"}]), None, false)),
            ("", chunk(json!([{"text":" world"}]), Some("STOP"), true)),
        ])
        .into(),
        stream_tool: sse(&[(
            "",
            chunk(
                json!([{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]),
                Some("STOP"),
                true,
            ),
        )])
        .into(),
        cut: (sse(&[("", chunk(json!([{"text":"Hello"}]), None, false))])).into(),
        malformed: "data: {not json\n\n".into(),
        error_body: |t| {
            let status = match t {
                "invalid_request_error" => "INVALID_ARGUMENT",
                "authentication_error" => "UNAUTHENTICATED",
                "not_found_error" => "NOT_FOUND",
                "rate_limit_error" => "RESOURCE_EXHAUSTED",
                "overloaded_error" => "UNAVAILABLE",
                _ => "INTERNAL",
            };
            json!({"error":{"message":"details","status":status}}).to_string()
        },
        overload_status: 503,
        stream_type: "text/event-stream",
        build,
    }
}

fn gemini() -> Wire {
    gemini_wire("gemini", |url, opts| {
        Arc::new(
            GeminiProvider::ai_studio("k")
                .base_url(url)
                .model("m")
                .http_options(opts)
                .build()
                .unwrap(),
        )
    })
}

fn vertex() -> Wire {
    gemini_wire("vertex", |url, opts| {
        Arc::new(
            GeminiProvider::vertex("p", "us-central1")
                .access_token("t")
                .base_url(url)
                .model("m")
                .http_options(opts)
                .build()
                .unwrap(),
        )
    })
}

/// One ConverseStream event as an event-stream frame.
fn frame(kind: &str, payload: serde_json::Value) -> Vec<u8> {
    Frame::json_event(kind, &payload)
}

fn bedrock() -> Wire {
    let start = frame("messageStart", json!({"role":"assistant"}));
    let text = |t: &str| {
        frame(
            "contentBlockDelta",
            json!({"delta":{"text":t},"contentBlockIndex":0}),
        )
    };
    let end = |reason: &str| {
        let mut b = frame("contentBlockStop", json!({"contentBlockIndex":0}));
        b.extend(frame("messageStop", json!({"stopReason":reason})));
        b.extend(frame("metadata", json!({"usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5},"metrics":{"latencyMs":1}})));
        b
    };
    let tool_input = |i: &str| {
        frame(
            "contentBlockDelta",
            json!({"delta":{"toolUse":{"input":i}},"contentBlockIndex":0}),
        )
    };
    let mut malformed = frame("messageStart", json!({"role":"assistant"}));
    let last = malformed.len() - 1;
    malformed[last] ^= 0xff; // a message CRC that does not match
    Wire {
        name: "bedrock",
        whole_text: json!({"output":{"message":{"role":"assistant","content":[{"text":"Hello world"}]}},"stopReason":"end_turn","usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5}}).to_string(),
        stream_text: [start.clone(), text("Hello"), text(" world"), end("end_turn")].concat(),
        stream_tool: [
            start.clone(),
            frame("contentBlockStart", json!({"start":{"toolUse":{"toolUseId":"call_1","name":"get_weather"}},"contentBlockIndex":0})),
            tool_input("{\"city\":"),
            tool_input("\"Paris\"}"),
            end("tool_use"),
        ]
        .concat(),
        cut: [start, text("Hello")].concat(),
        malformed,
        error_body: |_| json!({"message":"details"}).to_string(),
        overload_status: 503,
        stream_type: "application/vnd.amazon.eventstream",
        build: |url, opts| {
            Arc::new(
                BedrockProvider::in_region("us-east-1")
                    .credentials(AwsCredentials::new("AKIDEXAMPLE", "secret", None))
                    .base_url(url)
                    .model("m")
                    .http_options(opts)
                    .build()
                    .unwrap(),
            )
        },
    }
}

async fn serve(body: impl Into<bytes::Bytes>, status: u16, ctype: &'static str) -> MockServer {
    let body: bytes::Bytes = body.into();
    MockServer::start(move |_| {
        MockResponse::new(status, body.clone())
            .header("content-type", ctype)
            .header("retry-after", "4")
    })
    .await
    .unwrap()
}

async fn stream_collect(
    m: &Arc<dyn ChatModel>,
    req: ChatRequest,
) -> (ai_core::ChatResponse, Option<ai_core::AiError>) {
    let mut s = match m.stream(req).await {
        Ok(s) => s,
        Err(e) => return (ai_core::ChatResponse::text_answer(""), Some(e)),
    };
    let mut acc = StreamAccumulator::new();
    while let Some(item) = s.next().await {
        match item {
            Ok(ev) => acc.push(&ev),
            Err(e) => return (acc.finish(), Some(e)),
        }
    }
    (acc.finish(), None)
}

fn tool_request() -> ChatRequest {
    let mut r = ChatRequest::user("Weather in Paris?");
    r.tools = vec![Tool {
        name: "get_weather".into(),
        description: None,
        parameters: json!({"type":"object","properties":{"city":{"type":"string"}}}),
        strict: None,
    }];
    r
}

async fn conform(w: Wire) {
    let opts = HttpOptions::default();
    let n = w.name;
    // Plain text, usage, finish reason.
    let s = serve(w.whole_text.clone(), 200, "application/json").await;
    let m = (w.build)(&s.url(""), opts.clone());
    let whole = m.generate(ChatRequest::user("hi")).await.unwrap();
    assert_eq!(whole.text(), "Hello world", "{n}");
    assert_eq!(whole.finish_reason, FinishReason::Stop, "{n}");
    let u = whole.usage.unwrap();
    assert_eq!((u.input_tokens, u.output_tokens), (3, 2), "{n}: usage");
    // Multi-turn and JSON output are accepted and encoded (the server replies the same).
    let multi = ChatRequest::new(vec![
        ai_core::Message::system("s"),
        ai_core::Message::user("a"),
        ai_core::Message::assistant("b"),
        ai_core::Message::user("c"),
    ])
    .json();
    assert_eq!(
        m.generate(multi).await.unwrap().text(),
        "Hello world",
        "{n}"
    );
    // Streamed text equals whole text.
    let s = serve(w.stream_text.clone(), 200, w.stream_type).await;
    let m = (w.build)(&s.url(""), opts.clone());
    let (streamed, err) = stream_collect(&m, ChatRequest::user("hi")).await;
    assert!(err.is_none(), "{n}: {err:?}");
    assert_eq!(streamed.text(), whole.text(), "{n}: streamed = whole");
    assert_eq!(streamed.finish_reason, FinishReason::Stop, "{n}");
    assert_eq!(
        streamed.usage.map(|u| (u.input_tokens, u.output_tokens)),
        Some((3, 2)),
        "{n}: stream usage"
    );
    // Tool call with streamed arguments.
    let s = serve(w.stream_tool.clone(), 200, w.stream_type).await;
    let m = (w.build)(&s.url(""), opts.clone());
    let (tool, err) = stream_collect(&m, tool_request()).await;
    assert!(err.is_none(), "{n}: {err:?}");
    assert_eq!(tool.finish_reason, FinishReason::ToolCalls, "{n}");
    assert_eq!(tool.message.tool_calls[0].name, "get_weather", "{n}");
    assert_eq!(
        tool.message.tool_calls[0].arguments_json().unwrap()["city"],
        "Paris",
        "{n}"
    );
    // Errors by status.
    for (status, kind, t) in [
        (400, ErrorKind::BadRequest, "invalid_request_error"),
        (401, ErrorKind::Auth, "authentication_error"),
        (404, ErrorKind::NotFound, "not_found_error"),
        (429, ErrorKind::RateLimited, "rate_limit_error"),
        (
            w.overload_status,
            ErrorKind::Unavailable,
            "overloaded_error",
        ),
    ] {
        let s = serve((w.error_body)(t), status, "application/json").await;
        let m = (w.build)(&s.url(""), opts.clone());
        let e = m.generate(ChatRequest::user("hi")).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{n}: HTTP {status}");
        assert_eq!(e.status(), Some(status), "{n}");
        if status == 429 {
            assert_eq!(
                e.retry_after(),
                Some(Duration::from_secs(4)),
                "{n}: retry-after"
            );
        }
        if status == w.overload_status {
            assert!(e.is_retryable(), "{n}: overload is retryable");
        }
        let (_, se) = stream_collect(&m, ChatRequest::user("hi")).await;
        assert_eq!(se.unwrap().kind(), kind, "{n}: stream HTTP {status}");
    }
    let s = serve((w.error_body)("api_error"), 500, "application/json").await;
    let e = (w.build)(&s.url(""), opts.clone())
        .generate(ChatRequest::user("hi"))
        .await
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Provider | ErrorKind::Unavailable) && e.is_retryable(),
        "{n}: 5xx"
    );
    // Malformed and cut streams end with an error, never silently.
    let s = serve(w.malformed.clone(), 200, w.stream_type).await;
    let (_, err) = stream_collect(
        &(w.build)(&s.url(""), opts.clone()),
        ChatRequest::user("hi"),
    )
    .await;
    assert_eq!(
        err.expect("malformed").kind(),
        ErrorKind::Decode,
        "{n}: malformed stream"
    );
    let s = serve(w.cut.clone(), 200, w.stream_type).await;
    let (partial, err) = stream_collect(
        &(w.build)(&s.url(""), opts.clone()),
        ChatRequest::user("hi"),
    )
    .await;
    assert_eq!(partial.text(), "Hello", "{n}");
    assert!(
        err.is_some_and(|e| e.is_retryable()),
        "{n}: a cut stream is a retryable error"
    );
    // Timeout.
    let body = w.whole_text.clone();
    let slow = MockServer::start(move |_| {
        MockResponse::json(200, body.clone()).delay(Duration::from_secs(3))
    })
    .await
    .unwrap();
    let short = HttpOptions {
        request_timeout: Duration::from_millis(300),
        read_timeout: Duration::from_millis(300),
        ..HttpOptions::default()
    };
    let e = (w.build)(&slow.url(""), short)
        .generate(ChatRequest::user("hi"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{n}: timeout");
}

#[tokio::test]
async fn openai_conforms() {
    conform(openai()).await;
}

#[tokio::test]
async fn anthropic_conforms() {
    conform(anthropic()).await;
}

#[tokio::test]
async fn ollama_conforms() {
    conform(ollama()).await;
}

#[tokio::test]
async fn gemini_conforms() {
    conform(gemini()).await;
}

#[tokio::test]
async fn vertex_conforms() {
    conform(vertex()).await;
}

#[tokio::test]
async fn bedrock_conforms() {
    conform(bedrock()).await;
}
