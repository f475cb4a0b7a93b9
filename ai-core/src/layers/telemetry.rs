//! Telemetry layer: OpenTelemetry GenAI spans and metrics, time to first chunk and the stack's
//! own overhead.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::Stream;
use std::collections::HashMap;
use std::sync::OnceLock;

use metrics::{Counter, Histogram, Label, SharedString};
use parking_lot::Mutex;
use tracing::Instrument;
use tracing::field::Empty;

use crate::error::{AiError, Result};
use crate::layers::Layer;
use crate::model::{Capabilities, ChatModel, Embedding, EmbeddingModel};
use crate::names::{attr, metric};
use crate::request::ChatRequest;
use crate::response::{ChatResponse, FinishReason};
use crate::stream::{ChatStream, StreamEvent};
use crate::usage::Usage;

/// Records a span per call and the GenAI client metrics.
///
/// Span `gen_ai.chat` carries `gen_ai.operation.name`, `gen_ai.provider.name`,
/// `gen_ai.request.model`, `gen_ai.response.model`, `gen_ai.response.id`,
/// `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens`, `gen_ai.response.finish_reasons`
/// and `error.type`. Metrics: `gen_ai.client.operation.duration`, `gen_ai.client.token.usage`,
/// `gen_ai.client.operation.time_to_first_chunk` (streams), `ai.requests` and
/// `ai.stack.overhead` (wall time minus time waiting on the provider, back-off and queues; for
/// streams, the time spent inside the stack's `poll_next` calls). Prompts and answers are never
/// recorded. Put it outermost to measure the whole stack.
#[derive(Debug, Clone, Copy, Default)]
pub struct TelemetryLayer {}

impl TelemetryLayer {
    /// A telemetry layer.
    pub fn new() -> Self {
        Self {}
    }
}

impl Layer for TelemetryLayer {
    fn wrap_chat(&self, inner: Arc<dyn ChatModel>) -> Arc<dyn ChatModel> {
        let caps = inner.capabilities();
        let handles = HandleCache::new("chat", &caps.provider, &caps.model);
        Arc::new(TelemetryModel { inner, handles })
    }

    fn wrap_embedding(&self, inner: Arc<dyn EmbeddingModel>) -> Arc<dyn EmbeddingModel> {
        let handles = HandleCache::new("embeddings", "", inner.model_name());
        Arc::new(TelemetryEmbedding { inner, handles })
    }
}

struct TelemetryModel {
    inner: Arc<dyn ChatModel>,
    handles: HandleCache,
}

/// The span of one chat call. Field names match [`crate::names::attr`] (checked by a test).
fn chat_span(provider: &str, model: &str, streaming: bool) -> tracing::Span {
    tracing::info_span!(
        "gen_ai.chat",
        gen_ai.operation.name = "chat",
        gen_ai.provider.name = provider,
        gen_ai.request.model = model,
        gen_ai.response.model = Empty,
        gen_ai.response.id = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        gen_ai.response.finish_reasons = Empty,
        error.type = Empty,
        ai.streaming = streaming,
        ai.route = Empty,
        ai.route.reason = Empty,
    )
}

/// Label set of one (operation, provider, model), shared without copying.
#[derive(Clone)]
struct Labels {
    base: Arc<[Label]>,
}

impl Labels {
    fn new(op: &'static str, provider: &Arc<str>, model: Arc<str>) -> Self {
        Self {
            base: Arc::from(vec![
                Label::new(attr::OPERATION_NAME, op),
                Label::new(
                    attr::PROVIDER_NAME,
                    SharedString::from_shared(provider.clone()),
                ),
                Label::new(attr::REQUEST_MODEL, SharedString::from_shared(model)),
            ]),
        }
    }

    fn with(&self, extra: &[(&'static str, &'static str)]) -> Vec<Label> {
        let mut v = Vec::with_capacity(self.base.len() + extra.len());
        v.extend(self.base.iter().cloned());
        v.extend(extra.iter().map(|(k, val)| Label::new(*k, *val)));
        v
    }
}

/// Metric handles of the success path of one model, registered once and reused, so a call
/// records its metrics without looking them up or allocating label sets.
struct Handles {
    labels: Labels,
    duration_ok: Histogram,
    requests_ok: Counter,
    tokens_in: Histogram,
    tokens_out: Histogram,
    overhead: Histogram,
    first_chunk: Histogram,
}

