//! Text generation with a small decoder-only model exported with a KV cache.
//!
//! The graph takes `input_ids`, `attention_mask`, `position_ids` and `past.{i}.key` /
//! `past.{i}.value` (`[batch, kv_heads, past, head_dim]`) and returns `logits` (for the last
//! position) and `present.{i}.key` / `present.{i}.value`. The prompt runs once (prefill); each
//! new token then runs alone, with the previous step's present values passed back in as they
//! are (no copy).

use std::borrow::Cow;
use std::sync::Arc;

use ai_core::{
    AiError, Capabilities, ChatModel, ChatRequest, ChatResponse, ChatStream, ErrorKind,
    FinishReason, Message, ResponseMeta, Result, Role, StreamEvent, Usage,
};
use async_trait::async_trait;
use ort::session::{Session, SessionInputValue};
use ort::value::{DynValue, Tensor};

use crate::config::{ModelFiles, ModelKind};
use crate::options::SessionOptions;
use crate::session::{OnnxSession, run_error};
use crate::tokenize::TextTokenizer;

/// Output tokens when a request sets no `max_tokens`.
pub const DEFAULT_MAX_TOKENS: u32 = 256;

/// How the next token is chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// 0 (or below) means greedy.
    pub temperature: f32,
    /// Keep the smallest set of tokens whose probabilities add up to `top_p` (1 keeps all).
    pub top_p: f32,
    /// Keep only the `top_k` most likely tokens (0 keeps all).
    pub top_k: usize,
    /// Seed of the sampler; `None` draws one.
    pub seed: Option<u64>,
    /// Multiplicative penalty on tokens already generated (1 is off; 1.1–1.3 curbs the loops
    /// small models fall into). Positive logits are divided by it, negative ones multiplied.
    pub repetition_penalty: f32,
    /// Subtracted from a token's logit once per earlier occurrence in the output (OpenAI's
    /// `frequency_penalty`; 0 is off).
    pub frequency_penalty: f32,
    /// Subtracted once from the logit of every token that already occurred in the output
    /// (OpenAI's `presence_penalty`; 0 is off).
    pub presence_penalty: f32,
}

impl Sampling {
    /// Greedy decoding.
    pub fn greedy() -> Self {
        Self {
            temperature: 0.0,
            top_p: 1.0,
            top_k: 0,
            seed: None,
            repetition_penalty: 1.0,
            frequency_penalty: 0.0,
            presence_penalty: 0.0,
        }
    }

    fn penalises(&self) -> bool {
        self.repetition_penalty != 1.0
            || self.frequency_penalty != 0.0
            || self.presence_penalty != 0.0
    }

    /// Apply the repetition, frequency and presence penalties for the tokens generated so far.
    pub fn penalise(&self, logits: &mut [f32], generated: &[u32]) {
        if !self.penalises() || generated.is_empty() {
            return;
        }
        let mut counts: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
        for &t in generated {
            *counts.entry(t).or_default() += 1;
        }
        for (&t, &n) in &counts {
            let Some(l) = logits.get_mut(t as usize) else {
                continue;
            };
            if self.repetition_penalty > 0.0 && self.repetition_penalty != 1.0 {
                *l = if *l > 0.0 {
                    *l / self.repetition_penalty
                } else {
                    *l * self.repetition_penalty
                };
            }
            *l -= self.frequency_penalty * n as f32 + self.presence_penalty;
        }
    }

    fn from_request(r: &ChatRequest) -> Self {
        Self {
            temperature: r.temperature.unwrap_or(0.0),
            top_p: r.top_p.unwrap_or(1.0),
            top_k: r
                .extra
                .get("top_k")
                .and_then(serde_json::Value::as_u64)
                .map_or(0, |k| k as usize),
            seed: r.seed,
            repetition_penalty: extra_f32(r, "repetition_penalty").unwrap_or(1.0),
            frequency_penalty: extra_f32(r, "frequency_penalty").unwrap_or(0.0),
            presence_penalty: extra_f32(r, "presence_penalty").unwrap_or(0.0),
        }
    }
}

