//! Model directories: `model.onnx`, `tokenizer.json` and a small `ai-infer.json` config, or a
//! Hugging Face cache snapshot.

use std::path::{Path, PathBuf};

use ai_core::{AiError, Result};
use serde::{Deserialize, Serialize};

/// What a model does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// Sentence embeddings (`last_hidden_state` pooled).
    Embedding,
    /// A cross-encoder scoring (query, document) pairs.
    CrossEncoder,
    /// Labels for a whole text.
    SequenceClassification,
    /// Labels per token, merged into spans.
    TokenClassification,
    /// A decoder-only language model.
    CausalLm,
}

/// How token vectors become one sentence vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pooling {
    /// Mean over the tokens the attention mask keeps.
    #[default]
    Mean,
    /// The first (`[CLS]`) token.
    Cls,
    /// The graph pools itself: its output is already one vector per text, `[batch, hidden]`
    /// (as in exports that end in a pooling node, which saves copying every token's vector out
    /// of a GPU). The output is the config's `output`, else one named `sentence_embedding`,
    /// `sentence_embeddings` or `embeddings`.
    Model,
}

/// What turns a cross-encoder logit into a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScoreActivation {
    /// The logistic function (a probability), as sentence-transformers does for one label.
    #[default]
    Sigmoid,
    /// The raw logit.
    None,
}

fn default_max_length() -> usize {
    512
}

fn default_true() -> bool {
    true
}

/// The `ai-infer.json` file of a model directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// What the model does.
    pub kind: ModelKind,
    /// Pooling, for embedding models.
    #[serde(default)]
    pub pooling: Pooling,
    /// L2-normalise embeddings.
    #[serde(default = "default_true")]
    pub normalize: bool,
    /// Inputs are truncated to this many tokens.
    #[serde(default = "default_max_length")]
    pub max_length: usize,
    /// Label names by output index (classifiers).
    #[serde(default)]
    pub labels: Vec<String>,
    /// Cross-encoder score activation.
    #[serde(default)]
    pub score_activation: ScoreActivation,
    /// Name of the output to read; by default the first output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Chat template (Jinja, as in Hugging Face tokenizer configs) for causal language models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_template: Option<String>,
    /// Token ids that end generation (causal language models).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eos_token_ids: Vec<u32>,
    /// Beginning-of-sequence token id, offered to the chat template as `bos_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bos_token_id: Option<u32>,
    /// Decoder layers (one `past.{i}.key`/`past.{i}.value` pair each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<usize>,
    /// Key/value heads per layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_heads: Option<usize>,
    /// Size of each attention head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_dim: Option<usize>,
}

impl ModelConfig {
    /// A config of `kind` with defaults.
    pub fn new(kind: ModelKind) -> Self {
        Self {
            kind,
            pooling: Pooling::Mean,
            normalize: true,
            max_length: default_max_length(),
            labels: Vec::new(),
            score_activation: ScoreActivation::Sigmoid,
            output: None,
            chat_template: None,
            eos_token_ids: Vec::new(),
            bos_token_id: None,
            layers: None,
            kv_heads: None,
            head_dim: None,
        }
    }
}

/// The files of one model.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    /// The ONNX graph.
    pub model: PathBuf,
    /// The Hugging Face `tokenizer.json`.
    pub tokenizer: PathBuf,
    /// The configuration.
    pub config: ModelConfig,
}

/// The name of the config file in a model directory.
pub const CONFIG_FILE: &str = "ai-infer.json";

