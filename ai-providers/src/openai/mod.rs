//! OpenAI Chat Completions and Embeddings, also serving Azure OpenAI and any OpenAI-compatible
//! server (vLLM, TGI, llama.cpp, Ollama, LM Studio).
//!
//! ```no_run
//! use std::sync::Arc;
//! use ai_core::{ChatModel, ChatRequest};
//! use ai_providers::openai::OpenAiProvider;
//!
//! # async fn run() -> ai_core::Result<()> {
//! // A local llama.cpp / vLLM / Ollama server:
//! let local = OpenAiProvider::compatible("http://127.0.0.1:8080/v1", "llamacpp")
//!     .model("smollm2-135m-instruct")
//!     .build()?;
//! // OpenAI itself:
//! let openai = OpenAiProvider::openai(std::env::var("OPENAI_API_KEY").unwrap_or_default())
//!     .model("gpt-4o-mini")
//!     .build()?;
//! let answer = local.generate(ChatRequest::user("Hello!")).await?;
//! println!("{}", answer.text());
//! # Ok(()) }
//! ```

mod decode;
mod encode;
mod wire;

use std::sync::Arc;
use std::time::Instant;

use ai_core::{
    AiError, Capabilities, ChatModel, ChatRequest, ChatResponse, ChatStream, Embedding,
    EmbeddingModel, ErrorKind, Result,
};
use async_trait::async_trait;
use futures::TryStreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

pub use decode::{ChunkDecoder, decode_response, decode_stream};
pub use encode::{EncodeOptions, MaxTokensField, encode};

use crate::http::{self, HttpOptions};

/// Which service speaks the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flavor {
    /// OpenAI's own API.
    OpenAi,
    /// Azure OpenAI: deployment URLs and an `api-version` query parameter.
    Azure {
        /// The deployment name (stands in for the model).
        deployment: String,
        /// The `api-version`, e.g. `2024-10-21`.
        api_version: String,
    },
    /// Any OpenAI-compatible server.
    Compatible,
}

/// How to authenticate.
#[derive(Clone)]
pub enum Auth {
    /// No credentials (local servers).
    None,
    /// `Authorization: Bearer …` (OpenAI, compatible servers, Azure Entra ID tokens).
    Bearer(SecretString),
    /// Azure's `api-key` header.
    AzureApiKey(SecretString),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::None => "None",
            Auth::Bearer(_) => "Bearer([redacted])",
            Auth::AzureApiKey(_) => "AzureApiKey([redacted])",
        })
    }
}

/// Builds an [`OpenAiProvider`].
#[derive(Debug, Clone)]
pub struct OpenAiBuilder {
    flavor: Flavor,
    base_url: String,
    auth: Auth,
    provider_name: &'static str,
    model: String,
    embedding_model: Option<String>,
    embedding_dimensions: Option<usize>,
    max_tokens_field: Option<MaxTokensField>,
    stream_usage: bool,
    http: HttpOptions,
    client: Option<reqwest::Client>,
    headers: Vec<(String, String)>,
}

impl OpenAiBuilder {
    fn new(flavor: Flavor, base_url: String, auth: Auth, provider_name: &'static str) -> Self {
        Self {
            flavor,
            base_url,
            auth,
            provider_name,
            model: String::new(),
            embedding_model: None,
            embedding_dimensions: None,
            max_tokens_field: None,
            stream_usage: true,
            http: HttpOptions::default(),
            client: None,
            headers: Vec::new(),
        }
    }

    /// The default chat model (requests may name another).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// The model used by [`EmbeddingModel::embed`].
    pub fn embedding_model(mut self, model: impl Into<String>) -> Self {
        self.embedding_model = Some(model.into());
        self
    }

    /// Ask for vectors of this length (OpenAI `dimensions`), and report it.
    pub fn embedding_dimensions(mut self, n: usize) -> Self {
        self.embedding_dimensions = Some(n);
        self
    }

    /// Override the base URL (for OpenAI: a proxy or gateway).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Set the credentials.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Force the name of the output-limit field.
    pub fn max_tokens_field(mut self, field: MaxTokensField) -> Self {
        self.max_tokens_field = Some(field);
        self
    }

    /// Whether to send `stream_options.include_usage` (default on; turn off for servers that
    /// reject the field).
    pub fn stream_usage(mut self, on: bool) -> Self {
        self.stream_usage = on;
        self
    }

    /// Timeouts for the client this builder creates.
    pub fn http_options(mut self, opts: HttpOptions) -> Self {
        self.http = opts;
        self
    }

