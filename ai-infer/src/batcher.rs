//! A dynamic batcher: many concurrent callers with one item each are gathered into batches.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ai_core::names::metric;
use ai_core::{AiError, Embedding, EmbeddingModel, ErrorKind, Result};
use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Batching limits.
#[derive(Debug, Clone, Copy)]
pub struct BatcherConfig {
    /// Most items in one batch.
    pub max_batch: usize,
    /// Longest a first item waits for others to join its batch.
    pub max_wait: Duration,
    /// Most items waiting; beyond it `submit` fails at once (back-pressure).
    pub queue: usize,
    /// Most batches running at once. `1` runs one batch after another; more lets the next
    /// batch's host work (tokenization, padding, pooling) overlap a running one, which is what
    /// keeps a GPU busy.
    pub concurrency: usize,
}

impl Default for BatcherConfig {
    fn default() -> Self {
        Self {
            max_batch: 32,
            max_wait: Duration::from_millis(5),
            queue: 1024,
            concurrency: 1,
        }
    }
}

struct Job<I, O> {
    input: I,
    enqueued: Instant,
    reply: oneshot::Sender<Result<O>>,
}

type BatchFn<I, O> = Arc<dyn Fn(Vec<I>) -> Result<Vec<O>> + Send + Sync>;

/// Gathers single items into batches for a blocking batch function and returns each result to
/// its caller. A caller that gives up (drops its future) before its batch runs is skipped without
/// disturbing others. Runs on the caller's Tokio runtime; the worker stops when the batcher is
/// dropped or [`DynamicBatcher::shutdown`] is awaited.
///
/// ```no_run
/// use ai_infer::{BatcherConfig, DynamicBatcher};
/// # async fn run() -> ai_core::Result<()> {
/// let doubler = DynamicBatcher::new(BatcherConfig::default(), |xs: Vec<u32>| {
///     Ok(xs.into_iter().map(|x| x * 2).collect())
/// });
/// assert_eq!(doubler.submit(21).await?, 42);
/// # Ok(()) }
/// ```
pub struct DynamicBatcher<I, O> {
    tx: mpsc::Sender<Job<I, O>>,
    worker: JoinHandle<()>,
    config: BatcherConfig,
}

impl<I: Send + 'static, O: Send + 'static> DynamicBatcher<I, O> {
    /// Start the worker on the current Tokio runtime. `f` gets a batch and must return one
    /// output per input, in order.
    pub fn new(
        config: BatcherConfig,
        f: impl Fn(Vec<I>) -> Result<Vec<O>> + Send + Sync + 'static,
    ) -> Self {
        let config = BatcherConfig {
            max_batch: config.max_batch.max(1),
            queue: config.queue.max(1),
            concurrency: config.concurrency.max(1),
            ..config
        };
        let (tx, rx) = mpsc::channel(config.queue);
        let worker = tokio::spawn(worker(rx, Arc::new(f), config));
        Self { tx, worker, config }
    }

    /// Submit one item and wait for its result.
    pub async fn submit(&self, input: I) -> Result<O> {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            input,
            enqueued: Instant::now(),
            reply,
        };
        self.tx.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => AiError::new(
                ErrorKind::Unavailable,
                format!(
                    "the batch queue is full ({} waiting); retry shortly",
                    self.config.queue
                ),
            )
            .with_retry_after(Duration::from_millis(10)),
            mpsc::error::TrySendError::Closed(_) => {
                AiError::new(ErrorKind::Unavailable, "the batcher has shut down")
            }
        })?;
        rx.await.map_err(|_| {
            AiError::new(
                ErrorKind::Unavailable,
                "the batcher stopped before answering",
            )
        })?
    }

    /// Stop accepting items, finish what is queued, and wait for the worker.
    pub async fn shutdown(self) {
        drop(self.tx);
        let _ = self.worker.await;
    }
}

