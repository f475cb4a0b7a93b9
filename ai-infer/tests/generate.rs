//! In-process generation with SmolLM2-135M-Instruct exported by `scripts/models.sh` (feature
//! `model-tests`): greedy output equals the PyTorch reference, the 4-bit export answers sensibly,
//! streaming, stop sequences, limits, sampling, and the tokenizer agrees with llama.cpp.
#![cfg(feature = "model-tests")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::OnceLock;

use ai_core::{
    ChatModel, ChatRequest, ErrorKind, FinishReason, Message, StreamEvent, Tool, collect_stream,
};
use ai_infer::{ModelFiles, OnnxChatModel, Sampling, SessionOptions};
use futures::StreamExt;
use serde_json::Value;

fn models() -> PathBuf {
    PathBuf::from(
        std::env::var("AI_INFER_MODELS").expect("AI_INFER_MODELS (scripts/models.sh env)"),
    )
}

fn load(name: &str) -> OnnxChatModel {
    OnnxChatModel::load(
        &ModelFiles::from_dir(models().join(name)).unwrap(),
        &SessionOptions::with_threads(1),
    )
    .unwrap()
}

fn fp32() -> &'static OnnxChatModel {
    static M: OnceLock<OnnxChatModel> = OnceLock::new();
    M.get_or_init(|| load("smollm2-135m-instruct-fp32"))
}

fn int4() -> &'static OnnxChatModel {
    static M: OnceLock<OnnxChatModel> = OnceLock::new();
    M.get_or_init(|| load("smollm2-135m-instruct-int4"))
}

fn reference() -> Vec<Value> {
    let text = std::fs::read_to_string(models().join("smollm2-135m-instruct-fp32/reference.json"))
        .unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

#[test]
fn chat_template_and_greedy_tokens_match_the_pytorch_reference() {
    for r in reference() {
        let prompt = r["prompt"].as_str().unwrap();
        let got_prompt = fp32().prompt_ids(&[Message::user(prompt)]).unwrap();
        assert_eq!(
            got_prompt,
            ids(&r["prompt_ids"]),
            "prompt tokens for {prompt:?}"
        );
        let got = fp32()
            .generate_ids(&got_prompt, 24, &Sampling::greedy())
            .unwrap();
        assert_eq!(got, ids(&r["greedy_ids"]), "greedy tokens for {prompt:?}");
    }
}

#[tokio::test]
async fn int4_export_answers_coherently() {
    let r = int4()
        .generate(ChatRequest::user("What is the capital of France?").max_tokens(16))
        .await
        .unwrap();
    assert!(r.text().contains("Paris"), "{:?}", r.text());
    assert_eq!(
        r.usage.unwrap().input_tokens as usize,
        int4()
            .prompt_ids(&[Message::user("What is the capital of France?")])
            .unwrap()
            .len()
    );
}

#[tokio::test]
async fn streamed_text_equals_generated_text_and_pieces_are_whole_characters() {
    let req =
        || ChatRequest::user("Write the words café, naïve and 東京, then an emoji.").max_tokens(40);
    let whole = fp32().generate(req()).await.unwrap();
    let mut s = fp32().stream(req()).await.unwrap();
    let mut pieces = Vec::new();
    let mut usage = None;
    let mut finish = None;
    while let Some(ev) = s.next().await {
        match ev.unwrap() {
            StreamEvent::TextDelta { text } => pieces.push(text),
            StreamEvent::Usage(u) => usage = Some(u),
            StreamEvent::Finish { reason } => finish = Some(reason),
            _ => {}
        }
    }
    assert!(pieces.len() > 3);
    assert!(pieces.iter().all(|p| !p.contains('\u{FFFD}')), "{pieces:?}");
    assert_eq!(pieces.concat(), whole.text());
    assert_eq!(usage, whole.usage);
    assert_eq!(finish, Some(whole.finish_reason));
}

#[tokio::test]
async fn stop_sequences_and_max_tokens() {
    let mut req = ChatRequest::user("What is the capital of France?").max_tokens(24);
    req.stop = vec!["France".into()];
    let r = fp32().generate(req.clone()).await.unwrap();
    assert!(!r.text().contains("France"), "{:?}", r.text());
    assert!(r.text().starts_with("The capital of"), "{:?}", r.text());
    assert_eq!(r.finish_reason, FinishReason::Stop);
    // Streaming never leaks the start of the stop sequence.
    let streamed = collect_stream(fp32().stream(req).await.unwrap())
        .await
        .unwrap();
    assert_eq!(streamed.text(), r.text());

    let r = fp32()
        .generate(ChatRequest::user("Tell me a long story about a dragon.").max_tokens(5))
        .await
        .unwrap();
    assert_eq!(r.finish_reason, FinishReason::Length);
    assert_eq!(r.usage.unwrap().output_tokens, 5);
}

#[tokio::test]
async fn seeded_sampling_is_reproducible() {
    let req = |seed| {
        let mut r = ChatRequest::user("Say something about the sea.")
            .max_tokens(20)
            .temperature(0.9);
        r.seed = Some(seed);
        r.top_p = Some(0.95);
        r
    };
    let a = int4().generate(req(7)).await.unwrap().text();
    let b = int4().generate(req(7)).await.unwrap().text();
    assert_eq!(a, b);
    let others: Vec<String> = futures::future::join_all(
        (8..12).map(|s| async move { int4().generate(req(s)).await.unwrap().text() }),
    )
    .await;
    assert!(
        others.iter().any(|o| *o != a),
        "different seeds gave one answer"
    );
}

#[tokio::test]
async fn unsupported_requests_and_limits_are_clear_errors() {
    let tool = Tool::new("f", "d", serde_json::json!({"type": "object"}));
    let e = fp32()
        .generate(ChatRequest::user("x").tools(vec![tool]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadRequest);
    let e = fp32()
        .generate(ChatRequest::user("x").json())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadRequest);
    let e = fp32()
        .generate(ChatRequest::user("x").max_tokens(9000))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ContextLength);
}

