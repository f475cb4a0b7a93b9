//! Google Gemini (feature `gemini`): the Gemini API of Google AI Studio (`x-goog-api-key`) and
//! Vertex AI (OAuth bearer tokens from a service-account key, application default
//! credentials or the caller). Chat through `generateContent` and
//! `streamGenerateContent?alt=sse` with function calling, JSON schema output and safety blocks
//! mapped to `ContentFiltered`; embeddings through `embedContent` / `batchEmbedContents` (AI
//! Studio) or `predict` (Vertex AI).
//!
//! ```no_run
//! # async fn run() -> ai_core::Result<()> {
//! use ai_core::{ChatModel, ChatRequest};
//! use ai_providers::gemini::{GeminiProvider, GoogleCredentials};
//! let studio = GeminiProvider::ai_studio(std::env::var("GEMINI_API_KEY").unwrap_or_default())
//!     .model("gemini-2.5-flash")
//!     .build()?;
//! let vertex = GeminiProvider::vertex("my-project", "europe-west4")
//!     .credentials(GoogleCredentials::application_default()?)
//!     .model("gemini-2.5-flash")
//!     .build()?;
//! let answer = studio.generate(ChatRequest::user("Hello").max_tokens(64)).await?;
//! println!("{}", answer.text());
//! # let _ = vertex;
//! # Ok(()) }
//! ```

pub mod auth;
pub mod decode;
pub mod encode;

use std::sync::Arc;

use ai_core::{
    AiError, Capabilities, ChatModel, ChatRequest, ChatResponse, ChatStream, Embedding,
    EmbeddingModel, ErrorKind, Result, WaitClock,
};
use async_trait::async_trait;
use futures::TryStreamExt;
use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

pub use auth::{GoogleCredentials, SharedTokenSource, StaticToken, TokenSource};

use crate::error_map::{self, decode_error};
use crate::http::{self, HttpOptions};

/// The Gemini API (AI Studio) base URL.
pub const AI_STUDIO_BASE_URL: &str = "https://generativelanguage.googleapis.com";

#[derive(Clone)]
enum Auth {
    ApiKey(SecretString),
    Tokens(SharedTokenSource),
    Missing,
}

/// Builds a [`GeminiProvider`].
#[derive(Clone)]
pub struct GeminiBuilder {
    vertex: Option<(String, String)>,
    base_url: Option<String>,
    api_version: String,
    auth: Auth,
    model: String,
    embed_model: String,
    task_type: Option<String>,
    dimensions: Option<u32>,
    http: HttpOptions,
}

