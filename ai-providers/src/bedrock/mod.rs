//! AWS Bedrock (feature `bedrock`): chat through the Converse and ConverseStream APIs with
//! SigV4-signed requests (or a Bedrock API key), tool use, usage and AWS's exceptions mapped;
//! embeddings through InvokeModel for Amazon Titan and Cohere embedding models.
//!
//! ```no_run
//! # async fn run() -> ai_core::Result<()> {
//! use ai_core::{ChatModel, ChatRequest};
//! use ai_providers::bedrock::{AwsCredentials, BedrockProvider};
//! let creds = AwsCredentials::from_env_or_profile(&|k| std::env::var(k).ok())?;
//! let nova = BedrockProvider::in_region("us-east-1")
//!     .credentials(creds)
//!     .model("amazon.nova-lite-v1:0")
//!     .build()?;
//! let answer = nova.generate(ChatRequest::user("Hello").max_tokens(64)).await?;
//! println!("{}", answer.text());
//! # Ok(()) }
//! ```

pub mod auth;
pub mod decode;
pub mod encode;

use std::sync::Arc;
use std::time::SystemTime;

use ai_core::{
    AiError, Capabilities, ChatModel, ChatRequest, ChatResponse, ChatStream, Embedding,
    EmbeddingModel, ErrorKind, Result, WaitClock,
};
use async_trait::async_trait;
use futures::TryStreamExt;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

pub use auth::{AwsCredentials, CredentialSource, SharedCredentialSource};

use crate::error_map::{self, decode_error};
use crate::http::{self, HttpOptions};

const PROVIDER: &str = "bedrock";

/// Characters kept as they are in a model id inside the URL path (`:` becomes `%3A`).
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[derive(Clone)]
enum Auth {
    SigV4(SharedCredentialSource),
    ApiKey(SecretString),
    Missing,
}

/// Builds a [`BedrockProvider`].
#[derive(Clone)]
pub struct BedrockBuilder {
    region: String,
    base_url: Option<String>,
    auth: Auth,
    model: String,
    embed_model: String,
    http: HttpOptions,
}

