//! Gemini responses and `streamGenerateContent?alt=sse` chunks → `ai-core` types. Every enum
//! is read as a string, so values this crate does not know never fail decoding.

use std::collections::VecDeque;

use ai_core::{
    AiError, ChatResponse, ChatStream, ErrorKind, FinishReason, Message, Result, StreamEvent,
    ToolCall, ToolCallDelta, Usage,
};
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use serde_json::Value;

use crate::error_map::{self, decode_error};

/// Joins a function call's id and its thought signature, so that a stateless caller that sends
/// the assistant turn back also sends the signature thinking models require.
pub const SIGNATURE_MARK: &str = "~sig~";

/// Usage in `ai-core`'s convention: output includes thinking tokens, input includes cached ones.
pub fn usage(u: &Value) -> Usage {
    let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
    let thoughts = n("thoughtsTokenCount");
    Usage {
        input_tokens: n("promptTokenCount") + n("toolUsePromptTokenCount"),
        output_tokens: n("candidatesTokenCount") + thoughts,
        cached_input_tokens: n("cachedContentTokenCount"),
        reasoning_tokens: thoughts,
        ..Usage::default()
    }
}

/// Gemini's finish reasons; the safety family becomes `ContentFilter`, unknown ones are kept.
pub fn finish_reason(value: &str) -> FinishReason {
    match value {
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => FinishReason::ContentFilter,
        "FINISH_REASON_UNSPECIFIED" => FinishReason::Unknown,
        other => FinishReason::from_wire(other),
    }
}

fn blocked(provider: &'static str, why: String, raw: &Value) -> AiError {
    AiError::new(ErrorKind::ContentFiltered, why)
        .with_provider(provider)
        .with_raw_body(raw.to_string())
}

/// The pieces of one response or chunk.
#[derive(Default)]
struct Parts {
    text: String,
    reasoning: String,
    calls: Vec<ToolCall>,
    finish: Option<String>,
    /// Whether the candidate had a `parts` array at all.
    has_parts: bool,
    finish_message: Option<String>,
}

/// A candidate with no `parts`: an error unless it finished normally (an empty answer).
fn empty_candidate(provider: &'static str, p: &Parts, raw: &[u8]) -> Option<AiError> {
    if p.has_parts || !p.text.is_empty() || !p.calls.is_empty() {
        return None;
    }
    let msg = p
        .finish_message
        .as_deref()
        .map_or_else(String::new, |m| format!(": {m}"));
    match p.finish.as_deref().map(finish_reason) {
        None => Some(decode_error(
            provider,
            "response",
            "a candidate without content or finish reason",
            raw,
        )),
        Some(FinishReason::ContentFilter) => Some(
            AiError::new(
                ErrorKind::ContentFiltered,
                format!(
                    "the answer was blocked ({}){msg}",
                    p.finish.as_deref().unwrap_or("")
                ),
            )
            .with_provider(provider)
            .with_raw_body(String::from_utf8_lossy(raw).into_owned()),
        ),
        Some(FinishReason::Stop | FinishReason::Length) => None,
        Some(_) => Some(
            AiError::new(
                ErrorKind::Provider,
                format!(
                    "the model returned no content ({}){msg}",
                    p.finish.as_deref().unwrap_or("")
                ),
            )
            .with_provider(provider)
            .with_raw_body(String::from_utf8_lossy(raw).into_owned()),
        ),
    }
}