fn extra_f32(r: &ChatRequest, key: &str) -> Option<f32> {
    r.extra
        .get(key)
        .and_then(serde_json::Value::as_f64)
        .map(|v| v as f32)
}

/// Pick the next token from `logits`.
pub fn sample(logits: &[f32], s: &Sampling, rng: &mut fastrand::Rng) -> u32 {
    let argmax = || {
        logits
            .iter()
            .enumerate()
            .fold((0usize, f32::NEG_INFINITY), |best, (i, &x)| {
                if x > best.1 { (i, x) } else { best }
            })
            .0 as u32
    };
    if s.temperature <= 0.0 {
        return argmax();
    }
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_unstable_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    if s.top_k > 0 && s.top_k < order.len() {
        order.truncate(s.top_k);
    }
    let max = logits[order[0]];
    let mut probs: Vec<f32> = order
        .iter()
        .map(|&i| ((logits[i] - max) / s.temperature).exp())
        .collect();
    let total: f32 = probs.iter().sum();
    probs.iter_mut().for_each(|p| *p /= total);
    if s.top_p < 1.0 {
        let mut acc = 0.0;
        let mut keep = probs.len();
        for (i, p) in probs.iter().enumerate() {
            acc += p;
            if acc >= s.top_p {
                keep = i + 1;
                break;
            }
        }
        probs.truncate(keep);
        order.truncate(keep);
        let total: f32 = probs.iter().sum();
        probs.iter_mut().for_each(|p| *p /= total);
    }
    let mut r = rng.f32();
    for (i, p) in probs.iter().enumerate() {
        if r < *p {
            return order[i] as u32;
        }
        r -= p;
    }
    order.last().map_or_else(argmax, |&i| i as u32)
}

/// Turns generated token ids into text pieces that are safe to emit: never half a UTF-8
/// character (a byte-level token can end inside one) and never the start of a stop sequence
/// that may still complete.
#[derive(Debug, Default)]
pub struct TextEmitter {
    ids: Vec<u32>,
    emitted: usize,
    text: String,
}

impl TextEmitter {
    /// Add a token; returns newly safe text, if any.
    pub fn push(
        &mut self,
        tokenizer: &tokenizers::Tokenizer,
        id: u32,
        stops: &[String],
    ) -> Result<Option<String>> {
        self.ids.push(id);
        self.text = tokenizer
            .decode(&self.ids, true)
            .map_err(|e| AiError::new(ErrorKind::Provider, format!("decoding failed: {e}")))?;
        let mut safe = self.complete_len();
        if let Some(at) = self.stopped_at(stops) {
            // Never emit a stop sequence or anything after it.
            safe = safe.min(at);
        } else {
            // Hold back a suffix that could be the beginning of a stop sequence.
            let complete = &self.text[..safe];
            for stop in stops {
                for k in (1..stop.len()).rev() {
                    if stop.is_char_boundary(k) && complete.ends_with(&stop[..k]) {
                        safe = safe.min(complete.len() - k);
                        break;
                    }
                }
            }
        }
        if safe > self.emitted && self.text.is_char_boundary(safe) {
            let piece = self.text[self.emitted..safe].to_string();
            self.emitted = safe;
            return Ok(Some(piece));
        }
        Ok(None)
    }

    /// Length of the text without a trailing incomplete character (a byte-level token can end
    /// inside one; decoding shows it as U+FFFD until the rest arrives).
    pub fn complete_len(&self) -> usize {
        self.text.trim_end_matches('\u{FFFD}').len()
    }

    /// The first stop sequence found in the text so far: the text before it.
    pub fn stopped_at(&self, stops: &[String]) -> Option<usize> {
        stops
            .iter()
            .filter(|s| !s.is_empty())
            .filter_map(|s| self.text.find(s.as_str()))
            .min()
    }

