//! Gemini responses and `streamGenerateContent?alt=sse` chunks → `ai-core` types. Every enum
//! is read as a string, so values this crate does not know never fail decoding.

use std::borrow::Cow;
use std::collections::VecDeque;

use ai_core::{
    AiError, ChatResponse, ChatStream, ErrorKind, FinishReason, Message, Result, StreamEvent,
    ToolCall, ToolCallDelta, Usage,
};
use bytes::Bytes;
use futures::Stream;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use crate::error_map::{self, decode_error};
use crate::lines::LineDecoder;
use crate::pump::{BodyDecoder, pump};

/// The fields of a `GenerateContentResponse` this crate reads, borrowed from the body; the
/// rest (safety ratings, citations, grounding…) is skipped without being built.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    #[serde(borrow)]
    candidates: Option<Vec<CandidateWire<'a>>>,
    usage_metadata: Option<UsageWire>,
    #[serde(borrow)]
    model_version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    response_id: Option<Cow<'a, str>>,
    error: Option<IgnoredAny>,
    #[serde(borrow)]
    prompt_feedback: Option<FeedbackWire<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CandidateWire<'a> {
    #[serde(borrow)]
    content: Option<ContentWire<'a>>,
    #[serde(borrow)]
    finish_reason: Option<Cow<'a, str>>,
    #[serde(borrow)]
    finish_message: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ContentWire<'a> {
    #[serde(borrow)]
    parts: Option<Vec<PartWire<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PartWire<'a> {
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    thought: Option<bool>,
    #[serde(borrow)]
    function_call: Option<FunctionCallWire<'a>>,
    #[serde(borrow)]
    thought_signature: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct FunctionCallWire<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    args: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageWire {
    prompt_token_count: Option<u64>,
    tool_use_prompt_token_count: Option<u64>,
    candidates_token_count: Option<u64>,
    thoughts_token_count: Option<u64>,
    cached_content_token_count: Option<u64>,
}

