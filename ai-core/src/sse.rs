//! Streaming answers out as Server-Sent Events (feature `axum`).
//!
//! Event names follow the stream: `start`, `text_delta`, `reasoning_delta`, `tool_call_delta`,
//! `usage`, `finish`, and `error` (then the stream ends); each data field is the event as JSON
//! (the same shape as [`StreamEvent`]'s serde form, tagged by `type`). When the client
//! disconnects, axum drops the response stream, which drops the model's stream: providers stop
//! reading and in-process models stop generating.
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::{Router, routing::post, extract::State, Json};
//! use ai_core::{ChatModel, ChatRequest};
//!
//! async fn chat(State(model): State<Arc<dyn ChatModel>>, Json(req): Json<ChatRequest>) -> axum::response::Response {
//!     match model.stream(req).await {
//!         Ok(stream) => axum::response::IntoResponse::into_response(ai_core::sse::sse(stream)),
//!         Err(e) => ai_core::sse::error_response(&e),
//!     }
//! }
//! # fn app(model: Arc<dyn ChatModel>) -> Router { Router::new().route("/ai/stream", post(chat)).with_state(model) }
//! ```

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};

use crate::error::AiError;
use crate::stream::{ChatStream, StreamEvent};

fn name(e: &StreamEvent) -> &'static str {
    match e {
        StreamEvent::Start { .. } => "start",
        StreamEvent::TextDelta { .. } => "text_delta",
        StreamEvent::ReasoningDelta { .. } => "reasoning_delta",
        StreamEvent::ToolCallDelta(_) => "tool_call_delta",
        StreamEvent::Usage(_) => "usage",
        StreamEvent::Finish { .. } => "finish",
    }
}

/// The JSON body of an error event or response: kind, message, retryable, retry-after
/// seconds. Never the provider's raw body (it may echo the request).
pub fn error_json(e: &AiError) -> serde_json::Value {
    serde_json::json!({
        "type": "error",
        "kind": e.kind().as_str(),
        "message": e.message(),
        "retryable": e.is_retryable(),
        "retry_after_s": e.retry_after().map(|d| d.as_secs_f64()),
    })
}

/// The SSE events for a model stream (usable with any SSE writer).
pub fn events(stream: ChatStream) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    let mut failed = false;
    stream
        .take_while(move |item| {
            // Stop after the error event.
            let go = !failed;
            failed = item.is_err();
            futures::future::ready(go)
        })
        .map(|item| {
            let event = match item {
                Ok(ev) => {
                    let data = serde_json::to_string(&ev).unwrap_or_else(|_| "{}".into());
                    Event::default().event(name(&ev)).data(data)
                }
                Err(e) => Event::default()
                    .event("error")
                    .data(error_json(&e).to_string()),
            };
            Ok(event)
        })
}

/// An axum SSE response for `stream`, with a keep-alive comment every 15 s.
pub fn sse(stream: ChatStream) -> Sse<impl Stream<Item = Result<Event, Infallible>> + Send> {
    Sse::new(events(stream)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// A JSON error response for an error before the stream started, with the HTTP status of its
/// kind (429 for rate limits, budgets and quotas, 400 for bad requests, 403 for guards
/// and content filters, 404, 503 when unavailable, 504 for timeouts, 502 otherwise: the
/// caller's own credentials problem with the provider is the gateway's, not the client's) and `Retry-After` when known.
pub fn error_response(e: &AiError) -> Response {
    use crate::error::ErrorKind as K;
    let status = match e.kind() {
        K::RateLimited | K::Budget | K::QuotaExceeded => 429,
        K::BadRequest | K::ContextLength => 400,
        K::Guard | K::ContentFiltered => 403,
        K::NotFound => 404,
        K::Timeout => 504,
        K::Unavailable => 503,
        K::Cancelled => 499,
        _ => 502,
    };
    let status =
        axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::BAD_GATEWAY);
    let mut resp = (status, axum::Json(error_json(e))).into_response();
    if let Some(after) = e.retry_after()
        && let Ok(v) = axum::http::HeaderValue::from_str(&after.as_secs().max(1).to_string())
    {
        resp.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, v);
    }
    resp
}
