//! The PostgreSQL job store (feature `postgres`): one table, `FOR UPDATE SKIP LOCKED` claims
//! with a lease, so any number of worker processes share the queue and a dead worker's jobs
//! are taken over when its lease expires.

use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};

use super::{JobError, JobRecord, JobStatus, JobStore, NewJob, now_ms};
use crate::error::{AiError, ErrorKind, Result};

/// See the module docs.
pub struct PgJobStore {
    pool: Pool,
    table: String,
}

impl std::fmt::Debug for PgJobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgJobStore")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

fn db(e: impl std::fmt::Display) -> AiError {
    AiError::new(ErrorKind::Unavailable, format!("PostgreSQL: {e}"))
}

fn status_from(s: &str) -> JobStatus {
    match s {
        "running" => JobStatus::Running,
        "succeeded" => JobStatus::Succeeded,
        "failed" => JobStatus::Failed,
        "cancelled" => JobStatus::Cancelled,
        _ => JobStatus::Queued,
    }
}

const COLUMNS: &str = "id, status, input, result, error, attempts, idempotency_key, callback_url, \
                       created_ms, started_ms, finished_ms, deadline_ms, lease_worker, lease_until";

fn record(r: &tokio_postgres::Row) -> Result<JobRecord> {
    let get_ms = |i: usize| -> Result<Option<u64>> {
        Ok(r.try_get::<_, Option<i64>>(i)
            .map_err(db)?
            .map(|v| v.max(0) as u64))
    };
    let error: Option<serde_json::Value> = r.try_get(4).map_err(db)?;
    let worker: Option<String> = r.try_get(12).map_err(db)?;
    let until = get_ms(13)?;
    Ok(JobRecord {
        id: r.try_get(0).map_err(db)?,
        status: status_from(r.try_get::<_, &str>(1).map_err(db)?),
        input: r.try_get(2).map_err(db)?,
        result: r.try_get(3).map_err(db)?,
        error: error.and_then(|e| serde_json::from_value::<JobError>(e).ok()),
        attempts: r.try_get::<_, i32>(5).map_err(db)?.max(0) as u32,
        idempotency_key: r.try_get(6).map_err(db)?,
        callback_url: r.try_get(7).map_err(db)?,
        created_ms: get_ms(8)?.unwrap_or(0),
        started_ms: get_ms(9)?,
        finished_ms: get_ms(10)?,
        deadline_ms: get_ms(11)?,
        lease: worker.zip(until),
    })
}

impl PgJobStore {
    /// Connect to `url` and create `table` (letters, digits and `_`) if it does not exist.
    ///
    /// # Errors
    /// `Config` for a bad URL or table name; `Unavailable` when the database cannot be reached.
    pub async fn connect(url: &str, table: &str) -> Result<Self> {
        if table.is_empty()
            || !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || table.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(AiError::config(format!(
                "`{table}` is not a valid table name"
            )));
        }
        let mut cfg: tokio_postgres::Config = url
            .parse()
            .map_err(|e| AiError::config(format!("invalid PostgreSQL URL: {e}")))?;
        cfg.connect_timeout(Duration::from_secs(10));
        cfg.options("-c statement_timeout=30000");
        let manager = Manager::from_config(
            cfg,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(8)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(10)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| AiError::config(format!("cannot create the connection pool: {e}")))?;
        let store = Self {
            pool,
            table: table.to_owned(),
        };
        let t = &store.table;
        let client = store.pool.get().await.map_err(db)?;
        client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {t} (
                    id TEXT PRIMARY KEY,
                    status TEXT NOT NULL,
                    input JSONB NOT NULL,
                    result JSONB,
                    error JSONB,
                    attempts INT NOT NULL DEFAULT 0,
                    idempotency_key TEXT UNIQUE,
                    callback_url TEXT,
                    created_ms BIGINT NOT NULL,
                    started_ms BIGINT,
                    finished_ms BIGINT,
                    deadline_ms BIGINT,
                    lease_worker TEXT,
                    lease_until BIGINT,
                    delivered BOOLEAN NOT NULL DEFAULT FALSE);
                 CREATE INDEX IF NOT EXISTS {t}_open ON {t} (created_ms)
                    WHERE status IN ('queued', 'running');
                 CREATE INDEX IF NOT EXISTS {t}_outbox ON {t} (finished_ms)
                    WHERE callback_url IS NOT NULL AND NOT delivered;"
            ))
            .await
            .map_err(db)?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(db)
    }
}

