//! Building a provider from environment variables.
//!
//! | variable | meaning |
//! |---|---|
//! | `AI_PROVIDER` | `openai` (default), `azure`, `openai-compatible` (aliases: `vllm`, `tgi`, `llamacpp`, `ollama`, `lmstudio`), `anthropic`, `gemini`, `vertex`, `bedrock`, `cohere`, `ollama-native` |
//! | `AI_MODEL` | chat model (falls back to `OPENAI_MODEL`; OpenAI default `gpt-4o-mini`) |
//! | `AI_EMBEDDING_MODEL` | embedding model (default: the chat model; OpenAI: `text-embedding-3-small`) |
//! | `OPENAI_API_KEY` | OpenAI key (required for `openai`, optional for compatible servers) |
//! | `OPENAI_BASE_URL` | base URL (required for compatible servers; optional proxy for `openai`) |
//! | `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID` | optional OpenAI organisation and project headers |
//! | `AZURE_OPENAI_ENDPOINT` | `https://NAME.openai.azure.com` |
//! | `AZURE_OPENAI_DEPLOYMENT` | deployment name |
//! | `AZURE_OPENAI_API_VERSION` or `OPENAI_API_VERSION` | API version (default `2024-10-21`) |
//! | `AZURE_OPENAI_API_KEY` or `AZURE_OPENAI_AD_TOKEN` | key (`api-key` header) or Entra ID bearer token |
//! | `ANTHROPIC_API_KEY` | Anthropic key (`AI_PROVIDER=anthropic`, feature `anthropic`) |
//! | `ANTHROPIC_BASE_URL` | another Messages API endpoint (a gateway, llama.cpp) |
//! | `OLLAMA_HOST` | Ollama's address for `AI_PROVIDER=ollama-native` (feature `ollama`; default `http://127.0.0.1:11434`) |
//! | `GEMINI_API_KEY` or `GOOGLE_API_KEY` | AI Studio key (`AI_PROVIDER=gemini`, feature `gemini`; model default `gemini-2.5-flash`); `GEMINI_BASE_URL` optional |
//! | `GOOGLE_CLOUD_PROJECT`, `GOOGLE_CLOUD_LOCATION` | Vertex AI project and location (`AI_PROVIDER=vertex`; location default `us-central1`); `VERTEX_BASE_URL` optional |
//! | `VERTEX_ACCESS_TOKEN` | a caller's OAuth token for Vertex AI; without it, application default credentials (`GOOGLE_APPLICATION_CREDENTIALS` or gcloud's file) |
//! | `AWS_REGION`, `AWS_BEARER_TOKEN_BEDROCK` or `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` or `AWS_PROFILE` | `AI_PROVIDER=bedrock` (feature `bedrock`; model from `AI_MODEL`); `BEDROCK_BASE_URL` optional |
//! | `COHERE_API_KEY` | Cohere key (`AI_PROVIDER=cohere`, feature `cohere`: embeddings and reranking); `AI_RERANK_MODEL`, `COHERE_BASE_URL` optional |

use std::sync::Arc;

use ai_core::{AiError, ChatModel, EmbeddingModel, Result};
use secrecy::SecretString;

#[cfg(feature = "openai")]
use crate::openai::{Auth, OpenAiBuilder, OpenAiProvider};

/// The Azure API version used when none is configured.
pub const DEFAULT_AZURE_API_VERSION: &str = "2024-10-21";