impl Handles {
    fn new(labels: Labels) -> Self {
        Self {
            duration_ok: metrics::histogram!(metric::OPERATION_DURATION, labels.with(&[])),
            requests_ok: metrics::counter!(metric::REQUESTS, labels.with(&[(attr::STATUS, "ok")])),
            tokens_in: metrics::histogram!(
                metric::TOKEN_USAGE,
                labels.with(&[(attr::TOKEN_TYPE, "input")])
            ),
            tokens_out: metrics::histogram!(
                metric::TOKEN_USAGE,
                labels.with(&[(attr::TOKEN_TYPE, "output")])
            ),
            overhead: metrics::histogram!(metric::STACK_OVERHEAD, labels.with(&[])),
            first_chunk: metrics::histogram!(metric::TIME_TO_FIRST_CHUNK, labels.with(&[])),
            labels,
        }
    }
}

/// Per-model handles, created on a model's first call.
struct HandleCache {
    op: &'static str,
    provider: Arc<str>,
    default_model: Arc<str>,
    default: OnceLock<Arc<Handles>>,
    others: Mutex<HashMap<String, Arc<Handles>>>,
}

/// Models beyond this many distinct names share no cache entry (bounded memory).
const MAX_CACHED_MODELS: usize = 256;

impl HandleCache {
    fn new(op: &'static str, provider: &str, default_model: &str) -> Self {
        Self {
            op,
            provider: Arc::from(provider),
            default_model: Arc::from(default_model),
            default: OnceLock::new(),
            others: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, model: Option<&str>) -> Arc<Handles> {
        match model {
            None => self.default_handles(),
            Some(m) if *m == *self.default_model => self.default_handles(),
            Some(m) => {
                let mut others = self.others.lock();
                if let Some(h) = others.get(m) {
                    return h.clone();
                }
                let h = Arc::new(Handles::new(Labels::new(
                    self.op,
                    &self.provider,
                    Arc::from(m),
                )));
                if others.len() < MAX_CACHED_MODELS {
                    others.insert(m.to_string(), h.clone());
                }
                h
            }
        }
    }

    fn default_handles(&self) -> Arc<Handles> {
        self.default
            .get_or_init(|| {
                Arc::new(Handles::new(Labels::new(
                    self.op,
                    &self.provider,
                    self.default_model.clone(),
                )))
            })
            .clone()
    }
}

fn record_outcome(h: &Handles, span: &tracing::Span, wall: Duration, err: Option<&AiError>) {
    match err {
        None => {
            h.duration_ok.record(wall.as_secs_f64());
            h.requests_ok.increment(1);
        }
        Some(e) => {
            let kind = e.kind().as_str();
            span.record("error.type", kind);
            metrics::histogram!(
                metric::OPERATION_DURATION,
                h.labels.with(&[(attr::ERROR_TYPE, kind)])
            )
            .record(wall.as_secs_f64());
            metrics::counter!(
                metric::REQUESTS,
                h.labels
                    .with(&[(attr::STATUS, "error"), (attr::ERROR_TYPE, kind)])
            )
            .increment(1);
        }
    }
}

fn record_usage(h: &Handles, span: &tracing::Span, usage: &Usage) {
    span.record("gen_ai.usage.input_tokens", usage.input_tokens);
    span.record("gen_ai.usage.output_tokens", usage.output_tokens);
    h.tokens_in.record(usage.input_tokens as f64);
    h.tokens_out.record(usage.output_tokens as f64);
}

#[async_trait]
impl ChatModel for TelemetryModel {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        let start = Instant::now();
        let wait = request.metadata.wait.clone();
        let waited_before = wait.total();
        let handles = self.handles.get(request.model.as_deref());
        let model = request
            .model
            .as_deref()
            .unwrap_or(&self.inner.capabilities().model);
        let span = chat_span(&self.handles.provider, model, false);
        let result = self.inner.generate(request).instrument(span.clone()).await;
        let wall = start.elapsed();
        match &result {
            Ok(response) => {
                if let Some(m) = &response.model {
                    span.record("gen_ai.response.model", m.as_str());
                }
                if let Some(id) = &response.id {
                    span.record("gen_ai.response.id", id.as_str());
                }
                span.record(
                    "gen_ai.response.finish_reasons",
                    response.finish_reason.as_str(),
                );
                if let Some(u) = &response.usage {
                    record_usage(&handles, &span, u);
                }
                record_outcome(&handles, &span, wall, None);
            }
            Err(e) => record_outcome(&handles, &span, wall, Some(e)),
        }
        let waited = wait.total().saturating_sub(waited_before);
        handles
            .overhead
            .record(wall.saturating_sub(waited).as_secs_f64());
        result
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let start = Instant::now();
        let wait = request.metadata.wait.clone();
        let waited_before = wait.total();
        let handles = self.handles.get(request.model.as_deref());
        let model = request
            .model
            .as_deref()
            .unwrap_or(&self.inner.capabilities().model);
        let span = chat_span(&self.handles.provider, model, true);
        let opened = self.inner.stream(request).instrument(span.clone()).await;
        let setup = start.elapsed();
        let setup_busy = setup.saturating_sub(wait.total().saturating_sub(waited_before));
        match opened {
            Ok(inner) => Ok(Box::pin(TelemetryStream {
                inner,
                span,
                handles,
                start,
                busy: setup_busy,
                got_first: false,
                usage: None,
                finish: None,
                error: None,
                done: false,
            })),
            Err(e) => {
                record_outcome(&handles, &span, setup, Some(&e));
                handles.overhead.record(setup_busy.as_secs_f64());
                Err(e)
            }
        }
    }

    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
}