    /// Text not yet emitted, up to `end`.
    pub fn rest(&mut self, end: usize) -> Option<String> {
        let end = end.min(self.text.len());
        if end > self.emitted
            && self.text.is_char_boundary(end)
            && self.text.is_char_boundary(self.emitted)
        {
            let piece = self.text[self.emitted..end].to_string();
            self.emitted = end;
            return Some(piece);
        }
        None
    }

    /// All text decoded so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Number of generated tokens.
    pub fn tokens(&self) -> usize {
        self.ids.len()
    }
}

/// Token ids with timings, from [`OnnxChatModel::generate_timed`].
#[derive(Debug, Clone)]
pub struct TimedIds {
    /// Generated token ids.
    pub ids: Vec<u32>,
    /// From the call to the first generated token (prompt processing).
    pub prefill: std::time::Duration,
    /// From the first to the last generated token.
    pub decode: std::time::Duration,
}

impl TimedIds {
    /// Decoding speed after the first token, in tokens per second.
    pub fn decode_tokens_per_second(&self) -> f64 {
        let n = self.ids.len().saturating_sub(1) as f64;
        if self.decode.is_zero() {
            0.0
        } else {
            n / self.decode.as_secs_f64()
        }
    }
}

/// A small chat model running in process (for example SmolLM2-135M-Instruct exported with
/// `scripts/models.sh`). Greedy or sampled (temperature, top-p, top-k via
/// `extra["top_k"]`, seed), stop sequences, `max_tokens`, streaming with whole characters, usage.
///
/// ```no_run
/// use ai_core::{ChatModel, ChatRequest};
/// use ai_infer::{ModelFiles, OnnxChatModel, SessionOptions};
/// # async fn run() -> ai_core::Result<()> {
/// let model = OnnxChatModel::load(
///     &ModelFiles::from_dir(".cache/models/smollm2-135m-instruct-int4")?,
///     &SessionOptions::with_threads(2),
/// )?;
/// let answer = model.generate(ChatRequest::user("What is the capital of France?").max_tokens(20)).await?;
/// println!("{}", answer.text());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OnnxChatModel {
    inner: Arc<GenInner>,
}

struct GenInner {
    session: OnnxSession,
    tokenizer: TextTokenizer,
    template: minijinja::Environment<'static>,
    eos: Vec<u32>,
    bos_token: String,
    eos_token: String,
    layers: usize,
    kv_heads: usize,
    head_dim: usize,
    context: usize,
    past_names: Vec<String>,
    present_names: Vec<String>,
    capabilities: Capabilities,
}

impl std::fmt::Debug for OnnxChatModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxChatModel")
            .field("model", &self.inner.capabilities.model)
            .finish_non_exhaustive()
    }
}

fn need<T: Copy>(v: Option<T>, what: &str) -> Result<T> {
    v.ok_or_else(|| AiError::config(format!("a causal-lm config needs `{what}`")))
}

