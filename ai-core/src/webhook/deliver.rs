//! Delivering webhooks: SSRF checks, pinned addresses, retries with back-off, a delivery log
//! and a dead-letter state.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use parking_lot::Mutex;

use super::ssrf::{AddressPolicy, check_address};
use super::{Secret, sign};
use crate::error::{AiError, ErrorKind, Result};
use crate::jobs::{JobRecord, now_ms};

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The message id (`webhook-id`).
    pub msg_id: String,
    /// Where it went (scheme, host and path; the query string is left out).
    pub target: String,
    /// 1, 2, …
    pub attempt: u32,
    /// When, milliseconds since the epoch.
    pub at_ms: u64,
    /// The HTTP status, if a response came.
    pub status: Option<u16>,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

/// How a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// A 2xx response.
    Delivered,
    /// Every attempt failed (or the receiver answered 410 Gone): kept for inspection.
    DeadLetter,
    /// The target was refused before any connection (SSRF rules, bad URL).
    Refused,
}

/// The result of [`WebhookSender::deliver`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The message id.
    pub msg_id: String,
    /// How it ended.
    pub state: DeliveryState,
    /// Every attempt, in order.
    pub attempts: Vec<Attempt>,
}

/// Metric: deliveries, labelled `state`.
pub const DELIVERIES: &str = "ai.webhooks.deliveries";

/// Signs and delivers webhooks. Redirects are not followed; every attempt resolves the host,
/// refuses private and special addresses (see [`check_address`]) and connects to exactly the
/// address it checked, so DNS cannot change between check and use.
pub struct WebhookSender {
    secret: Secret,
    policy: AddressPolicy,
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    timeout: Duration,
    log: Mutex<Vec<Attempt>>,
    dead: Mutex<Vec<Delivery>>,
}

impl std::fmt::Debug for WebhookSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSender")
            .field("max_attempts", &self.max_attempts)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

const LOG_LIMIT: usize = 10_000;

impl WebhookSender {
    /// Signing with `secret`; 8 attempts, back-off from 1 s to 10 min, 10 s per attempt,
    /// public addresses only.
    pub fn new(secret: Secret) -> Self {
        Self {
            secret,
            policy: AddressPolicy::public_only(),
            max_attempts: 8,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(600),
            timeout: Duration::from_secs(10),
            log: Mutex::new(Vec::new()),
            dead: Mutex::new(Vec::new()),
        }
    }

    /// Which addresses are allowed beyond public ones.
    pub fn policy(mut self, policy: AddressPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Attempts before the dead-letter state, and the back-off between them (doubling from
    /// `base` up to `max`, with full jitter in the upper half).
    pub fn retries(mut self, attempts: u32, base: Duration, max: Duration) -> Self {
        self.max_attempts = attempts.max(1);
        self.base_delay = base;
        self.max_delay = max;
        self
    }

    /// Time limit of one attempt (connect and response).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// The most recent attempts (up to 10 000).
    pub fn log(&self) -> Vec<Attempt> {
        self.log.lock().clone()
    }

    /// Deliveries that ended in the dead-letter state.
    pub fn dead_letters(&self) -> Vec<Delivery> {
        self.dead.lock().clone()
    }

    /// Resolve and check `url`; the address to connect to.
    async fn target(&self, url: &reqwest::Url) -> Result<(String, SocketAddr)> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(
                AiError::new(ErrorKind::BadRequest, "webhook URLs must be http or https")
                    .with_code("ssrf_refused"),
            );
        }
        let host = url
            .host_str()
            .ok_or_else(|| AiError::new(ErrorKind::BadRequest, "webhook URL has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::time::timeout(
                Duration::from_secs(5),
                tokio::net::lookup_host((host.as_str(), port)),
            )
            .await
            .map_err(|_| AiError::timeout(format!("resolving {host} timed out")))?
            .map_err(|e| {
                AiError::new(ErrorKind::BadRequest, format!("cannot resolve {host}: {e}"))
            })?
            .collect(),
        };
        // Every address must pass: a name with one public and one private answer is refused.
        for a in &addrs {
            check_address(a.ip(), &self.policy)?;
        }
        let first = addrs
            .first()
            .copied()
            .ok_or_else(|| AiError::new(ErrorKind::BadRequest, format!("{host} has no address")))?;
        Ok((host, first))
    }

    fn record(&self, a: Attempt) {
        let mut log = self.log.lock();
        if log.len() >= LOG_LIMIT {
            log.drain(..LOG_LIMIT / 10);
        }
        log.push(a);
    }

