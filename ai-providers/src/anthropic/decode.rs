//! Anthropic Messages API responses and stream events → `ai-core` types.

use std::collections::{HashMap, VecDeque};

use ai_core::{
    AiError, ChatResponse, ChatStream, ErrorKind, FinishReason, Message, Result, StreamEvent,
    ToolCall, ToolCallDelta, Usage,
};
use bytes::Bytes;
use futures::Stream;
use serde_json::Value;

use crate::error_map::{self, decode_error};
use crate::pump::{BodyDecoder, pump};
use crate::sse::{SseDecoder, SseEvent};

/// Usage in `ai-core`'s convention: input tokens include the cached ones (Anthropic counts
/// cache reads and writes apart from `input_tokens`).
pub fn usage(u: &Value) -> Usage {
    let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
    let read = n("cache_read_input_tokens");
    let write = n("cache_creation_input_tokens");
    Usage {
        input_tokens: n("input_tokens") + read + write,
        output_tokens: n("output_tokens"),
        cached_input_tokens: read,
        cache_write_input_tokens: write,
        ..Usage::default()
    }
}

/// A whole (non-streamed) response.
///
/// # Errors
/// `Decode` for a body that is not a message; the API's error for an error object.
pub fn decode_response(
    provider: &'static str,
    body: &[u8],
    keep_raw: bool,
) -> Result<ChatResponse> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| decode_error(provider, "response", e, body))?;
    if v["type"] == "error" {
        return Err(error_map::from_stream_error(
            provider,
            &v,
            &String::from_utf8_lossy(body),
        ));
    }
    let Some(content) = v["content"].as_array() else {
        return Err(decode_error(
            provider,
            "response",
            "no `content` array",
            body,
        ));
    };
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut calls = Vec::new();
    for block in content {
        match block["type"].as_str() {
            Some("text") => text.push_str(block["text"].as_str().unwrap_or_default()),
            Some("thinking") => reasoning.push_str(block["thinking"].as_str().unwrap_or_default()),
            Some("tool_use") => calls.push(ToolCall {
                id: block["id"].as_str().unwrap_or_default().to_owned(),
                name: block["name"].as_str().unwrap_or_default().to_owned(),
                arguments: block
                    .get("input")
                    .map_or_else(|| "{}".into(), Value::to_string),
            }),
            // Unknown block types (server tool results, redacted thinking…) are kept in `raw`.
            _ => {}
        }
    }
    let mut message = Message::assistant(text);
    message.tool_calls = calls;
    let mut extra = serde_json::Map::new();
    if !reasoning.is_empty() {
        extra.insert("reasoning".into(), Value::String(reasoning));
    }
    if let Some(s) = v["stop_sequence"].as_str() {
        extra.insert("stop_sequence".into(), Value::String(s.to_owned()));
    }
    let mut resp = ChatResponse::text_answer("");
    resp.id = v["id"].as_str().map(str::to_owned);
    resp.model = v["model"].as_str().map(str::to_owned);
    resp.message = message;
    resp.finish_reason = v["stop_reason"]
        .as_str()
        .map_or(FinishReason::Unknown, FinishReason::from_wire);
    resp.usage = v.get("usage").map(usage);
    resp.extra = extra;
    if keep_raw {
        resp.raw = Some(v);
    }
    Ok(resp)
}

/// Turns the Messages API's stream events into `StreamEvent`s.
#[derive(Debug)]
pub struct EventDecoder {
    provider: &'static str,
    /// Content block index → tool call ordinal.
    tools: HashMap<u64, u32>,
    finish: Option<FinishReason>,
    done: bool,
}

impl EventDecoder {
    /// A decoder for one stream.
    pub fn new(provider: &'static str) -> Self {
        Self {
            provider,
            tools: HashMap::new(),
            finish: None,
            done: false,
        }
    }