impl OnnxChatModel {
    /// Load a model whose config kind is `causal-lm`.
    pub fn load(files: &ModelFiles, options: &SessionOptions) -> Result<Self> {
        let cfg = &files.config;
        if cfg.kind != ModelKind::CausalLm {
            return Err(AiError::config(format!(
                "`{}` is configured as {:?}, not a causal language model",
                files.model.display(),
                cfg.kind
            )));
        }
        let layers = need(cfg.layers, "layers")?;
        let kv_heads = need(cfg.kv_heads, "kv_heads")?;
        let head_dim = need(cfg.head_dim, "head_dim")?;
        if cfg.eos_token_ids.is_empty() {
            return Err(AiError::config("a causal-lm config needs `eos_token_ids`"));
        }
        let template_src = cfg
            .chat_template
            .clone()
            .ok_or_else(|| AiError::config("a causal-lm config needs a `chat_template`"))?;
        let session = OnnxSession::load(&files.model, options)?;
        let past_names: Vec<String> = (0..layers)
            .flat_map(|i| [format!("past.{i}.key"), format!("past.{i}.value")])
            .collect();
        let present_names: Vec<String> = (0..layers)
            .flat_map(|i| [format!("present.{i}.key"), format!("present.{i}.value")])
            .collect();
        let mut required: Vec<&str> = vec!["input_ids", "attention_mask", "position_ids"];
        required.extend(past_names.iter().map(String::as_str));
        session.require_inputs(&required)?;
        for name in std::iter::once("logits").chain(present_names.iter().map(String::as_str)) {
            if !session.outputs().iter().any(|(n, _)| n == name) {
                return Err(AiError::config(format!(
                    "model `{}` lacks output `{name}`",
                    files.model.display()
                )));
            }
        }
        let tokenizer = TextTokenizer::from_file(&files.tokenizer, cfg.max_length)?;
        let token = |id: Option<u32>| {
            id.and_then(|i| tokenizer.inner().id_to_token(i))
                .unwrap_or_default()
        };
        let bos_token = token(cfg.bos_token_id);
        let eos_token = token(cfg.eos_token_ids.first().copied());
        let mut template = minijinja::Environment::new();
        template
            .add_template_owned("chat", template_src)
            .map_err(|e| AiError::config(format!("invalid chat template: {e}")))?;
        let name = files
            .model
            .parent()
            .and_then(|p| p.file_name())
            .map_or_else(
                || "onnx-chat".to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
        Ok(Self {
            inner: Arc::new(GenInner {
                session,
                tokenizer,
                template,
                eos: cfg.eos_token_ids.clone(),
                bos_token,
                eos_token,
                layers,
                kv_heads,
                head_dim,
                context: cfg.max_length,
                past_names,
                present_names,
                capabilities: Capabilities {
                    provider: "onnxruntime".into(),
                    model: name,
                    streaming: true,
                    context_window: u32::try_from(cfg.max_length).ok(),
                    ..Capabilities::default()
                },
            }),
        })
    }

    /// The prompt token ids for `messages`, rendered with the model's chat template.
    pub fn prompt_ids(&self, messages: &[Message]) -> Result<Vec<u32>> {
        self.inner.prompt_ids(messages)
    }

    /// Greedy or sampled token ids for a prompt, on the calling thread (for tests and tools).
    pub fn generate_ids(
        &self,
        prompt: &[u32],
        max_tokens: u32,
        sampling: &Sampling,
    ) -> Result<Vec<u32>> {
        Ok(self
            .generate_timed(prompt, max_tokens, sampling, false)?
            .ids)
    }

    /// Like [`OnnxChatModel::generate_ids`], also timing the prompt (prefill) and the
    /// per-token decoding; with `ignore_eos` it produces exactly `max_tokens` tokens (for
    /// benchmarks).
    pub fn generate_timed(
        &self,
        prompt: &[u32],
        max_tokens: u32,
        sampling: &Sampling,
        ignore_eos: bool,
    ) -> Result<TimedIds> {
        let start = std::time::Instant::now();
        let mut first = None;
        let mut ids = Vec::new();
        self.inner
            .run_with(prompt, max_tokens, sampling, ignore_eos, &mut |id| {
                first.get_or_insert_with(std::time::Instant::now);
                ids.push(id);
                Ok(true)
            })?;
        let end = std::time::Instant::now();
        let first = first.unwrap_or(end);
        Ok(TimedIds {
            ids,
            prefill: first - start,
            decode: end - first,
        })
    }

    /// The execution provider the model runs on.
    pub fn provider(&self) -> &'static str {
        self.inner.session.provider()
    }
}