impl std::fmt::Debug for GeminiBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeminiBuilder")
            .field("vertex", &self.vertex)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl GeminiBuilder {
    /// The chat model (`gemini-2.5-flash`…).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }
    /// The embedding model (default `gemini-embedding-001`).
    pub fn embed_model(mut self, model: impl Into<String>) -> Self {
        self.embed_model = model.into();
        self
    }
    /// `taskType` for embeddings (`RETRIEVAL_DOCUMENT`, `RETRIEVAL_QUERY`…).
    pub fn task_type(mut self, t: impl Into<String>) -> Self {
        self.task_type = Some(t.into());
        self
    }
    /// Truncate embeddings to this many dimensions (`outputDimensionality`).
    pub fn dimensions(mut self, n: u32) -> Self {
        self.dimensions = Some(n);
        self
    }
    /// Another base URL (a proxy, a private endpoint, a mock).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }
    /// Another API version (default `v1beta` for AI Studio, `v1` for Vertex AI).
    pub fn api_version(mut self, v: impl Into<String>) -> Self {
        self.api_version = v.into();
        self
    }
    /// Vertex AI: tokens from a credentials file or application default credentials.
    pub fn credentials(mut self, creds: GoogleCredentials) -> Self {
        self.auth = Auth::Tokens(Arc::new(creds));
        self
    }
    /// Vertex AI: tokens from any source (a caller-managed token, workload identity…).
    pub fn token_source(mut self, source: SharedTokenSource) -> Self {
        self.auth = Auth::Tokens(source);
        self
    }
    /// Vertex AI: a fixed access token the caller refreshes.
    pub fn access_token(self, token: impl Into<String>) -> Self {
        self.token_source(Arc::new(StaticToken::new(token)))
    }
    /// Timeouts and limits.
    pub fn http_options(mut self, opts: HttpOptions) -> Self {
        self.http = opts;
        self
    }

    /// The provider.
    ///
    /// # Errors
    /// `Config` for a bad URL, a missing model or credential.
    pub fn build(self) -> Result<GeminiProvider> {
        if self.model.is_empty() && self.embed_model.is_empty() {
            return Err(AiError::config(
                "no model configured: call .model(\"…\") or set AI_MODEL",
            ));
        }
        let (provider, models_url) = match &self.vertex {
            Some((project, location)) => {
                let host = if location == "global" {
                    "https://aiplatform.googleapis.com".to_owned()
                } else {
                    format!("https://{location}-aiplatform.googleapis.com")
                };
                let root = self.base_url.clone().unwrap_or(host);
                (
                    "vertex",
                    format!(
                        "{}/{}/projects/{project}/locations/{location}/publishers/google/models",
                        root.trim_end_matches('/'),
                        self.api_version
                    ),
                )
            }
            None => {
                let root = self
                    .base_url
                    .clone()
                    .unwrap_or_else(|| AI_STUDIO_BASE_URL.into());
                (
                    "gemini",
                    format!("{}/{}/models", root.trim_end_matches('/'), self.api_version),
                )
            }
        };
        let parsed = reqwest::Url::parse(&models_url)
            .map_err(|e| AiError::config(format!("invalid base URL `{models_url}`: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(AiError::config("the base URL must be http or https"));
        }
        if matches!(self.auth, Auth::Missing) {
            return Err(AiError::config(
                "no credentials: Vertex AI needs .credentials(…), .access_token(…) or .token_source(…)",
            ));
        }
        Ok(GeminiProvider {
            shared: Arc::new(Shared {
                client: http::build_client(&self.http)?,
                models_url,
                auth: self.auth,
                provider,
                vertex: self.vertex.is_some(),
                embed_model: self.embed_model,
                task_type: self.task_type,
                dimensions: self.dimensions,
                http: self.http,
                capabilities: Capabilities {
                    provider: provider.to_owned(),
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
    models_url: String,
    auth: Auth,
    provider: &'static str,
    vertex: bool,
    embed_model: String,
    task_type: Option<String>,
    dimensions: Option<u32>,
    http: HttpOptions,
    capabilities: Capabilities,
}

/// Gemini chat and embeddings on AI Studio or Vertex AI. Cheap to clone.
#[derive(Clone)]
pub struct GeminiProvider {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for GeminiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeminiProvider")
            .field("provider", &self.shared.provider)
            .field("model", &self.shared.capabilities.model)
            .finish_non_exhaustive()
    }
}

fn builder(vertex: Option<(String, String)>, auth: Auth, version: &str) -> GeminiBuilder {
    GeminiBuilder {
        vertex,
        base_url: None,
        api_version: version.into(),
        auth,
        model: String::new(),
        embed_model: "gemini-embedding-001".into(),
        task_type: None,
        dimensions: None,
        http: HttpOptions::default(),
    }
}

impl GeminiProvider {
    /// The Gemini API of Google AI Studio with an API key.
    pub fn ai_studio(api_key: impl Into<String>) -> GeminiBuilder {
        builder(
            None,
            Auth::ApiKey(SecretString::from(api_key.into())),
            "v1beta",
        )
    }

    /// Vertex AI in `project` and `location` (`us-central1`, `global`…); add credentials.
    pub fn vertex(project: impl Into<String>, location: impl Into<String>) -> GeminiBuilder {
        builder(Some((project.into(), location.into())), Auth::Missing, "v1")
    }

    async fn post(
        &self,
        model: &str,
        method: &str,
        body: &Value,
    ) -> Result<reqwest::RequestBuilder> {
        let url = format!("{}/{model}:{method}", self.shared.models_url);
        let bytes = serde_json::to_vec(body).map_err(|e| {
            AiError::new(
                ErrorKind::BadRequest,
                format!("could not encode the request: {e}"),
            )
        })?;
        let b = self
            .shared
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bytes);
        let (name, value) = match &self.shared.auth {
            Auth::ApiKey(k) => (
                HeaderName::from_static("x-goog-api-key"),
                k.expose_secret().to_owned(),
            ),
            Auth::Tokens(t) => (
                reqwest::header::AUTHORIZATION,
                format!("Bearer {}", t.token().await?.expose_secret()),
            ),
            Auth::Missing => return Err(AiError::config("no credentials")),
        };
        let mut v = HeaderValue::from_str(&value)
            .map_err(|_| AiError::config("the credential contains invalid characters"))?;
        v.set_sensitive(true);
        Ok(b.header(name, v))
    }

    fn model_for<'a>(&'a self, request: &'a ChatRequest) -> Result<&'a str> {
        let m = request
            .model
            .as_deref()
            .unwrap_or(&self.shared.capabilities.model);
        if m.is_empty() {
            return Err(AiError::config("no chat model configured"));
        }
        Ok(m)
    }

    async fn embed_call(&self, texts: &[String], wait: &WaitClock) -> Result<Vec<Embedding>> {
        let s = &self.shared;
        let model = s.embed_model.as_str();
        let (method, body) = if s.vertex {
            let instances: Vec<Value> = texts
                .iter()
                .map(|t| {
                    let mut o = json!({ "content": t });
                    if let Some(tt) = &s.task_type {
                        o["task_type"] = json!(tt);
                    }
                    o
                })
                .collect();
            let mut body = json!({ "instances": instances });
            if let Some(d) = s.dimensions {
                body["parameters"] = json!({ "outputDimensionality": d });
            }
            ("predict", body)
        } else {
            let one = |t: &String| {
                let mut o = json!({ "model": format!("models/{model}"), "content": { "parts": [{ "text": t }] } });
                if let Some(tt) = &s.task_type {
                    o["taskType"] = json!(tt);
                }
                if let Some(d) = s.dimensions {
                    o["outputDimensionality"] = json!(d);
                }
                o
            };
            if texts.len() == 1 {
                ("embedContent", one(&texts[0]))
            } else {
                (
                    "batchEmbedContents",
                    json!({ "requests": texts.iter().map(one).collect::<Vec<_>>() }),
                )
            }
        };
        let b = self
            .post(model, method, &body)
            .await?
            .timeout(s.http.request_timeout);
        let bytes = http::send_and_read(s.provider, b, wait, s.http.max_response_bytes).await?;
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| decode_error(s.provider, "embedding response", e, &bytes))?;
        let raw = String::from_utf8_lossy(&bytes);
        let rows: Vec<Value> = if s.vertex {
            v["predictions"]
                .as_array()
                .map(|p| {
                    p.iter()
                        .map(|x| x["embeddings"]["values"].clone())
                        .collect()
                })
                .unwrap_or_default()
        } else if let Some(e) = v.get("embedding") {
            vec![e["values"].clone()]
        } else {
            v["embeddings"]
                .as_array()
                .map(|p| p.iter().map(|x| x["values"].clone()).collect())
                .unwrap_or_default()
        };
        error_map::float_rows(s.provider, &rows, texts.len(), &raw)
    }
}

#[async_trait]
impl ChatModel for GeminiProvider {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        let body = encode::encode(&request)?;
        let b = self
            .post(self.model_for(&request)?, "generateContent", &body)
            .await?
            .timeout(self.shared.http.request_timeout);
        let bytes = http::send_and_read(
            self.shared.provider,
            b,
            &request.metadata.wait,
            self.shared.http.max_response_bytes,
        )
        .await?;
        decode::decode_response(self.shared.provider, &bytes, request.keep_raw)
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let body = encode::encode(&request)?;
        let b = self
            .post(
                self.model_for(&request)?,
                "streamGenerateContent?alt=sse",
                &body,
            )
            .await?
            .header(reqwest::header::ACCEPT, "text/event-stream");
        let response =
            http::send_for_stream(self.shared.provider, b, &request.metadata.wait).await?;
        let provider = self.shared.provider;
        let bytes = response
            .bytes_stream()
            .map_err(move |e| error_map::from_transport(provider, e));
        Ok(decode::decode_stream(provider, bytes))
    }

    fn capabilities(&self) -> &Capabilities {
        &self.shared.capabilities
    }
}

#[async_trait]
impl EmbeddingModel for GeminiProvider {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Embedding>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let wait = WaitClock::default();
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(self.max_batch()) {
            out.extend(self.embed_call(chunk, &wait).await?);
        }
        Ok(out)
    }

    fn dimensions(&self) -> usize {
        self.shared.dimensions.map_or(0, |d| d as usize)
    }

    fn max_batch(&self) -> usize {
        if self.shared.vertex { 250 } else { 100 }
    }

    fn model_name(&self) -> &str {
        &self.shared.embed_model
    }
}