#[async_trait]
impl JobStore for PgJobStore {
    async fn submit(&self, job: NewJob) -> Result<(JobRecord, bool)> {
        let t = &self.table;
        let c = self.client().await?;
        let id = super::new_id();
        let rows = c
            .query(
                &format!(
                    "INSERT INTO {t} (id, status, input, idempotency_key, callback_url, created_ms, deadline_ms)
                     VALUES ($1, 'queued', $2, $3, $4, $5, $6)
                     ON CONFLICT (idempotency_key) DO NOTHING RETURNING {COLUMNS}"
                ),
                &[
                    &id,
                    &job.input,
                    &job.idempotency_key,
                    &job.callback_url,
                    &(now_ms() as i64),
                    &job.deadline_ms.map(|d| d as i64),
                ],
            )
            .await
            .map_err(db)?;
        if let Some(r) = rows.first() {
            return Ok((record(r)?, true));
        }
        let rows = c
            .query(
                &format!("SELECT {COLUMNS} FROM {t} WHERE idempotency_key = $1"),
                &[&job.idempotency_key],
            )
            .await
            .map_err(db)?;
        let r = rows
            .first()
            .ok_or_else(|| db("the job with this idempotency key vanished"))?;
        Ok((record(r)?, false))
    }

    async fn get(&self, id: &str) -> Result<Option<JobRecord>> {
        let t = &self.table;
        let rows = self
            .client()
            .await?
            .query(&format!("SELECT {COLUMNS} FROM {t} WHERE id = $1"), &[&id])
            .await
            .map_err(db)?;
        rows.first().map(record).transpose()
    }

    async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<JobRecord>> {
        let t = &self.table;
        let now = now_ms() as i64;
        let until = now + lease.as_millis() as i64;
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "UPDATE {t} SET status = 'running', attempts = attempts + 1, started_ms = $1,
                            lease_worker = $2, lease_until = $3
                     WHERE id = (SELECT id FROM {t}
                                 WHERE status = 'queued' OR (status = 'running' AND lease_until <= $1)
                                 ORDER BY created_ms LIMIT 1 FOR UPDATE SKIP LOCKED)
                     RETURNING {COLUMNS}"
                ),
                &[&now, &worker, &until],
            )
            .await
            .map_err(db)?;
        rows.first().map(record).transpose()
    }

    async fn renew(&self, id: &str, worker: &str, lease: Duration) -> Result<bool> {
        let t = &self.table;
        let until = (now_ms() + lease.as_millis() as u64) as i64;
        let n = self
            .client()
            .await?
            .execute(
                &format!(
                    "UPDATE {t} SET lease_until = $3
                     WHERE id = $1 AND lease_worker = $2 AND status = 'running'"
                ),
                &[&id, &worker, &until],
            )
            .await
            .map_err(db)?;
        Ok(n == 1)
    }

    async fn complete(
        &self,
        id: &str,
        worker: &str,
        outcome: std::result::Result<serde_json::Value, JobError>,
    ) -> Result<bool> {
        let t = &self.table;
        let (status, result, error) = match outcome {
            Ok(v) => ("succeeded", Some(v), None),
            Err(e) => (
                "failed",
                None,
                Some(serde_json::to_value(e).map_err(|e| AiError::decode(e.to_string(), ""))?),
            ),
        };
        let n = self
            .client()
            .await?
            .execute(
                &format!(
                    "UPDATE {t} SET status = $3, result = $4, error = $5, finished_ms = $6,
                            lease_worker = NULL, lease_until = NULL
                     WHERE id = $1 AND lease_worker = $2 AND status = 'running'"
                ),
                &[&id, &worker, &status, &result, &error, &(now_ms() as i64)],
            )
            .await
            .map_err(db)?;
        Ok(n == 1)
    }

    async fn cancel(&self, id: &str) -> Result<bool> {
        let t = &self.table;
        let n = self
            .client()
            .await?
            .execute(
                &format!(
                    "UPDATE {t} SET status = 'cancelled', finished_ms = $2, lease_worker = NULL, lease_until = NULL
                     WHERE id = $1 AND status IN ('queued', 'running')"
                ),
                &[&id, &(now_ms() as i64)],
            )
            .await
            .map_err(db)?;
        Ok(n == 1)
    }

    async fn purge(&self, ttl: Duration) -> Result<usize> {
        let t = &self.table;
        let cutoff = now_ms().saturating_sub(ttl.as_millis() as u64) as i64;
        let n = self
            .client()
            .await?
            .execute(
                &format!(
                    "DELETE FROM {t} WHERE status IN ('succeeded', 'failed', 'cancelled')
                     AND finished_ms <= $1"
                ),
                &[&cutoff],
            )
            .await
            .map_err(db)?;
        Ok(n as usize)
    }

    async fn undelivered(&self, limit: usize) -> Result<Vec<JobRecord>> {
        let t = &self.table;
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM {t}
                     WHERE callback_url IS NOT NULL AND NOT delivered
                       AND status IN ('succeeded', 'failed', 'cancelled')
                     ORDER BY finished_ms LIMIT $1"
                ),
                &[&(limit as i64)],
            )
            .await
            .map_err(db)?;
        rows.iter().map(record).collect()
    }

    async fn mark_delivered(&self, id: &str) -> Result<()> {
        let t = &self.table;
        self.client()
            .await?
            .execute(
                &format!("UPDATE {t} SET delivered = TRUE WHERE id = $1"),
                &[&id],
            )
            .await
            .map_err(db)?;
        Ok(())
    }
}
