//! Mapping HTTP statuses, provider error bodies and transport failures to [`AiError`].

use std::time::{Duration, SystemTime};

use ai_core::{AiError, ErrorKind};
use reqwest::header::HeaderMap;
use serde_json::Value;

/// Read how long to wait from `retry-after-ms`, or `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    parse_retry_after(value, SystemTime::now())
}

/// Parse a `Retry-After` value: delta-seconds (integer or decimal) or an HTTP date, relative to
/// `now`. Dates in the past mean "now" (zero).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// What a provider said in an error body, whatever its shape.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// Human-readable message.
    pub message: Option<String>,
    /// Error type (`invalid_request_error`, `exceed_context_size_error`…).
    pub kind: Option<String>,
    /// Machine code (`context_length_exceeded`, `insufficient_quota`…).
    pub code: Option<String>,
    /// A numeric status inside the body (llama.cpp and some proxies send one).
    pub status: Option<u16>,
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Extract the error fields from the shapes OpenAI, Azure, vLLM, TGI, llama.cpp and Ollama use:
/// `{"error": {"message", "type", "code"}}`, `{"error": "text", "error_type": …}`,
/// `{"message": …}`, `{"detail": …}` and `{"object": "error", …}`.
pub fn parse_error_body(value: &Value) -> ErrorBody {
    let mut out = ErrorBody::default();
    let obj = match value.get("error") {
        Some(Value::Object(inner)) => inner,
        Some(Value::String(s)) => {
            out.message = Some(s.clone());
            out.kind = value.get("error_type").and_then(as_text);
            out.code = value.get("code").and_then(as_text);
            return out;
        }
        _ => match value.as_object() {
            Some(o) => o,
            None => return out,
        },
    };
    out.message = obj
        .get("message")
        .or_else(|| obj.get("detail"))
        .or_else(|| obj.get("msg"))
        .and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        });
    // Google puts its canonical code (`RESOURCE_EXHAUSTED`, `INVALID_ARGUMENT`…) in `status`.
    out.kind = obj
        .get("type")
        .or_else(|| obj.get("status").filter(|s| s.is_string()))
        .and_then(as_text);
    // A numeric `code` is an HTTP status (llama.cpp, some proxies), not a machine code.
    out.code = obj.get("code").filter(|c| !c.is_number()).and_then(as_text);
    out.status = obj
        .get("code")
        .or_else(|| obj.get("status"))
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (400..600).contains(c));
    out
}

fn mentions(haystack: &str, needles: &[&str]) -> bool {
    let lower = haystack.to_ascii_lowercase();
    needles.iter().any(|n| lower.contains(n))
}

const CONTEXT_HINTS: [&str; 8] = [
    "context_length_exceeded",
    "exceed_context_size",
    "maximum context length",
    "context length",
    "context window",
    "too many tokens",
    "prompt is too long",
    "must be <=",
];

const FILTER_HINTS: [&str; 3] = [
    "content_filter",
    "content_policy",
    "responsibleaipolicyviolation",
];

/// The error kind for an HTTP status and error body.
pub fn classify(status: u16, body: &ErrorBody) -> ErrorKind {
    let signal = format!(
        "{} {} {}",
        body.code.as_deref().unwrap_or(""),
        body.kind.as_deref().unwrap_or(""),
        body.message.as_deref().unwrap_or("")
    );
    if (400..500).contains(&status) && status != 429 && mentions(&signal, &CONTEXT_HINTS) {
        return ErrorKind::ContextLength;
    }
    if (400..500).contains(&status) && mentions(&signal, &FILTER_HINTS) {
        return ErrorKind::ContentFiltered;
    }
    // Google answers a bad API key with 400 INVALID_ARGUMENT.
    if status == 400 && mentions(&signal, &["api_key_invalid", "api key not valid"]) {
        return ErrorKind::Auth;
    }
    match status {
        401 | 403 => ErrorKind::Auth,
        404 => ErrorKind::NotFound,
        408 => ErrorKind::Timeout,
        409 => ErrorKind::Provider,
        // Google's per-minute quotas (RESOURCE_EXHAUSTED) are rate limits that pass.
        429 if mentions(
            &signal,
            &["insufficient_quota", "quota exceeded", "billing"],
        ) && !mentions(&signal, &["resource_exhausted"]) =>
        {
            ErrorKind::QuotaExceeded
        }
        429 => ErrorKind::RateLimited,
        400..=499 => ErrorKind::BadRequest,
        502..=504 | 529 => ErrorKind::Unavailable,
        _ => ErrorKind::Provider,
    }
}

