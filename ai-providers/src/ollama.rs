//! Ollama's native API (feature `ollama`): `/api/chat` with NDJSON streaming and `/api/embed`.
//! (Ollama's OpenAI-compatible endpoint works with the `openai` provider too; the native API
//! adds `think`, `keep_alive`, model options and reports load and eval timings.)
//!
//! ```no_run
//! # async fn run() -> ai_core::Result<()> {
//! use ai_core::{ChatModel, ChatRequest};
//! let ollama = ai_providers::ollama::OllamaProvider::new("http://127.0.0.1:11434", "llama3.2")?;
//! let answer = ollama.generate(ChatRequest::user("Hello")).await?;
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::sync::Arc;

use ai_core::{
    AiError, Capabilities, ChatModel, ChatRequest, ChatResponse, ChatStream, ContentPart,
    Embedding, EmbeddingModel, ErrorKind, FinishReason, ImageSource, Message, ResponseFormat,
    Result, Role, StreamEvent, ToolCall, ToolCallDelta, ToolChoice, Usage,
};
use async_trait::async_trait;
use bytes::Bytes;
use futures::{Stream, TryStreamExt};
use serde_json::{Map, Value, json};

use crate::http::{self, HttpOptions};
use crate::pump::{BodyDecoder, pump};

pub use crate::lines::{LineDecoder as NdjsonDecoder, MAX_LINE};

fn image_data(source: &ImageSource) -> Option<String> {
    match source {
        ImageSource::Base64 { data, .. } => Some(data.clone()),
        ImageSource::Url { url } => url
            .strip_prefix("data:")
            .and_then(|r| r.split_once(','))
            .map(|(_, d)| d.to_owned()),
    }
}

