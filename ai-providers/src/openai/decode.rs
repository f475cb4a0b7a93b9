//! Decoding OpenAI-style responses and streams into `ai-core` types.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use ai_core::{
    AiError, ChatResponse, ChatStream, ErrorKind, FinishReason, Message, ResponseMeta, Result,
    Role, StreamEvent, ToolCall, ToolCallDelta,
};
use bytes::Bytes;
use futures::Stream;
use serde_json::Value;

use super::wire::{self, Response};
use crate::error_map::{self, decode_error};
use crate::sse::{SseEvent, SseStream};

/// Decode a non-streamed Chat Completions body.
pub fn decode_response(
    provider: &'static str,
    body: &[u8],
    keep_raw: bool,
) -> Result<ChatResponse> {
    // One parse into a tree, then a typed view of it: the tree keeps the vendor fields
    // (`timings`, `prompt_filter_results`…) for `extra` and the raw payload when asked.
    let tree: Value =
        serde_json::from_slice(body).map_err(|e| decode_error(provider, "response", e, body))?;
    let parsed = <Response as serde::Deserialize>::deserialize(&tree)
        .map_err(|e| decode_error(provider, "response", e, body))?;
    if let Some(err) = &parsed.error {
        return Err(error_map::from_stream_error(
            provider,
            &serde_json::json!({ "error": err }),
            &String::from_utf8_lossy(body),
        ));
    }
    let mut choices = parsed.choices.unwrap_or_default();
    let position = choices
        .iter()
        .position(|c| c.index.unwrap_or(0) == 0)
        .ok_or_else(|| {
            AiError::decode(
                "the response has no choices",
                String::from_utf8_lossy(body).into_owned(),
            )
            .with_provider(provider)
        })?;
    let choice = choices.swap_remove(position);
    let msg = choice.message.or(choice.delta).unwrap_or_default();
    let mut finish = FinishReason::from_wire(choice.finish_reason.as_deref().unwrap_or(""));
    let mut text = msg
        .content
        .as_ref()
        .and_then(wire::content_text)
        .unwrap_or_default();
    let mut extra = serde_json::Map::new();
    if let Some(refusal) = msg.refusal.filter(|r| !r.is_empty()) {
        if text.is_empty() {
            text = refusal;
        }
        finish = FinishReason::ContentFilter;
        extra.insert("refusal".into(), Value::Bool(true));
    }
    if let Some(r) = msg
        .reasoning_content
        .or(msg.reasoning)
        .filter(|r| !r.is_empty())
    {
        extra.insert("reasoning".into(), Value::String(r));
    }
    if let Some(fp) = parsed.system_fingerprint {
        extra.insert("system_fingerprint".into(), Value::String(fp));
    }
    if let Value::Object(map) = &tree {
        for (k, v) in map {
            if !wire::KNOWN_FIELDS.contains(&k.as_str()) {
                extra.insert(k.clone(), v.clone());
            }
        }
    }
    let tool_calls = msg
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let f = c.function.unwrap_or_default();
            ToolCall {
                id: c
                    .id
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| format!("call_{i}")),
                name: f.name.unwrap_or_default(),
                arguments: f
                    .arguments
                    .as_ref()
                    .map(wire::arguments_text)
                    .unwrap_or_default(),
            }
        })
        .collect();
    let mut message = Message::new(Role::Assistant, text);
    if message.text().is_empty() {
        message.content.clear();
    }
    message.tool_calls = tool_calls;
    let raw = keep_raw.then_some(tree);
    Ok(ChatResponse {
        id: parsed.id,
        model: parsed.model,
        message,
        finish_reason: finish,
        usage: parsed.usage.and_then(wire::WireUsage::to_usage),
        extra,
        raw,
        meta: ResponseMeta::default(),
    })
}

/// Turns stream chunks into events. Knows about `[DONE]`, error objects after HTTP 200,
/// tool-call fragments without an `index`, empty `finish_reason`s and refusals.
#[derive(Debug)]
pub struct ChunkDecoder {
    provider: &'static str,
    started: bool,
    finish: Option<FinishReason>,
    finish_sent: bool,
    done: bool,
    refusal: bool,
    tool_ids: Vec<String>,
    last_tool: u32,
}

impl ChunkDecoder {
    /// A decoder for one stream.
    pub fn new(provider: &'static str) -> Self {
        Self {
            provider,
            started: false,
            finish: None,
            finish_sent: false,
            done: false,
            refusal: false,
            tool_ids: Vec::new(),
            last_tool: 0,
        }
    }

    /// Whether `[DONE]` arrived.
    pub fn is_done(&self) -> bool {
        self.done
    }