async fn worker<I: Send + 'static, O: Send + 'static>(
    mut rx: mpsc::Receiver<Job<I, O>>,
    f: BatchFn<I, O>,
    config: BatcherConfig,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(config.concurrency));
    loop {
        // A batch is gathered only once it can run, so items keep joining while slots are busy.
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        let Some(first) = rx.recv().await else {
            break;
        };
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + config.max_wait;
        while batch.len() < config.max_batch {
            match rx.try_recv() {
                Ok(job) => {
                    batch.push(job);
                    continue;
                }
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) => {}
            }
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(job)) => batch.push(job),
                Ok(None) | Err(_) => break,
            }
        }
        // Callers that gave up are not computed.
        batch.retain(|job| !job.reply.is_closed());
        if batch.is_empty() {
            continue;
        }
        let f = f.clone();
        // The permit travels with the batch: with one slot, the next batch waits for this one.
        tokio::spawn(async move {
            run_batch(f, batch).await;
            drop(permit);
        });
    }
    // Finish the batches still running before reporting shutdown.
    let all = u32::try_from(config.concurrency).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
}

/// Run one batch on a blocking thread and send each caller its result.
async fn run_batch<I: Send + 'static, O: Send + 'static>(f: BatchFn<I, O>, batch: Vec<Job<I, O>>) {
    let now = Instant::now();
    let mut inputs = Vec::with_capacity(batch.len());
    let mut replies = Vec::with_capacity(batch.len());
    for job in batch {
        metrics::histogram!(metric::QUEUE_WAIT).record((now - job.enqueued).as_secs_f64());
        inputs.push(job.input);
        replies.push(job.reply);
    }
    let expected = replies.len();
    let result = tokio::task::spawn_blocking(move || f(inputs)).await;
    let err = match result {
        Ok(Ok(outputs)) if outputs.len() == expected => {
            for (reply, out) in replies.into_iter().zip(outputs) {
                let _ = reply.send(Ok(out));
            }
            return;
        }
        Ok(Ok(outputs)) => AiError::new(
            ErrorKind::Provider,
            format!(
                "the batch function returned {} results for {expected} inputs",
                outputs.len()
            ),
        ),
        Ok(Err(err)) => err,
        Err(join) => AiError::new(
            ErrorKind::Provider,
            format!("the batch task failed: {join}"),
        ),
    };
    for reply in replies {
        let _ = reply.send(Err(err.clone()));
    }
}

/// An [`EmbeddingModel`] whose calls go through a [`DynamicBatcher`]: concurrent single-text
/// callers share model runs.
pub struct BatchedEmbedder {
    batcher: DynamicBatcher<String, Embedding>,
    dimensions: usize,
    name: String,
}

impl BatchedEmbedder {
    /// Batch calls to `model` (typically an [`OnnxEmbedder`](crate::OnnxEmbedder)); must be
    /// called inside a Tokio runtime.
    pub fn new(model: crate::OnnxEmbedder, config: BatcherConfig) -> Self {
        let dimensions = model.dimensions();
        let name = model.model_name().to_string();
        let batcher = DynamicBatcher::new(config, move |texts: Vec<String>| {
            model.embed_blocking(&texts)
        });
        Self {
            batcher,
            dimensions,
            name,
        }
    }

    /// Stop the worker after the queued texts are done.
    pub async fn shutdown(self) {
        self.batcher.shutdown().await;
    }
}

#[async_trait]
impl EmbeddingModel for BatchedEmbedder {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Embedding>> {
        let futures = texts.iter().map(|t| self.batcher.submit(t.clone()));
        futures::future::try_join_all(futures).await
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    fn max_batch(&self) -> usize {
        self.batcher.config.max_batch
    }