/// The error kind of an AWS exception name (`ThrottlingException`, also with the namespace or
/// URL AWS may add, as in `x-amzn-ErrorType: ThrottlingException:http://…`).
pub fn aws_exception_kind(name: &str) -> Option<ErrorKind> {
    let name = name.split([':', '#']).find(|p| p.ends_with("Exception"))?;
    Some(match name.to_ascii_lowercase().as_str() {
        "throttlingexception" => ErrorKind::RateLimited,
        "servicequotaexceededexception" => ErrorKind::QuotaExceeded,
        "modelnotreadyexception" | "serviceunavailableexception" => ErrorKind::Unavailable,
        "modeltimeoutexception" => ErrorKind::Timeout,
        "accessdeniedexception" | "unrecognizedclientexception" => ErrorKind::Auth,
        "resourcenotfoundexception" => ErrorKind::NotFound,
        "validationexception" => ErrorKind::BadRequest,
        "internalserverexception" | "modelstreamerrorexception" | "modelerrorexception" => {
            ErrorKind::Provider
        }
        _ => return None,
    })
}

/// Build the error for a non-success HTTP response.
pub fn from_response(
    provider: &'static str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> AiError {
    let text = String::from_utf8_lossy(body);
    let parsed = serde_json::from_slice::<Value>(body)
        .map(|v| parse_error_body(&v))
        .unwrap_or_default();
    // AWS names the exception in a header; its kind is sharper than the status (a 429 can be
    // ModelNotReadyException, a 400 ServiceQuotaExceededException).
    let aws = headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| Some((t.split(':').next()?.to_owned(), aws_exception_kind(t)?)));
    let by_status = classify(status, &parsed);
    let kind = match &aws {
        Some((_, k)) if by_status != ErrorKind::ContextLength => *k,
        _ => by_status,
    };
    let message = parsed.message.clone().unwrap_or_else(|| {
        let snippet: String = text.chars().take(200).collect();
        if snippet.trim().is_empty() {
            format!("HTTP {status} with an empty body")
        } else {
            format!("HTTP {status}: {snippet}")
        }
    });
    let mut err = AiError::new(kind, message)
        .with_status(status)
        .with_provider(provider)
        .with_raw_body(text.into_owned());
    if let Some(code) = aws.map(|(name, _)| name).or(parsed.code).or(parsed.kind) {
        err = err.with_code(code);
    }
    if let Some(after) = retry_after(headers) {
        err = err.with_retry_after(after);
    }
    err
}

/// Build the error for an error object that arrived inside a stream after HTTP 200.
pub fn from_stream_error(provider: &'static str, value: &Value, raw: &str) -> AiError {
    let parsed = parse_error_body(value);
    let status = parsed.status.unwrap_or(500);
    let kind = match parsed.kind.as_deref().or(parsed.code.as_deref()) {
        Some(k) if mentions(k, &["overloaded", "unavailable"]) => ErrorKind::Unavailable,
        Some(k) if mentions(k, &["rate_limit"]) => ErrorKind::RateLimited,
        _ => classify(status, &parsed),
    };
    let mut err = AiError::new(
        kind,
        parsed
            .message
            .clone()
            .unwrap_or_else(|| "the server sent an error event".to_string()),
    )
    .with_provider(provider)
    .with_raw_body(raw.to_string());
    if let Some(s) = parsed.status {
        err = err.with_status(s);
    }
    if let Some(code) = parsed.code.or(parsed.kind) {
        err = err.with_code(code);
    }
    err
}

/// Map a transport failure (connect, timeout, reset, body read) from `reqwest`.
pub fn from_transport(provider: &'static str, err: reqwest::Error) -> AiError {
    // This crate never asks reqwest to decode JSON, so its "decode" errors are failures while
    // reading the body (a truncated chunked body, a reset): transport errors, not bad payloads.
    let kind = if err.is_timeout() {
        ErrorKind::Timeout
    } else if err.is_builder() {
        ErrorKind::Config
    } else {
        ErrorKind::Unavailable
    };
    let what = if err.is_connect() {
        "could not connect"
    } else if err.is_timeout() {
        "timed out"
    } else if err.is_body() || err.is_decode() {
        "reading the response body failed (connection closed or reset)"
    } else if err.is_builder() {
        "invalid request"
    } else {
        "transport error"
    };
    // reqwest's Display includes the URL but never headers, so no credential can leak here.
    AiError::new(kind, what)
        .with_provider(provider)
        .with_source(err.without_url())
}