fn var(get: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn require(get: &dyn Fn(&str) -> Option<String>, name: &str, why: &str) -> Result<String> {
    var(get, name)
        .ok_or_else(|| AiError::config(format!("environment variable {name} is not set ({why})")))
}

/// The provider builder the environment describes, read through `get` (for tests; use
/// [`builder_from_env`] for the process environment).
#[cfg(feature = "openai")]
pub fn builder_from(get: &dyn Fn(&str) -> Option<String>) -> Result<OpenAiBuilder> {
    let kind = var(get, "AI_PROVIDER").unwrap_or_else(|| "openai".into());
    let model = var(get, "AI_MODEL").or_else(|| var(get, "OPENAI_MODEL"));
    let embedding = var(get, "AI_EMBEDDING_MODEL");
    let compatible_name: Option<&'static str> = match kind.to_ascii_lowercase().as_str() {
        "openai" | "azure" | "azure-openai" => None,
        "openai-compatible" | "openai_compatible" | "compatible" => Some("openai_compatible"),
        "vllm" => Some("vllm"),
        "tgi" => Some("tgi"),
        "llamacpp" | "llama.cpp" | "llama-cpp" => Some("llamacpp"),
        "ollama" => Some("ollama"),
        "lmstudio" | "lm-studio" => Some("lmstudio"),
        other => {
            return Err(AiError::config(format!(
                "AI_PROVIDER=`{other}` is not known; use openai, azure, openai-compatible, vllm, tgi, llamacpp, ollama, lmstudio, anthropic, gemini, vertex, bedrock, cohere or ollama-native"
            )));
        }
    };
    let builder = if let Some(name) = compatible_name {
        let base = require(
            get,
            "OPENAI_BASE_URL",
            "the compatible server's base URL, e.g. http://127.0.0.1:8080/v1",
        )?;
        let model = model.ok_or_else(|| {
            AiError::config(
                "environment variable AI_MODEL is not set (the model name the server serves)",
            )
        })?;
        let mut b = OpenAiProvider::compatible(base, name).model(model);
        if let Some(key) = var(get, "OPENAI_API_KEY") {
            b = b.auth(Auth::Bearer(SecretString::from(key)));
        }
        b
    } else if kind.eq_ignore_ascii_case("openai") {
        let key = require(get, "OPENAI_API_KEY", "needed for AI_PROVIDER=openai")?;
        let mut b =
            OpenAiProvider::openai(key).model(model.unwrap_or_else(|| "gpt-4o-mini".into()));
        if let Some(base) = var(get, "OPENAI_BASE_URL") {
            b = b.base_url(base);
        }
        if let Some(org) = var(get, "OPENAI_ORG_ID") {
            b = b.header("OpenAI-Organization", org);
        }
        if let Some(project) = var(get, "OPENAI_PROJECT_ID") {
            b = b.header("OpenAI-Project", project);
        }
        if embedding.is_none() {
            b = b.embedding_model("text-embedding-3-small");
        }
        b
    } else {
        let endpoint = require(
            get,
            "AZURE_OPENAI_ENDPOINT",
            "e.g. https://NAME.openai.azure.com",
        )?;
        let deployment = require(get, "AZURE_OPENAI_DEPLOYMENT", "the deployment to call")?;
        let version = var(get, "AZURE_OPENAI_API_VERSION")
            .or_else(|| var(get, "OPENAI_API_VERSION"))
            .unwrap_or_else(|| DEFAULT_AZURE_API_VERSION.into());
        let auth = match (
            var(get, "AZURE_OPENAI_API_KEY"),
            var(get, "AZURE_OPENAI_AD_TOKEN"),
        ) {
            (Some(key), _) => Auth::AzureApiKey(SecretString::from(key)),
            (None, Some(token)) => Auth::Bearer(SecretString::from(token)),
            (None, None) => {
                return Err(AiError::config(
                    "environment variable AZURE_OPENAI_API_KEY is not set (or set AZURE_OPENAI_AD_TOKEN)",
                ));
            }
        };
        let mut b = OpenAiProvider::azure(endpoint, deployment, version, auth);
        if let Some(m) = model {
            b = b.model(m);
        }
        b
    };
    Ok(match embedding {
        Some(e) => builder.embedding_model(e),
        None => builder,
    })
}

/// The provider builder described by the process environment.
#[cfg(feature = "openai")]
pub fn builder_from_env() -> Result<OpenAiBuilder> {
    builder_from(&|name| std::env::var(name).ok())
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// `AI_PROVIDER`, lower-cased (default `openai`).
fn provider_kind(get: &dyn Fn(&str) -> Option<String>) -> String {
    var(get, "AI_PROVIDER").map_or_else(|| "openai".into(), |k| k.to_ascii_lowercase())
}

/// Providers that live behind a cargo feature this build lacks.
fn feature_missing(kind: &str) -> Option<&'static str> {
    let (feature, on) = match kind {
        "anthropic" => ("anthropic", cfg!(feature = "anthropic")),
        "gemini" | "google" | "vertex" | "vertex-ai" => ("gemini", cfg!(feature = "gemini")),
        "cohere" => ("cohere", cfg!(feature = "cohere")),
        "ollama-native" => ("ollama", cfg!(feature = "ollama")),
        "bedrock" => ("bedrock", cfg!(feature = "bedrock")),
        _ => return None,
    };
    (!on).then_some(feature)
}

