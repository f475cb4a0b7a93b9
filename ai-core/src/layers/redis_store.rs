//! Redis backends for the cache and the rate limiter (feature `redis`), so several replicas of
//! a service share one cache and one set of limits.
//!
//! Every command has a time limit (2 s by default); a Redis that does not answer is an
//! `Unavailable` error — the cache layer then treats the lookup as a miss, and the rate-limit
//! layer fails the call (limits are not silently dropped).

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;

use super::cache::CacheStore;
use super::rate_limit::{ALL_LIMITS, Amount, LimitKind, LimitStore, Limits};
use crate::error::{AiError, ErrorKind, Result};
use crate::names::{attr, metric};
use crate::response::ChatResponse;

pub(crate) fn unavailable(e: impl std::fmt::Display) -> AiError {
    AiError::new(ErrorKind::Unavailable, format!("Redis: {e}"))
}

/// A connection manager for `url` with command and connect time limits (shared with the
/// Redis job store).
pub(crate) async fn connect(url: &str, timeout: Duration) -> Result<ConnectionManager> {
    let client =
        redis::Client::open(url).map_err(|e| AiError::config(format!("invalid Redis URL: {e}")))?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(timeout)
        .set_response_timeout(timeout)
        .set_number_of_retries(2);
    tokio::time::timeout(
        timeout * 2,
        ConnectionManager::new_with_config(client, config),
    )
    .await
    .map_err(|_| unavailable("connecting timed out"))?
    .map_err(unavailable)
}

async fn bounded<T>(
    timeout: Duration,
    f: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T> {
    tokio::time::timeout(timeout, f)
        .await
        .map_err(|_| unavailable("the command timed out"))?
        .map_err(unavailable)
}

/// Cached responses in Redis (JSON, with the entry's TTL as the key's expiry).
#[derive(Clone)]
pub struct RedisCacheStore {
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
}

impl std::fmt::Debug for RedisCacheStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCacheStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisCacheStore {
    /// Connect to `url` (`redis://host:port/db`); keys are `prefix` + the cache key.
    ///
    /// # Errors
    /// `Config` for a bad URL, `Unavailable` when Redis cannot be reached.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self> {
        let timeout = Duration::from_secs(2);
        Ok(Self {
            conn: connect(url, timeout).await?,
            prefix: prefix.to_owned(),
            timeout,
        })
    }
}