    fn model_name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_are_batched_and_answered_in_order() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let batcher = Arc::new(DynamicBatcher::new(
            BatcherConfig {
                max_batch: 16,
                max_wait: Duration::from_millis(20),
                queue: 256,
                concurrency: 1,
            },
            move |xs: Vec<u64>| {
                c.fetch_add(1, Ordering::SeqCst);
                Ok(xs.into_iter().map(|x| x * 10).collect())
            },
        ));
        let tasks: Vec<_> = (0..64u64)
            .map(|i| {
                let b = batcher.clone();
                tokio::spawn(async move { (i, b.submit(i).await) })
            })
            .collect();
        for t in tasks {
            let (i, r) = t.await.unwrap();
            assert_eq!(r.unwrap(), i * 10);
        }
        let n = calls.load(Ordering::SeqCst);
        assert!(n <= 16, "64 items in {n} batches");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_batches_overlap_and_shutdown_waits_for_them() {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let (r, p, d) = (running.clone(), peak.clone(), done.clone());
        let batcher = Arc::new(DynamicBatcher::new(
            BatcherConfig {
                max_batch: 4,
                max_wait: Duration::from_millis(1),
                queue: 256,
                concurrency: 3,
            },
            move |xs: Vec<u64>| {
                let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(30));
                r.fetch_sub(1, Ordering::SeqCst);
                d.fetch_add(xs.len(), Ordering::SeqCst);
                Ok(xs.into_iter().map(|x| x + 1).collect())
            },
        ));
        let tasks: Vec<_> = (0..48u64)
            .map(|i| {
                let b = batcher.clone();
                tokio::spawn(async move { (i, b.submit(i).await) })
            })
            .collect();
        for t in tasks {
            let (i, r) = t.await.unwrap();
            assert_eq!(r.unwrap(), i + 1);
        }
        let peak = peak.load(Ordering::SeqCst);
        assert!((2..=3).contains(&peak), "{peak} batches ran at once");
        let b = Arc::into_inner(batcher).unwrap();
        assert_eq!(b.submit(100).await.unwrap(), 101);
        b.shutdown().await;
        assert_eq!(done.load(Ordering::SeqCst), 49);
        assert_eq!(running.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn full_queue_is_a_clear_error() {
        let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
        let gate = Arc::new(std::sync::Mutex::new(gate_rx));
        let batcher = Arc::new(DynamicBatcher::new(
            BatcherConfig {
                max_batch: 1,
                max_wait: Duration::ZERO,
                queue: 2,
                concurrency: 1,
            },
            move |xs: Vec<u32>| {
                let _ = gate.lock().unwrap().recv_timeout(Duration::from_secs(5));
                Ok(xs)
            },
        ));
        // One item is being computed (blocked on the gate), two fill the queue.
        let mut pending = Vec::new();
        for i in 0..3 {
            let b = batcher.clone();
            pending.push(tokio::spawn(async move { b.submit(i).await }));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let err = batcher.submit(99).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(err.message().contains("queue is full"), "{err}");
        assert!(err.retry_after().is_some());
        for _ in 0..3 {
            gate_tx.send(()).unwrap();
        }
        for p in pending {
            p.await.unwrap().unwrap();
        }
    }

    #[tokio::test]
    async fn a_cancelled_caller_does_not_disturb_others() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = seen.clone();
        let batcher = Arc::new(DynamicBatcher::new(
            BatcherConfig {
                max_batch: 8,
                max_wait: Duration::from_millis(50),
                queue: 16,
                concurrency: 1,
            },
            move |xs: Vec<u32>| {
                s.lock().unwrap().extend(xs.iter().copied());
                Ok(xs)
            },
        ));
        let b = batcher.clone();
        let cancelled = tokio::spawn(async move { b.submit(1).await });
        let b = batcher.clone();
        let kept = tokio::spawn(async move { b.submit(2).await });
        tokio::time::sleep(Duration::from_millis(5)).await;
        cancelled.abort();
        assert_eq!(kept.await.unwrap().unwrap(), 2);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![2],
            "the cancelled item was not computed"
        );
    }

    #[tokio::test]
    async fn errors_reach_every_caller_of_the_batch() {
        let batcher = DynamicBatcher::new(
            BatcherConfig::default(),
            |_: Vec<u32>| -> Result<Vec<u32>> {
                Err(AiError::new(ErrorKind::Provider, "model failed"))
            },
        );
        let e = batcher.submit(1).await.unwrap_err();
        assert_eq!(e.message(), "model failed");
        batcher.shutdown().await;
    }
}
