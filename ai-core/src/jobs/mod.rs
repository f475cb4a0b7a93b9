//! Async jobs: submit → job id → poll, with cancellation, deadlines, idempotency keys, a
//! bounded worker pool and at-least-once execution over a [`JobStore`].
//!
//! ```
//! # async fn run() -> ai_core::Result<()> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use ai_core::jobs::{JobQueue, JobStatus, MemoryJobStore, Submit};
//!
//! let queue = JobQueue::builder(Arc::new(MemoryJobStore::new()))
//!     .workers(2)
//!     .start(|input: serde_json::Value| async move {
//!         let words = input["text"].as_str().unwrap_or("").split_whitespace().count();
//!         Ok::<_, ai_core::AiError>(serde_json::json!({ "summary": format!("{words} words") }))
//!     });
//! let job = queue.submit(Submit::new(serde_json::json!({"text": "a long report"})).idempotency_key("report-7")).await?;
//! let again = queue.submit(Submit::new(serde_json::json!({"text": "ignored"})).idempotency_key("report-7")).await?;
//! assert_eq!(job.id, again.id, "same key, same job");
//! let done = queue.wait(&job.id, Duration::from_secs(5)).await?;
//! assert_eq!(done.status, JobStatus::Succeeded);
//! assert_eq!(done.result.unwrap()["summary"], "3 words");
//! queue.shutdown().await;
//! # Ok(()) }
//! ```

mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod queue;
#[cfg(feature = "redis")]
mod redis;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::Result;

pub use memory::MemoryJobStore;
#[cfg(feature = "postgres")]
pub use postgres::PgJobStore;
pub use queue::{JobQueue, JobQueueBuilder, Submit};
#[cfg(feature = "redis")]
pub use redis::RedisJobStore;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker holds it (under a lease).
    Running,
    /// Finished with a result.
    Succeeded,
    /// Finished with an error (or its deadline passed).
    Failed,
    /// Cancelled before it finished.
    Cancelled,
}

impl JobStatus {
    /// Whether the job is finished.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }

    /// The name used in metrics and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// Why a job failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobError {
    /// A short machine-readable kind (`deadline`, `timeout`, an `ErrorKind` name, …).
    pub kind: String,
    /// What happened.
    pub message: String,
}

impl JobError {
    /// An error of `kind`.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            message: message.into(),
        }
    }
}

impl From<crate::error::AiError> for JobError {
    fn from(e: crate::error::AiError) -> Self {
        Self::new(e.kind().as_str(), e.message())
    }
}

/// Everything known about a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The job id.
    pub id: String,
    /// Where it is.
    pub status: JobStatus,
    /// What it was submitted with.
    pub input: serde_json::Value,
    /// The result, once succeeded.
    pub result: Option<serde_json::Value>,
    /// The error, once failed.
    pub error: Option<JobError>,
    /// How many times a worker started it (more than 1: it ran again after a worker was lost).
    pub attempts: u32,
    /// The idempotency key it was submitted with.
    pub idempotency_key: Option<String>,
    /// Where to deliver the result (see `webhook`).
    pub callback_url: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// When a worker last started it.
    pub started_ms: Option<u64>,
    /// When it finished.
    pub finished_ms: Option<u64>,
    /// It fails with kind `deadline` if not finished by then.
    pub deadline_ms: Option<u64>,
    /// The worker holding it and until when (milliseconds since the epoch).
    pub lease: Option<(String, u64)>,
}

/// A new job.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// The input.
    pub input: serde_json::Value,
    /// Submitting the same key again returns the first job.
    pub idempotency_key: Option<String>,
    /// Absolute deadline, milliseconds since the epoch.
    pub deadline_ms: Option<u64>,
    /// Where to deliver the result.
    pub callback_url: Option<String>,
}

/// A fresh random job id (`job_` and 32 hex digits), shared by every store.
pub(crate) fn new_id() -> String {
    let mut rng = fastrand::Rng::new();
    format!("job_{:016x}{:016x}", rng.u64(..), rng.u64(..))
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Storage for jobs. Implementations must make [`JobStore::claim`] atomic: two workers never
/// hold the same job's lease at once.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Store a new job, or return the existing one with the same idempotency key (`false`).
    async fn submit(&self, job: NewJob) -> Result<(JobRecord, bool)>;
    /// A job by id.
    async fn get(&self, id: &str) -> Result<Option<JobRecord>>;
    /// Take the oldest queued job — or a running one whose lease expired (its worker was
    /// lost) — for `worker`, marking it running with a lease of `lease` and counting the
    /// attempt.
    async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<JobRecord>>;
    /// Extend `worker`'s lease on a running job; `false` when it no longer holds it.
    async fn renew(&self, id: &str, worker: &str, lease: Duration) -> Result<bool>;
    /// Record the outcome of `worker`'s attempt; `false` (and nothing written) when the job is
    /// no longer `worker`'s or already finished (cancelled meanwhile).
    async fn complete(
        &self,
        id: &str,
        worker: &str,
        outcome: std::result::Result<serde_json::Value, JobError>,
    ) -> Result<bool>;
    /// Cancel a job that has not finished; `false` when it already had.
    async fn cancel(&self, id: &str) -> Result<bool>;
    /// Remove finished jobs older than `ttl`; returns how many.
    async fn purge(&self, ttl: Duration) -> Result<usize>;
    /// Finished jobs with a callback URL whose webhook has not been handed off yet (an
    /// outbox: a worker that dies between finishing a job and delivering its webhook loses
    /// nothing).
    async fn undelivered(&self, limit: usize) -> Result<Vec<JobRecord>>;
    /// Record that a job's webhook was handled (delivered or dead-lettered).
    async fn mark_delivered(&self, id: &str) -> Result<()>;
}
