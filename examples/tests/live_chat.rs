//! The chat example against the real llama.cpp server started by `scripts/services.sh`.
//! Compiled only with the `live-tests` feature.
#![cfg(feature = "live-tests")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

fn chat_binary() -> PathBuf {
    // target/<profile>/deps/live_chat-HASH → target/<profile>/examples/chat
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin = dir.join("examples").join("chat");
    assert!(
        bin.exists(),
        "{} not built; `cargo test` builds examples",
        bin.display()
    );
    bin
}

fn base_url() -> String {
    std::env::var("AI_TEST_LLAMACPP_URL").unwrap_or_else(|_| {
        panic!(
            "AI_TEST_LLAMACPP_URL is not set: run scripts/services.sh start (scripts/test.sh does)"
        )
    })
}

fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(chat_binary());
    cmd.args(args)
        .env_remove("OPENAI_API_KEY")
        .env_remove("AI_PROVIDER");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const PROMPT: &str = "Name a fruit that is yellow.";

fn json_answer(extra: &[&str]) -> serde_json::Value {
    let url = base_url();
    let mut args = vec![
        "--provider",
        "openai-compatible",
        "--base-url",
        &url,
        "--model",
        "smollm2-135m-instruct",
        "--max-tokens",
        "30",
        "--json",
    ];
    args.extend_from_slice(extra);
    args.push(PROMPT);
    let (code, out, err) = run(&args, &[]);
    assert_eq!(code, 0, "stderr: {err}");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not one JSON line ({e}): {out}"))
}

#[test]
fn answers_streamed_and_not_streamed_with_the_same_text() {
    let whole = json_answer(&[]);
    let streamed = json_answer(&["--stream"]);
    assert!(!whole["text"].as_str().unwrap().trim().is_empty());
    assert_eq!(whole["text"], streamed["text"]);
    assert!(whole["usage"]["input_tokens"].as_u64().unwrap() > 0);
    assert!(streamed["usage"]["output_tokens"].as_u64().unwrap() > 0);
    assert!(["stop", "length"].contains(&whole["finish_reason"].as_str().unwrap()));
}

#[test]
fn plain_streaming_prints_the_answer() {
    let url = base_url();
    let (code, out, err) = run(
        &[
            "--provider",
            "llamacpp",
            "--base-url",
            &url,
            "--model",
            "smollm2-135m-instruct",
            "--max-tokens",
            "20",
            "--stream",
            PROMPT,
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(!out.trim().is_empty());
}

#[test]
fn reads_the_provider_from_the_environment() {
    let url = base_url();
    let (code, out, err) = run(
        &["--json", "--max-tokens", "20", PROMPT],
        &[
            ("AI_PROVIDER", "llamacpp"),
            ("OPENAI_BASE_URL", &url),
            ("AI_MODEL", "smollm2-135m-instruct"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(!v["text"].as_str().unwrap().is_empty());
}

#[test]
fn errors_go_to_stderr_with_exit_status_1() {
    let (code, _, err) = run(&["--json", PROMPT], &[("AI_PROVIDER", "llamacpp")]);
    assert_eq!(code, 1);
    assert!(err.contains("OPENAI_BASE_URL"), "{err}");
    let (code, _, err) = run(
        &[
            "--provider",
            "llamacpp",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--model",
            "m",
            "--timeout",
            "5",
            PROMPT,
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(err.starts_with("error: unavailable"), "{err}");
}