fn check_feature(kind: &str) -> Result<()> {
    match feature_missing(kind) {
        Some(f) => Err(AiError::config(format!(
            "AI_PROVIDER={kind} needs ai-providers' `{f}` cargo feature"
        ))),
        None => Ok(()),
    }
}

/// A chat model from the process environment (see the table above).
///
/// ```no_run
/// // AI_PROVIDER=llamacpp OPENAI_BASE_URL=http://127.0.0.1:8080/v1 AI_MODEL=smollm2
/// let model = ai_providers::from_env()?;
/// # Ok::<(), ai_core::AiError>(())
/// ```
#[cfg(feature = "openai")]
pub fn from_env() -> Result<Arc<dyn ChatModel>> {
    chat_from(&process_env)
}

/// A chat model the environment describes, read through `get`.
///
/// # Errors
/// `Config` naming the missing or wrong variable.
#[cfg(feature = "openai")]
pub fn chat_from(get: &dyn Fn(&str) -> Option<String>) -> Result<Arc<dyn ChatModel>> {
    let kind = provider_kind(get);
    check_feature(&kind)?;
    match kind.as_str() {
        #[cfg(feature = "anthropic")]
        "anthropic" => Ok(Arc::new(anthropic_from(get)?)),
        #[cfg(feature = "ollama")]
        "ollama-native" => Ok(Arc::new(ollama_from(get)?)),
        #[cfg(feature = "gemini")]
        "gemini" | "google" | "vertex" | "vertex-ai" => Ok(Arc::new(gemini_from(get)?)),
        #[cfg(feature = "bedrock")]
        "bedrock" => Ok(Arc::new(bedrock_from(get)?)),
        "cohere" => Err(AiError::config(
            "AI_PROVIDER=cohere serves embeddings and reranking here, not chat: use embeddings_from_env or reranker_from_env",
        )),
        _ => Ok(Arc::new(builder_from(get)?.build()?)),
    }
}