    /// Use the caller's `reqwest` client (its own timeouts, proxy and TLS settings apply).
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// An extra header on every request (for example `OpenAI-Organization`).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Validate and build.
    pub fn build(self) -> Result<OpenAiProvider> {
        let base = url::Url::parse(self.base_url.trim_end_matches('/'))
            .map_err(|e| AiError::config(format!("invalid base URL `{}`: {e}", self.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(AiError::config(format!(
                "base URL must be http or https, got `{}`",
                base.scheme()
            )));
        }
        let base = base.as_str().trim_end_matches('/').to_string();
        let (chat_url, embed_url) = match &self.flavor {
            Flavor::Azure {
                deployment,
                api_version,
            } => {
                let dep = format!("{base}/openai/deployments/{deployment}");
                (
                    format!("{dep}/chat/completions?api-version={api_version}"),
                    format!("{dep}/embeddings?api-version={api_version}"),
                )
            }
            _ => (
                format!("{base}/chat/completions"),
                format!("{base}/embeddings"),
            ),
        };
        if self.model.is_empty() && !matches!(self.flavor, Flavor::Azure { .. }) {
            return Err(AiError::config(
                "no model configured: call .model(\"…\") or set AI_MODEL",
            ));
        }
        let mut headers = HeaderMap::new();
        let secret_header =
            |name: &'static str, value: String| -> Result<(HeaderName, HeaderValue)> {
                let mut v = HeaderValue::from_str(&value).map_err(|_| {
                    AiError::config(format!("the {name} credential contains invalid characters"))
                })?;
                v.set_sensitive(true);
                Ok((HeaderName::from_static(name), v))
            };
        match &self.auth {
            Auth::None => {}
            Auth::Bearer(token) => {
                let (k, v) =
                    secret_header("authorization", format!("Bearer {}", token.expose_secret()))?;
                headers.insert(k, v);
            }
            Auth::AzureApiKey(key) => {
                let (k, v) = secret_header("api-key", key.expose_secret().to_string())?;
                headers.insert(k, v);
            }
        }
        for (k, v) in &self.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| AiError::config(format!("invalid header name `{k}`")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| AiError::config(format!("invalid value for header `{k}`")))?;
            headers.insert(name, value);
        }
        let client = match self.client {
            Some(c) => c,
            None => http::build_client(&self.http)?,
        };
        let model = match (&self.flavor, self.model.is_empty()) {
            (Flavor::Azure { deployment, .. }, true) => deployment.clone(),
            _ => self.model,
        };
        let capabilities = Capabilities {
            provider: self.provider_name.to_string(),
            model: model.clone(),
            streaming: true,
            tools: true,
            parallel_tool_calls: true,
            json_mode: true,
            json_schema: true,
            vision: true,
            context_window: None,
        };
        let max_tokens_field = self.max_tokens_field.unwrap_or(match self.flavor {
            Flavor::OpenAi => MaxTokensField::MaxCompletionTokens,
            _ => MaxTokensField::MaxTokens,
        });
        // Parsed once here rather than on every request.
        let parse = |u: String| {
            reqwest::Url::parse(&u).map_err(|e| AiError::config(format!("invalid URL `{u}`: {e}")))
        };
        Ok(OpenAiProvider {
            shared: Arc::new(Shared {
                client,
                chat_url: parse(chat_url)?,
                embed_url: parse(embed_url)?,
                headers,
                provider: self.provider_name,
                embedding_model: self.embedding_model.unwrap_or_else(|| model.clone()),
                embedding_dimensions: self.embedding_dimensions,
                request_timeout: self.http.request_timeout,
                max_response_bytes: self.http.max_response_bytes,
                encode: EncodeOptions {
                    max_tokens_field,
                    stream_usage: self.stream_usage,
                },
                capabilities,
            }),
        })
    }
}

struct Shared {
    client: reqwest::Client,
    chat_url: reqwest::Url,
    embed_url: reqwest::Url,
    headers: HeaderMap,
    provider: &'static str,
    embedding_model: String,
    embedding_dimensions: Option<usize>,
    request_timeout: std::time::Duration,
    max_response_bytes: usize,
    encode: EncodeOptions,
    capabilities: Capabilities,
}

/// A chat and embedding model speaking the OpenAI protocol. Cheap to clone.
#[derive(Clone)]
pub struct OpenAiProvider {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiProvider")
            .field("provider", &self.shared.provider)
            .field("chat_url", &self.shared.chat_url.as_str())
            .field("model", &self.shared.capabilities.model)
            .finish_non_exhaustive()
    }
}

/// The default OpenAI API base URL.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

impl OpenAiProvider {
    /// OpenAI's API with an API key.
    pub fn openai(api_key: impl Into<String>) -> OpenAiBuilder {
        OpenAiBuilder::new(
            Flavor::OpenAi,
            OPENAI_BASE_URL.into(),
            Auth::Bearer(SecretString::from(api_key.into())),
            "openai",
        )
    }

    /// Azure OpenAI: `endpoint` is `https://NAME.openai.azure.com`; authenticate with
    /// [`Auth::AzureApiKey`] or an Entra ID token as [`Auth::Bearer`].
    pub fn azure(
        endpoint: impl Into<String>,
        deployment: impl Into<String>,
        api_version: impl Into<String>,
        auth: Auth,
    ) -> OpenAiBuilder {
        OpenAiBuilder::new(
            Flavor::Azure {
                deployment: deployment.into(),
                api_version: api_version.into(),
            },
            endpoint.into(),
            auth,
            "azure.ai.openai",
        )
    }