fn parts_of(v: &Value, first_call: usize) -> Parts {
    let mut out = Parts::default();
    let Some(c) = v["candidates"].as_array().and_then(|a| a.first()) else {
        return out;
    };
    out.finish = c["finishReason"].as_str().map(str::to_owned);
    out.finish_message = c["finishMessage"].as_str().map(str::to_owned);
    out.has_parts = c["content"]["parts"].is_array();
    for p in c["content"]["parts"].as_array().into_iter().flatten() {
        if let Some(t) = p["text"].as_str() {
            if p["thought"] == true {
                out.reasoning.push_str(t);
            } else {
                out.text.push_str(t);
            }
        } else if let Some(f) = p.get("functionCall") {
            let n = first_call + out.calls.len();
            let mut id = f["id"]
                .as_str()
                .map_or_else(|| format!("call_{n}"), str::to_owned);
            if let Some(sig) = p["thoughtSignature"].as_str() {
                id = format!("{id}{SIGNATURE_MARK}{sig}");
            }
            let args = match f.get("args") {
                None | Some(Value::Null) => "{}".to_owned(),
                Some(a) => a.to_string(),
            };
            out.calls.push(ToolCall {
                id,
                name: f["name"].as_str().unwrap_or_default().to_owned(),
                arguments: args,
            });
        }
        // executableCode, codeExecutionResult, inlineData and future parts stay in `raw`.
    }
    out
}

fn check_error(provider: &'static str, v: &Value, raw: &[u8]) -> Result<()> {
    if v.get("error").is_some() {
        return Err(error_map::from_stream_error(
            provider,
            v,
            &String::from_utf8_lossy(raw),
        ));
    }
    if let Some(reason) = v["promptFeedback"]["blockReason"].as_str() {
        let msg = v["promptFeedback"]["blockReasonMessage"]
            .as_str()
            .map_or_else(String::new, |m| format!(": {m}"));
        return Err(blocked(
            provider,
            format!("the prompt was blocked ({reason}){msg}"),
            v,
        ));
    }
    Ok(())
}

/// A whole (non-streamed) response.
///
/// # Errors
/// `Decode` for a body that is not a response; `ContentFiltered` for a blocked prompt or a
/// candidate stopped for safety with nothing in it; the API's error for an error object.
pub fn decode_response(
    provider: &'static str,
    body: &[u8],
    keep_raw: bool,
) -> Result<ChatResponse> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| decode_error(provider, "response", e, body))?;
    check_error(provider, &v, body)?;
    let Some(candidates) = v["candidates"].as_array().filter(|c| !c.is_empty()) else {
        return Err(decode_error(provider, "response", "no candidates", body));
    };
    let parts = parts_of(&v, 0);
    if let Some(e) = empty_candidate(provider, &parts, body) {
        return Err(e);
    }
    let mut finish = parts
        .finish
        .as_deref()
        .map_or(FinishReason::Unknown, finish_reason);
    if finish == FinishReason::ContentFilter && parts.text.is_empty() && parts.calls.is_empty() {
        let msg = candidates[0]["finishMessage"]
            .as_str()
            .map_or_else(String::new, |m| format!(": {m}"));
        return Err(blocked(
            provider,
            format!(
                "the answer was blocked ({}){msg}",
                parts.finish.unwrap_or_default()
            ),
            &v,
        ));
    }
    if !parts.calls.is_empty() && finish == FinishReason::Stop {
        finish = FinishReason::ToolCalls;
    }
    let mut message = Message::assistant(parts.text);
    message.tool_calls = parts.calls;
    let mut extra = serde_json::Map::new();
    if !parts.reasoning.is_empty() {
        extra.insert("reasoning".into(), Value::String(parts.reasoning));
    }
    let mut resp = ChatResponse::text_answer("");
    resp.id = v["responseId"].as_str().map(str::to_owned);
    resp.model = v["modelVersion"].as_str().map(str::to_owned);
    resp.message = message;
    resp.finish_reason = finish;
    resp.usage = v.get("usageMetadata").map(usage);
    resp.extra = extra;
    if keep_raw {
        resp.raw = Some(v);
    }
    Ok(resp)
}

/// Turns the chunks of a Gemini stream into `StreamEvent`s. Chunks are whole
/// `GenerateContentResponse`s; usage is cumulative, so only the last is reported; the finish
/// is reported when the body ends, because an error object can still follow it.
#[derive(Debug)]
pub struct ChunkDecoder {
    provider: &'static str,
    started: bool,
    calls: usize,
    content: bool,
    finish: Option<String>,
    usage: Option<Usage>,
    failed: bool,
}