#[tokio::test]
async fn dropping_a_stream_stops_generation_and_frees_the_model() {
    let mut s = int4()
        .stream(ChatRequest::user("Count from one to one hundred.").max_tokens(200))
        .await
        .unwrap();
    let _ = s.next().await;
    let _ = s.next().await;
    drop(s);
    let start = std::time::Instant::now();
    let r = int4()
        .generate(ChatRequest::user("What is the capital of France?").max_tokens(8))
        .await
        .unwrap();
    assert!(!r.text().is_empty());
    // The dropped stream's 200 tokens would take several seconds; it stopped instead.
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn tokenizer_agrees_with_llama_cpp() {
    let Ok(base) = std::env::var("AI_TEST_LLAMACPP_URL") else {
        panic!(
            "AI_TEST_LLAMACPP_URL is not set: the llama.cpp server (scripts/services.sh) is the tokenizer reference"
        );
    };
    let root = base.trim_end_matches("/v1").to_string();
    let tok = tokenizers::Tokenizer::from_file(
        models().join("smollm2-135m-instruct-fp32/tokenizer.json"),
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    for text in [
        "Hello world",
        "The year 2024 had 366 days.",
        "  leading spaces",
        "emoji 🙂 and ünïcödé",
        "<|im_start|>user\nHi<|im_end|>\n",
        "code: fn main() { println!(\"{}\", x+1); }",
        "tabs\tand\nnewlines\n\n",
        "Ça va? Très bien!",
        "1234567890",
        "it's we're they'll I'd",
        "東京は日本の首都です。",
    ] {
        let theirs: Value = rt.block_on(async {
            client
                .post(format!("{root}/tokenize"))
                .json(&serde_json::json!({"content": text, "add_special": false, "parse_special": true}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        let ours = tok.encode(text, false).unwrap().get_ids().to_vec();
        assert_eq!(ours, ids(&theirs["tokens"]), "{text:?}");
    }
}
