//! Shared HTTP plumbing: client construction with timeouts, and reading responses.

use std::time::{Duration, Instant};

use ai_core::{AiError, Result, WaitClock};
use bytes::Bytes;

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
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(120),
            request_timeout: Duration::from_secs(600),
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

/// Send a request and read the whole body, counting the time on `wait`. Non-success statuses
/// become errors mapped by [`error_map::from_response`].
pub async fn send_and_read(
    provider: &'static str,
    request: reqwest::RequestBuilder,
    wait: &WaitClock,
) -> Result<Bytes> {
    let start = Instant::now();
    let result = async {
        let response = request
            .send()
            .await
            .map_err(|e| error_map::from_transport(provider, e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| error_map::from_transport(provider, e))?;
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
        let body = response.bytes().await.unwrap_or_default();
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
