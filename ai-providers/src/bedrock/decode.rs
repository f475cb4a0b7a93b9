//! Bedrock Converse responses and ConverseStream event-stream frames → `ai-core` types.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

use ai_core::{
    AiError, ChatResponse, ChatStream, ErrorKind, FinishReason, Message, Result, StreamEvent,
    ToolCall, ToolCallDelta, Usage,
};
use bytes::Bytes;
use futures::Stream;
use serde::Deserialize;
use serde_json::Value;

use crate::error_map::{aws_exception_kind, decode_error};
use crate::eventstream::{EventStreamDecoder, Frame};
use crate::pump::{BodyDecoder, pump};

/// Usage in `ai-core`'s convention (input includes cache reads and writes).
pub fn usage(u: &Value) -> Usage {
    let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
    let read = n("cacheReadInputTokens");
    let write = n("cacheWriteInputTokens");
    Usage {
        input_tokens: n("inputTokens") + read + write,
        output_tokens: n("outputTokens"),
        cached_input_tokens: read,
        cache_write_input_tokens: write,
        ..Usage::default()
    }
}

/// Converse stop reasons (`guardrail_intervened` and `content_filtered` are filters).
pub fn finish_reason(value: &str) -> FinishReason {
    match value {
        "content_filtered" => FinishReason::ContentFilter,
        other => FinishReason::from_wire(other),
    }
}

fn message_of(v: &Value) -> Option<String> {
    v.get("message")
        .or_else(|| v.get("Message"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// An exception frame inside a 200 stream.
fn stream_exception(provider: &'static str, kind_name: &str, payload: &[u8]) -> AiError {
    let v: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let kind = aws_exception_kind(kind_name).unwrap_or(ErrorKind::Provider);
    AiError::new(
        kind,
        message_of(&v).unwrap_or_else(|| format!("the stream failed with {kind_name}")),
    )
    .with_provider(provider)
    .with_code(kind_name.to_owned())
    .with_raw_body(String::from_utf8_lossy(payload).into_owned())
}

/// The fields of a Converse response this crate reads, borrowed from the body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResponseWire<'a> {
    #[serde(borrow)]
    output: Option<OutputWire<'a>>,
    #[serde(borrow)]
    stop_reason: Option<Cow<'a, str>>,
    usage: Option<Value>,
}

#[derive(Deserialize)]
struct OutputWire<'a> {
    #[serde(borrow)]
    message: Option<MessageWire<'a>>,
}

#[derive(Deserialize)]
struct MessageWire<'a> {
    #[serde(borrow)]
    content: Option<Vec<BlockWire<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockWire<'a> {
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    tool_use: Option<ToolUseWire<'a>>,
    reasoning_content: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolUseWire<'a> {
    #[serde(borrow)]
    tool_use_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    input: Option<Value>,
}

/// A whole Converse response.
///
/// # Errors
/// `Decode` for a body that is not a Converse response; `ContentFiltered` for an answer a
/// guardrail or filter replaced with nothing.
pub fn decode_response(
    provider: &'static str,
    body: &[u8],
    keep_raw: bool,
) -> Result<ChatResponse> {
    let w: ResponseWire<'_> =
        serde_json::from_slice(body).map_err(|e| decode_error(provider, "response", e, body))?;
    let Some(content) = w.output.and_then(|o| o.message).and_then(|m| m.content) else {
        return Err(decode_error(
            provider,
            "response",
            "no `output.message.content`",
            body,
        ));
    };
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut calls = Vec::new();
    for block in content {
        if let Some(t) = block.text {
            text.push_str(&t);
        } else if let Some(u) = block.tool_use {
            calls.push(ToolCall {
                id: u.tool_use_id.map(Cow::into_owned).unwrap_or_default(),
                name: u.name.map(Cow::into_owned).unwrap_or_default(),
                arguments: u.input.map_or_else(|| "{}".into(), |i| i.to_string()),
            });
        } else if let Some(r) = block
            .reasoning_content
            .as_ref()
            .and_then(|r| r["reasoningText"]["text"].as_str())
        {
            reasoning.push_str(r);
        }
    }
    let stop = w.stop_reason.as_deref().unwrap_or_default();
    let finish = if stop.is_empty() {
        FinishReason::Unknown
    } else {
        finish_reason(stop)
    };
    if finish == FinishReason::ContentFilter && text.is_empty() && calls.is_empty() {
        return Err(AiError::new(
            ErrorKind::ContentFiltered,
            format!("the answer was blocked ({stop})"),
        )
        .with_provider(provider)
        .with_raw_body(String::from_utf8_lossy(body).into_owned()));
    }
    let mut message = Message::assistant(text);
    message.tool_calls = calls;
    let mut resp = ChatResponse::text_answer("");
    resp.message = message;
    resp.finish_reason = finish;
    resp.usage = w.usage.as_ref().map(usage);
    if !reasoning.is_empty() {
        resp.extra
            .insert("reasoning".into(), Value::String(reasoning));
    }
    if keep_raw {
        resp.raw = serde_json::from_slice(body).ok();
    }
    Ok(resp)
}