/// A `Decode` error for a body (or stream event) that could not be parsed, keeping the raw text.
pub fn decode_error(
    provider: &'static str,
    what: &str,
    err: impl std::fmt::Display,
    raw: &[u8],
) -> AiError {
    AiError::decode(
        format!("could not decode the {what}: {err}"),
        String::from_utf8_lossy(raw).into_owned(),
    )
    .with_provider(provider)
}

/// JSON rows of floats as embeddings, one per input text (`expected`); the count must match.
pub fn float_rows(
    provider: &'static str,
    rows: &[Value],
    expected: usize,
    raw: &str,
) -> Result<Vec<ai_core::Embedding>, AiError> {
    let out: Vec<ai_core::Embedding> = rows
        .iter()
        .map(|r| {
            r.as_array()
                .map(|xs| {
                    xs.iter()
                        .filter_map(Value::as_f64)
                        .map(|x| x as f32)
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    if out.len() != expected {
        return Err(AiError::decode(
            format!("{} embeddings for {expected} texts", out.len()),
            raw.to_owned(),
        )
        .with_provider(provider));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use serde_json::json;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
        let mut h = HeaderMap::new();
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        h.insert("retry-after", HeaderValue::from_static("9"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
    }

    #[test]
    fn statuses_map_to_kinds() {
        let e = ErrorBody::default();
        for (status, kind) in [
            (400, ErrorKind::BadRequest),
            (401, ErrorKind::Auth),
            (403, ErrorKind::Auth),
            (404, ErrorKind::NotFound),
            (408, ErrorKind::Timeout),
            (409, ErrorKind::Provider),
            (413, ErrorKind::BadRequest),
            (422, ErrorKind::BadRequest),
            (429, ErrorKind::RateLimited),
            (500, ErrorKind::Provider),
            (502, ErrorKind::Unavailable),
            (503, ErrorKind::Unavailable),
            (504, ErrorKind::Unavailable),
            (529, ErrorKind::Unavailable),
        ] {
            assert_eq!(classify(status, &e), kind, "{status}");
        }
    }

    #[test]
    fn bodies_refine_the_kind() {
        let ctx = parse_error_body(
            &json!({"error": {"message": "This model's maximum context length is 8192 tokens", "type": "invalid_request_error", "code": "context_length_exceeded"}}),
        );
        assert_eq!(classify(400, &ctx), ErrorKind::ContextLength);
        let llama = parse_error_body(
            &json!({"error": {"code": 400, "message": "the request exceeds the available context size", "type": "exceed_context_size_error"}}),
        );
        assert_eq!(classify(400, &llama), ErrorKind::ContextLength);
        assert_eq!(llama.status, Some(400));
        let quota = parse_error_body(
            &json!({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": "insufficient_quota"}}),
        );
        assert_eq!(classify(429, &quota), ErrorKind::QuotaExceeded);
        let tgi = parse_error_body(
            &json!({"error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096", "error_type": "validation"}),
        );
        assert_eq!(classify(422, &tgi), ErrorKind::ContextLength);
        assert_eq!(tgi.kind.as_deref(), Some("validation"));
        let azure = parse_error_body(
            &json!({"error": {"code": "content_filter", "message": "The response was filtered"}}),
        );
        assert_eq!(classify(400, &azure), ErrorKind::ContentFiltered);
    }

    #[test]
    fn non_json_bodies_keep_the_raw_text() {
        let e = from_response(
            "openai",
            502,
            &HeaderMap::new(),
            b"<html>Bad Gateway</html>",
        );
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert_eq!(e.raw_body(), Some("<html>Bad Gateway</html>"));
        assert!(e.message().contains("Bad Gateway"));
        let e = from_response("openai", 500, &HeaderMap::new(), b"");
        assert!(e.message().contains("empty body"));
    }
}
