//! Helpers shared by the provider tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use ai_core::{ChatModel, ChatStream, StreamEvent};
use ai_providers::openai::{OpenAiProvider, decode_stream};
use ai_testkit::MockServer;
use bytes::Bytes;
use futures::StreamExt;

pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wire")
        .join(rel)
}

pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

pub fn fixtures_in(dir: &str, ext: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(fixture(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(ext))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    v.sort();
    v
}

/// Frame parsed stream chunks (TGI snapshots) as an SSE body ending in `[DONE]`.
pub fn sse_from_chunks(chunks: &[serde_json::Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in chunks {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(serde_json::to_string(c).unwrap().as_bytes());
        out.extend_from_slice(b"\n\n");
    }
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}

/// Decode a body split into `pieces` with the provider's own stream decoder.
pub async fn decode_pieces(pieces: Vec<Bytes>) -> Vec<Result<StreamEvent, String>> {
    let stream = futures::stream::iter(pieces.into_iter().map(Ok));
    collect_items(decode_stream("test", stream)).await
}

pub async fn collect_items(mut s: ChatStream) -> Vec<Result<StreamEvent, String>> {
    let mut out = Vec::new();
    while let Some(item) = s.next().await {
        out.push(item.map_err(|e| format!("{:?}:{}", e.kind(), e.message())));
    }
    out
}

pub fn provider_for(server: &MockServer) -> Arc<dyn ChatModel> {
    Arc::new(
        OpenAiProvider::compatible(server.url("/v1"), "mock")
            .model("mock-model")
            .build()
            .unwrap(),
    )
}

/// Every way the tests cut a body: whole, one byte at a time, seeded random cuts, cuts inside
/// each multi-byte UTF-8 character, and cuts between `\r` and `\n`.
pub fn chunkings(body: &[u8]) -> Vec<(String, Vec<Bytes>)> {
    let mut out = vec![("whole".to_string(), vec![Bytes::copy_from_slice(body)])];
    out.push((
        "bytewise".into(),
        body.iter().map(|b| Bytes::copy_from_slice(&[*b])).collect(),
    ));
    for seed in 0..8u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let n = rng.usize(1..=body.len().clamp(1, 40));
        let cuts: Vec<usize> = (0..n).map(|_| rng.usize(0..=body.len())).collect();
        out.push((format!("random-{seed}"), ai_testkit::split_at(body, &cuts)));
    }
    let utf8_cuts: Vec<usize> = (1..body.len())
        .filter(|&i| (body[i] & 0xC0) == 0x80)
        .collect();
    if !utf8_cuts.is_empty() {
        out.push(("inside-utf8".into(), ai_testkit::split_at(body, &utf8_cuts)));
    }
    let crlf_cuts: Vec<usize> = (1..body.len())
        .filter(|&i| body[i - 1] == b'\r' && body[i] == b'\n')
        .collect();
    if !crlf_cuts.is_empty() {
        out.push(("inside-crlf".into(), ai_testkit::split_at(body, &crlf_cuts)));
    }
    out
}

/// The same body with CRLF line endings.
pub fn to_crlf(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 8);
    for &b in body {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}