    fn tool_index(&mut self, index: Option<u32>, id: Option<&str>) -> u32 {
        if let Some(i) = index {
            self.last_tool = i;
            return i;
        }
        match id.filter(|s| !s.is_empty()) {
            Some(id) => {
                let pos = match self.tool_ids.iter().position(|k| k == id) {
                    Some(p) => p,
                    None => {
                        self.tool_ids.push(id.to_string());
                        self.tool_ids.len() - 1
                    }
                };
                self.last_tool = u32::try_from(pos).unwrap_or(u32::MAX);
                self.last_tool
            }
            None => self.last_tool,
        }
    }

    /// Decode one SSE event into zero or more stream items. After an `Err`, stop.
    pub fn on_event(&mut self, ev: &SseEvent, out: &mut VecDeque<Result<StreamEvent>>) {
        let data = ev.data.trim();
        if data == "[DONE]" {
            self.done = true;
            return;
        }
        if data.is_empty() {
            return;
        }
        if ev.event == "error" {
            let value = serde_json::from_str::<Value>(data).unwrap_or(Value::Null);
            out.push_back(Err(error_map::from_stream_error(
                self.provider,
                &value,
                data,
            )));
            return;
        }
        let chunk: Response = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(e) => {
                out.push_back(Err(decode_error(
                    self.provider,
                    "stream chunk",
                    e,
                    data.as_bytes(),
                )));
                return;
            }
        };
        if let Some(err) = chunk.error.as_ref().filter(|e| !e.is_null()) {
            let value = serde_json::json!({ "error": err });
            out.push_back(Err(error_map::from_stream_error(
                self.provider,
                &value,
                data,
            )));
            return;
        }
        if !self.started && (chunk.id.is_some() || chunk.model.is_some()) {
            self.started = true;
            out.push_back(Ok(StreamEvent::Start {
                id: chunk.id.clone(),
                model: chunk.model.clone(),
            }));
        }
        for choice in chunk.choices.unwrap_or_default() {
            if choice.index.unwrap_or(0) != 0 {
                continue;
            }
            if let Some(delta) = choice.delta.or(choice.message) {
                if let Some(r) = delta
                    .reasoning_content
                    .or(delta.reasoning)
                    .filter(|r| !r.is_empty())
                {
                    out.push_back(Ok(StreamEvent::ReasoningDelta { text: r }));
                }
                if let Some(t) = delta.content.as_ref().and_then(wire::content_text)
                    && !t.is_empty()
                {
                    out.push_back(Ok(StreamEvent::TextDelta { text: t }));
                }
                if let Some(r) = delta.refusal.filter(|r| !r.is_empty()) {
                    self.refusal = true;
                    out.push_back(Ok(StreamEvent::TextDelta { text: r }));
                }
                for call in delta.tool_calls.unwrap_or_default() {
                    let index = self.tool_index(call.index, call.id.as_deref());
                    let f = call.function.unwrap_or_default();
                    out.push_back(Ok(StreamEvent::ToolCallDelta(ToolCallDelta {
                        index,
                        id: call.id.filter(|s| !s.is_empty()),
                        name: f.name.filter(|s| !s.is_empty()),
                        arguments: f
                            .arguments
                            .as_ref()
                            .map(wire::arguments_text)
                            .unwrap_or_default(),
                    })));
                }
            }
            if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
                let reason = if self.refusal {
                    FinishReason::ContentFilter
                } else {
                    FinishReason::from_wire(&reason)
                };
                if !self.finish_sent {
                    self.finish_sent = true;
                    out.push_back(Ok(StreamEvent::Finish {
                        reason: reason.clone(),
                    }));
                }
                self.finish = Some(reason);
            }
        }
        if let Some(usage) = chunk.usage.and_then(wire::WireUsage::to_usage) {
            out.push_back(Ok(StreamEvent::Usage(usage)));
        }
    }

    /// The byte stream ended. A stream with neither `[DONE]` nor a finish reason was cut short.
    pub fn on_end(&mut self, out: &mut VecDeque<Result<StreamEvent>>) {
        if self.finish_sent {
            return;
        }
        if self.done {
            self.finish_sent = true;
            out.push_back(Ok(StreamEvent::Finish {
                reason: FinishReason::Unknown,
            }));
            return;
        }
        out.push_back(Err(AiError::new(
            ErrorKind::Unavailable,
            "the stream ended before the model finished (no finish reason, no [DONE])",
        )
        .with_provider(self.provider)));
    }
}

/// How long to keep reading after `[DONE]` for the body's proper end, so the connection can go
/// back to the pool instead of being closed.
pub const DRAIN_AFTER_DONE: std::time::Duration = std::time::Duration::from_secs(1);