    /// Whether `message_stop` arrived.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Decode one SSE event (`event` name and `data`), appending to `out`.
    pub fn push(&mut self, event: &str, data: &str, out: &mut VecDeque<Result<StreamEvent>>) {
        if data.trim().is_empty() || event == "ping" {
            return;
        }
        let v: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => {
                out.push_back(Err(decode_error(
                    self.provider,
                    "stream event",
                    e,
                    data.as_bytes(),
                )));
                return;
            }
        };
        let kind = if event.is_empty() {
            v["type"].as_str().unwrap_or("")
        } else {
            event
        };
        match kind {
            "message_start" => {
                let m = &v["message"];
                out.push_back(Ok(StreamEvent::Start {
                    id: m["id"].as_str().map(str::to_owned),
                    model: m["model"].as_str().map(str::to_owned),
                }));
                if let Some(u) = m.get("usage") {
                    out.push_back(Ok(StreamEvent::Usage(usage(u))));
                }
            }
            "content_block_start" => {
                let b = &v["content_block"];
                if b["type"] == "tool_use" {
                    let ordinal = self.tools.len() as u32;
                    self.tools.insert(v["index"].as_u64().unwrap_or(0), ordinal);
                    out.push_back(Ok(StreamEvent::ToolCallDelta(ToolCallDelta {
                        index: ordinal,
                        id: b["id"].as_str().map(str::to_owned),
                        name: b["name"].as_str().map(str::to_owned),
                        arguments: String::new(),
                    })));
                } else if b["type"] == "text"
                    && let Some(t) = b["text"].as_str().filter(|t| !t.is_empty())
                {
                    out.push_back(Ok(StreamEvent::text(t)));
                }
            }
            "content_block_delta" => {
                let d = &v["delta"];
                match d["type"].as_str() {
                    Some("text_delta") => {
                        out.push_back(Ok(StreamEvent::text(
                            d["text"].as_str().unwrap_or_default(),
                        )));
                    }
                    Some("thinking_delta") => out.push_back(Ok(StreamEvent::ReasoningDelta {
                        text: d["thinking"].as_str().unwrap_or_default().to_owned(),
                    })),
                    Some("input_json_delta") => {
                        let index = v["index"].as_u64().unwrap_or(0);
                        let Some(&ordinal) = self.tools.get(&index) else {
                            out.push_back(Err(decode_error(
                                self.provider,
                                "stream event",
                                "input_json_delta for a block that is not a tool call",
                                data.as_bytes(),
                            )));
                            return;
                        };
                        out.push_back(Ok(StreamEvent::ToolCallDelta(ToolCallDelta {
                            index: ordinal,
                            id: None,
                            name: None,
                            arguments: d["partial_json"].as_str().unwrap_or_default().to_owned(),
                        })));
                    }
                    // signature_delta, citations_delta and future kinds: nothing to emit.
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(r) = v["delta"]["stop_reason"].as_str() {
                    self.finish = Some(FinishReason::from_wire(r));
                }
                if let Some(u) = v.get("usage") {
                    // Only output tokens (and sometimes cache fields) come here; input came
                    // with message_start and the accumulator keeps the larger value.
                    out.push_back(Ok(StreamEvent::Usage(usage(u))));
                }
            }
            "message_stop" => {
                self.done = true;
                out.push_back(Ok(StreamEvent::Finish {
                    reason: self.finish.clone().unwrap_or(FinishReason::Unknown),
                }));
            }
            "error" => {
                out.push_back(Err(error_map::from_stream_error(self.provider, &v, data)));
            }
            _ => {}
        }
    }
}

/// The Messages API's SSE body.
struct AnthropicBody {
    sse: SseDecoder,
    events: Vec<SseEvent>,
    dec: EventDecoder,
}

impl AnthropicBody {
    fn take_events(&mut self, out: &mut VecDeque<Result<StreamEvent>>) {
        for ev in self.events.drain(..) {
            if self.dec.is_done() {
                break;
            }
            self.dec.push(&ev.event, &ev.data, out);
        }
        self.events.clear();
    }
}

impl BodyDecoder for AnthropicBody {
    fn feed(&mut self, chunk: &[u8], out: &mut VecDeque<Result<StreamEvent>>) {
        if let Err(e) = self.sse.feed(chunk, &mut self.events) {
            self.events.clear();
            out.push_back(Err(e));
            return;
        }
        self.take_events(out);
    }

    fn end(&mut self, out: &mut VecDeque<Result<StreamEvent>>) {
        self.sse.finish(&mut self.events);
        self.take_events(out);
        if !self.dec.is_done() {
            out.push_back(Err(AiError::new(
                ErrorKind::Unavailable,
                "the stream ended before message_stop",
            )
            .with_provider(self.dec.provider)));
        }
    }

    fn done(&self) -> bool {
        self.dec.is_done()
    }
}

/// Decode a streamed response body.
pub fn decode_stream<S>(provider: &'static str, bytes: S) -> ChatStream
where
    S: Stream<Item = Result<Bytes>> + Unpin + Send + 'static,
{
    pump(
        bytes,
        AnthropicBody {
            sse: SseDecoder::new(),
            events: Vec::new(),
            dec: EventDecoder::new(provider),
        },
    )
}