impl std::fmt::Debug for BedrockBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BedrockBuilder")
            .field("region", &self.region)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl BedrockBuilder {
    /// The chat model id (`amazon.nova-lite-v1:0`, `anthropic.claude-…`, an inference profile).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }
    /// The embedding model id (default `amazon.titan-embed-text-v2:0`; `cohere.embed-…` too).
    pub fn embed_model(mut self, model: impl Into<String>) -> Self {
        self.embed_model = model.into();
        self
    }
    /// Sign requests with these credentials.
    pub fn credentials(mut self, creds: AwsCredentials) -> Self {
        self.auth = Auth::SigV4(Arc::new(creds));
        self
    }
    /// Sign requests with credentials from `source` (rotating ones).
    pub fn credential_source(mut self, source: SharedCredentialSource) -> Self {
        self.auth = Auth::SigV4(source);
        self
    }
    /// A Bedrock API key (bearer token) instead of SigV4.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.auth = Auth::ApiKey(SecretString::from(key.into()));
        self
    }
    /// Another endpoint (a VPC endpoint, a proxy, a mock); default
    /// `https://bedrock-runtime.{region}.amazonaws.com`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }
    /// Timeouts and limits.
    pub fn http_options(mut self, opts: HttpOptions) -> Self {
        self.http = opts;
        self
    }

    /// The provider.
    ///
    /// # Errors
    /// `Config` for a bad URL or missing credentials.
    pub fn build(self) -> Result<BedrockProvider> {
        if matches!(self.auth, Auth::Missing) {
            return Err(AiError::config(
                "no credentials: call .credentials(..), .credential_source(..) or .api_key(..)",
            ));
        }
        let base = self
            .base_url
            .clone()
            .unwrap_or_else(|| format!("https://bedrock-runtime.{}.amazonaws.com", self.region));
        let parsed = reqwest::Url::parse(&base)
            .map_err(|e| AiError::config(format!("invalid base URL `{base}`: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(AiError::config("the base URL must be http or https"));
        }
        Ok(BedrockProvider {
            shared: Arc::new(Shared {
                client: http::build_client(&self.http)?,
                base: base.trim_end_matches('/').to_owned(),
                region: self.region,
                auth: self.auth,
                embed_model: self.embed_model,
                http: self.http,
                capabilities: Capabilities {
                    provider: PROVIDER.to_owned(),
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
    base: String,
    region: String,
    auth: Auth,
    embed_model: String,
    http: HttpOptions,
    capabilities: Capabilities,
}

/// Chat and embeddings on AWS Bedrock. Cheap to clone.
#[derive(Clone)]
pub struct BedrockProvider {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for BedrockProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BedrockProvider")
            .field("region", &self.shared.region)
            .field("model", &self.shared.capabilities.model)
            .finish_non_exhaustive()
    }
}

impl BedrockProvider {
    /// Bedrock in `region`; add credentials and a model.
    pub fn in_region(region: impl Into<String>) -> BedrockBuilder {
        BedrockBuilder {
            region: region.into(),
            base_url: None,
            auth: Auth::Missing,
            model: String::new(),
            embed_model: "amazon.titan-embed-text-v2:0".into(),
            http: HttpOptions::default(),
        }
    }

    /// A signed POST of `body` to `/model/{model}/{action}`.
    async fn post(
        &self,
        model: &str,
        action: &str,
        body: &Value,
        accept: &str,
    ) -> Result<reqwest::RequestBuilder> {
        let s = &self.shared;
        let url = format!(
            "{}/model/{}/{action}",
            s.base,
            utf8_percent_encode(model, PATH_SEGMENT)
        );
        let bytes = serde_json::to_vec(body).map_err(|e| {
            AiError::new(
                ErrorKind::BadRequest,
                format!("could not encode the request: {e}"),
            )
        })?;
        let mut b = s
            .client
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, accept);
        let secret = |v: &str| -> Result<HeaderValue> {
            let mut h = HeaderValue::from_str(v)
                .map_err(|_| AiError::config("a credential contains invalid characters"))?;
            h.set_sensitive(true);
            Ok(h)
        };
        match &s.auth {
            Auth::ApiKey(k) => {
                b = b.header(
                    reqwest::header::AUTHORIZATION,
                    secret(&format!("Bearer {}", k.expose_secret()))?,
                );
            }
            Auth::SigV4(source) => {
                let creds = source.credentials().await?;
                let signed = auth::sign(
                    &creds,
                    &s.region,
                    "POST",
                    &url,
                    &[("content-type", "application/json"), ("accept", accept)],
                    &bytes,
                    SystemTime::now(),
                )?;
                for (k, v) in signed {
                    b = b.header(k, secret(&v)?);
                }
            }
            Auth::Missing => return Err(AiError::config("no credentials")),
        }
        Ok(b.body(bytes))
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

    async fn invoke(&self, body: &Value, wait: &WaitClock) -> Result<Value> {
        let s = &self.shared;
        let b = self
            .post(&s.embed_model, "invoke", body, "application/json")
            .await?
            .timeout(s.http.request_timeout);
        let bytes = http::send_and_read(PROVIDER, b, wait, s.http.max_response_bytes).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| decode_error(PROVIDER, "embedding response", e, &bytes))
    }

    fn is_cohere(&self) -> bool {
        self.shared.embed_model.contains("cohere.embed")
    }
}

#[async_trait]
impl ChatModel for BedrockProvider {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        let body = encode::encode(&request)?;
        let b = self
            .post(
                self.model_for(&request)?,
                "converse",
                &body,
                "application/json",
            )
            .await?
            .timeout(self.shared.http.request_timeout);
        let bytes = http::send_and_read(
            PROVIDER,
            b,
            &request.metadata.wait,
            self.shared.http.max_response_bytes,
        )
        .await?;
        decode::decode_response(PROVIDER, &bytes, request.keep_raw)
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let body = encode::encode(&request)?;
        let b = self
            .post(
                self.model_for(&request)?,
                "converse-stream",
                &body,
                "application/vnd.amazon.eventstream",
            )
            .await?;
        let response = http::send_for_stream(PROVIDER, b, &request.metadata.wait).await?;
        let bytes = response
            .bytes_stream()
            .map_err(|e| error_map::from_transport(PROVIDER, e));
        Ok(decode::decode_stream(PROVIDER, bytes))
    }

    fn capabilities(&self) -> &Capabilities {
        &self.shared.capabilities
    }
}

#[async_trait]
impl EmbeddingModel for BedrockProvider {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Embedding>> {
        let wait = WaitClock::default();
        let mut out = Vec::with_capacity(texts.len());
        if self.is_cohere() {
            for chunk in texts.chunks(self.max_batch()) {
                let v = self
                    .invoke(
                        &json!({ "texts": chunk, "input_type": "search_document", "embedding_types": ["float"] }),
                        &wait,
                    )
                    .await?;
                let rows = v["embeddings"]["float"]
                    .as_array()
                    .or_else(|| v["embeddings"].as_array())
                    .cloned()
                    .unwrap_or_default();
                out.extend(error_map::float_rows(
                    PROVIDER,
                    &rows,
                    chunk.len(),
                    &v.to_string(),
                )?);
            }
        } else {
            // Titan embeds one text per call.
            for t in texts {
                let v = self.invoke(&json!({ "inputText": t }), &wait).await?;
                let row = [v["embedding"].clone()];
                out.extend(error_map::float_rows(PROVIDER, &row, 1, &v.to_string())?);
            }
        }
        Ok(out)
    }

    fn dimensions(&self) -> usize {
        0
    }

    fn max_batch(&self) -> usize {
        if self.is_cohere() { 96 } else { 1 }
    }

    fn model_name(&self) -> &str {
        &self.shared.embed_model
    }
}
