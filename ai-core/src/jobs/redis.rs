//! The Redis job store (feature `redis`): a hash per job, a list as the queue, a sorted set of
//! running jobs by lease expiry (a dead worker's jobs are claimed again once it passes), a
//! sorted set as the webhook outbox and one of finished jobs for retention. Every state change
//! is one Lua script, on the Redis server's clock.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;

use super::{JobError, JobRecord, JobStatus, JobStore, NewJob};
use crate::error::Result;

use crate::layers::redis_store::{connect, unavailable};

/// See the module docs.
#[derive(Clone)]
pub struct RedisJobStore {
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
    scripts: std::sync::Arc<Scripts>,
}

/// The Lua scripts, hashed once (not on every call).
struct Scripts {
    submit: redis::Script,
    claim: redis::Script,
    renew: redis::Script,
    complete: redis::Script,
    cancel: redis::Script,
    purge: redis::Script,
}

impl std::fmt::Debug for RedisJobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisJobStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

const NOW: &str = "local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n";

/// KEYS: prefix. ARGV: id, input, key, callback, deadline. Returns the job id (an existing
/// one for a known idempotency key) and 1 when created.
const SUBMIT: &str = r#"
local p = KEYS[1]
if ARGV[3] ~= '' then
  local existing = redis.call('GET', p .. 'key:' .. ARGV[3])
  if existing then return {existing, 0} end
  redis.call('SET', p .. 'key:' .. ARGV[3], ARGV[1])
end
redis.call('HSET', p .. 'job:' .. ARGV[1], 'status', 'queued', 'input', ARGV[2], 'key', ARGV[3],
  'callback', ARGV[4], 'created', now, 'deadline', ARGV[5], 'attempts', 0)
redis.call('RPUSH', p .. 'queue', ARGV[1])
return {ARGV[1], 1}
"#;

/// KEYS: prefix. ARGV: worker, lease ms. Returns the claimed id or false.
const CLAIM: &str = r#"
local p = KEYS[1]
local id = nil
local expired = redis.call('ZRANGEBYSCORE', p .. 'running', '-inf', now, 'LIMIT', 0, 1)
if #expired > 0 then id = expired[1] end
while not id do
  local next = redis.call('LPOP', p .. 'queue')
  if not next then return false end
  if redis.call('HGET', p .. 'job:' .. next, 'status') == 'queued' then id = next end
end
local k = p .. 'job:' .. id
local until_ms = now + tonumber(ARGV[2])
redis.call('HSET', k, 'status', 'running', 'started', now, 'worker', ARGV[1], 'until', until_ms)
redis.call('HINCRBY', k, 'attempts', 1)
redis.call('ZADD', p .. 'running', until_ms, id)
return id
"#;

/// KEYS: prefix. ARGV: id, worker, lease ms. Returns 1 when renewed.
const RENEW: &str = r#"
local p = KEYS[1]
local k = p .. 'job:' .. ARGV[1]
if redis.call('HGET', k, 'status') ~= 'running' or redis.call('HGET', k, 'worker') ~= ARGV[2] then return 0 end
local until_ms = now + tonumber(ARGV[3])
redis.call('HSET', k, 'until', until_ms)
redis.call('ZADD', p .. 'running', until_ms, ARGV[1])
return 1
"#;

/// KEYS: prefix. ARGV: id, worker, status, result, error. Returns 1 when recorded.
const COMPLETE: &str = r#"
local p = KEYS[1]
local k = p .. 'job:' .. ARGV[1]
if redis.call('HGET', k, 'status') ~= 'running' or redis.call('HGET', k, 'worker') ~= ARGV[2] then return 0 end
redis.call('HSET', k, 'status', ARGV[3], 'result', ARGV[4], 'error', ARGV[5], 'finished', now)
redis.call('HDEL', k, 'worker', 'until')
redis.call('ZREM', p .. 'running', ARGV[1])
redis.call('ZADD', p .. 'finished', now, ARGV[1])
if (redis.call('HGET', k, 'callback') or '') ~= '' then redis.call('ZADD', p .. 'outbox', now, ARGV[1]) end
return 1
"#;