#[async_trait]
impl CacheStore for RedisCacheStore {
    async fn get(&self, key: &str) -> Result<Option<ChatResponse>> {
        let mut conn = self.conn.clone();
        let k = format!("{}{key}", self.prefix);
        let raw: Option<Vec<u8>> = bounded(
            self.timeout,
            redis::cmd("GET").arg(&k).query_async(&mut conn),
        )
        .await?;
        match raw {
            None => Ok(None),
            // An entry that no longer decodes (another version wrote it) is a miss.
            Some(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        }
    }

    async fn put(&self, key: &str, value: ChatResponse, ttl: Duration) -> Result<()> {
        let mut conn = self.conn.clone();
        let k = format!("{}{key}", self.prefix);
        let bytes = serde_json::to_vec(&value).map_err(|e| AiError::decode(e.to_string(), ""))?;
        let ms = ttl.as_millis().max(1) as u64;
        bounded::<()>(
            self.timeout,
            redis::cmd("SET")
                .arg(&k)
                .arg(bytes)
                .arg("PX")
                .arg(ms)
                .query_async(&mut conn),
        )
        .await
    }
}

/// Token buckets in Redis, updated by one Lua script per call so the check and the take are
/// atomic across replicas; time is the Redis server's clock (`TIME`), so replicas' clocks do
/// not matter. Same semantics as the in-memory store.
#[derive(Clone)]
pub struct RedisLimitStore {
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
    acquire: redis::Script,
    adjust: redis::Script,
}

impl std::fmt::Debug for RedisLimitStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimitStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// KEYS[1]: the key's hash. ARGV: for each of the 5 buckets: capacity (-1 when unset), window
/// in ms, amount. Returns {denied bucket index or -1, wait in ms as a string}.
const ACQUIRE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local levels = {}
local denied, wait = -1, 0
local longest = 0
for i = 0, 4 do
  local cap = tonumber(ARGV[1 + i * 3])
  local win = tonumber(ARGV[2 + i * 3])
  local need = tonumber(ARGV[3 + i * 3])
  if cap >= 0 then
    if win > longest then longest = win end
    local lvl = tonumber(redis.call('HGET', KEYS[1], 'l' .. i))
    local last = tonumber(redis.call('HGET', KEYS[1], 't' .. i))
    if lvl == nil or last == nil then lvl = cap; last = now end
    local rate = cap / win
    lvl = math.min(cap, lvl + math.max(0, now - last) * rate)
    levels[i] = lvl
    local n = math.min(need, cap)
    if lvl < n then
      local w = win
      if rate > 0 then w = (n - lvl) / rate end
      if w > wait then wait = w; denied = i end
    end
  end
end
if denied >= 0 then return {denied, tostring(math.max(1, math.ceil(wait)))} end
for i = 0, 4 do
  local cap = tonumber(ARGV[1 + i * 3])
  if cap >= 0 then
    local need = tonumber(ARGV[3 + i * 3])
    redis.call('HSET', KEYS[1], 'l' .. i, tostring(levels[i] - need), 't' .. i, tostring(now))
  end
end
redis.call('PEXPIRE', KEYS[1], longest * 2)
return {-1, "0"}
"#;

/// KEYS[1]: the key's hash. ARGV: for buckets 2, 3, 4 (tokens/min, tokens/day, cost/day):
/// capacity (-1 when unset), window in ms, delta (positive uses more, negative refunds).
const ADJUST: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for j = 0, 2 do
  local i = j + 2
  local cap = tonumber(ARGV[1 + j * 3])
  local win = tonumber(ARGV[2 + j * 3])
  local delta = tonumber(ARGV[3 + j * 3])
  if cap >= 0 then
    local lvl = tonumber(redis.call('HGET', KEYS[1], 'l' .. i))
    local last = tonumber(redis.call('HGET', KEYS[1], 't' .. i))
    if lvl == nil or last == nil then lvl = cap; last = now end
    lvl = math.min(cap, lvl + math.max(0, now - last) * cap / win)
    redis.call('HSET', KEYS[1], 'l' .. i, tostring(math.min(cap, lvl - delta)), 't' .. i, tostring(now))
  end
end
return 1
"#;

impl RedisLimitStore {
    /// Connect to `url`; bucket hashes are `prefix` + the limit key.
    ///
    /// # Errors
    /// `Config` for a bad URL, `Unavailable` when Redis cannot be reached.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self> {
        let timeout = Duration::from_secs(2);
        Ok(Self {
            conn: connect(url, timeout).await?,
            prefix: prefix.to_owned(),
            timeout,
            acquire: redis::Script::new(ACQUIRE),
            adjust: redis::Script::new(ADJUST),
        })
    }
}

#[async_trait]
impl LimitStore for RedisLimitStore {
    async fn acquire(&self, key: &str, limits: &Limits, amount: Amount) -> Result<()> {
        let mut inv = self.acquire.prepare_invoke();
        inv.key(format!("{}{key}", self.prefix));
        for kind in ALL_LIMITS {
            inv.arg(kind.capacity(limits).unwrap_or(-1.0))
                .arg(kind.window().as_millis() as u64)
                .arg(amount.of(kind));
        }
        let mut conn = self.conn.clone();
        let (denied, wait_ms): (i64, String) =
            bounded(self.timeout, inv.invoke_async(&mut conn)).await?;
        if denied < 0 {
            return Ok(());
        }
        let kind = ALL_LIMITS
            .iter()
            .copied()
            .find(|k| k.index() as i64 == denied)
            .unwrap_or(LimitKind::RequestsPerMinute);
        let wait = Duration::from_millis(wait_ms.parse::<u64>().unwrap_or(1000));
        metrics::counter!(metric::LIMIT_REJECTIONS, attr::LIMIT => kind.as_str()).increment(1);
        Err(AiError::new(
            kind.error_kind(),
            format!(
                "{} limit reached; retry after {:.1}s",
                kind.as_str(),
                wait.as_secs_f64()
            ),
        )
        .with_retry_after(wait)
        .with_code(kind.as_str()))
    }

    async fn adjust(&self, key: &str, limits: &Limits, tokens: i64, cost_nanos: i64) -> Result<()> {
        let mut inv = self.adjust.prepare_invoke();
        inv.key(format!("{}{key}", self.prefix));
        for (kind, delta) in [
            (LimitKind::TokensPerMinute, tokens),
            (LimitKind::TokensPerDay, tokens),
            (LimitKind::CostPerDay, cost_nanos),
        ] {
            inv.arg(kind.capacity(limits).unwrap_or(-1.0))
                .arg(kind.window().as_millis() as u64)
                .arg(delta);
        }
        let mut conn = self.conn.clone();
        bounded::<i64>(self.timeout, inv.invoke_async(&mut conn)).await?;
        Ok(())
    }
}