impl ChunkDecoder {
    /// A decoder for one stream.
    pub fn new(provider: &'static str) -> Self {
        Self {
            provider,
            started: false,
            calls: 0,
            content: false,
            finish: None,
            usage: None,
            failed: false,
        }
    }

    /// Decode one chunk (the JSON of a `data:` line), appending to `out`.
    pub fn push(&mut self, data: &str, out: &mut VecDeque<Result<StreamEvent>>) {
        if self.failed || data.trim().is_empty() {
            return;
        }
        let v: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => {
                self.fail(
                    out,
                    decode_error(self.provider, "stream chunk", e, data.as_bytes()),
                );
                return;
            }
        };
        if let Err(e) = check_error(self.provider, &v, data.as_bytes()) {
            self.fail(out, e);
            return;
        }
        if v.get("candidates").is_none() && v.get("usageMetadata").is_none() {
            self.fail(
                out,
                decode_error(
                    self.provider,
                    "stream chunk",
                    "neither candidates nor usage",
                    data.as_bytes(),
                ),
            );
            return;
        }
        if !self.started {
            self.started = true;
            out.push_back(Ok(StreamEvent::Start {
                id: v["responseId"].as_str().map(str::to_owned),
                model: v["modelVersion"].as_str().map(str::to_owned),
            }));
        }
        let parts = parts_of(&v, self.calls);
        let has_candidate = v["candidates"].as_array().is_some_and(|c| !c.is_empty());
        // A candidate without parts mid-stream is a keep-alive; as the first chunk it is broken.
        if has_candidate
            && !self.content
            && !parts.has_parts
            && parts.finish.is_none()
            && let Some(e) = empty_candidate(self.provider, &parts, data.as_bytes())
        {
            self.fail(out, e);
            return;
        }
        if !parts.reasoning.is_empty() {
            out.push_back(Ok(StreamEvent::ReasoningDelta {
                text: parts.reasoning,
            }));
        }
        if !parts.text.is_empty() {
            self.content = true;
            out.push_back(Ok(StreamEvent::text(parts.text)));
        }
        for call in parts.calls {
            self.content = true;
            out.push_back(Ok(StreamEvent::ToolCallDelta(ToolCallDelta {
                index: self.calls as u32,
                id: Some(call.id),
                name: Some(call.name),
                arguments: call.arguments,
            })));
            self.calls += 1;
        }
        if let Some(f) = parts.finish {
            self.finish = Some(f);
        }
        if let Some(u) = v.get("usageMetadata") {
            self.usage = Some(usage(u));
        }
    }

    /// Text that is not a `data:` line: Gemini writes an error object as plain JSON into the
    /// body when it fails after sending chunks.
    pub fn push_stray(&mut self, text: &str, out: &mut VecDeque<Result<StreamEvent>>) {
        if self.failed {
            return;
        }
        if let Ok(v) = serde_json::from_str::<Value>(text)
            && v.get("error").is_some()
        {
            let e = error_map::from_stream_error(self.provider, &v, text);
            self.fail(out, e);
        }
    }

    /// The body ended: report usage and the finish, or that the stream was cut short.
    pub fn end(&mut self, out: &mut VecDeque<Result<StreamEvent>>) {
        if self.failed {
            return;
        }
        let Some(f) = self.finish.take() else {
            let e = AiError::new(
                ErrorKind::Unavailable,
                "the stream ended before a finish reason",
            )
            .with_provider(self.provider);
            self.fail(out, e);
            return;
        };
        let mut reason = finish_reason(&f);
        if reason == FinishReason::ContentFilter && !self.content {
            let e = AiError::new(
                ErrorKind::ContentFiltered,
                format!("the answer was blocked ({f})"),
            )
            .with_provider(self.provider);
            self.fail(out, e);
            return;
        }
        if self.calls > 0 && reason == FinishReason::Stop {
            reason = FinishReason::ToolCalls;
        }
        if let Some(u) = self.usage.take() {
            out.push_back(Ok(StreamEvent::Usage(u)));
        }
        out.push_back(Ok(StreamEvent::Finish { reason }));
    }

    fn fail(&mut self, out: &mut VecDeque<Result<StreamEvent>>, e: AiError) {
        self.failed = true;
        out.push_back(Err(e));
    }
}