impl GenInner {
    fn prompt_ids(&self, messages: &[Message]) -> Result<Vec<u32>> {
        let msgs: Vec<serde_json::Value> = messages
            .iter()
            .map(|m| serde_json::json!({"role": m.role.as_str(), "content": m.text()}))
            .collect();
        let tmpl = self
            .template
            .get_template("chat")
            .map_err(|e| AiError::config(format!("chat template: {e}")))?;
        let text = tmpl
            .render(minijinja::context! {
                messages => msgs,
                add_generation_prompt => true,
                bos_token => self.bos_token.clone(),
                eos_token => self.eos_token.clone(),
            })
            .map_err(|e| {
                AiError::new(
                    ErrorKind::BadRequest,
                    format!("cannot render the chat template: {e}"),
                )
            })?;
        let enc = self.tokenizer.inner().encode(text, false).map_err(|e| {
            AiError::new(ErrorKind::BadRequest, format!("tokenization failed: {e}"))
        })?;
        Ok(enc.get_ids().to_vec())
    }

    fn empty_past(&self) -> Result<Vec<DynValue>> {
        (0..2 * self.layers)
            .map(|_| {
                Tensor::<f32>::from_array((
                    [1usize, self.kv_heads, 0, self.head_dim],
                    Vec::<f32>::new(),
                ))
                .map(|t| t.into_dyn())
                .map_err(run_error)
            })
            .collect()
    }

    /// Prefill, then decode until `on_token` returns false, an end token, or `max_tokens`.
    /// Returns why it stopped.
    fn run(
        &self,
        prompt: &[u32],
        max_tokens: u32,
        sampling: &Sampling,
        on_token: &mut dyn FnMut(u32) -> Result<bool>,
    ) -> Result<FinishReason> {
        self.run_with(prompt, max_tokens, sampling, false, on_token)
    }

    fn run_with(
        &self,
        prompt: &[u32],
        max_tokens: u32,
        sampling: &Sampling,
        ignore_eos: bool,
        on_token: &mut dyn FnMut(u32) -> Result<bool>,
    ) -> Result<FinishReason> {
        if prompt.is_empty() {
            return Err(AiError::new(ErrorKind::BadRequest, "the prompt is empty"));
        }
        if prompt.len() + max_tokens as usize > self.context {
            return Err(AiError::new(
                ErrorKind::ContextLength,
                format!(
                    "prompt ({} tokens) + max_tokens ({max_tokens}) exceeds the context window of {}",
                    prompt.len(),
                    self.context
                ),
            ));
        }
        let mut rng = match sampling.seed {
            Some(s) => fastrand::Rng::with_seed(s),
            None => fastrand::Rng::new(),
        };
        self.session.with_session(|session| {
            let mut past = self.empty_past()?;
            let mut input: Vec<i64> = prompt.iter().map(|&i| i64::from(i)).collect();
            let mut position = 0usize;
            let mut generated: Vec<u32> = Vec::new();
            for _ in 0..max_tokens {
                let (mut logits, presents) = self.step(session, &input, position, past)?;
                past = presents;
                position += input.len();
                sampling.penalise(&mut logits, &generated);
                let next = sample(&logits, sampling, &mut rng);
                generated.push(next);
                if !ignore_eos && self.eos.contains(&next) {
                    return Ok(FinishReason::Stop);
                }
                if !on_token(next)? {
                    return Ok(FinishReason::Stop);
                }
                input = vec![i64::from(next)];
            }
            Ok(FinishReason::Length)
        })
    }