/// The `/api/chat` body.
///
/// # Errors
/// `BadRequest` for images given by URL (Ollama takes inline data only) or tool arguments that
/// are not JSON.
pub fn encode(request: &ChatRequest, model: &str, stream: bool) -> Result<Value> {
    let mut messages = Vec::new();
    for m in &request.messages {
        let role = match m.role {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        };
        let mut o = json!({ "role": role, "content": m.text() });
        let mut images = Vec::new();
        for p in &m.content {
            if let ContentPart::Image { source, .. } = p {
                images.push(image_data(source).ok_or_else(|| {
                    AiError::new(
                        ErrorKind::BadRequest,
                        "Ollama takes inline (base64) images only",
                    )
                })?);
            }
        }
        if !images.is_empty() {
            o["images"] = json!(images);
        }
        if !m.tool_calls.is_empty() {
            let calls: Result<Vec<Value>> = m
                .tool_calls
                .iter()
                .map(|c| {
                    let args: Value = serde_json::from_str(if c.arguments.trim().is_empty() {
                        "{}"
                    } else {
                        &c.arguments
                    })
                    .map_err(|e| {
                        AiError::new(
                            ErrorKind::BadRequest,
                            format!("tool arguments are not JSON: {e}"),
                        )
                    })?;
                    Ok(json!({ "function": { "name": c.name, "arguments": args } }))
                })
                .collect();
            o["tool_calls"] = Value::Array(calls?);
        }
        if let Some(name) = &m.name {
            o["tool_name"] = json!(name);
        }
        messages.push(o);
    }
    let mut options = Map::new();
    if let Some(t) = request.temperature {
        options.insert("temperature".into(), json!(t));
    }
    if let Some(p) = request.top_p {
        options.insert("top_p".into(), json!(p));
    }
    if let Some(n) = request.max_tokens {
        options.insert("num_predict".into(), json!(n));
    }
    if let Some(s) = request.seed {
        options.insert("seed".into(), json!(s));
    }
    if !request.stop.is_empty() {
        options.insert("stop".into(), json!(request.stop));
    }
    let mut body = json!({ "model": model, "messages": messages, "stream": stream });
    if !options.is_empty() {
        body["options"] = Value::Object(options);
    }
    match &request.response_format {
        Some(ResponseFormat::JsonObject) => body["format"] = json!("json"),
        Some(ResponseFormat::JsonSchema { schema, .. }) => body["format"] = schema.clone(),
        _ => {}
    }
    if !request.tools.is_empty() && request.tool_choice != Some(ToolChoice::None) {
        body["tools"] = Value::Array(
            request
                .tools
                .iter()
                .map(|t| {
                    json!({ "type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.parameters } })
                })
                .collect(),
        );
    }
    if let Value::Object(o) = &mut body {
        for (k, v) in &request.extra {
            o.insert(k.clone(), v.clone());
        }
    }
    Ok(body)
}

fn usage_of(v: &Value) -> Option<Usage> {
    let input = v.get("prompt_eval_count").and_then(Value::as_u64);
    let output = v.get("eval_count").and_then(Value::as_u64);
    (input.is_some() || output.is_some()).then(|| Usage {
        input_tokens: input.unwrap_or(0),
        output_tokens: output.unwrap_or(0),
        ..Usage::default()
    })
}

fn error_of(provider: &'static str, v: &Value, raw: &str) -> Option<AiError> {
    let msg = v.get("error")?;
    let text = msg.as_str().map_or_else(|| msg.to_string(), str::to_owned);
    let lower = text.to_ascii_lowercase();
    let kind = if lower.contains("not found") {
        ErrorKind::NotFound
    } else if lower.contains("context") && lower.contains("length") {
        ErrorKind::ContextLength
    } else if lower.contains("busy")
        || lower.contains("overloaded")
        || lower.contains("unavailable")
    {
        ErrorKind::Unavailable
    } else {
        ErrorKind::Provider
    };
    Some(
        AiError::new(kind, text)
            .with_provider(provider)
            .with_raw_body(raw.to_owned()),
    )
}

/// A whole `/api/chat` response.
///
/// # Errors
/// `Decode` for a body that is not a chat response; the server's error for an error object.
pub fn decode_response(
    provider: &'static str,
    body: &[u8],
    keep_raw: bool,
) -> Result<ChatResponse> {
    let raw = String::from_utf8_lossy(body);
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        AiError::decode(format!("cannot decode the response: {e}"), raw.clone())
            .with_provider(provider)
    })?;
    if let Some(e) = error_of(provider, &v, &raw) {
        return Err(e);
    }
    let m = &v["message"];
    let mut message = Message::assistant(m["content"].as_str().unwrap_or_default());
    message.tool_calls = m["tool_calls"]
        .as_array()
        .map(|calls| {
            calls
                .iter()
                .enumerate()
                .map(|(i, c)| ToolCall {
                    id: c["id"]
                        .as_str()
                        .map_or_else(|| format!("call_{i}"), str::to_owned),
                    name: c["function"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    arguments: c["function"]["arguments"].to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut resp = ChatResponse::text_answer("");
    resp.model = v["model"].as_str().map(str::to_owned);
    resp.finish_reason = if !message.tool_calls.is_empty() {
        FinishReason::ToolCalls
    } else {
        v["done_reason"]
            .as_str()
            .map_or(FinishReason::Unknown, FinishReason::from_wire)
    };
    resp.message = message;
    resp.usage = usage_of(&v);
    if let Some(t) = m["thinking"].as_str().filter(|t| !t.is_empty()) {
        resp.extra.insert("reasoning".into(), json!(t));
    }
    for k in [
        "total_duration",
        "load_duration",
        "prompt_eval_duration",
        "eval_duration",
    ] {
        if let Some(x) = v.get(k) {
            resp.extra.insert(k.into(), x.clone());
        }
    }
    if keep_raw {
        resp.raw = Some(v);
    }
    Ok(resp)
}

/// Decode one streamed line into events.
fn line_events(
    provider: &'static str,
    line: &str,
    tools: &mut u32,
    started: &mut bool,
    out: &mut VecDeque<Result<StreamEvent>>,
) -> bool {
    let v: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            out.push_back(Err(AiError::decode(
                format!("cannot decode a stream line: {e}"),
                line.to_owned(),
            )
            .with_provider(provider)));
            return true;
        }
    };
    if let Some(e) = error_of(provider, &v, line) {
        out.push_back(Err(e));
        return true;
    }
    if !*started {
        *started = true;
        out.push_back(Ok(StreamEvent::Start {
            id: None,
            model: v["model"].as_str().map(str::to_owned),
        }));
    }
    let m = &v["message"];
    if let Some(t) = m["thinking"].as_str().filter(|t| !t.is_empty()) {
        out.push_back(Ok(StreamEvent::ReasoningDelta { text: t.to_owned() }));
    }
    if let Some(t) = m["content"].as_str().filter(|t| !t.is_empty()) {
        out.push_back(Ok(StreamEvent::text(t)));
    }
    let mut called = false;
    for c in m["tool_calls"].as_array().into_iter().flatten() {
        called = true;
        out.push_back(Ok(StreamEvent::ToolCallDelta(ToolCallDelta {
            index: *tools,
            id: Some(
                c["id"]
                    .as_str()
                    .map_or_else(|| format!("call_{tools}"), str::to_owned),
            ),
            name: c["function"]["name"].as_str().map(str::to_owned),
            arguments: c["function"]["arguments"].to_string(),
        })));
        *tools += 1;
    }
    if v["done"] == true {
        if let Some(u) = usage_of(&v) {
            out.push_back(Ok(StreamEvent::Usage(u)));
        }
        let reason = if *tools > 0 || called {
            FinishReason::ToolCalls
        } else {
            v["done_reason"]
                .as_str()
                .map_or(FinishReason::Stop, FinishReason::from_wire)
        };
        out.push_back(Ok(StreamEvent::Finish { reason }));
        return true;
    }
    false
}

/// Ollama's NDJSON body: lines, each one turn of the answer, until the `done` line.
struct OllamaBody {
    provider: &'static str,
    lines: NdjsonDecoder,
    scratch: Vec<Result<String>>,
    tools: u32,
    started: bool,
    ended: bool,
}

impl OllamaBody {
    fn take_lines(&mut self, out: &mut VecDeque<Result<StreamEvent>>) {
        for line in self.scratch.drain(..) {
            if self.ended {
                break;
            }
            match line {
                Ok(l) => {
                    // The final (done) line or an error: nothing after it matters.
                    self.ended =
                        line_events(self.provider, &l, &mut self.tools, &mut self.started, out);
                }
                Err(e) => {
                    out.push_back(Err(e.with_provider(self.provider)));
                    self.ended = true;
                }
            }
        }
        self.scratch.clear();
    }
}

impl BodyDecoder for OllamaBody {
    fn feed(&mut self, chunk: &[u8], out: &mut VecDeque<Result<StreamEvent>>) {
        self.lines.feed(chunk, &mut self.scratch);
        self.take_lines(out);
    }

    fn end(&mut self, out: &mut VecDeque<Result<StreamEvent>>) {
        self.lines.finish(&mut self.scratch);
        self.take_lines(out);
        if !self.ended {
            out.push_back(Err(AiError::new(
                ErrorKind::Unavailable,
                "the stream ended before its final (done) line",
            )
            .with_provider(self.provider)));
            self.ended = true;
        }
    }

    fn done(&self) -> bool {
        self.ended
    }
}

/// Decode an NDJSON `/api/chat` stream.
pub fn decode_stream<S>(provider: &'static str, bytes: S) -> ChatStream
where
    S: Stream<Item = Result<Bytes>> + Unpin + Send + 'static,
{
    pump(
        bytes,
        OllamaBody {
            provider,
            lines: NdjsonDecoder::default(),
            scratch: Vec::new(),
            tools: 0,
            started: false,
            ended: false,
        },
    )
}

/// A chat and embedding model on Ollama's native API. Cheap to clone.
#[derive(Clone)]
pub struct OllamaProvider {
    client: reqwest::Client,
    chat_url: reqwest::Url,
    embed_url: reqwest::Url,
    opts: HttpOptions,
    caps: Arc<Capabilities>,
    embedding_model: String,
}

impl std::fmt::Debug for OllamaProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OllamaProvider")
            .field("chat_url", &self.chat_url.as_str())
            .field("model", &self.caps.model)
            .finish_non_exhaustive()
    }
}

const PROVIDER: &str = "ollama";

impl OllamaProvider {
    /// Ollama at `base_url` (`http://127.0.0.1:11434`) with `model`.
    ///
    /// # Errors
    /// `Config` for a bad URL or an empty model.
    pub fn new(base_url: &str, model: &str) -> Result<Self> {
        Self::with_options(base_url, model, HttpOptions::default())
    }

    /// [`OllamaProvider::new`] with timeouts and limits.
    ///
    /// # Errors
    /// `Config` for a bad URL or an empty model.
    pub fn with_options(base_url: &str, model: &str, opts: HttpOptions) -> Result<Self> {
        if model.is_empty() {
            return Err(AiError::config("no model configured"));
        }
        let root = base_url
            .trim_end_matches('/')
            .trim_end_matches("/api")
            .to_owned();
        let parse = |p: &str| {
            reqwest::Url::parse(&format!("{root}{p}"))
                .map_err(|e| AiError::config(format!("invalid base URL `{base_url}`: {e}")))
        };
        Ok(Self {
            client: http::build_client(&opts)?,
            chat_url: parse("/api/chat")?,
            embed_url: parse("/api/embed")?,
            opts,
            caps: Arc::new(Capabilities {
                provider: PROVIDER.into(),
                model: model.to_owned(),
                streaming: true,
                tools: true,
                parallel_tool_calls: true,
                json_mode: true,
                json_schema: true,
                vision: true,
                context_window: None,
            }),
            embedding_model: model.to_owned(),
        })
    }

    /// Embed with another model than the chat model.
    pub fn embedding_model(mut self, model: impl Into<String>) -> Self {
        self.embedding_model = model.into();
        self
    }

    fn post(&self, url: &reqwest::Url, body: &Value) -> Result<reqwest::RequestBuilder> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| AiError::new(ErrorKind::BadRequest, e.to_string()))?;
        Ok(self
            .client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bytes))
    }
}

