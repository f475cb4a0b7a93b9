//! Timeout layer: a deadline for the whole call and, for streams, for the first content chunk.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use futures::Stream;
use tokio::time::{Instant, Sleep};

use crate::error::{AiError, Result};
use crate::layers::Layer;
use crate::model::{Capabilities, ChatModel, Embedding, EmbeddingModel};
use crate::request::ChatRequest;
use crate::response::ChatResponse;
use crate::stream::{ChatStream, StreamEvent};

/// Fails a call with [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) when it runs too long.
///
/// `total` bounds the whole call, including reading every chunk of a stream. `first_chunk`
/// bounds the time from the call until the first content event of a stream (text, reasoning
/// or a tool call); for `generate` only `total` applies. A timed-out stream yields one
/// `Timeout` error and ends; the provider's connection is dropped.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeoutLayer {
    total: Option<Duration>,
    first_chunk: Option<Duration>,
}

impl TimeoutLayer {
    /// No deadlines yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Deadline for the whole call.
    pub fn total(mut self, d: Duration) -> Self {
        self.total = Some(d);
        self
    }

    /// Deadline for the first content chunk of a stream.
    pub fn first_chunk(mut self, d: Duration) -> Self {
        self.first_chunk = Some(d);
        self
    }
}

impl Layer for TimeoutLayer {
    fn wrap_chat(&self, inner: Arc<dyn ChatModel>) -> Arc<dyn ChatModel> {
        Arc::new(TimeoutModel { inner, cfg: *self })
    }

    fn wrap_embedding(&self, inner: Arc<dyn EmbeddingModel>) -> Arc<dyn EmbeddingModel> {
        Arc::new(TimeoutEmbedding { inner, cfg: *self })
    }
}

struct TimeoutModel {
    inner: Arc<dyn ChatModel>,
    cfg: TimeoutLayer,
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

fn total_timeout(d: Duration) -> AiError {
    AiError::timeout(format!(
        "the call took longer than its total timeout of {d:?}"
    ))
}

fn first_chunk_timeout(d: Duration) -> AiError {
    AiError::timeout(format!(
        "no content arrived within the time-to-first-chunk timeout of {d:?}"
    ))
}

#[async_trait]
impl ChatModel for TimeoutModel {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        match self.cfg.total {
            Some(d) => tokio::time::timeout(d, self.inner.generate(request))
                .await
                .map_err(|_| total_timeout(d))?,
            None => self.inner.generate(request).await,
        }
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let start = Instant::now();
        let total = self.cfg.total.map(|d| (start + d, d));
        let first = self.cfg.first_chunk.map(|d| (start + d, d));
        let open_deadline = earliest(total.map(|t| t.0), first.map(|t| t.0));
        let stream = match open_deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, self.inner.stream(request))
                .await
                .map_err(|_| match (first, total) {
                    (Some((f, d)), _) if Some(f) == open_deadline => first_chunk_timeout(d),
                    (_, Some((_, d))) => total_timeout(d),
                    (Some((_, d)), None) => first_chunk_timeout(d),
                    (None, None) => AiError::timeout("timed out"),
                })??,
            None => return self.inner.stream(request).await,
        };
        Ok(Box::pin(DeadlineStream {
            inner: Some(stream),
            sleep: None,
            total,
            first,
            got_first: false,
        }))
    }

    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
}

/// Applies the remaining deadlines to an open stream.
struct DeadlineStream {
    inner: Option<ChatStream>,
    sleep: Option<Pin<Box<Sleep>>>,
    total: Option<(Instant, Duration)>,
    first: Option<(Instant, Duration)>,
    got_first: bool,
}

impl DeadlineStream {
    /// The deadline in force now, its configured length, and whether it is the first-chunk one.
    fn current(&self) -> Option<(Instant, Duration, bool)> {
        let first = if self.got_first { None } else { self.first };
        match (first, self.total) {
            (Some((f, fd)), Some((t, _))) if f <= t => Some((f, fd, true)),
            (_, Some((t, td))) => Some((t, td, false)),
            (Some((f, fd)), None) => Some((f, fd, true)),
            (None, None) => None,
        }
    }
}

impl Stream for DeadlineStream {
    type Item = Result<StreamEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(item)) => {
                if !this.got_first && matches!(&item, Ok(e) if e.is_content()) {
                    this.got_first = true;
                    // The first-chunk deadline no longer applies: re-arm for the total.
                    this.sleep = None;
                }
                if item.is_err() {
                    this.inner = None;
                }
                return Poll::Ready(Some(item));
            }
            Poll::Ready(None) => {
                this.inner = None;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        let Some((deadline, length, is_first)) = this.current() else {
            return Poll::Pending;
        };
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.deadline() != deadline {
            sleep.as_mut().reset(deadline);
        }
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.inner = None;
                let err = if is_first {
                    first_chunk_timeout(length)
                } else {
                    total_timeout(length)
                };
                Poll::Ready(Some(Err(err)))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

struct TimeoutEmbedding {
    inner: Arc<dyn EmbeddingModel>,
    cfg: TimeoutLayer,
}

#[async_trait]
impl EmbeddingModel for TimeoutEmbedding {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Embedding>> {
        match self.cfg.total {
            Some(d) => tokio::time::timeout(d, self.inner.embed(texts))
                .await
                .map_err(|_| total_timeout(d))?,
            None => self.inner.embed(texts).await,
        }
    }
    crate::layers::delegate_embedding_metadata!();
}
