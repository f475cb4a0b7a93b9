//! SSE out of a model stream, over a real HTTP connection: event order and shapes, the error
//! event, errors before the stream as JSON responses, and a client disconnect cancelling the
//! upstream stream.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ai_core::testing::{ScriptedModel, Step};
use ai_core::{
    AiError, Capabilities, ChatModel, ChatRequest, ChatResponse, ChatStream, ErrorKind,
    FinishReason, StreamEvent, Usage,
};
use async_trait::async_trait;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt;

async fn handler(State(model): State<Arc<dyn ChatModel>>) -> Response {
    match model.stream(ChatRequest::user("hi")).await {
        Ok(s) => ai_core::sse::sse(s).into_response(),
        Err(e) => ai_core::sse::error_response(&e),
    }
}

async fn serve(model: Arc<dyn ChatModel>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route("/s", get(handler)).with_state(model);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/s")
}

/// (event, data) pairs of an SSE body.
fn parse(body: &str) -> Vec<(String, serde_json::Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut event = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event: ") {
                    event = Some(e.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str(d).unwrap());
                }
            }
            Some((event?, data?))
        })
        .collect()
}

#[tokio::test]
async fn events_in_order_and_errors() {
    let z = Duration::ZERO;
    let model = Arc::new(ScriptedModel::new(vec![
        Step::Stream(vec![
            (z, Ok(StreamEvent::text("Hel"))),
            (z, Ok(StreamEvent::text("lo"))),
            (
                z,
                Ok(StreamEvent::Usage(Usage {
                    input_tokens: 3,
                    output_tokens: 2,
                    ..Usage::default()
                })),
            ),
            (
                z,
                Ok(StreamEvent::Finish {
                    reason: FinishReason::Stop,
                }),
            ),
        ]),
        Step::Stream(vec![
            (z, Ok(StreamEvent::text("par"))),
            (
                z,
                Err(AiError::new(ErrorKind::Unavailable, "upstream reset")),
            ),
            (z, Ok(StreamEvent::text("never"))),
        ]),
        Step::Fail(
            AiError::new(ErrorKind::RateLimited, "slow down")
                .with_retry_after(Duration::from_secs(7)),
        ),
    ]));
    let url = serve(model).await;
    let client = reqwest::Client::new();
    let resp = client.get(&url).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let events = parse(&resp.text().await.unwrap());
    let names: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(names, ["text_delta", "text_delta", "usage", "finish"]);
    assert_eq!(events[0].1["text"], "Hel");
    assert_eq!(events[2].1["output_tokens"], 2);
    assert_eq!(events[3].1["reason"], "stop");

    let events = parse(&client.get(&url).send().await.unwrap().text().await.unwrap());
    let names: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names,
        ["text_delta", "error"],
        "nothing after the error event"
    );
    assert_eq!(events[1].1["kind"], "unavailable");
    assert_eq!(events[1].1["retryable"], true);

    let resp = client.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["kind"], "rate_limited");
}

/// A model that streams forever and records when its stream is dropped.
struct Endless {
    dropped: Arc<AtomicBool>,
    caps: Capabilities,
}

struct Guard(Arc<AtomicBool>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[async_trait]
impl ChatModel for Endless {
    async fn generate(&self, _: ChatRequest) -> ai_core::Result<ChatResponse> {
        Err(AiError::config("stream only"))
    }
    async fn stream(&self, _: ChatRequest) -> ai_core::Result<ChatStream> {
        let guard = Guard(self.dropped.clone());
        let s = futures::stream::unfold(guard, |g| async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            Some((Ok(StreamEvent::text("tick ")), g))
        });
        Ok(s.boxed())
    }
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }
}

#[tokio::test]
async fn client_disconnect_cancels_the_upstream_stream() {
    let dropped = Arc::new(AtomicBool::new(false));
    let model = Arc::new(Endless {
        dropped: dropped.clone(),
        caps: Capabilities::default(),
    });
    let url = serve(model).await;
    let resp = reqwest::get(&url).await.unwrap();
    let mut body = resp.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("tick"));
    assert!(!dropped.load(Ordering::SeqCst));
    drop(body);
    for _ in 0..200 {
        if dropped.load(Ordering::SeqCst) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the upstream stream was not dropped after the client left");
}
