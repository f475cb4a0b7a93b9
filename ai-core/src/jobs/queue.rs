//! The job queue: submission, polling, cancellation and the worker pool.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{JobError, JobRecord, JobStore, NewJob, now_ms};
use crate::error::{AiError, ErrorKind, Result};

/// Metric: time from submission to a worker starting the job, seconds.
pub const QUEUE_WAIT: &str = "ai.jobs.queue_wait";
/// Metric: finished jobs, labelled `status`.
pub const FINISHED: &str = "ai.jobs.finished";
/// Metric: jobs started again after their worker was lost.
pub const REDELIVERED: &str = "ai.jobs.redelivered";

type Handler = Arc<
    dyn Fn(
            serde_json::Value,
        )
            -> Pin<Box<dyn Future<Output = std::result::Result<serde_json::Value, JobError>> + Send>>
        + Send
        + Sync,
>;

/// A submission.
#[derive(Debug, Clone, PartialEq)]
pub struct Submit {
    input: serde_json::Value,
    key: Option<String>,
    deadline: Option<Duration>,
    callback: Option<String>,
}

impl Submit {
    /// A job with `input`.
    pub fn new(input: serde_json::Value) -> Self {
        Self {
            input,
            key: None,
            deadline: None,
            callback: None,
        }
    }

    /// Submitting the same key again returns the first job.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Fail the job (kind `deadline`) if it has not finished this long after submission.
    pub fn deadline(mut self, after: Duration) -> Self {
        self.deadline = Some(after);
        self
    }

    /// Deliver the result to this URL (a webhook).
    pub fn callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback = Some(url.into());
        self
    }
}

/// Configures a [`JobQueue`].
pub struct JobQueueBuilder {
    store: Arc<dyn JobStore>,
    workers: usize,
    lease: Duration,
    poll: Duration,
    ttl: Duration,
    worker_id: String,
    on_finish: Option<Arc<dyn Fn(JobRecord) + Send + Sync>>,
}

impl std::fmt::Debug for JobQueueBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobQueueBuilder")
            .field("workers", &self.workers)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

impl JobQueueBuilder {
    /// Workers in this process (default 4).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }

    /// How long a worker holds a job without renewing (default 30 s); a job whose worker
    /// died is run again after this.
    pub fn lease(mut self, d: Duration) -> Self {
        self.lease = d;
        self
    }

    /// How often idle workers look for work (default 50 ms).
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.poll = d;
        self
    }

    /// How long finished jobs are kept (default 24 h).
    pub fn ttl(mut self, d: Duration) -> Self {
        self.ttl = d;
        self
    }

    /// The name of this process's workers in leases (default random).
    pub fn worker_id(mut self, id: impl Into<String>) -> Self {
        self.worker_id = id.into();
        self
    }

    /// Called with each job a worker of this queue finished (for example to deliver webhooks).
    pub fn on_finish(mut self, f: impl Fn(JobRecord) + Send + Sync + 'static) -> Self {
        self.on_finish = Some(Arc::new(f));
        self
    }

    /// A queue that submits and polls but runs nothing (workers run elsewhere).
    pub fn client(self) -> JobQueue {
        JobQueue {
            store: self.store,
            workers: Mutex::new(Vec::new()),
            stop: watch::channel(false).0,
        }
    }

    /// Start the workers (on the current Tokio runtime) with `handler`.
    pub fn start<F, Fut, E>(self, handler: F) -> JobQueue
    where
        F: Fn(serde_json::Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<serde_json::Value, E>> + Send + 'static,
        E: Into<JobError>,
    {
        let handler: Handler = Arc::new(move |v| {
            let fut = handler(v);
            Box::pin(async move { fut.await.map_err(Into::into) })
        });
        let (stop, _) = watch::channel(false);
        let mut handles = Vec::new();
        for i in 0..self.workers {
            let w = Worker {
                store: self.store.clone(),
                handler: handler.clone(),
                id: format!("{}-{i}", self.worker_id),
                lease: self.lease,
                poll: self.poll,
                ttl: self.ttl,
                on_finish: self.on_finish.clone(),
            };
            handles.push(tokio::spawn(w.run(stop.subscribe())));
        }
        JobQueue {
            store: self.store,
            workers: Mutex::new(handles),
            stop,
        }
    }
}

/// Submit, poll and cancel jobs; owns this process's workers.
pub struct JobQueue {
    store: Arc<dyn JobStore>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for JobQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobQueue")
            .field("workers", &self.workers.lock().len())
            .finish_non_exhaustive()
    }
}

impl JobQueue {
    /// Configure a queue over `store`.
    pub fn builder(store: Arc<dyn JobStore>) -> JobQueueBuilder {
        JobQueueBuilder {
            store,
            workers: 4,
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(50),
            ttl: Duration::from_secs(24 * 3600),
            worker_id: format!("w{:08x}", fastrand::u32(..)),
            on_finish: None,
        }
    }

