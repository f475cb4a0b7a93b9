//! Per-request CPU cost of each provider's encode and decode, against the OpenAI provider's,
//! in one run (no network: the request is encoded, the recorded response bytes decoded).
//!
//! ```sh
//! cargo run --release -p ai-providers --all-features --example codec_bench
//! ```
//!
//! A four-message request with one tool; a whole response and a 40-event streamed response
//! per provider, in its own wire format. Prints µs per request (encode + whole decode, and
//! encode + stream decode) and the ratio to OpenAI; best of five rounds.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::Instant;

use ai_core::{ChatRequest, Message, Tool};
use bytes::Bytes;
use futures::StreamExt;
use serde_json::json;

fn request() -> ChatRequest {
    let mut r = ChatRequest::new(vec![
        Message::system("You are a support assistant for an online shop. Answer briefly."),
        Message::user("My order 1234 has not arrived. It was due on Monday."),
        Message::assistant("I am sorry to hear that. Let me check the tracking for you."),
        Message::user("Thanks. Can you also tell me the refund policy?"),
    ])
    .temperature(0.2)
    .max_tokens(256);
    r.tools = vec![Tool {
        name: "track_order".into(),
        description: Some("Look up an order's tracking status".into()),
        parameters: json!({"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}),
        strict: None,
    }];
    r
}

const WORDS: [&str; 8] = [
    "Your", " order", " is", " on", " its", " way", " and", " refunds",
];

fn openai_bodies() -> (Vec<u8>, Vec<u8>) {
    let whole = json!({"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":WORDS.concat().repeat(5)},"finish_reason":"stop"}],"usage":{"prompt_tokens":60,"completion_tokens":40,"total_tokens":100}});
    let mut s = String::new();
    for i in 0..40 {
        s += &format!(
            "data: {}\n\n",
            json!({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":WORDS[i % 8]},"finish_reason":null}]})
        );
    }
    s += &format!(
        "data: {}\n\ndata: [DONE]\n\n",
        json!({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":60,"completion_tokens":40,"total_tokens":100}})
    );
    (whole.to_string().into_bytes(), s.into_bytes())
}

fn anthropic_bodies() -> (Vec<u8>, Vec<u8>) {
    let whole = json!({"id":"msg","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":WORDS.concat().repeat(5)}],"stop_reason":"end_turn","usage":{"input_tokens":60,"output_tokens":40}});
    let mut s = format!(
        "event: message_start\ndata: {}\n\n",
        json!({"type":"message_start","message":{"id":"msg","model":"m","usage":{"input_tokens":60,"output_tokens":0}}})
    );
    s += &format!(
        "event: content_block_start\ndata: {}\n\n",
        json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})
    );
    for i in 0..40 {
        s += &format!(
            "event: content_block_delta\ndata: {}\n\n",
            json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":WORDS[i % 8]}})
        );
    }
    s += &format!(
        "event: message_delta\ndata: {}\n\nevent: message_stop\ndata: {}\n\n",
        json!({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":40}}),
        json!({"type":"message_stop"})
    );
    (whole.to_string().into_bytes(), s.into_bytes())
}

fn ollama_bodies() -> (Vec<u8>, Vec<u8>) {
    let whole = json!({"model":"m","message":{"role":"assistant","content":WORDS.concat().repeat(5)},"done":true,"done_reason":"stop","prompt_eval_count":60,"eval_count":40});
    let mut s = String::new();
    for i in 0..40 {
        s += &format!(
            "{}\n",
            json!({"model":"m","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":WORDS[i % 8]},"done":false})
        );
    }
    s += &format!(
        "{}\n",
        json!({"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":60,"eval_count":40})
    );
    (whole.to_string().into_bytes(), s.into_bytes())
}

fn gemini_bodies() -> (Vec<u8>, Vec<u8>) {
    let chunk = |text: &str, last: bool| {
        let mut c = json!({"candidates":[{"content":{"role":"model","parts":[{"text":text}]},"index":0}],"modelVersion":"m","usageMetadata":{"promptTokenCount":60,"candidatesTokenCount":40,"totalTokenCount":100}});
        if last {
            c["candidates"][0]["finishReason"] = json!("STOP");
        }
        c
    };
    let whole = chunk(&WORDS.concat().repeat(5), true);
    let mut s = String::new();
    for i in 0..40 {
        s += &format!("data: {}\r\n\r\n", chunk(WORDS[i % 8], i == 39));
    }
    (whole.to_string().into_bytes(), s.into_bytes())
}

