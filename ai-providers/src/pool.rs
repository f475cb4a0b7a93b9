//! A pool of replicas of one self-hosted model (vLLM, TGI, llama.cpp behind several URLs):
//! power-of-two-choices on outstanding requests, active health checks that prove the model
//! answers, passive ejection on errors, re-admission, and retry of a failed request on another
//! replica.
//!
//! ```no_run
//! # async fn run() -> ai_core::Result<()> {
//! use std::sync::Arc;
//! use ai_core::{ChatModel, ChatRequest};
//! use ai_providers::openai::OpenAiProvider;
//! use ai_providers::pool::{PoolConfig, ReplicaPool};
//! let replicas = ["http://10.0.0.5:8000/v1", "http://10.0.0.6:8000/v1"]
//!     .iter()
//!     .map(|u| -> ai_core::Result<(String, Arc<dyn ChatModel>)> {
//!         Ok((u.to_string(), Arc::new(OpenAiProvider::compatible(*u, "vllm").model("qwen").build()?)))
//!     })
//!     .collect::<ai_core::Result<Vec<_>>>()?;
//! let pool = ReplicaPool::new(replicas, PoolConfig::default());
//! pool.spawn_health_checks();
//! let answer = pool.generate(ChatRequest::user("Hello")).await?;
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use ai_core::{
    AiError, Capabilities, ChatModel, ChatRequest, ChatResponse, ChatStream, ErrorKind, Result,
};
use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::time::Instant;

/// Metric: requests per replica, labelled `replica` and `outcome` (`ok`, `error`, `retried`).
pub const POOL_REQUESTS: &str = "ai.pool.requests";
/// Metric: replica state changes, labelled `replica` and `state` (`ejected`, `admitted`).
pub const POOL_STATE: &str = "ai.pool.state";

/// Pool behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolConfig {
    /// Consecutive failures that eject a replica (passive).
    pub eject_after: u32,
    /// How long an ejected replica sits out before it is tried again (unless a health check
    /// re-admits it sooner).
    pub eject_for: Duration,
    /// Time between active health checks.
    pub health_interval: Duration,
    /// Time limit of a health check (a one-token generation).
    pub health_timeout: Duration,
    /// Attempts per request across replicas (a failed request is retried on another one).
    pub max_attempts: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            eject_after: 3,
            eject_for: Duration::from_secs(30),
            health_interval: Duration::from_secs(10),
            health_timeout: Duration::from_secs(10),
            max_attempts: 3,
        }
    }
}

struct Replica {
    name: String,
    model: Arc<dyn ChatModel>,
    outstanding: AtomicUsize,
    failures: AtomicU32,
    healthy: AtomicBool,
    ejected_until: Mutex<Option<Instant>>,
}

impl Replica {
    fn available(&self) -> bool {
        if !self.healthy.load(Ordering::Relaxed) {
            return false;
        }
        match *self.ejected_until.lock() {
            Some(t) => Instant::now() >= t,
            None => true,
        }
    }

    fn success(&self) {
        self.failures.store(0, Ordering::Relaxed);
        let mut e = self.ejected_until.lock();
        if e.take().is_some() {
            metrics::counter!(POOL_STATE, "replica" => self.name.clone(), "state" => "admitted")
                .increment(1);
        }
    }

    fn failure(&self, cfg: &PoolConfig) {
        let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if n >= cfg.eject_after {
            *self.ejected_until.lock() = Some(Instant::now() + cfg.eject_for);
            metrics::counter!(POOL_STATE, "replica" => self.name.clone(), "state" => "ejected")
                .increment(1);
        }
    }
}

/// See the module docs.
pub struct ReplicaPool {
    replicas: Vec<Arc<Replica>>,
    cfg: PoolConfig,
    caps: Capabilities,
}

impl std::fmt::Debug for ReplicaPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicaPool")
            .field(
                "replicas",
                &self
                    .replicas
                    .iter()
                    .map(|r| (&r.name, r.available()))
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Errors worth another replica: the server is down, overloaded, timing out or failing; not
/// the caller's bad request or a guard decision.
fn retry_elsewhere(e: &AiError) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Unavailable | ErrorKind::Timeout | ErrorKind::Provider | ErrorKind::RateLimited
    )
}