/// Decode a Chat Completions SSE byte stream into stream events.
///
/// Public so that recorded streams can be replayed through exactly the code the provider uses.
pub fn decode_stream<S>(provider: &'static str, bytes: S) -> ChatStream
where
    S: Stream<Item = Result<Bytes>> + Unpin + Send + 'static,
{
    Box::pin(EventStream {
        sse: SseStream::new(bytes),
        decoder: ChunkDecoder::new(provider),
        ready: VecDeque::new(),
        state: State::Reading,
    })
}

enum State {
    Reading,
    /// `[DONE]` arrived: events are all out; read the body's end (bounded) for connection reuse.
    Draining(Pin<Box<tokio::time::Sleep>>),
    Finished,
}

struct EventStream<S> {
    sse: SseStream<S>,
    decoder: ChunkDecoder,
    ready: VecDeque<Result<StreamEvent>>,
    state: State,
}

impl<S> Stream for EventStream<S>
where
    S: Stream<Item = Result<Bytes>> + Unpin,
{
    type Item = Result<StreamEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        use std::future::Future as _;
        let this = &mut *self;
        loop {
            if let Some(item) = this.ready.pop_front() {
                if item.is_err() {
                    this.state = State::Finished;
                    this.ready.clear();
                }
                return Poll::Ready(Some(item));
            }
            match &mut this.state {
                State::Finished => return Poll::Ready(None),
                State::Draining(deadline) => {
                    // Whatever comes after `[DONE]` is ignored; only the end matters.
                    loop {
                        match Pin::new(&mut this.sse).poll_next(cx) {
                            Poll::Ready(Some(Ok(_))) => continue,
                            Poll::Ready(Some(Err(_))) | Poll::Ready(None) => {
                                this.state = State::Finished;
                                return Poll::Ready(None);
                            }
                            Poll::Pending => break,
                        }
                    }
                    if deadline.as_mut().poll(cx).is_ready() {
                        this.state = State::Finished;
                        return Poll::Ready(None);
                    }
                    return Poll::Pending;
                }
                State::Reading => {}
            }
            match Pin::new(&mut this.sse).poll_next(cx) {
                Poll::Ready(Some(Ok(ev))) => {
                    this.decoder.on_event(&ev, &mut this.ready);
                    if this.decoder.is_done() {
                        this.decoder.on_end(&mut this.ready);
                        this.state =
                            State::Draining(Box::pin(tokio::time::sleep(DRAIN_AFTER_DONE)));
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    this.state = State::Finished;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.state = State::Finished;
                    this.decoder.on_end(&mut this.ready);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(body: &str) -> Vec<Result<StreamEvent>> {
        let mut d = ChunkDecoder::new("t");
        let mut out = VecDeque::new();
        let mut sse = crate::sse::SseDecoder::new();
        let mut evs = Vec::new();
        sse.feed(body.as_bytes(), &mut evs).unwrap();
        sse.finish(&mut evs);
        for ev in &evs {
            d.on_event(ev, &mut out);
        }
        d.on_end(&mut out);
        out.into_iter().collect()
    }

    #[test]
    fn quirky_but_valid_responses_decode() {
        // Missing id/model, `usage: {}`, `finish_reason: ""`, content as parts, vendor fields.
        let r = decode_response(
            "t",
            br#"{"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},"finish_reason":""}],"usage":{},"vendor":{"x":1}}"#,
            false,
        )
        .unwrap();
        assert_eq!(r.text(), "ab");
        assert_eq!(r.finish_reason, FinishReason::Unknown);
        assert!(r.usage.is_none());
        assert_eq!(r.extra["vendor"]["x"], 1);
        assert!(r.id.is_none() && r.model.is_none());
        // Tool call with object arguments and no id.
        let r = decode_response(
            "t",
            br#"{"choices":[{"message":{"tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},"finish_reason":"tool_calls"}]}"#,
            false,
        )
        .unwrap();
        assert_eq!(r.tool_calls()[0].id, "call_0");
        assert_eq!(r.tool_calls()[0].arguments, r#"{"a":1}"#);
        // No choices at all is a decode error that keeps the body.
        let e = decode_response("t", br#"{"id":"x"}"#, false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        assert_eq!(e.raw_body(), Some(r#"{"id":"x"}"#));
    }

    #[test]
    fn stream_quirks() {
        // Empty finish reasons mid-stream, tool fragments without index, reasoning, no usage.
        let body = concat!(
            "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"think\"},\"finish_reason\":\"\"}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\"\"}}]},\"finish_reason\":\"\"}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\":1}\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"b\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}],\"usage\":{}}\n\n",
            "data: [DONE]\n\n",
        );
        let mut acc = ai_core::StreamAccumulator::new();
        for e in events(body) {
            acc.push(&e.unwrap());
        }
        let r = acc.finish();
        assert_eq!(r.tool_calls().len(), 2);
        assert_eq!(r.tool_calls()[0].arguments, "{\"x\":1}");
        assert_eq!(r.tool_calls()[1].name, "g");
        assert_eq!(r.finish_reason, FinishReason::ToolCalls);
        assert_eq!(r.extra["reasoning"], "think");
        assert!(r.usage.is_none());
    }

    #[test]
    fn done_without_finish_reason_is_a_normal_end() {
        let evs =
            events("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]\n\n");
        assert!(matches!(
            evs.last(),
            Some(Ok(StreamEvent::Finish {
                reason: FinishReason::Unknown
            }))
        ));
    }
}
