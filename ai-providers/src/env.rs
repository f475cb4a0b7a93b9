//! Building a provider from environment variables.
//!
//! | variable | meaning |
//! |---|---|
//! | `AI_PROVIDER` | `openai` (default), `azure`, or `openai-compatible` (aliases: `vllm`, `tgi`, `llamacpp`, `ollama`, `lmstudio`) |
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
                "AI_PROVIDER=`{other}` is not known; use openai, azure, openai-compatible, vllm, tgi, llamacpp, ollama or lmstudio"
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

/// A chat model from the process environment (see the table above).
///
/// ```no_run
/// // AI_PROVIDER=llamacpp OPENAI_BASE_URL=http://127.0.0.1:8080/v1 AI_MODEL=smollm2
/// let model = ai_providers::from_env()?;
/// # Ok::<(), ai_core::AiError>(())
/// ```
#[cfg(feature = "openai")]
pub fn from_env() -> Result<Arc<dyn ChatModel>> {
    #[cfg(feature = "anthropic")]
    if std::env::var("AI_PROVIDER").is_ok_and(|p| p.trim().eq_ignore_ascii_case("anthropic")) {
        return anthropic_from(&|name| std::env::var(name).ok())
            .map(|p| Arc::new(p) as Arc<dyn ChatModel>);
    }
    #[cfg(feature = "ollama")]
    if std::env::var("AI_PROVIDER").is_ok_and(|p| p.trim().eq_ignore_ascii_case("ollama-native")) {
        let get = |name: &str| std::env::var(name).ok();
        let host = var(&get, "OLLAMA_HOST").unwrap_or_else(|| "http://127.0.0.1:11434".into());
        let model = require(&get, "AI_MODEL", "the Ollama model to use")?;
        return Ok(Arc::new(crate::ollama::OllamaProvider::new(&host, &model)?));
    }
    Ok(Arc::new(builder_from_env()?.build()?))
}

/// The Anthropic provider the environment describes (`ANTHROPIC_API_KEY`, `AI_MODEL`,
/// optional `ANTHROPIC_BASE_URL`), read through `get`.
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

/// An embedding model from the process environment (see the table above).
#[cfg(feature = "openai")]
pub fn embeddings_from_env() -> Result<Arc<dyn EmbeddingModel>> {
    Ok(Arc::new(builder_from_env()?.build()?))
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
}