    /// Any OpenAI-compatible server at `base_url` (ending in `/v1` for most servers).
    /// `provider_name` labels metrics and spans (`vllm`, `tgi`, `llamacpp`, `ollama`…).
    pub fn compatible(base_url: impl Into<String>, provider_name: &'static str) -> OpenAiBuilder {
        OpenAiBuilder::new(
            Flavor::Compatible,
            base_url.into(),
            Auth::None,
            provider_name,
        )
    }

    fn post(&self, url: &reqwest::Url, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.shared
            .client
            .post(url.clone())
            .headers(self.shared.headers.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
    }

    fn body(&self, request: &ChatRequest, stream: bool) -> Result<Vec<u8>> {
        let model = request
            .model
            .as_deref()
            .unwrap_or(&self.shared.capabilities.model);
        encode(request, model, stream, self.shared.encode).map_err(|e| {
            AiError::new(
                ErrorKind::BadRequest,
                format!("could not encode the request: {e}"),
            )
        })
    }
}

#[async_trait]
impl ChatModel for OpenAiProvider {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        let body = self.body(&request, false)?;
        let builder = self
            .post(&self.shared.chat_url, body)
            .timeout(self.shared.request_timeout);
        let bytes = http::send_and_read(
            self.shared.provider,
            builder,
            &request.metadata.wait,
            self.shared.max_response_bytes,
        )
        .await?;
        decode_response(self.shared.provider, &bytes, request.keep_raw)
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let body = self.body(&request, true)?;
        let builder = self
            .post(&self.shared.chat_url, body)
            .header(reqwest::header::ACCEPT, "text/event-stream");
        let response =
            http::send_for_stream(self.shared.provider, builder, &request.metadata.wait).await?;
        let provider = self.shared.provider;
        let bytes = response
            .bytes_stream()
            .map_err(move |e| crate::error_map::from_transport(provider, e));
        Ok(decode_stream(provider, bytes))
    }

    fn capabilities(&self) -> &Capabilities {
        &self.shared.capabilities
    }
}

fn decode_embedding(provider: &'static str, value: &serde_json::Value) -> Result<Embedding> {
    match value {
        serde_json::Value::Array(items) => items
            .iter()
            .map(|x| {
                x.as_f64().map(|f| f as f32).ok_or_else(|| {
                    AiError::decode("an embedding holds a non-number", x.to_string())
                        .with_provider(provider)
                })
            })
            .collect(),
        other => Err(AiError::decode(
            "embeddings must be arrays of floats (encoding_format=float)",
            other.to_string(),
        )
        .with_provider(provider)),
    }
}

#[async_trait]
impl EmbeddingModel for OpenAiProvider {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Embedding>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let mut body = serde_json::json!({
            "model": self.shared.embedding_model,
            "input": texts,
            "encoding_format": "float",
        });
        if let Some(d) = self.shared.embedding_dimensions {
            body["dimensions"] = serde_json::json!(d);
        }
        let body = serde_json::to_vec(&body)
            .map_err(|e| AiError::new(ErrorKind::BadRequest, format!("could not encode: {e}")))?;
        let wait = ai_core::WaitClock::new();
        let start = Instant::now();
        let builder = self
            .post(&self.shared.embed_url, body)
            .timeout(self.shared.request_timeout);
        let bytes = http::send_and_read(
            self.shared.provider,
            builder,
            &wait,
            self.shared.max_response_bytes,
        )
        .await?;
        tracing::trace!(
            elapsed_ms = start.elapsed().as_millis() as u64,
            "embeddings received"
        );
        let parsed: wire::EmbeddingResponse = serde_json::from_slice(&bytes).map_err(|e| {
            AiError::decode(
                format!("could not decode the embeddings response: {e}"),
                String::from_utf8_lossy(&bytes).into_owned(),
            )
            .with_provider(self.shared.provider)
        })?;
        if parsed.data.len() != texts.len() {
            return Err(AiError::decode(
                format!(
                    "asked for {} embeddings, received {}",
                    texts.len(),
                    parsed.data.len()
                ),
                String::from_utf8_lossy(&bytes).into_owned(),
            )
            .with_provider(self.shared.provider));
        }
        let mut out: Vec<Option<Embedding>> = vec![None; texts.len()];
        for (pos, item) in parsed.data.iter().enumerate() {
            let index = item.index.unwrap_or(pos);
            let slot = out.get_mut(index).ok_or_else(|| {
                AiError::decode(format!("embedding index {index} out of range"), "")
                    .with_provider(self.shared.provider)
            })?;
            *slot = Some(decode_embedding(self.shared.provider, &item.embedding)?);
        }
        out.into_iter()
            .enumerate()
            .map(|(i, e)| {
                e.ok_or_else(|| {
                    AiError::decode(format!("no embedding for input {i}"), "")
                        .with_provider(self.shared.provider)
                })
            })
            .collect()
    }

    fn dimensions(&self) -> usize {
        self.shared.embedding_dimensions.unwrap_or(0)
    }

    fn max_batch(&self) -> usize {
        2048
    }

    fn model_name(&self) -> &str {
        &self.shared.embedding_model
    }
}
