//! Telemetry layer: OpenTelemetry GenAI spans and metrics, time to first chunk and the stack's
//! own overhead.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::Stream;
use metrics::Label;
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
        let provider: Arc<str> = Arc::from(inner.capabilities().provider.as_str());
        Arc::new(TelemetryModel { inner, provider })
    }

    fn wrap_embedding(&self, inner: Arc<dyn EmbeddingModel>) -> Arc<dyn EmbeddingModel> {
        Arc::new(TelemetryEmbedding { inner })
    }
}

struct TelemetryModel {
    inner: Arc<dyn ChatModel>,
    provider: Arc<str>,
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
    )
}

#[derive(Clone)]
struct Labels {
    base: [Label; 3],
}

impl Labels {
    fn new(op: &'static str, provider: &str, model: &str) -> Self {
        Self {
            base: [
                Label::new(attr::OPERATION_NAME, op),
                Label::new(attr::PROVIDER_NAME, provider.to_string()),
                Label::new(attr::REQUEST_MODEL, model.to_string()),
            ],
        }
    }

    fn with(&self, extra: &[(&'static str, &'static str)]) -> Vec<Label> {
        let mut v = self.base.to_vec();
        v.extend(extra.iter().map(|(k, val)| Label::new(*k, *val)));
        v
    }
}

fn record_outcome(labels: &Labels, span: &tracing::Span, wall: Duration, err: Option<&AiError>) {
    match err {
        None => {
            metrics::histogram!(metric::OPERATION_DURATION, labels.with(&[]))
                .record(wall.as_secs_f64());
            metrics::counter!(metric::REQUESTS, labels.with(&[(attr::STATUS, "ok")])).increment(1);
        }
        Some(e) => {
            let kind = e.kind().as_str();
            span.record("error.type", kind);
            metrics::histogram!(
                metric::OPERATION_DURATION,
                labels.with(&[(attr::ERROR_TYPE, kind)])
            )
            .record(wall.as_secs_f64());
            metrics::counter!(
                metric::REQUESTS,
                labels.with(&[(attr::STATUS, "error"), (attr::ERROR_TYPE, kind)])
            )
            .increment(1);
        }
    }
}

fn record_usage(labels: &Labels, span: &tracing::Span, usage: &Usage) {
    span.record("gen_ai.usage.input_tokens", usage.input_tokens);
    span.record("gen_ai.usage.output_tokens", usage.output_tokens);
    metrics::histogram!(
        metric::TOKEN_USAGE,
        labels.with(&[(attr::TOKEN_TYPE, "input")])
    )
    .record(usage.input_tokens as f64);
    metrics::histogram!(
        metric::TOKEN_USAGE,
        labels.with(&[(attr::TOKEN_TYPE, "output")])
    )
    .record(usage.output_tokens as f64);
}

fn record_overhead(labels: &Labels, overhead: Duration) {
    metrics::histogram!(metric::STACK_OVERHEAD, labels.with(&[])).record(overhead.as_secs_f64());
}

#[async_trait]
impl ChatModel for TelemetryModel {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        let start = Instant::now();
        let wait = request.metadata.wait.clone();
        let waited_before = wait.total();
        let model = request
            .model
            .as_deref()
            .unwrap_or(&self.inner.capabilities().model);
        let labels = Labels::new("chat", &self.provider, model);
        let span = chat_span(&self.provider, model, false);
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
                    record_usage(&labels, &span, u);
                }
                record_outcome(&labels, &span, wall, None);
            }
            Err(e) => record_outcome(&labels, &span, wall, Some(e)),
        }
        let waited = wait.total().saturating_sub(waited_before);
        record_overhead(&labels, wall.saturating_sub(waited));
        result
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let start = Instant::now();
        let wait = request.metadata.wait.clone();
        let waited_before = wait.total();
        let model = request
            .model
            .as_deref()
            .unwrap_or(&self.inner.capabilities().model);
        let labels = Labels::new("chat", &self.provider, model);
        let span = chat_span(&self.provider, model, true);
        let opened = self.inner.stream(request).instrument(span.clone()).await;
        let setup = start.elapsed();
        let setup_busy = setup.saturating_sub(wait.total().saturating_sub(waited_before));
        match opened {
            Ok(inner) => Ok(Box::pin(TelemetryStream {
                inner,
                span,
                labels,
                start,
                busy: setup_busy,
                got_first: false,
                usage: None,
                finish: None,
                error: None,
                done: false,
            })),
            Err(e) => {
                record_outcome(&labels, &span, setup, Some(&e));
                record_overhead(&labels, setup_busy);
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
    labels: Labels,
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
            record_usage(&self.labels, &self.span, &u);
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
        record_outcome(&self.labels, &self.span, wall, err);
        record_overhead(&self.labels, self.busy);
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
                    metrics::histogram!(metric::TIME_TO_FIRST_CHUNK, this.labels.with(&[]))
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
        let labels = Labels::new("embeddings", "", &model);
        let result = self.inner.embed(texts).instrument(span.clone()).await;
        record_outcome(&labels, &span, start.elapsed(), result.as_ref().err());
        result
    }
    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }
    fn max_batch(&self) -> usize {
        self.inner.max_batch()
    }
    fn model_name(&self) -> &str {
        self.inner.model_name()
    }
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