impl UsageWire {
    /// Usage in `ai-core`'s convention: output includes thinking tokens, input includes
    /// cached ones.
    fn usage(&self) -> Usage {
        let thoughts = self.thoughts_token_count.unwrap_or(0);
        Usage {
            input_tokens: self.prompt_token_count.unwrap_or(0)
                + self.tool_use_prompt_token_count.unwrap_or(0),
            output_tokens: self.candidates_token_count.unwrap_or(0) + thoughts,
            cached_input_tokens: self.cached_content_token_count.unwrap_or(0),
            reasoning_tokens: thoughts,
            ..Usage::default()
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FeedbackWire<'a> {
    #[serde(borrow)]
    block_reason: Option<Cow<'a, str>>,
    #[serde(borrow)]
    block_reason_message: Option<Cow<'a, str>>,
}

/// Joins a function call's id and its thought signature, so that a stateless caller that sends
/// the assistant turn back also sends the signature thinking models require.
pub const SIGNATURE_MARK: &str = "~sig~";

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

/// A candidate with nothing in it: blocked (a safety-family finish), broken (no parts and no
/// finish), failed (no parts and another finish), or just an empty answer.
fn empty_candidate(provider: &'static str, p: &Parts, raw: &[u8]) -> Option<AiError> {
    if !p.text.is_empty() || !p.calls.is_empty() {
        return None;
    }
    let reason = p.finish.as_deref().unwrap_or("");
    let msg = p
        .finish_message
        .as_deref()
        .map_or_else(String::new, |m| format!(": {m}"));
    let err = |kind, what: &str| {
        AiError::new(kind, format!("{what} ({reason}){msg}"))
            .with_provider(provider)
            .with_raw_body(String::from_utf8_lossy(raw).into_owned())
    };
    match p.finish.as_deref().map(finish_reason) {
        Some(FinishReason::ContentFilter) => {
            Some(err(ErrorKind::ContentFiltered, "the answer was blocked"))
        }
        _ if p.has_parts => None,
        None => Some(decode_error(
            provider,
            "response",
            "a candidate without content or finish reason",
            raw,
        )),
        Some(FinishReason::Stop | FinishReason::Length) => None,
        Some(_) => Some(err(ErrorKind::Provider, "the model returned no content")),
    }
}

fn parts_of(w: &Wire<'_>, first_call: usize) -> Parts {
    let mut out = Parts::default();
    let Some(c) = w.candidates.as_deref().and_then(<[_]>::first) else {
        return out;
    };
    out.finish = c.finish_reason.as_deref().map(str::to_owned);
    out.finish_message = c.finish_message.as_deref().map(str::to_owned);
    let parts = c.content.as_ref().and_then(|c| c.parts.as_deref());
    out.has_parts = parts.is_some();
    for p in parts.into_iter().flatten() {
        if let Some(t) = &p.text {
            if p.thought == Some(true) {
                out.reasoning.push_str(t);
            } else {
                out.text.push_str(t);
            }
        } else if let Some(f) = &p.function_call {
            let n = first_call + out.calls.len();
            let mut id =
                f.id.as_deref()
                    .map_or_else(|| format!("call_{n}"), str::to_owned);
            if let Some(sig) = &p.thought_signature {
                id = format!("{id}{SIGNATURE_MARK}{sig}");
            }
            out.calls.push(ToolCall {
                id,
                name: f.name.as_deref().unwrap_or_default().to_owned(),
                arguments: f
                    .args
                    .as_ref()
                    .map_or_else(|| "{}".to_owned(), Value::to_string),
            });
        }
        // executableCode, codeExecutionResult, inlineData and future parts stay in `raw`.
    }
    out
}

fn check_error(provider: &'static str, w: &Wire<'_>, raw: &[u8]) -> Result<()> {
    if w.error.is_some() {
        let v: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
        return Err(error_map::from_stream_error(
            provider,
            &v,
            &String::from_utf8_lossy(raw),
        ));
    }
    if let Some(reason) = w
        .prompt_feedback
        .as_ref()
        .and_then(|f| f.block_reason.as_deref())
    {
        let msg = w
            .prompt_feedback
            .as_ref()
            .and_then(|f| f.block_reason_message.as_deref())
            .map_or_else(String::new, |m| format!(": {m}"));
        return Err(AiError::new(
            ErrorKind::ContentFiltered,
            format!("the prompt was blocked ({reason}){msg}"),
        )
        .with_provider(provider)
        .with_raw_body(String::from_utf8_lossy(raw).into_owned()));
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
    let w: Wire<'_> =
        serde_json::from_slice(body).map_err(|e| decode_error(provider, "response", e, body))?;
    check_error(provider, &w, body)?;
    if w.candidates.as_deref().is_none_or(<[_]>::is_empty) {
        return Err(decode_error(provider, "response", "no candidates", body));
    }
    let parts = parts_of(&w, 0);
    if let Some(e) = empty_candidate(provider, &parts, body) {
        return Err(e);
    }
    let mut finish = parts
        .finish
        .as_deref()
        .map_or(FinishReason::Unknown, finish_reason);
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
    resp.id = w.response_id.map(Cow::into_owned);
    resp.model = w.model_version.map(Cow::into_owned);
    resp.message = message;
    resp.finish_reason = finish;
    resp.usage = w.usage_metadata.as_ref().map(UsageWire::usage);
    resp.extra = extra;
    if keep_raw {
        resp.raw = serde_json::from_slice(body).ok();
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
        let w: Wire<'_> = match serde_json::from_str(data) {
            Ok(w) => w,
            Err(e) => {
                self.fail(
                    out,
                    decode_error(self.provider, "stream chunk", e, data.as_bytes()),
                );
                return;
            }
        };
        if let Err(e) = check_error(self.provider, &w, data.as_bytes()) {
            self.fail(out, e);
            return;
        }
        if w.candidates.is_none() && w.usage_metadata.is_none() {
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
                id: w.response_id.as_deref().map(str::to_owned),
                model: w.model_version.as_deref().map(str::to_owned),
            }));
        }
        let parts = parts_of(&w, self.calls);
        let has_candidate = w.candidates.as_deref().is_some_and(|c| !c.is_empty());
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
        if let Some(u) = &w.usage_metadata {
            self.usage = Some(u.usage());
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

/// Most text kept outside `data:` lines (Google's error objects are a few hundred bytes);
/// bounds the work of re-reading it.
const MAX_STRAY: usize = 64 * 1024;

/// The body of a `streamGenerateContent?alt=sse` response: `data:` lines are chunks; other
/// non-empty lines are collected and offered as a stray JSON error.
struct GeminiBody {
    lines: LineDecoder,
    scratch: Vec<Result<String>>,
    stray: String,
    dec: ChunkDecoder,
}

impl GeminiBody {
    fn take_lines(&mut self, out: &mut VecDeque<Result<StreamEvent>>) {
        for line in self.scratch.drain(..) {
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    let e = e.with_provider(self.dec.provider);
                    self.dec.fail(out, e);
                    continue;
                }
            };
            if let Some(data) = line.strip_prefix("data:") {
                self.dec.push(data.strip_prefix(' ').unwrap_or(data), out);
            } else if line.starts_with(':') || line.starts_with("event:") {
                // SSE comments and event names carry nothing here.
            } else if self.stray.len() + line.len() <= MAX_STRAY {
                self.stray.push_str(&line);
                self.stray.push('\n');
                // An error object is complete only at a closing brace.
                if line.ends_with('}') {
                    self.dec.push_stray(&self.stray, out);
                }
            }
        }
    }
}

impl BodyDecoder for GeminiBody {
    fn feed(&mut self, chunk: &[u8], out: &mut VecDeque<Result<StreamEvent>>) {
        self.lines.feed(chunk, &mut self.scratch);
        self.take_lines(out);
    }

    fn end(&mut self, out: &mut VecDeque<Result<StreamEvent>>) {
        self.lines.finish(&mut self.scratch);
        self.take_lines(out);
        self.dec.end(out);
    }
}

/// Decode a streamed (`alt=sse`) response body.
pub fn decode_stream<S>(provider: &'static str, bytes: S) -> ChatStream
where
    S: Stream<Item = Result<Bytes>> + Unpin + Send + 'static,
{
    pump(
        bytes,
        GeminiBody {
            lines: LineDecoder::default(),
            scratch: Vec::new(),
            stray: String::new(),
            dec: ChunkDecoder::new(provider),
        },
    )
}