/// Turns ConverseStream frames into `StreamEvent`s. `messageStop` carries the stop reason and
/// `metadata` (after it) the usage, so the finish is reported at `metadata` or when the body
/// ends after `messageStop`.
struct ConverseBody {
    provider: &'static str,
    frames: EventStreamDecoder,
    scratch: Vec<Result<Frame>>,
    /// Content block index → tool call ordinal.
    tools: HashMap<u64, u32>,
    stop: Option<FinishReason>,
    done: bool,
}

impl ConverseBody {
    fn frame(&mut self, f: &Frame, out: &mut VecDeque<Result<StreamEvent>>) {
        let kind = f.string_header(":message-type").unwrap_or("event");
        if kind != "event" {
            let name = f
                .string_header(":exception-type")
                .or_else(|| f.string_header(":error-code"))
                .unwrap_or("UnknownException");
            out.push_back(Err(stream_exception(self.provider, name, &f.payload)));
            self.done = true;
            return;
        }
        let v: Value = match serde_json::from_slice(&f.payload) {
            Ok(v) => v,
            Err(e) => {
                out.push_back(Err(decode_error(
                    self.provider,
                    "stream event",
                    e,
                    &f.payload,
                )));
                self.done = true;
                return;
            }
        };
        let index = v["contentBlockIndex"].as_u64().unwrap_or(0);
        match f.string_header(":event-type").unwrap_or("") {
            "messageStart" => out.push_back(Ok(StreamEvent::Start {
                id: None,
                model: None,
            })),
            "contentBlockStart" => {
                if let Some(t) = v["start"].get("toolUse") {
                    let ordinal = self.tools.len() as u32;
                    self.tools.insert(index, ordinal);
                    out.push_back(Ok(StreamEvent::ToolCallDelta(ToolCallDelta {
                        index: ordinal,
                        id: t["toolUseId"].as_str().map(str::to_owned),
                        name: t["name"].as_str().map(str::to_owned),
                        arguments: String::new(),
                    })));
                }
            }
            "contentBlockDelta" => {
                let d = &v["delta"];
                if let Some(t) = d["text"].as_str() {
                    out.push_back(Ok(StreamEvent::text(t)));
                } else if let Some(input) = d["toolUse"]["input"].as_str() {
                    let Some(&ordinal) = self.tools.get(&index) else {
                        out.push_back(Err(decode_error(
                            self.provider,
                            "stream event",
                            "tool input for a block that is not a tool call",
                            &f.payload,
                        )));
                        self.done = true;
                        return;
                    };
                    out.push_back(Ok(StreamEvent::ToolCallDelta(ToolCallDelta {
                        index: ordinal,
                        id: None,
                        name: None,
                        arguments: input.to_owned(),
                    })));
                } else if let Some(r) = d["reasoningContent"]["text"].as_str() {
                    out.push_back(Ok(StreamEvent::ReasoningDelta { text: r.to_owned() }));
                }
            }
            "messageStop" => {
                self.stop = Some(
                    v["stopReason"]
                        .as_str()
                        .map_or(FinishReason::Unknown, finish_reason),
                );
            }
            "metadata" => {
                if let Some(u) = v.get("usage") {
                    out.push_back(Ok(StreamEvent::Usage(usage(u))));
                }
                if let Some(reason) = self.stop.take() {
                    out.push_back(Ok(StreamEvent::Finish { reason }));
                    self.done = true;
                }
            }
            // contentBlockStop and future event types carry nothing here.
            _ => {}
        }
    }

    fn take_frames(&mut self, out: &mut VecDeque<Result<StreamEvent>>) {
        let frames: Vec<_> = self.scratch.drain(..).collect();
        for f in frames {
            if self.done {
                break;
            }
            match f {
                Ok(f) => self.frame(&f, out),
                Err(e) => {
                    out.push_back(Err(e.with_provider(self.provider)));
                    self.done = true;
                }
            }
        }
    }
}

impl BodyDecoder for ConverseBody {
    fn feed(&mut self, chunk: &[u8], out: &mut VecDeque<Result<StreamEvent>>) {
        self.frames.feed(chunk, &mut self.scratch);
        self.take_frames(out);
    }

    fn end(&mut self, out: &mut VecDeque<Result<StreamEvent>>) {
        self.frames.finish(&mut self.scratch);
        self.take_frames(out);
        if self.done {
            return;
        }
        match self.stop.take() {
            Some(reason) => out.push_back(Ok(StreamEvent::Finish { reason })),
            None => out.push_back(Err(AiError::new(
                ErrorKind::Unavailable,
                "the stream ended before messageStop",
            )
            .with_provider(self.provider))),
        }
        self.done = true;
    }

    fn done(&self) -> bool {
        self.done
    }
}

/// Decode a ConverseStream body (`application/vnd.amazon.eventstream`).
pub fn decode_stream<S>(provider: &'static str, bytes: S) -> ChatStream
where
    S: Stream<Item = Result<Bytes>> + Unpin + Send + 'static,
{
    pump(
        bytes,
        ConverseBody {
            provider,
            frames: EventStreamDecoder::default(),
            scratch: Vec::new(),
            tools: HashMap::new(),
            stop: None,
            done: false,
        },
    )
}
