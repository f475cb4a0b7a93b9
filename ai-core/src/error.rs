//! The one error type of the toolkit: [`AiError`] with a coarse [`ErrorKind`].
//!
//! Every provider, layer and store reports failures as an `AiError`, so retry, fallback and
//! circuit-breaking decisions can be made on [`AiError::kind`], [`AiError::is_retryable`] and
//! [`AiError::retry_after`] without knowing which vendor answered.

use std::fmt;
use std::time::Duration;

/// Convenience alias used across the toolkit.
pub type Result<T, E = AiError> = std::result::Result<T, E>;

/// What went wrong, coarsely enough to decide what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Too many requests (HTTP 429 or a local rate limit). Retry after [`AiError::retry_after`].
    RateLimited,
    /// A deadline passed: total time, time to first token, or HTTP 408.
    Timeout,
    /// The provider could not be reached or is overloaded (connection errors, 502/503/504/529).
    Unavailable,
    /// Credentials missing, invalid or not allowed (HTTP 401/403).
    Auth,
    /// The request itself is wrong (HTTP 400/413/422); sending it again will not help.
    BadRequest,
    /// The model or endpoint does not exist (HTTP 404).
    NotFound,
    /// The prompt plus the requested output exceeds the model's context window.
    ContextLength,
    /// The provider refused to produce content for safety reasons.
    ContentFiltered,
    /// The account has no quota or credit left (not transient, unlike `RateLimited`).
    QuotaExceeded,
    /// A guard (PII, prompt injection, access policy) blocked the request or the answer.
    Guard,
    /// A local cost or token budget is exhausted. Retry after [`AiError::retry_after`].
    Budget,
    /// The caller cancelled, or the operation was dropped.
    Cancelled,
    /// A response could not be decoded; [`AiError::raw_body`] keeps what arrived.
    Decode,
    /// Local configuration is missing or invalid (for example an environment variable).
    Config,
    /// Any other provider-side failure (HTTP 409, 500 and unclassified errors).
    Provider,
}

impl ErrorKind {
    /// A stable lower-case name, used as a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Auth => "auth",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::NotFound => "not_found",
            ErrorKind::ContextLength => "context_length",
            ErrorKind::ContentFiltered => "content_filtered",
            ErrorKind::QuotaExceeded => "quota_exceeded",
            ErrorKind::Guard => "guard",
            ErrorKind::Budget => "budget",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Decode => "decode",
            ErrorKind::Config => "config",
            ErrorKind::Provider => "provider",
        }
    }

    /// Whether an error of this kind is transient by default.
    ///
    /// `Provider` is retryable because it covers HTTP 5xx and 409; an individual error can
    /// override this with [`AiError::with_retryable`].
    pub fn is_retryable_by_default(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited
                | ErrorKind::Timeout
                | ErrorKind::Unavailable
                | ErrorKind::Provider
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Largest raw body kept on an error, in bytes; longer bodies are cut at a character boundary.
pub const MAX_RAW_BODY: usize = 16 * 1024;

/// An error from a model call, a layer or a store.
///
/// ```
/// use ai_core::{AiError, ErrorKind};
/// use std::time::Duration;
///
/// let err = AiError::new(ErrorKind::RateLimited, "slow down")
///     .with_status(429)
///     .with_retry_after(Duration::from_secs(2));
/// assert!(err.is_retryable());
/// assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
/// assert_eq!(err.status(), Some(429));
/// ```
pub struct AiError(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    message: String,
    status: Option<u16>,
    raw_body: Option<String>,
    retry_after: Option<Duration>,
    retryable: Option<bool>,
    provider: Option<&'static str>,
    code: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl AiError {
    /// A new error of `kind` with a human-readable message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            message: message.into(),
            status: None,
            raw_body: None,
            retry_after: None,
            retryable: None,
            provider: None,
            code: None,
            source: None,
        }))
    }

    /// Shorthand for a [`ErrorKind::Config`] error.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// Shorthand for a [`ErrorKind::Decode`] error that keeps the raw text that failed.
    pub fn decode(message: impl Into<String>, raw: impl Into<String>) -> Self {
        Self::new(ErrorKind::Decode, message).with_raw_body(raw)
    }

    /// Shorthand for a [`ErrorKind::Timeout`] error.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, message)
    }

    /// Shorthand for a [`ErrorKind::Cancelled`] error.
    pub fn cancelled(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Cancelled, message)
    }

    /// Attach the HTTP status code.
    pub fn with_status(mut self, status: u16) -> Self {
        self.0.status = Some(status);
        self
    }

    /// Attach the provider's raw response body (cut to [`MAX_RAW_BODY`] bytes).
    pub fn with_raw_body(mut self, body: impl Into<String>) -> Self {
        let mut body = body.into();
        if body.len() > MAX_RAW_BODY {
            let mut cut = MAX_RAW_BODY;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
        }
        self.0.raw_body = Some(body);
        self
    }

    /// Attach how long to wait before trying again.
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.0.retry_after = Some(after);
        self
    }

    /// Override whether this particular error may be retried.
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.0.retryable = Some(retryable);
        self
    }

    /// Name the provider that produced the error (for example `"openai"`).
    pub fn with_provider(mut self, provider: &'static str) -> Self {
        self.0.provider = Some(provider);
        self
    }

    /// Attach the provider's machine-readable error code (for example `"insufficient_quota"`).
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.0.code = Some(code.into());
        self
    }

    /// Attach the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.0.source = Some(Box::new(source));
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The HTTP status, where the error came from an HTTP response.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// The provider's raw response body, where there was one.
    pub fn raw_body(&self) -> Option<&str> {
        self.0.raw_body.as_deref()
    }

    /// How long the provider (or a local limiter) asked us to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// The provider that produced the error, where known.
    pub fn provider(&self) -> Option<&'static str> {
        self.0.provider
    }

    /// The provider's machine-readable error code, where it sent one.
    pub fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }

    /// Whether sending the same request again may succeed.
    ///
    /// Permanent errors (auth, bad request, not found, context length, quota, guard, budget,
    /// decode, config, cancelled) are never retryable.
    pub fn is_retryable(&self) -> bool {
        self.0
            .retryable
            .unwrap_or_else(|| self.0.kind.is_retryable_by_default())
    }
}

