//! Fallback: the primary (AI) path with a timeout, then the legacy path on timeout, on chosen
//! errors, or while the circuit breaker is open.

use std::sync::Arc;
use std::time::Duration;

use crate::circuit::CircuitBreaker;
use crate::handler::Handler;
use crate::metric;

/// Which path answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// The primary.
    Primary,
    /// The legacy path, and why: `timeout`, `error`, `circuit_open`.
    Fallback(&'static str),
}

/// Why a call failed.
#[derive(Debug)]
pub enum FallbackError<E, LE> {
    /// The primary failed with an error not chosen for fallback (the legacy path was not
    /// tried).
    Primary(E),
    /// The legacy path failed too (after the primary failed with `primary`, timed out, or was
    /// skipped by the breaker: `None`).
    Legacy {
        /// The primary's error, if it returned one.
        primary: Option<E>,
        /// The legacy path's error.
        legacy: LE,
    },
}

impl<E: std::fmt::Display, LE: std::fmt::Display> std::fmt::Display for FallbackError<E, LE> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Primary(e) => write!(f, "primary failed: {e}"),
            Self::Legacy {
                primary: Some(p),
                legacy,
            } => {
                write!(f, "primary failed ({p}) and the fallback failed: {legacy}")
            }
            Self::Legacy {
                primary: None,
                legacy,
            } => write!(f, "fallback failed: {legacy}"),
        }
    }
}

impl<E, LE> std::error::Error for FallbackError<E, LE>
where
    E: std::fmt::Display + std::fmt::Debug,
    LE: std::fmt::Display + std::fmt::Debug,
{
}

type Predicate<E> = Arc<dyn Fn(&E) -> bool + Send + Sync>;

/// See the module docs.
///
/// ```
/// use std::time::Duration;
/// use ai_rollout::{Fallback, Served};
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let ai = |q: String| async move {
///     tokio::time::sleep(Duration::from_secs(10)).await; // too slow today
///     Ok::<String, String>(format!("AI answer to {q}"))
/// };
/// let legacy = |q: String| async move { Ok::<String, String>(format!("FAQ answer to {q}")) };
/// let f = Fallback::new(ai, legacy, Duration::from_millis(50));
/// let (answer, served) = f.call("refunds".to_string()).await.unwrap();
/// assert_eq!(answer, "FAQ answer to refunds");
/// assert_eq!(served, Served::Fallback("timeout"));
/// # });
/// ```
pub struct Fallback<P, L, E> {
    primary: P,
    legacy: L,
    timeout: Duration,
    breaker: Option<Arc<CircuitBreaker>>,
    fall_back_on: Predicate<E>,
}

impl<P, L, E> std::fmt::Debug for Fallback<P, L, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fallback")
            .field("timeout", &self.timeout)
            .field("breaker", &self.breaker.as_ref().map(|b| b.state()))
            .finish_non_exhaustive()
    }
}

impl<P, L, E> Fallback<P, L, E> {
    /// `primary` within `timeout`, else `legacy`; every primary error falls back until
    /// [`Fallback::fall_back_on`] narrows it.
    pub fn new(primary: P, legacy: L, timeout: Duration) -> Self {
        Self {
            primary,
            legacy,
            timeout,
            breaker: None,
            fall_back_on: Arc::new(|_| true),
        }
    }

    /// Fall back only on errors `f` accepts; others are returned as they are.
    pub fn fall_back_on(mut self, f: impl Fn(&E) -> bool + Send + Sync + 'static) -> Self {
        self.fall_back_on = Arc::new(f);
        self
    }

    /// Skip the primary while `breaker` is open; timeouts and fallback-worthy errors count as
    /// failures.
    pub fn breaker(mut self, breaker: Arc<CircuitBreaker>) -> Self {
        self.breaker = Some(breaker);
        self
    }

    /// Answer `req`.
    ///
    /// # Errors
    /// [`FallbackError`] when the primary fails with an error not chosen for fallback, or
    /// when the legacy path fails too.
    pub async fn call<Req, O, LE>(&self, req: Req) -> Result<(O, Served), FallbackError<E, LE>>
    where
        Req: Clone + Send,
        P: Handler<Req, Output = O, Error = E>,
        L: Handler<Req, Output = O, Error = LE>,
    {
        let count = |path: &'static str, reason: &'static str| {
            metrics::counter!(metric::FALLBACK, "path" => path, "reason" => reason).increment(1);
        };
        let allowed = self.breaker.as_ref().is_none_or(|b| b.allow());
        let (reason, primary_err) = if !allowed {
            ("circuit_open", None)
        } else {
            match tokio::time::timeout(self.timeout, self.primary.call(req.clone())).await {
                Ok(Ok(out)) => {
                    if let Some(b) = &self.breaker {
                        b.record(true);
                    }
                    count("primary", "ok");
                    return Ok((out, Served::Primary));
                }
                Ok(Err(e)) => {
                    if !(self.fall_back_on)(&e) {
                        // Not the primary's fault as far as the caller says (a bad request):
                        // no fallback and no breaker failure.
                        if let Some(b) = &self.breaker {
                            b.record(true);
                        }
                        count("primary", "error");
                        return Err(FallbackError::Primary(e));
                    }
                    if let Some(b) = &self.breaker {
                        b.record(false);
                    }
                    ("error", Some(e))
                }
                Err(_) => {
                    if let Some(b) = &self.breaker {
                        b.record(false);
                    }
                    ("timeout", None)
                }
            }
        };
        count("fallback", reason);
        match self.legacy.call(req).await {
            Ok(out) => Ok((out, Served::Fallback(reason))),
            Err(legacy) => Err(FallbackError::Legacy {
                primary: primary_err,
                legacy,
            }),
        }
    }
}
