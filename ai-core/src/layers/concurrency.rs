//! Concurrency layer: a bulkhead that bounds calls in flight and how long a call may queue.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{AiError, ErrorKind, Result};
use crate::layers::Layer;
use crate::model::{Capabilities, ChatModel};
use crate::names::metric;
use crate::request::ChatRequest;
use crate::response::ChatResponse;
use crate::stream::ChatStream;

/// At most `max_in_flight` calls run at once; others wait up to `max_queue_wait` for a slot and
/// then fail with `Unavailable` (retryable). The wait is recorded in `ai.queue.wait` and added to
/// the request's wait clock, so it is not counted as stack overhead. A stream holds its slot
/// until it ends or is dropped.
#[derive(Debug, Clone)]
pub struct ConcurrencyLayer {
    semaphore: Arc<Semaphore>,
    max_queue_wait: Duration,
}

impl ConcurrencyLayer {
    /// A bulkhead of `max_in_flight` slots.
    pub fn new(max_in_flight: usize, max_queue_wait: Duration) -> Self {
        Self {
            semaphore: Arc::new(Semaphore::new(max_in_flight.max(1))),
            max_queue_wait,
        }
    }
}

impl Layer for ConcurrencyLayer {
    fn wrap_chat(&self, inner: Arc<dyn ChatModel>) -> Arc<dyn ChatModel> {
        Arc::new(ConcurrencyModel {
            inner,
            cfg: self.clone(),
        })
    }
}

struct ConcurrencyModel {
    inner: Arc<dyn ChatModel>,
    cfg: ConcurrencyLayer,
}

impl ConcurrencyModel {
    async fn slot(&self, request: &ChatRequest) -> Result<OwnedSemaphorePermit> {
        let start = Instant::now();
        let permit = tokio::time::timeout(
            self.cfg.max_queue_wait,
            self.cfg.semaphore.clone().acquire_owned(),
        )
        .await;
        let waited = start.elapsed();
        metrics::histogram!(metric::QUEUE_WAIT).record(waited.as_secs_f64());
        request.metadata.wait.add(waited);
        match permit {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(_)) => Err(AiError::new(
                ErrorKind::Unavailable,
                "concurrency limiter closed",
            )),
            Err(_) => {
                metrics::counter!(metric::QUEUE_REJECTIONS).increment(1);
                Err(AiError::new(
                    ErrorKind::Unavailable,
                    format!(
                        "no free slot within {:?}: too many calls in flight",
                        self.cfg.max_queue_wait
                    ),
                )
                .with_retry_after(Duration::from_millis(100)))
            }
        }
    }
}

#[async_trait]
impl ChatModel for ConcurrencyModel {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        let _permit = self.slot(&request).await?;
        self.inner.generate(request).await
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let permit = self.slot(&request).await?;
        let inner = self.inner.stream(request).await?;
        // The permit moves into the stream and is released when the stream is dropped.
        Ok(Box::pin(inner.map(move |item| {
            let _held = &permit;
            item
        })))
    }

    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
}