    fn step(
        &self,
        session: &mut Session,
        input: &[i64],
        position: usize,
        past: Vec<DynValue>,
    ) -> Result<(Vec<f32>, Vec<DynValue>)> {
        let t = input.len();
        let total = position + t;
        let ids = Tensor::from_array(([1usize, t], input.to_vec())).map_err(run_error)?;
        let mask = Tensor::from_array(([1usize, total], vec![1i64; total])).map_err(run_error)?;
        let positions: Vec<i64> = (position..total).map(|p| p as i64).collect();
        let pos = Tensor::from_array(([1usize, t], positions)).map_err(run_error)?;
        let mut inputs: Vec<(Cow<'_, str>, SessionInputValue<'_>)> =
            Vec::with_capacity(3 + past.len());
        inputs.push((Cow::Borrowed("input_ids"), SessionInputValue::from(ids)));
        inputs.push((
            Cow::Borrowed("attention_mask"),
            SessionInputValue::from(mask),
        ));
        inputs.push((Cow::Borrowed("position_ids"), SessionInputValue::from(pos)));
        for (name, value) in self.past_names.iter().zip(past) {
            inputs.push((Cow::Borrowed(name.as_str()), SessionInputValue::from(value)));
        }
        let mut outputs = session.run(inputs).map_err(run_error)?;
        let logits = {
            let value = outputs
                .get("logits")
                .ok_or_else(|| AiError::config("the model produced no logits"))?;
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(run_error)?;
            let vocab = shape.last().copied().unwrap_or(0).max(0) as usize;
            if vocab == 0 || data.len() < vocab {
                return Err(AiError::config(format!(
                    "unexpected logits shape {shape:?}"
                )));
            }
            data[data.len() - vocab..].to_vec()
        };
        let mut presents = Vec::with_capacity(self.present_names.len());
        for name in &self.present_names {
            presents.push(
                outputs
                    .remove(name.as_str())
                    .ok_or_else(|| AiError::config(format!("the model produced no `{name}`")))?,
            );
        }
        Ok((logits, presents))
    }

    fn check(&self, request: &ChatRequest) -> Result<()> {
        if !request.tools.is_empty() {
            return Err(AiError::new(
                ErrorKind::BadRequest,
                "tool calls are not supported by in-process generation",
            ));
        }
        if matches!(
            request.response_format,
            Some(ai_core::ResponseFormat::JsonObject | ai_core::ResponseFormat::JsonSchema { .. })
        ) {
            return Err(AiError::new(
                ErrorKind::BadRequest,
                "JSON output is not supported by in-process generation",
            ));
        }
        Ok(())
    }

    /// Generate, calling `emit` with safe text pieces; returns the full text, why it stopped
    /// and the token counts.
    fn generate_text(
        &self,
        request: &ChatRequest,
        emit: &mut dyn FnMut(String) -> bool,
    ) -> Result<(String, FinishReason, Usage)> {
        self.check(request)?;
        let prompt = self.prompt_ids(&request.messages)?;
        let max_tokens = request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
        let sampling = Sampling::from_request(request);
        let stops = request.stop.clone();
        let tokenizer = self.tokenizer.inner();
        let mut emitter = TextEmitter::default();
        let mut stopped = false;
        let mut cancelled = false;
        let reason = self.run(&prompt, max_tokens, &sampling, &mut |id| {
            if let Some(piece) = emitter.push(tokenizer, id, &stops)?
                && !emit(piece)
            {
                cancelled = true;
                return Ok(false);
            }
            if emitter.stopped_at(&stops).is_some() {
                stopped = true;
                return Ok(false);
            }
            Ok(true)
        })?;
        if cancelled {
            return Err(AiError::cancelled("the caller stopped reading the stream"));
        }
        // Text ends before a stop sequence, and never in the middle of a character (generation
        // can stop there when max_tokens runs out).
        let end = emitter
            .stopped_at(&stops)
            .unwrap_or(usize::MAX)
            .min(emitter.complete_len());
        if let Some(rest) = emitter.rest(end) {
            emit(rest);
        }
        let text = emitter.text()[..end.min(emitter.text().len())].to_string();
        let reason = if stopped { FinishReason::Stop } else { reason };
        let usage = Usage {
            input_tokens: prompt.len() as u64,
            output_tokens: emitter.tokens() as u64,
            ..Usage::default()
        };
        Ok((text, reason, usage))
    }
}