fn bedrock_bodies() -> (Vec<u8>, Vec<u8>) {
    use ai_providers::eventstream::Frame;
    let frame = |kind: &str, payload: serde_json::Value| Frame::json_event(kind, &payload);
    let whole = json!({"output":{"message":{"role":"assistant","content":[{"text":WORDS.concat().repeat(5)}]}},"stopReason":"end_turn","usage":{"inputTokens":60,"outputTokens":40,"totalTokens":100}});
    let mut s = frame("messageStart", json!({"role":"assistant"}));
    for i in 0..40 {
        s.extend(frame(
            "contentBlockDelta",
            json!({"delta":{"text":WORDS[i % 8]},"contentBlockIndex":0}),
        ));
    }
    s.extend(frame("messageStop", json!({"stopReason":"end_turn"})));
    s.extend(frame(
        "metadata",
        json!({"usage":{"inputTokens":60,"outputTokens":40,"totalTokens":100},"metrics":{"latencyMs":1}}),
    ));
    (whole.to_string().into_bytes(), s)
}

fn time(n: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
    best
}

fn drain(s: ai_core::ChatStream, rt: &tokio::runtime::Runtime) -> usize {
    rt.block_on(
        s.map(|e| e.is_ok() as usize)
            .fold(0, |a, b| async move { a + b }),
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let req = request();
    let n = 3000;
    let mut rows = Vec::new();
    let (ow, os) = openai_bodies();
    let opts = ai_providers::openai::EncodeOptions {
        max_tokens_field: ai_providers::openai::MaxTokensField::MaxTokens,
        stream_usage: true,
    };
    rows.push((
        "openai",
        time(n, || {
            let _ = ai_providers::openai::encode(&req, "m", false, opts).unwrap();
            let _ = ai_providers::openai::decode_response("openai", &ow, false).unwrap();
        }),
        time(n, || {
            let _ = ai_providers::openai::encode(&req, "m", true, opts).unwrap();
            let parts = vec![Ok(Bytes::from(os.clone()))];
            drain(
                ai_providers::openai::decode_stream("openai", futures::stream::iter(parts)),
                &rt,
            );
        }),
    ));
    let (aw, as_) = anthropic_bodies();
    rows.push((
        "anthropic",
        time(n, || {
            let _ = serde_json::to_vec(
                &ai_providers::anthropic::encode::encode(&req, "m", false).unwrap(),
            )
            .unwrap();
            let _ =
                ai_providers::anthropic::decode::decode_response("anthropic", &aw, false).unwrap();
        }),
        time(n, || {
            let _ = serde_json::to_vec(
                &ai_providers::anthropic::encode::encode(&req, "m", true).unwrap(),
            )
            .unwrap();
            let parts = vec![Ok(Bytes::from(as_.clone()))];
            drain(
                ai_providers::anthropic::decode::decode_stream(
                    "anthropic",
                    futures::stream::iter(parts),
                ),
                &rt,
            );
        }),
    ));
    let (lw, ls) = ollama_bodies();
    rows.push((
        "ollama",
        time(n, || {
            let _ = serde_json::to_vec(&ai_providers::ollama::encode(&req, "m", false).unwrap())
                .unwrap();
            let _ = ai_providers::ollama::decode_response("ollama", &lw, false).unwrap();
        }),
        time(n, || {
            let _ = serde_json::to_vec(&ai_providers::ollama::encode(&req, "m", true).unwrap())
                .unwrap();
            let parts = vec![Ok(Bytes::from(ls.clone()))];
            drain(
                ai_providers::ollama::decode_stream("ollama", futures::stream::iter(parts)),
                &rt,
            );
        }),
    ));
    let (gw, gs) = gemini_bodies();
    rows.push((
        "gemini",
        time(n, || {
            let _ =
                serde_json::to_vec(&ai_providers::gemini::encode::encode(&req).unwrap()).unwrap();
            let _ = ai_providers::gemini::decode::decode_response("gemini", &gw, false).unwrap();
        }),
        time(n, || {
            let _ =
                serde_json::to_vec(&ai_providers::gemini::encode::encode(&req).unwrap()).unwrap();
            let parts = vec![Ok(Bytes::from(gs.clone()))];
            drain(
                ai_providers::gemini::decode::decode_stream("gemini", futures::stream::iter(parts)),
                &rt,
            );
        }),
    ));
    let (dw, ds) = bedrock_bodies();
    rows.push((
        "bedrock",
        time(n, || {
            let _ =
                serde_json::to_vec(&ai_providers::bedrock::encode::encode(&req).unwrap()).unwrap();
            let _ = ai_providers::bedrock::decode::decode_response("bedrock", &dw, false).unwrap();
        }),
        time(n, || {
            let _ =
                serde_json::to_vec(&ai_providers::bedrock::encode::encode(&req).unwrap()).unwrap();
            let parts = vec![Ok(Bytes::from(ds.clone()))];
            drain(
                ai_providers::bedrock::decode::decode_stream(
                    "bedrock",
                    futures::stream::iter(parts),
                ),
                &rt,
            );
        }),
    ));
    let (bw, bs) = (rows[0].1, rows[0].2);
    println!(
        "{:<10} {:>14} {:>7} {:>16} {:>7}",
        "provider", "whole µs/req", "ratio", "stream µs/req", "ratio"
    );
    for (name, w, s) in rows {
        println!(
            "{name:<10} {w:>14.2} {:>6.2}x {s:>16.2} {:>6.2}x",
            w / bw,
            s / bs
        );
    }
}