#[async_trait]
impl ChatModel for OllamaProvider {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        let model = request
            .model
            .clone()
            .unwrap_or_else(|| self.caps.model.clone());
        let body = encode(&request, &model, false)?;
        let b = self
            .post(&self.chat_url, &body)?
            .timeout(self.opts.request_timeout);
        let bytes = http::send_and_read(
            PROVIDER,
            b,
            &request.metadata.wait,
            self.opts.max_response_bytes,
        )
        .await?;
        decode_response(PROVIDER, &bytes, request.keep_raw)
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let model = request
            .model
            .clone()
            .unwrap_or_else(|| self.caps.model.clone());
        let body = encode(&request, &model, true)?;
        let resp = http::send_for_stream(
            PROVIDER,
            self.post(&self.chat_url, &body)?,
            &request.metadata.wait,
        )
        .await?;
        let bytes = resp
            .bytes_stream()
            .map_err(|e| crate::error_map::from_transport(PROVIDER, e));
        Ok(decode_stream(PROVIDER, bytes))
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }
}

#[async_trait]
impl EmbeddingModel for OllamaProvider {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Embedding>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let body = json!({ "model": self.embedding_model, "input": texts });
        let b = self
            .post(&self.embed_url, &body)?
            .timeout(self.opts.request_timeout);
        let bytes = http::send_and_read(
            PROVIDER,
            b,
            &ai_core::WaitClock::default(),
            self.opts.max_response_bytes,
        )
        .await?;
        let raw = String::from_utf8_lossy(&bytes);
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
            AiError::decode(format!("cannot decode embeddings: {e}"), raw.clone())
                .with_provider(PROVIDER)
        })?;
        if let Some(e) = error_of(PROVIDER, &v, &raw) {
            return Err(e);
        }
        let rows = v["embeddings"].as_array().ok_or_else(|| {
            AiError::decode("no `embeddings` array", raw.clone()).with_provider(PROVIDER)
        })?;
        crate::error_map::float_rows(PROVIDER, rows, texts.len(), &raw)
    }

    fn dimensions(&self) -> usize {
        0
    }

    fn max_batch(&self) -> usize {
        256
    }

    fn model_name(&self) -> &str {
        &self.embedding_model
    }
}