/// The Anthropic provider the environment describes (`ANTHROPIC_API_KEY`, `AI_MODEL`,
/// optional `ANTHROPIC_BASE_URL`), read through `get`.
///
/// # Errors
/// `Config` naming the missing variable.
#[cfg(feature = "anthropic")]
pub fn anthropic_from(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<crate::anthropic::AnthropicProvider> {
    let key = require(get, "ANTHROPIC_API_KEY", "AI_PROVIDER=anthropic")?;
    let model = require(get, "AI_MODEL", "the Claude model to use")?;
    let mut b = crate::anthropic::AnthropicProvider::anthropic(key).model(model);
    if let Some(url) = var(get, "ANTHROPIC_BASE_URL") {
        b = b.base_url(url);
    }
    b.build()
}

/// Ollama's native API (`OLLAMA_HOST`, `AI_MODEL`), read through `get`.
///
/// # Errors
/// `Config` naming the missing variable.
#[cfg(feature = "ollama")]
pub fn ollama_from(get: &dyn Fn(&str) -> Option<String>) -> Result<crate::ollama::OllamaProvider> {
    let host = var(get, "OLLAMA_HOST").unwrap_or_else(|| "http://127.0.0.1:11434".into());
    let model = var(get, "AI_MODEL")
        .or_else(|| var(get, "AI_EMBEDDING_MODEL"))
        .ok_or_else(|| {
            AiError::config("environment variable AI_MODEL is not set (the Ollama model to use)")
        })?;
    crate::ollama::OllamaProvider::new(&host, &model)
}

/// Gemini on AI Studio (`AI_PROVIDER=gemini`: `GEMINI_API_KEY` or `GOOGLE_API_KEY`) or Vertex
/// AI (`AI_PROVIDER=vertex`: `GOOGLE_CLOUD_PROJECT`, `GOOGLE_CLOUD_LOCATION`, and
/// `VERTEX_ACCESS_TOKEN` or application default credentials), read through `get`.
///
/// # Errors
/// `Config` naming the missing variable or the unusable credentials.
#[cfg(feature = "gemini")]
pub fn gemini_from(get: &dyn Fn(&str) -> Option<String>) -> Result<crate::gemini::GeminiProvider> {
    use crate::gemini::{GeminiProvider, GoogleCredentials};
    let kind = provider_kind(get);
    let mut b = if kind.starts_with("vertex") {
        let project = var(get, "GOOGLE_CLOUD_PROJECT").ok_or_else(|| {
            AiError::config(
                "environment variable GOOGLE_CLOUD_PROJECT is not set (AI_PROVIDER=vertex)",
            )
        })?;
        let location = var(get, "GOOGLE_CLOUD_LOCATION").unwrap_or_else(|| "us-central1".into());
        let b = GeminiProvider::vertex(project, location);
        let b = match var(get, "VERTEX_ACCESS_TOKEN") {
            Some(token) => b.access_token(token),
            None => b.credentials(GoogleCredentials::application_default_with(|k| {
                get(k).map(std::ffi::OsString::from)
            })?),
        };
        match var(get, "VERTEX_BASE_URL") {
            Some(url) => b.base_url(url),
            None => b,
        }
    } else {
        let key = var(get, "GEMINI_API_KEY")
            .or_else(|| var(get, "GOOGLE_API_KEY"))
            .ok_or_else(|| AiError::config("environment variable GEMINI_API_KEY (or GOOGLE_API_KEY) is not set (AI_PROVIDER=gemini)"))?;
        let b = GeminiProvider::ai_studio(key);
        match var(get, "GEMINI_BASE_URL") {
            Some(url) => b.base_url(url),
            None => b,
        }
    };
    b = b.model(var(get, "AI_MODEL").unwrap_or_else(|| "gemini-2.5-flash".into()));
    if let Some(e) = var(get, "AI_EMBEDDING_MODEL") {
        b = b.embed_model(e);
    }
    b.build()
}

/// AWS Bedrock (`AWS_REGION` or `AWS_DEFAULT_REGION`, `AI_MODEL`, and
/// `AWS_BEARER_TOKEN_BEDROCK` or AWS credentials from the environment or a profile; optional
/// `AI_EMBEDDING_MODEL`, `BEDROCK_BASE_URL`), read through `get`.
///
/// # Errors
/// `Config` naming the missing variable or credentials.
#[cfg(feature = "bedrock")]
pub fn bedrock_from(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<crate::bedrock::BedrockProvider> {
    use crate::bedrock::{AwsCredentials, BedrockProvider};
    let region = var(get, "AWS_REGION")
        .or_else(|| var(get, "AWS_DEFAULT_REGION"))
        .ok_or_else(|| {
            AiError::config("environment variable AWS_REGION is not set (AI_PROVIDER=bedrock)")
        })?;
    let mut b = BedrockProvider::in_region(region);
    b = match var(get, "AWS_BEARER_TOKEN_BEDROCK") {
        Some(key) => b.api_key(key),
        None => b.credentials(AwsCredentials::from_env_or_profile(get)?),
    };
    if let Some(m) = var(get, "AI_MODEL") {
        b = b.model(m);
    }
    if let Some(m) = var(get, "AI_EMBEDDING_MODEL") {
        b = b.embed_model(m);
    }
    if let Some(u) = var(get, "BEDROCK_BASE_URL") {
        b = b.base_url(u);
    }
    b.build()
}

/// Cohere (`COHERE_API_KEY`, optional `AI_EMBEDDING_MODEL`, `AI_RERANK_MODEL`,
/// `COHERE_BASE_URL`), read through `get`.
///
/// # Errors
/// `Config` naming the missing variable.
#[cfg(feature = "cohere")]
pub fn cohere_from(get: &dyn Fn(&str) -> Option<String>) -> Result<crate::cohere::CohereProvider> {
    let key = require(get, "COHERE_API_KEY", "AI_PROVIDER=cohere")?;
    let mut b = crate::cohere::CohereProvider::cohere(key);
    if let Some(m) = var(get, "AI_EMBEDDING_MODEL") {
        b = b.embed_model(m);
    }
    if let Some(m) = var(get, "AI_RERANK_MODEL") {
        b = b.rerank_model(m);
    }
    if let Some(u) = var(get, "COHERE_BASE_URL") {
        b = b.base_url(u);
    }
    b.build()
}

/// An embedding model from the process environment (see the table above).
///
/// # Errors
/// `Config` naming the missing or wrong variable.
#[cfg(feature = "openai")]
pub fn embeddings_from_env() -> Result<Arc<dyn EmbeddingModel>> {
    embeddings_from(&process_env)
}

/// An embedding model the environment describes, read through `get`.
///
/// # Errors
/// `Config` naming the missing or wrong variable.
#[cfg(feature = "openai")]
pub fn embeddings_from(get: &dyn Fn(&str) -> Option<String>) -> Result<Arc<dyn EmbeddingModel>> {
    let kind = provider_kind(get);
    check_feature(&kind)?;
    match kind.as_str() {
        #[cfg(feature = "gemini")]
        "gemini" | "google" | "vertex" | "vertex-ai" => Ok(Arc::new(gemini_from(get)?)),
        #[cfg(feature = "cohere")]
        "cohere" => Ok(Arc::new(cohere_from(get)?)),
        #[cfg(feature = "ollama")]
        "ollama-native" => Ok(Arc::new(ollama_from(get)?)),
        #[cfg(feature = "bedrock")]
        "bedrock" => Ok(Arc::new(bedrock_from(get)?)),
        "anthropic" => Err(AiError::config(
            "Anthropic has no embeddings API: set AI_PROVIDER to an embedding provider",
        )),
        _ => Ok(Arc::new(builder_from(get)?.build()?)),
    }
}

/// A reranker from the process environment (`AI_PROVIDER=cohere`).
///
/// # Errors
/// `Config` for a provider without reranking or a missing variable.
#[cfg(feature = "cohere")]
pub fn reranker_from_env() -> Result<Arc<dyn ai_core::Reranker>> {
    let kind = provider_kind(&process_env);
    if kind != "cohere" {
        return Err(AiError::config(format!(
            "AI_PROVIDER={kind} has no reranking API here; use cohere (or ai-infer's CrossEncoder in process)"
        )));
    }
    Ok(Arc::new(cohere_from(&process_env)?))
}

#[cfg(all(test, feature = "openai"))]
mod tests {
    use super::*;
    use ai_core::ErrorKind;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn missing_variables_are_named() {
        let e = builder_from(&env(&[])).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.message().contains("OPENAI_API_KEY"), "{e}");
        let e = builder_from(&env(&[("AI_PROVIDER", "vllm")])).unwrap_err();
        assert!(e.message().contains("OPENAI_BASE_URL"), "{e}");
        let e = builder_from(&env(&[
            ("AI_PROVIDER", "vllm"),
            ("OPENAI_BASE_URL", "http://x/v1"),
        ]))
        .unwrap_err();
        assert!(e.message().contains("AI_MODEL"), "{e}");
        let e = builder_from(&env(&[
            ("AI_PROVIDER", "azure"),
            ("AZURE_OPENAI_ENDPOINT", "https://a"),
        ]))
        .unwrap_err();
        assert!(e.message().contains("AZURE_OPENAI_DEPLOYMENT"), "{e}");
        let e = builder_from(&env(&[
            ("AI_PROVIDER", "azure"),
            ("AZURE_OPENAI_ENDPOINT", "https://a"),
            ("AZURE_OPENAI_DEPLOYMENT", "d"),
        ]))
        .unwrap_err();
        assert!(e.message().contains("AZURE_OPENAI_API_KEY"), "{e}");
        let e = builder_from(&env(&[("AI_PROVIDER", "bard")])).unwrap_err();
        assert!(e.message().contains("bard"), "{e}");
    }

    #[test]
    fn secrets_never_show_in_debug_or_errors() {
        let p = builder_from(&env(&[("OPENAI_API_KEY", "sk-supersecret123")]))
            .unwrap()
            .build()
            .unwrap();
        let b = builder_from(&env(&[("OPENAI_API_KEY", "sk-supersecret123")])).unwrap();
        assert!(!format!("{p:?}").contains("supersecret"));
        assert!(!format!("{b:?}").contains("supersecret"));
        let bad = builder_from(&env(&[("OPENAI_API_KEY", "sk-bad\nvalue")]))
            .unwrap()
            .build()
            .unwrap_err();
        assert!(!bad.to_string().contains("sk-bad"));
    }

    #[test]
    fn compatible_and_azure_build() {
        let p = builder_from(&env(&[
            ("AI_PROVIDER", "llamacpp"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1/"),
            ("AI_MODEL", "smol"),
        ]))
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(p.capabilities().provider, "llamacpp");
        assert_eq!(p.capabilities().model, "smol");
        let a = builder_from(&env(&[
            ("AI_PROVIDER", "azure"),
            ("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com"),
            ("AZURE_OPENAI_DEPLOYMENT", "gpt4o-prod"),
            ("AZURE_OPENAI_AD_TOKEN", "eyJ"),
        ]))
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(a.capabilities().model, "gpt4o-prod");
        assert_eq!(a.capabilities().provider, "azure.ai.openai");
    }

    #[cfg(all(feature = "gemini", feature = "cohere", feature = "anthropic"))]
    #[test]
    fn every_provider_comes_from_the_environment() {
        let m = chat_from(&env(&[("AI_PROVIDER", "gemini"), ("GEMINI_API_KEY", "k")])).unwrap();
        assert_eq!(m.capabilities().provider, "gemini");
        assert_eq!(m.capabilities().model, "gemini-2.5-flash");
        let m = chat_from(&env(&[
            ("AI_PROVIDER", "vertex"),
            ("GOOGLE_CLOUD_PROJECT", "p"),
            ("VERTEX_ACCESS_TOKEN", "t"),
            ("AI_MODEL", "gemini-2.5-pro"),
        ]))
        .unwrap();
        assert_eq!(
            (
                m.capabilities().provider.as_str(),
                m.capabilities().model.as_str()
            ),
            ("vertex", "gemini-2.5-pro")
        );
        let Err(e) = chat_from(&env(&[("AI_PROVIDER", "vertex")])) else {
            panic!("expected an error")
        };
        assert!(e.message().contains("GOOGLE_CLOUD_PROJECT"), "{e}");
        // Without a token, application default credentials; none here is a clear error.
        let Err(e) = chat_from(&env(&[
            ("AI_PROVIDER", "vertex"),
            ("GOOGLE_CLOUD_PROJECT", "p"),
        ])) else {
            panic!("expected an error")
        };
        assert!(
            e.message().contains("application default credentials"),
            "{e}"
        );
        let Err(e) = chat_from(&env(&[("AI_PROVIDER", "gemini")])) else {
            panic!("expected an error")
        };
        assert!(e.message().contains("GEMINI_API_KEY"), "{e}");
        let m = chat_from(&env(&[
            ("AI_PROVIDER", "anthropic"),
            ("ANTHROPIC_API_KEY", "k"),
            ("AI_MODEL", "claude"),
        ]))
        .unwrap();
        assert_eq!(m.capabilities().provider, "anthropic");
        let Err(e) = chat_from(&env(&[("AI_PROVIDER", "cohere"), ("COHERE_API_KEY", "k")])) else {
            panic!("expected an error")
        };
        assert!(e.message().contains("not chat"), "{e}");
        let emb = embeddings_from(&env(&[
            ("AI_PROVIDER", "cohere"),
            ("COHERE_API_KEY", "k"),
            ("AI_EMBEDDING_MODEL", "embed-v4.0"),
        ]))
        .unwrap();
        assert_eq!(emb.model_name(), "embed-v4.0");
        let emb =
            embeddings_from(&env(&[("AI_PROVIDER", "gemini"), ("GEMINI_API_KEY", "k")])).unwrap();
        assert_eq!(emb.model_name(), "gemini-embedding-001");
        let Err(e) = embeddings_from(&env(&[("AI_PROVIDER", "anthropic")])) else {
            panic!("expected an error")
        };
        assert!(e.message().contains("no embeddings"), "{e}");
    }

    #[cfg(feature = "bedrock")]
    #[test]
    fn bedrock_comes_from_the_environment() {
        let m = chat_from(&env(&[
            ("AI_PROVIDER", "bedrock"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AI_MODEL", "amazon.nova-lite-v1:0"),
        ]))
        .unwrap();
        assert_eq!(
            (
                m.capabilities().provider.as_str(),
                m.capabilities().model.as_str()
            ),
            ("bedrock", "amazon.nova-lite-v1:0")
        );
        let m = chat_from(&env(&[
            ("AI_PROVIDER", "bedrock"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_BEARER_TOKEN_BEDROCK", "k"),
        ]))
        .unwrap();
        assert_eq!(m.capabilities().provider, "bedrock");
        let Err(e) = chat_from(&env(&[("AI_PROVIDER", "bedrock")])) else {
            panic!("expected an error")
        };
        assert!(e.message().contains("AWS_REGION"), "{e}");
        let Err(e) = chat_from(&env(&[("AI_PROVIDER", "bedrock"), ("AWS_REGION", "x")])) else {
            panic!("expected an error")
        };
        assert!(e.message().contains("AWS credentials"), "{e}");
        let emb = embeddings_from(&env(&[
            ("AI_PROVIDER", "bedrock"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_BEARER_TOKEN_BEDROCK", "k"),
        ]))
        .unwrap();
        assert_eq!(emb.model_name(), "amazon.titan-embed-text-v2:0");
    }
}