struct TelemetryStream {
    inner: ChatStream,
    span: tracing::Span,
    handles: Arc<Handles>,
    start: Instant,
    busy: Duration,
    got_first: bool,
    usage: Option<Usage>,
    finish: Option<FinishReason>,
    error: Option<AiError>,
    done: bool,
}

impl TelemetryStream {
    fn finish_record(&mut self, cancelled: bool) {
        if self.done {
            return;
        }
        self.done = true;
        let wall = self.start.elapsed();
        if let Some(u) = self.usage {
            record_usage(&self.handles, &self.span, &u);
        }
        if let Some(f) = &self.finish {
            self.span
                .record("gen_ai.response.finish_reasons", f.as_str());
        }
        let cancel_err;
        let err = if cancelled {
            cancel_err = AiError::cancelled("the caller dropped the stream before it ended");
            Some(&cancel_err)
        } else {
            self.error.as_ref()
        };
        record_outcome(&self.handles, &self.span, wall, err);
        self.handles.overhead.record(self.busy.as_secs_f64());
    }
}

impl Stream for TelemetryStream {
    type Item = Result<StreamEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        let t0 = Instant::now();
        let polled = {
            let _enter = this.span.enter();
            this.inner.as_mut().poll_next(cx)
        };
        match &polled {
            Poll::Ready(Some(Ok(event))) => {
                if !this.got_first && event.is_content() {
                    this.got_first = true;
                    this.handles
                        .first_chunk
                        .record(this.start.elapsed().as_secs_f64());
                }
                match event {
                    StreamEvent::Usage(u) => {
                        this.usage.get_or_insert_with(Usage::default).absorb(u)
                    }
                    StreamEvent::Finish { reason } => this.finish = Some(reason.clone()),
                    StreamEvent::Start { id, model } => {
                        if let Some(m) = model {
                            this.span.record("gen_ai.response.model", m.as_str());
                        }
                        if let Some(id) = id {
                            this.span.record("gen_ai.response.id", id.as_str());
                        }
                    }
                    _ => {}
                }
            }
            Poll::Ready(Some(Err(e))) => this.error = Some(e.clone()),
            Poll::Ready(None) => {}
            Poll::Pending => {}
        }
        this.busy += t0.elapsed();
        if matches!(polled, Poll::Ready(None)) {
            this.finish_record(false);
        }
        polled
    }
}

impl Drop for TelemetryStream {
    fn drop(&mut self) {
        let cancelled = self.error.is_none() && self.finish.is_none();
        self.finish_record(cancelled);
    }
}

struct TelemetryEmbedding {
    inner: Arc<dyn EmbeddingModel>,
    handles: HandleCache,
}

#[async_trait]
impl EmbeddingModel for TelemetryEmbedding {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Embedding>> {
        let start = Instant::now();
        let model = self.inner.model_name().to_string();
        let span = tracing::info_span!(
            "gen_ai.embeddings",
            gen_ai.operation.name = "embeddings",
            gen_ai.request.model = model.as_str(),
            error.type = Empty,
        );
        let handles = self.handles.get(None);
        let result = self.inner.embed(texts).instrument(span.clone()).await;
        record_outcome(&handles, &span, start.elapsed(), result.as_ref().err());
        result
    }
    crate::layers::delegate_embedding_metadata!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_field_names_match_the_names_module() {
        // Spans are only built when a subscriber is interested; install one for this thread.
        let subscriber = tracing_subscriber::registry();
        tracing::subscriber::with_default(subscriber, || {
            let span = chat_span("p", "m", false);
            let meta = span.metadata().expect("span is enabled");
            let fields: Vec<&str> = meta.fields().iter().map(|f| f.name()).collect();
            for name in [
                attr::OPERATION_NAME,
                attr::PROVIDER_NAME,
                attr::REQUEST_MODEL,
                attr::RESPONSE_MODEL,
                attr::RESPONSE_ID,
                attr::USAGE_INPUT_TOKENS,
                attr::USAGE_OUTPUT_TOKENS,
                attr::RESPONSE_FINISH_REASONS,
                attr::ERROR_TYPE,
                attr::STREAMING,
            ] {
                assert!(fields.contains(&name), "{name} missing from {fields:?}");
            }
            assert_eq!(meta.name(), crate::names::span::CHAT);
        });
    }
}