fn must_exist(path: &Path, what: &str) -> Result<()> {
    if path.is_file() {
        Ok(())
    } else {
        Err(AiError::config(format!(
            "{what} not found: `{}`",
            path.display()
        )))
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AiError::config(format!("cannot read `{}`: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| AiError::config(format!("`{}` is not valid JSON: {e}", path.display())))
}

impl ModelFiles {
    /// A directory holding `model.onnx`, `tokenizer.json` and `ai-infer.json`.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let model = dir.join("model.onnx");
        let tokenizer = dir.join("tokenizer.json");
        let config_path = dir.join(CONFIG_FILE);
        must_exist(&model, "model.onnx")?;
        must_exist(&tokenizer, "tokenizer.json")?;
        must_exist(&config_path, CONFIG_FILE)?;
        let config: ModelConfig =
            serde_json::from_value(read_json(&config_path)?).map_err(|e| {
                AiError::config(format!(
                    "`{}` is not a valid model config: {e}",
                    config_path.display()
                ))
            })?;
        Ok(Self {
            model,
            tokenizer,
            config,
        })
    }

    /// A model in a Hugging Face cache (`HF_HOME/hub` layout:
    /// `models--ORG--NAME/snapshots/REV/`), for users who already have one. The revision is the
    /// one `refs/main` names, else the only snapshot. The ONNX file is `model.onnx` or
    /// `onnx/model.onnx`. Without an `ai-infer.json`, the config is read from the files a
    /// sentence-transformers or transformers checkpoint carries (`1_Pooling/config.json`,
    /// `sentence_bert_config.json`, `config.json`'s `architectures` and `id2label`).
    pub fn from_hf_cache(cache_dir: impl AsRef<Path>, repo_id: &str) -> Result<Self> {
        let repo = cache_dir
            .as_ref()
            .join(format!("models--{}", repo_id.replace('/', "--")));
        if !repo.is_dir() {
            return Err(AiError::config(format!(
                "`{repo_id}` is not in the Hugging Face cache `{}`",
                cache_dir.as_ref().display()
            )));
        }
        let snapshots = repo.join("snapshots");
        let rev = match std::fs::read_to_string(repo.join("refs").join("main")) {
            Ok(r) => r.trim().to_string(),
            Err(_) => {
                let mut revs: Vec<String> = std::fs::read_dir(&snapshots)
                    .map_err(|e| {
                        AiError::config(format!("cannot list `{}`: {e}", snapshots.display()))
                    })?
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                if revs.len() != 1 {
                    return Err(AiError::config(format!(
                        "`{}` has {} snapshots and no refs/main; pass the snapshot directory to ModelFiles::from_dir",
                        snapshots.display(),
                        revs.len()
                    )));
                }
                revs.remove(0)
            }
        };
        let dir = snapshots.join(rev);
        Self::from_snapshot(&dir)
    }

    /// A snapshot directory of a Hugging Face model (see [`ModelFiles::from_hf_cache`]).
    pub fn from_snapshot(dir: &Path) -> Result<Self> {
        if dir.join(CONFIG_FILE).is_file() && dir.join("model.onnx").is_file() {
            return Self::from_dir(dir);
        }
        let model = [dir.join("model.onnx"), dir.join("onnx").join("model.onnx")]
            .into_iter()
            .find(|p| p.is_file())
            .ok_or_else(|| {
                AiError::config(format!(
                    "no model.onnx or onnx/model.onnx in `{}`",
                    dir.display()
                ))
            })?;
        let tokenizer = dir.join("tokenizer.json");
        must_exist(&tokenizer, "tokenizer.json")?;
        let config = if dir.join(CONFIG_FILE).is_file() {
            serde_json::from_value(read_json(&dir.join(CONFIG_FILE))?)
                .map_err(|e| AiError::config(format!("invalid {CONFIG_FILE}: {e}")))?
        } else {
            infer_config(dir)?
        };
        Ok(Self {
            model,
            tokenizer,
            config,
        })
    }
}

/// Build a config from a transformers / sentence-transformers checkpoint's own files.
fn infer_config(dir: &Path) -> Result<ModelConfig> {
    let hf = if dir.join("config.json").is_file() {
        read_json(&dir.join("config.json"))?
    } else {
        serde_json::Value::Null
    };
    let pooling_file = dir.join("1_Pooling").join("config.json");
    let st_file = dir.join("sentence_bert_config.json");
    let arch = hf["architectures"][0].as_str().unwrap_or("");
    let labels = || -> Vec<String> {
        let Some(map) = hf["id2label"].as_object() else {
            return Vec::new();
        };
        let mut pairs: Vec<(usize, String)> = map
            .iter()
            .filter_map(|(k, v)| Some((k.parse().ok()?, v.as_str()?.to_string())))
            .collect();
        pairs.sort();
        pairs.into_iter().map(|(_, v)| v).collect()
    };
    let mut cfg = if pooling_file.is_file() || st_file.is_file() {
        let mut c = ModelConfig::new(ModelKind::Embedding);
        if pooling_file.is_file() {
            let p = read_json(&pooling_file)?;
            if p["pooling_mode_cls_token"].as_bool() == Some(true) {
                c.pooling = Pooling::Cls;
            }
        }
        c
    } else if arch.ends_with("ForTokenClassification") {
        let mut c = ModelConfig::new(ModelKind::TokenClassification);
        c.labels = labels();
        c
    } else if arch.ends_with("ForSequenceClassification") {
        let l = labels();
        let kind = if l.len() == 1 {
            ModelKind::CrossEncoder
        } else {
            ModelKind::SequenceClassification
        };
        let mut c = ModelConfig::new(kind);
        c.labels = l;
        c
    } else if arch.ends_with("ForCausalLM") {
        ModelConfig::new(ModelKind::CausalLm)
    } else {
        return Err(AiError::config(format!(
            "cannot tell what the model in `{}` does: add an {CONFIG_FILE}",
            dir.display()
        )));
    };
    if st_file.is_file() {
        if let Some(n) = read_json(&st_file)?["max_seq_length"].as_u64() {
            cfg.max_length = n as usize;
        }
    } else if let Some(n) = hf["max_position_embeddings"].as_u64() {
        cfg.max_length = n as usize;
    }
    Ok(cfg)
}