/// The longest line accepted in a stream (a broken or hostile server).
const MAX_LINE: usize = 16 * 1024 * 1024;

/// Split a body into lines and feed the decoder: `data:` lines are chunks, other non-empty
/// lines are collected and offered as a stray JSON error.
#[derive(Debug)]
pub struct LineFeeder {
    buf: BytesMut,
    stray: String,
}

impl Default for LineFeeder {
    fn default() -> Self {
        Self::new()
    }
}

impl LineFeeder {
    /// An empty feeder.
    pub fn new() -> Self {
        Self {
            buf: BytesMut::new(),
            stray: String::new(),
        }
    }

    /// Add bytes; complete lines go to `dec`.
    pub fn feed(
        &mut self,
        bytes: &[u8],
        dec: &mut ChunkDecoder,
        out: &mut VecDeque<Result<StreamEvent>>,
    ) {
        self.buf.extend_from_slice(bytes);
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let line = self.buf.split_to(pos + 1);
            self.line(&line[..pos], dec, out);
        }
        if self.buf.len() > MAX_LINE {
            self.buf.clear();
            dec.fail(
                out,
                AiError::new(
                    ErrorKind::Decode,
                    format!("a stream line is longer than {MAX_LINE} bytes"),
                )
                .with_provider(dec.provider),
            );
        }
    }

    /// The body ended.
    pub fn finish(&mut self, dec: &mut ChunkDecoder, out: &mut VecDeque<Result<StreamEvent>>) {
        if !self.buf.is_empty() {
            let rest = self.buf.split();
            self.line(&rest, dec, out);
        }
        dec.end(out);
    }

    fn line(
        &mut self,
        raw: &[u8],
        dec: &mut ChunkDecoder,
        out: &mut VecDeque<Result<StreamEvent>>,
    ) {
        let line = String::from_utf8_lossy(raw);
        let line = line.trim_end_matches('\r');
        if let Some(data) = line.strip_prefix("data:") {
            dec.push(data.strip_prefix(' ').unwrap_or(data), out);
        } else if line.is_empty() || line.starts_with(':') || line.starts_with("event:") {
            // SSE separators, comments and event names carry nothing here.
        } else if self.stray.len() + line.len() <= MAX_LINE {
            self.stray.push_str(line);
            self.stray.push('\n');
            dec.push_stray(&self.stray, out);
        }
    }
}

/// Decode a streamed (`alt=sse`) response body.
pub fn decode_stream<S>(provider: &'static str, bytes: S) -> ChatStream
where
    S: Stream<Item = Result<Bytes>> + Unpin + Send + 'static,
{
    struct St<S> {
        bytes: S,
        feeder: LineFeeder,
        dec: ChunkDecoder,
        ready: VecDeque<Result<StreamEvent>>,
        over: bool,
    }
    let st = St {
        bytes,
        feeder: LineFeeder::new(),
        dec: ChunkDecoder::new(provider),
        ready: VecDeque::new(),
        over: false,
    };
    futures::stream::unfold(st, |mut st| async move {
        loop {
            if let Some(item) = st.ready.pop_front() {
                if item.is_err() {
                    st.over = true;
                    st.ready.clear();
                }
                return Some((item, st));
            }
            if st.over {
                return None;
            }
            match st.bytes.next().await {
                Some(Ok(chunk)) => st.feeder.feed(&chunk, &mut st.dec, &mut st.ready),
                Some(Err(e)) => st.ready.push_back(Err(e)),
                None => {
                    st.over = true;
                    st.feeder.finish(&mut st.dec, &mut st.ready);
                    // `over` stays set: what `finish` queued is drained, then the stream ends.
                    if let Some(item) = st.ready.pop_front() {
                        return Some((item, st));
                    }
                    return None;
                }
            }
        }
    })
    .boxed()
}
