//! Anthropic's Messages API (feature `anthropic`): chat, streaming, tool use, images,
//! thinking blocks, prompt caching, usage with cache tokens. Also any server that speaks the
//! Messages API (llama.cpp's `/v1/messages`).
//!
//! ```no_run
//! # async fn run() -> ai_core::Result<()> {
//! use ai_core::{ChatModel, ChatRequest};
//! use ai_providers::anthropic::AnthropicProvider;
//! let claude = AnthropicProvider::anthropic(std::env::var("ANTHROPIC_API_KEY").unwrap_or_default())
//!     .model("claude-sonnet-4-5")
//!     .build()?;
//! let answer = claude.generate(ChatRequest::user("Hello").max_tokens(64)).await?;
//! println!("{}", answer.text());
//! # Ok(()) }
//! ```

pub mod decode;
pub mod encode;

use std::sync::Arc;

use ai_core::{
    AiError, Capabilities, ChatModel, ChatRequest, ChatResponse, ChatStream, ErrorKind, Result,
};
use async_trait::async_trait;
use futures::TryStreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::http::{self, HttpOptions};

/// The Anthropic API base URL.
pub const ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
/// The `anthropic-version` header sent by default.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Builds an [`AnthropicProvider`].
#[derive(Clone)]
pub struct AnthropicBuilder {
    base_url: String,
    api_key: Option<SecretString>,
    version: String,
    model: String,
    provider: &'static str,
    http: HttpOptions,
    headers: Vec<(String, String)>,
}

impl std::fmt::Debug for AnthropicBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnthropicBuilder")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl AnthropicBuilder {
    /// The model (`claude-…`).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Another base URL (a proxy, a gateway, a compatible server); `/v1/messages` is appended.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Another `anthropic-version`.
    pub fn version(mut self, v: impl Into<String>) -> Self {
        self.version = v.into();
        self
    }

    /// Timeouts and limits.
    pub fn http_options(mut self, opts: HttpOptions) -> Self {
        self.http = opts;
        self
    }

    /// An extra header on every request (for example `anthropic-beta`).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The provider.
    ///
    /// # Errors
    /// `Config` for a bad URL, a missing model or a credential with invalid characters.
    pub fn build(self) -> Result<AnthropicProvider> {
        let base = reqwest::Url::parse(&self.base_url)
            .map_err(|e| AiError::config(format!("invalid base URL `{}`: {e}", self.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(AiError::config("the base URL must be http or https"));
        }
        if self.model.is_empty() {
            return Err(AiError::config(
                "no model configured: call .model(\"…\") or set AI_MODEL",
            ));
        }
        let root = base
            .as_str()
            .trim_end_matches('/')
            .trim_end_matches("/v1")
            .to_owned();
        let url = reqwest::Url::parse(&format!("{root}/v1/messages"))
            .map_err(|e| AiError::config(format!("invalid messages URL: {e}")))?;
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            let mut v = HeaderValue::from_str(key.expose_secret())
                .map_err(|_| AiError::config("the API key contains invalid characters"))?;
            v.set_sensitive(true);
            headers.insert(HeaderName::from_static("x-api-key"), v);
        }
        let version = HeaderValue::from_str(&self.version)
            .map_err(|_| AiError::config("invalid anthropic-version"))?;
        headers.insert(HeaderName::from_static("anthropic-version"), version);
        for (k, v) in &self.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| AiError::config(format!("invalid header name `{k}`")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| AiError::config(format!("invalid value for header `{k}`")))?;
            headers.insert(name, value);
        }
        Ok(AnthropicProvider {
            shared: Arc::new(Shared {
                client: http::build_client(&self.http)?,
                url,
                headers,
                provider: self.provider,
                request_timeout: self.http.request_timeout,
                max_response_bytes: self.http.max_response_bytes,
                capabilities: Capabilities {
                    provider: self.provider.to_owned(),
                    model: self.model,
                    streaming: true,
                    tools: true,
                    parallel_tool_calls: true,
                    json_mode: true,
                    json_schema: true,
                    vision: true,
                    context_window: None,
                },
            }),
        })
    }
}

struct Shared {
    client: reqwest::Client,
    url: reqwest::Url,
    headers: HeaderMap,
    provider: &'static str,
    request_timeout: std::time::Duration,
    max_response_bytes: usize,
    capabilities: Capabilities,
}

/// A chat model on the Anthropic Messages API. Cheap to clone.
#[derive(Clone)]
pub struct AnthropicProvider {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for AnthropicProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnthropicProvider")
            .field("url", &self.shared.url.as_str())
            .field("model", &self.shared.capabilities.model)
            .finish_non_exhaustive()
    }
}

impl AnthropicProvider {
    /// Anthropic's API with an API key.
    pub fn anthropic(api_key: impl Into<String>) -> AnthropicBuilder {
        AnthropicBuilder {
            base_url: ANTHROPIC_BASE_URL.into(),
            api_key: Some(SecretString::from(api_key.into())),
            version: ANTHROPIC_VERSION.into(),
            model: String::new(),
            provider: "anthropic",
            http: HttpOptions::default(),
            headers: Vec::new(),
        }
    }

    /// A server speaking the Messages API at `base_url` without an API key (llama.cpp);
    /// `provider_name` labels metrics and spans.
    pub fn compatible(
        base_url: impl Into<String>,
        provider_name: &'static str,
    ) -> AnthropicBuilder {
        AnthropicBuilder {
            base_url: base_url.into(),
            api_key: None,
            version: ANTHROPIC_VERSION.into(),
            model: String::new(),
            provider: provider_name,
            http: HttpOptions::default(),
            headers: Vec::new(),
        }
    }

    fn request(&self, request: &ChatRequest, stream: bool) -> Result<reqwest::RequestBuilder> {
        let model = request
            .model
            .as_deref()
            .unwrap_or(&self.shared.capabilities.model);
        let body = encode::encode(request, model, stream)?;
        let bytes = serde_json::to_vec(&body).map_err(|e| {
            AiError::new(
                ErrorKind::BadRequest,
                format!("could not encode the request: {e}"),
            )
        })?;
        Ok(self
            .shared
            .client
            .post(self.shared.url.clone())
            .headers(self.shared.headers.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bytes))
    }
}

#[async_trait]
impl ChatModel for AnthropicProvider {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        let builder = self
            .request(&request, false)?
            .timeout(self.shared.request_timeout);
        let bytes = http::send_and_read(
            self.shared.provider,
            builder,
            &request.metadata.wait,
            self.shared.max_response_bytes,
        )
        .await?;
        decode::decode_response(self.shared.provider, &bytes, request.keep_raw)
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let builder = self
            .request(&request, true)?
            .header(reqwest::header::ACCEPT, "text/event-stream");
        let response =
            http::send_for_stream(self.shared.provider, builder, &request.metadata.wait).await?;
        let provider = self.shared.provider;
        let bytes = response
            .bytes_stream()
            .map_err(move |e| crate::error_map::from_transport(provider, e));
        Ok(decode::decode_stream(provider, bytes))
    }

    fn capabilities(&self) -> &Capabilities {
        &self.shared.capabilities
    }
}
