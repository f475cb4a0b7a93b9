//! The in-memory job store (the default): one process, nothing survives a restart.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;

use super::{JobError, JobRecord, JobStatus, JobStore, NewJob, new_id, now_ms};
use crate::error::Result;

#[derive(Default)]
struct Inner {
    jobs: HashMap<String, JobRecord>,
    by_key: HashMap<String, String>,
    queue: VecDeque<String>,
    delivered: std::collections::HashSet<String>,
}

/// Jobs in a map behind a mutex, with a FIFO of queued ids.
#[derive(Default)]
pub struct MemoryJobStore {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for MemoryJobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryJobStore")
            .field("jobs", &self.inner.lock().jobs.len())
            .finish()
    }
}

impl MemoryJobStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl JobStore for MemoryJobStore {
    async fn submit(&self, job: NewJob) -> Result<(JobRecord, bool)> {
        let mut inner = self.inner.lock();
        if let Some(key) = &job.idempotency_key
            && let Some(id) = inner.by_key.get(key)
            && let Some(existing) = inner.jobs.get(id)
        {
            return Ok((existing.clone(), false));
        }
        let id = new_id();
        let record = JobRecord {
            id: id.clone(),
            status: JobStatus::Queued,
            input: job.input,
            result: None,
            error: None,
            attempts: 0,
            idempotency_key: job.idempotency_key.clone(),
            callback_url: job.callback_url,
            created_ms: now_ms(),
            started_ms: None,
            finished_ms: None,
            deadline_ms: job.deadline_ms,
            lease: None,
        };
        if let Some(key) = job.idempotency_key {
            inner.by_key.insert(key, id.clone());
        }
        inner.jobs.insert(id.clone(), record.clone());
        inner.queue.push_back(id);
        Ok((record, true))
    }

    async fn get(&self, id: &str) -> Result<Option<JobRecord>> {
        Ok(self.inner.lock().jobs.get(id).cloned())
    }

    async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<JobRecord>> {
        let now = now_ms();
        let mut inner = self.inner.lock();
        // A lost worker's job first: its lease expired while running.
        let expired = inner
            .jobs
            .values()
            .filter(|j| {
                j.status == JobStatus::Running && j.lease.as_ref().is_some_and(|l| l.1 <= now)
            })
            .min_by_key(|j| j.created_ms)
            .map(|j| j.id.clone());
        let id = match expired {
            Some(id) => Some(id),
            None => loop {
                match inner.queue.pop_front() {
                    None => break None,
                    Some(id)
                        if inner
                            .jobs
                            .get(&id)
                            .is_some_and(|j| j.status == JobStatus::Queued) =>
                    {
                        break Some(id);
                    }
                    Some(_) => continue,
                }
            },
        };
        let Some(id) = id else { return Ok(None) };
        let Some(job) = inner.jobs.get_mut(&id) else {
            return Ok(None);
        };
        job.status = JobStatus::Running;
        job.attempts += 1;
        job.started_ms = Some(now);
        job.lease = Some((worker.to_owned(), now + lease.as_millis() as u64));
        Ok(Some(job.clone()))
    }

    async fn renew(&self, id: &str, worker: &str, lease: Duration) -> Result<bool> {
        let mut inner = self.inner.lock();
        let Some(job) = inner.jobs.get_mut(id) else {
            return Ok(false);
        };
        match &mut job.lease {
            Some((w, until)) if w == worker && job.status == JobStatus::Running => {
                *until = now_ms() + lease.as_millis() as u64;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn complete(
        &self,
        id: &str,
        worker: &str,
        outcome: std::result::Result<serde_json::Value, JobError>,
    ) -> Result<bool> {
        let mut inner = self.inner.lock();
        let Some(job) = inner.jobs.get_mut(id) else {
            return Ok(false);
        };
        if job.status != JobStatus::Running || job.lease.as_ref().is_none_or(|l| l.0 != worker) {
            return Ok(false);
        }
        match outcome {
            Ok(v) => {
                job.status = JobStatus::Succeeded;
                job.result = Some(v);
            }
            Err(e) => {
                job.status = JobStatus::Failed;
                job.error = Some(e);
            }
        }
        job.finished_ms = Some(now_ms());
        job.lease = None;
        Ok(true)
    }

    async fn cancel(&self, id: &str) -> Result<bool> {
        let mut inner = self.inner.lock();
        let Some(job) = inner.jobs.get_mut(id) else {
            return Ok(false);
        };
        if job.status.is_terminal() {
            return Ok(false);
        }
        job.status = JobStatus::Cancelled;
        job.finished_ms = Some(now_ms());
        job.lease = None;
        Ok(true)
    }

    async fn purge(&self, ttl: Duration) -> Result<usize> {
        let cutoff = now_ms().saturating_sub(ttl.as_millis() as u64);
        let mut inner = self.inner.lock();
        let old: Vec<(String, Option<String>)> = inner
            .jobs
            .values()
            .filter(|j| j.status.is_terminal() && j.finished_ms.is_some_and(|t| t <= cutoff))
            .map(|j| (j.id.clone(), j.idempotency_key.clone()))
            .collect();
        for (id, key) in &old {
            inner.jobs.remove(id);
            inner.delivered.remove(id);
            if let Some(k) = key {
                inner.by_key.remove(k);
            }
        }
        Ok(old.len())
    }

    async fn undelivered(&self, limit: usize) -> Result<Vec<JobRecord>> {
        let inner = self.inner.lock();
        let mut out: Vec<JobRecord> = inner
            .jobs
            .values()
            .filter(|j| {
                j.status.is_terminal()
                    && j.callback_url.is_some()
                    && !inner.delivered.contains(&j.id)
            })
            .cloned()
            .collect();
        out.sort_by_key(|j| j.finished_ms);
        out.truncate(limit);
        Ok(out)
    }

    async fn mark_delivered(&self, id: &str) -> Result<()> {
        self.inner.lock().delivered.insert(id.to_owned());
        Ok(())
    }
}