impl fmt::Debug for AiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("AiError");
        d.field("kind", &self.0.kind)
            .field("message", &self.0.message);
        if let Some(status) = self.0.status {
            d.field("status", &status);
        }
        if let Some(provider) = self.0.provider {
            d.field("provider", &provider);
        }
        if let Some(code) = &self.0.code {
            d.field("code", code);
        }
        if let Some(after) = self.0.retry_after {
            d.field("retry_after", &after);
        }
        if let Some(body) = &self.0.raw_body {
            d.field("raw_body", body);
        }
        if let Some(source) = &self.0.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for AiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.kind)?;
        if let Some(provider) = self.0.provider {
            write!(f, " from {provider}")?;
        }
        if let Some(status) = self.0.status {
            write!(f, " (HTTP {status})")?;
        }
        write!(f, ": {}", self.0.message)
    }
}

impl std::error::Error for AiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl Clone for AiError {
    /// Clones everything but the boxed source, which is rendered into the message.
    fn clone(&self) -> Self {
        let message = match &self.0.source {
            Some(source) => format!("{}: {source}", self.0.message),
            None => self.0.message.clone(),
        };
        Self(Box::new(Inner {
            kind: self.0.kind,
            message,
            status: self.0.status,
            raw_body: self.0.raw_body.clone(),
            retry_after: self.0.retry_after,
            retryable: self.0.retryable,
            provider: self.0.provider,
            code: self.0.code.clone(),
            source: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanent_kinds_are_not_retryable() {
        for kind in [
            ErrorKind::Auth,
            ErrorKind::BadRequest,
            ErrorKind::NotFound,
            ErrorKind::ContextLength,
            ErrorKind::QuotaExceeded,
            ErrorKind::Guard,
            ErrorKind::Budget,
            ErrorKind::Decode,
            ErrorKind::Config,
            ErrorKind::Cancelled,
            ErrorKind::ContentFiltered,
        ] {
            assert!(!AiError::new(kind, "x").is_retryable(), "{kind}");
        }
        for kind in [
            ErrorKind::RateLimited,
            ErrorKind::Timeout,
            ErrorKind::Unavailable,
            ErrorKind::Provider,
        ] {
            assert!(AiError::new(kind, "x").is_retryable(), "{kind}");
        }
    }

    #[test]
    fn override_and_display() {
        let err = AiError::new(ErrorKind::Provider, "boom")
            .with_status(500)
            .with_provider("openai")
            .with_retryable(false);
        assert!(!err.is_retryable());
        assert_eq!(err.to_string(), "provider from openai (HTTP 500): boom");
    }

    #[test]
    fn raw_body_is_cut_on_char_boundary() {
        let body = "é".repeat(MAX_RAW_BODY);
        let err = AiError::decode("bad", body);
        let kept = err.raw_body().unwrap();
        assert!(kept.len() <= MAX_RAW_BODY);
        assert!(kept.chars().all(|c| c == 'é'));
    }

    #[test]
    fn clone_keeps_source_text() {
        let io = std::io::Error::other("reset");
        let err = AiError::new(ErrorKind::Unavailable, "send failed").with_source(io);
        let copy = err.clone();
        assert_eq!(copy.message(), "send failed: reset");
        assert_eq!(copy.kind(), ErrorKind::Unavailable);
    }
}