/// KEYS: prefix. ARGV: id. Returns 1 when cancelled.
const CANCEL: &str = r#"
local p = KEYS[1]
local k = p .. 'job:' .. ARGV[1]
local s = redis.call('HGET', k, 'status')
if s ~= 'queued' and s ~= 'running' then return 0 end
redis.call('HSET', k, 'status', 'cancelled', 'finished', now)
redis.call('HDEL', k, 'worker', 'until')
redis.call('ZREM', p .. 'running', ARGV[1])
redis.call('ZADD', p .. 'finished', now, ARGV[1])
if (redis.call('HGET', k, 'callback') or '') ~= '' then redis.call('ZADD', p .. 'outbox', now, ARGV[1]) end
return 1
"#;

/// KEYS: prefix. ARGV: ttl ms. Returns how many were removed.
const PURGE: &str = r#"
local p = KEYS[1]
local old = redis.call('ZRANGEBYSCORE', p .. 'finished', '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, 1000)
for _, id in ipairs(old) do
  local k = p .. 'job:' .. id
  local key = redis.call('HGET', k, 'key')
  if key and key ~= '' then redis.call('DEL', p .. 'key:' .. key) end
  redis.call('DEL', k)
  redis.call('ZREM', p .. 'finished', id)
  redis.call('ZREM', p .. 'outbox', id)
end
return #old
"#;

fn script(body: &str) -> redis::Script {
    redis::Script::new(&format!("{NOW}{body}"))
}

impl RedisJobStore {
    /// Connect to `url`; every key starts with `prefix` (one queue per prefix).
    ///
    /// # Errors
    /// `Config` for a bad URL, `Unavailable` when Redis cannot be reached.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self> {
        let timeout = Duration::from_secs(5);
        Ok(Self {
            conn: connect(url, timeout).await?,
            prefix: prefix.to_owned(),
            timeout,
            scripts: std::sync::Arc::new(Scripts {
                submit: script(SUBMIT),
                claim: script(CLAIM),
                renew: script(RENEW),
                complete: script(COMPLETE),
                cancel: script(CANCEL),
                purge: script(PURGE),
            }),
        })
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        sc: &redis::Script,
        args: &[String],
    ) -> Result<T> {
        let mut inv = sc.prepare_invoke();
        inv.key(&self.prefix);
        for a in args {
            inv.arg(a);
        }
        let mut conn = self.conn.clone();
        tokio::time::timeout(self.timeout, inv.invoke_async(&mut conn))
            .await
            .map_err(|_| unavailable("the command timed out"))?
            .map_err(unavailable)
    }

    async fn load(&self, id: &str) -> Result<Option<JobRecord>> {
        let mut conn = self.conn.clone();
        let h: HashMap<String, String> = tokio::time::timeout(
            self.timeout,
            redis::cmd("HGETALL")
                .arg(format!("{}job:{id}", self.prefix))
                .query_async(&mut conn),
        )
        .await
        .map_err(|_| unavailable("the command timed out"))?
        .map_err(unavailable)?;
        if h.is_empty() {
            return Ok(None);
        }
        let s = |k: &str| h.get(k).filter(|v| !v.is_empty()).cloned();
        let n = |k: &str| s(k).and_then(|v| v.parse::<u64>().ok());
        let json = |k: &str| s(k).and_then(|v| serde_json::from_str::<serde_json::Value>(&v).ok());
        let status = match s("status").as_deref() {
            Some("running") => JobStatus::Running,
            Some("succeeded") => JobStatus::Succeeded,
            Some("failed") => JobStatus::Failed,
            Some("cancelled") => JobStatus::Cancelled,
            _ => JobStatus::Queued,
        };
        Ok(Some(JobRecord {
            id: id.to_owned(),
            status,
            input: json("input").unwrap_or(serde_json::Value::Null),
            result: json("result"),
            error: json("error").and_then(|e| serde_json::from_value(e).ok()),
            attempts: n("attempts").unwrap_or(0) as u32,
            idempotency_key: s("key"),
            callback_url: s("callback"),
            created_ms: n("created").unwrap_or(0),
            started_ms: n("started"),
            finished_ms: n("finished"),
            deadline_ms: n("deadline"),
            lease: s("worker").zip(n("until")),
        }))
    }

    async fn ids(&self, set: &str, limit: usize) -> Result<Vec<String>> {
        let mut conn = self.conn.clone();
        tokio::time::timeout(
            self.timeout,
            redis::cmd("ZRANGE")
                .arg(format!("{}{set}", self.prefix))
                .arg(0)
                .arg(limit.max(1) as i64 - 1)
                .query_async(&mut conn),
        )
        .await
        .map_err(|_| unavailable("the command timed out"))?
        .map_err(unavailable)
    }
}

