//! Cohere's embed and rerank APIs (v2, feature `cohere`): an `EmbeddingModel` and a `Reranker`.
//!
//! ```no_run
//! # async fn run() -> ai_core::Result<()> {
//! use ai_core::Reranker;
//! let cohere = ai_providers::cohere::CohereProvider::cohere(std::env::var("COHERE_API_KEY").unwrap_or_default())
//!     .rerank_model("rerank-v3.5")
//!     .build()?;
//! let ranked = cohere.rerank("refunds", &["Refunds take 5 days.".into(), "Shipping is free.".into()]).await?;
//! # Ok(()) }
//! ```

use ai_core::{AiError, Embedding, EmbeddingModel, ErrorKind, Reranker, Result, Scored, WaitClock};
use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::http::{self, HttpOptions};

const PROVIDER: &str = "cohere";
/// Cohere's API base URL.
pub const COHERE_BASE_URL: &str = "https://api.cohere.com";

/// Builds a [`CohereProvider`].
#[derive(Clone)]
pub struct CohereBuilder {
    key: SecretString,
    base_url: String,
    embed_model: String,
    rerank_model: String,
    input_type: String,
    http: HttpOptions,
}

impl std::fmt::Debug for CohereBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CohereBuilder")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl CohereBuilder {
    /// The embedding model (default `embed-v4.0`).
    pub fn embed_model(mut self, m: impl Into<String>) -> Self {
        self.embed_model = m.into();
        self
    }
    /// The rerank model (default `rerank-v3.5`).
    pub fn rerank_model(mut self, m: impl Into<String>) -> Self {
        self.rerank_model = m.into();
        self
    }
    /// `input_type` for embeddings (`search_document` by default; `search_query` for queries).
    pub fn input_type(mut self, t: impl Into<String>) -> Self {
        self.input_type = t.into();
        self
    }
    /// Another base URL (a proxy, a mock).
    pub fn base_url(mut self, u: impl Into<String>) -> Self {
        self.base_url = u.into();
        self
    }
    /// Timeouts and limits.
    pub fn http_options(mut self, o: HttpOptions) -> Self {
        self.http = o;
        self
    }
    /// The provider.
    ///
    /// # Errors
    /// `Config` for a bad URL or key.
    pub fn build(self) -> Result<CohereProvider> {
        let root = self
            .base_url
            .trim_end_matches('/')
            .trim_end_matches("/v2")
            .to_owned();
        let url = |p: &str| {
            reqwest::Url::parse(&format!("{root}{p}"))
                .map_err(|e| AiError::config(format!("invalid base URL: {e}")))
        };
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", self.key.expose_secret()))
            .map_err(|_| AiError::config("the API key contains invalid characters"))?;
        auth.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, auth);
        Ok(CohereProvider {
            client: http::build_client(&self.http)?,
            embed_url: url("/v2/embed")?,
            rerank_url: url("/v2/rerank")?,
            headers,
            embed_model: self.embed_model,
            rerank_model: self.rerank_model,
            input_type: self.input_type,
            http: self.http,
        })
    }
}

/// Cohere embeddings and reranking. Cheap to clone.
#[derive(Clone)]
pub struct CohereProvider {
    client: reqwest::Client,
    embed_url: reqwest::Url,
    rerank_url: reqwest::Url,
    headers: HeaderMap,
    embed_model: String,
    rerank_model: String,
    input_type: String,
    http: HttpOptions,
}

impl std::fmt::Debug for CohereProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CohereProvider")
            .field("embed_model", &self.embed_model)
            .field("rerank_model", &self.rerank_model)
            .finish_non_exhaustive()
    }
}

impl CohereProvider {
    /// Cohere with an API key.
    pub fn cohere(api_key: impl Into<String>) -> CohereBuilder {
        CohereBuilder {
            key: SecretString::from(api_key.into()),
            base_url: COHERE_BASE_URL.into(),
            embed_model: "embed-v4.0".into(),
            rerank_model: "rerank-v3.5".into(),
            input_type: "search_document".into(),
            http: HttpOptions::default(),
        }
    }

    async fn call(&self, url: &reqwest::Url, body: &Value) -> Result<Value> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| AiError::new(ErrorKind::BadRequest, e.to_string()))?;
        let b = self
            .client
            .post(url.clone())
            .headers(self.headers.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .timeout(self.http.request_timeout)
            .body(bytes);
        let out = http::send_and_read(
            PROVIDER,
            b,
            &WaitClock::default(),
            self.http.max_response_bytes,
        )
        .await?;
        serde_json::from_slice(&out).map_err(|e| {
            AiError::decode(
                format!("cannot decode the response: {e}"),
                String::from_utf8_lossy(&out).into_owned(),
            )
            .with_provider(PROVIDER)
        })
    }
}

#[async_trait]
impl EmbeddingModel for CohereProvider {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Embedding>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let v = self
            .call(&self.embed_url, &json!({
                "model": self.embed_model, "texts": texts, "input_type": self.input_type, "embedding_types": ["float"]
            }))
            .await?;
        let rows = v["embeddings"]["float"].as_array().ok_or_else(|| {
            AiError::decode("no `embeddings.float` array", v.to_string()).with_provider(PROVIDER)
        })?;
        crate::error_map::float_rows(PROVIDER, rows, texts.len(), &v.to_string())
    }

    fn dimensions(&self) -> usize {
        0
    }

    fn max_batch(&self) -> usize {
        96
    }

    fn model_name(&self) -> &str {
        &self.embed_model
    }
}

#[async_trait]
impl Reranker for CohereProvider {
    async fn rerank(&self, query: &str, documents: &[String]) -> Result<Vec<Scored>> {
        if documents.is_empty() {
            return Ok(Vec::new());
        }
        let v = self
            .call(&self.rerank_url, &json!({
                "model": self.rerank_model, "query": query, "documents": documents, "top_n": documents.len()
            }))
            .await?;
        let results = v["results"].as_array().ok_or_else(|| {
            AiError::decode("no `results` array", v.to_string()).with_provider(PROVIDER)
        })?;
        let mut out = Vec::with_capacity(results.len());
        for r in results {
            let index = r["index"]
                .as_u64()
                .map(|i| i as usize)
                .filter(|&i| i < documents.len())
                .ok_or_else(|| {
                    AiError::decode("a rerank result has no valid index", r.to_string())
                        .with_provider(PROVIDER)
                })?;
            out.push(Scored {
                index,
                score: r["relevance_score"].as_f64().unwrap_or(0.0) as f32,
            });
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(out)
    }
}