    /// Deliver `body` as message `msg_id` to `url`, retrying until a 2xx or the last attempt.
    pub async fn deliver(&self, url: &str, msg_id: &str, body: &serde_json::Value) -> Delivery {
        let mut attempts = Vec::new();
        let payload = serde_json::to_vec(body).unwrap_or_default();
        let parsed = reqwest::Url::parse(url);
        let shown = parsed.as_ref().map_or_else(
            |_| "(invalid URL)".to_owned(),
            |u| {
                format!(
                    "{}://{}{}",
                    u.scheme(),
                    u.host_str().unwrap_or(""),
                    u.path()
                )
            },
        );
        let mut state = DeliveryState::DeadLetter;
        for n in 1..=self.max_attempts {
            let mut attempt = Attempt {
                msg_id: msg_id.to_owned(),
                target: shown.clone(),
                attempt: n,
                at_ms: now_ms(),
                status: None,
                error: None,
            };
            let target = match &parsed {
                Ok(u) => self.target(u).await.map(|t| (u.clone(), t)),
                Err(e) => Err(AiError::new(
                    ErrorKind::BadRequest,
                    format!("invalid webhook URL: {e}"),
                )),
            };
            let (url, (host, addr)) = match target {
                Ok(t) => t,
                Err(e) => {
                    attempt.error = Some(e.to_string());
                    self.record(attempt.clone());
                    attempts.push(attempt);
                    state = DeliveryState::Refused;
                    break;
                }
            };
            let mut retry_after = None;
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(self.timeout)
                .connect_timeout(self.timeout)
                .no_proxy()
                .resolve(&host, addr)
                .build();
            let ts = now_ms() / 1000;
            let result = match client {
                Ok(c) => c
                    .post(url)
                    .header("content-type", "application/json")
                    .header("webhook-id", msg_id)
                    .header("webhook-timestamp", ts.to_string())
                    .header(
                        "webhook-signature",
                        sign(&self.secret, msg_id, ts, &payload),
                    )
                    .body(payload.clone())
                    .send()
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            let mut stop = false;
            match result {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    attempt.status = Some(status);
                    retry_after = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    if resp.status().is_success() {
                        state = DeliveryState::Delivered;
                        stop = true;
                    } else if status == 410 {
                        attempt.error = Some("the receiver is gone (410)".into());
                        stop = true;
                    }
                }
                Err(e) => attempt.error = Some(e),
            }
            self.record(attempt.clone());
            attempts.push(attempt);
            if stop || n == self.max_attempts {
                break;
            }
            let exp = self
                .base_delay
                .saturating_mul(1u32 << (n - 1).min(20))
                .min(self.max_delay);
            let jittered = exp.mul_f64(0.5 + fastrand::f64() * 0.5);
            let wait = retry_after.map_or(jittered, |r| r.max(jittered).min(self.max_delay));
            tokio::time::sleep(wait).await;
        }
        let label = match state {
            DeliveryState::Delivered => "delivered",
            DeliveryState::DeadLetter => "dead_letter",
            DeliveryState::Refused => "refused",
        };
        metrics::counter!(DELIVERIES, "state" => label).increment(1);
        let delivery = Delivery {
            msg_id: msg_id.to_owned(),
            state,
            attempts,
        };
        if state != DeliveryState::Delivered {
            self.dead.lock().push(delivery.clone());
        }
        delivery
    }

    /// Deliver a finished job to its callback URL (the job id is the message id, so a
    /// receiver's replay guard also drops duplicate deliveries of a job that ran twice).
    /// `None` when the job has no callback URL.
    pub async fn deliver_job(&self, job: &JobRecord) -> Option<Delivery> {
        let url = job.callback_url.as_deref()?;
        let body = serde_json::json!({
            "type": "job.finished",
            "id": job.id,
            "status": job.status,
            "result": job.result,
            "error": job.error,
            "attempts": job.attempts,
        });
        Some(self.deliver(url, &job.id, &body).await)
    }
}

impl WebhookSender {
    /// Deliver the webhooks of finished jobs in `store` that were not handed off yet (the
    /// outbox), marking each handled once delivered or dead-lettered; returns how many.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn dispatch_pending(
        &self,
        store: &dyn crate::jobs::JobStore,
        limit: usize,
    ) -> Result<usize> {
        let jobs = store.undelivered(limit).await?;
        for job in &jobs {
            self.deliver_job(job).await;
            store.mark_delivered(&job.id).await?;
        }
        Ok(jobs.len())
    }
}

/// Run [`WebhookSender::dispatch_pending`] every `interval` on a spawned task (abort the
/// handle to stop). Several processes may run one: deliveries are at least once, and the job
/// id as message id lets receivers drop duplicates.
pub fn spawn_dispatcher(
    sender: std::sync::Arc<WebhookSender>,
    store: std::sync::Arc<dyn crate::jobs::JobStore>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match sender.dispatch_pending(store.as_ref(), 64).await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook dispatch failed"),
            }
            tokio::time::sleep(interval).await;
        }
    })
}