impl ReplicaPool {
    /// A pool over `(name, model)` replicas of the same model.
    pub fn new(replicas: Vec<(String, Arc<dyn ChatModel>)>, cfg: PoolConfig) -> Arc<Self> {
        let caps = replicas
            .first()
            .map(|r| r.1.capabilities().clone())
            .unwrap_or_default();
        Arc::new(Self {
            replicas: replicas
                .into_iter()
                .map(|(name, model)| {
                    Arc::new(Replica {
                        name,
                        model,
                        outstanding: AtomicUsize::new(0),
                        failures: AtomicU32::new(0),
                        healthy: AtomicBool::new(true),
                        ejected_until: Mutex::new(None),
                    })
                })
                .collect(),
            cfg,
            caps,
        })
    }

    /// Names of the replicas that take requests now.
    pub fn available(&self) -> Vec<String> {
        self.replicas
            .iter()
            .filter(|r| r.available())
            .map(|r| r.name.clone())
            .collect()
    }

    /// Power of two choices among available replicas not in `tried`: two at random, the one
    /// with fewer requests in flight. Falls back to any replica not tried when none is
    /// available (better a probable failure than a certain one).
    fn pick(&self, tried: &[usize]) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.replicas.len())
            .filter(|i| !tried.contains(i) && self.replicas[*i].available())
            .collect();
        let pool = if candidates.is_empty() {
            (0..self.replicas.len())
                .filter(|i| !tried.contains(i))
                .collect()
        } else {
            candidates
        };
        match pool.len() {
            0 => None,
            1 => Some(pool[0]),
            n => {
                let a = pool[fastrand::usize(..n)];
                let mut b = pool[fastrand::usize(..n)];
                if b == a {
                    b = pool[(pool.iter().position(|&x| x == a).unwrap_or(0) + 1) % n];
                }
                let load = |i: usize| self.replicas[i].outstanding.load(Ordering::Relaxed);
                Some(if load(b) < load(a) { b } else { a })
            }
        }
    }

    /// One health check round: each replica must produce a token within the time limit.
    pub async fn check_health(&self) {
        for r in &self.replicas {
            let probe = ChatRequest::user("ping").max_tokens(1).temperature(0.0);
            let ok = matches!(
                tokio::time::timeout(self.cfg.health_timeout, r.model.generate(probe)).await,
                Ok(Ok(_))
            );
            let was = r.healthy.swap(ok, Ordering::Relaxed);
            if ok && !was {
                r.success();
                metrics::counter!(POOL_STATE, "replica" => r.name.clone(), "state" => "admitted")
                    .increment(1);
            } else if ok {
                r.success();
            } else if was {
                metrics::counter!(POOL_STATE, "replica" => r.name.clone(), "state" => "ejected")
                    .increment(1);
            }
        }
    }

    /// Run health checks every `health_interval` on a spawned task (abort the handle to stop).
    pub fn spawn_health_checks(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let pool = self.clone();
        tokio::spawn(async move {
            loop {
                pool.check_health().await;
                tokio::time::sleep(pool.cfg.health_interval).await;
            }
        })
    }
}

#[async_trait]
impl ChatModel for ReplicaPool {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        let mut tried = Vec::new();
        let mut last = None;
        for _ in 0..self.cfg.max_attempts.max(1) {
            let Some(i) = self.pick(&tried) else { break };
            tried.push(i);
            let r = &self.replicas[i];
            r.outstanding.fetch_add(1, Ordering::Relaxed);
            let result = r.model.generate(request.clone()).await;
            r.outstanding.fetch_sub(1, Ordering::Relaxed);
            match result {
                Ok(resp) => {
                    r.success();
                    metrics::counter!(POOL_REQUESTS, "replica" => r.name.clone(), "outcome" => "ok").increment(1);
                    return Ok(resp);
                }
                Err(e) if retry_elsewhere(&e) => {
                    r.failure(&self.cfg);
                    metrics::counter!(POOL_REQUESTS, "replica" => r.name.clone(), "outcome" => "retried").increment(1);
                    last = Some(e);
                }
                Err(e) => {
                    metrics::counter!(POOL_REQUESTS, "replica" => r.name.clone(), "outcome" => "error").increment(1);
                    return Err(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| AiError::new(ErrorKind::Unavailable, "no replica in the pool")))
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        // Retried only while opening: once events flow, a failure is the caller's to see.
        let mut tried = Vec::new();
        let mut last = None;
        for _ in 0..self.cfg.max_attempts.max(1) {
            let Some(i) = self.pick(&tried) else { break };
            tried.push(i);
            let r = &self.replicas[i];
            match r.model.stream(request.clone()).await {
                Ok(s) => {
                    r.success();
                    return Ok(s);
                }
                Err(e) if retry_elsewhere(&e) => {
                    r.failure(&self.cfg);
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| AiError::new(ErrorKind::Unavailable, "no replica in the pool")))
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }
}
