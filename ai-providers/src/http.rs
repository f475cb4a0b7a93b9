//! Shared HTTP plumbing: client construction with timeouts, and reading responses.

use std::time::{Duration, Instant};

use ai_core::{AiError, ErrorKind, Result, WaitClock};
use bytes::{Bytes, BytesMut};

use crate::error_map;

/// Timeouts for the HTTP client. Every network call has one.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Longest silence while reading a response (between bytes of a stream too).
    pub read_timeout: Duration,
    /// Total time for a non-streaming request, body included.
    pub request_timeout: Duration,
    /// Largest non-streaming response body accepted, in bytes.
    pub max_response_bytes: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(120),
            request_timeout: Duration::from_secs(600),
            max_response_bytes: 64 * 1024 * 1024,
        }
    }
}

/// A `reqwest` client with these timeouts (rustls, HTTP/1.1 and HTTP/2).
pub fn build_client(opts: &HttpOptions) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(opts.connect_timeout)
        .read_timeout(opts.read_timeout)
        .user_agent(concat!("ai-toolkit/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| AiError::config(format!("could not build the HTTP client: {e}")))
}

/// Send a request and read the whole body (at most `max_bytes`), counting the time on `wait`.
/// Non-success statuses become errors mapped by [`error_map::from_response`].
pub async fn send_and_read(
    provider: &'static str,
    request: reqwest::RequestBuilder,
    wait: &WaitClock,
    max_bytes: usize,
) -> Result<Bytes> {
    let start = Instant::now();
    let result = async {
        let response = request
            .send()
            .await
            .map_err(|e| error_map::from_transport(provider, e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_limited(provider, response, max_bytes).await?;
        if !status.is_success() {
            return Err(error_map::from_response(
                provider,
                status.as_u16(),
                &headers,
                &body,
            ));
        }
        Ok(body)
    }
    .await;
    wait.add_since(start);
    result
}

/// Read a body, failing once it grows past `max_bytes` (a broken or hostile server).
async fn read_limited(
    provider: &'static str,
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<Bytes> {
    let too_big = || {
        AiError::new(
            ErrorKind::Decode,
            format!("the response body is larger than the {max_bytes}-byte limit"),
        )
        .with_provider(provider)
    };
    if response
        .content_length()
        .is_some_and(|n| n > max_bytes as u64)
    {
        return Err(too_big());
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| error_map::from_transport(provider, e))?
    {
        if body.len() + chunk.len() > max_bytes {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Send a request and return the response once its headers arrive (for streams). Non-success
/// statuses are read fully and mapped to errors.
pub async fn send_for_stream(
    provider: &'static str,
    request: reqwest::RequestBuilder,
    wait: &WaitClock,
) -> Result<reqwest::Response> {
    let start = Instant::now();
    let result = async {
        let response = request
            .send()
            .await
            .map_err(|e| error_map::from_transport(provider, e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let headers = response.headers().clone();
        // Error bodies are small; read at most 1 MiB of one and keep going without it otherwise.
        let body = read_limited(provider, response, 1024 * 1024)
            .await
            .unwrap_or_default();
        Err(error_map::from_response(
            provider,
            status.as_u16(),
            &headers,
            &body,
        ))
    }
    .await;
    wait.add_since(start);
    result
}