#[async_trait]
impl JobStore for RedisJobStore {
    async fn submit(&self, job: NewJob) -> Result<(JobRecord, bool)> {
        let id = super::new_id();
        let (id, created): (String, i64) = self
            .run(
                &self.scripts.submit,
                &[
                    id,
                    job.input.to_string(),
                    job.idempotency_key.unwrap_or_default(),
                    job.callback_url.unwrap_or_default(),
                    job.deadline_ms.map(|d| d.to_string()).unwrap_or_default(),
                ],
            )
            .await?;
        let rec = self
            .load(&id)
            .await?
            .ok_or_else(|| unavailable("a submitted job vanished"))?;
        Ok((rec, created == 1))
    }

    async fn get(&self, id: &str) -> Result<Option<JobRecord>> {
        self.load(id).await
    }

    async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<JobRecord>> {
        let id: Option<String> = self
            .run(
                &self.scripts.claim,
                &[worker.to_owned(), lease.as_millis().to_string()],
            )
            .await?;
        match id {
            Some(id) => self.load(&id).await,
            None => Ok(None),
        }
    }

    async fn renew(&self, id: &str, worker: &str, lease: Duration) -> Result<bool> {
        let n: i64 = self
            .run(
                &self.scripts.renew,
                &[
                    id.to_owned(),
                    worker.to_owned(),
                    lease.as_millis().to_string(),
                ],
            )
            .await?;
        Ok(n == 1)
    }

    async fn complete(
        &self,
        id: &str,
        worker: &str,
        outcome: std::result::Result<serde_json::Value, JobError>,
    ) -> Result<bool> {
        let (status, result, error) = match outcome {
            Ok(v) => ("succeeded", v.to_string(), String::new()),
            Err(e) => (
                "failed",
                String::new(),
                serde_json::to_string(&e).unwrap_or_default(),
            ),
        };
        let n: i64 = self
            .run(
                &self.scripts.complete,
                &[
                    id.to_owned(),
                    worker.to_owned(),
                    status.to_owned(),
                    result,
                    error,
                ],
            )
            .await?;
        Ok(n == 1)
    }

    async fn cancel(&self, id: &str) -> Result<bool> {
        let n: i64 = self.run(&self.scripts.cancel, &[id.to_owned()]).await?;
        Ok(n == 1)
    }

    async fn purge(&self, ttl: Duration) -> Result<usize> {
        let n: i64 = self
            .run(&self.scripts.purge, &[ttl.as_millis().to_string()])
            .await?;
        Ok(n.max(0) as usize)
    }

    async fn undelivered(&self, limit: usize) -> Result<Vec<JobRecord>> {
        let mut out = Vec::new();
        for id in self.ids("outbox", limit).await? {
            if let Some(j) = self.load(&id).await? {
                out.push(j);
            }
        }
        Ok(out)
    }

    async fn mark_delivered(&self, id: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        tokio::time::timeout(
            self.timeout,
            redis::cmd("ZREM")
                .arg(format!("{}outbox", self.prefix))
                .arg(id)
                .query_async::<i64>(&mut conn),
        )
        .await
        .map_err(|_| unavailable("the command timed out"))?
        .map_err(unavailable)?;
        Ok(())
    }
}