#[async_trait]
impl ChatModel for OnnxChatModel {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        let inner = self.inner.clone();
        let (text, reason, usage) =
            crate::embed::blocking(move || inner.generate_text(&request, &mut |_| true)).await?;
        let mut message = Message::new(Role::Assistant, text);
        if message.text().is_empty() {
            message.content.clear();
        }
        Ok(ChatResponse {
            id: None,
            model: Some(self.inner.capabilities.model.clone()),
            message,
            finish_reason: reason,
            usage: Some(usage),
            extra: Default::default(),
            raw: None,
            meta: ResponseMeta::default(),
        })
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        self.inner.check(&request)?;
        let inner = self.inner.clone();
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<StreamEvent>>(64);
        let model = inner.capabilities.model.clone();
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| AiError::config("streaming generation needs a Tokio runtime"))?;
        handle.spawn_blocking(move || {
            let _ = tx.blocking_send(Ok(StreamEvent::Start {
                id: None,
                model: Some(model),
            }));
            let result = inner.generate_text(&request, &mut |piece| {
                tx.blocking_send(Ok(StreamEvent::TextDelta { text: piece }))
                    .is_ok()
            });
            match result {
                Ok((_, reason, usage)) => {
                    let _ = tx.blocking_send(Ok(StreamEvent::Usage(usage)));
                    let _ = tx.blocking_send(Ok(StreamEvent::Finish { reason }));
                }
                Err(e) if e.kind() == ErrorKind::Cancelled => {}
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                }
            }
        });
        Ok(Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })))
    }

    fn capabilities(&self) -> &Capabilities {
        &self.inner.capabilities
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_and_seeded_sampling() {
        let logits = [0.1, 3.0, 0.5, 2.9];
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(sample(&logits, &Sampling::greedy(), &mut rng), 1);
        let s = Sampling {
            temperature: 1.0,
            top_p: 1.0,
            top_k: 2,
            seed: Some(7),
            ..Sampling::greedy()
        };
        let draws: Vec<u32> = (0..200).map(|_| sample(&logits, &s, &mut rng)).collect();
        assert!(draws.iter().all(|&d| d == 1 || d == 3), "top-k keeps two");
        assert!(draws.contains(&1) && draws.contains(&3));
        let narrow = Sampling {
            temperature: 1.0,
            top_p: 0.4,
            ..Sampling::greedy()
        };
        assert!(
            (0..50).all(|_| sample(&logits, &narrow, &mut rng) == 1),
            "top-p 0.4 keeps one"
        );
        let mut a = fastrand::Rng::with_seed(42);
        let mut b = fastrand::Rng::with_seed(42);
        let hot = Sampling {
            temperature: 2.0,
            ..Sampling::greedy()
        };
        let x: Vec<u32> = (0..20).map(|_| sample(&logits, &hot, &mut a)).collect();
        let y: Vec<u32> = (0..20).map(|_| sample(&logits, &hot, &mut b)).collect();
        assert_eq!(x, y, "same seed, same draws");
    }

    #[test]
    fn penalties_push_repeated_tokens_down() {
        let mut logits = [2.0, 1.9, -1.0, 0.5];
        let off = Sampling::greedy();
        off.penalise(&mut logits, &[0, 0]);
        assert_eq!(logits, [2.0, 1.9, -1.0, 0.5], "off by default");
        let rep = Sampling {
            repetition_penalty: 1.25,
            ..Sampling::greedy()
        };
        rep.penalise(&mut logits, &[0, 2, 0]);
        assert_eq!(logits, [1.6, 1.9, -1.25, 0.5]);
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(
            sample(&logits, &rep, &mut rng),
            1,
            "the repeated token lost its lead"
        );
        let mut l2 = [1.0, 1.0, 1.0];
        let fp = Sampling {
            frequency_penalty: 0.5,
            presence_penalty: 0.25,
            ..Sampling::greedy()
        };
        fp.penalise(&mut l2, &[1, 1, 2, 7]);
        assert_eq!(l2, [1.0, -0.25, 0.25], "unknown ids are skipped");
    }
}