    /// Submit a job; with an idempotency key already used, the existing job.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn submit(&self, s: Submit) -> Result<JobRecord> {
        let job = NewJob {
            input: s.input,
            idempotency_key: s.key,
            deadline_ms: s.deadline.map(|d| now_ms() + d.as_millis() as u64),
            callback_url: s.callback,
        };
        Ok(self.store.submit(job).await?.0)
    }

    /// A job by id.
    ///
    /// # Errors
    /// `NotFound` for an unknown (or purged) id; the store's errors.
    pub async fn status(&self, id: &str) -> Result<JobRecord> {
        self.store
            .get(id)
            .await?
            .ok_or_else(|| AiError::new(ErrorKind::NotFound, format!("no job `{id}`")))
    }

    /// Cancel a job; `false` when it had already finished. A running job's worker stops at
    /// its next lease renewal (a third of the lease at most).
    ///
    /// # Errors
    /// The store's errors.
    pub async fn cancel(&self, id: &str) -> Result<bool> {
        let done = self.store.cancel(id).await?;
        if done {
            metrics::counter!(FINISHED, "status" => "cancelled").increment(1);
        }
        Ok(done)
    }

    /// Poll until the job finishes or `timeout` passes.
    ///
    /// # Errors
    /// `Timeout` when it is still unfinished; `NotFound`; the store's errors.
    pub async fn wait(&self, id: &str, timeout: Duration) -> Result<JobRecord> {
        let until = tokio::time::Instant::now() + timeout;
        loop {
            let job = self.status(id).await?;
            if job.status.is_terminal() {
                return Ok(job);
            }
            if tokio::time::Instant::now() >= until {
                return Err(AiError::timeout(format!(
                    "job `{id}` still {} after {timeout:?}",
                    job.status.as_str()
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stop claiming new jobs and wait for running ones to finish.
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        let handles: Vec<_> = std::mem::take(&mut *self.workers.lock());
        for h in handles {
            let _ = h.await;
        }
    }
}

struct Worker {
    store: Arc<dyn JobStore>,
    handler: Handler,
    id: String,
    lease: Duration,
    poll: Duration,
    ttl: Duration,
    on_finish: Option<Arc<dyn Fn(JobRecord) + Send + Sync>>,
}

impl Worker {
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut last_purge = tokio::time::Instant::now();
        while !*stop.borrow() {
            let job = match self.store.claim(&self.id, self.lease).await {
                Ok(j) => j,
                Err(e) => {
                    tracing::warn!(worker = %self.id, error = %e, "claiming a job failed");
                    None
                }
            };
            match job {
                Some(job) => self.execute(job).await,
                None => {
                    if last_purge.elapsed() > Duration::from_secs(60) {
                        last_purge = tokio::time::Instant::now();
                        let _ = self.store.purge(self.ttl).await;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(self.poll) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
        }
    }

    async fn execute(&self, job: JobRecord) {
        if job.attempts > 1 {
            metrics::counter!(REDELIVERED).increment(1);
        }
        if job.attempts == 1
            && let Some(started) = job.started_ms
        {
            let waited = started.saturating_sub(job.created_ms);
            metrics::histogram!(QUEUE_WAIT).record(waited as f64 / 1000.0);
        }
        let remaining = job
            .deadline_ms
            .map(|d| Duration::from_millis(d.saturating_sub(now_ms())));
        let work = (self.handler)(job.input.clone());
        let renew_every = (self.lease / 3).max(Duration::from_millis(10));
        let outcome = tokio::select! {
            r = async {
                match remaining {
                    Some(left) => tokio::time::timeout(left, work).await.unwrap_or_else(|_| {
                        Err(JobError::new("deadline", "the job's deadline passed"))
                    }),
                    None => work.await,
                }
            } => Some(r),
            _ = async {
                // Renew the lease; stop when it is lost (cancelled, or taken over).
                loop {
                    tokio::time::sleep(renew_every).await;
                    match self.store.renew(&job.id, &self.id, self.lease).await {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => tracing::warn!(error = %e, "renewing a job lease failed"),
                    }
                }
            } => None,
        };
        let Some(outcome) = outcome else {
            // Cancelled or no longer ours: the work was dropped.
            return;
        };
        let status = if outcome.is_ok() {
            "succeeded"
        } else {
            "failed"
        };
        match self.store.complete(&job.id, &self.id, outcome).await {
            Ok(true) => {
                metrics::counter!(FINISHED, "status" => status).increment(1);
                if let Some(f) = &self.on_finish
                    && let Ok(Some(done)) = self.store.get(&job.id).await
                {
                    f(done);
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(job = %job.id, error = %e, "recording a job result failed"),
        }
    }
}
